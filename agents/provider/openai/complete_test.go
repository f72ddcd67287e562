package openai_test

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/openai"
)

// completion is a chat.completion with one choice, as OpenAI writes an
// answer that is not streamed.
func completion(message map[string]any, finish string, usage any) string {
	return mustJSON(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-test",
		"choices": []any{map[string]any{"index": 0, "message": message, "logprobs": nil, "finish_reason": finish}},
		"usage":   usage,
	})
}

func TestComplete(t *testing.T) {
	t.Parallel()
	u := serve(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		switch body["model"] {
		case "text":
			io.WriteString(w, completion(map[string]any{"role": "assistant", "content": "Bonjour 🌦", "refusal": nil}, "stop",
				map[string]any{"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}))
		case "tools":
			io.WriteString(w, completion(map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{
				map[string]any{"id": "call_a", "type": "function", "function": map[string]any{"name": "weather", "arguments": `{"city":"Oslo"}`}},
				// Older Ollama sends the arguments as an object.
				map[string]any{"id": "call_b", "type": "function", "function": map[string]any{"name": "now", "arguments": map[string]any{}}},
			}}, "tool_calls", nil))
		case "refusal":
			io.WriteString(w, completion(map[string]any{"role": "assistant", "content": nil, "refusal": "I can't help with that."}, "stop", nil))
		case "error":
			io.WriteString(w, `{"error":{"message":"The server had an error.","type":"server_error","code":null}}`)
		case "empty":
			io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","choices":[]}`)
		case "broken":
			io.WriteString(w, `{"id":"chatcmpl-1","choices":[{"index":0,"message":{"content":"cut`)
		case "sse":
			// A server that streams whatever it is asked.
			w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
			sse(w, text("streamed"), finish("stop"), usage(1, 1), done)
		}
	})
	p := u.provider(openai.Config{})
	ask := func(model string) (agents.ModelResponse, error) {
		return p.Complete(context.Background(), agents.ModelRequest{Model: model, Messages: []agents.ModelMessage{{Role: agents.RoleUser, Content: "hi"}}})
	}

	resp, err := ask("text")
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	want := agents.ModelResponse{Text: "Bonjour 🌦", FinishReason: agents.FinishStop, Usage: agents.Usage{InputTokens: 9, OutputTokens: 3}}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("Complete = %+v, want %+v", resp, want)
	}
	r := u.next(t)
	if _, ok := r.Body["stream"]; ok {
		t.Errorf("request has stream = %v; want it left out", r.Body["stream"])
	}
	if _, ok := r.Body["stream_options"]; ok {
		t.Errorf("request has stream_options; want them only when streaming")
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q, want application/json", got)
	}

	resp, err = ask("tools")
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	want = agents.ModelResponse{FinishReason: agents.FinishToolCalls, ToolCalls: []agents.ToolCall{
		{ID: "call_a", Name: "weather", Arguments: `{"city":"Oslo"}`},
		{ID: "call_b", Name: "now", Arguments: `{}`},
	}}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("Complete = %+v, want %+v", resp, want)
	}

	if resp, err = ask("refusal"); err != nil || resp.Text != "I can't help with that." {
		t.Errorf("Complete = %+v, %v; want the refusal as the text", resp, err)
	}
	if resp, err = ask("sse"); err != nil || resp.Text != "streamed" || resp.Usage.OutputTokens != 1 {
		t.Errorf("Complete = %+v, %v; want the streamed answer", resp, err)
	}

	_, err = ask("error")
	if me := modelError(t, err); me.Code != "server_error" || me.Message != "The server had an error." {
		t.Errorf("ModelError = %+v, want the server's error", me)
	}
	_, err = ask("empty")
	if me := modelError(t, err); !strings.Contains(me.Message, "no choices") {
		t.Errorf("ModelError = %+v, want \"no choices\"", me)
	}
	_, err = ask("broken")
	if me := modelError(t, err); !strings.Contains(me.Message, "malformed answer") {
		t.Errorf("ModelError = %+v, want \"malformed answer\"", me)
	}
}

// TestCompleteMaxCompletionTokens checks Complete falls back as Stream
// does.
func TestCompleteMaxCompletionTokens(t *testing.T) {
	t.Parallel()
	u := serve(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		if _, ok := body["max_tokens"]; ok {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"message":"Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}`)
			return
		}
		io.WriteString(w, completion(map[string]any{"content": "fine"}, "stop", nil))
	})
	p := u.provider(openai.Config{})
	resp, err := p.Complete(context.Background(), agents.ModelRequest{Model: "o-test", MaxTokens: 64})
	if err != nil || resp.Text != "fine" {
		t.Fatalf("Complete = %+v, %v; want fine", resp, err)
	}
	u.next(t)
	if second := u.next(t); second.Body["max_completion_tokens"] != 64.0 {
		t.Errorf("second request: max_completion_tokens = %v, want 64", second.Body["max_completion_tokens"])
	}
}
