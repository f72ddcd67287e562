package bedrock_test

import (
	"context"
	"testing"

	"github.com/atrium-hq/atrium/agents"

	"github.com/atrium-hq/atrium/agents/provider/bedrock"
)

func TestZZRepro(t *testing.T) {
	f := newFake(t, script(messageStart(), text(0, "ok"), messageStop("end_turn")))
	p := f.provider(bedrock.Config{})
	fails := 0
	for i := 0; i < 3000; i++ {
		req := hello()
		req.Tools = []agents.ToolSpec{{Name: "x"}}
		req.Messages = append(req.Messages,
			agents.ModelMessage{Role: agents.RoleAssistant, ToolCalls: []agents.ToolCall{{ID: "c", Name: "x", Arguments: " 7"}}},
			agents.ModelMessage{Role: agents.RoleTool, ToolCallID: "c", ToolName: "x", Content: "done"},
		)
		_, err := p.Stream(context.Background(), req, (&recorder{}).emit)
		<-f.reqs
		if err != nil {
			fails++
			if fails < 5 {
				t.Errorf("iteration %d: %v", i, err)
			}
		}
	}
	t.Logf("fails: %d", fails)
}
