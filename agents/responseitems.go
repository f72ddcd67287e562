package agents

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// ResponseItems keeps what the OpenAI Responses API stored (a response's
// conversation, or one output item) in SQL, so a later request on any
// node may refer to it by id (previous_response_id, item_reference).
// Entries expire; every query is scoped to its owner. Safe for concurrent
// use.
type ResponseItems struct {
	db  *sqldb.DB
	cfg ResponseItemsConfig
	// puts counts Put calls; every sweepEvery-th also deletes expired
	// rows.
	puts atomic.Int64
}

// ResponseItemsConfig tunes ResponseItems. The zero value works.
type ResponseItemsConfig struct {
	// TTL is how long an entry is kept. Zero means 24 hours.
	TTL time.Duration
	// MaxEntryBytes caps one entry's JSON; larger ones are not kept. Zero
	// means 1 MiB.
	MaxEntryBytes int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// sweepEvery is how many Puts pass between deletions of expired rows.
const sweepEvery = 256

// NewResponseItems returns the stored responses of db.
func NewResponseItems(db *sqldb.DB, cfg ResponseItemsConfig) *ResponseItems {
	if cfg.TTL <= 0 {
		cfg.TTL = 24 * time.Hour
	}
	if cfg.MaxEntryBytes <= 0 {
		cfg.MaxEntryBytes = 1 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &ResponseItems{db: db, cfg: cfg}
}

// Put keeps entries (id → messages) for owner, replacing entries of the
// same ids, in one statement. Entries over MaxEntryBytes are left out.
func (r *ResponseItems) Put(ctx context.Context, owner string, entries map[string][]ModelMessage) error {
	now := r.cfg.Now().UTC().Truncate(time.Microsecond)
	rows := make([]sqldb.ResponseItem, 0, len(entries))
	for id, msgs := range entries {
		b, err := json.Marshal(msgs)
		if err != nil || len(b) > r.cfg.MaxEntryBytes {
			continue
		}
		rows = append(rows, sqldb.ResponseItem{OwnerID: owner, ID: id, Messages: string(b), CreatedAt: now, ExpiresAt: now.Add(r.cfg.TTL)})
	}
	if len(rows) == 0 {
		return nil
	}
	_, err := r.db.NewInsert().Model(&rows).
		On("CONFLICT (owner_id, id) DO UPDATE").Set("messages = EXCLUDED.messages").Set("expires_at = EXCLUDED.expires_at").
		Exec(ctx)
	if err != nil {
		return workspaces.Internal("store response", err)
	}
	if r.puts.Add(1)%sweepEvery == 0 {
		if _, err := r.db.NewDelete().Model((*sqldb.ResponseItem)(nil)).Where("expires_at <= ?", now).Exec(ctx); err != nil {
			return workspaces.Internal("delete expired responses", err)
		}
	}
	return nil
}

// Get returns owner's entry id; ok is false when there is none (never
// kept, or expired).
func (r *ResponseItems) Get(ctx context.Context, owner, id string) (msgs []ModelMessage, ok bool, err error) {
	var row sqldb.ResponseItem
	err = r.db.NewSelect().Model(&row).
		Where("owner_id = ? AND id = ? AND expires_at > ?", owner, id, r.cfg.Now().UTC()).Scan(ctx)
	if sqldb.IsNoRows(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, workspaces.Internal("find response", err)
	}
	if err := json.Unmarshal([]byte(row.Messages), &msgs); err != nil {
		return nil, false, workspaces.Internal("read response", err)
	}
	return msgs, true, nil
}
