package openai

import (
	"encoding/json"
	"testing"

	"github.com/atrium-hq/atrium/agents"
)

// TestBodyIsJSON checks a request with every field set encodes as the
// JSON it means.
func TestBodyIsJSON(t *testing.T) {
	temp, topP := 0.25, 1e-7
	req := agents.ModelRequest{
		Model: "gpt-test", System: "be brief",
		Messages: []agents.ModelMessage{{Role: agents.RoleUser, Content: "hi \"there\""}},
		Tools: []agents.ToolSpec{
			{Name: "a", Description: "d", Parameters: json.RawMessage(` { "type" : "object" } `)},
			{Name: "b", Parameters: json.RawMessage(`{"type":"object","properties":{"x":{"type":"number","maximum":1e3}}}`)},
			{Name: "c"},
		},
		ToolChoice: "b", Temperature: &temp, TopP: &topP, MaxTokens: 12, Stop: []string{"\n\n", "END"},
	}
	for _, enc := range []encoding{{}, {stream: true, maxCompletion: true}} {
		b, err := body(nil, req, enc)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("body is not JSON: %v\n%s", err, b)
		}
		var want map[string]any
		wantJSON := `{"model":"gpt-test","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi \"there\""}],
			"tools":[
				{"type":"function","function":{"name":"a","description":"d","parameters":{"type":"object","properties":{}}}},
				{"type":"function","function":{"name":"b","parameters":{"type":"object","properties":{"x":{"type":"number","maximum":1000}}}}},
				{"type":"function","function":{"name":"c","parameters":{"type":"object","properties":{}}}}],
			"tool_choice":{"type":"function","function":{"name":"b"}},
			"temperature":0.25,"top_p":1e-7,"max_tokens":12,"stop":["\n\n","END"]}`
		if enc.stream {
			wantJSON = `{"model":"gpt-test","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi \"there\""}],
			"stream":true,"stream_options":{"include_usage":true},
			"tools":[
				{"type":"function","function":{"name":"a","description":"d","parameters":{"type":"object","properties":{}}}},
				{"type":"function","function":{"name":"b","parameters":{"type":"object","properties":{"x":{"type":"number","maximum":1000}}}}},
				{"type":"function","function":{"name":"c","parameters":{"type":"object","properties":{}}}}],
			"tool_choice":{"type":"function","function":{"name":"b"}},
			"temperature":0.25,"top_p":1e-7,"max_completion_tokens":12,"stop":["\n\n","END"]}`
		}
		if err := json.Unmarshal([]byte(wantJSON), &want); err != nil {
			t.Fatal(err)
		}
		if g, w := mustMarshal(got), mustMarshal(want); g != w {
			t.Errorf("body (%+v) =\n%s\nwant\n%s", enc, g, w)
		}
	}
}

func mustMarshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
