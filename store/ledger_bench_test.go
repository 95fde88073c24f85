package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// mustBulkPlans adds accounts×perAccount activated plans covering gpu and
// tokens, straight in SQL, in one transaction.
func mustBulkPlans(b *testing.B, f *ledgerFixture, accounts, perAccount int) []string {
	b.Helper()
	tx, err := f.db.write.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	codes := []string{"acme"}
	planSt, _ := tx.Prepare(`INSERT INTO plans (account_id, code, type, start_date, end_date, first_term_months, first_term_amount, amount,
		region, payment_option, payment_method, created_at, created_by, activated_at, paid_total)
		VALUES (?, ?, 'GPU Commitment', ?, ?, 3, ?, ?, 'Hanoi', 'all_upfront', 'online', '2026-01-01T00:00:00.000000000Z', 'ops', '2026-01-01T00:00:00.000000000Z', ?)`)
	svcSt, _ := tx.Prepare(`INSERT INTO plan_services (plan_id, service_id, price_per_unit) VALUES (?, ?, ?)`)
	n := 0
	for a := range accounts {
		acct := f.account
		if a > 0 {
			code := fmt.Sprintf("acct-%d", a)
			r, err := tx.Exec(`INSERT INTO accounts (code, name, currency, timezone) VALUES (?, ?, 'VND', 'Asia/Ho_Chi_Minh')`, code, code)
			if err != nil {
				b.Fatal(err)
			}
			acct, _ = r.LastInsertId()
			codes = append(codes, code)
		}
		for range perAccount {
			n++
			start := NewDate(2026, 1, 1).AddDays(n % 300)
			r, err := planSt.Exec(acct, fmt.Sprintf("BP-%07d", n), start.String(), start.AddMonths(3).AddDays(-1).String(), 1e12, 1e12, 1e12)
			if err != nil {
				b.Fatal(err)
			}
			id, _ := r.LastInsertId()
			svcSt.Exec(id, f.services["gpu"], "52000")
			svcSt.Exec(id, f.services["tokens"], "0.0019")
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return codes
}

// BenchmarkApplyUsage applies usage in batches of 1,000 events into a database
// of 100,000 plans (100 accounts of 1,000 plans); it reports events per second.
func BenchmarkApplyUsage(b *testing.B) {
	f := mustLedgerFixture(b, VND, "Asia/Ho_Chi_Minh")
	accounts := mustBulkPlans(b, f, 100, 1000)
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	const batch = 1000
	n := 0
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		b.StopTimer()
		// A batch is one metering flush: a few accounts, one day.
		events := make([]UsageEvent, 0, batch)
		day := base.Add(time.Duration(i/batch%120) * 24 * time.Hour)
		for range batch {
			n++
			svc, q := "gpu", decimal.New(int64(1+rng.IntN(100)), -1)
			if n%2 == 0 {
				svc, q = "tokens", decimal.NewFromInt(int64(1000+rng.IntN(100000)))
			}
			events = append(events, UsageEvent{ID: fmt.Sprintf("e%d", n), AccountCode: accounts[rng.IntN(8)], ServiceCode: svc, Quantity: q,
				At: day.Add(time.Duration(rng.IntN(86400)) * time.Second)})
		}
		b.StartTimer()
		if _, err := f.db.ApplyUsage(context.Background(), events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
