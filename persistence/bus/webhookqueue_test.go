package bus_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/persistence/bus"
)

// received is what a test consumer saw of one delivery.
type received struct {
	data string
	at   time.Time
	n    uint64 // times delivered
}

// consume runs q.Consume until the returned stop is called, sending each
// delivery to the channel and answering it with answer.
func consume(t *testing.T, q *bus.WebhookQueue, answer func(bus.WebhookDelivery, uint64)) (<-chan received, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan received, 64)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := q.Consume(ctx, 4, func(_ context.Context, m bus.WebhookDelivery) {
			md, err := m.Metadata()
			if err != nil {
				t.Error(err)
				m.Nak()
				return
			}
			// Stamped before answering: a nak's delay counts from then.
			at := time.Now()
			answer(m, md.NumDelivered)
			ch <- received{data: string(m.Data()), at: at, n: md.NumDelivered}
		})
		if err != nil {
			t.Error(err)
		}
	}()
	stop := sync.OnceFunc(func() { cancel(); wg.Wait() })
	t.Cleanup(stop)
	return ch, stop
}

func next(t *testing.T, ch <-chan received) received {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery within 10s")
		return received{}
	}
}

func TestWebhookQueueRetriesWithDelayAndDeduplicates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, err := bus.Start(ctx, bus.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	q, err := b.WebhookQueue(ctx, bus.WebhookQueueConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if q.AckWait() != 60*time.Second {
		t.Fatalf("AckWait = %v, want the 60s default", q.AckWait())
	}
	const delay = 150 * time.Millisecond
	// The first hand-out asks for a retry later; the second is acked.
	ch, _ := consume(t, q, func(m bus.WebhookDelivery, n uint64) {
		if n == 1 {
			m.NakWithDelay(delay)
			return
		}
		m.Ack()
	})
	for range 2 { // the same id twice is stored once
		if err := q.Enqueue(ctx, "ep1", "d1.0", []byte("hello")); err != nil {
			t.Fatal(err)
		}
	}
	first := next(t, ch)
	second := next(t, ch)
	if first.data != "hello" || second.data != "hello" || second.n != 2 {
		t.Fatalf("deliveries = %+v, %+v; want hello twice, the second as redelivery 2", first, second)
	}
	if gap := second.at.Sub(first.at); gap < delay {
		t.Fatalf("redelivered after %v, want at least the %v asked for", gap, delay)
	}
	// A different id is a different delivery; the acked one is gone.
	if err := q.Enqueue(ctx, "ep1", "d2.0", []byte("two")); err != nil {
		t.Fatal(err)
	}
	if r := next(t, ch); r.data != "two" || r.n != 1 {
		t.Fatalf("after ack got %+v, want the new delivery \"two\"", r)
	}
}

func TestWebhookQueueSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	b, err := bus.Start(ctx, bus.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	q, err := b.WebhookQueue(ctx, bus.WebhookQueueConfig{AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// One delivery queued with nobody consuming, one handed out and left
	// waiting for a retry when the server stops.
	if err := q.Enqueue(ctx, "ep1", "pending", []byte("pending")); err != nil {
		t.Fatal(err)
	}
	ch, stop := consume(t, q, func(m bus.WebhookDelivery, _ uint64) { m.NakWithDelay(200 * time.Millisecond) })
	if r := next(t, ch); r.data != "pending" {
		t.Fatalf("got %+v", r)
	}
	stop()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b, err = bus.Start(ctx, bus.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	q, err = b.WebhookQueue(ctx, bus.WebhookQueueConfig{AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(ctx, "ep2", "fresh", []byte("fresh")); err != nil {
		t.Fatal(err)
	}
	ch, _ = consume(t, q, func(m bus.WebhookDelivery, _ uint64) { m.Ack() })
	got := map[string]bool{}
	for range 2 {
		got[next(t, ch).data] = true
	}
	if !got["pending"] || !got["fresh"] {
		t.Fatalf("after restart got %v, want the pending delivery and the fresh one", got)
	}
}
