package store

import (
	"context"
	"testing"
)

func TestParseRenewalTerm(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"1", 1, true}, {"3", 3, true}, {" 6 ", 6, true}, {"12", 12, true},
		{"2", 0, false}, {"0", 0, false}, {"-1", 0, false}, {"24", 0, false}, {"", 0, false}, {"three", 0, false},
	} {
		got, err := ParseRenewalTerm(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseRenewalTerm(%q) = %d, %v", tt.in, got, err)
		}
	}
}

func TestRenewalDefaults(t *testing.T) {
	tests := []struct {
		name      string
		plan      Plan
		wantTerm  int
		wantPrice int64
	}{
		// ₫100,000,000 ÷ 3 = ₫33,333,333.33: the rate is rounded before it is multiplied.
		{"a 3-month plan renews for 3 months at its rounded monthly rate", Plan{FirstTermMonths: 3, FirstTermAmount: Money{100_000_000, VND}, Amount: Money{1, VND}}, 3, 99_999_999},
		{"a 2-month plan is offered a month", Plan{FirstTermMonths: 2, FirstTermAmount: Money{62_000_000, VND}, Amount: Money{1, VND}}, 1, 31_000_000},
		{"a year's plan in dollars, to the cent", Plan{FirstTermMonths: 12, FirstTermAmount: Money{100_000, USD}, Amount: Money{1, USD}}, 12, 99_996},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			term := tt.plan.DefaultRenewalTerm()
			if price := tt.plan.RenewalPrice(term); term != tt.wantTerm || price.Minor != tt.wantPrice {
				t.Errorf("term %d, price %d; want %d, %d", term, price.Minor, tt.wantTerm, tt.wantPrice)
			}
		})
	}
}

func TestRenew(t *testing.T) {
	f := mustPayFixture(t)
	ctx := context.Background()
	// An active plan, 1 Jan–31 Mar 2026, paid: renewed for 1 month on 2 March, it runs to 30 April.
	id := f.plan(t, "BP-1", "2026-01-01", "2026-03-31", 3_000_000, map[string]string{"gpu": "50000"})
	req := RenewRequest{AccountID: f.account, PlanCode: "BP-1", Months: 1, Price: Money{1_000_000, VND}, IdempotencyKey: newKey(t), Actor: "ana@acme.test"}
	res, err := f.db.Renew(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Renewal
	if r.NewStartDate.String() != "2026-04-01" || r.NewEndDate.String() != "2026-04-30" || r.OldEndDate.String() != "2026-03-31" || res.Replayed {
		t.Errorf("renewal = %+v", r)
	}
	p, err := f.db.FindPlan(ctx, f.account, "BP-1")
	if err != nil {
		t.Fatal(err)
	}
	if p.EndDate.String() != "2026-04-30" || p.Amount.Minor != 4_000_000 || p.AmountDue().Minor != 1_000_000 || p.Status(NewDate(2026, 3, 2)) != StatusActive {
		t.Errorf("plan = ends %s, amount %d, due %d", p.EndDate, p.Amount.Minor, p.AmountDue().Minor)
	}

	t.Run("the same form again renews nothing and gives the first renewal", func(t *testing.T) {
		again := req
		again.Months = 12
		res, err := f.db.Renew(ctx, again)
		if err != nil || !res.Replayed || res.Renewal.ID != r.ID || res.Renewal.TermMonths != 1 {
			t.Errorf("result %+v, err %v", res, err)
		}
		if n := mustInt(t, f.db, `SELECT COUNT(*) FROM renewals WHERE plan_id = ?`, id); n != 1 {
			t.Errorf("%d renewals", n)
		}
	})
	t.Run("a price of zero is allowed", func(t *testing.T) {
		req := req
		req.Price, req.IdempotencyKey = Money{0, VND}, newKey(t)
		res, err := f.db.Renew(ctx, req)
		if err != nil || res.Renewal.NewStartDate.String() != "2026-05-01" || res.Renewal.NewEndDate.String() != "2026-05-31" {
			t.Errorf("result %+v, err %v", res, err)
		}
	})

	bad := []struct {
		name    string
		change  func(r *RenewRequest)
		field   string
		message string
	}{
		{"a term not offered", func(r *RenewRequest) { r.Months = 2 }, "term", "1, 3, 6 or 12"},
		{"a negative price", func(r *RenewRequest) { r.Price.Minor = -1 }, "price", "below zero"},
		{"a price in another currency", func(r *RenewRequest) { r.Price.Currency = USD }, "price", "VND"},
		{"no key", func(r *RenewRequest) { r.IdempotencyKey = "" }, "form", "out of date"},
	}
	for _, tt := range bad {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			r := req
			r.IdempotencyKey = newKey(t)
			tt.change(&r)
			before := mustInt(t, f.db, `SELECT COUNT(*) FROM renewals`)
			_, err := f.db.Renew(ctx, r)
			mustField(t, err, tt.field, tt.message)
			if mustInt(t, f.db, `SELECT COUNT(*) FROM renewals`) != before {
				t.Error("a renewal was written")
			}
		})
	}
	t.Run("a plan not started yet is refused", func(t *testing.T) {
		f.plan(t, "BP-SOON", "2026-03-03", "2026-06-02", 3_000_000, nil)
		r := req
		r.PlanCode, r.IdempotencyKey = "BP-SOON", newKey(t)
		_, err := f.db.Renew(ctx, r)
		mustField(t, err, "plan", "BP-SOON has not started yet (it starts on 3 Mar 2026)")
	})
	t.Run("another account's plan is not found", func(t *testing.T) {
		r := req
		r.AccountID, r.IdempotencyKey = f.account+100, newKey(t)
		if _, err := f.db.Renew(ctx, r); ErrorCode(err) != ENOTFOUND {
			t.Errorf("err = %v", err)
		}
	})
}

func TestRenewAnExpiredPlan(t *testing.T) {
	f := mustPayFixture(t)
	ctx := context.Background()
	f.plan(t, "BP-OLD", "2025-11-01", "2026-01-31", 3_000_000, nil)
	res, err := f.db.Renew(ctx, RenewRequest{AccountID: f.account, PlanCode: "BP-OLD", Months: 3, Price: Money{3_000_000, VND},
		IdempotencyKey: newKey(t), Actor: "ana@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	// From today, 2 March 2026, for 3 months: to 1 June 2026.
	if r := res.Renewal; r.NewStartDate.String() != "2026-03-02" || r.NewEndDate.String() != "2026-06-01" {
		t.Errorf("renewal = %s–%s", r.NewStartDate, r.NewEndDate)
	}
}
