// Package echo is Atrium's built-in test model. It needs no network and no
// weights: it answers every message by saying what it is and repeating the
// message, streamed word by word at a steady rate, so Atrium runs and its
// tests pass offline while behaving, for watchers, like a real model.
package echo

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/agents"
)

// Name is the model name that selects the echo model.
const Name = "echo"

// intro is how every echo answer starts, so nobody mistakes it for an AI.
const intro = "This is the echo model, Atrium's built-in test model; it is not an AI and only repeats your message. You said:"

// Config sets how the echo model streams. The zero value streams about 40
// tokens at 20 tokens per second, about two seconds per answer.
type Config struct {
	// Tokens is how many tokens (words) an answer has. The message is
	// repeated to fill it, or cut to fit. Zero means 40.
	Tokens int
	// Rate is tokens per second. Zero means 20; negative means as fast as
	// possible.
	Rate float64
}

// Provider is the echo model.
type Provider struct{ cfg Config }

var _ agents.Provider = (*Provider)(nil)

// New returns the echo model.
func New(cfg Config) *Provider {
	if cfg.Tokens <= 0 {
		cfg.Tokens = 40
	}
	if cfg.Rate == 0 {
		cfg.Rate = 20
	}
	return &Provider{cfg: cfg}
}

// Answer returns the tokens of the answer to text, deterministically.
func (p *Provider) Answer(text string) []string {
	words := strings.Fields(intro)
	said := strings.Fields(text)
	if len(said) == 0 {
		said = []string{"(nothing)"}
	}
	for i := 0; len(words) < p.cfg.Tokens; i++ {
		words = append(words, said[i%len(said)])
	}
	words = words[:p.cfg.Tokens]
	out := make([]string, len(words))
	for i, w := range words {
		if i > 0 {
			w = " " + w
		}
		out[i] = w
	}
	return out
}

// Stream emits the answer to the last user message, one token per tick.
//
// The echo model can also be told to call a tool, so tool calling works
// offline: a last user message "/tool NAME {json arguments}" naming one of
// req.Tools makes it call NAME with those arguments (several such lines,
// several tools); when the conversation ends with tool results, it answers
// by repeating them.
func (p *Provider) Stream(ctx context.Context, req agents.ModelRequest, emit func(agents.Delta) error) (agents.ModelResponse, error) {
	if calls := toolCommands(req); len(calls) > 0 {
		for i, call := range calls {
			if err := emit(agents.Delta{ToolCall: &agents.ToolCallDelta{Index: i, ID: call.ID, Name: call.Name, Arguments: call.Arguments}}); err != nil {
				return agents.ModelResponse{}, err
			}
		}
		return agents.ModelResponse{ToolCalls: calls, FinishReason: agents.FinishToolCalls, Usage: p.usage(req, len(calls))}, nil
	}
	var tokens []string
	if results := toolResults(req.Messages); results != "" {
		// Whole, not padded or cut: the point is to show the results.
		for i, w := range strings.Fields("(echo model) " + results) {
			if i > 0 {
				w = " " + w
			}
			tokens = append(tokens, w)
		}
	} else {
		tokens = p.Answer(lastUser(req.Messages))
	}
	var tick <-chan time.Time
	if p.cfg.Rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / p.cfg.Rate))
		defer t.Stop()
		tick = t.C
	}
	var text strings.Builder
	for _, tok := range tokens {
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
				return agents.ModelResponse{Text: text.String()}, ctx.Err()
			}
		} else if err := ctx.Err(); err != nil {
			return agents.ModelResponse{Text: text.String()}, err
		}
		if err := emit(agents.Delta{Text: tok}); err != nil {
			return agents.ModelResponse{Text: text.String()}, err
		}
		text.WriteString(tok)
	}
	return agents.ModelResponse{Text: text.String(), FinishReason: agents.FinishStop, Usage: p.usage(req, len(tokens))}, nil
}

// usage counts words as tokens, so usage and credits work offline too.
func (p *Provider) usage(req agents.ModelRequest, out int) agents.Usage {
	in := len(strings.Fields(req.System))
	for _, m := range req.Messages {
		in += len(strings.Fields(m.Content))
	}
	return agents.Usage{InputTokens: in, OutputTokens: out}
}

func lastUser(msgs []agents.ModelMessage) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == agents.RoleUser {
			return msgs[i].Content
		}
	}
	return ""
}

// toolCommands reads "/tool NAME {json}" lines from the last message,
// when it is the user's: one call per line naming an offered tool, in
// order (a message of several such lines calls several tools at once).
func toolCommands(req agents.ModelRequest) []agents.ToolCall {
	if len(req.Messages) == 0 || req.Messages[len(req.Messages)-1].Role != agents.RoleUser {
		return nil
	}
	var calls []agents.ToolCall
	for _, line := range strings.Split(req.Messages[len(req.Messages)-1].Content, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "/tool ")
		if !ok {
			continue
		}
		name, args, _ := strings.Cut(strings.TrimSpace(rest), " ")
		for _, t := range req.Tools {
			if t.Name == name {
				args = strings.TrimSpace(args)
				if args == "" {
					args = "{}"
				}
				id := "echo_call_" + strconv.Itoa(len(req.Messages))
				if len(calls) > 0 {
					id += "_" + strconv.Itoa(len(calls))
				}
				calls = append(calls, agents.ToolCall{ID: id, Name: name, Arguments: args})
				break
			}
		}
	}
	return calls
}

// toolResults joins the tool results that end the conversation.
func toolResults(msgs []agents.ModelMessage) string {
	var parts []string
	for i := len(msgs) - 1; i >= 0 && msgs[i].Role == agents.RoleTool; i-- {
		parts = append([]string{msgs[i].ToolName + " returned " + msgs[i].Content}, parts...)
	}
	return strings.Join(parts, "; ")
}
