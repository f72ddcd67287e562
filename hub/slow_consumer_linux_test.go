package hub_test

import (
	"encoding/json"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/echo"
	"github.com/atrium-hq/atrium/hub"
)

// TestSlowReaderIsDisconnectedAndOthersAreNot checks the send queue with
// real sockets: a /ws client that stops reading (with a small receive
// buffer) is disconnected as slow_consumer once the kernel holds all it
// will and its queue is full, while a client in the same chat keeps
// getting every event, in order.
func TestSlowReaderIsDisconnectedAndOthersAreNot(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, echo.Config{Tokens: 800, Rate: -1}, hub.Config{SendQueue: 16, MaxFrameBytes: 16 << 10})
	n := e.nodes[0]
	fast := e.dial(n, "token="+e.token(e.owner))
	mustOK(t, "join", fast.send("join", map[string]any{"chat_id": e.chat}))

	small := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	slow := rawDialWith(t, small, n, e.token(e.viewer), nil)
	join, _ := json.Marshal(map[string]any{"type": "join", "id": 1, "data": map[string]any{"chat_id": e.chat}})
	slow.write(clientFrame(true, 0x1, join))
	if a := slow.ackOf("1"); !a.OK {
		t.Fatalf("slow join: %+v", a)
	}
	// From here on, slow reads nothing. Messages of 4 KB, and answers
	// that echo them, fill what the kernel holds for it (its send buffer
	// grows to a few MB), then its queue.
	ms := e.messageString(e.owner)
	content := strings.Repeat("fill ", 800)
	left := func(ev agents.Envelope) bool {
		if ev.Type != agents.EventPresenceLeft {
			return false
		}
		var d struct{ User struct{ ID string } }
		json.Unmarshal(ev.Data, &d)
		return d.User.ID == string(e.viewer.ID)
	}
	var got []agents.Envelope
	viewerLeft := false
	for i := 0; !viewerLeft; i++ {
		if i == 4000 {
			t.Fatal("4,000 messages (16 MB) later, the client that reads nothing is still connected")
		}
		mustOK(t, "message", fast.send("message", map[string]any{"chat_id": e.chat, "message_string": ms, "content": content}))
		evs := fast.until(isType(agents.EventRunCompleted))
		for _, ev := range evs {
			viewerLeft = viewerLeft || left(ev)
		}
		got = append(got, evs...)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq != got[i-1].Seq+1 {
			t.Fatalf("the fast client's events skip from seq %d to %d", got[i-1].Seq, got[i].Seq)
		}
	}
}
