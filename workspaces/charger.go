package workspaces

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/persistence/sqldb"
)

// ChargerConfig tunes a Charger. The zero value works.
type ChargerConfig struct {
	// Every is how long a charge may wait before it is written. Zero
	// means 200 ms.
	Every time.Duration
	// Batch writes as soon as this many charges wait. Zero means 512.
	Batch int
	// Logger reports failed writes. Nil means slog.Default.
	Logger *slog.Logger
}

// Charger writes many small charges (one per direct model call) in few
// transactions: the charges of a batch with the same user, reason and ref
// make one ledger line ("model gpt-4o-mini (37 calls)"), and each user's
// balance changes once per batch. A busy API would otherwise pay a
// database transaction per request, which on SQLite is a disk sync.
// Charges wait at most Every; Run writes what waits when it stops, so only
// a crash loses them (at most Every's worth). Safe for concurrent use.
type Charger struct {
	s    *Service
	cfg  ChargerConfig
	kick chan struct{}

	mu      sync.Mutex // guards pending
	pending []sqldb.CreditEntry
}

// NewCharger returns a Charger of s's credits. Run must be running for
// charges to be written.
func NewCharger(s *Service, cfg ChargerConfig) *Charger {
	if cfg.Every <= 0 {
		cfg.Every = 200 * time.Millisecond
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 512
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Charger{s: s, cfg: cfg, kick: make(chan struct{}, 1)}
}

// Charge queues amount for user's credits (nothing when amount is not
// positive).
func (c *Charger) Charge(user UserID, amount float64, reason, ref string) {
	if amount <= 0 {
		return
	}
	c.mu.Lock()
	// The line's id is made when it is written (write): most charges
	// merge into another's line.
	c.pending = append(c.pending, sqldb.CreditEntry{UserID: string(user), Amount: -amount, Reason: reason, Ref: ref, CreatedAt: c.s.now()})
	full := len(c.pending) >= c.cfg.Batch
	c.mu.Unlock()
	if full {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// Run writes the queued charges until ctx is done, then writes what is
// left (with a context of its own, so a shutdown does not drop them).
func (c *Charger) Run(ctx context.Context) {
	t := time.NewTicker(c.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			c.Flush(flush)
			cancel()
			return
		case <-t.C:
		case <-c.kick:
		}
		c.Flush(ctx)
	}
}

// Flush writes the queued charges now. On failure they are queued again
// for the next try.
func (c *Charger) Flush(ctx context.Context) {
	c.mu.Lock()
	batch := c.pending
	c.pending = nil
	c.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := c.write(ctx, batch); err != nil {
		if ctx.Err() == nil {
			// (A write cut by Run's stop is written again at once.)
			c.cfg.Logger.Error("credits: write charges", "charges", len(batch), "err", err)
		}
		c.mu.Lock()
		c.pending = append(batch, c.pending...)
		c.mu.Unlock()
	}
}

// write stores batch: a ledger line per user, reason and ref, and per
// user one balance change. A line per charge cost a row insert per API
// request, a tenth of the server's CPU at 5,000 requests/s.
func (c *Charger) write(ctx context.Context, batch []sqldb.CreditEntry) error {
	per := map[string]float64{}
	var users []string
	type lineKey struct{ user, reason, ref string }
	lines := map[lineKey]int{} // → index in merged
	var merged []sqldb.CreditEntry
	var counts []int
	for _, e := range batch {
		if _, ok := per[e.UserID]; !ok {
			users = append(users, e.UserID)
		}
		per[e.UserID] += e.Amount
		k := lineKey{e.UserID, e.Reason, e.Ref}
		i, ok := lines[k]
		if !ok {
			lines[k] = len(merged)
			merged = append(merged, e)
			counts = append(counts, 1)
			continue
		}
		merged[i].Amount += e.Amount
		merged[i].CreatedAt = e.CreatedAt
		counts[i]++
	}
	for i, n := range counts {
		if merged[i].ID == "" {
			merged[i].ID = NewID()
		}
		if n > 1 {
			merged[i].Reason += " (" + strconv.Itoa(n) + " calls)"
		}
	}
	now := c.s.now()
	return c.s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&merged).Exec(ctx); err != nil {
			return err
		}
		for _, u := range users {
			delta := per[u]
			row := &sqldb.CreditBalance{UserID: u, Balance: c.s.cfg.FreeCredits + delta, UpdatedAt: now}
			if _, err := tx.NewInsert().Model(row).
				On("CONFLICT (user_id) DO UPDATE").Set("balance = ?TableAlias.balance + ?", delta).Set("updated_at = EXCLUDED.updated_at").
				Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}
