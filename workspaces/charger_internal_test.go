package workspaces

import (
	"context"
	"testing"

	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
)

// A write that failed is written again with the same ledger lines: once
// when it had not been committed, and not again when it had (its answer
// lost, as when a context ends during the commit).
func TestChargerCountsAChargeOnceWhateverAWriteAnswered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := New(sqldbtest.Open(t), Config{})
	u, err := s.Register(ctx, "payer@x.io", "password-payer")
	if err != nil {
		t.Fatal(err)
	}
	c := NewCharger(s, ChargerConfig{})
	balance := func() float64 {
		t.Helper()
		b, _, err := s.Credits(ctx, u.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	start := balance()

	// Not committed: the write fails before it starts.
	c.Charge(u.ID, 2, "model m", "")
	c.Charge(u.ID, 3, "model m", "")
	cut, cancel := context.WithCancel(ctx)
	cancel()
	c.Flush(cut)
	if got := balance(); got != start {
		t.Fatalf("balance %v after a failed write, want %v", got, start)
	}
	c.Flush(ctx)
	if got := balance(); got != start-5 {
		t.Fatalf("balance %v after the retry, want %v", got, start-5)
	}

	// Committed, but reported as failed: the retry finds its lines.
	c.Charge(u.ID, 7, "model m", "")
	c.mu.Lock()
	lines := merge(c.pending)
	c.pending = nil
	c.mu.Unlock()
	if err := c.write(ctx, lines); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.unsure = append(c.unsure, lines)
	c.mu.Unlock()
	c.Flush(ctx)
	if got := balance(); got != start-12 {
		t.Fatalf("balance %v, want %v: a committed write was counted again", got, start-12)
	}
	c.mu.Lock()
	left := len(c.unsure) + len(c.pending)
	c.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d writes still wait", left)
	}
}
