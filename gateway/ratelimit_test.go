package gateway_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/gateway"
)

// TestRateLimit checks seed 001's 429: a caller over Config.RateLimit gets
// {"error": {"type", "message", "code"}} and Retry-After, a user's key and
// login token share one budget, and another user has their own.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{RateLimit: 3})
	body := `{"model":"echo","messages":[{"role":"user","content":"hi"}]}`
	for i, token := range []string{e.userKey, e.jwt, e.userKey} {
		if resp, raw := e.post(t, "/v1/chat/completions", token, body); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d = %d %s", i+1, resp.StatusCode, raw)
		}
	}
	resp, raw := e.post(t, "/v1/chat/completions", e.jwt, body)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth request = %d %s, want 429", resp.StatusCode, raw)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After = %q, want 1 to 60 seconds", resp.Header.Get("Retry-After"))
	}
	st, m := e.do(t, "POST", "/v1/api/chat", e.userKey, `{"model":"echo","messages":[{"role":"user","content":"hi"}]}`)
	wantOAIError(t, "seed 001's chat over the limit", st, m, http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded")
	// Listing the models is not counted, and still shows the caller's
	// agents once the budget is spent.
	agent := e.agent(t, e.userID)
	for range 2 {
		st, m = e.do(t, "GET", "/v1/api/models", e.userKey, "")
		if st != http.StatusOK || !strings.Contains(fmt.Sprint(m["data"]), agent) {
			t.Fatalf("GET /v1/api/models over the limit = %d, want 200 with the agent %s: %v", st, agent, m)
		}
	}

	other, _ := e.user(t, "other@example.com")
	if resp, raw := e.post(t, "/v1/chat/completions", other, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("another user's request = %d %s", resp.StatusCode, raw)
	}
}
