package hub_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/echo"
	"github.com/atrium-hq/atrium/hub"
	"github.com/atrium-hq/atrium/workspaces"
)

func summary(evs []agents.Envelope) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e.Type) + ":" + string(e.Data)
	}
	return out
}

func TestThreeRolesSeeTheSameRunInTheSameOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, echo.Config{Tokens: 40, Rate: -1})
	n := e.nodes[0]
	owner := e.dial(n, "token="+e.token(e.owner))
	member := e.dial(n, "token="+e.token(e.member))
	viewer := e.dial(n, "token="+e.token(e.viewer))
	for _, c := range []*wsClient{owner, member, viewer} {
		a := mustOK(t, "join", c.send("join", map[string]any{"chat_id": e.chat}))
		if a.Recovered {
			t.Fatal("join without since says recovered")
		}
	}
	// Drain the presence events of the joins.
	owner.until(func(ev agents.Envelope) bool {
		return ev.Type == agents.EventPresenceJoined && strings.Contains(string(ev.Data), "viewer@")
	})

	// The viewer cannot get a message string, nor use someone else's.
	if _, err := e.ws.AuthorizeMessage(context.Background(), e.viewer.ID, e.chat); workspaces.ErrorKind(err) != workspaces.KindForbidden {
		t.Fatalf("viewer got a message string: %v", err)
	}
	ms := e.messageString(e.owner)
	mustFail(t, "viewer sending with the owner's string", viewer.send("message", map[string]any{"chat_id": e.chat, "message_string": ms, "content": "hi"}), "forbidden")
	mustFail(t, "no message string", member.send("message", map[string]any{"chat_id": e.chat, "content": "hi"}), "unauthenticated")
	mustFail(t, "a wrong message string", member.send("message", map[string]any{"chat_id": e.chat, "message_string": "atm_nope", "content": "hi"}), "unauthenticated")

	a := mustOK(t, "message", owner.send("message", map[string]any{"chat_id": e.chat, "message_string": ms, "content": "hello everyone", "client_id": "m1"}))
	if a.MessageID == "" || len(a.Runs) != 1 {
		t.Fatalf("message ack = %+v", a)
	}
	var runs [3][]agents.Envelope
	for i, c := range []*wsClient{owner, member, viewer} {
		runs[i] = c.until(isType(agents.EventRunCompleted))
		// Presence events that were still queued for this client come first.
		for len(runs[i]) > 0 && runs[i][0].Type != agents.EventMessageCreated {
			runs[i] = runs[i][1:]
		}
	}
	want := summary(runs[0])
	for i := 1; i < 3; i++ {
		got := summary(runs[i])
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("client %d saw\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	ev := runs[0]
	for i := 1; i < len(ev); i++ {
		if ev[i].Seq != ev[i-1].Seq+1 {
			t.Fatalf("seq %d follows %d", ev[i].Seq, ev[i-1].Seq)
		}
	}
	var text strings.Builder
	for _, x := range ev {
		if x.Type == agents.EventRunDelta {
			var d struct{ Text string }
			json.Unmarshal(x.Data, &d)
			text.WriteString(d.Text)
		}
	}
	if !strings.HasPrefix(text.String(), "This is the echo model") || !strings.Contains(text.String(), "hello everyone") {
		t.Fatalf("echo answer %q", text.String())
	}
	var created struct {
		Message struct {
			Author  struct{ Email string }
			Content string
		}
	}
	json.Unmarshal(ev[0].Data, &created)
	if created.Message.Author.Email != "owner@x.io" || created.Message.Content != "hello everyone" {
		t.Fatalf("message.created = %s", ev[0].Data)
	}
	// The same client id again is a duplicate, and nothing is published.
	if a := mustOK(t, "resend", owner.send("message", map[string]any{"chat_id": e.chat, "message_string": ms, "content": "hello everyone", "client_id": "m1"})); !a.Duplicate {
		t.Fatalf("resend ack = %+v", a)
	}
}

func TestRejoinWithSinceGetsExactlyTheMissedEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, echo.Config{Tokens: 30, Rate: 200})
	n := e.nodes[0]
	watcher := e.dial(n, "token="+e.token(e.member))
	mustOK(t, "join", watcher.send("join", map[string]any{"chat_id": e.chat}))
	leaver := e.dial(n, "token="+e.token(e.viewer))
	mustOK(t, "join", leaver.send("join", map[string]any{"chat_id": e.chat}))

	sender := e.dial(n, "token="+e.token(e.owner))
	mustOK(t, "message", sender.send("message", map[string]any{"chat_id": e.chat, "message_string": e.messageString(e.owner), "content": "resume me"}))

	// The leaver drops after a few deltas.
	seen := leaver.until(func(ev agents.Envelope) bool { return ev.Type == agents.EventRunDelta })
	last := seen[len(seen)-1].Seq
	leaver.conn.Close(websocket.StatusNormalClosure, "bye")

	full := watcher.until(isType(agents.EventRunCompleted))
	back := e.dial(n, "token="+e.token(e.viewer))
	a := mustOK(t, "rejoin", back.send("join", map[string]any{"chat_id": e.chat, "since": last}))
	if !a.Recovered || a.Seq < last {
		t.Fatalf("rejoin ack = %+v", a)
	}
	// Everything after last, with no gap and no duplicate, through the end of the run.
	got := back.until(isType(agents.EventRunCompleted))
	for i, ev := range got {
		if ev.Seq != last+uint64(i)+1 {
			t.Fatalf("replayed event %d has seq %d, want %d", i, ev.Seq, last+uint64(i)+1)
		}
	}
	var wantTail []agents.Envelope
	for _, ev := range full {
		if ev.Seq > last && ev.Type != agents.EventPresenceLeft && ev.Type != agents.EventPresenceJoined {
			wantTail = append(wantTail, ev)
		}
	}
	var gotRun []agents.Envelope
	for _, ev := range got {
		if ev.Type != agents.EventPresenceLeft && ev.Type != agents.EventPresenceJoined {
			gotRun = append(gotRun, ev)
		}
	}
	if strings.Join(summary(gotRun), "\n") != strings.Join(summary(wantTail), "\n") {
		t.Fatalf("replay\n%s\nwant\n%s", strings.Join(summary(gotRun), "\n"), strings.Join(summary(wantTail), "\n"))
	}

	// Joining with the latest seq replays nothing and is recovered.
	again := e.dial(n, "token="+e.token(e.viewer))
	a = mustOK(t, "join at head", again.send("join", map[string]any{"chat_id": e.chat, "since": a.Seq}))
	if !a.Recovered {
		t.Fatalf("join at head = %+v", a)
	}
}

func TestBadRequestsGetErrorAcks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, echo.Config{Tokens: 3, Rate: -1})
	n := e.nodes[0]
	c := e.dial(n, "token="+e.token(e.member))
	cases := []struct{ frame, code string }{
		{`not json`, "invalid"},
		{`[1,2]`, "invalid"},
		{`{"type":5,"id":1}`, "invalid"},
		{`{"id":1,"data":{}}`, "invalid"},
		{`{"type":"dance","id":1,"data":{}}`, "unknown_event"},
		{`{"type":"join","id":1}`, "invalid"},
		{`{"type":"join","id":1,"data":"x"}`, "invalid"},
		{`{"type":"join","id":1,"data":{"chat_id":7}}`, "invalid"},
		{`{"type":"join","id":1,"data":{"chat_id":"x","since":-1}}`, "invalid"},
		{`{"type":"join","id":1,"data":{"chat_id":""}}`, "invalid"},
		{`{"type":"join","id":1,"data":{"chat_id":"0123456789abcdef0123456789abcdef"}}`, "not_found"},
		{`{"type":"join_workspace","id":1,"data":{"workspace_id":"nope"}}`, "not_found"},
		{`{"type":"leave","id":1,"data":{"chat_id":"nope"}}`, "not_found"},
		{`{"type":"message","id":1,"data":{"chat_id":"x","message_string":["a"]}}`, "invalid"},
		{`{"type":"typing","id":1,"data":{"chat_id":"x"}}`, "forbidden"},
		{`{"type":"stop","id":1,"data":{"chat_id":"x"}}`, "invalid"},
		{`{"type":"refresh","id":1,"data":{}}`, "invalid"},
	}
	for _, tc := range cases {
		mustFail(t, tc.frame, c.sendRaw(tc.frame), tc.code)
	}
	// A message over the content limit is refused and not stored.
	ms := e.messageString(e.member)
	mustFail(t, "huge content", c.send("message", map[string]any{"chat_id": e.chat, "message_string": ms, "content": strings.Repeat("x", 5000)}), "too_large")
	msgs, _, err := e.nodes[0].conv.Messages(context.Background(), e.member.ID, e.chat, "", 10)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("stored %d messages after refusals (%v)", len(msgs), err)
	}
	// The connection still works.
	mustOK(t, "join after errors", c.send("join", map[string]any{"chat_id": e.chat}))
	// A frame over the size limit closes the connection with 1009.
	big := `{"type":"message","id":1,"data":{"content":"` + strings.Repeat("y", 20<<10) + `"}}`
	c.conn.Write(context.Background(), websocket.MessageText, []byte(big))
	select {
	case err := <-c.closed:
		if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
			t.Fatalf("closed with %v, want 1009", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an oversized frame did not close the connection")
	}
}

func TestConnectionStringJoinsItsChat(t *testing.T) {
	t.Parallel()
	e := newEnv(t, echo.Config{Tokens: 3, Rate: -1})
	n := e.nodes[0]
	g, err := e.ws.AuthorizeChat(context.Background(), e.viewer.ID, e.chat)
	if err != nil {
		t.Fatal(err)
	}
	c := e.dial(n, "connection_string="+g.Token)
	select {
	case f := <-c.other:
		var a ack
		json.Unmarshal(f.Data, &a)
		if f.Type != "joined" || !a.OK || len(a.Presence) != 1 {
			t.Fatalf("first frame %s %s", f.Type, f.Data)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no joined frame")
	}
	mustFail(t, "join a workspace with a connection string", c.send("join_workspace", map[string]any{"workspace_id": e.wsID}), "forbidden")

	// Bad credentials are refused before the upgrade.
	for _, q := range []string{"", "token=nope", "connection_string=atc_nope"} {
		if _, err := e.tryDial(n, q); err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("dial with %q: %v, want 401", q, err)
		}
	}
}

func TestStopCancelsTheRunForEveryone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, echo.Config{Tokens: 1000, Rate: 50})
	n := e.nodes[0]
	owner := e.dial(n, "token="+e.token(e.owner))
	viewer := e.dial(n, "token="+e.token(e.viewer))
	mustOK(t, "join", owner.send("join", map[string]any{"chat_id": e.chat}))
	mustOK(t, "join", viewer.send("join", map[string]any{"chat_id": e.chat}))
	a := mustOK(t, "message", owner.send("message", map[string]any{"chat_id": e.chat, "message_string": e.messageString(e.owner), "content": "long"}))
	owner.until(isType(agents.EventRunDelta))
	mustFail(t, "viewer stops", viewer.send("stop", map[string]any{"chat_id": e.chat, "run_id": a.Runs[0]}), "forbidden")
	mustOK(t, "owner stops", owner.send("stop", map[string]any{"chat_id": e.chat, "run_id": a.Runs[0]}))
	got := viewer.until(isType(agents.EventRunCancelled))
	if got[len(got)-1].RunID != a.Runs[0] {
		t.Fatalf("run.cancelled for %s", got[len(got)-1].RunID)
	}
}

func TestWorkspaceWatchersSeeEveryChat(t *testing.T) {
	t.Parallel()
	e := newEnv(t, echo.Config{Tokens: 3, Rate: -1})
	n := e.nodes[0]
	c := e.dial(n, "token="+e.token(e.viewer))
	a := mustOK(t, "join_workspace", c.send("join_workspace", map[string]any{"workspace_id": e.wsID}))
	// The watcher's own arrival, in the workspace itself (published after
	// the ack: waited for, so the message below comes after it).
	if own := c.until(isType(agents.EventPresenceJoined)); len(own) != 1 || own[0].ChatID != "" {
		t.Fatalf("first workspace events %+v, want the watcher's presence.joined", own)
	}
	sender := e.dial(n, "token="+e.token(e.owner))
	mustOK(t, "message", sender.send("message", map[string]any{"chat_id": e.chat, "message_string": e.messageString(e.owner), "content": "to the room"}))
	got := c.until(isType(agents.EventRunCompleted))
	for _, ev := range got {
		if ev.ChatID != string(e.chat) {
			t.Fatalf("workspace event %s for chat %q", ev.Type, ev.ChatID)
		}
	}
	// Typing reaches the workspace too, and is throttled.
	mustOK(t, "join", sender.send("join", map[string]any{"chat_id": e.chat}))
	mustOK(t, "typing", sender.send("typing", map[string]any{"chat_id": e.chat}))
	if a := mustOK(t, "typing again", sender.send("typing", map[string]any{"chat_id": e.chat})); !a.Throttled {
		t.Fatalf("second typing = %+v, want throttled", a)
	}
	c.until(isType(agents.EventTyping))
	_ = a
}

// TestRemovedMemberStopsWatchingAtOnce checks that access lost while
// connected ends the watches it allowed, on every node, without waiting
// for the credentials to expire: a token client is told which watch ended
// and keeps its connection; a connection-string client is disconnected
// with auth_revoked.
func TestRemovedMemberStopsWatchingAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, echo.Config{Tokens: 3, Rate: -1})
	a, b := e.nodes[0], e.addNode(e.nats, echo.Config{Tokens: 3, Rate: -1})
	ctx := context.Background()
	viewer := e.dial(b, "token="+e.token(e.viewer))
	mustOK(t, "join", viewer.send("join", map[string]any{"chat_id": e.chat}))
	mustOK(t, "join_workspace", viewer.send("join_workspace", map[string]any{"workspace_id": e.wsID}))
	g, err := e.ws.AuthorizeChat(ctx, e.member.ID, e.chat)
	if err != nil {
		t.Fatal(err)
	}
	member := e.dial(a, "connection_string="+g.Token)
	if f := <-member.other; f.Type != "joined" {
		t.Fatalf("first frame %s %s", f.Type, f.Data)
	}

	if err := e.ws.RemoveMember(ctx, e.owner.ID, e.wsID, e.viewer.ID); err != nil {
		t.Fatal(err)
	}
	ended := map[string]bool{}
	for len(ended) < 2 {
		select {
		case f := <-viewer.other:
			var d struct {
				ChatID      string `json:"chat_id"`
				WorkspaceID string `json:"workspace_id"`
				Reason      string `json:"reason"`
			}
			json.Unmarshal(f.Data, &d)
			if f.Type != "access_revoked" || d.WorkspaceID != string(e.wsID) || d.Reason == "" {
				t.Fatalf("viewer got %s %s, want access_revoked", f.Type, f.Data)
			}
			ended[d.ChatID] = true // "" for the workspace
		case err := <-viewer.closed:
			t.Fatalf("the viewer's connection closed: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatalf("the viewer was told of %d ended watches, want 2", len(ended))
		}
	}
	if !ended[string(e.chat)] || !ended[""] {
		t.Fatalf("ended watches %v, want the chat and the workspace", ended)
	}
	mustFail(t, "join after removal", viewer.send("join", map[string]any{"chat_id": e.chat}), "forbidden")

	// The member's connection string stops with its access.
	if err := e.ws.RemoveMember(ctx, e.owner.ID, e.wsID, e.member.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-member.closed:
		if websocket.CloseStatus(err) != 4003 {
			t.Fatalf("closed with %v, want 4003 (auth_revoked)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the removed member's connection stayed open")
	}

	// The owner's run reaches the owner, and nothing of it the viewer.
	owner := e.dial(a, "token="+e.token(e.owner))
	mustOK(t, "join", owner.send("join", map[string]any{"chat_id": e.chat}))
	mustOK(t, "message", owner.send("message", map[string]any{"chat_id": e.chat, "message_string": e.messageString(e.owner), "content": "hi"}))
	owner.until(isType(agents.EventRunCompleted))
	for {
		select {
		case ev := <-viewer.events:
			// Presence events from before the removal may still wait.
			if ev.Type == agents.EventMessageCreated || strings.HasPrefix(string(ev.Type), "run.") {
				t.Fatalf("the removed viewer got %s", ev.Type)
			}
			continue
		default:
		}
		break
	}
}

// TestWorkspaceResumeNeverReplaysAHole checks join_workspace's since: the
// log keeps a count of events per chat, so one busy chat can lose events
// after a cursor that the log as a whole still holds. Such a resume must
// answer recovered: false rather than replay the other chats' events
// without the lost ones; a resume within every chat's window replays all.
func TestWorkspaceResumeNeverReplaysAHole(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, echo.Config{Tokens: 3, Rate: -1}, hub.Config{SendQueue: 4096, MaxFrameBytes: 16 << 10}, func(e *env) { e.perChat = 5 })
	n := e.nodes[0]
	ctx := context.Background()
	quiet, _, err := e.ws.CreateChat(ctx, e.owner.ID, e.wsID)
	if err != nil {
		t.Fatal(err)
	}
	watcher := e.dial(n, "token="+e.token(e.viewer))
	mustOK(t, "join_workspace", watcher.send("join_workspace", map[string]any{"workspace_id": e.wsID}))
	owner := e.dial(n, "token="+e.token(e.owner))
	g, err := e.ws.AuthorizeMessage(ctx, e.owner.ID, quiet.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The quiet chat's events stay in the log (one of them drops out of
	// its window of 5), so the log's first event is older than the cursor.
	mustOK(t, "message", owner.send("message", map[string]any{"chat_id": quiet.ID, "message_string": g.Token, "content": "early"}))
	watcher.until(isType(agents.EventRunCompleted))
	cursor := mustOK(t, "join_workspace", watcher.send("join_workspace", map[string]any{"workspace_id": e.wsID})).Cursor

	// The busy chat then has more events than its window.
	for range 2 {
		mustOK(t, "message", owner.send("message", map[string]any{"chat_id": e.chat, "message_string": e.messageString(e.owner), "content": "busy"}))
		watcher.until(isType(agents.EventRunCompleted))
	}
	late := e.dial(n, "token="+e.token(e.viewer))
	a := mustOK(t, "resume from before the busy chat's window", late.send("join_workspace", map[string]any{"workspace_id": e.wsID, "since": cursor}))
	if a.Recovered {
		t.Fatalf("resume from cursor %d = %+v, want recovered: false", cursor, a)
	}
	select {
	case ev := <-late.events:
		t.Fatalf("a refused resume replayed %s", ev.Type)
	default:
	}

	// A chat resume from before its window is refused the same way, with
	// the latest seq; one within it replays.
	chatAck := mustOK(t, "chat resume from before the window", late.send("join", map[string]any{"chat_id": e.chat, "since": 1}))
	if chatAck.Recovered || chatAck.Seq < 6 {
		t.Fatalf("chat resume from seq 1 = %+v, want recovered: false with the latest seq", chatAck)
	}
	select {
	case ev := <-late.events:
		if ev.Type != agents.EventPresenceJoined { // its own join, live
			t.Fatalf("a refused chat resume replayed %s", ev.Type)
		}
	default:
	}

	// Within the window: the last two events come back.
	again := e.dial(n, "token="+e.token(e.viewer))
	a = mustOK(t, "resume within the window", again.send("join_workspace", map[string]any{"workspace_id": e.wsID, "since": a.Cursor - 2}))
	if !a.Recovered {
		t.Fatalf("resume within the window = %+v, want recovered", a)
	}
	got := again.until(isType(agents.EventRunCompleted))
	if len(got) != 2 {
		t.Fatalf("replayed %d events, want 2: %v", len(got), summary(got))
	}
}
