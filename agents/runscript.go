package agents

import (
	"context"
	"errors"
	"fmt"
)

// scriptError is a script's failure, as the script runner reported it
// (with its line number).
type scriptError struct{ err error }

func (e *scriptError) Error() string { return e.err.Error() }
func (e *scriptError) Unwrap() error { return e.err }

// runScript answers with the agent's script (seed 003). Each query(model,
// conversation) of the script runs the agent loop — tools included — on
// that model. The queries' text is not streamed: a script may ask several
// models and keep only one answer, so watchers get the answer the script
// settles on, as one delta; tool calls stream as they happen. A script
// that never calls query only prepares the conversation (add, attach):
// the agent's own model then answers it, streaming as usual.
func (r *Runner) runScript(ctx context.Context, loop *Loop, msgs []ModelMessage, o *outcome, pub *runPublisher) error {
	if r.cfg.Scripts == nil {
		return &scriptError{fmt.Errorf("scripts are not enabled on this server")}
	}
	conv := make([]ScriptMessage, 0, len(msgs)+1)
	if loop.Config.SystemPrompt != "" {
		conv = append(conv, ScriptMessage{Role: RoleSystem, Content: loop.Config.SystemPrompt})
	}
	for _, m := range msgs {
		conv = append(conv, ScriptMessage{Role: m.Role, Content: m.Content})
	}
	// The script's conversation carries the system prompt itself.
	base := *loop
	base.Config.SystemPrompt = ""
	base.Text = nil
	query := func(ctx context.Context, model string, conv []ScriptMessage) (string, error) {
		provider, upstream, ok := r.cfg.Models.Provider(model)
		if !ok {
			return "", errors.New(r.unavailable(model))
		}
		l := base
		l.Provider, l.Model = provider, upstream
		l.Messages = make([]ModelMessage, len(conv))
		for i, m := range conv {
			l.Messages[i] = ModelMessage{Role: m.Role, Content: m.Content}
		}
		res, err := l.Run(ctx)
		o.loop.Iterations += res.Iterations
		o.loop.Usage = o.loop.Usage.Add(res.Usage)
		o.loop.ToolCalls = append(o.loop.ToolCalls, res.ToolCalls...)
		o.loop.ToolCallTime += res.ToolCallTime
		o.loop.ToolParamTime += res.ToolParamTime
		o.credits += r.credits(model, loop.Config.Plan, res)
		return res.Text, err
	}
	res, err := r.cfg.Scripts.Run(ctx, loop.Agent.Script, conv, query)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &scriptError{err}
	}
	if res.Queries == 0 {
		provider, upstream, ok := r.cfg.Models.Provider(loop.Agent.ModelID)
		if !ok {
			return errors.New(r.unavailable(loop.Agent.ModelID))
		}
		l := base
		l.Provider, l.Model, l.Text = provider, upstream, pub.text
		for _, m := range res.Conversation {
			l.Messages = append(l.Messages, ModelMessage{Role: m.Role, Content: m.Content})
		}
		lr, err := l.Run(ctx)
		o.loop, o.text = lr, lr.Text
		o.credits += r.credits(loop.Agent.ModelID, loop.Config.Plan, lr)
		return err
	}
	o.text = res.Answer
	return pub.text(res.Answer)
}
