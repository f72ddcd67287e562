package openai_test

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/openai"
)

func TestHTTPErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		status      int
		contentType string
		body        string
		wantCode    string
		wantMessage string
	}{
		{"unauthorized", 401, "application/json",
			`{"error":{"message":"Incorrect API key provided: sk-****.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			"invalid_api_key", "Incorrect API key provided: sk-****."},
		{"rate limited", 429, "application/json",
			`{"error":{"message":"Rate limit reached for gpt-test.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
			"rate_limit_exceeded", "Rate limit reached for gpt-test."},
		{"server error", 500, "application/json",
			`{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`,
			"server_error", "The server had an error while processing your request."},
		{"plain text", 500, "text/plain", "upstream exploded\n", "", "upstream exploded"},
		{"html page", 502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>", "", "Bad Gateway"},
		{"empty", 503, "", "", "", "Service Unavailable"},
		{"vllm", 400, "application/json",
			`{"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400}`,
			"BadRequestError", "This model's maximum context length is 4096 tokens."},
		{"error string", 404, "application/json", `{"error":"model \"llama9\" not found, try pulling it first"}`,
			"", `model "llama9" not found, try pulling it first`},
		{"gemini", 400, "application/json",
			`[{"error":{"code":400,"message":"Invalid JSON payload received.","status":"INVALID_ARGUMENT"}}]`,
			"INVALID_ARGUMENT", "Invalid JSON payload received."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := serve(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			p := u.provider(openai.Config{Name: "testai"})
			emitted := 0
			_, err := p.Stream(context.Background(), agents.ModelRequest{Model: "gpt-test"},
				func(agents.Delta) error { emitted++; return nil })
			me := modelError(t, err)
			want := agents.ModelError{Provider: "testai", Status: tc.status, Code: tc.wantCode, Message: tc.wantMessage}
			got := *me
			got.Err = nil
			if got != want {
				t.Errorf("ModelError = %+v, want %+v", got, want)
			}
			if emitted != 0 {
				t.Errorf("emitted %d deltas", emitted)
			}
		})
	}
}

// TestRetryBeforeEmit checks a failure before the stream starts is tried
// again, as long as the server lets it.
func TestRetryBeforeEmit(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	u := serve(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After-Ms", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"message":"overloaded","type":"server_error"}}`)
			return
		}
		sse(w, text("second time lucky"), finish("stop"), done)
	})
	p := openai.New(openai.Config{BaseURL: u.URL + "/v1"}) // default retries

	resp, err := p.Stream(context.Background(), agents.ModelRequest{Model: "gpt-test"}, func(agents.Delta) error { return nil })
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if resp.Text != "second time lucky" || n.Load() != 2 {
		t.Errorf("got %q after %d requests, want the second answer after 2", resp.Text, n.Load())
	}
}

// TestMaxCompletionTokens checks the fallback for OpenAI models that
// refuse max_tokens.
func TestMaxCompletionTokens(t *testing.T) {
	t.Parallel()
	u := serve(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		if _, ok := body["max_tokens"]; ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}`)
			return
		}
		sse(w, text("fine"), finish("stop"), done)
	})
	p := u.provider(openai.Config{})

	resp, err := p.Stream(context.Background(), agents.ModelRequest{Model: "o-test", MaxTokens: 64}, func(agents.Delta) error { return nil })
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if resp.Text != "fine" {
		t.Errorf("Text = %q, want fine", resp.Text)
	}
	first, second := u.next(t), u.next(t)
	if first.Body["max_tokens"] != 64.0 {
		t.Errorf("first request max_tokens = %v, want 64", first.Body["max_tokens"])
	}
	if _, ok := second.Body["max_tokens"]; ok || second.Body["max_completion_tokens"] != 64.0 {
		t.Errorf("second request has max_tokens %v, max_completion_tokens %v; want only max_completion_tokens 64",
			second.Body["max_tokens"], second.Body["max_completion_tokens"])
	}
}
