// Package openai is Atrium's provider for OpenAI's chat-completions API and
// the many servers that copy it: OpenAI itself, Ollama, vLLM, llama.cpp,
// LiteLLM, OpenRouter and the like.
//
// Every call streams (stream: true, with stream_options.include_usage), so
// watchers see the answer as it is written and a stalled server is noticed
// within Config.IdleTimeout instead of at the end of the call. The wire work
// (encoding, retries, SSE framing) is the official openai-go SDK's; this
// package maps Atrium's ModelRequest onto it, turns its chunks into
// agents.Delta pieces and one agents.ModelResponse, and turns every way a
// call can fail into an error the agent loop can show: an *agents.ModelError
// for anything the upstream said or did, or ctx's error when the caller gave
// up.
//
// A stream that ends without a finish_reason is an error, never a short
// answer: a proxy cutting a connection must not look like a model that had
// nothing more to say.
package openai
