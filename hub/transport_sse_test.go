package hub_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/echo"
	"github.com/atrium-hq/atrium/workspaces"
)

// sseEvent is one server-sent event.
type sseEvent struct {
	id, event, data string
}

// openSSE opens an event stream and returns its events as they come.
func openSSE(t *testing.T, url string, header http.Header) (*http.Response, <-chan sseEvent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	out := make(chan sseEvent, 1000)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.data != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return resp, out
}

func nextSSE(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("stream ended")
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event")
	}
	return sseEvent{}
}

func TestSSEStreamsAndResumesWithLastEventID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, echo.Config{Tokens: 10, Rate: -1})
	n := e.nodes[0]
	url := n.srv.URL + "/chat/" + string(e.chat) + "/events"
	resp, events := openSSE(t, url+"?token="+e.token(e.viewer), nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if ready := nextSSE(t, events); ready.event != "ready" || !strings.Contains(ready.data, `"ok":true`) {
		t.Fatalf("first event %+v", ready)
	}
	sender := e.dial(n, "token="+e.token(e.owner))
	mustOK(t, "message", sender.send("message", map[string]any{"chat_id": e.chat, "message_string": e.messageString(e.owner), "content": "over sse"}))
	var got []agents.Envelope
	for len(got) == 0 || got[len(got)-1].Type != agents.EventRunCompleted {
		ev := nextSSE(t, events)
		var env agents.Envelope
		if err := json.Unmarshal([]byte(ev.data), &env); err != nil {
			t.Fatalf("event %+v: %v", ev, err)
		}
		if ev.id != strconv.FormatUint(env.Seq, 10) {
			t.Fatalf("id %s for seq %d", ev.id, env.Seq)
		}
		got = append(got, env)
	}
	// Resume after the third event with Last-Event-ID, as EventSource does.
	from := got[2].Seq
	_, again := openSSE(t, url, http.Header{"Authorization": {"Bearer " + e.token(e.member)}, "Last-Event-Id": {strconv.FormatUint(from, 10)}})
	ready := nextSSE(t, again)
	if !strings.Contains(ready.data, `"recovered":true`) {
		t.Fatalf("resume ready = %s", ready.data)
	}
	for _, want := range got {
		if want.Seq <= from {
			continue
		}
		ev := nextSSE(t, again)
		for ev.event != "" { // skip control events
			ev = nextSSE(t, again)
		}
		if ev.id != strconv.FormatUint(want.Seq, 10) {
			t.Fatalf("resumed event id %s, want %d", ev.id, want.Seq)
		}
	}

	// The workspace stream needs a token and numbers events by cursor.
	wsResp, wsEvents := openSSE(t, n.srv.URL+"/workspace/"+string(e.wsID)+"/events?since=0&token="+e.token(e.viewer), nil)
	if wsResp.StatusCode != 200 {
		t.Fatalf("workspace stream: %d", wsResp.StatusCode)
	}
	if ready := nextSSE(t, wsEvents); ready.event != "ready" || !strings.Contains(ready.data, `"recovered":true`) {
		t.Fatalf("workspace ready %+v", ready)
	}
	first := nextSSE(t, wsEvents)
	if !strings.Contains(first.data, `"seq":1,`) {
		t.Fatalf("workspace replay starts with %s", first.data)
	}

	// Refusals are JSON with a status.
	for _, tc := range []struct {
		url  string
		code int
	}{
		{url, http.StatusUnauthorized},
		{url + "?token=bad", http.StatusUnauthorized},
		{url + "?since=x&token=" + e.token(e.viewer), http.StatusBadRequest},
		{n.srv.URL + "/chat/0123456789abcdef0123456789abcdef/events?token=" + e.token(e.viewer), http.StatusNotFound},
	} {
		resp, err := testHTTP.Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct{ Code, Message string }
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || body.Error.Message == "" {
			t.Fatalf("GET %s: %d %+v, want %d", tc.url, resp.StatusCode, body, tc.code)
		}
	}
}

func TestExpiringTokenAsksForRefreshThenDisconnects(t *testing.T) {
	t.Parallel()
	e := newEnv(t, echo.Config{Tokens: 3, Rate: -1})
	n := e.nodes[0]
	// A token that expires in five seconds (time to connect and refresh on
	// a loaded machine); the hub warns a minute ahead, so at once.
	short := workspaces.NewTokens([]byte(strings.Repeat("k", 32)), 5*time.Second, nil)
	tok, _, _ := short.Issue(e.member.ID)
	c := e.dial(n, "token="+tok)
	select {
	case f := <-c.other:
		if f.Type != "auth_expiring" || !strings.Contains(string(f.Data), "expires_at") {
			t.Fatalf("got %s %s", f.Type, f.Data)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no auth_expiring")
	}
	// Another user's token is not a refresh.
	mustFail(t, "refresh as someone else", c.send("refresh", map[string]any{"token": e.token(e.owner)}), "forbidden")
	select {
	case err := <-c.closed:
		if !strings.Contains(err.Error(), "auth_expired") {
			t.Fatalf("closed with %v, want auth_expired", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("not disconnected after the token expired")
	}

	// A client that refreshes stays connected past the first expiry.
	tok, exp, _ := short.Issue(e.member.ID)
	c = e.dial(n, "token="+tok)
	<-c.other
	mustOK(t, "refresh", c.send("refresh", map[string]any{"token": e.token(e.member)}))
	for time.Now().Before(exp.Add(500 * time.Millisecond)) {
		mustOK(t, "join while refreshed", c.send("join", map[string]any{"chat_id": e.chat}))
		select {
		case err := <-c.closed:
			t.Fatalf("refreshed client disconnected: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestSSEExpiringTokenAsksForAReconnect checks a read-only stream is not
// told to send a refresh it cannot send, and ends when its token does.
func TestSSEExpiringTokenAsksForAReconnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, echo.Config{Tokens: 3, Rate: -1})
	short := workspaces.NewTokens([]byte(strings.Repeat("k", 32)), 5*time.Second, nil)
	tok, _, _ := short.Issue(e.member.ID)
	_, events := openSSE(t, e.nodes[0].srv.URL+"/chat/"+string(e.chat)+"/events?token="+tok, nil)
	var got []string
	for ev := range events {
		got = append(got, ev.event)
		if ev.event == "auth_expiring" && !strings.Contains(ev.data, `"refresh_with":"reconnect"`) {
			t.Fatalf("auth_expiring %s, want refresh_with reconnect", ev.data)
		}
		if ev.event == "disconnect_reason" && !strings.Contains(ev.data, "auth_expired") {
			t.Fatalf("disconnect_reason %s, want auth_expired", ev.data)
		}
	}
	if !slices.Contains(got, "auth_expiring") || !slices.Contains(got, "disconnect_reason") {
		t.Fatalf("events %q, want auth_expiring and disconnect_reason before the end", got)
	}
}
