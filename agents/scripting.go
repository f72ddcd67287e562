package agents

import "context"

// ScriptRunner runs agent scripts (seed 003). The agents/script package
// provides one; main wires it in (a parent never imports its children).
type ScriptRunner interface {
	// Check parses src without running it; errors name the line.
	Check(src string) error
	// Run runs src over conversation. query answers the script's
	// query(model, conversation) calls.
	Run(ctx context.Context, src string, conversation []ScriptMessage, query ScriptQuery) (ScriptResult, error)
}

// ScriptMessage is a message of a script's conversation.
type ScriptMessage struct {
	Role    string
	Content string
}

// ScriptQuery answers a script's query(model, conversation) call.
type ScriptQuery func(ctx context.Context, model string, conversation []ScriptMessage) (string, error)

// ScriptResult is what a script run produced.
type ScriptResult struct {
	// Answer is the last answer a query returned ("" when none ran).
	Answer string
	// Conversation is the script's conversation when it ended.
	Conversation []ScriptMessage
	// Output is what the script printed.
	Output string
	// Queries counts the query calls.
	Queries int
}
