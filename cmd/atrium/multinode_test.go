package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
)

// liveClient is a minimal /ws client.
type liveClient struct {
	t      *testing.T
	conn   *websocket.Conn
	acks   chan json.RawMessage
	events chan map[string]any
	next   int
}

func dialLive(t *testing.T, base, token string) *liveClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws?token="+token, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	c := &liveClient{t: t, conn: conn, acks: make(chan json.RawMessage, 10), events: make(chan map[string]any, 10000)}
	go func() {
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				close(c.events)
				return
			}
			var f struct {
				Type string
				Data json.RawMessage
			}
			json.Unmarshal(data, &f)
			switch f.Type {
			case "ack":
				c.acks <- f.Data
			case "event":
				var ev map[string]any
				json.Unmarshal(f.Data, &ev)
				c.events <- ev
			}
		}
	}()
	t.Cleanup(func() { conn.CloseNow() })
	return c
}

func (c *liveClient) send(typ string, data map[string]any) map[string]any {
	c.t.Helper()
	c.next++
	raw, _ := json.Marshal(map[string]any{"type": typ, "id": c.next, "data": data})
	if err := c.conn.Write(context.Background(), websocket.MessageText, raw); err != nil {
		c.t.Fatal(err)
	}
	select {
	case a := <-c.acks:
		var ack map[string]any
		json.Unmarshal(a, &ack)
		if ack["ok"] != true {
			c.t.Fatalf("%s: %s", typ, a)
		}
		return ack
	case <-time.After(10 * time.Second):
		c.t.Fatalf("no ack to %s", typ)
	}
	return nil
}

// until returns the events up to the first of type typ.
func (c *liveClient) until(typ string) []map[string]any {
	c.t.Helper()
	var got []map[string]any
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatalf("connection closed after %d events", len(got))
			}
			got = append(got, ev)
			if ev["type"] == typ {
				return got
			}
		case <-timeout:
			c.t.Fatalf("no %s event after %d events", typ, len(got))
		}
	}
}

func seqOf(ev map[string]any) uint64 { return uint64(ev["seq"].(float64)) }

// resumeOn joins chat on the node at base with since last, and checks
// that every event after last comes, in order, to the run's end.
func resumeOn(t *testing.T, base, token, chat string, last uint64) {
	t.Helper()
	back := dialLive(t, base, token)
	ack := back.send("join", map[string]any{"chat_id": chat, "since": last})
	if ack["recovered"] != true {
		t.Fatalf("rejoin on %s = %v", base, ack)
	}
	for i, ev := range back.until("run.completed") {
		if seqOf(ev) != last+uint64(i)+1 {
			t.Fatalf("after resuming, event %d has seq %v, want %d", i, ev["seq"], last+uint64(i)+1)
		}
	}
}

// echoChat registers a user, makes a workspace with the echo agent attached
// and a chat in it, alternating between the nodes at a and b, and returns
// the user's token, the chat and a message string for it.
func echoChat(t *testing.T, a, b string) (token, chat, messageString string) {
	t.Helper()
	call(t, "POST", a+"/register", "", `{"email":"o@x.io","password":"pw-pw-pw-pw"}`)
	_, body := call(t, "POST", b+"/auth/login", "", `{"email":"o@x.io","password":"pw-pw-pw-pw"}`)
	token = body["access_token"].(string)
	_, body = call(t, "POST", a+"/workspace", token, `{"name":"W"}`)
	wsID := body["workspace"].(map[string]any)["workspace_id"].(string)
	_, body = call(t, "POST", b+"/chat?workspace_id="+wsID, token, "")
	chat = body["chat"].(map[string]any)["chat_id"].(string)
	st, body := call(t, "POST", a+"/api/agents/", token, `{"name":"Echo","model_id":"echo"}`)
	if st != 201 {
		t.Fatalf("create agent = %d %v", st, body)
	}
	if st, body := call(t, "POST", b+"/workspace/"+wsID+"/agent", token, fmt.Sprintf(`{"agent_id":%q}`, body["id"])); st != 200 {
		t.Fatalf("attach = %d %v", st, body)
	}
	_, body = call(t, "GET", a+"/chat/authorize/message?chat_id="+chat, token, "")
	return token, chat, body["message_string"].(string)
}

// Two `atrium serve` processes sharing one NATS and one PostgreSQL behave as
// one: a client on either sees every event of every run, whichever node's
// runner took it, and a client of a node that stops resumes on the other.
func TestTwoNodesShareNATSAndDatabase(t *testing.T) {
	t.Parallel()
	dbURL := sqldbtest.URL(t)
	if dbURL == "" {
		t.Skip("two processes share a database only on PostgreSQL: set ATRIUM_TEST_DATABASE_URL (CI does)")
	}
	ctx := context.Background()
	nats, err := bus.Start(ctx, bus.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nats.Close() })
	envFor := func() []string {
		return []string{
			"ATRIUM_ADDR=127.0.0.1:0", "ATRIUM_DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + dbURL,
			"NATS_URL=" + nats.ClientURL(), "ATRIUM_LOG_LEVEL=warn", "ATRIUM_JWT_SECRET=" + strings.Repeat("s", 32),
			"ATRIUM_ECHO_RATE=100", "ATRIUM_ECHO_TOKENS=60",
		}
	}
	a := startNode(t, envFor())
	b := startNode(t, envFor())

	token, chat, ms := echoChat(t, a.url, b.url)

	onA, onB := dialLive(t, a.url, token), dialLive(t, b.url, token)
	onA.send("join", map[string]any{"chat_id": chat})
	onB.send("join", map[string]any{"chat_id": chat})
	onA.send("message", map[string]any{"chat_id": chat, "message_string": ms, "content": "first"})
	gotA, gotB := onA.until("run.completed"), onB.until("run.completed")
	// Align on the message (the presence events before it differ by node).
	trim := func(evs []map[string]any) string {
		for i, ev := range evs {
			if ev["type"] == "message.created" {
				raw, _ := json.Marshal(evs[i:])
				return string(raw)
			}
		}
		return ""
	}
	if trim(gotA) == "" || trim(gotA) != trim(gotB) {
		t.Fatalf("the nodes delivered different streams:\nA %s\nB %s", trim(gotA), trim(gotB))
	}

	// Node A stops mid-run; its client resumes on B with no gap.
	onA.send("message", map[string]any{"chat_id": chat, "message_string": ms, "content": "second"})
	seen := onA.until("run.delta")
	last := seqOf(seen[len(seen)-1])
	a.stop(t)
	resumeOn(t, b.url, token, chat, last)
	// The answer is stored, whichever runner finished it.
	st, body := call(t, "GET", b.url+"/chat/"+chat+"/messages", token, "")
	if msgs, _ := body["messages"].([]any); st != 200 || len(msgs) != 4 {
		t.Fatalf("history = %d %v", st, body)
	}
}
