package hub_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/echo"
	"github.com/atrium-hq/atrium/persistence/bus"
)

// secondNode starts another hub and runner on their own NATS connection to
// the env's NATS, as a second Atrium process would.
func (e *env) secondNode(cfg echo.Config) *node {
	e.t.Helper()
	b, err := bus.Start(context.Background(), bus.Config{URL: e.nats.ClientURL()})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { b.Close() })
	return e.addNode(b, cfg)
}

func TestTwoNodesDeliverTheSameStream(t *testing.T) {
	t.Parallel()
	cfg := echo.Config{Tokens: 40, Rate: 400}
	e := newEnv(t, cfg)
	a, b := e.nodes[0], e.secondNode(cfg)

	onA := e.dial(a, "token="+e.token(e.member))
	onB := e.dial(b, "token="+e.token(e.viewer))
	ackA := mustOK(t, "join on A", onA.send("join", map[string]any{"chat_id": e.chat}))
	ackB := mustOK(t, "join on B", onB.send("join", map[string]any{"chat_id": e.chat}))
	// Presence is shared: B's ack lists the member connected to A.
	if len(ackB.Presence) != 2 || !strings.Contains(string(ackB.Presence[0])+string(ackB.Presence[1]), "member@x.io") {
		t.Fatalf("presence on B = %s (A's was %d people)", ackB.Presence, len(ackA.Presence))
	}

	// Several messages, sent on both nodes; runners on both nodes take them.
	for i, n := range []*node{a, b, a, b} {
		sender := e.dial(n, "token="+e.token(e.owner))
		mustOK(t, "message", sender.send("message", map[string]any{"chat_id": e.chat, "message_string": e.messageString(e.owner), "content": "m" + string(rune('0'+i))}))
	}
	completed := 0
	stop := func(ev agents.Envelope) bool {
		if ev.Type == agents.EventRunCompleted {
			completed++
		}
		return completed == 4
	}
	gotA := onA.until(stop)
	completed = 0
	gotB := onB.until(stop)
	// Both nodes delivered the same events in the same order.
	n := min(len(gotA), len(gotB))
	trimmed := func(evs []agents.Envelope) []string {
		var out []string
		for _, ev := range evs {
			if ev.Seq > max(gotA[0].Seq, gotB[0].Seq) && ev.Seq <= min(gotA[n-1].Seq, gotB[n-1].Seq) {
				out = append(out, string(ev.Type)+string(ev.Data))
			}
		}
		return out
	}
	if strings.Join(trimmed(gotA), "\n") != strings.Join(trimmed(gotB), "\n") {
		t.Fatalf("node A and node B delivered different streams")
	}
	for _, evs := range [][]agents.Envelope{gotA, gotB} {
		for i := 1; i < len(evs); i++ {
			if evs[i].Seq != evs[i-1].Seq+1 {
				t.Fatalf("gap: seq %d after %d", evs[i].Seq, evs[i-1].Seq)
			}
		}
	}
}

func TestResumeOnAnotherNodeAfterTheFirstStops(t *testing.T) {
	t.Parallel()
	cfg := echo.Config{Tokens: 60, Rate: 200}
	e := newEnv(t, cfg)
	a, b := e.nodes[0], e.secondNode(cfg)
	watcher := e.dial(b, "token="+e.token(e.owner))
	mustOK(t, "join", watcher.send("join", map[string]any{"chat_id": e.chat}))
	onA := e.dial(a, "token="+e.token(e.member))
	mustOK(t, "join", onA.send("join", map[string]any{"chat_id": e.chat}))
	mustOK(t, "message", onA.send("message", map[string]any{"chat_id": e.chat, "message_string": e.messageString(e.member), "content": "survive"}))
	seen := onA.until(isType(agents.EventRunDelta))
	last := seen[len(seen)-1].Seq

	// Node A's hub goes away; its client comes back on B.
	a.hub.Close()
	a.srv.Close()
	back := e.dial(b, "token="+e.token(e.member))
	ack := mustOK(t, "rejoin on B", back.send("join", map[string]any{"chat_id": e.chat, "since": last}))
	if !ack.Recovered {
		t.Fatalf("rejoin = %+v", ack)
	}
	got := back.until(isType(agents.EventRunCompleted))
	for i, ev := range got {
		if ev.Seq != last+uint64(i)+1 {
			t.Fatalf("event %d after resuming has seq %d, want %d", i, ev.Seq, last+uint64(i)+1)
		}
	}
	full := watcher.until(isType(agents.EventRunCompleted))
	if full[len(full)-1].Seq != got[len(got)-1].Seq {
		t.Fatalf("the resumed client ended at %d, the watcher at %d", got[len(got)-1].Seq, full[len(full)-1].Seq)
	}
}

// TestPresenceAcrossNodesIsOnePerson checks presence events count people,
// not nodes: a user watching a chat on two nodes joins once, stays when
// they leave one node, and leaves when they leave the last; a rejoin on
// the same connection is neither.
func TestPresenceAcrossNodesIsOnePerson(t *testing.T) {
	t.Parallel()
	e := newEnv(t, echo.Config{Tokens: 3, Rate: -1})
	a, b := e.nodes[0], e.addNode(e.nats, echo.Config{Tokens: 3, Rate: -1})
	watcher := e.dial(a, "token="+e.token(e.owner))
	// A join's or leave's presence event is published after its ack: the
	// test waits for each one it expects before the next step.
	var got []string
	collect := func(typ agents.EventType) {
		t.Helper()
		for _, ev := range watcher.until(isType(typ)) {
			if ev.Type == agents.EventPresenceJoined || ev.Type == agents.EventPresenceLeft {
				var d struct {
					User struct {
						Email string `json:"email"`
					} `json:"user"`
				}
				json.Unmarshal(ev.Data, &d)
				got = append(got, string(ev.Type)+" "+d.User.Email)
			}
		}
	}
	mustOK(t, "join", watcher.send("join", map[string]any{"chat_id": e.chat}))
	collect(agents.EventPresenceJoined)
	onA := e.dial(a, "token="+e.token(e.member))
	onB := e.dial(b, "token="+e.token(e.member))
	mustOK(t, "member joins on A", onA.send("join", map[string]any{"chat_id": e.chat}))
	collect(agents.EventPresenceJoined)
	mustOK(t, "member joins on B", onB.send("join", map[string]any{"chat_id": e.chat}))
	mustOK(t, "member leaves A", onA.send("leave", map[string]any{"chat_id": e.chat}))
	mustOK(t, "member leaves B", onB.send("leave", map[string]any{"chat_id": e.chat}))
	collect(agents.EventPresenceLeft)
	// Joining again what one watches is no leaving and arriving.
	mustOK(t, "owner joins again", watcher.send("join", map[string]any{"chat_id": e.chat}))
	// Then a marker, so everything before it has arrived.
	mustOK(t, "typing", watcher.send("typing", map[string]any{"chat_id": e.chat}))
	collect(agents.EventTyping)
	want := []string{"presence.joined owner@x.io", "presence.joined member@x.io", "presence.left member@x.io"}
	if !slices.Equal(got, want) {
		t.Fatalf("presence events %q, want %q", got, want)
	}
}
