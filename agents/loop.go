package agents

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"
)

// Loop is the agent loop of seed 000 §3.2 for one answer: the system
// prompt, the conversation, the model; tool calls executed and their
// results fed back, at most MaxToolIterations rounds, then a final answer.
// It is made per run and used once.
type Loop struct {
	Agent    Agent
	Config   Config
	Provider Provider
	// Model is the model's name at the provider.
	Model string
	// Messages is the conversation, oldest first, ending with the message
	// being answered.
	Messages []ModelMessage
	// Tools are the tools the agent may call (already filtered by the
	// enable rule).
	Tools []Tool
	// ToolTimeout bounds each tool call; zero means 60 s.
	ToolTimeout time.Duration
	// Input carries the chat and run to the tools.
	Input ToolInput

	// Text receives each piece of the answer's text as it streams.
	Text func(string) error
	// Call is told about each tool call before it runs, Result after.
	Call   func(iteration int, call ToolCall) error
	Result func(iteration int, rec ToolRecord) error

	toolUsage *usageCounter // tokens of tools' Complete calls; made by Run
}

// usageCounter adds up usage from tools, which may outlive their call.
type usageCounter struct {
	mu sync.Mutex
	u  Usage
}

func (c *usageCounter) add(u Usage) {
	c.mu.Lock()
	c.u = c.u.Add(u)
	c.mu.Unlock()
}

func (c *usageCounter) take() Usage {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.u
	c.u = Usage{}
	return u
}

// ToolRecord is a finished tool call.
type ToolRecord struct {
	Call     ToolCall
	Output   ToolOutput
	Error    string
	Duration time.Duration
	// Pending is set when the call is left to the caller or waits for the
	// user (see ToolPending); the loop ends after its round.
	Pending *ToolPending
}

// LoopResult is how a loop ended.
type LoopResult struct {
	// Text is everything the model said, as streamed.
	Text       string
	ToolCalls  []ToolRecord
	Iterations int
	Usage      Usage
	Finish     string
	// Pending are the calls the loop stopped at (see ToolPending).
	Pending []ToolRecord
	// ToolCallTime and ToolParamTime are seed 003's two tool timings (see
	// RequestLog).
	ToolCallTime  time.Duration
	ToolParamTime time.Duration
}

// Run runs the loop. On error the result holds what was done until then.
func (l *Loop) Run(ctx context.Context) (LoopResult, error) {
	l.toolUsage = &usageCounter{}
	res, err := l.run(ctx)
	res.Usage = res.Usage.Add(l.toolUsage.take())
	return res, err
}

// complete is ToolInput.Complete: one plain answer of the loop's model.
func (l *Loop) complete(ctx context.Context, system, prompt string) (string, error) {
	if l.Provider == nil {
		return "", errors.New("the agent has no model to ask")
	}
	resp, err := Complete(ctx, l.Provider, ModelRequest{
		Model: l.Model, Agent: l.Agent.Name, System: system,
		Messages:    []ModelMessage{{Role: RoleUser, Content: prompt}},
		Temperature: l.Config.Temperature, TopP: l.Config.TopP, MaxTokens: l.Config.MaxTokens,
	})
	l.toolUsage.add(resp.Usage)
	if err != nil {
		return "", err
	}
	return resp.Text, nil
}

func (l *Loop) run(ctx context.Context) (LoopResult, error) {
	var res LoopResult
	specs := make([]ToolSpec, len(l.Tools))
	byName := make(map[string]Tool, len(l.Tools))
	for i, t := range l.Tools {
		specs[i] = t.Spec()
		byName[specs[i].Name] = t
	}
	timeout := l.ToolTimeout
	if timeout <= 0 {
		timeout = defaultToolTimeout
	}
	msgs := append([]ModelMessage(nil), l.Messages...)
	var text strings.Builder
	for round := 0; ; round++ {
		req := ModelRequest{
			Model: l.Model, Agent: l.Agent.Name, System: l.Config.SystemPrompt, Messages: msgs,
			Temperature: l.Config.Temperature, TopP: l.Config.TopP, MaxTokens: l.Config.MaxTokens,
		}
		// After the last allowed round of tools, the model must answer.
		if len(specs) > 0 && round < l.Config.MaxToolIterations {
			req.Tools = specs
		}
		res.Iterations++
		turnStart := time.Now()
		var firstCall time.Time
		sep := text.Len() > 0 // text of an earlier turn: keep turns apart
		resp, err := l.Provider.Stream(ctx, req, func(d Delta) error {
			if d.ToolCall != nil && firstCall.IsZero() {
				firstCall = time.Now()
			}
			if d.Text == "" {
				return nil
			}
			if sep {
				sep = false
				if err := l.emit(&text, "\n\n"); err != nil {
					return err
				}
			}
			return l.emit(&text, d.Text)
		})
		res.Usage = res.Usage.Add(resp.Usage)
		res.Text, res.Finish = text.String(), resp.FinishReason
		if err != nil {
			return res, err
		}
		if len(resp.ToolCalls) == 0 || req.Tools == nil {
			return res, nil
		}
		turnEnd := time.Now()
		if firstCall.IsZero() {
			firstCall = turnEnd
		}
		res.ToolCallTime += firstCall.Sub(turnStart)
		res.ToolParamTime += turnEnd.Sub(firstCall)

		msgs = append(msgs, ModelMessage{Role: RoleAssistant, Content: resp.Text, ToolCalls: resp.ToolCalls})
		for _, call := range resp.ToolCalls {
			if l.Call != nil {
				if err := l.Call(res.Iterations, call); err != nil {
					return res, err
				}
			}
			rec := ToolRecord{Call: call}
			start := time.Now()
			t, ok := byName[call.Name]
			if !ok {
				rec.Error = "there is no tool named " + call.Name
			} else {
				in := l.Input
				in.Agent, in.Arguments, in.Conversation = l.Agent, json.RawMessage(call.Arguments), msgs
				in.Complete = l.complete
				if strings.TrimSpace(call.Arguments) == "" {
					in.Arguments = json.RawMessage("{}")
				}
				out, err := callTool(ctx, t, in, timeout)
				if ctx.Err() != nil {
					return res, ctx.Err()
				}
				rec.Output = out
				var pending *ToolPending
				switch {
				case errors.As(err, &pending):
					rec.Pending = pending
				case err != nil:
					rec.Error = err.Error()
				}
			}
			rec.Duration = time.Since(start)
			res.ToolCalls = append(res.ToolCalls, rec)
			if l.Result != nil {
				if err := l.Result(res.Iterations, rec); err != nil {
					return res, err
				}
			}
			if rec.Pending != nil {
				res.Pending = append(res.Pending, rec)
				continue
			}
			content, isErr := rec.Output.Content, rec.Error != ""
			if isErr {
				content = "Error: " + rec.Error
			}
			msgs = append(msgs, ModelMessage{Role: RoleTool, ToolCallID: call.ID, ToolName: call.Name, Content: content, IsError: isErr})
		}
		if len(res.Pending) > 0 {
			return res, l.endPending(&text, &res)
		}
	}
}

// endPending ends an answer at its pending tool calls: the user reads the
// questions they ask, or, for calls left to the API caller, that they were
// initiated (seed 003's message).
func (l *Loop) endPending(text *strings.Builder, res *LoopResult) error {
	var qs []string
	for _, p := range res.Pending {
		if p.Pending.Question != "" {
			qs = append(qs, p.Pending.Question)
		}
	}
	say := strings.Join(qs, "\n")
	if say == "" {
		say = "Tool call(s) initiated"
	}
	if text.Len() > 0 {
		say = "\n\n" + say
	}
	if err := l.emit(text, say); err != nil {
		return err
	}
	res.Text, res.Finish = text.String(), FinishToolCalls
	return nil
}

func (l *Loop) emit(text *strings.Builder, s string) error {
	text.WriteString(s)
	if l.Text != nil {
		return l.Text(s)
	}
	return nil
}
