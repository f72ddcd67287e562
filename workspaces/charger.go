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

	mu      sync.Mutex // guards pending and unsure
	pending []sqldb.CreditEntry
	// unsure are the ledger lines of writes that failed, a group per
	// write: the failure may have come after the commit (a connection cut,
	// a context that ended during it), so each group is written again with
	// the same line ids, and a group whose ids exist already was written.
	unsure [][]sqldb.CreditEntry
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

// Flush writes the queued charges now. On failure they wait for the next
// try; a charge is counted once even when a write's commit succeeded but
// its answer was lost.
func (c *Charger) Flush(ctx context.Context) {
	c.mu.Lock()
	batch, unsure := c.pending, c.unsure
	c.pending, c.unsure = nil, nil
	c.mu.Unlock()
	for i, lines := range unsure {
		err := c.write(ctx, lines)
		if sqldb.IsUniqueViolation(err) {
			err = nil // its first write was committed
		}
		if err != nil {
			c.failed(ctx, len(lines), err)
			c.mu.Lock()
			c.unsure = append(unsure[i:], c.unsure...)
			c.pending = append(batch, c.pending...)
			c.mu.Unlock()
			return
		}
	}
	if len(batch) == 0 {
		return
	}
	lines := merge(batch)
	if err := c.write(ctx, lines); err != nil {
		c.failed(ctx, len(batch), err)
		c.mu.Lock()
		c.unsure = append(c.unsure, lines)
		c.mu.Unlock()
	}
}

func (c *Charger) failed(ctx context.Context, n int, err error) {
	if ctx.Err() == nil {
		// (A write cut by Run's stop is written again at once.)
		c.cfg.Logger.Error("credits: write charges", "charges", n, "err", err)
	}
}

// merge makes the ledger lines of batch: one per user, reason and ref,
// each with its id. A line per charge cost a row insert per API request,
// a tenth of the server's CPU at 5,000 requests/s.
func merge(batch []sqldb.CreditEntry) []sqldb.CreditEntry {
	type lineKey struct{ user, reason, ref string }
	lines := map[lineKey]int{} // → index in merged
	var merged []sqldb.CreditEntry
	var counts []int
	for _, e := range batch {
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
		merged[i].ID = NewID()
		if n > 1 {
			merged[i].Reason += " (" + strconv.Itoa(n) + " calls)"
		}
	}
	return merged
}

// write stores lines in one transaction, and changes each user's balance
// once by the sum of that user's lines.
func (c *Charger) write(ctx context.Context, lines []sqldb.CreditEntry) error {
	per := map[string]float64{}
	var users []string
	for _, e := range lines {
		if _, ok := per[e.UserID]; !ok {
			users = append(users, e.UserID)
		}
		per[e.UserID] += e.Amount
	}
	now := c.s.now()
	return c.s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&lines).Exec(ctx); err != nil {
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
