package main

import (
	"context"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/script"
)

// scriptRunner runs agent scripts with the script package's default
// limits: it adapts script to agents.ScriptRunner (agents cannot import its
// own child).
type scriptRunner struct{}

var _ agents.ScriptRunner = scriptRunner{}

func (scriptRunner) Check(src string) error { return script.Check(src) }

func (scriptRunner) Run(ctx context.Context, src string, conv []agents.ScriptMessage, query agents.ScriptQuery) (agents.ScriptResult, error) {
	in := make([]script.Message, len(conv))
	for i, m := range conv {
		in[i] = script.Message{Role: m.Role, Content: m.Content}
	}
	res, err := script.Run(ctx, src, in, func(ctx context.Context, model string, c []script.Message) (string, error) {
		out := make([]agents.ScriptMessage, len(c))
		for i, m := range c {
			out[i] = agents.ScriptMessage{Role: m.Role, Content: m.Content}
		}
		return query(ctx, model, out)
	}, script.Limits{})
	out := agents.ScriptResult{Answer: res.Answer, Output: res.Output, Queries: res.Queries}
	for _, m := range res.Conversation {
		out.Conversation = append(out.Conversation, agents.ScriptMessage{Role: m.Role, Content: m.Content})
	}
	return out, err
}
