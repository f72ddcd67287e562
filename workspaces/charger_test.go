package workspaces_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/workspaces"
)

func TestChargerWritesChargesInFewLines(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newService(t)
	alice, bob := mustUser(t, s, "alice@x.io"), mustUser(t, s, "bob@x.io")
	// A long interval and a batch of 50: writes happen when 50 wait, and
	// at the end.
	c := workspaces.NewCharger(s, workspaces.ChargerConfig{Every: time.Hour, Batch: 50})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(runCtx); close(done) }()

	var wg sync.WaitGroup
	for i := range 120 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := alice.ID
			if i%3 == 0 {
				user = bob.ID
			}
			c.Charge(user, 0.5, "model gpt-4o-mini", "")
		}()
	}
	wg.Wait()
	c.Charge(alice.ID, 0, "free", "") // nothing
	stop()
	<-done // Run writes what is left when it stops

	// Every charge is counted; a batch makes one line per user and reason.
	for _, u := range []struct {
		id    workspaces.UserID
		calls int
	}{{alice.ID, 80}, {bob.ID, 40}} {
		bal, entries, err := s.Credits(ctx, u.id, 1000)
		if err != nil || bal != workspaces.DefaultFreeCredits-0.5*float64(u.calls) {
			t.Fatalf("balance %v, %v; want %v", bal, err, workspaces.DefaultFreeCredits-0.5*float64(u.calls))
		}
		sum, calls := 0.0, 0
		for _, e := range entries {
			if e.Amount >= 0 {
				continue // the free credits
			}
			sum += e.Amount
			n := 1
			if _, err := fmt.Sscanf(strings.TrimPrefix(e.Reason, "model gpt-4o-mini"), " (%d calls)", &n); err != nil && e.Reason != "model gpt-4o-mini" {
				t.Errorf("reason %q", e.Reason)
			}
			calls += n
		}
		if sum != -0.5*float64(u.calls) || calls != u.calls || len(entries) > 1+4 {
			t.Errorf("ledger: %d lines summing to %v for %d calls; want at most a line a batch, summing to %v for %d",
				len(entries), sum, calls, -0.5*float64(u.calls), u.calls)
		}
	}
}
