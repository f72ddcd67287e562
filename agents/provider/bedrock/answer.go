package bedrock

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"github.com/atrium-hq/atrium/agents"
)

// answer accumulates one streamed answer while turning Bedrock's events into
// deltas. It is used by one goroutine, the one calling Stream.
type answer struct {
	text  strings.Builder
	calls []*call
	// byBlock finds a call by Bedrock's content block index, which counts
	// text blocks too; a call's own Index counts only calls.
	byBlock map[int32]*call
	stop    types.StopReason
	stopped bool
	usage   agents.Usage
}

// call is a tool call being streamed.
type call struct {
	index    int
	id, name string
	args     strings.Builder
	// done is set once the call's arguments are complete.
	done bool
}

// handle applies one event and emits what it adds to the answer. Reasoning,
// citations and other block kinds are skipped: the agents contract has no
// place for them, and the answer stays correct without them.
func (a *answer) handle(ev types.ConverseStreamOutput, emit func(agents.Delta) error) error {
	switch v := ev.(type) {
	case *types.ConverseStreamOutputMemberContentBlockStart:
		start, ok := v.Value.Start.(*types.ContentBlockStartMemberToolUse)
		if !ok {
			return nil
		}
		c := a.call(aws.ToInt32(v.Value.ContentBlockIndex))
		c.id = aws.ToString(start.Value.ToolUseId)
		c.name = aws.ToString(start.Value.Name)
		return emit(agents.Delta{ToolCall: &agents.ToolCallDelta{Index: c.index, ID: c.id, Name: c.name}})

	case *types.ConverseStreamOutputMemberContentBlockDelta:
		switch d := v.Value.Delta.(type) {
		case *types.ContentBlockDeltaMemberText:
			if d.Value == "" {
				return nil
			}
			a.text.WriteString(d.Value)
			return emit(agents.Delta{Text: d.Value})
		case *types.ContentBlockDeltaMemberToolUse:
			piece := aws.ToString(d.Value.Input)
			if piece == "" {
				return nil
			}
			// A piece without a start (never seen from Bedrock) still
			// gets a call, so no arguments are lost.
			c := a.call(aws.ToInt32(v.Value.ContentBlockIndex))
			c.args.WriteString(piece)
			return emit(agents.Delta{ToolCall: &agents.ToolCallDelta{Index: c.index, Arguments: piece}})
		}

	case *types.ConverseStreamOutputMemberContentBlockStop:
		if c, ok := a.byBlock[aws.ToInt32(v.Value.ContentBlockIndex)]; ok {
			return c.finish(emit)
		}

	case *types.ConverseStreamOutputMemberMessageStop:
		a.stop = v.Value.StopReason
		a.stopped = true

	case *types.ConverseStreamOutputMemberMetadata:
		if u := v.Value.Usage; u != nil {
			a.usage = agents.Usage{InputTokens: int(aws.ToInt32(u.InputTokens)), OutputTokens: int(aws.ToInt32(u.OutputTokens))}
		}
	}
	return nil
}

// call returns the call streamed in content block i, starting it if new.
func (a *answer) call(i int32) *call {
	if c, ok := a.byBlock[i]; ok {
		return c
	}
	if a.byBlock == nil {
		a.byBlock = make(map[int32]*call)
	}
	c := &call{index: len(a.calls)}
	a.calls = append(a.calls, c)
	a.byBlock[i] = c
	return c
}

// finish completes c's arguments. A tool without parameters streams no
// input at all; "{}" is emitted so the pieces a watcher concatenated match
// the response.
func (c *call) finish(emit func(agents.Delta) error) error {
	if c.done {
		return nil
	}
	c.done = true
	if c.args.Len() > 0 {
		return nil
	}
	c.args.WriteString("{}")
	return emit(agents.Delta{ToolCall: &agents.ToolCallDelta{Index: c.index, Arguments: "{}"}})
}

// response is the whole answer, once the model has stopped.
func (a *answer) response(emit func(agents.Delta) error) (agents.ModelResponse, error) {
	r := agents.ModelResponse{Text: a.text.String(), Usage: a.usage}
	for _, c := range a.calls {
		if err := c.finish(emit); err != nil {
			return agents.ModelResponse{}, err
		}
		r.ToolCalls = append(r.ToolCalls, agents.ToolCall{ID: c.id, Name: c.name, Arguments: c.args.String()})
	}
	r.FinishReason = finishReason(a.stop, len(r.ToolCalls) > 0)
	return r, nil
}

// finishReason maps Bedrock's stop reason to the agents vocabulary. Reasons
// it does not know (malformed output, new ones) end the turn, with the
// calls if there are any, so the loop can report them to the model.
func finishReason(r types.StopReason, calls bool) string {
	switch r {
	case types.StopReasonEndTurn, types.StopReasonStopSequence:
		return agents.FinishStop
	case types.StopReasonToolUse:
		return agents.FinishToolCalls
	case types.StopReasonMaxTokens, types.StopReasonModelContextWindowExceeded:
		return agents.FinishLength
	case types.StopReasonContentFiltered, types.StopReasonGuardrailIntervened:
		return agents.FinishFilter
	}
	if calls {
		return agents.FinishToolCalls
	}
	return agents.FinishStop
}
