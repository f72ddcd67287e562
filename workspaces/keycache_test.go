package workspaces_test

import (
	"context"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

func TestCachedKeysStopAtOnceWhenRevoked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	s := workspaces.New(db, workspaces.Config{KeyCacheTTL: time.Hour, CreditCheckTTL: time.Hour})
	u := mustUser(t, s, "alice@x.io")
	k, err := s.CreateKey(ctx, u.ID, workspaces.UserKey, "", "laptop")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second from the cache
		got, err := s.ResolveKey(ctx, k.Secret)
		if err != nil || got.ID != k.ID || got.UserID != u.ID {
			t.Fatalf("ResolveKey = %+v, %v", got, err)
		}
	}
	if err := s.DeleteKey(ctx, u.ID, workspaces.UserKey, "", k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResolveKey(ctx, k.Secret); workspaces.ErrorKind(err) != workspaces.KindUnauthenticated {
		t.Fatalf("a revoked key resolves: %v", err)
	}
	// A grant is seen at once by the credit check.
	if err := s.CheckCredits(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Charge(ctx, u.ID, workspaces.DefaultFreeCredits+1, "big", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.GrantCredits(ctx, u.ID, 5, "top-up"); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckCredits(ctx, u.ID); err != nil {
		t.Fatalf("after a grant: %v", err)
	}
}
