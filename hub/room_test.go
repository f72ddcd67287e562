package hub

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/persistence/bus"
)

// fakeTransport accepts up to limit events and records why it was closed.
type fakeTransport struct {
	limit  int
	mu     sync.Mutex
	got    []uint64
	closed chan string
}

func (f *fakeTransport) sendEvent(e *outEvent) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got) >= f.limit {
		return false
	}
	f.got = append(f.got, e.Seq)
	return true
}
func (f *fakeTransport) sendReplay(e *outEvent) bool { return f.sendEvent(e) }
func (f *fakeTransport) control(string, any)         {}
func (f *fakeTransport) close(reason string)         { f.closed <- reason }

func testHub() *Hub {
	return &Hub{cfg: Config{SendQueue: 4, RecentEvents: 8, RecentBytes: 1 << 20}, logger: slog.New(slog.DiscardHandler), ctx: context.Background()}
}

func entry(seq uint64) bus.Entry {
	return bus.Entry{Seq: seq, Cursor: seq * 10, Data: []byte(fmt.Sprintf(`{"seq":%d}`, seq))}
}

func TestSlowConsumerIsDisconnectedAndOthersAreNot(t *testing.T) {
	h := testHub()
	r := newRoom(h, "f", true)
	fast := &fakeTransport{limit: 100, closed: make(chan string, 1)}
	slow := &fakeTransport{limit: 3, closed: make(chan string, 1)}
	for _, ft := range []*fakeTransport{fast, slow} {
		c := &client{h: h, t: ft}
		if !r.start(r.join(c), 0) {
			t.Fatal("start failed")
		}
	}
	for seq := uint64(1); seq <= 10; seq++ {
		r.receive(entry(seq))
	}
	slow.wantSlowConsumer(t)
	if len(fast.got) != 10 {
		t.Fatalf("the fast client got %v", fast.got)
	}
	select {
	case reason := <-fast.closed:
		t.Fatalf("the fast client was closed: %s", reason)
	default:
	}
}

func TestJoiningMemberGetsPendingEventsAfterItsReplay(t *testing.T) {
	h := testHub()
	r := newRoom(h, "f", true)
	ft := &fakeTransport{limit: 100, closed: make(chan string, 1)}
	c := &client{h: h, t: ft}
	m := r.join(c)
	// Live events arrive while the member's replay (up to 5) is being read.
	for seq := uint64(4); seq <= 7; seq++ {
		r.receive(entry(seq))
	}
	for seq := uint64(1); seq <= 5; seq++ { // the replay
		ft.sendReplay(newOutEvent(entry(seq), seq))
	}
	if !r.start(m, 5) {
		t.Fatal("start failed")
	}
	r.receive(entry(8))
	r.receive(entry(8)) // a duplicate from NATS is dropped
	want := []uint64{1, 2, 3, 4, 5, 6, 7, 8}
	if fmt.Sprint(ft.got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", ft.got, want)
	}
	// Recent events cover a resume from 5, but not from 1 (the ring holds 8).
	if evs, ok := r.recentAfter(5, 8); !ok || len(evs) != 3 {
		t.Fatalf("recentAfter(5) = %v %v", evs, ok)
	}
	for seq := uint64(9); seq <= 20; seq++ {
		r.receive(entry(seq))
	}
	if _, ok := r.recentAfter(1, 20); ok {
		t.Fatal("recentAfter(1) claims the trimmed events")
	}
}

func TestARoomKeepsRecentEventsWithinItsByteBudget(t *testing.T) {
	h := testHub()
	h.cfg.RecentEvents = 1024
	h.cfg.RecentBytes = 1000
	r := newRoom(h, "f", true)
	big := func(seq uint64, size int) bus.Entry {
		e := entry(seq)
		e.Data = make([]byte, size)
		return e
	}
	for seq := uint64(1); seq <= 100; seq++ {
		r.receive(big(seq, 90))
		if r.recentBytes > h.cfg.RecentBytes {
			t.Fatalf("after event %d the room keeps %d bytes, over its budget of %d", seq, r.recentBytes, h.cfg.RecentBytes)
		}
	}
	if n := len(r.recent); n < 8 || n > 11 {
		t.Fatalf("the room keeps %d events of 90 bytes in a budget of 1000", n)
	}
	if evs, ok := r.recentAfter(95, 100); !ok || len(evs) != 5 {
		t.Fatalf("recentAfter(95) = %d events, %v", len(evs), ok)
	}
	if _, ok := r.recentAfter(50, 100); ok {
		t.Fatal("recentAfter(50) claims events dropped for the budget")
	}
	// One event larger than the budget is still kept (the newest is needed
	// for resuming), alone.
	r.receive(big(101, 5000))
	if len(r.recent) != 1 || r.recent[0].Seq != 101 || r.recentBytes != 5000 {
		t.Fatalf("after a 5000-byte event the room keeps %d events, %d bytes", len(r.recent), r.recentBytes)
	}
	r.receive(big(102, 10))
	if len(r.recent) != 1 || r.recent[0].Seq != 102 || r.recentBytes != 10 {
		t.Fatalf("after a small event the room keeps %d events, %d bytes", len(r.recent), r.recentBytes)
	}
}

func TestPendingOverflowFailsTheJoin(t *testing.T) {
	h := testHub()
	r := newRoom(h, "f", true)
	ft := &fakeTransport{limit: 100, closed: make(chan string, 1)}
	m := r.join(&client{h: h, t: ft})
	for seq := uint64(1); seq <= 10; seq++ { // more than SendQueue while replaying
		r.receive(entry(seq))
	}
	if r.start(m, 0) {
		t.Fatal("start succeeded after the pending events overflowed")
	}
}

func TestOutboxBoundsAndOrders(t *testing.T) {
	var mu sync.Mutex
	var got []string
	release := make(chan struct{})
	taken := make(chan struct{}, 1)
	o := newOutbox(2, func(frames [][]byte) error {
		select {
		case taken <- struct{}{}:
		default:
		}
		<-release
		mu.Lock()
		defer mu.Unlock()
		for _, f := range frames {
			got = append(got, string(f))
		}
		return nil
	})
	if !o.push([]byte("a")) {
		t.Fatal("push a")
	}
	<-taken // the drainer holds "a" and waits: the queue is empty again
	// Fill until the limit bites.
	n := 0
	for o.push([]byte(fmt.Sprint(n))) {
		n++
	}
	if n != 2 {
		t.Fatalf("pushed %d frames with a limit of 2", n)
	}
	// Replies go past the limit, up to twice it; control frames past that.
	replies := 0
	for o.pushReply([]byte("reply")) {
		replies++
	}
	if replies != 2 {
		t.Fatalf("queued %d replies past a full queue with a limit of 2, want 2", replies)
	}
	if !o.pushMust([]byte("ack")) {
		t.Fatal("pushMust refused")
	}
	close(release)
	want := n + replies + 2
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		l := len(got)
		mu.Unlock()
		if l == want || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != want || got[0] != "a" || got[len(got)-1] != "ack" {
		t.Fatalf("drained %v", got)
	}
	o.close()
	if o.push([]byte("x")) || o.pushMust([]byte("x")) {
		t.Fatal("closed outbox accepted a frame")
	}
}

// TestBigRoomWritersKeepEachMembersOrder checks a room with more members
// than it writes to itself: every member gets every event once and in
// order, through the writers, also after most members left (a room keeps
// its writers, so a direct write never overtakes a queued one), and a
// slow member is disconnected without holding up the others.
func TestBigRoomWritersKeepEachMembersOrder(t *testing.T) {
	h := testHub()
	h.cfg.SendQueue = 1000
	r := newRoom(h, "f", true)
	var fts []*fakeTransport
	var members []*member
	for range 3 * inlineMembers {
		ft := &fakeTransport{limit: 1000, closed: make(chan string, 1)}
		m := r.join(&client{h: h, t: ft})
		if !r.start(m, 0) {
			t.Fatal("start failed")
		}
		fts, members = append(fts, ft), append(members, m)
	}
	slow := &fakeTransport{limit: 5, closed: make(chan string, 1)}
	if !r.start(r.join(&client{h: h, t: slow}), 0) {
		t.Fatal("start failed")
	}
	for seq := uint64(1); seq <= 50; seq++ {
		r.receive(entry(seq))
	}
	// All but two members leave; the room keeps writing through its writers.
	for _, m := range members[2:] {
		r.mu.Lock()
		delete(r.members, m)
		r.mu.Unlock()
	}
	for seq := uint64(51); seq <= 100; seq++ {
		r.receive(entry(seq))
	}
	slow.wantSlowConsumer(t)
	r.close()
	r.writing.Wait() // the writers have written everything queued
	for i, ft := range fts {
		n := 50
		if i < 2 {
			n = 100
		}
		want := make([]uint64, n)
		for j := range want {
			want[j] = uint64(j + 1)
		}
		if got := ft.got; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("member %d got %v, want 1..%d in order", i, got, n)
		}
	}
}

// wantSlowConsumer waits until f is disconnected as a slow consumer.
func (f *fakeTransport) wantSlowConsumer(t *testing.T) {
	t.Helper()
	select {
	case reason := <-f.closed:
		if reason != reasonSlowConsumer {
			t.Fatalf("slow client closed for %q", reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the slow client was not disconnected")
	}
}
