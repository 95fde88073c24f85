package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// MustOpenTestDB opens a fresh database file in the test's temporary folder.
func MustOpenTestDB(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "billing.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// MustExec runs one statement on the writer connection, failing the test on error.
func MustExec(t testing.TB, db *DB, q string, args ...any) int64 {
	t.Helper()
	r, err := db.write.Exec(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	id, _ := r.LastInsertId()
	return id
}

// ledgerFixture is a small world built straight in SQL, so the engine's tests do
// not depend on the importer.
type ledgerFixture struct {
	db       *DB
	account  int64
	services map[string]int64
}

func mustLedgerFixture(t testing.TB, currency Currency, tz string) *ledgerFixture {
	t.Helper()
	db := MustOpenTestDB(t)
	f := &ledgerFixture{db: db, services: map[string]int64{}}
	f.account = MustExec(t, db, `INSERT INTO accounts (code, name, currency, timezone) VALUES ('acme', 'Acme AI', ?, ?)`, string(currency), tz)
	for _, s := range []struct{ code, unit, price string }{
		{"gpu", "hour", "65000"},
		{"tokens", "token", "0.0021"},
		{"storage", "GB-month", "550.5"},
	} {
		id := MustExec(t, db, `INSERT INTO services (code, name, unit) VALUES (?, ?, ?)`, s.code, s.code, s.unit)
		MustExec(t, db, `INSERT INTO service_list_prices (service_id, currency, price) VALUES (?, ?, ?)`, id, string(currency), s.price)
		f.services[s.code] = id
	}
	return f
}

// plan inserts an activated plan covering the given services at the given prices.
func (f *ledgerFixture) plan(t testing.TB, code, start, end string, amount int64, prices map[string]string) int64 {
	t.Helper()
	id := MustExec(t, f.db, `INSERT INTO plans (account_id, code, type, start_date, end_date, first_term_months, first_term_amount, amount,
		region, payment_option, payment_method, created_at, created_by, activated_at, paid_total)
		VALUES (?, ?, 'GPU Commitment', ?, ?, 1, ?, ?, 'Hanoi', 'all_upfront', 'online', '2026-01-01T00:00:00.000000000Z', 'an@acme.test',
		'2026-01-01T00:00:00.000000000Z', ?)`, f.account, code, start, end, amount, amount, amount)
	for svc, price := range prices {
		MustExec(t, f.db, `INSERT INTO plan_services (plan_id, service_id, price_per_unit) VALUES (?, ?, ?)`, id, f.services[svc], price)
	}
	return id
}

func (f *ledgerFixture) voucher(t testing.TB, code, from, to string, amount int64, services ...string) int64 {
	t.Helper()
	id := MustExec(t, f.db, `INSERT INTO vouchers (account_id, code, amount, remaining, effective_date, expiry_date, all_services) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		f.account, code, amount, amount, from, to, len(services) == 0)
	for _, s := range services {
		MustExec(t, f.db, `INSERT INTO voucher_services (voucher_id, service_id) VALUES (?, ?)`, id, f.services[s])
	}
	return id
}

func (f *ledgerFixture) topup(t testing.TB, amount int64) {
	t.Helper()
	MustExec(t, f.db, `UPDATE accounts SET topup_balance = topup_balance + ? WHERE id = ?`, amount, f.account)
}

func ev(id, service, quantity, at string) UsageEvent {
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		panic(err)
	}
	return UsageEvent{ID: id, AccountCode: "acme", ServiceCode: service, Quantity: decimal.RequireFromString(quantity), At: t}
}

// MustApply applies events and fails the test on a database error.
func MustApply(t testing.TB, db *DB, events ...UsageEvent) []EventResult {
	t.Helper()
	res, err := db.ApplyUsage(context.Background(), events)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

type lineRow struct {
	Source   string
	SourceID int64
	Quantity string
	Amount   int64
}

func mustLines(t testing.TB, db *DB) []lineRow {
	t.Helper()
	rows, err := db.read.Query(`SELECT source, COALESCE(plan_id, voucher_id, account_id), quantity, amount FROM consumptions ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []lineRow
	for rows.Next() {
		var l lineRow
		if err := rows.Scan(&l.Source, &l.SourceID, &l.Quantity, &l.Amount); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

func mustInt(t testing.TB, db *DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.read.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// mustStrings returns the first column of the rows of q.
func mustStrings(t testing.TB, db *DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.read.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

func TestApplyUsageDrawsInConsumptionOrder(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	later := f.plan(t, "BP-B", "2026-10-01", "2026-12-31", 1_000_000, map[string]string{"gpu": "50000"})
	sooner := f.plan(t, "BP-A", "2026-10-01", "2026-11-30", 100_000, map[string]string{"gpu": "40000"})
	v := f.voucher(t, "V1", "2026-10-01", "2027-01-31", 100_000, "gpu")
	f.topup(t, 65_000)

	// 2.5 h at 40,000 = 100,000 spends BP-A (ends soonest); then 18 h at 50,000
	// = 900,000 leaves BP-B with 100,000; 10 h more: 2 h on BP-B, the voucher pays
	// 100,000 / 65,000 h, the top-up 1 h, the rest is uncovered.
	res := MustApply(t, f.db,
		ev("e1", "gpu", "2.5", "2026-11-02T10:00:00+07:00"),
		ev("e2", "gpu", "18", "2026-11-02T11:00:00+07:00"),
		ev("e3", "gpu", "10", "2026-11-02T12:00:00+07:00"),
	)
	for i, r := range res {
		if r.Outcome != Applied {
			t.Fatalf("event %d: got %s (%s), want applied", i, r.Outcome, r.Reason)
		}
	}
	got := mustLines(t, f.db)
	want := []lineRow{
		{"plan", sooner, "2.5", 100_000},
		{"plan", later, "18", 900_000},
		{"plan", later, "2", 100_000},
		{"voucher", v, "1.538461538461538461", 100_000},
		{"topup", f.account, "1", 65_000},
		{"uncovered", f.account, "5.461538461538461539", 355_000},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("lines:\n got %v\nwant %v", got, want)
	}
	if got, want := res[2].Drawn, (Drawn{Plan: 100_000, Voucher: 100_000, Topup: 65_000, Uncovered: 355_000}); got != want {
		t.Errorf("drawn by e3: got %+v, want %+v", got, want)
	}
	if got := mustInt(t, f.db, `SELECT consumed FROM plans WHERE id = ?`, later); got != 1_000_000 {
		t.Errorf("BP-B consumed: got %d, want 1000000", got)
	}
	if got := mustInt(t, f.db, `SELECT COUNT(*) FROM plans WHERE depleted_at IS NOT NULL`); got != 2 {
		t.Errorf("depleted plans: got %d, want 2", got)
	}
	if got := mustInt(t, f.db, `SELECT remaining FROM vouchers WHERE id = ?`, v); got != 0 {
		t.Errorf("voucher remaining: got %d, want 0", got)
	}
	if got := mustInt(t, f.db, `SELECT topup_balance FROM accounts`); got != 0 {
		t.Errorf("top-up balance: got %d, want 0", got)
	}
	if got := mustInt(t, f.db, `SELECT uncovered FROM accounts`); got != 355_000 {
		t.Errorf("uncovered: got %d, want 355000", got)
	}
	if got := mustInt(t, f.db, `SELECT SUM(amount) FROM account_daily_spend WHERE day = '2026-11-02'`); got != 1_620_000 {
		t.Errorf("daily spend: got %d, want 1620000", got)
	}
}

func TestApplyUsageTieBreaks(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	// Same end date: the one that started first goes first; same dates: the lower code.
	c := f.plan(t, "BP-C", "2026-10-01", "2026-12-31", 10_000, map[string]string{"gpu": "1000"})
	b := f.plan(t, "BP-B", "2026-10-01", "2026-12-31", 10_000, map[string]string{"gpu": "1000"})
	a := f.plan(t, "BP-A", "2026-10-15", "2026-12-31", 10_000, map[string]string{"gpu": "1000"})
	MustApply(t, f.db, ev("e1", "gpu", "25", "2026-11-02T10:00:00+07:00"))
	got := mustLines(t, f.db)
	want := []lineRow{{"plan", b, "10", 10_000}, {"plan", c, "10", 10_000}, {"plan", a, "5", 5_000}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("lines:\n got %v\nwant %v", got, want)
	}
}

func TestApplyUsageSkipsPlansNotActiveAtTheEvent(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	notYet := f.plan(t, "BP-1", "2026-10-01", "2026-12-31", 1_000_000, map[string]string{"gpu": "1000"})
	MustExec(t, f.db, `UPDATE plans SET activated_at = NULL WHERE id = ?`, notYet)
	suspended := f.plan(t, "BP-2", "2026-10-01", "2026-12-31", 1_000_000, map[string]string{"gpu": "1000"})
	MustExec(t, f.db, `UPDATE plans SET suspended = 1 WHERE id = ?`, suspended)
	lateActivation := f.plan(t, "BP-3", "2026-10-01", "2026-12-31", 1_000_000, map[string]string{"gpu": "1000"})
	MustExec(t, f.db, `UPDATE plans SET activated_at = '2026-11-05T00:00:00.000000000Z' WHERE id = ?`, lateActivation)
	otherService := f.plan(t, "BP-4", "2026-10-01", "2026-12-31", 1_000_000, map[string]string{"tokens": "0.001"})
	// 17:30 UTC on 30 September is already 1 October in Ho Chi Minh City: BP-5 covers it.
	startsToday := f.plan(t, "BP-5", "2026-10-01", "2026-10-31", 1_000_000, map[string]string{"gpu": "1000"})
	MustApply(t, f.db,
		ev("e1", "gpu", "1", "2026-09-30T17:30:00Z"),
		ev("e2", "gpu", "1", "2026-11-02T10:00:00+07:00"),
	)
	got := mustLines(t, f.db)
	want := []lineRow{{"plan", startsToday, "1", 1000}, {"uncovered", f.account, "1", 65000}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("lines:\n got %v\nwant %v (plans %d %d %d %d must not be drawn)", got, want, notYet, suspended, lateActivation, otherService)
	}
}

func TestApplyUsageTheSameEventTwiceChangesNothing(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	f.plan(t, "BP-1", "2026-10-01", "2026-12-31", 1_000_000, map[string]string{"gpu": "1000"})
	first := MustApply(t, f.db, ev("e1", "gpu", "3", "2026-11-02T10:00:00+07:00"), ev("e1", "gpu", "7", "2026-11-02T10:00:00+07:00"))
	again := MustApply(t, f.db, ev("e1", "gpu", "5", "2026-11-03T10:00:00+07:00"))
	if first[0].Outcome != Applied || first[1].Outcome != Duplicate || again[0].Outcome != Duplicate {
		t.Fatalf("outcomes: got %s, %s, %s; want applied, duplicate, duplicate", first[0].Outcome, first[1].Outcome, again[0].Outcome)
	}
	if first[1].Drawn != first[0].Drawn || again[0].Drawn != first[0].Drawn {
		t.Errorf("a duplicate answers with the first result: got %+v and %+v, want %+v", first[1].Drawn, again[0].Drawn, first[0].Drawn)
	}
	if got := mustInt(t, f.db, `SELECT consumed FROM plans`); got != 3000 {
		t.Errorf("consumed: got %d, want 3000", got)
	}
	if got := mustInt(t, f.db, `SELECT COUNT(*) FROM consumptions`); got != 1 {
		t.Errorf("lines: got %d, want 1", got)
	}
}

func TestApplyUsageRejectsBadEvents(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	res := MustApply(t, f.db,
		UsageEvent{ID: "", AccountCode: "acme", ServiceCode: "gpu", Quantity: decimal.NewFromInt(1), At: time.Now()},
		UsageEvent{ID: "x1", AccountCode: "nobody", ServiceCode: "gpu", Quantity: decimal.NewFromInt(1), At: time.Now()},
		UsageEvent{ID: "x2", AccountCode: "acme", ServiceCode: "nothing", Quantity: decimal.NewFromInt(1), At: time.Now()},
		UsageEvent{ID: "x3", AccountCode: "acme", ServiceCode: "gpu", Quantity: decimal.NewFromInt(-1), At: time.Now()},
		UsageEvent{ID: "x4", AccountCode: "acme", ServiceCode: "gpu", Quantity: decimal.New(1, 20), At: time.Now()},
		ev("ok", "gpu", "1", "2026-11-02T10:00:00+07:00"),
	)
	for i, want := range []Outcome{Rejected, Rejected, Rejected, Rejected, Rejected, Applied} {
		if res[i].Outcome != want {
			t.Errorf("event %d: got %s (%s), want %s", i, res[i].Outcome, res[i].Reason, want)
		}
		if want == Rejected && res[i].Reason == "" {
			t.Errorf("event %d: a rejection must say why", i)
		}
	}
	if got := mustInt(t, f.db, `SELECT COUNT(*) FROM usage_events`); got != 1 {
		t.Errorf("usage events stored: got %d, want 1", got)
	}
}

func TestApplyUsageCarriesTheRoundingRemainder(t *testing.T) {
	f := mustLedgerFixture(t, USD, "America/New_York")
	f.plan(t, "BP-1", "2026-10-01", "2026-12-31", 100_000_00, map[string]string{"tokens": "0.0000021"})
	var events []UsageEvent
	for i := range 1000 {
		events = append(events, ev(fmt.Sprintf("e%d", i), "tokens", "1234", "2026-11-02T10:00:00-05:00"))
	}
	MustApply(t, f.db, events...)
	// Each event costs 0.2591 cents: rounded alone every line would be 0 and
	// 259.14 cents would be lost. Carried, the lines sum to the exact price
	// within one cent.
	sum := mustInt(t, f.db, `SELECT SUM(amount) FROM consumptions`)
	exact := decimal.RequireFromString("0.0000021").Mul(decimal.NewFromInt(1234 * 1000)).Shift(2)
	if diff := decimal.NewFromInt(sum).Sub(exact).Abs(); diff.GreaterThanOrEqual(decimal.NewFromInt(1)) {
		t.Errorf("sum of lines %d cents is %s from the exact %s", sum, diff, exact)
	}
	if got := mustInt(t, f.db, `SELECT consumed FROM plans`); got != sum {
		t.Errorf("consumed %d, want the sum of its lines %d", got, sum)
	}
}

// TestApplyUsageMatchesAReferenceModel runs seeded random worlds through the
// engine and through a small model written here with exact rationals, and
// compares every line; it checks the ledger's invariants after every batch.
func TestApplyUsageMatchesAReferenceModel(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			currency := []Currency{VND, USD, JPY}[seed%3]
			f := mustLedgerFixture(t, currency, "Asia/Ho_Chi_Minh")
			rng := rand.New(rand.NewPCG(seed, 42))
			m := newModel(f, currency)
			codes := []string{"gpu", "tokens", "storage"}
			prices := map[string][]string{"gpu": {"52000", "48000.5", "61000"}, "tokens": {"0.0021", "0.00173", "0.0019"}, "storage": {"500", "480.25", "512"}}
			for i := range 8 {
				start := NewDate(2026, 10, 1+rng.IntN(20))
				end := start.AddDays(10 + rng.IntN(60))
				svc := map[string]string{}
				for _, c := range codes {
					if rng.IntN(2) == 0 || len(svc) == 0 && c == "storage" {
						svc[c] = prices[c][rng.IntN(3)]
					}
				}
				amount := int64(50_000 + rng.IntN(2_000_000))
				code := fmt.Sprintf("BP-%03d", rng.IntN(1000)*10+i)
				m.addPlan(f.plan(t, code, start.String(), end.String(), amount, svc), code, start, end, amount, svc)
			}
			for i := range 3 {
				from := NewDate(2026, 10, 1+rng.IntN(10))
				to := from.AddDays(20 + rng.IntN(40))
				var only []string
				if rng.IntN(2) == 0 {
					only = []string{codes[rng.IntN(3)]}
				}
				amount := int64(10_000 + rng.IntN(300_000))
				code := fmt.Sprintf("V%d", i)
				m.addVoucher(f.voucher(t, code, from.String(), to.String(), amount, only...), code, from, to, amount, only)
			}
			topup := int64(rng.IntN(500_000))
			f.topup(t, topup)
			m.topup = topup

			n := 0
			for batch := range 5 {
				var events []UsageEvent
				for range 60 {
					n++
					day := NewDate(2026, 10, 1).AddDays(rng.IntN(80))
					at := day.Start(LoadLocation("Asia/Ho_Chi_Minh")).Add(time.Duration(rng.IntN(86400)) * time.Second)
					c := codes[rng.IntN(3)]
					q := decimal.New(int64(1+rng.IntN(50_000)), -int32(rng.IntN(3)))
					if c == "tokens" {
						q = decimal.NewFromInt(int64(1000 + rng.IntN(5_000_000)))
					}
					id := fmt.Sprintf("e%d", n)
					if rng.IntN(20) == 0 && n > 1 {
						id = fmt.Sprintf("e%d", 1+rng.IntN(n-1)) // a duplicate
					}
					events = append(events, UsageEvent{ID: id, AccountCode: "acme", ServiceCode: c, Quantity: q, At: at})
				}
				MustApply(t, f.db, events...)
				for _, e := range events {
					m.apply(e)
				}
				got := mustLines(t, f.db)
				if fmt.Sprint(got) != fmt.Sprint(m.lines) {
					t.Fatalf("batch %d: engine and model differ:\n got %v\nwant %v", batch, got, m.lines)
				}
				mustHoldLedgerInvariants(t, f.db)
			}
		})
	}
}

// mustHoldLedgerInvariants checks what must be true of any ledger.
func mustHoldLedgerInvariants(t testing.TB, db *DB) {
	t.Helper()
	// Every unit of every event is on exactly one line: the event's quantity is
	// the sum of its lines' quantities.
	rows, err := db.read.Query(`SELECT e.event_id, e.quantity, c.quantity FROM usage_events e JOIN consumptions c ON c.event_id = e.id ORDER BY e.id`)
	if err != nil {
		t.Fatal(err)
	}
	sums, quantities := map[string]decimal.Decimal{}, map[string]string{}
	for rows.Next() {
		var id, q, lq string
		if err := rows.Scan(&id, &q, &lq); err != nil {
			t.Fatal(err)
		}
		quantities[id] = q
		sums[id] = sums[id].Add(decimal.RequireFromString(lq))
	}
	rows.Close()
	for id, q := range quantities {
		if !sums[id].Equal(decimal.RequireFromString(q)) {
			t.Errorf("event %s: lines hold %s units, the event %s", id, sums[id], q)
		}
	}
	if n := mustInt(t, db, `SELECT COUNT(*) FROM usage_events e WHERE NOT EXISTS (SELECT 1 FROM consumptions c WHERE c.event_id = e.id)`); n != 0 {
		t.Errorf("%d events have no line", n)
	}
	if n := mustInt(t, db, `SELECT COUNT(*) FROM plans p WHERE consumed != (SELECT COALESCE(SUM(amount), 0) FROM consumptions c WHERE c.plan_id = p.id)`); n != 0 {
		t.Errorf("%d plans' consumed figure differs from the sum of their lines", n)
	}
	if n := mustInt(t, db, `SELECT COUNT(*) FROM plans p WHERE consumed != (SELECT COALESCE(SUM(amount), 0) FROM plan_daily_spend d WHERE d.plan_id = p.id)`); n != 0 {
		t.Errorf("%d plans' daily spend differs from their consumed figure", n)
	}
	if n := mustInt(t, db, `SELECT COUNT(*) FROM plans p WHERE consumed != (SELECT COALESCE(SUM(spent), 0) FROM plan_services s WHERE s.plan_id = p.id)`); n != 0 {
		t.Errorf("%d plans' service breakdown differs from their consumed figure", n)
	}
	if n := mustInt(t, db, `SELECT COUNT(*) FROM plans WHERE consumed > amount OR consumed < 0`); n != 0 {
		t.Errorf("%d plans went below zero", n)
	}
	if n := mustInt(t, db, `SELECT COUNT(*) FROM vouchers v WHERE remaining < 0 OR remaining != amount - (SELECT COALESCE(SUM(amount), 0) FROM consumptions c WHERE c.voucher_id = v.id)`); n != 0 {
		t.Errorf("%d vouchers are below zero or differ from their lines", n)
	}
	if n := mustInt(t, db, `SELECT COUNT(*) FROM accounts WHERE topup_balance < 0`); n != 0 {
		t.Errorf("%d top-up balances are below zero", n)
	}
	if n := mustInt(t, db, `SELECT COUNT(*) FROM accounts a WHERE uncovered != (SELECT COALESCE(SUM(amount), 0) FROM consumptions c WHERE c.account_id = a.id AND c.source = 'uncovered')`); n != 0 {
		t.Errorf("%d accounts' uncovered figure differs from their lines", n)
	}
	// Each source's lines of a service are within one minor unit of the exact price of their units.
	rows, err = db.read.Query(`SELECT source, COALESCE(plan_id, voucher_id, account_id), service_id, quantity, unit_price, amount, a.currency
		FROM consumptions c JOIN accounts a ON a.id = c.account_id`)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		source  string
		id, svc int64
	}
	exact, lines := map[key]decimal.Decimal{}, map[key]int64{}
	for rows.Next() {
		var k key
		var q, p, cur string
		var amt int64
		if err := rows.Scan(&k.source, &k.id, &k.svc, &q, &p, &amt, &cur); err != nil {
			t.Fatal(err)
		}
		exact[k] = exact[k].Add(decimal.RequireFromString(q).Mul(decimal.RequireFromString(p)).Shift(Currency(cur).Exponent()))
		lines[k] += amt
	}
	rows.Close()
	for k, e := range exact {
		if d := decimal.NewFromInt(lines[k]).Sub(e).Abs(); d.GreaterThanOrEqual(decimal.NewFromInt(1)) {
			t.Errorf("%v: lines sum to %d, exact price %s", k, lines[k], e)
		}
	}
}

// model is the reference ledger: the consumption order of spec/domain.md
// written as plainly as possible, with exact rationals.
type model struct {
	f        *ledgerFixture
	exp      int32
	loc      *time.Location
	plans    []*modelPlan
	vouchers []*modelVoucher
	topup    int64
	seen     map[string]bool
	carries  map[string]*big.Rat
	lines    []lineRow
	list     map[string]*big.Rat
}

type modelPlan struct {
	id                int64
	code              string
	start, end        Date
	amount, remaining int64
	prices            map[string]*big.Rat
}

type modelVoucher struct {
	id        int64
	code      string
	from, to  Date
	remaining int64
	only      []string
}

func newModel(f *ledgerFixture, c Currency) *model {
	rat := func(s string) *big.Rat { r, _ := new(big.Rat).SetString(s); return r }
	return &model{f: f, exp: c.Exponent(), loc: LoadLocation("Asia/Ho_Chi_Minh"), seen: map[string]bool{}, carries: map[string]*big.Rat{},
		list: map[string]*big.Rat{"gpu": rat("65000"), "tokens": rat("0.0021"), "storage": rat("550.5")}}
}

func (m *model) addPlan(id int64, code string, start, end Date, amount int64, prices map[string]string) {
	p := &modelPlan{id: id, code: code, start: start, end: end, amount: amount, remaining: amount, prices: map[string]*big.Rat{}}
	for s, v := range prices {
		p.prices[s], _ = new(big.Rat).SetString(v)
	}
	m.plans = append(m.plans, p)
	sort.SliceStable(m.plans, func(i, j int) bool {
		a, b := m.plans[i], m.plans[j]
		if a.end != b.end {
			return a.end.Before(b.end)
		}
		if a.start != b.start {
			return a.start.Before(b.start)
		}
		return a.code < b.code
	})
}

func (m *model) addVoucher(id int64, code string, from, to Date, amount int64, only []string) {
	m.vouchers = append(m.vouchers, &modelVoucher{id: id, code: code, from: from, to: to, remaining: amount, only: only})
	sort.SliceStable(m.vouchers, func(i, j int) bool {
		a, b := m.vouchers[i], m.vouchers[j]
		if a.to != b.to {
			return a.to.Before(b.to)
		}
		return a.code < b.code
	})
}

// take draws up to avail (avail < 0: no limit) of quantity q at price from a
// source, carrying the rounding remainder, and records the line.
func (m *model) take(source string, id int64, svc string, q, price *big.Rat, avail int64) (*big.Rat, int64) {
	key := fmt.Sprint(source, id, svc)
	c := m.carries[key]
	if c == nil {
		c = new(big.Rat)
	}
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(m.exp)), nil))
	unit := new(big.Rat).Mul(price, scale)
	total := new(big.Rat).Add(new(big.Rat).Mul(q, unit), c)
	amount := roundHalfAway(total)
	taken := q
	if avail >= 0 && amount > avail {
		// The part of q that avail pays for, cut to 18 decimals.
		part := new(big.Rat).Quo(new(big.Rat).Sub(new(big.Rat).SetInt64(avail), c), unit)
		e18 := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
		num := new(big.Int).Quo(new(big.Int).Mul(part.Num(), e18), part.Denom())
		taken = new(big.Rat).SetFrac(num, e18)
		amount = avail
		total = new(big.Rat).Add(new(big.Rat).Mul(taken, unit), c)
	}
	m.carries[key] = new(big.Rat).Sub(total, new(big.Rat).SetInt64(amount))
	qd, _ := decimal.NewFromString(taken.FloatString(18))
	m.lines = append(m.lines, lineRow{source, id, qd.String(), amount})
	return taken, amount
}

func roundHalfAway(r *big.Rat) int64 {
	half := big.NewRat(1, 2)
	x := new(big.Rat).Abs(r)
	x.Add(x, half)
	n := new(big.Int).Quo(x.Num(), x.Denom())
	if r.Sign() < 0 {
		n.Neg(n)
	}
	return n.Int64()
}

func (m *model) apply(e UsageEvent) {
	if m.seen[e.ID] {
		return
	}
	m.seen[e.ID] = true
	day := DateOf(e.At, m.loc)
	left, _ := new(big.Rat).SetString(e.Quantity.String())
	for _, p := range m.plans {
		price, covers := p.prices[e.ServiceCode]
		if left.Sign() <= 0 || !covers || p.remaining <= 0 || day.Before(p.start) || day.After(p.end) {
			continue
		}
		q, amt := m.take("plan", p.id, e.ServiceCode, left, price, p.remaining)
		p.remaining -= amt
		left.Sub(left, q)
	}
	for _, v := range m.vouchers {
		allowed := len(v.only) == 0 || v.only[0] == e.ServiceCode
		if left.Sign() <= 0 || !allowed || v.remaining <= 0 || day.Before(v.from) || day.After(v.to) {
			continue
		}
		q, amt := m.take("voucher", v.id, e.ServiceCode, left, m.list[e.ServiceCode], v.remaining)
		v.remaining -= amt
		left.Sub(left, q)
	}
	if left.Sign() > 0 && m.topup > 0 {
		q, amt := m.take("topup", m.f.account, e.ServiceCode, left, m.list[e.ServiceCode], m.topup)
		m.topup -= amt
		left.Sub(left, q)
	}
	if left.Sign() > 0 {
		m.take("uncovered", m.f.account, e.ServiceCode, left, m.list[e.ServiceCode], -1)
	}
}

// TestApplyUsageConcurrently sends overlapping batches from 8 goroutines and
// expects the same totals as one sender.
func TestApplyUsageConcurrently(t *testing.T) {
	build := func(t *testing.T) *ledgerFixture {
		f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
		f.plan(t, "BP-1", "2026-10-01", "2026-12-31", 5_000_000, map[string]string{"gpu": "50000"})
		f.voucher(t, "V1", "2026-10-01", "2026-12-31", 1_000_000)
		f.topup(t, 2_000_000)
		return f
	}
	var events []UsageEvent
	for i := range 400 {
		events = append(events, ev(fmt.Sprintf("e%d", i), "gpu", "0.75", "2026-11-02T10:00:00+07:00"))
	}
	totals := func(db *DB) string {
		return fmt.Sprint(mustInt(t, db, `SELECT consumed FROM plans`), mustInt(t, db, `SELECT remaining FROM vouchers`),
			mustInt(t, db, `SELECT topup_balance FROM accounts`), mustInt(t, db, `SELECT uncovered FROM accounts`),
			mustInt(t, db, `SELECT COUNT(*) FROM usage_events`), mustInt(t, db, `SELECT SUM(amount) FROM consumptions`))
	}
	one := build(t)
	MustApply(t, one.db, events...)

	many := build(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each goroutine sends a window of 100 events starting at g*40: neighbours overlap.
			for from := g * 40; from < g*40+100; from += 25 {
				if _, err := many.db.ApplyUsage(context.Background(), events[from:from+25]); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// The goroutines covered events 0..379; send the rest as one.
	MustApply(t, many.db, events[380:]...)
	if got, want := totals(many.db), totals(one.db); got != want {
		t.Errorf("concurrent totals %s, one sender %s", got, want)
	}
	mustHoldLedgerInvariants(t, many.db)
}

// TestApplyUsageDuplicateInALaterBatchAnswersTheFirstResult reads the first
// result back from usage_events, where the engine keeps only the sources that
// paid something, and where rows written before that keep all four.
func TestApplyUsageDuplicateInALaterBatchAnswersTheFirstResult(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	f.plan(t, "BP-A", "2026-10-01", "2026-11-30", 100_000, map[string]string{"gpu": "40000"})
	f.voucher(t, "V1", "2026-10-01", "2027-01-31", 100_000, "gpu")
	f.topup(t, 65_000)
	// e1 spends the plan; e2 the voucher, the top-up and more (uncovered, at
	// the list price of 65,000).
	first := MustApply(t, f.db,
		ev("e1", "gpu", "2.5", "2026-11-02T10:00:00+07:00"),
		ev("e2", "gpu", "10", "2026-11-02T12:00:00+07:00"),
	)
	// A row as the engine wrote it before results were kept short.
	MustExec(t, f.db, `INSERT INTO usage_events (account_id, event_id, service_id, quantity, at, result)
		VALUES (?, 'old', ?, '1', '2026-11-01T00:00:00.000000000Z', '{"plan":5,"voucher":0,"topup":7,"uncovered":0}')`, f.account, f.services["gpu"])
	again := MustApply(t, f.db,
		ev("e2", "gpu", "3", "2026-11-03T12:00:00+07:00"),
		ev("e1", "gpu", "1", "2026-11-03T12:00:00+07:00"),
		ev("old", "gpu", "1", "2026-11-03T12:00:00+07:00"),
	)
	want := []Drawn{first[1].Drawn, first[0].Drawn, {Plan: 5, Topup: 7}}
	if first[1].Drawn != (Drawn{Voucher: 100_000, Topup: 65_000, Uncovered: 485_000}) {
		t.Fatalf("e2 drawn: got %+v", first[1].Drawn)
	}
	for i, r := range again {
		if r.Outcome != Duplicate || r.Drawn != want[i] || r.Currency != VND {
			t.Errorf("%s: got %s %+v %s, want duplicate %+v VND", r.ID, r.Outcome, r.Drawn, r.Currency, want[i])
		}
	}
	got := mustStrings(t, f.db, `SELECT result FROM usage_events WHERE event_id IN ('e1', 'e2') ORDER BY event_id`)
	if fmt.Sprint(got) != `[{"plan":100000} {"voucher":100000,"topup":65000,"uncovered":485000}]` {
		t.Errorf("stored results: got %v", got)
	}
	if n := mustInt(t, f.db, `SELECT COUNT(*) FROM consumptions`); n != 4 {
		t.Errorf("lines: got %d, want 4 (duplicates add none)", n)
	}
}

// TestAppendDrawnReadsBackAsDrawn: what appendDrawn writes decodes, with
// encoding/json, to the same Drawn, whichever sources paid.
func TestAppendDrawnReadsBackAsDrawn(t *testing.T) {
	for _, d := range []Drawn{
		{}, {Plan: 1}, {Voucher: 2}, {Topup: 3}, {Uncovered: 4}, {Plan: 5, Uncovered: 6},
		{Plan: 1e17, Voucher: 1e17 - 1, Topup: 12, Uncovered: 100_000_000_000}, {Plan: -3},
	} {
		text := appendDrawn(nil, d)
		var back Drawn
		if err := json.Unmarshal(text, &back); err != nil || back != d {
			t.Errorf("%+v: wrote %s, read back %+v (%v)", d, text, back, err)
		}
	}
}

// TestApplyUsageReadsPlansPageAfterPage: the plans of a service are loaded a
// page at a time in draw order, the pages growing; an event whose plan comes
// after several pages of plans it cannot draw from still finds it.
func TestApplyUsageReadsPlansPageAfterPage(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	// 35 plans that end before BP-Z, in draw order before it, but start on 20
	// November: the batch's event of 2 November cannot draw from them.
	for k := range 35 {
		f.plan(t, fmt.Sprintf("BP-S%02d", k), "2026-11-20", NewDate(2026, 12, 1).AddDays(k%30).String(), 1_000_000, map[string]string{"gpu": "1000"})
	}
	z := f.plan(t, "BP-Z", "2026-10-01", "2026-12-31", 1_000_000, map[string]string{"gpu": "1000"})
	res := MustApply(t, f.db,
		ev("early", "gpu", "3", "2026-11-02T10:00:00+07:00"),
		ev("late", "gpu", "2", "2026-11-30T10:00:00+07:00"),
	)
	for _, r := range res {
		if r.Outcome != Applied || r.Drawn != (Drawn{Plan: int64(1000 * map[string]int{"early": 3, "late": 2}[r.ID])}) {
			t.Fatalf("%s: got %s %+v", r.ID, r.Outcome, r.Drawn)
		}
	}
	s00 := mustInt(t, f.db, `SELECT id FROM plans WHERE code = 'BP-S00'`)
	got := mustLines(t, f.db)
	if want := []lineRow{{"plan", z, "3", 3000}, {"plan", s00, "2", 2000}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("lines:\n got %v\nwant %v", got, want)
	}
}

// TestApplyUsageKeepsEachAccountsOrder: a batch of interleaved events of two
// accounts writes each account's events and lines in the order they were
// applied, each line under its own event.
func TestApplyUsageKeepsEachAccountsOrder(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	f.plan(t, "BP-A", "2026-10-01", "2026-12-31", 1_000_000, map[string]string{"gpu": "1000"})
	beta := MustExec(t, f.db, `INSERT INTO accounts (code, name, currency, timezone) VALUES ('beta', 'Beta', 'VND', 'Asia/Ho_Chi_Minh')`)
	plan := MustExec(t, f.db, `INSERT INTO plans (account_id, code, type, start_date, end_date, first_term_months, first_term_amount, amount,
		region, payment_option, payment_method, created_at, created_by, activated_at, paid_total)
		VALUES (?, 'BP-B', 'GPU Commitment', '2026-10-01', '2026-12-31', 1, 5000, 5000, 'Hanoi', 'all_upfront', 'online',
		'2026-01-01T00:00:00.000000000Z', 'an@beta.test', '2026-01-01T00:00:00.000000000Z', 5000)`, beta)
	MustExec(t, f.db, `INSERT INTO plan_services (plan_id, service_id, price_per_unit) VALUES (?, ?, '1000')`, plan, f.services["gpu"])

	var events []UsageEvent
	for i := range 12 {
		e := ev(fmt.Sprintf("e%d", i), "gpu", fmt.Sprint(1+i%3), "2026-11-02T10:00:00+07:00")
		if i%3 != 0 {
			e.AccountCode = "beta" // beta's plan runs out at its 4th event: it has plan and uncovered lines
		}
		events = append(events, e)
	}
	MustApply(t, f.db, events...)
	for _, code := range []string{"acme", "beta"} {
		// The account's lines by id, with their events: in the order applied.
		got := mustStrings(t, f.db, `SELECT e.event_id || ' ' || c.source || ' ' || c.quantity FROM consumptions c
			JOIN usage_events e ON e.id = c.event_id AND e.account_id = c.account_id
			JOIN accounts a ON a.id = c.account_id WHERE a.code = ? ORDER BY c.id`, code)
		ids := mustStrings(t, f.db, `SELECT e.event_id FROM usage_events e JOIN accounts a ON a.id = e.account_id WHERE a.code = ? ORDER BY e.id`, code)
		var want, wantIDs []string
		switch code {
		case "acme":
			want = []string{"e0 plan 1", "e3 plan 1", "e6 plan 1", "e9 plan 1"}
			wantIDs = []string{"e0", "e3", "e6", "e9"}
		case "beta":
			// 2+3+2 = 7 units; the plan pays 5 of them.
			want = []string{"e1 plan 2", "e2 plan 3", "e4 uncovered 2", "e5 uncovered 3", "e7 uncovered 2", "e8 uncovered 3", "e10 uncovered 2", "e11 uncovered 3"}
			wantIDs = []string{"e1", "e2", "e4", "e5", "e7", "e8", "e10", "e11"}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(ids) != fmt.Sprint(wantIDs) {
			t.Errorf("%s: lines %v, events %v;\nwant lines %v, events %v", code, got, ids, want, wantIDs)
		}
	}
	mustHoldLedgerInvariants(t, f.db)
}

// TestDecodeUsageEventAgreesWithEncodingJSON: for every shape of input,
// plain or not, DecodeUsageEvent answers what encoding/json alone gives.
func TestDecodeUsageEventAgreesWithEncodingJSON(t *testing.T) {
	inputs := []string{
		`{"id":"e1","account":"acme","service":"gpu","quantity":"1.5","at":"2026-11-02T10:00:00+07:00"}`,
		` { "id" : "e1" , "service" : "gpu" ,	"quantity":"2","at":"2026-11-02T10:00:00Z" } `,
		"{\n\"id\":\"e1\",\r\n\"service\":\"gpu\",\"quantity\":\"2\",\"at\":\"2026-11-02T10:00:00Z\"}\n",
		`{}`, `{ }`, `[]`, `"x"`, `null`, ``, `{`, `{"id":"e1"`, `{"id":"e1",}`, `{"id":"e1"}}`, `{"id":"e1"} {}`, `{"id":"e1"} x`,
		`{"id":"e1","service":"gpu","quantity":"2","at":"2026-11-02T10:00:00Z","extra":"x"}`,
		`{"ID":"e1","service":"gpu","quantity":"2","at":"2026-11-02T10:00:00Z"}`,
		`{"id":"e1","id":"e2","service":"gpu","quantity":"2","at":"2026-11-02T10:00:00Z"}`,
		`{"id":"e\"1","service":"gpu","quantity":"2","at":"2026-11-02T10:00:00Z"}`,
		`{"id":"e\\1","service":"gpu","quantity":"2","at":"2026-11-02T10:00:00Z"}`,
		`{"id":"e\u00e91","service":"gpu","quantity":"2","at":"2026-11-02T10:00:00Z"}`,
		`{"id":"é","service":"gpu","quantity":"2","at":"2026-11-02T10:00:00Z"}`,
		"{\"id\":\"e\xff1\",\"service\":\"gpu\",\"quantity\":\"2\",\"at\":\"2026-11-02T10:00:00Z\"}",
		"{\"id\":\"e\t1\",\"service\":\"gpu\",\"quantity\":\"2\",\"at\":\"2026-11-02T10:00:00Z\"}",
		`{"id":"e1","account":null,"service":"gpu","quantity":"2","at":"2026-11-02T10:00:00Z"}`,
		`{"id":"e1","account":"","service":"gpu","quantity":"2","at":"2026-11-02T10:00:00Z"}`,
		`{"id":1,"service":"gpu","quantity":"2","at":"2026-11-02T10:00:00Z"}`,
		`{"id":"e1","service":"gpu","quantity":2,"at":"2026-11-02T10:00:00Z"}`,
		`{"id":"e1","service":"gpu","quantity":"-2","at":"2026-11-02T10:00:00Z"}`,
		`{"id":"e1","service":"gpu","quantity":"0","at":"2026-11-02T10:00:00Z"}`,
		`{"id":"e1","service":"gpu","quantity":"1e3","at":"2026-11-02T10:00:00Z"}`,
		`{"id":"e1","service":"gpu","quantity":"2","at":"2026-11-02 10:00"}`,
		`{"id":"","service":"gpu","quantity":"2","at":"2026-11-02T10:00:00Z"}`,
		`{"id":"e1","service":"","quantity":"2","at":"2026-11-02T10:00:00Z"}`,
		`{"id":"e1","service":"gpu","at":"2026-11-02T10:00:00Z"}`,
		`{"id":"e1","service":"gpu","quantity":"2"}`,
	}
	for _, in := range inputs {
		for _, account := range []string{"", "acme"} {
			got, gotErr := DecodeUsageEvent([]byte(in), account)
			// What DecodeUsageEvent answered before it had a fast path.
			want, wantErr := UsageEvent{}, error(nil)
			if j, err := decodeUsageEventJSON([]byte(in)); err != nil {
				wantErr = err
			} else {
				want, wantErr = j.event(account)
			}
			if fmt.Sprint(got, gotErr) != fmt.Sprint(want, wantErr) {
				t.Errorf("%q (account %q):\n got %v %v\nwant %v %v", in, account, got, gotErr, want, wantErr)
			}
		}
		if j, ok := scanUsageEvent([]byte(in)); ok {
			ref, err := decodeUsageEventJSON([]byte(in))
			fields := func(j usageEventJSON) string {
				return fmt.Sprintf("%q %q %q %q %q", j.ID, deref(j.Account), j.Service, j.Quantity, j.At)
			}
			if err != nil || fields(j) != fields(ref) {
				t.Errorf("%q: the fast path read %s, encoding/json %s (%v)", in, fields(j), fields(ref), err)
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// TestTheWALIsCheckpointedInTheBackground writes to the database and waits for
// the checkpointer to copy the WAL back into the database file, as it does
// every checkpointEvery; the writer itself would not for 20,000 pages.
func TestTheWALIsCheckpointedInTheBackground(t *testing.T) {
	db := MustOpenTestDB(t)
	var fallback int64
	if err := db.write.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&fallback); err != nil || fallback != walFallbackPages {
		t.Fatalf("the writer checkpoints every %d pages (%v), want %d", fallback, err, walFallbackPages)
	}
	for i := range 50 {
		MustExec(t, db, `INSERT INTO accounts (code, name, currency, timezone) VALUES (?, 'A', 'VND', 'UTC')`, fmt.Sprintf("a%d", i))
	}
	deadline := time.Now().Add(10 * checkpointEvery)
	for db.walFrames.Load() == 0 || db.walCheckpointed.Load() != db.walFrames.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s the last checkpoint copied %d of %d pages", 10*checkpointEvery, db.walCheckpointed.Load(), db.walFrames.Load())
		}
		time.Sleep(checkpointEvery / 5)
	}
}
