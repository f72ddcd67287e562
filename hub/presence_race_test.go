package hub

import (
	"context"
	"slices"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// TestPresenceJoinAfterItsLeave checks the pairing of a watch's presence
// join and leave when a disconnect takes the watch before its presence
// join: the join is undone, and the user's other connection keeps its
// count.
func TestPresenceJoinAfterItsLeave(t *testing.T) {
	h := testHub()
	h.presence = newPresence(h, nil)
	var announced []string
	h.presence.publish = func(ws workspaces.WorkspaceID, chat workspaces.ChatID, typ agents.EventType, user workspaces.UserID, email string) {
		announced = append(announced, string(typ)+" "+string(user))
	}
	ctx := context.Background()
	const key = "workspace.w1"
	count := func() int {
		if u := h.presence.local[key]["u1"]; u != nil {
			return u.n
		}
		return 0
	}
	other := &client{h: h, user: "u1"}
	ow := &watch{ws: "w1"}
	if first, ok := other.joinPresence(ctx, key, ow); !first || !ok {
		t.Fatalf("the first connection's join = %t, %t", first, ok)
	}

	c := &client{h: h, user: "u1"}
	w := &watch{ws: "w1"}
	c.leftPresence(w) // the disconnect, before the join got to presence
	if n := count(); n != 1 {
		t.Fatalf("after the early leave the user counts %d connections, want 1", n)
	}
	if _, ok := c.joinPresence(ctx, key, w); ok {
		t.Fatal("a join after its watch's leave succeeded")
	}
	if n := count(); n != 1 {
		t.Fatalf("after the late join the user counts %d connections, want 1", n)
	}

	// A watch left twice (a disconnect racing an unwatch) leaves once.
	w2 := &watch{ws: "w1"}
	if _, ok := c.joinPresence(ctx, key, w2); !ok {
		t.Fatal("join failed")
	}
	c.leftPresence(w2)
	c.leftPresence(w2)
	if n := count(); n != 1 {
		t.Fatalf("after a double leave the user counts %d connections, want 1", n)
	}
	other.leftPresence(ow)
	if n := count(); n != 0 {
		t.Fatalf("after every leave the user counts %d connections, want 0", n)
	}
	// The joins above are announced by their callers (joinWorkspace, once
	// the ack is out); the leave of the last connection is announced here.
	if !slices.Equal(announced, []string{"presence.left u1"}) {
		t.Fatalf("announced %q, want one presence.left", announced)
	}
}
