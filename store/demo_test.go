package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestSeedDemoCoversEveryStatusPaymentStatusAndOption(t *testing.T) {
	PasswordParams.Memory, PasswordParams.Time = 64, 1
	db := MustOpenTestDB(t)
	today := NewDate(2026, 12, 3)
	db.Now = func() time.Time { return today.Start(LoadLocation(DefaultTimeZone)).Add(15 * time.Hour) }
	rep, err := db.SeedDemo(context.Background(), DemoOptions{Seed: 7, Accounts: 3, Plans: 20, Days: 120, Today: today})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Applied == 0 || rep.Rejected != 0 {
		t.Fatalf("usage: %d applied, %d rejected (%v); want all applied", rep.Applied, rep.Rejected, rep.Problems)
	}
	rows, err := db.read.Query(`SELECT a.code, p.start_date, p.end_date, p.amount, p.paid_total, p.consumed, p.payment_option,
		p.activated_at IS NOT NULL, p.suspended FROM plans p JOIN accounts a ON a.id = p.account_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var (
			acct, start, end, option string
			amount, paid, consumed   int64
			activated, suspended     bool
		)
		if err := rows.Scan(&acct, &start, &end, &amount, &paid, &consumed, &option, &activated, &suspended); err != nil {
			t.Fatal(err)
		}
		p := Plan{StartDate: MustParseDate(start), EndDate: MustParseDate(end), Amount: Money{Minor: amount},
			PaidTotal: Money{Minor: paid}, Consumed: Money{Minor: consumed}, Suspended: suspended}
		if activated {
			p.ActivatedAt = &time.Time{}
		}
		seen[fmt.Sprint(acct, " ", p.Status(today), " ", p.PaymentStatus(), " ", option)] = true
		if p.IsDepleted() {
			seen[acct+" depleted"] = true
		}
	}
	for _, acct := range []string{"acme", "globex", "tanaka"} {
		for _, want := range []string{
			"active paid all_upfront", "active partially_paid partial_upfront", "active unpaid postpaid", "active partially_paid postpaid",
			"expired paid all_upfront", "expired partially_paid partial_upfront", "expired unpaid postpaid", "expired unpaid all_upfront",
			"inactive paid all_upfront", "inactive unpaid postpaid", "inactive unpaid partial_upfront", "inactive partially_paid all_upfront",
		} {
			if !seen[acct+" "+want] {
				t.Errorf("%s has no %s plan", acct, want)
			}
		}
		if !seen[acct+" depleted"] {
			t.Errorf("%s has no depleted plan", acct)
		}
	}
	mustHoldLedgerInvariants(t, db)
}

func TestDemoDataIsDeterministic(t *testing.T) {
	o := DemoOptions{Seed: 3, Accounts: 4, Plans: 20, Days: 30, Today: NewDate(2026, 12, 3)}
	f1, e1 := DemoData(o)
	f2, e2 := DemoData(o)
	if fmt.Sprint(f1) != fmt.Sprint(f2) || fmt.Sprint(e1) != fmt.Sprint(e2) {
		t.Error("the same seed and day gave different data")
	}
	o.Seed = 4
	if f3, _ := DemoData(o); fmt.Sprint(f3) == fmt.Sprint(f1) {
		t.Error("another seed gave the same data")
	}
}
