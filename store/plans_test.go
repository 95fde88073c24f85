package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// mustDemoDB seeds the demo data around 3 December 2026 into a fresh database.
func mustDemoDB(t testing.TB) (*DB, Date) {
	t.Helper()
	PasswordParams.Memory, PasswordParams.Time = 64, 1
	db := MustOpenTestDB(t)
	today := NewDate(2026, 12, 3)
	db.Now = func() time.Time { return today.Start(LoadLocation(DefaultTimeZone)).Add(15 * time.Hour) }
	if _, err := db.SeedDemo(context.Background(), DemoOptions{Seed: 7, Accounts: 3, Plans: 30, Days: 120, Today: today}); err != nil {
		t.Fatal(err)
	}
	return db, today
}

func mustAccountID(t testing.TB, db *DB, code string) int64 {
	t.Helper()
	return mustInt(t, db, `SELECT id FROM accounts WHERE code = ?`, code)
}

func codes(plans []Plan) []string {
	out := make([]string, len(plans))
	for i, p := range plans {
		out[i] = p.Code
	}
	return out
}

// TestFindPlansAgreesWithTheRules selects plans in SQL and checks the answer
// against the rules of rules.go applied in Go to every plan of the account.
func TestFindPlansAgreesWithTheRules(t *testing.T) {
	db, today := mustDemoDB(t)
	ctx := context.Background()
	acme := mustAccountID(t, db, "acme")
	pg, err := db.FindPlans(ctx, acme, PlanFilter{Today: today, Sort: SortByCode})
	all, total := pg.Plans, pg.Total
	if err != nil {
		t.Fatal(err)
	}
	if total != 30 || len(all) != 30 {
		t.Fatalf("got %d plans (total %d), want 30", len(all), total)
	}
	want := func(keep func(Plan) bool) []string {
		var out []string
		for _, p := range all {
			if keep(p) {
				out = append(out, p.Code)
			}
		}
		return out
	}
	covers := func(p Plan, code string) bool {
		return slices.ContainsFunc(p.Services, func(s PlanService) bool { return s.Service.Code == code })
	}
	from, to := NewDate(2026, 10, 1), NewDate(2026, 11, 30)
	for _, tc := range []struct {
		name string
		f    PlanFilter
		keep func(Plan) bool
	}{
		{"status active keeps the plans the rules call Active", PlanFilter{Status: StatusActive}, func(p Plan) bool { return p.Status(today) == StatusActive }},
		{"status expired keeps the plans the rules call Expired", PlanFilter{Status: StatusExpired}, func(p Plan) bool { return p.Status(today) == StatusExpired }},
		{"status inactive keeps the plans the rules call Inactive", PlanFilter{Status: StatusInactive}, func(p Plan) bool { return p.Status(today) == StatusInactive }},
		{"a search matches part of the type, whatever its case", PlanFilter{Query: "tOKEN"}, func(p Plan) bool { return strings.Contains(strings.ToLower(p.Type), "token") }},
		{"a search matches part of the code", PlanFilter{Query: "00001"}, func(p Plan) bool { return strings.Contains(p.Code, "00001") }},
		{"a search for a wildcard matches only itself", PlanFilter{Query: "%"}, func(p Plan) bool { return strings.Contains(p.Code+p.Type, "%") }},
		{"services keep plans covering any of them", PlanFilter{Services: []string{"object-storage", "gpu-h100-vm"}},
			func(p Plan) bool { return covers(p, "object-storage") || covers(p, "gpu-h100-vm") }},
		{"a start date range is inclusive", PlanFilter{DateField: "start", From: from, To: to},
			func(p Plan) bool { return !p.StartDate.Before(from) && !p.StartDate.After(to) }},
		{"an end date range is inclusive", PlanFilter{DateField: "end", From: from, To: to},
			func(p Plan) bool { return !p.EndDate.Before(from) && !p.EndDate.After(to) }},
		{"filters combine", PlanFilter{Status: StatusActive, Services: []string{"gpu-h100-container"}},
			func(p Plan) bool { return p.Status(today) == StatusActive && covers(p, "gpu-h100-container") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Today, tc.f.Sort = today, SortByCode
			pg, err := db.FindPlans(ctx, acme, tc.f)
			got, total := pg.Plans, pg.Total
			if err != nil {
				t.Fatal(err)
			}
			w := want(tc.keep)
			if fmt.Sprint(codes(got)) != fmt.Sprint(w) || total != len(w) {
				t.Errorf("got %v (total %d), want %v", codes(got), total, w)
			}
		})
	}
	t.Run("each status filter finds at least one plan, so the cases above can fail", func(t *testing.T) {
		for _, s := range []Status{StatusActive, StatusExpired, StatusInactive} {
			if len(want(func(p Plan) bool { return p.Status(today) == s })) == 0 {
				t.Errorf("no %s plan in the fixture", s)
			}
		}
	})
	t.Run("sorting by usage orders by consumed over amount, ties by code", func(t *testing.T) {
		pg, err := db.FindPlans(ctx, acme, PlanFilter{Today: today, Sort: SortByUsage, Desc: true})
		got := pg.Plans
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(got); i++ {
			a, b := got[i-1], got[i]
			// a/amountA >= b/amountB, compared in integers
			if a.Consumed.Minor*b.Amount.Minor < b.Consumed.Minor*a.Amount.Minor-a.Amount.Minor*b.Amount.Minor/10000 {
				t.Errorf("%s (%s) before %s (%s)", a.Code, a.UsagePercent(), b.Code, b.UsagePercent())
			}
		}
	})
	t.Run("pages are slices of the whole sorted list", func(t *testing.T) {
		pg, err := db.FindPlans(ctx, acme, PlanFilter{Today: today, Sort: SortByCode, Offset: 10, Limit: 7})
		page, total := pg.Plans, pg.Total
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(codes(page)) != fmt.Sprint(codes(all[10:17])) || total != 30 {
			t.Errorf("page: got %v (total %d), want %v", codes(page), total, codes(all[10:17]))
		}
	})
	t.Run("another account's plans never appear", func(t *testing.T) {
		globex := mustAccountID(t, db, "globex")
		pg, _ := db.FindPlans(ctx, globex, PlanFilter{Today: today})
		got := pg.Plans
		for _, p := range got {
			if p.AccountID != globex || slices.Contains(codes(all), p.Code) {
				t.Fatalf("globex's list holds %s of account %d", p.Code, p.AccountID)
			}
		}
		if _, err := db.FindPlan(ctx, globex, all[0].Code); ErrorCode(err) != ENOTFOUND {
			t.Errorf("another account's plan: got %v, want not found", err)
		}
	})
}

func TestPlanSummaryAgreesWithThePlans(t *testing.T) {
	db, today := mustDemoDB(t)
	ctx := context.Background()
	acme := mustAccountID(t, db, "acme")
	pg, err := db.FindPlans(ctx, acme, PlanFilter{Today: today})
	all := pg.Plans
	if err != nil {
		t.Fatal(err)
	}
	var want Summary
	want.TotalSpent, want.TotalAmount, want.RemainingActive = Money{Currency: VND}, Money{Currency: VND}, Money{Currency: VND}
	for _, p := range all {
		switch p.Status(today) {
		case StatusActive:
			want.Active++
			want.RemainingActive = want.RemainingActive.Add(p.Remaining())
		case StatusExpired:
			want.Expired++
		default:
			want.Inactive++
		}
		want.TotalSpent = want.TotalSpent.Add(p.Consumed)
		want.TotalAmount = want.TotalAmount.Add(p.Amount)
	}
	thisFrom, _, lastFrom, lastTo := MonthSpans(today)
	want.SpentThisMonth.Minor = mustInt(t, db, `SELECT COALESCE(SUM(d.amount), 0) FROM plan_daily_spend d JOIN plans p ON p.id = d.plan_id
		WHERE p.account_id = ? AND d.day BETWEEN ? AND ?`, acme, thisFrom.String(), today.String())
	want.SpentLastMonth.Minor = mustInt(t, db, `SELECT COALESCE(SUM(d.amount), 0) FROM plan_daily_spend d JOIN plans p ON p.id = d.plan_id
		WHERE p.account_id = ? AND d.day BETWEEN ? AND ?`, acme, lastFrom.String(), lastTo.String())
	want.SpentThisMonth.Currency, want.SpentLastMonth.Currency = VND, VND
	got, err := db.PlanSummary(ctx, acme, VND, today)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("summary:\n got %+v\nwant %+v", got, want)
	}
	if want.SpentLastMonth.Minor == 0 || want.Active == 0 {
		t.Error("the fixture must have spend last month and Active plans, or this test proves little")
	}
}

func TestPlanSummaryCacheFollowsEveryChange(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	ctx := context.Background()
	today := NewDate(2026, 11, 10)
	id := f.plan(t, "BP-1", "2026-11-01", "2026-11-30", 1_000_000, map[string]string{"gpu": "1000"})
	before, err := f.db.PlanSummary(ctx, f.account, VND, today)
	if err != nil {
		t.Fatal(err)
	}
	if before.Active != 1 || before.TotalSpent.Minor != 0 {
		t.Fatalf("before: %+v", before)
	}
	MustApply(t, f.db, ev("e1", "gpu", "3", "2026-11-09T10:00:00+07:00"))
	after, _ := f.db.PlanSummary(ctx, f.account, VND, today)
	if after.TotalSpent.Minor != 3000 || after.RemainingActive.Minor != 997_000 {
		t.Errorf("after usage: spent %d, remaining %d; want 3000 and 997000 (a stale cache?)", after.TotalSpent.Minor, after.RemainingActive.Minor)
	}
	// A change made outside the store's code still shows: the version is kept by triggers.
	MustExec(t, f.db, `UPDATE plans SET suspended = 1 WHERE id = ?`, id)
	if s, _ := f.db.PlanSummary(ctx, f.account, VND, today); s.Active != 0 || s.Inactive != 1 {
		t.Errorf("after suspending: %d active, %d inactive; want 0 and 1", s.Active, s.Inactive)
	}
	// Another day is another answer: the plan has ended by then.
	if s, _ := f.db.PlanSummary(ctx, f.account, VND, NewDate(2026, 12, 1)); s.Expired != 1 {
		t.Errorf("on 1 December: %d expired, want 1", s.Expired)
	}
}

func TestFindAccountServicesFollowsNewPlans(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	ctx := context.Background()
	f.plan(t, "BP-1", "2026-11-01", "2026-11-30", 1_000_000, map[string]string{"gpu": "1000"})
	names := func() string {
		svcs, err := f.db.FindAccountServices(ctx, f.account)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range svcs {
			out = append(out, s.Code)
		}
		return fmt.Sprint(out)
	}
	if got := names(); got != "[gpu]" {
		t.Fatalf("got %s, want [gpu]", got)
	}
	// A plan and its services are written in one transaction, as import does.
	tx, err := f.db.BeginTx(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tx.Exec(`INSERT INTO plans (account_id, code, type, start_date, end_date, first_term_months, first_term_amount, amount,
		region, payment_option, payment_method, created_at, created_by) VALUES (?, 'BP-2', 't', '2026-11-01', '2026-11-30', 1, 1, 1, 'r', 'postpaid', 'online', 'x', 'x')`, f.account)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := r.LastInsertId()
	if _, err := tx.Exec(`INSERT INTO plan_services (plan_id, service_id, price_per_unit) VALUES (?, ?, '1')`, id, f.services["storage"]); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := names(); got != "[gpu storage]" {
		t.Errorf("after a new plan: got %s, want [gpu storage]", got)
	}
	// Another account's plans add nothing.
	other := MustExec(t, f.db, `INSERT INTO accounts (code, name, currency, timezone) VALUES ('other', 'Other', 'VND', 'UTC')`)
	theirs := MustExec(t, f.db, `INSERT INTO plans (account_id, code, type, start_date, end_date, first_term_months, first_term_amount, amount,
		region, payment_option, payment_method, created_at, created_by) VALUES (?, 'BP-3', 't', '2026-11-01', '2026-11-30', 1, 1, 1, 'r', 'postpaid', 'online', 'x', 'x')`, other)
	MustExec(t, f.db, `INSERT INTO plan_services (plan_id, service_id, price_per_unit) VALUES (?, ?, '1')`, theirs, f.services["tokens"])
	if got := names(); got != "[gpu storage]" {
		t.Errorf("after another account's plan: got %s, want [gpu storage]", got)
	}
	// A plan removed takes its services with it, unless another plan covers them.
	MustExec(t, f.db, `DELETE FROM plan_services WHERE plan_id = ?`, id)
	MustExec(t, f.db, `DELETE FROM plans WHERE id = ?`, id)
	if got := names(); got != "[gpu]" {
		t.Errorf("after removing BP-2: got %s, want [gpu]", got)
	}
}

// TestFindAccountServicesAgreesWithThePlans checks the services kept by
// triggers against the services of every plan, account by account.
func TestFindAccountServicesAgreesWithThePlans(t *testing.T) {
	db, _ := mustDemoDB(t)
	accounts := mustStrings(t, db, `SELECT id FROM accounts ORDER BY id`)
	if len(accounts) < 2 {
		t.Fatalf("%d accounts", len(accounts))
	}
	for _, a := range accounts {
		id, _ := strconv.ParseInt(a, 10, 64)
		svcs, err := db.FindAccountServices(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range svcs {
			got = append(got, s.Code)
		}
		want := mustStrings(t, db, `SELECT s.code FROM services s WHERE s.id IN
			(SELECT ps.service_id FROM plan_services ps JOIN plans p ON p.id = ps.plan_id WHERE p.account_id = ?)
			ORDER BY s.name, s.code`, a)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("account %s: got %v, want %v", a, got, want)
		}
	}
}

// TestFindPlansCacheFollowsEveryChange reads the same pages before and after
// each kind of change to the plans behind them: a page is cached, and must
// never be shown once a plan on it has changed.
func TestFindPlansCacheFollowsEveryChange(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	ctx := context.Background()
	today := NewDate(2026, 11, 10)
	f.services["free"] = MustExec(t, f.db, `INSERT INTO services (code, name, unit) VALUES ('free', 'Free', 'call')`)
	MustExec(t, f.db, `INSERT INTO service_list_prices (service_id, currency, price) VALUES (?, 'VND', '0')`, f.services["free"])
	f.plan(t, "BP-1", "2026-11-01", "2026-11-30", 1_000_000, map[string]string{"gpu": "1000", "free": "0"})
	all := PlanFilter{Limit: 50, Today: today}
	active := PlanFilter{Status: StatusActive, Limit: 50, Today: today}
	page := func(p PlanFilter) []Plan {
		t.Helper()
		pg, err := f.db.FindPlans(ctx, f.account, p)
		plans, total := pg.Plans, pg.Total
		if err != nil {
			t.Fatal(err)
		}
		if total != len(plans) {
			t.Fatalf("total %d, but %d plans", total, len(plans))
		}
		return plans
	}
	volume := func(p Plan, svc string) string {
		for _, s := range p.Services {
			if s.Service.Code == svc {
				return s.Volume.String()
			}
		}
		return "none"
	}
	if p := page(all); len(p) != 1 || p[0].Consumed.Minor != 0 || len(page(active)) != 1 {
		t.Fatalf("at first: %+v", p)
	}
	// Twice the same page: the second answer comes from the cache and is the same.
	if a, b := page(all), page(all); a[0].Code != b[0].Code || a[0].Consumed != b[0].Consumed {
		t.Fatalf("the cached page differs: %+v, %+v", a[0], b[0])
	}

	MustApply(t, f.db, ev("e1", "gpu", "3", "2026-11-09T10:00:00+07:00"))
	if p := page(all); p[0].Consumed.Minor != 3000 || volume(p[0], "gpu") != "3" {
		t.Errorf("after usage: consumed %d, gpu volume %s; want 3000 and 3 (a stale page?)", p[0].Consumed.Minor, volume(p[0], "gpu"))
	}
	// Usage of a service priced at zero writes no plan, only the plan
	// service's volume: the second event of a day adds no daily spend row.
	MustApply(t, f.db, ev("e2", "free", "2", "2026-11-09T11:00:00+07:00"))
	if p := page(all); volume(p[0], "free") != "2" {
		t.Errorf("after free usage: volume %s, want 2", volume(p[0], "free"))
	}
	MustApply(t, f.db, ev("e3", "free", "3", "2026-11-09T12:00:00+07:00"))
	if p := page(all); volume(p[0], "free") != "5" {
		t.Errorf("after more free usage the same day: volume %s, want 5 (a stale page?)", volume(p[0], "free"))
	}
	// A change made outside the store's code shows too, on every cached filter.
	MustExec(t, f.db, `UPDATE plans SET suspended = 1 WHERE code = 'BP-1'`)
	if p := page(all); !p[0].Suspended {
		t.Error("after suspending, the page shows the plan not suspended")
	}
	if p := page(active); len(p) != 0 {
		t.Errorf("after suspending, %d active plans, want 0", len(p))
	}
	// Another day is another page.
	MustExec(t, f.db, `UPDATE plans SET suspended = 0 WHERE code = 'BP-1'`)
	if p := page(PlanFilter{Status: StatusExpired, Limit: 50, Today: NewDate(2026, 12, 1)}); len(p) != 1 {
		t.Errorf("on 1 December, %d expired plans, want 1", len(p))
	}
}

// TestFindPlansCacheAgreesWithFreshReads changes an account's plans in every
// way, step by step, and after each step reads a set of filtered, sorted and
// paged lists through the cache and afresh: the same plans, in the same order,
// with the same figures and count. Pages are cached by plans_version and their
// plans kept by plans_list_version, so a change that a trigger misses shows up
// here as a stale page.
func TestFindPlansCacheAgreesWithFreshReads(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(11, 12))
	mustMixedPlans(t, f, rng, 40)
	loc := LoadLocation("Asia/Ho_Chi_Minh")
	var filters []PlanFilter
	for _, base := range []PlanFilter{
		{}, {Status: StatusActive}, {Status: StatusExpired}, {Status: StatusInactive}, {Query: "BP-1"},
		{Services: []string{"storage"}}, {DateField: "end", From: NewDate(2026, 3, 1), To: NewDate(2026, 5, 31)},
	} {
		for _, sort := range []PlanSort{SortByStart, SortByCode, SortByUsage, SortByAmount, SortByEnd} {
			for _, offset := range []int{0, 21} {
				g := base
				g.Sort, g.Desc, g.Limit, g.Offset = sort, offset == 21, 7, offset
				filters = append(filters, g)
			}
		}
	}
	ids := func(plans []Plan) string {
		var b strings.Builder
		for _, p := range plans {
			fmt.Fprintf(&b, "%s:%d/%d:%d ", p.Code, p.Consumed.Minor, p.Amount.Minor, len(p.Services))
		}
		return b.String()
	}
	days := []Date{NewDate(2026, 2, 1), NewDate(2026, 4, 10), NewDate(2026, 6, 1)}
	for step := range 90 {
		today := days[rng.IntN(len(days))]
		f.db.Now = func() time.Time { return today.Start(loc).Add(12 * time.Hour) }
		code := fmt.Sprintf("BP-%02d", rng.IntN(40))
		key, err := NewIdempotencyKey()
		if err != nil {
			t.Fatal(err)
		}
		switch step % 6 {
		case 0, 1: // usage, which runs some plans out
			var events []UsageEvent
			for i := range 5 {
				events = append(events, UsageEvent{ID: fmt.Sprintf("s%d-%d", step, i), AccountCode: "acme", ServiceCode: []string{"gpu", "storage"}[rng.IntN(2)],
					Quantity: decimal.NewFromInt(int64(1 + rng.IntN(8))), At: today.Start(loc).Add(-time.Duration(1+rng.IntN(200)) * time.Hour)})
			}
			MustApply(t, f.db, events...)
		case 2: // a payment, in full half the time, so that some plans are activated
			if waiting := mustStrings(t, f.db, `SELECT code FROM plans WHERE activated_at IS NULL ORDER BY code`); len(waiting) > 0 {
				code = waiting[rng.IntN(len(waiting))]
			}
			due := mustInt(t, f.db, `SELECT amount - paid_total FROM plans WHERE code = ?`, code)
			if amount := []int64{due, 1 + rng.Int64N(max(due, 1))}[rng.IntN(2)]; due > 0 {
				f.db.Pay(ctx, SandboxGateway{}, PayRequest{AccountID: f.account, PlanCode: code, Amount: Money{amount, VND},
					Method: Online, CardNumber: "4242 4242 4242 4242", IdempotencyKey: key, Actor: "an@acme.test"})
			}
		case 3:
			f.db.Renew(ctx, RenewRequest{AccountID: f.account, PlanCode: code, Months: 1, Price: Money{100_000, VND},
				IdempotencyKey: key, Actor: "an@acme.test"})
		case 4: // a service added to a plan, by hand
			MustExec(t, f.db, `INSERT OR IGNORE INTO plan_services (plan_id, service_id, price_per_unit)
				SELECT id, ?, '500' FROM plans WHERE code = ?`, f.services["storage"], code)
		case 5: // suspended, renamed or re-dated by hand
			switch rng.IntN(3) {
			case 0: // an Active plan, so that the status filters see it go
				active := mustStrings(t, f.db, `SELECT code FROM plans WHERE suspended = 0 AND activated_at IS NOT NULL
					AND start_date <= ? AND end_date >= ? AND consumed < amount ORDER BY code`, today.String(), today.String())
				if len(active) > 0 {
					code = active[rng.IntN(len(active))]
				}
				MustExec(t, f.db, `UPDATE plans SET suspended = 1 - suspended WHERE code = ?`, code)
			case 1:
				MustExec(t, f.db, `UPDATE plans SET type = 'Renamed ' || ? WHERE code = ?`, step, code)
			case 2:
				MustExec(t, f.db, `UPDATE plans SET start_date = ? WHERE code = ?`, NewDate(2026, 1, 1).AddDays(rng.IntN(90)).String(), code)
			}
		}
		for _, g := range filters {
			g.Today = today
			page, err := f.db.FindPlans(ctx, f.account, g)
			if err != nil {
				t.Fatal(err)
			}
			var fresh []Plan
			var total int
			err = f.db.view(ctx, func(tx *Tx) error {
				var err error
				fresh, total, err = findPlans(ctx, tx, f.account, g, -1)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := ids(page.Plans), ids(fresh); got != want || page.Total != total {
				t.Fatalf("step %d, filter %+v:\n cached %d: %s\n fresh  %d: %s", step, g, page.Total, got, total, want)
			}
		}
	}
}
