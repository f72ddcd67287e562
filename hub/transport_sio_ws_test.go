package hub_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/atrium-hq/atrium/agents/provider/echo"
	"github.com/atrium-hq/atrium/hub"
)

// sioWS is a Socket.IO client speaking the protocol by hand over WebSocket.
type sioWS struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialSIOWS(t *testing.T, n *node) (*sioWS, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(n.srv.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &sioWS{t: t, conn: conn}
	open := c.read()
	var o map[string]any
	if open[0] != '0' || json.Unmarshal([]byte(open[1:]), &o) != nil || o["sid"] == "" {
		t.Fatalf("open packet %q", open)
	}
	return c, o
}

func (c *sioWS) send(s string) {
	c.t.Helper()
	if err := c.conn.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *sioWS) read() string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := c.conn.Read(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

// expect reads packets until one starts with prefix, answering the
// server's pings on the way as a client does (unless a ping is expected).
func (c *sioWS) expect(prefix string) string {
	c.t.Helper()
	for {
		p := c.read()
		if strings.HasPrefix(p, prefix) {
			return p
		}
		if p == "2" {
			c.send("3")
		}
	}
}

func TestSocketIOOverWebSocketNatively(t *testing.T) {
	e := newEnvWith(t, echo.Config{Tokens: 3, Rate: -1}, hub.Config{SendQueue: 64, PingInterval: 200 * time.Millisecond})
	n := e.nodes[0]
	c, open := dialSIOWS(t, n)
	if open["pingInterval"] != float64(200) || open["maxPayload"] == nil {
		t.Fatalf("open %v", open)
	}

	// An event before CONNECT is answered, not left waiting.
	c.send(`427["join",{"chat_id":"x"}]`)
	if p := c.expect("437["); !strings.Contains(p, `"code":"unauthenticated"`) {
		t.Fatalf("ack before connect %q", p)
	}

	// Bad credentials, another namespace: CONNECT_ERROR; the client may retry.
	c.send(`40{"token":"nope"}`)
	if p := c.expect("44"); !strings.Contains(p, `"code":"unauthenticated"`) {
		t.Fatalf("connect error %q", p)
	}
	c.send(`40/admin,{"token":"x"}`)
	if p := c.expect("44/admin,"); !strings.Contains(p, "Invalid namespace") {
		t.Fatalf("namespace error %q", p)
	}
	c.send(`40{"token":"` + e.token(e.owner) + `"}`)
	c.expect("40{")

	// The server pings; an answered ping keeps the connection.
	c.expect("2")
	c.send("3")

	// Events with acks, in order; a bad event gets an error ack.
	c.send(`421["join",{"chat_id":"` + string(e.chat) + `"}]`)
	var ack []map[string]any
	if p := c.expect("431"); json.Unmarshal([]byte(p[3:]), &ack) != nil || ack[0]["ok"] != true {
		t.Fatalf("join ack %q", p)
	}
	c.send(`422{"not":"an array"}`)
	if p := c.expect("432"); !strings.Contains(p, `"ok":false`) {
		t.Fatalf("bad event ack %q", p)
	}
	c.send(`423["message",{"chat_id":"` + string(e.chat) + `","message_string":"` + e.messageString(e.owner) + `","content":"hi"}]`)
	for {
		if p := c.expect(`42["event",{"seq":`); strings.Contains(p, `"type":"run.completed"`) {
			break
		}
	}

	// DISCONNECT from the client closes the connection.
	c.send("41")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err := c.conn.Read(ctx); err != nil {
			break
		}
	}

	// A client closed by the server hears why, then DISCONNECT.
	c2, _ := dialSIOWS(t, n)
	c2.send(`40{"token":"` + e.token(e.member) + `"}`)
	c2.expect("40{")
	go n.hub.Close()
	if p := c2.expect(`42["disconnect_reason"`); !strings.Contains(p, "server_shutdown") {
		t.Fatalf("reason %q", p)
	}
	c2.expect("41")
}
