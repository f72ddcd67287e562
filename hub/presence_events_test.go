package hub_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/echo"
	"github.com/atrium-hq/atrium/hub"
	"github.com/atrium-hq/atrium/persistence/bus"
)

// presenceOf is "<type> <email> <chat_id>" of a presence event, else "".
func presenceOf(ev agents.Envelope) string {
	if ev.Type != agents.EventPresenceJoined && ev.Type != agents.EventPresenceLeft {
		return ""
	}
	var d struct {
		User struct {
			Email string `json:"email"`
		} `json:"user"`
	}
	json.Unmarshal(ev.Data, &d)
	return string(ev.Type) + " " + d.User.Email + " " + ev.ChatID
}

// presenceEvents collects the presence events c receives until it gets a
// typing event (a marker sent after what is being checked).
func presenceEvents(c *wsClient) []string {
	var got []string
	for _, ev := range c.until(isType(agents.EventTyping)) {
		if p := presenceOf(ev); p != "" {
			got = append(got, p)
		}
	}
	return got
}

// TestWorkspacePresenceEvents checks that people starting and stopping to
// watch a whole workspace are events for the workspace's watchers (with
// chat_id ""), numbered among the workspace's own, and not for the
// watchers of its chats.
func TestWorkspacePresenceEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, echo.Config{Tokens: 3, Rate: -1})
	a := e.nodes[0]
	owner := e.dial(a, "token="+e.token(e.owner))
	// Each connection publishes its presence event after its ack, so the
	// test waits for each one before the next connection acts: their
	// order is then the order of the steps.
	var got []string
	next := func(typ agents.EventType) {
		t.Helper()
		evs := owner.until(isType(typ))
		for _, ev := range evs {
			if p := presenceOf(ev); p != "" {
				got = append(got, p)
			}
		}
	}
	mustOK(t, "owner joins the workspace", owner.send("join_workspace", map[string]any{"workspace_id": e.wsID}))
	next(agents.EventPresenceJoined)
	inChat := e.dial(a, "token="+e.token(e.owner))
	mustOK(t, "owner joins the chat", inChat.send("join", map[string]any{"chat_id": e.chat}))
	next(agents.EventPresenceJoined)

	member := e.dial(a, "token="+e.token(e.member))
	ack := mustOK(t, "member joins the workspace", member.send("join_workspace", map[string]any{"workspace_id": e.wsID}))
	if len(ack.Presence) != 2 {
		t.Fatalf("presence in the ack = %s, want the owner and the member", ack.Presence)
	}
	next(agents.EventPresenceJoined)
	// A second connection of the member is no new arrival.
	again := e.dial(a, "token="+e.token(e.member))
	mustOK(t, "member joins on a second connection", again.send("join_workspace", map[string]any{"workspace_id": e.wsID}))
	mustOK(t, "second connection leaves", again.send("leave", map[string]any{"workspace_id": e.wsID}))
	mustOK(t, "member leaves", member.send("leave", map[string]any{"workspace_id": e.wsID}))
	next(agents.EventPresenceLeft)
	mustOK(t, "typing", inChat.send("typing", map[string]any{"chat_id": e.chat}))
	got = append(got, presenceEvents(owner)...) // nothing more before the typing

	want := []string{
		"presence.joined owner@x.io ",                  // the watcher's own arrival
		"presence.joined owner@x.io " + string(e.chat), // the chat's, which workspace watchers see too
		"presence.joined member@x.io ",
		"presence.left member@x.io ",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the workspace watcher got %q, want %q", got, want)
	}
	if got := presenceEvents(inChat); !slices.Equal(got, want[1:2]) {
		t.Fatalf("the chat watcher got %q, want only its chat's %q", got, want[1:2])
	}
}

// TestPresenceLeftWhenANodeDies checks that the people watching through a
// node that dies (it stops rewriting its presence entries without deleting
// them) are announced as gone, once, by the nodes that are left, once
// their entries expire; those still present on another node stay.
func TestPresenceLeftWhenANodeDies(t *testing.T) {
	t.Parallel()
	// Short, so B's entries expire soon; long enough that A, rewriting its
	// own every third of it, never misses one on a loaded machine.
	const presenceTTL = 3 * time.Second
	e := newEnvWith(t, echo.Config{Tokens: 3, Rate: -1}, hub.Config{SendQueue: 4096, MaxFrameBytes: 16 << 10},
		func(e *env) { e.presenceTTL = presenceTTL })
	a := e.nodes[0]
	// Node B: a hub whose presence goes through a NATS connection of its
	// own, the one its "death" closes; it publishes through A's chat log.
	ctx := context.Background()
	pb, err := bus.Start(ctx, bus.Config{URL: e.nats.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pb.Close() })
	pres, err := pb.Presence(ctx, presenceTTL)
	if err != nil {
		t.Fatal(err)
	}
	hb := hub.New(hub.Deps{Workspaces: e.ws, Conversations: a.conv, Tokens: e.tokens, Presence: pres}, hub.Config{Node: "b"})
	mux := http.NewServeMux()
	for _, p := range hub.Patterns {
		mux.Handle(p, hb.Handler())
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { hb.Close(); srv.Close() })
	b := &node{hub: hb, srv: srv, conv: a.conv}

	watcher := e.dial(a, "token="+e.token(e.owner))
	mustOK(t, "watcher joins the workspace", watcher.send("join_workspace", map[string]any{"workspace_id": e.wsID}))
	marker := e.dial(a, "token="+e.token(e.owner))
	mustOK(t, "owner joins the chat", marker.send("join", map[string]any{"chat_id": e.chat}))
	onB := e.dial(b, "token="+e.token(e.member))
	mustOK(t, "member joins the chat on B", onB.send("join", map[string]any{"chat_id": e.chat}))
	mustOK(t, "member joins the workspace on B", onB.send("join_workspace", map[string]any{"workspace_id": e.wsID}))
	// The viewer watches the chat on both nodes: B's death is not theirs.
	for _, n := range []*node{a, b} {
		v := e.dial(n, "token="+e.token(e.viewer))
		mustOK(t, "viewer joins the chat", v.send("join", map[string]any{"chat_id": e.chat}))
	}

	pb.Conn.Close() // B can no longer rewrite (or delete) its entries
	// Wait until both of them are announced gone, then a marker.
	var left []string
	watcher.until(func(ev agents.Envelope) bool {
		if ev.Type == agents.EventPresenceLeft {
			left = append(left, presenceOf(ev))
		}
		return len(left) == 2
	})
	slices.Sort(left)
	if want := []string{"presence.left member@x.io ", "presence.left member@x.io " + string(e.chat)}; !slices.Equal(left, want) {
		t.Fatalf("left %q, want %q", left, want)
	}
	// Every entry of B has expired (the viewer's too) before the marker.
	table, err := e.nats.Presence(ctx, presenceTTL)
	if err != nil {
		t.Fatal(err)
	}
	for {
		entries, err := table.List(ctx, "*.*.b.*")
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mustOK(t, "typing", marker.send("typing", map[string]any{"chat_id": e.chat}))
	if got := presenceEvents(watcher); len(got) != 0 {
		t.Fatalf("after both leaves, more presence events: %q", got)
	}
}
