package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestHistoryCursorText(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 123, time.UTC)
	for _, c := range []HistoryCursor{
		{At: at, Kind: HistoryConsumption, ID: 1},
		{At: at, Kind: HistoryTopup, ID: 42},
		{At: time.Unix(0, 0).UTC(), Kind: HistoryVoucher, ID: 0},
	} {
		got, err := ParseHistoryCursor(c.String())
		if err != nil || !got.At.Equal(c.At) || got.Kind != c.Kind || got.ID != c.ID {
			t.Errorf("%s reads back as %+v, %v", c, got, err)
		}
	}
	for _, s := range []string{"", "_", "1_", "1_c", "x_c1", "1_z1", "1_c-1", "1_c+1", "-1_c1", "1_cx", "1c1", "99999999999999999999_c1", "1_c99999999999999999999"} {
		if _, err := ParseHistoryCursor(s); ErrorCode(err) != EINVALID {
			t.Errorf("%q: err %v, want EINVALID", s, err)
		}
	}
}

func TestVoucherStatus(t *testing.T) {
	v := Voucher{Amount: Money{100, VND}, Remaining: Money{40, VND}, EffectiveDate: NewDate(2026, 3, 1), ExpiryDate: NewDate(2026, 3, 31)}
	used := v
	used.Remaining.Minor = 0
	tests := []struct {
		name  string
		v     Voucher
		today Date
		want  VoucherStatus
	}{
		{"before its effective date it is not yet valid", v, NewDate(2026, 2, 28), VoucherPending},
		{"on its effective date it is valid", v, NewDate(2026, 3, 1), VoucherValid},
		{"on its expiry date it is still valid", v, NewDate(2026, 3, 31), VoucherValid},
		{"the day after its expiry date it is expired", v, NewDate(2026, 4, 1), VoucherExpired},
		{"with nothing left it is used up", used, NewDate(2026, 3, 15), VoucherUsedUp},
		{"used up and past its expiry it is expired", used, NewDate(2026, 4, 1), VoucherExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.Status(tt.today); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestVoucherForecast(t *testing.T) {
	// 700 left, valid 1–31 Mar.
	v := Voucher{Amount: Money{1000, VND}, Remaining: Money{700, VND}, EffectiveDate: NewDate(2026, 3, 1), ExpiryDate: NewDate(2026, 3, 31)}
	tests := []struct {
		name       string
		today      Date
		spent      int64
		wantFrom   Date
		wantKind   ForecastKind
		wantUnused int64
		wantDays   int
	}{
		// Window 14–20 Mar; 11 days left (21–31): ⌈700×7÷70⌉ = 70 > 11; ⌊(4,900 − 770)÷7⌋ = 590.
		{"a slow burn outlasts the end", NewDate(2026, 3, 21), 70, NewDate(2026, 3, 14), ForecastOutlastsEnd, 590, 0},
		// ⌈700×7÷1,400⌉ = 4 ≤ 11.
		{"a fast burn depletes first", NewDate(2026, 3, 21), 1400, NewDate(2026, 3, 14), ForecastDepletes, 0, 4},
		// Effective 2 days ago: the window is 1–2 Mar, 2 days; 29 days left: ⌈700×2÷20⌉ = 70 > 29; ⌊(1,400 − 580)÷2⌋ = 410.
		{"a young voucher has a shorter window", NewDate(2026, 3, 3), 20, NewDate(2026, 3, 1), ForecastOutlastsEnd, 410, 0},
		{"no usage says so", NewDate(2026, 3, 21), 0, NewDate(2026, 3, 14), ForecastNoRecentUsage, 0, 0},
		{"an expired voucher has no forecast", NewDate(2026, 4, 1), 70, NewDate(2026, 3, 25), ForecastNone, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, _, _ := v.BurnWindow(tt.today)
			if from != tt.wantFrom {
				t.Errorf("window from %s, want %s", from, tt.wantFrom)
			}
			fc := v.Forecast(tt.today, Money{tt.spent, VND})
			if fc.Kind != tt.wantKind || fc.UnusedAtEnd.Minor != tt.wantUnused || fc.Days != tt.wantDays {
				t.Errorf("forecast %+v, want kind %d, unused %d, days %d", fc, tt.wantKind, tt.wantUnused, tt.wantDays)
			}
		})
	}
}

// historyLedger is a ledger of random usage over three months for the history's
// model tests: plans that ended, one that gets depleted, one that lasts;
// vouchers that expired and one still valid; top-ups; lines at shared instants.
type historyLedger struct {
	*ledgerFixture
	acct  Account
	today Date
	plans map[string]int64
}

func mustHistoryLedger(t *testing.T) *historyLedger {
	t.Helper()
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	h := &historyLedger{ledgerFixture: f, today: NewDate(2026, 3, 20), plans: map[string]int64{},
		acct: Account{ID: f.account, Code: "acme", Currency: VND, TimeZone: "Asia/Ho_Chi_Minh"}}
	h.plans["ENDED"] = f.plan(t, "ENDED", "2026-01-01", "2026-01-31", 3_000_000, map[string]string{"gpu": "52000"})
	h.plans["DEPLETES"] = f.plan(t, "DEPLETES", "2026-01-15", "2026-06-30", 2_000_000, map[string]string{"gpu": "50000", "storage": "500"})
	h.plans["LASTS"] = f.plan(t, "LASTS", "2026-02-01", "2026-12-31", 1_000_000_000, map[string]string{"gpu": "52000", "tokens": "0.0019"})
	f.voucher(t, "OLD", "2026-01-01", "2026-02-15", 500_000)
	f.voucher(t, "SPRING", "2026-02-01", "2026-04-30", 300_000, "storage")
	f.voucher(t, "FUTURE", "2026-04-01", "2026-04-30", 100_000)
	for _, at := range []string{"2026-01-05T00:00:00.000000000Z", "2026-02-20T10:00:00.000000000Z"} {
		MustExec(t, f.db, `INSERT INTO topups (account_id, amount, at) VALUES (?, 400000, ?)`, f.account, at)
		f.topup(t, 400_000)
	}
	// Another account's lines must never show.
	other := MustExec(t, f.db, `INSERT INTO accounts (code, name, currency, timezone) VALUES ('other', 'Other', 'VND', 'UTC')`)
	MustExec(t, f.db, `INSERT INTO topups (account_id, amount, at) VALUES (?, 1, '2026-02-01T00:00:00.000000000Z')`, other)

	rng := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var events []UsageEvent
	for i := range 1500 {
		svc := []string{"gpu", "tokens", "storage"}[rng.IntN(3)]
		q := decimal.New(int64(1+rng.IntN(40)), -1)
		if svc == "tokens" {
			q = decimal.NewFromInt(int64(1000 + rng.IntN(900000)))
		}
		// Instants on a 10-minute grid, so that several events share one.
		at := base.Add(time.Duration(rng.IntN(78*24*6)) * 10 * time.Minute)
		events = append(events, UsageEvent{ID: fmt.Sprintf("h%d", i), AccountCode: "acme", ServiceCode: svc, Quantity: q, At: at})
	}
	for _, r := range MustApply(t, f.db, events...) {
		if r.Outcome != Applied {
			t.Fatalf("%+v", r)
		}
	}
	if n := mustInt(t, f.db, `SELECT COUNT(*) FROM plans WHERE code = 'DEPLETES' AND consumed >= amount`); n != 1 {
		t.Fatal("DEPLETES was not depleted")
	}
	return h
}

// modelHistory returns the lines of the history the filter selects, newest
// first, worked out in Go from every row of the tables and the rules, as an
// independent reference for the SQL.
func (h *historyLedger) modelHistory(t *testing.T, f HistoryFilter) []HistoryCursor {
	t.Helper()
	ctx := context.Background()
	loc := h.acct.Location()
	inRange := func(d Date) bool {
		return (f.From.IsZero() || !d.Before(f.From)) && (f.To.IsZero() || !d.After(f.To))
	}
	expiredPlan := map[int64]bool{}
	for code, id := range h.plans {
		p, err := h.db.FindPlan(ctx, h.account, code)
		if err != nil {
			t.Fatal(err)
		}
		expiredPlan[id] = p.Status(f.Today) == StatusExpired
	}
	tx, err := h.db.BeginTx(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	vouchers, err := findVouchers(ctx, tx, h.acct)
	if err != nil {
		t.Fatal(err)
	}
	var out []HistoryCursor
	rows, err := h.db.read.Query(`SELECT id, at, source, service_id, COALESCE(plan_id, 0), COALESCE(voucher_id, 0) FROM consumptions WHERE account_id = ?`, h.account)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, svc, plan, voucher int64
		var at, source string
		if err := rows.Scan(&id, &at, &source, &svc, &plan, &voucher); err != nil {
			t.Fatal(err)
		}
		when, _ := parseInstant(at)
		switch {
		case f.PlanID != 0 && plan != f.PlanID:
		case len(f.ServiceIDs) > 0 && !slices.Contains(f.ServiceIDs, svc):
		case !f.hasSource(CreditSource(source)):
		case !inRange(DateOf(when, loc)):
		case !f.ShowExpired && f.PlanID == 0 && expiredPlan[plan]:
		case !f.ShowExpired && voucher != 0 && vouchers[voucher].Status(f.Today) == VoucherExpired:
		default:
			out = append(out, HistoryCursor{At: when, Kind: HistoryConsumption, ID: id})
		}
	}
	rows.Close()
	if f.PlanID == 0 && len(f.ServiceIDs) == 0 {
		if f.hasSource(SourceTopup) {
			rows, err := h.db.read.Query(`SELECT id, at FROM topups WHERE account_id = ?`, h.account)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id int64
				var at string
				rows.Scan(&id, &at)
				when, _ := parseInstant(at)
				if inRange(DateOf(when, loc)) {
					out = append(out, HistoryCursor{At: when, Kind: HistoryTopup, ID: id})
				}
			}
			rows.Close()
		}
		if f.hasSource(SourceVoucher) {
			for _, v := range vouchers {
				if !v.EffectiveDate.After(f.Today) && inRange(v.EffectiveDate) && (f.ShowExpired || v.Status(f.Today) != VoucherExpired) {
					out = append(out, HistoryCursor{At: v.EffectiveDate.Start(loc), Kind: HistoryVoucher, ID: v.ID})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b HistoryCursor) int {
		if b.less(a) {
			return -1
		}
		return 1
	})
	return out
}

// historyFilters are filters for the model tests, each with and without
// expired credit shown.
func (h *historyLedger) historyFilters() map[string]HistoryFilter {
	base := map[string]HistoryFilter{
		"everything":                    {},
		"an expired plan":               {PlanID: h.plans["ENDED"]},
		"a depleted plan and a service": {PlanID: h.plans["DEPLETES"], ServiceIDs: []int64{h.services["storage"]}},
		"a lasting plan":                {PlanID: h.plans["LASTS"]},
		"one service":                   {ServiceIDs: []int64{h.services["gpu"]}},
		"two services":                  {ServiceIDs: []int64{h.services["tokens"], h.services["storage"]}},
		"vouchers":                      {Sources: []CreditSource{SourceVoucher}},
		"top-up and uncovered":          {Sources: []CreditSource{SourceTopup, SourceUncovered}},
		"February":                      {From: NewDate(2026, 2, 1), To: NewDate(2026, 2, 28)},
		"from mid-February":             {From: NewDate(2026, 2, 15)},
		"to mid-January, storage":       {To: NewDate(2026, 1, 15), ServiceIDs: []int64{h.services["storage"]}},
		"plans in a week":               {Sources: []CreditSource{SourcePlan}, From: NewDate(2026, 1, 20), To: NewDate(2026, 1, 27)},
	}
	out := map[string]HistoryFilter{}
	for name, f := range base {
		f.Today = h.today
		out[name] = f
		f.ShowExpired = true
		out[name+", expired shown"] = f
	}
	return out
}

// withEachReadPath runs test twice: as the pages read a small ledger (merging
// the streams of the plans and vouchers that show), then as they read one with
// more plans than historyStreamLimit (scanning the account's lines, and the
// chart taking what hidden credit drew off the account's daily totals).
func withEachReadPath(t *testing.T, test func(t *testing.T)) {
	t.Run("streams", test)
	t.Run("scan", func(t *testing.T) {
		limit := historyStreamLimit
		historyStreamLimit = 0
		defer func() { historyStreamLimit = limit }()
		test(t)
	})
}

func TestCreditHistoryMatchesTheModel(t *testing.T) {
	h := mustHistoryLedger(t)
	ctx := context.Background()
	withEachReadPath(t, func(t *testing.T) {
		for name, f := range h.historyFilters() {
			t.Run(name, func(t *testing.T) {
				want := h.modelHistory(t, f)
				var streamed []HistoryCursor
				err := h.db.EachCreditHistoryLine(ctx, h.acct, f, func(l HistoryLine, plans map[int64]Plan, vouchers map[int64]Voucher) error {
					streamed = append(streamed, l.Cursor())
					if l.PlanID != 0 && plans[l.PlanID].Code == "" {
						t.Errorf("line %s: plan %d not given", l.Cursor(), l.PlanID)
					}
					if l.VoucherID != 0 && vouchers[l.VoucherID].Code == "" {
						t.Errorf("line %s: voucher %d not given", l.Cursor(), l.VoucherID)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if !sameCursors(streamed, want) {
					t.Fatalf("streamed %d lines, the model %d", len(streamed), len(want))
				}

				// Page through with a page size that does not divide the total.
				const size = 37
				var paged []HistoryCursor
				var pages [][]HistoryCursor
				var before HistoryCursor
				for {
					p, err := h.db.FindCreditHistory(ctx, h.acct, f, before, HistoryCursor{}, size)
					if err != nil {
						t.Fatal(err)
					}
					var keys []HistoryCursor
					for _, l := range p.Lines {
						keys = append(keys, l.Cursor())
					}
					if (len(pages) > 0) != !p.Newer.IsZero() {
						t.Fatalf("page %d: newer %v", len(pages)+1, p.Newer)
					}
					paged = append(paged, keys...)
					pages = append(pages, keys)
					if p.Older.IsZero() {
						break
					}
					before = p.Older
				}
				if !sameCursors(paged, want) {
					t.Fatalf("paged %d lines, the model %d", len(paged), len(want))
				}
				// And back, with after cursors, from the last page.
				after := HistoryCursor{}
				if len(pages) > 1 {
					after = pages[len(pages)-1][0]
				}
				for i := len(pages) - 2; i >= 0; i-- {
					p, err := h.db.FindCreditHistory(ctx, h.acct, f, HistoryCursor{}, after, size)
					if err != nil {
						t.Fatal(err)
					}
					var keys []HistoryCursor
					for _, l := range p.Lines {
						keys = append(keys, l.Cursor())
					}
					if i > 0 && !sameCursors(keys, pages[i]) {
						t.Fatalf("going back, page %d differs", i+1)
					}
					// The first page is shown whole, even when fewer than a page are newer.
					if i == 0 && (!sameCursors(keys, pages[0]) || !p.Newer.IsZero()) {
						t.Fatalf("going back, the first page differs")
					}
					after = p.Newer
					if i > 0 && after.IsZero() {
						t.Fatalf("going back, page %d has no newer page", i+1)
					}
				}
			})
		}
	})
}

func sameCursors(a, b []HistoryCursor) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].String() != b[i].String() {
			return false
		}
	}
	return true
}

func TestCreditHistorySpendSumsTheLines(t *testing.T) {
	h := mustHistoryLedger(t)
	ctx := context.Background()
	withEachReadPath(t, func(t *testing.T) {
		for name, f := range h.historyFilters() {
			t.Run(name, func(t *testing.T) {
				from, to := NewDate(2026, 1, 10), NewDate(2026, 3, 20)
				want := map[Date]*Drawn{}
				err := h.db.EachCreditHistoryLine(ctx, h.acct, f, func(l HistoryLine, _ map[int64]Plan, _ map[int64]Voucher) error {
					if l.Kind != HistoryConsumption || l.Day.Before(from) || l.Day.After(to) {
						return nil
					}
					d := want[l.Day]
					if d == nil {
						d = &Drawn{}
						want[l.Day] = d
					}
					d.add(l.Source, -l.Amount.Minor)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				days, err := h.db.CreditHistorySpend(ctx, h.acct, f, from, to)
				if err != nil {
					t.Fatal(err)
				}
				if len(days) != from.DaysUntil(to)+1 || days[0].Day != from || days[len(days)-1].Day != to {
					t.Fatalf("%d days from %s to %s", len(days), days[0].Day, days[len(days)-1].Day)
				}
				var total int64
				for _, d := range days {
					w := Drawn{}
					if want[d.Day] != nil {
						w = *want[d.Day]
					}
					if d.Drawn != w {
						t.Errorf("%s: chart %+v, lines %+v", d.Day, d.Drawn, w)
					}
					total += d.Drawn.Plan + d.Drawn.Voucher + d.Drawn.Topup + d.Drawn.Uncovered
				}
				if total == 0 && name == "everything" {
					t.Error("the chart is empty")
				}
			})
		}
	})
}

func TestCreditHistorySpendPeriod(t *testing.T) {
	h := mustHistoryLedger(t)
	ctx := context.Background()
	if _, err := h.db.CreditHistorySpend(ctx, h.acct, HistoryFilter{Today: h.today}, NewDate(2026, 3, 2), NewDate(2026, 3, 1)); ErrorCode(err) != EINVALID {
		t.Errorf("a period ending before it starts: %v, want EINVALID", err)
	}
	days, err := h.db.CreditHistorySpend(ctx, h.acct, HistoryFilter{Today: h.today}, NewDate(2024, 1, 1), NewDate(2026, 3, 20))
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != MaxHistoryChartDays || days[len(days)-1].Day != NewDate(2026, 3, 20) {
		t.Errorf("a long period gives %d days to %s, want the last %d", len(days), days[len(days)-1].Day, MaxHistoryChartDays)
	}
}

// The plans the history reads are cached until a plan changes or gains a
// line: a plan that draws its first line, even one of amount zero, and a plan
// that expires show in the next page as they are.
func TestCreditHistoryNoticesNewLinesAndExpiredPlans(t *testing.T) {
	h := mustHistoryLedger(t)
	ctx := context.Background()
	f := HistoryFilter{Today: h.today}
	mustMatch := func(when string) {
		t.Helper()
		want := h.modelHistory(t, f)
		p, err := h.db.FindCreditHistory(ctx, h.acct, f, HistoryCursor{}, HistoryCursor{}, len(want)+10)
		if err != nil {
			t.Fatal(err)
		}
		var got []HistoryCursor
		for _, l := range p.Lines {
			got = append(got, l.Cursor())
		}
		if !sameCursors(got, want) {
			t.Fatalf("%s: the history shows %d lines, the model %d", when, len(got), len(want))
		}
	}
	mustMatch("at first")

	// A plan of its own service, at a price that makes its line zero.
	h.services["free"] = MustExec(t, h.db, `INSERT INTO services (code, name, unit) VALUES ('free', 'Free', 'call')`)
	MustExec(t, h.db, `INSERT INTO service_list_prices (service_id, currency, price) VALUES (?, 'VND', '0')`, h.services["free"])
	h.plans["FREE"] = h.plan(t, "FREE", "2026-03-01", "2026-12-31", 1_000_000, map[string]string{"free": "0"})
	mustMatch("after a new plan")
	at := time.Date(2026, 3, 19, 12, 0, 0, 0, time.UTC)
	for _, r := range MustApply(t, h.db, UsageEvent{ID: "free-1", AccountCode: "acme", ServiceCode: "free", Quantity: decimal.NewFromInt(3), At: at}) {
		if r.Outcome != Applied {
			t.Fatalf("%+v", r)
		}
	}
	if n := mustInt(t, h.db, `SELECT COUNT(*) FROM consumptions WHERE plan_id = ? AND amount = 0`, h.plans["FREE"]); n != 1 {
		t.Fatalf("%d zero lines of FREE", n)
	}
	mustMatch("after a plan's first line of amount zero")

	// LASTS ends before today: its lines are hidden from now on.
	MustExec(t, h.db, `UPDATE plans SET end_date = '2026-03-01' WHERE id = ?`, h.plans["LASTS"])
	mustMatch("after LASTS expired")
}
