package workspaces

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/persistence/sqldb"
)

// SecretKind says what a chat string allows.
type SecretKind string

// The kinds of chat string.
const (
	// ConnectionString lets a socket join (watch) one chat.
	ConnectionString SecretKind = "connection"
	// MessageString lets its holder send messages in one chat.
	MessageString SecretKind = "message"
)

// prefix makes a leaked string recognizable (and scannable) by its kind.
func (k SecretKind) prefix() string {
	if k == MessageString {
		return "atm_"
	}
	return "atc_"
}

func (k SecretKind) label() string {
	if k == MessageString {
		return "message string"
	}
	return "connection string"
}

// Grant is a chat string and what it allows. Token is set only when the
// string is created: the database keeps only its SHA-256.
type Grant struct {
	Kind        SecretKind
	Token       string
	ChatID      ChatID
	WorkspaceID WorkspaceID
	CreatedBy   UserID
	CreatedAt   time.Time
	ExpiresAt   time.Time
	// Role is the creator's current role in the workspace (set by ResolveSecret).
	Role Role
}

// AuthorizeChat returns a new connection string for chat id, for anyone with
// a role in its workspace.
func (s *Service) AuthorizeChat(ctx context.Context, user UserID, id ChatID) (Grant, error) {
	c, err := s.Chat(ctx, user, id)
	if err != nil {
		return Grant{}, err
	}
	return s.issueSecret(ctx, ConnectionString, c, user, s.cfg.ConnectionStringTTL)
}

// AuthorizeMessage returns a new message string for chat id, for its
// workspace's owner and members; viewers may only watch.
func (s *Service) AuthorizeMessage(ctx context.Context, user UserID, id ChatID) (Grant, error) {
	c, err := s.Chat(ctx, user, id)
	if err != nil {
		return Grant{}, err
	}
	if !c.Role.CanSend() {
		return Grant{}, E(KindForbidden, "User is a viewer of the workspace and cannot send messages")
	}
	return s.issueSecret(ctx, MessageString, c, user, s.cfg.MessageStringTTL)
}

func (s *Service) issueSecret(ctx context.Context, kind SecretKind, c Chat, user UserID, ttl time.Duration) (Grant, error) {
	var b [32]byte
	rand.Read(b[:])
	token := kind.prefix() + base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now()
	row := &sqldb.ChatSecret{
		ID: NewID(), Kind: string(kind), TokenHash: hashSecret(token),
		ChatID: string(c.ID), WorkspaceID: string(c.WorkspaceID), CreatedBy: string(user),
		CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
		return Grant{}, Internal("store chat string", err)
	}
	return Grant{Kind: kind, Token: token, ChatID: c.ID, WorkspaceID: c.WorkspaceID, CreatedBy: user, CreatedAt: now, ExpiresAt: row.ExpiresAt, Role: c.Role}, nil
}

// ResolveSecret returns what the chat string token of kind allows. The string
// must exist, be unexpired, and its creator must still have a role that
// allows it (a removed member's strings stop working at once). Failures are
// KindUnauthenticated with a message that says which check failed.
func (s *Service) ResolveSecret(ctx context.Context, kind SecretKind, token string) (Grant, error) {
	if !strings.HasPrefix(token, kind.prefix()) {
		return Grant{}, E(KindUnauthenticated, "Invalid "+kind.label())
	}
	hash := hashSecret(token)
	cacheKey := string(kind) + ":" + hash
	if c, ok := s.grants.Load(cacheKey); ok {
		cg := c.(cachedGrant)
		if time.Since(cg.at) < s.cfg.KeyCacheTTL && s.now().Before(cg.grant.ExpiresAt) {
			return cg.grant, nil
		}
		s.grants.Delete(cacheKey)
	}
	var row sqldb.ChatSecret
	err := s.db.QueryRowPrepared(ctx, nil, `SELECT id, chat_id, workspace_id, created_by, created_at, expires_at, last_used_at
		FROM chat_secrets WHERE token_hash = $1 AND kind = $2`, hash, string(kind)).
		Scan(&row.ID, &row.ChatID, &row.WorkspaceID, &row.CreatedBy, &row.CreatedAt, &row.ExpiresAt, &row.LastUsedAt)
	if sqldb.IsNoRows(err) {
		return Grant{}, E(KindUnauthenticated, "Invalid "+kind.label())
	}
	if err != nil {
		return Grant{}, Internal("resolve chat string", err)
	}
	now := s.now()
	if !now.Before(row.ExpiresAt) {
		return Grant{}, E(KindUnauthenticated, "The "+kind.label()+" has expired")
	}
	role, err := s.role(ctx, UserID(row.CreatedBy), WorkspaceID(row.WorkspaceID))
	if err != nil {
		return Grant{}, err
	}
	if role == "" || (kind == MessageString && !role.CanSend()) {
		return Grant{}, E(KindUnauthenticated, "The "+kind.label()+" was revoked")
	}
	// Touched as keys are (keyTouchEvery): a string used for every
	// message of a busy chat does not cost a write each time.
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) >= keyTouchEvery {
		if _, err := s.db.NewUpdate().Model((*sqldb.ChatSecret)(nil)).Set("last_used_at = ?", now).Where("id = ?", row.ID).Exec(ctx); err != nil {
			return Grant{}, Internal("touch chat string", err)
		}
	}
	g := Grant{
		Kind: kind, ChatID: ChatID(row.ChatID), WorkspaceID: WorkspaceID(row.WorkspaceID), CreatedBy: UserID(row.CreatedBy),
		CreatedAt: row.CreatedAt, ExpiresAt: row.ExpiresAt, Role: role,
	}
	if s.cfg.KeyCacheTTL > 0 {
		// A busy chat sends several messages a second with one string:
		// its lookup and role check are reused, as API keys are. Access
		// changed on this node clears them; on others they end within
		// KeyCacheTTL.
		s.grants.Store(cacheKey, cachedGrant{grant: g, at: time.Now()})
	}
	return g, nil
}

// cachedGrant is a chat string ResolveSecret found, and when.
type cachedGrant struct {
	grant Grant
	at    time.Time
}

// PurgeExpiredSecrets deletes chat strings that expired before now and
// returns how many. Run it now and then; expired strings are refused anyway.
func (s *Service) PurgeExpiredSecrets(ctx context.Context) (int64, error) {
	res, err := s.db.NewDelete().Model((*sqldb.ChatSecret)(nil)).Where("expires_at < ?", s.now()).Exec(ctx)
	if err != nil {
		return 0, Internal("purge chat strings", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func hashSecret(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
