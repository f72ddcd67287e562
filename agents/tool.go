package agents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/workspaces"
)

// Tool is something an agent can call: a built-in tool, a user's HTTP
// tool, or a tool of an MCP server.
type Tool interface {
	// Spec describes the tool to the model.
	Spec() ToolSpec
	// Call runs the tool. A returned error is shown to the model as the
	// tool's failure; it never fails the run.
	Call(ctx context.Context, in ToolInput) (ToolOutput, error)
}

// TimedTool is a Tool that needs its own time limit instead of the
// runner's tool timeout, such as video generation, which takes minutes.
type TimedTool interface {
	Tool
	// Timeout is the longest one call may take.
	Timeout() time.Duration
}

// AliasedTool is a Tool also known by another name, such as a seed 003
// tool named "Get delivery date", which the model knows as
// Get_delivery_date. enabled_tools and disabled_tools may use either.
type AliasedTool interface {
	Tool
	Alias() string
}

// ToolInput is what a tool call gets.
type ToolInput struct {
	Agent Agent
	// Arguments is the JSON object the model wrote.
	Arguments json.RawMessage
	// Conversation is the conversation so far and Query the message being
	// answered, so tools can fill parameters from them (seed 000 §1).
	Conversation []ModelMessage
	Query        string
	WorkspaceID  workspaces.WorkspaceID
	ChatID       workspaces.ChatID
	RunID        RunID
	// Complete asks the agent's own model for a plain answer to prompt,
	// without tools, for tools such as summarization. Its tokens are
	// counted with the run's. Nil when the run has no model.
	Complete func(ctx context.Context, system, prompt string) (string, error)
}

// ToolOutput is a tool's result.
type ToolOutput struct {
	// Content is what the model reads.
	Content string
	// FileIDs are files the tool made (seed 000 §6.3).
	FileIDs []string
}

// ToolPending is returned by a tool whose call is not Atrium's to finish:
// a tool the API caller runs itself (seed 003: "When you receive a tool
// call, you can make an API request to another application"), or a call
// that lacks a parameter only the user can give, when Question asks for
// it. The loop stops there; the answer carries the pending calls.
type ToolPending struct {
	// Name is the tool's name as its owner wrote it (seed 003 names may
	// hold spaces the model's name cannot).
	Name string
	// Question, when set, asks the user for what is missing.
	Question string
}

func (p *ToolPending) Error() string {
	if p.Question != "" {
		return "the tool needs more from the user: " + p.Question
	}
	return "the tool call is left to the caller"
}

// ToolSource lists the tools available to an agent, before its
// configuration's enable rule is applied.
type ToolSource interface {
	Tools(ctx context.Context, a Agent) ([]Tool, error)
}

// StaticTools is a ToolSource offering the same tools to every agent.
type StaticTools []Tool

// Tools returns the tools.
func (s StaticTools) Tools(context.Context, Agent) ([]Tool, error) { return s, nil }

// ToolsVersioner is a ToolSource that says when its tools may change: its
// ToolsVersion changes whenever Tools may answer differently. The runner
// reuses the tools of sources that have one (and of StaticTools).
type ToolsVersioner interface {
	ToolsVersion() uint64
}

// ToolsVersion returns a number that changes whenever the sources' tools
// may, and false when a source cannot tell (it is neither StaticTools nor
// a ToolsVersioner).
func (s ToolSources) ToolsVersion() (uint64, bool) {
	var v uint64
	for _, src := range s {
		switch src := src.(type) {
		case StaticTools:
		case ToolsVersioner:
			v += src.ToolsVersion()
		default:
			return 0, false
		}
	}
	return v, true
}

// ToolSources offers the tools of several sources; a name seen twice keeps
// its first tool.
type ToolSources []ToolSource

// Tools returns the tools of every source.
func (s ToolSources) Tools(ctx context.Context, a Agent) ([]Tool, error) {
	var out []Tool
	seen := map[string]bool{}
	for _, src := range s {
		tools, err := src.Tools(ctx, a)
		if err != nil {
			return nil, err
		}
		for _, t := range tools {
			if n := t.Spec().Name; !seen[n] {
				seen[n] = true
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// Limits of one tool call.
const (
	defaultToolTimeout = 60 * time.Second
	maxToolResult      = 64 << 10
)

// callTool runs t with a deadline, turning a panic into an error and
// cutting a result too big for the model. A tool that ignores its context
// is abandoned at the deadline: the run goes on without it.
func callTool(ctx context.Context, t Tool, in ToolInput, timeout time.Duration) (ToolOutput, error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(in.Arguments, &obj) != nil || obj == nil {
		return ToolOutput{}, errors.New("the arguments must be a JSON object")
	}
	if tt, ok := t.(TimedTool); ok && tt.Timeout() > 0 {
		timeout = tt.Timeout()
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		out ToolOutput
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- result{err: fmt.Errorf("the tool crashed: %v", v)}
			}
		}()
		out, err := t.Call(tctx, in)
		done <- result{out, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-tctx.Done():
		r.err = tctx.Err()
	}
	if ctx.Err() != nil {
		return ToolOutput{}, context.Cause(ctx)
	}
	if errors.Is(r.err, context.DeadlineExceeded) {
		return ToolOutput{}, fmt.Errorf("the tool took longer than %v", timeout)
	}
	if len(r.out.Content) > maxToolResult {
		cut := maxToolResult
		for cut > 0 && !utf8.RuneStart(r.out.Content[cut]) {
			cut--
		}
		r.out.Content = r.out.Content[:cut] + "\n[result cut: it was longer than 64 KiB]"
	}
	return r.out, r.err
}
