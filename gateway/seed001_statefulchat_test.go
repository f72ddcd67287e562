package gateway_test

import (
	"bufio"
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/gateway"
)

// TestSeed001StatefulChatBillsModelCalls checks POST /v1/api/chat with a
// catalogue model charges the caller as the completions endpoint does:
// for the tokens used, streamed or not, and for what the model produced
// when the client leaves mid-stream.
func TestSeed001StatefulChatBillsModelCalls(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	credits := func() (float64, string) {
		t.Helper()
		st, body := e.do(t, "GET", "/api/credits/", e.jwt, "")
		if st != http.StatusOK {
			t.Fatalf("credits = %d %v", st, body)
		}
		ledger := list(t, body, "ledger")
		if len(ledger) == 0 {
			return body["balance"].(float64), ""
		}
		return body["balance"].(float64), ledger[0]["reason"].(string)
	}

	// fakeText's 11 tokens in and 2 out cost 11 + 2×2.
	for _, c := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model": "priced-text", "messages": [{"role": "user", "content": "hi"}]}`},
		{"/v1/api/chat", `{"model": "priced-text", "message": "hi"}`},
		{"/v1/api/chat", `{"model": "priced-text", "message": "hi", "stream": true}`},
		{"/v1/api/chat", `{"model": "priced-text", "message": "hi", "stream": true, "streamType": "text"}`},
	} {
		before, _ := credits()
		resp, data := e.post(t, c.path, e.userKey, c.body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(data), "Hello") {
			t.Fatalf("%s %s = %d %s", c.path, c.body, resp.StatusCode, data)
		}
		// The charge is made before the answer's end is sent.
		after, reason := credits()
		if spent := before - after; spent != 15 || reason != "model priced-text" {
			t.Errorf("%s %s: charged %v credits (%q), want 15", c.path, c.body, spent, reason)
		}
	}

	// A client that leaves mid-answer pays for what the model produced,
	// on the chat API as on the completions endpoint.
	var spent []float64
	for _, path := range []string{"/v1/chat/completions", "/v1/api/chat"} {
		before, _ := credits()
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+path,
			strings.NewReader(`{"model": "priced-hang", "stream": true, "messages": [{"role": "user", "content": "hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+e.userKey)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(resp.Body).ReadString('\n')
		if !strings.Contains(line, "thinking") {
			t.Fatalf("%s: first line %q, want the first piece", path, line)
		}
		cancel()
		resp.Body.Close()
		select {
		case <-e.up.left:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the upstream call was not cancelled when the client left", path)
		}
		// The handler charges after the upstream call ends: poll.
		deadline := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(10 * time.Millisecond)
		for {
			after, reason := credits()
			if after < before {
				if reason != "model priced-hang" {
					t.Errorf("%s: charged for %q", path, reason)
				}
				spent = append(spent, before-after)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: a client that left was not charged", path)
			}
			<-tick.C
		}
		tick.Stop()
	}
	if spent[0] <= 0 || spent[1] != spent[0] {
		t.Errorf("charged %v for a cut answer on the completions endpoint and the chat API; want the same, more than 0", spent)
	}
}

// TestSeed001ChatKeepsAModelConversation checks seed 001's chatId with a
// catalogue model: a request that sends only its new message is answered
// with the conversation so far (kept per caller), and one that sends
// several is taken as the whole conversation.
func TestSeed001ChatKeepsAModelConversation(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	say := func(token, body string) []any {
		t.Helper()
		for len(e.up.reqs) > 0 {
			<-e.up.reqs
		}
		if st, m := e.do(t, "POST", "/v1/api/chat", token, body); st != 200 {
			t.Fatalf("%s = %d %v", body, st, m)
		}
		select {
		case up := <-e.up.reqs:
			msgs, _ := up["messages"].([]any)
			return msgs
		default:
			t.Fatalf("%s reached no upstream", body)
		}
		return nil
	}
	user := func(text string) map[string]any { return map[string]any{"role": "user", "content": text} }
	answer := map[string]any{"role": "assistant", "content": "Hello world"}

	say(e.userKey, `{"model":"fake-text","chatId":"c1","messages":[{"id":"m1","role":"user","parts":[{"type":"text","text":"First"}]}]}`)
	got := say(e.jwt, `{"model":"fake-text","chatId":"c1","messages":[{"id":"m2","role":"user","parts":[{"type":"text","text":"Second"}]}]}`)
	if want := []any{user("First"), answer, user("Second")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("the second message of chat c1 went up as %v, want %v", got, want)
	}
	// The client's own history wins when it sends one.
	got = say(e.userKey, `{"model":"fake-text","chatId":"c1","messages":[{"role":"user","parts":[{"type":"text","text":"A"}]},{"role":"assistant","parts":[{"type":"text","text":"B"}]},{"role":"user","parts":[{"type":"text","text":"C"}]}]}`)
	if want := []any{user("A"), map[string]any{"role": "assistant", "content": "B"}, user("C")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("a whole conversation went up as %v, want %v", got, want)
	}
	// Another user's chat of the same id is their own.
	other, _ := e.user(t, "other-chat@example.com")
	got = say(other, `{"model":"fake-text","chatId":"c1","messages":[{"role":"user","parts":[{"type":"text","text":"Mine"}]}]}`)
	if want := []any{user("Mine")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("another user's chat c1 went up as %v, want %v", got, want)
	}
}

// TestSeed001ChatAsTheDocumentShowsIt checks seed 001's examples as
// written: the model "ashnaai" (the default model here), the chat API
// under /v1 too, and a stream cut by its model ending in an error event
// with seed 001's type, message and code.
func TestSeed001ChatAsTheDocumentShowsIt(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	for _, c := range []struct{ path, body string }{
		{"/v1/api/chat/completions", `{"model": "ashnaai", "messages": [{"role": "user", "content": "Hello!"}]}`},
		{"/v1/api/completions", `{"model": "ashnaai", "prompt": "Explain quantum computing in simple terms", "max_tokens": 500, "temperature": 0.7}`},
		{"/v1/api/chat", `{"model": "ashnaai", "message": "Write a story about AI"}`},
		{"/v1/chat", `{"model": "ashnaai", "message": "Write a story about AI"}`},
	} {
		resp, data := e.post(t, c.path, e.userKey, c.body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(data), "echo") {
			t.Errorf("%s %s = %d %s, want the default (echo) model's answer", c.path, c.body, resp.StatusCode, data)
		}
	}

	st, ct, evs := e.stream(t, "/v1/api/chat", e.userKey, `{"model": "fake-cut", "stream": true, "message": "hi"}`)
	if st != http.StatusOK || ct != "text/event-stream" || len(evs) < 2 {
		t.Fatalf("cut stream: %d %q %v", st, ct, evs)
	}
	if evs[0].obj["type"] != "content" || evs[0].obj["delta"] != "partial" {
		t.Errorf("first event = %v", evs[0].obj)
	}
	last := evs[len(evs)-1].obj
	if last["type"] != "error" {
		t.Fatalf("cut stream ends with %v, want an error event", last)
	}
	wantOAIError(t, "cut stream's error event", 500, last, 500, "server_error", "upstream_error")
	for _, ev := range evs {
		if ev.obj["type"] == "done" {
			t.Fatal("a cut stream ended with done")
		}
	}
}
