package openai_test

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/openai"
)

// TestConnectionReuse checks answers, streamed or not, leave their
// connection to the next request, with Atrium's own client and with
// net/http's: a body closed before its end would cost a new connection
// (and its handshake) every time.
func TestConnectionReuse(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	conns := map[string]bool{}
	u := serve(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		mu.Unlock()
		if body["stream"] == true {
			sse(w, text("hi"), finish("stop"), usage(1, 1), done)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, completion(map[string]any{"content": "hi"}, "stop", nil))
	})
	for _, tc := range []struct {
		name   string
		client *http.Client
	}{{"own client", nil}, {"net/http", &http.Client{Transport: &http.Transport{}}}} {
		mu.Lock()
		clear(conns)
		mu.Unlock()
		p := u.provider(openai.Config{HTTPClient: tc.client})
		req := agents.ModelRequest{Model: "gpt-test"}
		for range 20 {
			if _, err := p.Stream(context.Background(), req, func(agents.Delta) error { return nil }); err != nil {
				t.Fatalf("%s: Stream: %v", tc.name, err)
			}
			if _, err := p.Complete(context.Background(), req); err != nil {
				t.Fatalf("%s: Complete: %v", tc.name, err)
			}
		}
		mu.Lock()
		if n := len(conns); n != 1 {
			t.Errorf("%s: 40 answers one after another took %d connections, want 1", tc.name, n)
		}
		mu.Unlock()
	}
}

// TestStaleConnection checks a kept connection the server has closed
// costs nothing but a new one.
func TestStaleConnection(t *testing.T) {
	t.Parallel()
	u := serve(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, completion(map[string]any{"content": "hi"}, "stop", nil))
	})
	p := u.provider(openai.Config{})
	for i := range 3 {
		if _, err := p.Complete(context.Background(), agents.ModelRequest{Model: "gpt-test"}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		u.CloseClientConnections() // the kept connection dies idle
	}
}
