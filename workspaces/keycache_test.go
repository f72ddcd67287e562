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

func TestCachedChatStringsStopAtOnceWhenAccessEnds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	s := workspaces.New(db, workspaces.Config{KeyCacheTTL: time.Hour})
	owner, member := mustUser(t, s, "owner@x.io"), mustUser(t, s, "member@x.io")
	ws, err := s.CreateWorkspace(ctx, owner.ID, "team")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMember(ctx, owner.ID, ws.ID, member.Email, workspaces.RoleMember); err != nil {
		t.Fatal(err)
	}
	chat, _, err := s.CreateChat(ctx, owner.ID, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.AuthorizeMessage(ctx, member.ID, chat.ID)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second from the cache
		if g, err := s.ResolveSecret(ctx, workspaces.MessageString, msg.Token); err != nil || g.ChatID != chat.ID || g.Role != workspaces.RoleMember {
			t.Fatalf("ResolveSecret = %+v, %v", g, err)
		}
	}
	if err := s.RemoveMember(ctx, owner.ID, ws.ID, member.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResolveSecret(ctx, workspaces.MessageString, msg.Token); workspaces.ErrorKind(err) != workspaces.KindUnauthenticated {
		t.Fatalf("a removed member's message string resolves: %v", err)
	}
}
