package workspaces

import (
	"sync"
	"time"

	"github.com/atrium-hq/atrium/persistence/sqldb"
)

// Config configures a Service. The zero value works.
type Config struct {
	// ConnectionStringTTL is how long a connection string from
	// GET /chat/authorize stays valid. Zero means one hour.
	ConnectionStringTTL time.Duration
	// MessageStringTTL is how long a message string from
	// GET /chat/authorize/message stays valid. Zero means ten minutes.
	MessageStringTTL time.Duration
	// FreeCredits is what a user may spend before buying credits. Zero
	// means DefaultFreeCredits; negative means none.
	FreeCredits float64
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// CreditCheckTTL lets CheckCredits reuse a balance it read for this
	// long, so a busy API does not read it on every request; a user may
	// then overspend by what they spend in that time. Zero reads it every
	// time.
	CreditCheckTTL time.Duration
	// KeyCacheTTL lets ResolveKey reuse a key it found for this long, and
	// ResolveSecret a chat string (with the role it gives).
	// A revoked key stops working at once on the node that revokes it,
	// and within KeyCacheTTL on the others. Zero reads it every time.
	KeyCacheTTL time.Duration
	// AccessChanged, when set, is called after someone lost access to
	// workspace ws: user was removed, or (user empty) the workspace or one
	// of its chats was deleted. The live hubs re-check their connections.
	AccessChanged func(ws WorkspaceID, user UserID)
}

// Service is the workspaces domain over a SQL database. Safe for concurrent use.
type Service struct {
	db     *sqldb.DB
	cfg    Config
	hasher *hasher
	// balances caches CheckCredits' reads: UserID → checkedBalance.
	balances sync.Map
	// keys caches ResolveKey's finds: key hash → cachedKey.
	keys sync.Map
	// grants caches ResolveSecret's finds: kind and string hash →
	// cachedGrant, for KeyCacheTTL. Changes of access on this node clear
	// it (forgetGrants).
	grants sync.Map
	// users caches Author's finds: UserID → cachedUser, for KeyCacheTTL.
	users sync.Map
}

// forgetGrants drops every cached chat string: someone's access changed.
func (s *Service) forgetGrants() { s.grants.Clear() }

// accessChanged tells cfg.AccessChanged, if set.
func (s *Service) accessChanged(ws WorkspaceID, user UserID) {
	if s.cfg.AccessChanged != nil {
		s.cfg.AccessChanged(ws, user)
	}
}

// New returns a Service on db, which must be migrated.
func New(db *sqldb.DB, cfg Config) *Service {
	if cfg.ConnectionStringTTL == 0 {
		cfg.ConnectionStringTTL = time.Hour
	}
	if cfg.MessageStringTTL == 0 {
		cfg.MessageStringTTL = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FreeCredits == 0 {
		cfg.FreeCredits = DefaultFreeCredits
	} else if cfg.FreeCredits < 0 {
		cfg.FreeCredits = 0
	}
	return &Service{db: db, cfg: cfg, hasher: newHasher()}
}

// now returns the current time in UTC, truncated to microseconds so it
// round-trips through both databases unchanged.
func (s *Service) now() time.Time {
	return s.cfg.Now().UTC().Truncate(time.Microsecond)
}
