package bus_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/persistence/bus"
)

// twoNodes starts an embedded NATS that listens, and a second connection to
// it, as two Atrium nodes would share one NATS.
func twoNodes(t *testing.T, ctx context.Context) (*bus.Bus, *bus.Bus) {
	t.Helper()
	a, err := bus.Start(ctx, bus.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, err := bus.Start(ctx, bus.Config{URL: a.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return a, b
}

func TestChatLogNumbersEachChatFromOneAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, b := twoNodes(t, ctx)
	logA, err := a.ChatLog(ctx, bus.ChatLogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	logB, err := b.ChatLog(ctx, bus.ChatLogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	chat := bus.ChatSubject("w1", "c1")
	other := bus.ChatSubject("w1", "c2")

	live := make(chan bus.Entry, 1000)
	sub, err := logB.Subscribe(chat, func(e bus.Entry) { live <- e })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	b.Conn.Flush()

	// Both nodes append to the same chat at once; another chat is numbered apart.
	const each = 40
	var wg sync.WaitGroup
	for _, l := range []*bus.ChatLog{logA, logB} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := l.Append(ctx, chat, func(seq uint64) ([]byte, error) {
					return fmt.Appendf(nil, `{"seq":%d,"i":%d}`, seq, i), nil
				}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	if e, err := logA.Append(ctx, other, func(seq uint64) ([]byte, error) { return []byte("x"), nil }); err != nil || e.Seq != 1 {
		t.Fatalf("other chat: %+v, %v; want seq 1", e, err)
	}
	wg.Wait()

	for want := uint64(1); want <= 2*each; want++ {
		select {
		case e := <-live:
			if e.Seq != want || string(e.Data[:len(fmt.Sprintf(`{"seq":%d,`, want))]) != fmt.Sprintf(`{"seq":%d,`, want) {
				t.Fatalf("live event %d: seq %d data %s", want, e.Seq, e.Data)
			}
		case <-ctx.Done():
			t.Fatalf("waiting for live event %d", want)
		}
	}
	select {
	case e := <-live:
		t.Fatalf("extra live event %+v (a refused append leaked?)", e)
	default:
	}

	last, ok, err := logA.Last(ctx, chat)
	if err != nil || !ok || last.Seq != 2*each {
		t.Fatalf("Last = %+v %v %v, want seq %d", last, ok, err, 2*each)
	}
	// Resume after event 10: the replay starts at 11 and runs in order.
	cur, ok, err := logB.CursorAfter(ctx, chat, 10)
	if err != nil || !ok {
		t.Fatalf("CursorAfter(10) = %d %v %v", cur, ok, err)
	}
	next := uint64(11)
	err = logB.Read(ctx, chat, cur, 0, func(e bus.Entry) error {
		if e.Seq != next {
			return fmt.Errorf("replay got seq %d, want %d", e.Seq, next)
		}
		next++
		return nil
	})
	if err != nil || next != 2*each+1 {
		t.Fatalf("replay ended at %d: %v", next, err)
	}
	if _, ok, _ := logB.CursorAfter(ctx, chat, 2*each); ok {
		t.Fatal("CursorAfter(last) ok, want nothing to replay")
	}
}

func TestChatLogKeepsAWindowPerChat(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := bus.Start(ctx, bus.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	l, err := b.ChatLog(ctx, bus.ChatLogConfig{PerChat: 5})
	if err != nil {
		t.Fatal(err)
	}
	chat := bus.ChatSubject("w", "c")
	for range 12 {
		if _, err := l.Append(ctx, chat, func(uint64) ([]byte, error) { return []byte("{}"), nil }); err != nil {
			t.Fatal(err)
		}
	}
	// Events 8..12 are kept: resuming after 7 works, after 6 would leave a gap.
	if _, ok, err := l.CursorAfter(ctx, chat, 7); !ok || err != nil {
		t.Fatalf("CursorAfter(7) = %v %v, want ok", ok, err)
	}
	if _, ok, err := l.CursorAfter(ctx, chat, 6); ok || err != nil {
		t.Fatalf("CursorAfter(6) = %v %v, want not ok", ok, err)
	}
	// A restarted process (a new ChatLog) continues the numbering.
	l2, err := b.ChatLog(ctx, bus.ChatLogConfig{PerChat: 5})
	if err != nil {
		t.Fatal(err)
	}
	e, err := l2.Append(ctx, chat, func(uint64) ([]byte, error) { return []byte("{}"), nil })
	if err != nil || e.Seq != 13 {
		t.Fatalf("append after reopen: %+v %v, want seq 13", e, err)
	}
}
