package workspaces_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/workspaces"
)

func TestChargerWritesEveryChargeInFewTransactions(t *testing.T) {
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

	bal, entries, err := s.Credits(ctx, alice.ID, 1000)
	if err != nil || bal != workspaces.DefaultFreeCredits-40 || len(entries) != 80 {
		t.Fatalf("alice: balance %v, %d entries, %v", bal, len(entries), err)
	}
	bal, entries, _ = s.Credits(ctx, bob.ID, 1000)
	if bal != workspaces.DefaultFreeCredits-20 || len(entries) != 40 || entries[0].Amount != -0.5 || entries[0].Reason != "model gpt-4o-mini" {
		t.Fatalf("bob: balance %v, entries %v", bal, entries)
	}
}
