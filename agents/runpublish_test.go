package agents

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/persistence/bus"
)

// TestDeltaTimeIsItsFirstToken checks a run.delta's ts is when its first
// token came, not when the delta went out: tokens that wait behind an
// append in flight are late by that wait, and the watchers' latency must
// show it.
func TestDeltaTimeIsItsFirstToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, err := bus.Start(ctx, bus.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	log, err := b.ChatLog(ctx, bus.ChatLogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	events := NewEvents(log)
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	events.now = func() time.Time { return clock }
	p := newRunPublisher(ctx, events, "w1", "c1", "r1")

	// An append is in flight: the tokens that come meanwhile wait.
	p.mu.Lock()
	p.sending = true
	p.mu.Unlock()
	first := clock
	p.text("two ")
	clock = clock.Add(40 * time.Millisecond)
	p.text("tokens")
	clock = clock.Add(40 * time.Millisecond)
	p.published(0, nil) // the append in flight is answered: the delta goes
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	last, ok, err := log.Last(ctx, bus.ChatSubject("w1", "c1"))
	if err != nil || !ok {
		t.Fatalf("the delta is not in the log: %v", err)
	}
	var env Envelope
	if err := json.Unmarshal(last.Data, &env); err != nil {
		t.Fatal(err)
	}
	if env.Type != EventRunDelta || string(env.Data) != `{"text":"two tokens"}` || !env.TS.Equal(first) {
		t.Fatalf("delta %s %s at %v, want run.delta \"two tokens\" at %v (its first token), not %v (when it went out)", env.Type, env.Data, env.TS, first, clock)
	}
}
