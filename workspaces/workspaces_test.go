package workspaces_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newService(t *testing.T) (*workspaces.Service, *clock) {
	t.Helper()
	c := &clock{t: time.Now()}
	return workspaces.New(sqldbtest.Open(t), workspaces.Config{Now: c.Now}), c
}

func mustUser(t *testing.T, s *workspaces.Service, email string) workspaces.User {
	t.Helper()
	u, err := s.Register(context.Background(), email, "password-"+email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func wantKind(t *testing.T, err error, kind workspaces.Kind, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v %q", kind, msg)
	}
	if got := workspaces.ErrorKind(err); got != kind {
		t.Fatalf("kind = %v (%v), want %v", got, err, kind)
	}
	if msg != "" && workspaces.ErrorMessage(err) != msg {
		t.Fatalf("message = %q, want %q", workspaces.ErrorMessage(err), msg)
	}
}

func TestRegisterAuthenticate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newService(t)
	u := mustUser(t, s, "Ann@Example.com")
	if u.Email != "ann@example.com" {
		t.Fatalf("email stored as %q, want it normalized", u.Email)
	}
	_, err := s.Register(ctx, "ann@example.com", "x")
	wantKind(t, err, workspaces.KindConflict, "User already exists")
	if _, err := s.Authenticate(ctx, "ANN@example.com", "password-Ann@Example.com"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Authenticate(ctx, "ann@example.com", "wrong")
	wantKind(t, err, workspaces.KindUnauthenticated, "Incorrect password.")
	_, err = s.Authenticate(ctx, "nobody@example.com", "x")
	wantKind(t, err, workspaces.KindNotFound, "User not found")
	_, err = s.Register(ctx, "not-an-email", "x")
	wantKind(t, err, workspaces.KindInvalid, "Invalid email address")
}

func TestSecretsFollowRolesAndExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, clk := newService(t)
	owner, member, viewer, stranger := mustUser(t, s, "o@x.io"), mustUser(t, s, "m@x.io"), mustUser(t, s, "v@x.io"), mustUser(t, s, "s@x.io")
	ws, err := s.CreateWorkspace(ctx, owner.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if ws.Name != workspaces.DefaultWorkspaceName {
		t.Fatalf("default name = %q", ws.Name)
	}
	if _, err := s.AddMember(ctx, owner.ID, ws.ID, "m@x.io", workspaces.RoleMember); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMember(ctx, owner.ID, ws.ID, "v@x.io", workspaces.RoleViewer); err != nil {
		t.Fatal(err)
	}
	_, err = s.AddMember(ctx, member.ID, ws.ID, "s@x.io", workspaces.RoleMember)
	wantKind(t, err, workspaces.KindForbidden, "User is not the owner of the workspace")

	chat, _, err := s.CreateChat(ctx, owner.ID, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.CreateChat(ctx, member.ID, ws.ID)
	wantKind(t, err, workspaces.KindForbidden, "User is not the owner of the workspace")

	// Everyone with a role may watch; only owner and member may speak.
	for _, u := range []workspaces.User{owner, member, viewer} {
		g, err := s.AuthorizeChat(ctx, u.ID, chat.ID)
		if err != nil {
			t.Fatalf("%s: AuthorizeChat: %v", u.Email, err)
		}
		r, err := s.ResolveSecret(ctx, workspaces.ConnectionString, g.Token)
		if err != nil || r.ChatID != chat.ID || r.CreatedBy != u.ID {
			t.Fatalf("%s: ResolveSecret = %+v, %v", u.Email, r, err)
		}
	}
	_, err = s.AuthorizeChat(ctx, stranger.ID, chat.ID)
	wantKind(t, err, workspaces.KindForbidden, "User is not the owner of the chat")
	_, err = s.AuthorizeMessage(ctx, viewer.ID, chat.ID)
	wantKind(t, err, workspaces.KindForbidden, "")

	msg, err := s.AuthorizeMessage(ctx, member.ID, chat.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msg.Token, "atm_") || len(msg.Token) < 40 {
		t.Fatalf("message string %q is not a high-entropy atm_ string", msg.Token)
	}
	if got := msg.ExpiresAt.Sub(msg.CreatedAt); got != 10*time.Minute {
		t.Fatalf("message string lifetime = %v, want 10m", got)
	}
	// A message string is not a connection string, and a wrong one is refused.
	_, err = s.ResolveSecret(ctx, workspaces.ConnectionString, msg.Token)
	wantKind(t, err, workspaces.KindUnauthenticated, "Invalid connection string")
	_, err = s.ResolveSecret(ctx, workspaces.MessageString, msg.Token+"x")
	wantKind(t, err, workspaces.KindUnauthenticated, "Invalid message string")

	// Demoting the member to viewer revokes their message string at once.
	if _, err := s.AddMember(ctx, owner.ID, ws.ID, "m@x.io", workspaces.RoleViewer); err != nil {
		t.Fatal(err)
	}
	_, err = s.ResolveSecret(ctx, workspaces.MessageString, msg.Token)
	wantKind(t, err, workspaces.KindUnauthenticated, "The message string was revoked")

	own, err := s.AuthorizeMessage(ctx, owner.ID, chat.ID)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(10*time.Minute + time.Second)
	_, err = s.ResolveSecret(ctx, workspaces.MessageString, own.Token)
	wantKind(t, err, workspaces.KindUnauthenticated, "The message string has expired")
	n, err := s.PurgeExpiredSecrets(ctx)
	if err != nil || n < 1 {
		t.Fatalf("PurgeExpiredSecrets = %d, %v; want >= 1", n, err)
	}
}

func TestRemovedMemberLosesAccess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newService(t)
	owner, member := mustUser(t, s, "o@x.io"), mustUser(t, s, "m@x.io")
	ws, _ := s.CreateWorkspace(ctx, owner.ID, "W")
	chat, _, _ := s.CreateChat(ctx, owner.ID, ws.ID)
	s.AddMember(ctx, owner.ID, ws.ID, "m@x.io", workspaces.RoleMember)
	g, err := s.AuthorizeChat(ctx, member.ID, chat.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A member may leave; they may not remove the owner.
	wantKind(t, s.RemoveMember(ctx, member.ID, ws.ID, owner.ID), workspaces.KindForbidden, "User is not the owner of the workspace")
	if err := s.RemoveMember(ctx, member.ID, ws.ID, member.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.ResolveSecret(ctx, workspaces.ConnectionString, g.Token)
	wantKind(t, err, workspaces.KindUnauthenticated, "")
	_, err = s.Workspace(ctx, member.ID, ws.ID)
	wantKind(t, err, workspaces.KindForbidden, "User does not have access to the workspace")
	list, err := s.Workspaces(ctx, member.ID)
	if err != nil || len(list) != 0 {
		t.Fatalf("Workspaces after leaving = %v, %v", list, err)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clk := &clock{t: now}
	tok := workspaces.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour, clk.Now)
	s, exp, err := tok.Issue("u1")
	if err != nil {
		t.Fatal(err)
	}
	if exp.Sub(now) != time.Hour {
		t.Fatalf("expiry in %v, want 1h", exp.Sub(now))
	}
	id, _, err := tok.Verify(s)
	if err != nil || id != "u1" {
		t.Fatalf("Verify = %q, %v", id, err)
	}
	// Verified again (from memory), with the same answer.
	id, exp2, err := tok.Verify(s)
	if err != nil || id != "u1" || !exp2.Equal(exp.Truncate(time.Second)) {
		t.Fatalf("Verify again = %q, %v, %v; want u1 expiring at %v", id, exp2, err, exp)
	}
	// A changed signature is checked, not taken for the remembered token.
	forged := []byte(s)
	if i := len(forged) - 10; forged[i] == 'A' {
		forged[i] = 'B'
	} else {
		forged[i] = 'A'
	}
	_, _, err = tok.Verify(string(forged))
	wantKind(t, err, workspaces.KindUnauthenticated, "")
	other := workspaces.NewTokens([]byte("another-secret-another-secret-xx"), time.Hour, clk.Now)
	_, _, err = other.Verify(s)
	wantKind(t, err, workspaces.KindUnauthenticated, "Signature verification failed")
	_, _, err = tok.Verify("garbage")
	wantKind(t, err, workspaces.KindUnauthenticated, "")
	// Valid until the expiry plus 5 s of leeway, remembered or not.
	clk.Add(exp2.Sub(clk.Now()) + 4*time.Second)
	if _, _, err = tok.Verify(s); err != nil {
		t.Fatalf("Verify within the leeway: %v", err)
	}
	clk.Add(time.Second)
	_, _, err = tok.Verify(s)
	wantKind(t, err, workspaces.KindUnauthenticated, "Token has expired")
	clk.Add(2 * time.Hour)
	_, _, err = tok.Verify(s)
	wantKind(t, err, workspaces.KindUnauthenticated, "Token has expired")
}
