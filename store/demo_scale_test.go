package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestSeedScaleMakesTheAccountsPlansAndUsageAsked(t *testing.T) {
	PasswordParams.Memory, PasswordParams.Time = 64, 1
	db := MustOpenTestDB(t)
	today := NewDate(2026, 12, 3)
	db.Now = func() time.Time { return today.Start(LoadLocation(DefaultTimeZone)).Add(15 * time.Hour) }
	// 4 accounts: globex gets 30 plans, the 3 others 10 each (30 / 3), and
	// usage in proportion: 3,000 × 30/60 = 1,500 events, 500 for each other.
	o := ScaleOptions{Seed: 5, Accounts: 4, Plans: 60, BigPlans: 30, Events: 3000, Days: 20, Today: today}
	rep, err := db.SeedScale(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Usage.Applied != 3000 || rep.Usage.Rejected != 0 || rep.Usage.Duplicates != 0 {
		t.Fatalf("usage: %d applied, %d rejected (%v), %d duplicates; want 3000 applied", rep.Usage.Applied, rep.Usage.Rejected, rep.Usage.Problems, rep.Usage.Duplicates)
	}
	if rep.Lines < 3000 {
		t.Errorf("%d consumption lines; want at least one per event (3000)", rep.Lines)
	}
	// 20 days in windows of 7: 7, 7 and 6 days, so at least 3 batches; the
	// 3,000 events need at least 3 batches of 1,000 too, and each window adds
	// at most one part-filled batch.
	if rep.Batches < 3 || rep.Batches > 6 {
		t.Errorf("%d batches; want 3 to 6", rep.Batches)
	}

	counts := map[string][2]int{}
	rows, err := db.read.Query(`SELECT a.code,
		(SELECT COUNT(*) FROM plans p WHERE p.account_id = a.id),
		(SELECT COUNT(*) FROM usage_events e WHERE e.account_id = a.id)
		FROM accounts a`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var code string
		var plans, events int
		if err := rows.Scan(&code, &plans, &events); err != nil {
			t.Fatal(err)
		}
		counts[code] = [2]int{plans, events}
	}
	rows.Close()
	want := map[string][2]int{"acme": {10, 500}, "globex": {30, 1500}, "tanaka": {10, 500}, "customer-003": {10, 500}}
	for code, w := range want {
		if counts[code] != w {
			t.Errorf("%s: %d plans and %d events; want %d and %d", code, counts[code][0], counts[code][1], w[0], w[1])
		}
	}
	if len(counts) != len(want) {
		t.Errorf("%d accounts; want %d", len(counts), len(want))
	}

	// Usage every day of the 20 days before today, and none today or later.
	var days int
	var first, last string
	if err := db.read.QueryRow(`SELECT COUNT(DISTINCT day), MIN(day), MAX(day) FROM account_daily_spend`).Scan(&days, &first, &last); err != nil {
		t.Fatal(err)
	}
	if days != 20 || first != "2026-11-13" || last != "2026-12-02" {
		t.Errorf("daily spend on %d days from %s to %s; want 20 days from 2026-11-13 to 2026-12-02", days, first, last)
	}
	mustHoldLedgerInvariants(t, db)
}

func TestScaleDataIsDeterministic(t *testing.T) {
	o := ScaleOptions{Seed: 3, Accounts: 5, Plans: 50, BigPlans: 10, Events: 500, Days: 10, Today: NewDate(2026, 12, 3)}
	gen := func(o ScaleOptions) (ImportFile, []ImportPlan, []UsageEvent) {
		g := newScaleGen(o)
		f, plans := g.importFile()
		var events []UsageEvent
		for d := range o.Days {
			for a := range g.accounts {
				events = append(events, g.dayEvents(a, d, o.Today.AddDays(d-o.Days))...)
			}
		}
		return f, plans, events
	}
	f1, p1, e1 := gen(o)
	f2, p2, e2 := gen(o)
	if len(p1) != 50 || len(e1) != 500 {
		t.Fatalf("%d plans and %d events; want 50 and 500", len(p1), len(e1))
	}
	if fmt.Sprint(f1) != fmt.Sprint(f2) || fmt.Sprint(p1) != fmt.Sprint(p2) || fmt.Sprint(e1) != fmt.Sprint(e2) {
		t.Error("the same seed and day gave different data")
	}
	o.Seed = 4
	if _, p3, _ := gen(o); fmt.Sprint(p1) == fmt.Sprint(p3) {
		t.Error("another seed gave the same plans")
	}
}

func TestScalePresetsAndBadOptions(t *testing.T) {
	large, err := ScalePreset("large")
	if err != nil {
		t.Fatal(err)
	}
	if large.Accounts != 500 || large.Plans != 100_000 || large.BigPlans != 20_000 || large.Events != 5_000_000 || large.Days != 365 {
		t.Errorf("large is %+v; want 500 accounts, 100,000 plans (20,000 in one), 5,000,000 events over 365 days", large)
	}
	if _, err := ScalePreset("huge"); ErrorCode(err) != EINVALID {
		t.Errorf("ScalePreset(huge): %v; want an EINVALID error", err)
	}
	db := MustOpenTestDB(t)
	for name, o := range map[string]ScaleOptions{
		"two accounts":               {Accounts: 2, Plans: 10, BigPlans: 5, Days: 1},
		"fewer plans than accounts":  {Accounts: 5, Plans: 4, BigPlans: 1, Days: 1},
		"the big account takes all":  {Accounts: 3, Plans: 10, BigPlans: 10, Days: 1},
		"no day":                     {Accounts: 3, Plans: 10, BigPlans: 5, Days: 0},
		"a negative number of usage": {Accounts: 3, Plans: 10, BigPlans: 5, Days: 1, Events: -1},
	} {
		if _, err := db.SeedScale(context.Background(), o, nil); ErrorCode(err) != EINVALID {
			t.Errorf("%s: %v; want an EINVALID error", name, err)
		}
	}
	if empty, err := db.IsEmpty(context.Background()); err != nil || !empty {
		t.Errorf("after bad options the database is not empty (%v)", err)
	}
}
