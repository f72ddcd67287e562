package agents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Provider is a language model that streams its answer.
//
// Stream answers req. It calls emit with each piece of the answer as the
// model produces it, in order, from one goroutine, and returns the whole
// answer when the model has finished. It returns early when emit fails
// (with emit's error), when ctx is done (with ctx's error), or when the
// model fails (with an error wrapping *ModelError when the upstream said
// why). Stream never retries on its own after emitting anything.
type Provider interface {
	Stream(ctx context.Context, req ModelRequest, emit func(Delta) error) (ModelResponse, error)
}

// Completer is a Provider that can also answer in one piece, which costs
// less than a stream when nobody watches the answer arrive (an API
// request that is not streamed). Complete has Stream's contract, without
// the deltas.
type Completer interface {
	Provider
	Complete(ctx context.Context, req ModelRequest) (ModelResponse, error)
}

// Complete answers req with p in one piece: with p's Complete when it has
// one, else by streaming the answer to nobody.
func Complete(ctx context.Context, p Provider, req ModelRequest) (ModelResponse, error) {
	if c, ok := p.(Completer); ok {
		return c.Complete(ctx, req)
	}
	return p.Stream(ctx, req, func(Delta) error { return nil })
}

// ModelRequest is what a run asks a model.
type ModelRequest struct {
	// Model is the model's name at its provider (the upstream name, such
	// as "gpt-4o-mini" or "anthropic.claude-3-haiku-20240307-v1:0").
	Model string
	// Agent is the answering agent's name; for logs and the echo model.
	Agent string
	// System is the system prompt; empty means none.
	System string
	// Messages is the conversation so far, oldest first, ending with the
	// message being answered (or with tool results to continue from).
	Messages []ModelMessage
	// Tools are the tools the model may call; nil means none.
	Tools []ToolSpec
	// ToolChoice is "" or "auto" (the model decides), "none", or
	// "required". Providers that cannot express it ignore it.
	ToolChoice string
	// Temperature, TopP: nil means the provider's default.
	Temperature *float64
	TopP        *float64
	// MaxTokens caps the answer; zero means the provider's default.
	MaxTokens int
	// Stop lists sequences that end the answer.
	Stop []string
}

// Roles of a ModelMessage.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// ModelMessage is one turn of a conversation.
type ModelMessage struct {
	// Role is RoleUser, RoleAssistant, RoleTool or RoleSystem (a system
	// message inside the conversation; ModelRequest.System comes first).
	Role    string
	Content string
	// ToolCalls are the calls an assistant turn made.
	ToolCalls []ToolCall
	// ToolCallID is, on a RoleTool message, the call it answers.
	ToolCallID string
	// ToolName is, on a RoleTool message, the called tool's name (some
	// providers need it).
	ToolName string
	// IsError marks a RoleTool message whose tool failed.
	IsError bool
}

// ToolSpec describes a tool to the model.
type ToolSpec struct {
	Name        string
	Description string
	// Parameters is a JSON Schema object. Empty means no parameters.
	Parameters json.RawMessage
}

// ToolCall is a model's request to call a tool.
type ToolCall struct {
	// ID is the provider's id of the call; results refer to it.
	ID   string
	Name string
	// Arguments is a JSON object, as the model wrote it (it may be
	// invalid JSON: the loop reports that to the model as an error).
	Arguments string
}

// Delta is a piece of a streamed answer: text, or a piece of a tool call.
type Delta struct {
	Text string
	// ToolCall, when not nil, is a piece of a tool call.
	ToolCall *ToolCallDelta
}

// MaxToolCalls is the most tool calls one answer may carry. Providers
// refuse an answer whose call index falls outside [0, MaxToolCalls): an
// upstream that sends one is broken, and callers size tables by the index.
const MaxToolCalls = 256

// ToolCallDelta is a piece of a streamed tool call. Index identifies the
// call within the answer; ID and Name arrive in its first piece, Arguments
// in pieces to be concatenated.
type ToolCallDelta struct {
	Index     int
	ID        string
	Name      string
	Arguments string
}

// Finish reasons of a ModelResponse.
const (
	FinishStop      = "stop"
	FinishToolCalls = "tool_calls"
	FinishLength    = "length"
	FinishFilter    = "content_filter"
)

// ModelResponse is a model's whole answer.
type ModelResponse struct {
	// Text is the answer's text (possibly empty when it calls tools).
	Text string
	// ToolCalls are the complete calls the model made, in order.
	ToolCalls []ToolCall
	// FinishReason is one of the Finish constants.
	FinishReason string
	// Usage counts tokens, when the provider reports them.
	Usage Usage
}

// Usage counts the tokens of one model call.
type Usage struct {
	InputTokens  int
	OutputTokens int
}

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{InputTokens: u.InputTokens + v.InputTokens, OutputTokens: u.OutputTokens + v.OutputTokens}
}

// ModelError is an upstream model's refusal or failure, as the provider
// reported it.
type ModelError struct {
	// Provider names the provider ("openai", "bedrock", ...).
	Provider string
	// Status is the upstream HTTP status, or 0.
	Status int
	// Code is the upstream's error code or type, when it gave one.
	Code string
	// Message is the upstream's message.
	Message string
	// Err is the underlying error, if any.
	Err error
}

func (e *ModelError) Error() string {
	s := e.Provider + ": "
	if e.Status != 0 {
		s += fmt.Sprintf("status %d: ", e.Status)
	}
	if e.Code != "" {
		s += e.Code + ": "
	}
	if e.Message != "" {
		return s + e.Message
	}
	if e.Err != nil {
		return s + e.Err.Error()
	}
	return s + "failed"
}

func (e *ModelError) Unwrap() error { return e.Err }

// AsModelError returns err's *ModelError, if it has one.
func AsModelError(err error) (*ModelError, bool) {
	var me *ModelError
	ok := errors.As(err, &me)
	return me, ok
}

// Models finds the provider serving a model name.
type Models interface {
	// Provider returns the provider of model (a catalogue id or name) and
	// the model's name at that provider.
	Provider(model string) (p Provider, upstream string, ok bool)
}
