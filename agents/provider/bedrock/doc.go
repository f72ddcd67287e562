// Package bedrock is the agents.Provider for models on Amazon Bedrock. It
// speaks Bedrock's Converse API (ConverseStream, one API for every model
// family) through the AWS SDK, so credentials, SigV4 signing, endpoints and
// retries are the SDK's, taken from the standard AWS chain unless the caller
// passes an aws.Config.
//
// Translation rules, because Bedrock is stricter than the agents contract:
//
//   - Messages must alternate user and assistant, so consecutive messages of
//     one role are merged and tool results travel as user messages.
//     System messages inside the conversation join the system prompt.
//   - toolUse and toolResult blocks are only accepted with a toolConfig, and
//     Converse has no "none" tool choice. When a request offers no tools (or
//     says "none"), earlier tool calls and results are therefore sent as text.
//   - A tool call's input must be a JSON object; arguments the model wrote
//     that are not one are sent back as {}.
//   - Tool choice "required" is sent as Converse's "any". "auto" is sent as
//     nothing: it is the default, and models without tool-choice support
//     reject the field.
//
// Errors: a refusal before the stream starts is a *agents.ModelError with
// the HTTP status and the AWS error code. An exception that arrives inside
// the stream (the HTTP status was already 200) carries the status AWS
// documents for that exception (429 throttling, 400 validation, 424 model
// stream error, 500, 503), so callers can treat both alike. The SDK retries
// only before the stream starts; nothing is retried after a delta is
// emitted.
package bedrock
