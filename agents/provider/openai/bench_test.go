package openai_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/openai"
)

// BenchmarkStream measures one streamed answer of 200 chunks, as an
// OpenAI server sends them: the cost of reading a stream, per answer.
func BenchmarkStream(b *testing.B) {
	var body strings.Builder
	for i := range 200 {
		fmt.Fprintf(&body, `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini",`+
			`"system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" token%d"},"logprobs":null,"finish_reason":null}]}`+"\n\n", i)
	}
	body.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n")
	body.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":200,"total_tokens":209}}` + "\n\n")
	body.WriteString("data: [DONE]\n\n")
	stream := body.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte(stream))
	}))
	defer srv.Close()
	p := openai.New(openai.Config{BaseURL: srv.URL, HTTPClient: srv.Client()})
	req := agents.ModelRequest{Model: "gpt-4o-mini", Messages: []agents.ModelMessage{{Role: agents.RoleUser, Content: "hi"}}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := p.Stream(context.Background(), req, func(agents.Delta) error { return nil })
		if err != nil || resp.Usage.OutputTokens != 200 {
			b.Fatal(resp, err)
		}
	}
}
