package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/gateway"
)

// heldModel answers "late" only when the test sends on release: a model
// slow to start, or an agent busy with its tools, for as long as the test
// wants.
type heldModel struct{ release chan struct{} }

func (m heldModel) Stream(ctx context.Context, _ agents.ModelRequest, emit func(agents.Delta) error) (agents.ModelResponse, error) {
	select {
	case <-m.release:
	case <-ctx.Done():
		return agents.ModelResponse{}, ctx.Err()
	}
	if err := emit(agents.Delta{Text: "late"}); err != nil {
		return agents.ModelResponse{}, err
	}
	return agents.ModelResponse{Text: "late", FinishReason: agents.FinishStop, Usage: agents.Usage{InputTokens: 1, OutputTokens: 1}}, nil
}

// TestStreamsPingBeforeASlowAnswer checks seed 001's chat API (with an
// agent or a catalogue model as the model) and seed 003's v1 and v2
// streams send ": ping" comments while the answer is slow to start, then
// the answer.
func TestStreamsPingBeforeASlowAnswer(t *testing.T) {
	t.Parallel()
	held := heldModel{release: make(chan struct{})}
	e := newRunningEnvWith(t, gateway.Config{StreamPing: 20 * time.Millisecond},
		[]agents.Model{{Name: "held", Upstream: "held"}}, map[string]agents.Provider{"held": held})
	owner, _ := e.user(t, "owner@x.io")
	id, key := e.publishedAgentOf(t, owner, "held", `{"stream":true}`)
	for _, c := range []struct{ path, auth, body string }{
		{"/v1/api/chat", "Bearer " + key, `{"message": "hi", "stream": true}`},
		{"/v1/api/chat", "Bearer " + owner, `{"model": "held", "message": "hi", "stream": true, "streamType": "data"}`},
		{"/v1/" + id, key, `{"conversation": [{"role": "user", "content": "hi"}]}`},
		{"/v2/" + id, key, `{"message": {"role": "user", "content": "hi"}}`},
	} {
		// A stream that never pings fails the test rather than hang it.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", c.auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			resp.Body.Close()
			t.Fatalf("%s %s: status %d, %q", c.path, c.body, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		// Two pings, then let the answer go.
		sc := bufio.NewScanner(resp.Body)
		pings := 0
		var text strings.Builder
		var last map[string]any
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
			case line == ": ping":
				if pings++; pings == 2 {
					select {
					case held.release <- struct{}{}:
					case <-time.After(10 * time.Second):
						t.Fatalf("%s %s: the model was never asked", c.path, c.body)
					}
				}
			case pings < 2:
				t.Fatalf("%s %s: %q before the pings", c.path, c.body, line)
			default:
				data, ok := strings.CutPrefix(line, "data: ")
				last = nil
				if !ok || json.Unmarshal([]byte(data), &last) != nil {
					t.Fatalf("%s %s: line %q", c.path, c.body, line)
				}
				if last["type"] == "content" {
					text.WriteString(last["delta"].(string))
				}
			}
		}
		resp.Body.Close()
		if pings < 2 {
			t.Fatalf("%s %s: %d pings, then %v", c.path, c.body, pings, sc.Err())
		}
		if text.String() != "late" || last["type"] != "done" {
			t.Errorf("%s %s: %q after the pings, then %v", c.path, c.body, text.String(), last)
		}
	}
}
