package bus_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/persistence/bus"
)

func startLog(t *testing.T, ctx context.Context) (*bus.Bus, *bus.ChatLog) {
	t.Helper()
	b, err := bus.Start(ctx, bus.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	l, err := b.ChatLog(ctx, bus.ChatLogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return b, l
}

// AppendAsync keeps each chat's events in the order they were asked for,
// while many chats have theirs in flight together.
func TestAppendAsyncKeepsEachChatsOrder(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, l := startLog(t, ctx)

	const chats, each = 20, 50
	type result struct {
		chat, i int
		e       bus.Entry
		err     error
	}
	results := make(chan result, chats*each)
	for c := range chats {
		subject := bus.ChatSubject("w", fmt.Sprintf("c%d", c))
		for i := range each {
			l.AppendAsync(ctx, subject, func(seq uint64) ([]byte, error) {
				return fmt.Appendf(nil, `{"seq":%d,"i":%d}`, seq, i), nil
			}, func(e bus.Entry, err error) { results <- result{c, i, e, err} })
		}
	}
	next := make([]int, chats)
	for range chats * each {
		var r result
		select {
		case r = <-results:
		case <-ctx.Done():
			t.Fatal("waiting for acknowledgements")
		}
		if r.err != nil {
			t.Fatalf("chat %d append %d: %v", r.chat, r.i, r.err)
		}
		if r.i != next[r.chat] || r.e.Seq != uint64(r.i+1) {
			t.Fatalf("chat %d: append %d answered as seq %d, expected append %d", r.chat, r.i, r.e.Seq, next[r.chat])
		}
		if want := fmt.Sprintf(`{"seq":%d,"i":%d}`, r.e.Seq, r.i); string(r.e.Data) != want {
			t.Fatalf("chat %d: stored %s, want %s", r.chat, r.e.Data, want)
		}
		next[r.chat]++
	}
	for c := range chats {
		last, ok, err := l.Last(ctx, bus.ChatSubject("w", fmt.Sprintf("c%d", c)))
		if err != nil || !ok || last.Seq != each {
			t.Fatalf("chat %d: Last = %+v %v %v, want seq %d", c, last, ok, err, each)
		}
	}
}

// An append whose context has ended before it is sent is not stored, and
// the chat's numbering goes on with no gap; an event that fails to encode
// is not stored either.
func TestAppendSkipsCancelledAndFailedEvents(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, l := startLog(t, ctx)
	chat := bus.ChatSubject("w", "c")

	ended, end := context.WithCancel(ctx)
	end()
	if _, err := l.Append(ended, chat, func(uint64) ([]byte, error) { return []byte("x"), nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("append with an ended context: %v, want context.Canceled", err)
	}
	bad := errors.New("cannot encode")
	if _, err := l.Append(ctx, chat, func(uint64) ([]byte, error) { return nil, bad }); !errors.Is(err, bad) {
		t.Fatalf("append whose build fails: %v, want %v", err, bad)
	}
	e, err := l.Append(ctx, chat, func(uint64) ([]byte, error) { return []byte("y"), nil })
	if err != nil || e.Seq != 1 {
		t.Fatalf("next append: %+v %v, want seq 1", e, err)
	}
}

// Appends asked for after the connection closed fail rather than hang, and
// so do the ones waiting when it closes.
func TestAppendFailsOnceClosed(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, l := startLog(t, ctx)
	chat := bus.ChatSubject("w", "c")
	if _, err := l.Append(ctx, chat, func(uint64) ([]byte, error) { return []byte("x"), nil }); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Add(1)
		l.AppendAsync(ctx, chat, func(uint64) ([]byte, error) { return []byte("x"), nil }, func(_ bus.Entry, err error) {
			errs <- err
			wg.Done()
		})
	}
	b.Close()
	wg.Wait() // every append is answered, stored or not
	close(errs)
	_, err := l.Append(ctx, chat, func(uint64) ([]byte, error) { return []byte("x"), nil })
	if !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("append after close: %v, want ErrClosed", err)
	}
}
