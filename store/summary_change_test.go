package store

import (
	"context"
	"errors"
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

// mustFreshSummary works the account's cards out from every plan, bypassing
// the cache.
func mustFreshSummary(t *testing.T, db *DB, account int64, today Date) Summary {
	t.Helper()
	var s Summary
	err := db.view(context.Background(), func(tx *Tx) error {
		var err error
		s, err = planSummary(context.Background(), tx, account, VND, today)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustMixedPlans adds n plans of random dates in the first half of 2026, of
// every payment option, a third of them not yet activated and one suspended,
// and applies usage that runs some of them out.
func mustMixedPlans(t *testing.T, f *ledgerFixture, rng *rand.Rand, n int) {
	t.Helper()
	base := NewDate(2026, 1, 1)
	for i := range n {
		start := base.AddDays(rng.IntN(120))
		end := start.AddDays(rng.IntN(70))
		code := fmt.Sprintf("BP-%02d", i)
		f.plan(t, code, start.String(), end.String(), int64(100_000+rng.IntN(20)*100_000), map[string]string{"gpu": "50000"})
		switch i % 3 {
		case 1:
			MustExec(t, f.db, `UPDATE plans SET activated_at = NULL, paid_total = 0 WHERE code = ?`, code)
		case 2:
			MustExec(t, f.db, `UPDATE plans SET activated_at = NULL, paid_total = 0, payment_option = 'partial_upfront',
				upfront_amount = amount / 2 WHERE code = ?`, code)
		}
	}
	MustExec(t, f.db, `UPDATE plans SET suspended = 1 WHERE code = 'BP-00'`)
	var events []UsageEvent
	for i := range 60 {
		at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(180*24)) * time.Hour)
		events = append(events, UsageEvent{ID: fmt.Sprintf("u%d", i), AccountCode: "acme", ServiceCode: "gpu",
			Quantity: decimal.NewFromInt(int64(1 + rng.IntN(6))), At: at})
	}
	MustApply(t, f.db, events...)
}

// TestSummaryCardsMoveWithPaymentsAndRenewals pays and renews plans of every
// status and checks, after each, that the cards moved by the action are the
// cards worked out afresh, and that they did move (no reader had to work them
// out again).
func TestSummaryCardsMoveWithPaymentsAndRenewals(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	mustMixedPlans(t, f, rng, 30)
	loc := LoadLocation("Asia/Ho_Chi_Minh")
	days := []Date{NewDate(2026, 1, 20), NewDate(2026, 3, 1), NewDate(2026, 4, 15), NewDate(2026, 6, 30)}
	paid, renewed := 0, 0
	for step := range 80 {
		today := days[rng.IntN(len(days))]
		f.db.Now = func() time.Time { return today.Start(loc).Add(12 * time.Hour) }
		if _, err := f.db.PlanSummary(ctx, f.account, VND, today); err != nil {
			t.Fatal(err)
		}
		code := fmt.Sprintf("BP-%02d", rng.IntN(30))
		key, err := NewIdempotencyKey()
		if err != nil {
			t.Fatal(err)
		}
		if step%2 == 0 {
			due := mustInt(t, f.db, `SELECT amount - paid_total FROM plans WHERE code = ?`, code)
			if due <= 0 {
				continue
			}
			_, err = f.db.Pay(ctx, SandboxGateway{}, PayRequest{AccountID: f.account, PlanCode: code,
				Amount: Money{1 + rng.Int64N(due), VND}, Method: Online, CardNumber: "4242 4242 4242 4242",
				IdempotencyKey: key, Actor: "an@acme.test"})
			if err == nil {
				paid++
			}
		} else {
			_, err = f.db.Renew(ctx, RenewRequest{AccountID: f.account, PlanCode: code, Months: []int{1, 3}[rng.IntN(2)],
				Price: Money{int64(rng.IntN(5)) * 100_000, VND}, IdempotencyKey: key, Actor: "an@acme.test"})
			if err == nil {
				renewed++
			}
		}
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("step %d: %v", step, err)
			}
			continue // a plan that cannot be paid or renewed on that day
		}
		c, ok := f.db.summaries.Load(f.account)
		version := mustInt(t, f.db, `SELECT plans_version FROM accounts WHERE id = ?`, f.account)
		if !ok || c.(cachedSummary).version != version || c.(cachedSummary).today != today {
			t.Fatalf("step %d (%s): the cached cards did not move with the action", step, code)
		}
		if got, want := c.(cachedSummary).summary, mustFreshSummary(t, f.db, f.account, today); got != want {
			t.Fatalf("step %d (%s on %s):\n moved   %+v\n afresh  %+v", step, code, today, got, want)
		}
	}
	if paid < 10 || renewed < 10 {
		t.Errorf("only %d payments and %d renewals went through: the test covers too little", paid, renewed)
	}
}

// TestSummaryCardsMoveWithTheDays asks for the cards day after day, by steps
// of up to nine days across month ends: each day's cards, moved from the
// previous day's by the plans starting and ending in between, are the cards
// worked out afresh.
func TestSummaryCardsMoveWithTheDays(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(9, 10))
	mustMixedPlans(t, f, rng, 40)
	day := NewDate(2025, 12, 25)
	prev := mustFreshSummary(t, f.db, f.account, day)
	if _, err := f.db.PlanSummary(ctx, f.account, VND, day); err != nil {
		t.Fatal(err)
	}
	for day.Before(NewDate(2026, 8, 1)) {
		next := day.AddDays(1 + rng.IntN(9))
		want := mustFreshSummary(t, f.db, f.account, next)
		var moved Summary
		err := f.db.view(ctx, func(tx *Tx) error {
			var err error
			moved, err = advanceDays(ctx, tx, f.account, VND, prev, day, next)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if moved != want {
			t.Fatalf("from %s to %s:\n moved   %+v\n afresh  %+v", day, next, moved, want)
		}
		got, err := f.db.PlanSummary(ctx, f.account, VND, next)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("PlanSummary on %s:\n got     %+v\n afresh  %+v", next, got, want)
		}
		day, prev = next, want
	}
}
