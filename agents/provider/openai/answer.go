package openai

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/atrium-hq/atrium/agents"
)

// answer gathers a stream's chunks into the whole answer.
type answer struct {
	text strings.Builder
	// calls are the tool calls so far, by their index in the answer.
	calls map[int]*pendingCall
	// last is the index of the call the last tool-call piece went to.
	last     int
	finish   string
	finished bool
	usage    agents.Usage
}

// pendingCall is a tool call still arriving.
type pendingCall struct {
	id, name string
	// args is a builder because arguments come a few bytes at a time and
	// can be long (a file the model writes).
	args strings.Builder
}

// chunk is what Atrium reads of one streamed chat.completion.chunk
// (decodeChunk fills it).
type chunk struct {
	Choices []chunkChoice
	Usage   *chunkUsage
	// Error is set by servers that report a failure inside the stream.
	Error json.RawMessage
}

// chunkChoice is one choice of a chunk.
type chunkChoice struct {
	Index int
	Delta struct {
		Content   string
		Refusal   string
		ToolCalls []chunkCall
	}
	FinishReason string
}

// chunkUsage is a chunk's token counts.
type chunkUsage struct {
	PromptTokens     int
	CompletionTokens int
}

// chunkCall is a piece of a tool call. Index is nil when the server
// leaves it out.
type chunkCall struct {
	Index    *int
	ID       string
	Function struct {
		Name      string
		Arguments string
	}
}

// add takes in one chunk, emitting its pieces.
func (a *answer) add(ch *chunk, emit func(agents.Delta) error) error {
	if u := ch.Usage; u != nil {
		// With include_usage the last chunk carries the totals; servers
		// that put running totals on every chunk end on the same numbers.
		a.usage = agents.Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens}
	}
	for _, choice := range ch.Choices {
		if choice.Index != 0 {
			continue // we ask for one choice; n > 1 is not ours
		}
		d := choice.Delta
		for _, text := range []string{d.Content, d.Refusal} {
			if text == "" {
				continue
			}
			if a.text.Cap() == 0 {
				// Pieces come a few bytes at a time: start where most
				// answers fit, not at 8 bytes doubling (1 KB of garbage
				// for a 400-byte answer).
				a.text.Grow(512)
			}
			a.text.WriteString(text)
			if err := emit(agents.Delta{Text: text}); err != nil {
				return err
			}
		}
		for _, tc := range d.ToolCalls {
			piece, err := a.toolCall(tc)
			if err != nil {
				return err
			}
			if piece != nil {
				if err := emit(agents.Delta{ToolCall: piece}); err != nil {
					return err
				}
			}
		}
		if choice.FinishReason != "" {
			a.finish = choice.FinishReason
			a.finished = true
		}
	}
	return nil
}

// toolCall adds a piece of a tool call and returns what of it is new, or
// nil when nothing is. A call index outside [0, agents.MaxToolCalls) is an
// error: the server is broken.
func (a *answer) toolCall(tc chunkCall) (*agents.ToolCallDelta, error) {
	if a.calls == nil {
		a.calls = make(map[int]*pendingCall)
	}
	var i int
	if tc.Index != nil {
		i = *tc.Index
	} else {
		// Some servers (Google's) leave the index out: a new id starts a
		// new call, a piece without one continues the last.
		i = a.last
		if c, ok := a.calls[i]; ok && tc.ID != "" && c.id != "" && c.id != tc.ID {
			i = a.nextIndex()
		}
	}
	if i < 0 || i >= agents.MaxToolCalls {
		return nil, &badCallIndex{i}
	}
	a.last = i
	c, ok := a.calls[i]
	if !ok {
		c = &pendingCall{}
		a.calls[i] = c
	}
	piece := &agents.ToolCallDelta{Index: i, Arguments: tc.Function.Arguments}
	// The contract sends ID and Name once; some servers repeat them on
	// every piece.
	if c.id == "" && tc.ID != "" {
		c.id, piece.ID = tc.ID, tc.ID
	}
	if c.name == "" && tc.Function.Name != "" {
		c.name, piece.Name = tc.Function.Name, tc.Function.Name
	}
	c.args.WriteString(tc.Function.Arguments)
	if piece.ID == "" && piece.Name == "" && piece.Arguments == "" {
		return nil, nil
	}
	return piece, nil
}

// badCallIndex is a tool call index outside [0, agents.MaxToolCalls).
type badCallIndex struct{ index int }

func (e *badCallIndex) Error() string {
	return fmt.Sprintf("the model sent tool call index %d (at most %d calls are taken)", e.index, agents.MaxToolCalls)
}

func (a *answer) nextIndex() int {
	next := 0
	for i := range a.calls {
		next = max(next, i+1)
	}
	return next
}

// response returns the whole answer.
func (a *answer) response() agents.ModelResponse {
	r := agents.ModelResponse{Text: a.text.String(), Usage: a.usage}
	indexes := make([]int, 0, len(a.calls))
	for i := range a.calls {
		indexes = append(indexes, i)
	}
	slices.Sort(indexes)
	for _, i := range indexes {
		c := a.calls[i]
		id := c.id
		if id == "" {
			// Results must name the call they answer; a server that gave
			// no id gets one, which the next request carries back to it.
			id = "call_" + strconv.Itoa(i)
		}
		r.ToolCalls = append(r.ToolCalls, agents.ToolCall{ID: id, Name: c.name, Arguments: c.args.String()})
	}
	r.FinishReason = finishReason(a.finish, len(r.ToolCalls) > 0)
	return r
}

// finishReason maps a finish_reason onto the agents Finish constants.
func finishReason(reason string, calledTools bool) string {
	switch reason {
	case "length":
		return agents.FinishLength
	case "content_filter":
		return agents.FinishFilter
	case "tool_calls", "function_call":
		return agents.FinishToolCalls
	}
	// Some servers (older Ollama among them) say "stop" after calling
	// tools; the calls are what the loop must act on.
	if calledTools {
		return agents.FinishToolCalls
	}
	return agents.FinishStop
}
