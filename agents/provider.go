package agents

import "context"

// Provider is a language model that streams its answer.
type Provider interface {
	// Stream answers req, calling emit with each piece of the answer as the
	// model produces it, in order. It returns when the answer is complete,
	// when emit fails, or when ctx is done (with ctx's error).
	Stream(ctx context.Context, req ModelRequest, emit func(text string) error) error
}

// ModelRequest is what a run asks a model.
type ModelRequest struct {
	// Model is the model's name as the agent names it.
	Model string
	// Agent is the answering agent's name.
	Agent string
	// Messages is the conversation so far, oldest first, ending with the
	// message being answered.
	Messages []ModelMessage
}

// ModelMessage is one turn of a conversation: Role is "user" or "assistant".
type ModelMessage struct {
	Role    string
	Content string
}

// Models finds the provider serving a model name.
type Models interface {
	Provider(model string) (Provider, bool)
}
