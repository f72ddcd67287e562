// Package openai is Atrium's provider for OpenAI's chat-completions API and
// the many servers that copy it: OpenAI itself, Ollama, vLLM, llama.cpp,
// LiteLLM, OpenRouter and the like.
//
// Stream streams (stream: true, with stream_options.include_usage), so
// watchers see the answer as it is written and a stalled server is noticed
// within Config.IdleTimeout instead of at the end of the call. Complete
// (agents.Completer) asks for the answer in one piece, for API requests
// that are not streamed; a server that streams anyway is read as a stream.
//
// The package speaks the wire protocol itself: it appends the request's
// JSON by hand (request.go), retries as OpenAI's SDKs do (call.go), reads
// SSE lines through pooled buffers, and walks each chunk once with gjson
// (chunk.go). Relaying an answer through the official SDK cost several
// times as much CPU as the rest of a request; Atrium's gateway sits in
// front of every model call, so that cost was a ceiling on its
// throughput. Every way a call can fail becomes an error the agent loop
// can show: an *agents.ModelError for anything the upstream said or did, or
// ctx's error when the caller gave up.
//
// A stream that ends without a finish_reason is an error, never a short
// answer: a proxy cutting a connection must not look like a model that had
// nothing more to say.
package openai
