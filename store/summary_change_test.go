package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// TestSummaryCardsMoveWithUsage applies batches of usage to plans of every
// status and checks, after each, that the cached cards the batch moved are
// the cards worked out afresh from the plans. Days to judge on are drawn per
// batch, so plans that have not started, that ended, and that run out during
// a batch all change.
func TestSummaryCardsMoveWithUsage(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	base := NewDate(2026, 1, 1)
	for i := range 40 {
		start := base.AddDays(rng.IntN(60))
		end := start.AddDays(10 + rng.IntN(60))
		prices := map[string]string{"gpu": "50000"}
		if rng.IntN(2) == 0 {
			prices["storage"] = "500"
		}
		f.plan(t, fmt.Sprintf("BP-%02d", i), start.String(), end.String(), int64(100_000+rng.IntN(20)*100_000), prices)
	}
	// Plans the ledger does not draw from still count on the cards.
	MustExec(t, f.db, `UPDATE plans SET suspended = 1 WHERE code = 'BP-00'`)
	MustExec(t, f.db, `UPDATE plans SET activated_at = NULL WHERE code = 'BP-01'`)

	days := []Date{NewDate(2026, 1, 20), NewDate(2026, 2, 15), NewDate(2026, 3, 31)}
	for batch := range 30 {
		today := days[rng.IntN(len(days))]
		if _, err := f.db.PlanSummary(ctx, f.account, VND, today); err != nil {
			t.Fatal(err)
		}
		var events []UsageEvent
		for i := range 25 {
			svc := []string{"gpu", "storage"}[rng.IntN(2)]
			at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(120*24)) * time.Hour)
			events = append(events, UsageEvent{ID: fmt.Sprintf("b%d-%d", batch, i), AccountCode: "acme", ServiceCode: svc,
				Quantity: decimal.New(int64(1+rng.IntN(30)), -1), At: at})
		}
		MustApply(t, f.db, events...)

		c, ok := f.db.summaries.Load(f.account)
		version := mustInt(t, f.db, `SELECT plans_version FROM accounts WHERE id = ?`, f.account)
		if !ok || c.(cachedSummary).version != version || c.(cachedSummary).today != today {
			t.Fatalf("batch %d: the cached cards did not move with the batch", batch)
		}
		var want Summary
		err := f.db.view(ctx, func(tx *Tx) error {
			var err error
			want, err = planSummary(ctx, tx, f.account, VND, today)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.(cachedSummary).summary; got != want {
			t.Fatalf("batch %d, on %s:\n moved   %+v\n afresh  %+v", batch, today, got, want)
		}
	}
	// The batches did make plans run out, and spent in both months of a card.
	if n := mustInt(t, f.db, `SELECT COUNT(*) FROM plans WHERE amount > 0 AND consumed >= amount AND end_date >= '2026-03-31'`); n == 0 {
		t.Error("no plan ran out before its end: the test does not cover depletion")
	}
}

// TestSummaryCardsAfterOtherChanges checks that a change other than usage
// (here a hand-run UPDATE between two batches) is never hidden by a batch
// moving the cards: the batch finds the cards of an older version, leaves
// them, and the cards are worked out afresh.
func TestSummaryCardsAfterOtherChanges(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	ctx := context.Background()
	today := NewDate(2026, 11, 10)
	f.plan(t, "BP-1", "2026-11-01", "2026-11-30", 1_000_000, map[string]string{"gpu": "1000"})
	f.plan(t, "BP-2", "2026-11-01", "2026-12-31", 1_000_000, map[string]string{"gpu": "1000"})
	if _, err := f.db.PlanSummary(ctx, f.account, VND, today); err != nil {
		t.Fatal(err)
	}
	MustExec(t, f.db, `UPDATE plans SET amount = 2000000 WHERE code = 'BP-2'`)
	MustApply(t, f.db, ev("e1", "gpu", "3", "2026-11-09T10:00:00+07:00"))
	s, err := f.db.PlanSummary(ctx, f.account, VND, today)
	if err != nil {
		t.Fatal(err)
	}
	if s.TotalAmount.Minor != 3_000_000 || s.TotalSpent.Minor != 3000 || s.SpentThisMonth.Minor != 3000 || s.RemainingActive.Minor != 2_997_000 {
		t.Errorf("got %+v; want amount 3,000,000, spent 3,000 this month, 2,997,000 remaining", s)
	}
}
