package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestSharesOfTotal(t *testing.T) {
	for _, tc := range []struct {
		name    string
		amounts []int64
		want    string
	}{
		{"no amounts give no shares", nil, ""},
		{"one amount takes the whole", []int64{5}, "100.0"},
		{"all zero amounts give zero shares", []int64{0, 0, 0}, "0.0 0.0 0.0"},
		{"a zero amount beside others has a zero share", []int64{0, 3, 1}, "0.0 75.0 25.0"},
		{"exact shares need no correction", []int64{1, 1, 2}, "25.0 25.0 50.0"},
		{"equal thirds give the missing tenth to the first", []int64{1, 1, 1}, "33.4 33.3 33.3"},
		{"the largest remainder gets the missing tenth", []int64{1, 2}, "33.3 66.7"},
		// 832000, 18750, 54060 are 919.53, 20.72 and 59.75 tenths: rounding
		// each row would say 92.0 + 2.1 + 6.0 = 100.1.
		{"two missing tenths go to the two largest remainders", []int64{832000, 18750, 54060}, "91.9 2.1 6.0"},
		// 1, 2, 2, 2 of 7: 142.86, 285.71 ×3 tenths; remainders 6/7, 5/7 ×3,
		// three tenths missing: to the 1, then to the first two 2s.
		{"equal remainders go to the earlier amount", []int64{1, 2, 2, 2}, "14.3 28.6 28.6 28.5"},
		// 1, 8, 5 of 14: 71.43, 571.43 and 357.14 tenths; the 1 and the 8 have
		// equal remainders, and the one missing tenth goes to the larger, later one.
		{"equal remainders go to the larger amount first", []int64{1, 8, 5}, "7.1 57.2 35.7"},
		{"a tiny amount may have a zero share, and the rest still sums to 100", []int64{1, 999999}, "0.0 100.0"},
		{"negative amounts count as zero", []int64{-5, 5}, "0.0 100.0"},
		{"amounts whose sum overflows an int64 are exact", []int64{math.MaxInt64, math.MaxInt64, math.MaxInt64}, "33.4 33.3 33.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := SharesOfTotal(tc.amounts)
			parts := make([]string, len(got))
			for i, d := range got {
				parts[i] = d.StringFixed(1)
			}
			if s := strings.Join(parts, " "); s != tc.want {
				t.Errorf("SharesOfTotal(%v) = %s, want %s", tc.amounts, s, tc.want)
			}
		})
	}
}

// TestSharesOfTotalAlwaysAddUp checks random amounts: the shares sum to
// exactly 100.0, and each is within a tenth of the exact share.
func TestSharesOfTotalAlwaysAddUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	hundred := decimal.NewFromInt(100)
	tenth := decimal.New(1, -1)
	for range 2000 {
		n := 1 + rng.IntN(12)
		amounts := make([]int64, n)
		var total int64
		for i := range amounts {
			amounts[i] = rng.Int64N(1_000_000_000)
			if rng.IntN(4) == 0 {
				amounts[i] = rng.Int64N(10)
			}
			total += amounts[i]
		}
		if total == 0 {
			continue
		}
		got := SharesOfTotal(amounts)
		sum := decimal.Zero
		for i, s := range got {
			sum = sum.Add(s)
			exact := decimal.NewFromInt(amounts[i]).Mul(hundred).Div(decimal.NewFromInt(total))
			if s.Sub(exact).Abs().GreaterThanOrEqual(tenth) {
				t.Fatalf("%v: share %d is %s, exact %s", amounts, i, s, exact)
			}
		}
		if !sum.Equal(hundred) {
			t.Fatalf("%v: shares %v sum to %s", amounts, got, sum)
		}
	}
}

func TestChartSpan(t *testing.T) {
	today := NewDate(2026, 12, 3)
	for _, tc := range []struct {
		name       string
		start, end Date
		from, to   string
		ok         bool
	}{
		{"a running plan is charted from its start to today", NewDate(2026, 11, 1), NewDate(2026, 12, 31), "2026-11-01", "2026-12-03", true},
		{"a plan that started today has one day", today, NewDate(2026, 12, 31), "2026-12-03", "2026-12-03", true},
		{"an ended plan is charted to its end date", NewDate(2026, 9, 1), NewDate(2026, 11, 30), "2026-09-01", "2026-11-30", true},
		{"a plan that has not started has no chart", NewDate(2026, 12, 4), NewDate(2027, 1, 31), "", "", false},
		{"a plan of three years shows its last 730 days", NewDate(2024, 1, 1), NewDate(2026, 12, 31), "2024-12-04", "2026-12-03", true},
		{"a plan of exactly 730 days shows them all", NewDate(2024, 12, 4), NewDate(2026, 12, 31), "2024-12-04", "2026-12-03", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, to, ok := ChartSpan(Plan{StartDate: tc.start, EndDate: tc.end}, today)
			if from.String() != tc.from || to.String() != tc.to || ok != tc.ok {
				t.Errorf("got %s..%s %v, want %s..%s %v", from, to, ok, tc.from, tc.to, tc.ok)
			}
		})
	}
}

func TestProjectedSpend(t *testing.T) {
	today := NewDate(2026, 12, 3)
	plan := func(amount, consumed int64, end Date) Plan {
		return Plan{StartDate: NewDate(2026, 11, 1), EndDate: end, Amount: Money{amount, VND}, Consumed: Money{consumed, VND}}
	}
	rate := func(s string) decimal.Decimal { return decimal.RequireFromString(s) }
	for _, tc := range []struct {
		name string
		plan Plan
		f    Forecast
		want string
	}{
		{"days after today to the depletion day, at the rate rounded half up",
			plan(10_000, 0, NewDate(2026, 12, 31)),
			Forecast{Kind: ForecastDepletes, BurnRate: rate("100.5"), Days: 4, DepletesOn: NewDate(2026, 12, 6)},
			"2026-12-04:101 2026-12-05:101 2026-12-06:101"},
		{"the last day takes only what is left",
			plan(1_000, 750, NewDate(2026, 12, 31)),
			Forecast{Kind: ForecastDepletes, BurnRate: rate("100.4"), Days: 4, DepletesOn: NewDate(2026, 12, 6)},
			"2026-12-04:100 2026-12-05:100 2026-12-06:50"},
		{"a balance that outlasts the end is carried to the end date",
			plan(1_000_000, 0, NewDate(2026, 12, 6)),
			Forecast{Kind: ForecastOutlastsEnd, BurnRate: rate("7")},
			"2026-12-04:7 2026-12-05:7 2026-12-06:7"},
		{"a depletion on today forecasts nothing more",
			plan(1_000, 990, NewDate(2026, 12, 31)),
			Forecast{Kind: ForecastDepletes, BurnRate: rate("10"), Days: 1, DepletesOn: today},
			""},
		{"no recent usage forecasts nothing", plan(1_000, 0, NewDate(2026, 12, 31)), Forecast{Kind: ForecastNoRecentUsage}, ""},
		{"a plan that is not active forecasts nothing", plan(1_000, 0, NewDate(2026, 12, 31)), Forecast{Kind: ForecastNone}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var parts []string
			for _, d := range ProjectedSpend(tc.plan, today, tc.f, 90) {
				parts = append(parts, fmt.Sprintf("%s:%d", d.Day, d.Amount.Minor))
			}
			if got := strings.Join(parts, " "); got != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	}
	t.Run("at most the given days are forecast", func(t *testing.T) {
		got := ProjectedSpend(plan(1_000_000_000, 0, NewDate(2027, 12, 31)), today, Forecast{Kind: ForecastOutlastsEnd, BurnRate: rate("1")}, 90)
		if len(got) != 90 || got[89].Day != NewDate(2027, 3, 3) {
			t.Errorf("got %d days, the last %v; want 90 to 2027-03-03", len(got), got[len(got)-1].Day)
		}
	})
}

// TestPlanDetail reads a plan with usage on chosen days, payments, renewals
// and audit entries, and checks each figure against one worked out by hand.
func TestPlanDetail(t *testing.T) {
	ctx := context.Background()
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	plan := f.plan(t, "BP-1", "2026-03-01", "2026-03-31", 1_000_000, map[string]string{"gpu": "10000", "tokens": "0.001"})
	other := f.plan(t, "BP-2", "2026-03-01", "2026-03-31", 1_000_000, map[string]string{"storage": "500"})
	globex := MustExec(t, f.db, `INSERT INTO accounts (code, name, currency, timezone) VALUES ('globex', 'Globex', 'VND', 'UTC')`)
	MustExec(t, f.db, `INSERT INTO plans (account_id, code, type, start_date, end_date, first_term_months, first_term_amount, amount,
		region, payment_option, payment_method, created_at, created_by)
		VALUES (?, 'BP-G', 'Other', '2026-03-01', '2026-03-31', 1, 5, 5, 'Tokyo', 'postpaid', 'online', '2026-01-01T00:00:00.000000000Z', 'x@globex.test')`, globex)
	// Today is 10 March in Ho Chi Minh City (UTC+7), though still 9 March in UTC.
	f.db.Now = func() time.Time { return time.Date(2026, 3, 9, 21, 0, 0, 0, time.UTC) }

	MustApply(t, f.db,
		ev("e1", "gpu", "2", "2026-03-01T10:00:00+07:00"),        // 20000, before the burn window
		ev("e2", "gpu", "1", "2026-03-02T23:30:00Z"),             // 10000 on 3 March local: the window's first day
		ev("e3", "tokens", "30000", "2026-03-05T12:00:00+07:00"), // 30
		ev("e4", "gpu", "3.5", "2026-03-09T23:30:00+07:00"),      // 35000 on the window's last day
		ev("e5", "gpu", "1", "2026-03-10T03:30:00+07:00"),        // 10000 today, after the window
		ev("e6", "storage", "2", "2026-03-04T08:00:00+07:00"),    // 1000 on the other plan
	)
	MustExec(t, f.db, `INSERT INTO payments (plan_id, amount, method, status, reference, paid_at, created_at, paid_by)
		VALUES (?, 400000, 'bank_transfer', 'completed', 'BT-1', '2026-02-20T02:00:00.000000000Z', '2026-02-19T02:00:00.000000000Z', 'an@acme.test')`, plan)
	MustExec(t, f.db, `INSERT INTO payments (plan_id, amount, method, status, created_at, paid_by)
		VALUES (?, 100000, 'bank_transfer', 'pending', '2026-03-05T02:00:00.000000000Z', 'bo@acme.test')`, plan)
	MustExec(t, f.db, `INSERT INTO payments (plan_id, amount, method, status, paid_at, created_at, paid_by)
		VALUES (?, 7, 'online', 'completed', '2026-03-06T02:00:00.000000000Z', '2026-03-06T02:00:00.000000000Z', 'x')`, other)
	MustExec(t, f.db, `INSERT INTO renewals (plan_id, term_months, price, old_end_date, new_start_date, new_end_date, renewed_at, renewed_by)
		VALUES (?, 1, 900000, '2026-01-31', '2026-02-01', '2026-02-28', '2026-01-20T00:00:00.000000000Z', 'an@acme.test')`, plan)
	MustExec(t, f.db, `INSERT INTO renewals (plan_id, term_months, price, old_end_date, new_start_date, new_end_date, renewed_at, renewed_by)
		VALUES (?, 1, 950000, '2026-02-28', '2026-03-01', '2026-03-31', '2026-02-25T00:00:00.000000000Z', 'bo@acme.test')`, plan)
	for _, e := range []AuditEntry{
		{At: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), AccountID: f.account, PlanID: plan, Actor: "an@acme.test", Action: "plan.pay", Detail: "first"},
		{At: time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), AccountID: f.account, PlanID: plan, Actor: "bo@acme.test", Action: "plan.renew", Detail: "second"},
		{At: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), AccountID: f.account, PlanID: other, Actor: "x", Action: "plan.pay", Detail: "other plan"},
	} {
		if err := f.db.update(ctx, func(tx *Tx) error { return Audit(ctx, tx, e) }); err != nil {
			t.Fatal(err)
		}
	}

	d, err := f.db.PlanDetail(ctx, f.account, "BP-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("today is the date in the account's time zone", func(t *testing.T) {
		if d.Today != NewDate(2026, 3, 10) {
			t.Errorf("today = %s, want 2026-03-10", d.Today)
		}
	})
	t.Run("the burn window is the last 7 whole days, and only they count", func(t *testing.T) {
		// 10000 + 30 + 35000 on 3..9 March; not the 20000 of 1 March nor the 10000 of today.
		if d.BurnFrom != NewDate(2026, 3, 3) || d.BurnTo != NewDate(2026, 3, 9) || d.BurnDays != 7 || d.SpentInWindow.Minor != 45030 {
			t.Errorf("window %s..%s (%d days) spent %d, want 2026-03-03..2026-03-09 (7) spent 45030",
				d.BurnFrom, d.BurnTo, d.BurnDays, d.SpentInWindow.Minor)
		}
	})
	t.Run("the forecast is the plan's rule applied to the window's spend", func(t *testing.T) {
		// Consumed 75030, remaining 924970; 924970 × 7 ÷ 45030 = 143.8 days,
		// more than the 22 left: unused = ⌊(924970 × 7 − 45030 × 22) ÷ 7⌋ = 783447.
		if d.Forecast.Kind != ForecastOutlastsEnd || d.Forecast.UnusedAtEnd.Minor != 783447 {
			t.Errorf("forecast %+v, want outlasts the end with 783447 unused", d.Forecast)
		}
	})
	t.Run("daily spend is every day from the start to today, zeros included", func(t *testing.T) {
		var got []string
		for _, s := range d.Daily {
			got = append(got, fmt.Sprintf("%02d:%d", s.Day.Day(), s.Amount.Minor))
		}
		want := "01:20000 02:0 03:10000 04:0 05:30 06:0 07:0 08:0 09:35000 10:10000"
		if strings.Join(got, " ") != want {
			t.Errorf("daily spend\n got %s\nwant %s", strings.Join(got, " "), want)
		}
	})
	t.Run("the forecast carries on from tomorrow to the end date at the rate", func(t *testing.T) {
		// 45030 ÷ 7 = 6432.86, rounded to 6433, on 11..31 March.
		if len(d.Projected) != 21 || d.Projected[0].Day != NewDate(2026, 3, 11) || d.Projected[20].Day != NewDate(2026, 3, 31) {
			t.Fatalf("projected %v, want 21 days from 2026-03-11 to 2026-03-31", d.Projected)
		}
		for _, p := range d.Projected {
			if p.Amount.Minor != 6433 {
				t.Errorf("projected %s: %d, want 6433", p.Day, p.Amount.Minor)
			}
		}
	})
	t.Run("the services' spend adds up to the plan's consumed figure", func(t *testing.T) {
		var sum int64
		for _, s := range d.Plan.Services {
			sum += s.Spent.Minor
		}
		if sum != d.Plan.Consumed.Minor || sum != 75030 {
			t.Errorf("services spent %d, plan consumed %d, want both 75030", sum, d.Plan.Consumed.Minor)
		}
	})
	t.Run("payments are the plan's own, newest first, pending ones by when they were recorded", func(t *testing.T) {
		if d.PaymentsTotal != 2 || len(d.Payments) != 2 {
			t.Fatalf("%d payments (total %d), want 2", len(d.Payments), d.PaymentsTotal)
		}
		p0, p1 := d.Payments[0], d.Payments[1]
		if !p0.Pending || p0.PaidAt != nil || p0.Amount.Minor != 100000 || p0.PaidBy != "bo@acme.test" || p0.Reference != "" ||
			!p0.At().Equal(time.Date(2026, 3, 5, 2, 0, 0, 0, time.UTC)) {
			t.Errorf("first payment %+v, want the pending 100000 of 5 March by bo@acme.test", p0)
		}
		if p1.Pending || p1.Amount.Minor != 400000 || p1.Method != BankTransfer || p1.Reference != "BT-1" ||
			!p1.At().Equal(time.Date(2026, 2, 20, 2, 0, 0, 0, time.UTC)) {
			t.Errorf("second payment %+v, want the completed 400000 paid on 20 February", p1)
		}
	})
	t.Run("renewals are the plan's own, newest first", func(t *testing.T) {
		if d.RenewalsTotal != 2 || len(d.Renewals) != 2 || d.Renewals[0].Price.Minor != 950000 || d.Renewals[1].Price.Minor != 900000 ||
			d.Renewals[0].OldEndDate != NewDate(2026, 2, 28) || d.Renewals[0].NewEndDate != NewDate(2026, 3, 31) || d.Renewals[0].RenewedBy != "bo@acme.test" {
			t.Errorf("renewals %+v", d.Renewals)
		}
	})
	t.Run("audit entries are the plan's own, newest first", func(t *testing.T) {
		var got []string
		for _, e := range d.Audit {
			got = append(got, e.Detail)
		}
		if d.AuditTotal != 2 || strings.Join(got, ",") != "second,first" {
			t.Errorf("audit %v (total %d), want second,first", got, d.AuditTotal)
		}
	})
	t.Run("another account's plan is not found", func(t *testing.T) {
		if _, err := f.db.PlanDetail(ctx, f.account, "BP-G"); ErrorCode(err) != ENOTFOUND {
			t.Errorf("err = %v, want ENOTFOUND", err)
		}
		if _, err := f.db.PlanDetail(ctx, globex, "BP-1"); ErrorCode(err) != ENOTFOUND {
			t.Errorf("err = %v, want ENOTFOUND", err)
		}
	})
	t.Run("an unknown code is not found", func(t *testing.T) {
		if _, err := f.db.PlanDetail(ctx, f.account, "BP-404"); ErrorCode(err) != ENOTFOUND {
			t.Errorf("err = %v, want ENOTFOUND", err)
		}
	})
}

// BenchmarkPlanDetailRead reads a plan of ten services with two years of
// daily spend: the store's part of the detail page.
func BenchmarkPlanDetailRead(b *testing.B) {
	f := mustLedgerFixture(b, VND, "Asia/Ho_Chi_Minh")
	plan := f.plan(b, "BP-1", "2025-01-01", "2026-12-31", 90_000_000_000, map[string]string{"gpu": "52000", "tokens": "0.018", "storage": "450.5"})
	f.db.Now = func() time.Time { return time.Date(2026, 12, 20, 8, 0, 0, 0, time.UTC) }
	tx, err := f.db.BeginTx(context.Background(), true)
	if err != nil {
		b.Fatal(err)
	}
	for day := NewDate(2025, 1, 1); !day.After(NewDate(2026, 12, 20)); day = day.AddDays(1) {
		if _, err := tx.Exec(`INSERT INTO plan_daily_spend (plan_id, day, amount) VALUES (?, ?, ?)`, plan, day.String(), 1_000_000+int64(day.Day())*7919); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		d, err := f.db.PlanDetail(ctx, f.account, "BP-1")
		if err != nil || len(d.Daily) != 719 {
			b.Fatalf("%d days, %v", len(d.Daily), err)
		}
	}
}
