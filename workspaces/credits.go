package workspaces

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/persistence/sqldb"
)

// DefaultFreeCredits is what a new user may spend before buying more
// (seed 000's pay-as-you-go model with free credits; seed 003's tier 1).
const DefaultFreeCredits = 10_000

// CreditEntry is a line of a user's credit ledger: a grant (positive) or a
// spend (negative).
type CreditEntry struct {
	Amount    float64
	Reason    string
	Ref       string
	CreatedAt time.Time
}

// Credits returns user's balance and latest ledger entries, newest first.
// A user who has never spent holds the free credits.
func (s *Service) Credits(ctx context.Context, user UserID, limit int) (float64, []CreditEntry, error) {
	bal, err := s.Balance(ctx, user)
	if err != nil {
		return 0, nil, err
	}
	var rows []sqldb.CreditEntry
	if err := s.db.NewSelect().Model(&rows).Where("user_id = ?", string(user)).OrderExpr("created_at DESC, id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return 0, nil, Internal("read ledger", err)
	}
	out := make([]CreditEntry, len(rows))
	for i, r := range rows {
		out[i] = CreditEntry{Amount: r.Amount, Reason: r.Reason, Ref: r.Ref, CreatedAt: r.CreatedAt}
	}
	return bal, out, nil
}

// Balance returns user's credits.
func (s *Service) Balance(ctx context.Context, user UserID) (float64, error) {
	var row sqldb.CreditBalance
	err := s.db.NewSelect().Model(&row).Where("user_id = ?", string(user)).Scan(ctx)
	if sqldb.IsNoRows(err) {
		return s.cfg.FreeCredits, nil
	}
	if err != nil {
		return 0, Internal("read balance", err)
	}
	return row.Balance, nil
}

// CheckCredits is KindPaymentRequired when user has no credits left: the
// API refuses new requests of agents they own (402).
func (s *Service) CheckCredits(ctx context.Context, user UserID) error {
	return s.CheckCreditsFor(ctx, user, 0)
}

// CheckCreditsFor is CheckCredits for a request with a fixed price: it is
// KindPaymentRequired also when user has less than price left.
func (s *Service) CheckCreditsFor(ctx context.Context, user UserID, price float64) error {
	var bal float64
	if c, ok := s.balances.Load(user); ok && time.Since(c.(checkedBalance).at) < s.cfg.CreditCheckTTL {
		bal = c.(checkedBalance).balance
	} else {
		var err error
		if bal, err = s.Balance(ctx, user); err != nil {
			return err
		}
		if s.cfg.CreditCheckTTL > 0 {
			s.balances.Store(user, checkedBalance{bal, time.Now()})
		}
	}
	if bal <= 0 || bal < price {
		return E(KindPaymentRequired, "The agent owner's credits have run out")
	}
	return nil
}

// checkedBalance is a balance CheckCredits read, and when.
type checkedBalance struct {
	balance float64
	at      time.Time
}

// SpendCredits takes amount from user's credits in db (a transaction of
// the caller's, so a run's outcome and its charge are stored together).
// The balance may go below zero by the last request's price.
func (s *Service) SpendCredits(ctx context.Context, db bun.IDB, user UserID, amount float64, reason, ref string) error {
	if amount <= 0 {
		return nil
	}
	return s.addCredits(ctx, db, user, -amount, reason, ref)
}

// addCredits records delta in the ledger and the balance.
func (s *Service) addCredits(ctx context.Context, db bun.IDB, user UserID, delta float64, reason, ref string) error {
	now := s.now()
	if _, err := db.NewInsert().Model(&sqldb.CreditEntry{ID: NewID(), UserID: string(user), Amount: delta, Reason: reason, Ref: ref, CreatedAt: now}).Exec(ctx); err != nil {
		return err
	}
	row := &sqldb.CreditBalance{UserID: string(user), Balance: s.cfg.FreeCredits + delta, UpdatedAt: now}
	_, err := db.NewInsert().Model(row).
		On("CONFLICT (user_id) DO UPDATE").Set("balance = ?TableAlias.balance + ?", delta).Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	return err
}

// GrantCredits adds amount to user's credits (a purchase, an operator's
// grant).
func (s *Service) GrantCredits(ctx context.Context, user UserID, amount float64, reason string) error {
	if amount <= 0 {
		return E(KindInvalid, "The amount must be positive")
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return s.addCredits(ctx, tx, user, amount, reason, "")
	})
	if err != nil {
		return Internal("grant credits", err)
	}
	s.balances.Delete(user)
	return nil
}

// Charge takes amount from user's credits in a transaction of its own.
func (s *Service) Charge(ctx context.Context, user UserID, amount float64, reason, ref string) error {
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return s.SpendCredits(ctx, tx, user, amount, reason, ref)
	})
	if err != nil {
		return Internal("charge credits", err)
	}
	return nil
}
