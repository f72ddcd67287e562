package workspaces

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/persistence/sqldb"
)

// KeyKind says whom an API key speaks for.
type KeyKind string

// The kinds of API key.
const (
	// UserKey acts as its user (seed 000's user API keys, seed 003's
	// trust keys).
	UserKey KeyKind = "user"
	// AgentKey reaches one agent only (seed 000's agent API keys).
	AgentKey KeyKind = "agent"
)

// prefix makes a leaked key recognizable by its kind.
func (k KeyKind) prefix() string {
	if k == AgentKey {
		return "ata_"
	}
	return "atk_"
}

// maxKeyName caps a key's name.
const maxKeyName = 200

// APIKey is an API key as its owner sees it. Secret is set only in the
// answer that creates the key: the database keeps only its SHA-256.
type APIKey struct {
	ID      string
	Kind    KeyKind
	UserID  UserID
	AgentID string
	Name    string
	// Prefix is the key's first characters, to tell keys apart.
	Prefix     string
	Secret     string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// CreateKey issues a new key of kind for user, bound to agent when kind is
// AgentKey (the caller checks that user may do that).
func (s *Service) CreateKey(ctx context.Context, user UserID, kind KeyKind, agent, name string) (APIKey, error) {
	name = strings.TrimSpace(name)
	if len(name) > maxKeyName {
		return APIKey{}, Errorf(KindInvalid, "Key name must be at most %d characters", maxKeyName)
	}
	var b [32]byte
	rand.Read(b[:])
	secret := kind.prefix() + base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now().UTC().Truncate(time.Microsecond)
	row := &sqldb.APIKey{
		ID: NewID(), Kind: string(kind), UserID: string(user), Name: name, Prefix: secret[:12],
		KeyHash: hashSecret(secret), CreatedAt: now,
	}
	if kind == AgentKey {
		row.AgentID = &agent
	}
	if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
		return APIKey{}, Internal("create api key", err)
	}
	k := keyFromRow(row)
	k.Secret = secret
	return k, nil
}

// Keys lists user's keys of kind (for AgentKey, those of agent), newest
// first.
func (s *Service) Keys(ctx context.Context, user UserID, kind KeyKind, agent string) ([]APIKey, error) {
	var rows []sqldb.APIKey
	q := s.db.NewSelect().Model(&rows).Where("user_id = ? AND kind = ?", string(user), string(kind))
	if kind == AgentKey {
		q = q.Where("agent_id = ?", agent)
	}
	if err := q.OrderExpr("created_at DESC, id").Scan(ctx); err != nil {
		return nil, Internal("list api keys", err)
	}
	out := make([]APIKey, len(rows))
	for i := range rows {
		out[i] = keyFromRow(&rows[i])
	}
	return out, nil
}

// DeleteKey revokes user's key id of kind (for AgentKey, of agent) at once.
func (s *Service) DeleteKey(ctx context.Context, user UserID, kind KeyKind, agent, id string) error {
	if !ValidID(id) {
		return E(KindNotFound, "API key not found")
	}
	q := s.db.NewDelete().Model((*sqldb.APIKey)(nil)).Where("id = ? AND user_id = ? AND kind = ?", id, string(user), string(kind))
	if kind == AgentKey {
		q = q.Where("agent_id = ?", agent)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return Internal("delete api key", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return E(KindNotFound, "API key not found")
	}
	s.forgetKey(id)
	return nil
}

// keyTouchEvery is how stale last_used_at may get: a busy key is not
// written on every request.
const keyTouchEvery = 30 * time.Second

// ResolveKey returns the key secret is, and records its use. An unknown or
// revoked key is KindUnauthenticated.
func (s *Service) ResolveKey(ctx context.Context, secret string) (APIKey, error) {
	secret = strings.TrimSpace(secret)
	if !strings.HasPrefix(secret, UserKey.prefix()) && !strings.HasPrefix(secret, AgentKey.prefix()) {
		return APIKey{}, E(KindUnauthenticated, "Invalid API key")
	}
	hash := hashSecret(secret)
	if c, ok := s.keys.Load(hash); ok && time.Since(c.(cachedKey).at) < s.cfg.KeyCacheTTL {
		return c.(cachedKey).key, nil
	}
	var row sqldb.APIKey
	err := s.db.NewSelect().Model(&row).Where("key_hash = ?", hash).Scan(ctx)
	if sqldb.IsNoRows(err) {
		return APIKey{}, E(KindUnauthenticated, "Invalid API key")
	}
	if err != nil {
		return APIKey{}, Internal("resolve api key", err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) >= keyTouchEvery {
		if _, err := s.db.NewUpdate().Model((*sqldb.APIKey)(nil)).Set("last_used_at = ?", now).Where("id = ?", row.ID).Exec(ctx); err != nil {
			return APIKey{}, Internal("touch api key", err)
		}
		row.LastUsedAt = &now
	}
	k := keyFromRow(&row)
	if s.cfg.KeyCacheTTL > 0 {
		s.keys.Store(hash, cachedKey{k, time.Now()})
	}
	return k, nil
}

// cachedKey is a key ResolveKey found, and when.
type cachedKey struct {
	key APIKey
	at  time.Time
}

// forgetKey drops key id from this node's cache of resolved keys.
func (s *Service) forgetKey(id string) {
	s.keys.Range(func(h, c any) bool {
		if c.(cachedKey).key.ID == id {
			s.keys.Delete(h)
		}
		return true
	})
}

// IsKey says whether s looks like an API key of kind (not whether it is one).
func IsKey(s string, kind KeyKind) bool { return strings.HasPrefix(s, kind.prefix()) }

func keyFromRow(r *sqldb.APIKey) APIKey {
	k := APIKey{ID: r.ID, Kind: KeyKind(r.Kind), UserID: UserID(r.UserID), Name: r.Name, Prefix: r.Prefix, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt}
	if r.AgentID != nil {
		k.AgentID = *r.AgentID
	}
	return k
}
