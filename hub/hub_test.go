package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/echo"
	"github.com/atrium-hq/atrium/hub"
	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

type models map[string]agents.Provider

func (m models) Provider(name string) (agents.Provider, string, bool) {
	p, ok := m[name]
	return p, name, ok
}

// node is one Atrium node's live side: a hub and a runner over a shared
// database and NATS.
type node struct {
	hub  *hub.Hub
	srv  *httptest.Server
	conv *agents.Conversations
}

// env is a database, a NATS, and a workspace with an owner, a member, a
// viewer, one chat, and an echo agent attached.
type env struct {
	t      *testing.T
	db     *sqldb.DB
	nats   *bus.Bus
	ws     *workspaces.Service
	tokens *workspaces.Tokens
	nodes  []*node
	hubCfg hub.Config
	// perChat is the chat log's window (0: its default).
	perChat int64
	// presenceTTL is the presence table's (0: its default).
	presenceTTL time.Duration

	owner, member, viewer workspaces.User
	wsID                  workspaces.WorkspaceID
	chat                  workspaces.ChatID
}

func newEnv(t *testing.T, echoCfg echo.Config) *env {
	t.Helper()
	return newEnvWith(t, echoCfg, hub.Config{SendQueue: 4096, MaxFrameBytes: 16 << 10})
}

// newEnvWith is newEnv with the hubs configured by cfg, and the env by opts
// before its first node starts.
func newEnvWith(t *testing.T, echoCfg echo.Config, cfg hub.Config, opts ...func(*env)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, db: sqldbtest.Open(t), hubCfg: cfg}
	for _, o := range opts {
		o(e)
	}
	b, err := bus.Start(ctx, bus.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	e.nats = b
	access := b.Access()
	e.ws = workspaces.New(e.db, workspaces.Config{AccessChanged: func(ws workspaces.WorkspaceID, user workspaces.UserID) {
		if err := access.Changed(string(ws), string(user)); err != nil {
			t.Errorf("access notice: %v", err)
		}
	}})
	e.tokens = workspaces.NewTokens([]byte(strings.Repeat("k", 32)), time.Hour, nil)
	e.addNode(b, echoCfg)

	ag := agents.New(e.db, e.ws)
	e.owner, _ = e.ws.Register(ctx, "owner@x.io", "pw")
	e.member, _ = e.ws.Register(ctx, "member@x.io", "pw")
	e.viewer, _ = e.ws.Register(ctx, "viewer@x.io", "pw")
	w, _ := e.ws.CreateWorkspace(ctx, e.owner.ID, "Team")
	e.wsID = w.ID
	if _, err := e.ws.AddMember(ctx, e.owner.ID, w.ID, "member@x.io", workspaces.RoleMember); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ws.AddMember(ctx, e.owner.ID, w.ID, "viewer@x.io", workspaces.RoleViewer); err != nil {
		t.Fatal(err)
	}
	c, _, err := e.ws.CreateChat(ctx, e.owner.ID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.chat = c.ID
	a, err := ag.Create(ctx, e.owner.ID, agents.NewAgent{Name: "Echo", ModelID: echo.Name})
	if err != nil {
		t.Fatal(err)
	}
	if err := ag.Attach(ctx, e.owner.ID, w.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	return e
}

// addNode starts a hub and a runner connected to NATS through b.
func (e *env) addNode(b *bus.Bus, echoCfg echo.Config) *node {
	t := e.t
	ctx, cancel := context.WithCancel(context.Background())
	log, err := b.ChatLog(ctx, bus.ChatLogConfig{PerChat: e.perChat})
	if err != nil {
		t.Fatal(err)
	}
	queue, err := b.RunQueue(ctx, bus.RunQueueConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pres, err := b.Presence(ctx, e.presenceTTL)
	if err != nil {
		t.Fatal(err)
	}
	conv := agents.NewConversations(e.db, e.ws, agents.NewEvents(log), queue, b.Conn, agents.ConversationsConfig{MaxContentBytes: 4096})
	runner := agents.NewRunner(conv, queue, agents.RunnerConfig{Models: models{echo.Name: echo.New(echoCfg)}})
	done := make(chan struct{})
	go func() { runner.Run(ctx); close(done) }()
	h := hub.New(hub.Deps{Workspaces: e.ws, Conversations: conv, Tokens: e.tokens, Presence: pres, Access: b.Access()}, e.hubCfg)
	mux := http.NewServeMux()
	for _, p := range hub.Patterns {
		mux.Handle(p, h.Handler())
	}
	srv := httptest.NewServer(mux)
	n := &node{hub: h, srv: srv, conv: conv}
	t.Cleanup(func() {
		h.Close()
		srv.Close()
		cancel()
		<-done
	})
	e.nodes = append(e.nodes, n)
	return n
}

func (e *env) token(u workspaces.User) string {
	tok, _, err := e.tokens.Issue(u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *env) messageString(u workspaces.User) string {
	g, err := e.ws.AuthorizeMessage(context.Background(), u.ID, e.chat)
	if err != nil {
		e.t.Fatal(err)
	}
	return g.Token
}

// wsClient is a /ws client that sorts what it receives into acks and events.
type wsClient struct {
	t      *testing.T
	conn   *websocket.Conn
	acks   chan frame
	events chan agents.Envelope
	other  chan frame
	closed chan error
	nextID atomic.Int64
}

type frame struct {
	Type string          `json:"type"`
	ID   json.RawMessage `json:"id"`
	Data json.RawMessage `json:"data"`
}

func (e *env) dial(n *node, query string) *wsClient {
	e.t.Helper()
	c, err := e.tryDial(n, query)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) tryDial(n *node, query string) (*wsClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(n.srv.URL, "http")+"/ws?"+query, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	c := &wsClient{t: e.t, conn: conn, acks: make(chan frame, 100), events: make(chan agents.Envelope, 10000), other: make(chan frame, 100), closed: make(chan error, 1)}
	go func() {
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				c.closed <- err
				return
			}
			var f frame
			if err := json.Unmarshal(data, &f); err != nil {
				c.closed <- fmt.Errorf("server sent non-JSON %q", data)
				return
			}
			switch f.Type {
			case "ack":
				c.acks <- f
			case "event":
				var env agents.Envelope
				json.Unmarshal(f.Data, &env)
				c.events <- env
			default:
				c.other <- f
			}
		}
	}()
	e.t.Cleanup(func() { conn.CloseNow() })
	return c, nil
}

// ack is one acknowledgement.
type ack struct {
	OK    bool `json:"ok"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Seq       uint64            `json:"seq"`
	Cursor    uint64            `json:"cursor"`
	Recovered bool              `json:"recovered"`
	Presence  []json.RawMessage `json:"presence"`
	MessageID string            `json:"message_id"`
	Runs      []string          `json:"runs"`
	Duplicate bool              `json:"duplicate"`
	Status    string            `json:"status"`
	Throttled bool              `json:"throttled"`
}

// send sends a request and waits for its ack.
func (c *wsClient) send(typ string, data any) ack {
	c.t.Helper()
	raw, _ := json.Marshal(data)
	return c.sendRaw(fmt.Sprintf(`{"type":%q,"id":%d,"data":%s}`, typ, c.nextID.Add(1), raw))
}

func (c *wsClient) sendRaw(text string) ack {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
		c.t.Fatal(err)
	}
	select {
	case f := <-c.acks:
		var a ack
		if err := json.Unmarshal(f.Data, &a); err != nil {
			c.t.Fatalf("ack %s: %v", f.Data, err)
		}
		return a
	case err := <-c.closed:
		c.t.Fatalf("connection closed waiting for an ack to %s: %v", text, err)
	case <-ctx.Done():
		c.t.Fatalf("no ack to %s", text)
	}
	return ack{}
}

// until collects events up to and including the first for which stop is true.
func (c *wsClient) until(stop func(agents.Envelope) bool) []agents.Envelope {
	c.t.Helper()
	var got []agents.Envelope
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-c.events:
			got = append(got, e)
			if stop(e) {
				return got
			}
		case err := <-c.closed:
			c.t.Fatalf("connection closed after %d events: %v", len(got), err)
		case <-timeout:
			c.t.Fatalf("timed out after %d events: %+v", len(got), got)
		}
	}
}

func isType(t agents.EventType) func(agents.Envelope) bool {
	return func(e agents.Envelope) bool { return e.Type == t }
}

func mustOK(t *testing.T, what string, a ack) ack {
	t.Helper()
	if !a.OK {
		t.Fatalf("%s: %+v", what, a.Error)
	}
	return a
}

func mustFail(t *testing.T, what string, a ack, code string) {
	t.Helper()
	if a.OK || a.Error == nil || a.Error.Code != code || a.Error.Message == "" {
		t.Fatalf("%s: ack %+v, want error %s", what, a, code)
	}
}
