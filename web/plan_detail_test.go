package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/shopspring/decimal"

	"github.com/billingplans/billingplans/store"
)

// planDetailToday is the day of the detail page's fixture: 3 December 2026,
// 15:00 in Ho Chi Minh City.
var planDetailToday = time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)

const planDetailPassword = "correct horse 42"

// planDetailWorld is the fixture of the detail page: an account "acme" with a
// plan in every status and payment status, each on services of its own (so
// that no plan draws another's usage), an admin and a viewer; and an account
// "globex" whose plan acme must not see.
type planDetailWorld struct {
	db     *store.DB
	srv    *Server
	admin  *client
	viewer *client
	globex *client
}

// MustExecDetailSQL runs one statement in a writing transaction: the tests
// write rows (pending payments, renewals) that no store function writes yet.
func MustExecDetailSQL(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// MustImportDetail imports f into db.
func MustImportDetail(t *testing.T, db *store.DB, f store.ImportFile) {
	t.Helper()
	if _, err := db.Import(context.Background(), f); err != nil {
		t.Fatal(err)
	}
}

// MustApplyDetailUsage applies the events and fails unless every one is applied.
func MustApplyDetailUsage(t *testing.T, db *store.DB, events ...store.UsageEvent) {
	t.Helper()
	res, err := db.ApplyUsage(context.Background(), events)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Outcome != store.Applied {
			t.Fatalf("event %s: %s %s", r.ID, r.Outcome, r.Reason)
		}
	}
}

// detailUsage returns a usage event of acme.
func detailUsage(id, service, quantity, at string) store.UsageEvent {
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		panic(err)
	}
	return store.UsageEvent{ID: id, AccountCode: "acme", ServiceCode: service, Quantity: decimal.RequireFromString(quantity), At: t}
}

// detailService is a service of the fixture with one package priced in VND.
func detailService(code, name, unit, pkgCode, pkgName, price string) store.ImportService {
	s := store.ImportService{Code: code, Name: name, Unit: unit, ListPrices: map[string]string{"VND": "99999"}}
	if pkgCode != "" {
		s.Packages = []store.ImportPackage{{Code: pkgCode, Name: pkgName, Prices: map[string]string{"VND": price}}}
	}
	return s
}

func mustPlanDetailWorld(t *testing.T) *planDetailWorld {
	t.Helper()
	db := MustOpenDB(t)
	MustSetClock(t, db, planDetailToday)
	svc := func(service, pkg, price string) store.ImportPlanService {
		return store.ImportPlanService{Service: service, Package: pkg, PricePerUnit: price}
	}
	pay := func(amount, method, at string) store.ImportPayment {
		return store.ImportPayment{Amount: amount, Method: method, PaidAt: at}
	}
	MustImportDetail(t, db, store.ImportFile{
		Accounts: []store.ImportAccount{
			{Code: "acme", Name: "Acme AI", Currency: "VND", Timezone: "Asia/Ho_Chi_Minh"},
			{Code: "globex", Name: "Globex", Currency: "VND", Timezone: "Asia/Ho_Chi_Minh"},
		},
		Services: []store.ImportService{
			detailService("gpu-a", "GPU Container H100", "hour", "h100-commit", "H100 commitment", "52000"),
			detailService("tok-a", "Model inference Llama 3.3 70B", "token", "llama-pack", "Llama token pack", "0.01875"),
			detailService("sto-a", "Object Storage", "GB-month", "sto-pack", "Object storage TB pack", "450.5"),
			detailService("gpu-b", "GPU Container H200", "hour", "", "", ""),
			detailService("tok-c", "Model inference Qwen 2.5 32B", "token", "", "", ""),
			detailService("gpu-d", "GPU Virtual Machine H100", "hour", "", "", ""),
			detailService("gpu-e", "GPU Virtual Machine H200", "hour", "", "", ""),
			detailService("sto-f", "Object Storage Archive", "GB-month", "", "", ""),
			detailService("gpu-g", "Fine-tuning H100", "hour", "", "", ""),
			detailService("gpu-h", "AI Notebook", "hour", "", "", ""),
		},
		Plans: []store.ImportPlan{
			{Code: "BP-ACTIVE", Account: "acme", Type: "AI Platform Starter", StartDate: "2026-11-01", EndDate: "2026-12-31",
				Amount: "9000000", Region: "Hanoi", PaymentOption: "partial_upfront", UpfrontAmount: "3000000", PaymentMethod: "bank_transfer",
				CreatedAt: "2026-10-28T10:00:00+07:00", CreatedBy: "an@acme.test",
				Services: []store.ImportPlanService{svc("gpu-a", "h100-commit", ""), svc("tok-a", "llama-pack", ""), svc("sto-a", "sto-pack", "")},
				Payments: []store.ImportPayment{pay("3000000", "bank_transfer", "2026-10-30T09:00:00+07:00"), pay("2000000", "bank_transfer", "2026-11-15T14:00:00+07:00")}},
			{Code: "BP-BURN", Account: "acme", Type: "GPU Commitment", StartDate: "2026-11-01", EndDate: "2027-01-31",
				Amount: "2000000", Region: "Ho Chi Minh City", PaymentOption: "all_upfront", PaymentMethod: "online",
				CreatedAt: "2026-10-15T09:00:00+07:00", CreatedBy: "an@acme.test",
				Services: []store.ImportPlanService{svc("gpu-b", "", "52000")},
				Payments: []store.ImportPayment{pay("2000000", "online", "2026-10-20T09:00:00+07:00")}},
			{Code: "BP-QUIET", Account: "acme", Type: "Inference Token Pack", StartDate: "2026-12-01", EndDate: "2026-12-20",
				Amount: "500000", Region: "Hanoi", PaymentOption: "postpaid", PaymentMethod: "online",
				CreatedAt: "2026-11-30T09:00:00+07:00", CreatedBy: "an@acme.test",
				Services: []store.ImportPlanService{svc("tok-c", "", "0.01875")}},
			{Code: "BP-ENDED", Account: "acme", Type: "GPU VM Reserved", StartDate: "2026-09-01", EndDate: "2026-11-30",
				Amount: "3000000", Region: "Hanoi", PaymentOption: "all_upfront", PaymentMethod: "bank_transfer",
				CreatedAt: "2026-08-20T09:00:00+07:00", CreatedBy: "an@acme.test",
				Services: []store.ImportPlanService{svc("gpu-d", "", "52000")},
				Payments: []store.ImportPayment{pay("3000000", "bank_transfer", "2026-08-25T09:00:00+07:00")}},
			{Code: "BP-DEPLETED", Account: "acme", Type: "GPU VM Reserved", StartDate: "2026-11-01", EndDate: "2026-12-31",
				Amount: "1000000", Region: "Hanoi", PaymentOption: "all_upfront", PaymentMethod: "online",
				CreatedAt: "2026-10-20T09:00:00+07:00", CreatedBy: "an@acme.test",
				Services: []store.ImportPlanService{svc("gpu-e", "", "52000")},
				Payments: []store.ImportPayment{pay("1000000", "online", "2026-10-31T23:00:00+07:00")}},
			{Code: "BP-FUTURE", Account: "acme", Type: "Storage Reserve", StartDate: "2027-01-03", EndDate: "2027-03-31",
				Amount: "900000", Region: "Tokyo", PaymentOption: "partial_upfront", UpfrontAmount: "300000", PaymentMethod: "online",
				CreatedAt: "2026-11-28T09:00:00+07:00", CreatedBy: "an@acme.test",
				Services: []store.ImportPlanService{svc("sto-f", "", "450.5")},
				Payments: []store.ImportPayment{pay("300000", "online", "2026-12-01T10:00:00+07:00")}},
			{Code: "BP-WAITING", Account: "acme", Type: "Fine-tuning Bundle", StartDate: "2026-11-15", EndDate: "2027-02-14",
				Amount: "6000000", Region: "Hanoi", PaymentOption: "all_upfront", PaymentMethod: "bank_transfer",
				CreatedAt: "2026-11-01T09:00:00+07:00", CreatedBy: "an@acme.test",
				Services: []store.ImportPlanService{svc("gpu-g", "", "66000")},
				Payments: []store.ImportPayment{pay("2000000", "bank_transfer", "2026-11-10T10:00:00+07:00")}},
			{Code: "BP-SUSPENDED", Account: "acme", Type: "Notebook Hours", StartDate: "2026-11-01", EndDate: "2026-12-31",
				Amount: "1000000", Region: "Hanoi", PaymentOption: "all_upfront", PaymentMethod: "online", Suspended: true,
				CreatedAt: "2026-10-20T09:00:00+07:00", CreatedBy: "an@acme.test",
				Services: []store.ImportPlanService{svc("gpu-h", "", "9600")},
				Payments: []store.ImportPayment{pay("1000000", "online", "2026-10-25T09:00:00+07:00")}},
			{Code: "BP-GLOBEX", Account: "globex", Type: "Globex secret type", StartDate: "2026-11-01", EndDate: "2026-12-31",
				Amount: "1000000", Region: "Hanoi", PaymentOption: "postpaid", PaymentMethod: "online",
				Services: []store.ImportPlanService{svc("gpu-a", "", "52000")}},
		},
	})
	MustApplyDetailUsage(t, db,
		// BP-ACTIVE: the burn window is 26 Nov..2 Dec.
		detailUsage("a1", "gpu-a", "8", "2026-11-01T10:00:00+07:00"),       // 416,000
		detailUsage("a2", "gpu-a", "2", "2026-11-25T10:00:00+07:00"),       // 104,000, the day before the window
		detailUsage("a3", "gpu-a", "5", "2026-11-26T10:00:00+07:00"),       // 260,000
		detailUsage("a4", "tok-a", "1000000", "2026-11-30T10:00:00+07:00"), // 18,750
		detailUsage("a5", "sto-a", "120", "2026-12-02T10:00:00+07:00"),     // 54,060
		detailUsage("a6", "gpu-a", "1", "2026-12-03T10:00:00+07:00"),       // 52,000 today, after the window
		// BP-BURN
		detailUsage("b1", "gpu-b", "1", "2026-11-05T10:00:00+07:00"),  // 52,000, before the window
		detailUsage("b2", "gpu-b", "10", "2026-11-27T10:00:00+07:00"), // 520,000
		detailUsage("b3", "gpu-b", "10", "2026-12-01T10:00:00+07:00"), // 520,000
		// BP-QUIET: only today, after its two-day window.
		detailUsage("q1", "tok-c", "100000", "2026-12-03T09:00:00+07:00"), // 1,875
		// BP-ENDED
		detailUsage("e1", "gpu-d", "5", "2026-09-10T10:00:00+07:00"), // 260,000
		// BP-DEPLETED: 20 hours are 1,040,000, more than the plan's 1,000,000;
		// the event is on 20 November in UTC, 21 November in Ho Chi Minh City.
		detailUsage("d1", "gpu-e", "20", "2026-11-20T23:30:00Z"),
	)
	// A pending bank transfer and a renewal of BP-ACTIVE, and an audit entry.
	MustExecDetailSQL(t, db, `INSERT INTO payments (plan_id, amount, method, status, reference, created_at, paid_by)
		SELECT id, 1000000, 'bank_transfer', 'pending', 'BT-7781', '2026-12-02T03:00:00.000000000Z', 'bo@acme.test' FROM plans WHERE code = 'BP-ACTIVE'`)
	MustExecDetailSQL(t, db, `INSERT INTO renewals (plan_id, term_months, price, old_end_date, new_start_date, new_end_date, renewed_at, renewed_by)
		SELECT id, 3, 4500000, '2026-12-31', '2027-01-01', '2027-03-31', '2026-12-01T08:00:00.000000000Z', 'bo@acme.test' FROM plans WHERE code = 'BP-ACTIVE'`)
	MustExecDetailSQL(t, db, `INSERT INTO audit_log (at, account_id, plan_id, actor, action, detail)
		SELECT '2026-12-01T08:00:00.000000000Z', account_id, id, 'bo@acme.test', 'plan.renew', 'Renewed for 3 months.' FROM plans WHERE code = 'BP-ACTIVE'`)

	MustCreateUser(t, db, "admin@acme.test", planDetailPassword, "acme", store.RoleAdmin)
	MustCreateUser(t, db, "viewer@acme.test", planDetailPassword, "acme", store.RoleViewer)
	MustCreateUser(t, db, "admin@globex.test", planDetailPassword, "globex", store.RoleAdmin)
	srv := MustNewServer(t, db)
	return &planDetailWorld{
		db: db, srv: srv,
		admin:  MustSignIn(t, srv, "admin@acme.test", planDetailPassword),
		viewer: MustSignIn(t, srv, "viewer@acme.test", planDetailPassword),
		globex: MustSignIn(t, srv, "admin@globex.test", planDetailPassword),
	}
}

// MustGetDetailDoc gets path with c and parses the page, failing unless it is a 200.
func MustGetDetailDoc(t *testing.T, c *client, path string) *goquery.Document {
	t.Helper()
	rec := c.Get(path)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200; body:\n%.800s", path, rec.Code, rec.Body)
	}
	return MustDoc(t, rec)
}

// TestPlanDetailFigures checks every figure of the page, for a plan in each
// status and payment status, against values worked out by hand.
func TestPlanDetailFigures(t *testing.T) {
	w := mustPlanDetailWorld(t)
	for _, tc := range []struct {
		name string
		code string
		want map[string]string
		// absent are test ids the page must not have.
		absent []string
	}{
		{"an active, partially paid plan whose balance outlasts its end", "BP-ACTIVE", map[string]string{
			"page-title": "BP-ACTIVE", "plan-type": "AI Platform Starter", "plan-code": "BP-ACTIVE",
			"pill-status": "Active", "pill-days-remaining": "29 days remaining", // 3..31 December
			// 904,810 of 9,000,000 is 10.0534%: one decimal, half up.
			"pill-usage-percent": "10.1%",
			// 416,000 + 104,000 + 260,000 + 18,750 + 54,060 + 52,000
			"usage-consumed": "₫904,810", "usage-total": "₫9,000,000", "usage-remaining": "₫8,095,190",
			// The window (26 Nov..2 Dec) spent 260,000 + 18,750 + 54,060 = 332,810, 47,544.29 a day;
			// 8,095,190 lasts 171 days, more than 29: ⌊(8,095,190 × 7 − 332,810 × 29) ÷ 7⌋ = 6,716,405 unused.
			"usage-depletion": "The balance outlasts the end date: about ₫6,716,405 will be left unused on 31 Dec 2026",
			"usage-burn-rate": "₫47,544 per day (average of the last 7 days)",
			"detail-services": "GPU Container H100, Model inference Llama 3.3 70B, Object Storage",
			"detail-start":    "1 Nov 2026", "detail-end": "31 Dec 2026",
			"payment-option": "Partial upfront (₫3,000,000 upfront)",
			// Only the 3,000,000 of 30 October came before the start date.
			"upfront-paid": "₫3,000,000", "payment-method": "Bank transfer", "payment-status": "Partially paid",
			// The pending 1,000,000 does not count.
			"paid-total": "₫5,000,000", "amount-due": "₫4,000,000",
			"created-at": "28 Oct 2026, 10:00", "created-by": "an@acme.test", "currency": "VND", "region": "Hanoi",
		}, nil},
		{"an active, paid plan forecast to run out before its end", "BP-BURN", map[string]string{
			"pill-status": "Active", "pill-days-remaining": "60 days remaining", // 29 in December, 31 in January
			"pill-usage-percent": "54.6%", // 1,092,000 of 2,000,000
			"usage-consumed":     "₫1,092,000", "usage-total": "₫2,000,000", "usage-remaining": "₫908,000",
			// The window spent 1,040,000 (not the 52,000 of 5 Nov): 148,571.43 a day;
			// ⌈908,000 × 7 ÷ 1,040,000⌉ = ⌈6.11⌉ = 7 days, today counted: 3..9 December.
			"usage-depletion": "About 7 days at the current rate (runs out around 9 Dec 2026)",
			"usage-burn-rate": "₫148,571 per day (average of the last 7 days)",
			"payment-option":  "All upfront", "upfront-paid": "₫2,000,000", "payment-method": "Online (card or e-wallet)",
			"payment-status": "Paid", "paid-total": "₫2,000,000", "amount-due": "₫0",
			"region": "Ho Chi Minh City",
		}, nil},
		{"an active, unpaid postpaid plan with no usage in its short window", "BP-QUIET", map[string]string{
			"pill-status": "Active", "pill-days-remaining": "18 days remaining",
			"pill-usage-percent": "0.4%", // 1,875 of 500,000 is 0.375%
			"usage-consumed":     "₫1,875", "usage-remaining": "₫498,125",
			// Started on 1 December: the window is 1..2 December, two days.
			"usage-depletion": "No usage in the last 2 days, so no estimate",
			"usage-burn-rate": "₫0 per day (average of the last 2 days)",
			"payment-option":  "Postpaid", "upfront-paid": "₫0", "payment-status": "Unpaid", "paid-total": "₫0", "amount-due": "₫500,000",
		}, nil},
		{"a plan expired by its end date", "BP-ENDED", map[string]string{
			"pill-status": "Expired", "pill-days-remaining": "Ended on 30 Nov 2026",
			"pill-usage-percent": "8.7%", // 260,000 of 3,000,000 is 8.67%
			"usage-consumed":     "₫260,000", "usage-remaining": "₫2,740,000", "usage-depletion": "Not active",
			"payment-status": "Paid", "amount-due": "₫0",
		}, []string{"usage-burn-rate"}},
		{"a plan expired by depletion says when, in the account's time zone", "BP-DEPLETED", map[string]string{
			"pill-status": "Expired", "pill-days-remaining": "Depleted on 21 Nov 2026",
			"pill-usage-percent": "100.0%", "usage-consumed": "₫1,000,000", "usage-remaining": "₫0", "usage-depletion": "Not active",
			"upfront-paid": "₫1,000,000", "payment-status": "Paid",
		}, []string{"usage-burn-rate"}},
		{"a plan not started yet shows its whole term", "BP-FUTURE", map[string]string{
			"pill-status": "Inactive", "pill-days-remaining": "88 days, starts on 3 Jan 2027", // 29 + 28 + 31
			"pill-usage-percent": "0.0%", "usage-consumed": "₫0", "usage-remaining": "₫900,000", "usage-depletion": "Not active",
			"payment-option": "Partial upfront (₫300,000 upfront)", "upfront-paid": "₫300,000",
			"payment-status": "Partially paid", "amount-due": "₫600,000", "region": "Tokyo",
		}, []string{"usage-burn-rate", "usage-chart"}},
		{"a plan within its dates waiting for the payment that activates it", "BP-WAITING", map[string]string{
			"pill-status": "Inactive", "pill-days-remaining": "Awaiting payment, 74 days left", // 29 + 31 + 14
			"usage-depletion": "Not active", "upfront-paid": "₫2,000,000", "payment-method": "Bank transfer",
			"payment-status": "Partially paid", "paid-total": "₫2,000,000", "amount-due": "₫4,000,000",
		}, []string{"usage-burn-rate"}},
		{"a suspended plan within its dates", "BP-SUSPENDED", map[string]string{
			"pill-status": "Inactive", "pill-days-remaining": "Suspended, 29 days left",
			"usage-depletion": "Not active", "payment-status": "Paid", "amount-due": "₫0",
		}, []string{"usage-burn-rate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := MustGetDetailDoc(t, w.admin, "/billing/plans/"+tc.code)
			for id, want := range tc.want {
				if got := testid(doc, id); got != want {
					t.Errorf("%s = %q, want %q", id, got, want)
				}
			}
			for _, id := range tc.absent {
				if n := doc.Find(`[data-testid="` + id + `"]`).Length(); n != 0 {
					t.Errorf("%s is on the page %d times, want none", id, n)
				}
			}
		})
	}
}

// detailBreakdownRow is one row of the service breakdown as the page shows it.
type detailBreakdownRow struct {
	Service, Package, Price, Unit, Volume, Spent, Percent string
}

func detailBreakdownRows(doc *goquery.Document) []detailBreakdownRow {
	var rows []detailBreakdownRow
	doc.Find(`[data-testid="breakdown-row"]`).Each(func(_ int, s *goquery.Selection) {
		cell := func(id string) string { return strings.TrimSpace(s.Find(`[data-testid="` + id + `"]`).Text()) }
		rows = append(rows, detailBreakdownRow{cell("breakdown-service"), cell("breakdown-package"), cell("breakdown-price"),
			cell("breakdown-unit"), cell("breakdown-volume"), cell("breakdown-spent"), cell("breakdown-percent")})
	})
	return rows
}

func TestPlanDetailBreakdown(t *testing.T) {
	w := mustPlanDetailWorld(t)
	t.Run("each service with its package, exact price, unit, volume, spend and share", func(t *testing.T) {
		doc := MustGetDetailDoc(t, w.admin, "/billing/plans/BP-ACTIVE")
		// 832,000, 18,750 and 54,060 of 904,810 are 91.953%, 2.072% and 5.975%:
		// rounding each would show 92.0 + 2.1 + 6.0 = 100.1; the largest
		// remainders give the two missing tenths to the last two rows.
		want := []detailBreakdownRow{
			{"GPU Container H100", "H100 commitment", "52,000 VND", "hour", "16", "₫832,000", "91.9%"},
			{"Model inference Llama 3.3 70B", "Llama token pack", "0.01875 VND", "token", "1,000,000", "₫18,750", "2.1%"},
			{"Object Storage", "Object storage TB pack", "450.5 VND", "GB-month", "120", "₫54,060", "6.0%"},
		}
		got := detailBreakdownRows(doc)
		if len(got) != len(want) {
			t.Fatalf("%d rows, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("row %d = %+v\n        want %+v", i, got[i], want[i])
			}
		}
		if s, p := testid(doc, "breakdown-total-spent"), testid(doc, "breakdown-total-percent"); s != "₫904,810" || p != "100.0%" {
			t.Errorf("total row %s %s, want ₫904,810 100.0%%", s, p)
		}
		if s := testid(doc, "breakdown-total-spent"); s != testid(doc, "usage-consumed") {
			t.Errorf("breakdown total %s, consumed %s: they must be equal", s, testid(doc, "usage-consumed"))
		}
	})
	t.Run("the shares of every plan add up to exactly 100.0 and the spend to the consumed figure", func(t *testing.T) {
		for _, code := range []string{"BP-ACTIVE", "BP-BURN", "BP-QUIET", "BP-ENDED", "BP-DEPLETED"} {
			doc := MustGetDetailDoc(t, w.admin, "/billing/plans/"+code)
			sum := decimal.Zero
			var spent int64
			for _, r := range detailBreakdownRows(doc) {
				sum = sum.Add(decimal.RequireFromString(strings.TrimSuffix(r.Percent, "%")))
				spent += mustDetailMinor(t, r.Spent)
			}
			if !sum.Equal(decimal.NewFromInt(100)) {
				t.Errorf("%s: shares add up to %s", code, sum)
			}
			if consumed := mustDetailMinor(t, testid(doc, "usage-consumed")); spent != consumed {
				t.Errorf("%s: rows spent %d, plan consumed %d", code, spent, consumed)
			}
		}
	})
	t.Run("a plan without a package shows a dash, and the volume keeps all its digits", func(t *testing.T) {
		got := detailBreakdownRows(MustGetDetailDoc(t, w.admin, "/billing/plans/BP-DEPLETED"))
		// 1,000,000 ÷ 52,000 = 19.2307692307692307692…, cut to 18 decimals by the ledger.
		want := detailBreakdownRow{"GPU Virtual Machine H200", "—", "52,000 VND", "hour", "19.230769230769230769", "₫1,000,000", "100.0%"}
		if len(got) != 1 || got[0] != want {
			t.Errorf("rows %+v, want %+v", got, want)
		}
	})
	t.Run("a plan with no spend shows zero shares", func(t *testing.T) {
		doc := MustGetDetailDoc(t, w.admin, "/billing/plans/BP-FUTURE")
		if p := testid(doc, "breakdown-percent"); p != "0.0%" {
			t.Errorf("share %s, want 0.0%%", p)
		}
		if p := testid(doc, "breakdown-total-percent"); p != "0.0%" {
			t.Errorf("total share %s, want 0.0%%", p)
		}
	})
}

// mustDetailMinor reads a VND amount as the page writes it ("₫1,234").
func mustDetailMinor(t *testing.T, s string) int64 {
	t.Helper()
	d, err := decimal.NewFromString(strings.NewReplacer("₫", "", ",", "").Replace(s))
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return d.IntPart()
}

// detailChartRow is one day of the chart's table: its label and value.
type detailChartRow struct{ Day, Value string }

func detailChartRows(doc *goquery.Document) []detailChartRow {
	var rows []detailChartRow
	doc.Find(`[data-testid="usage-chart"] tbody tr`).Each(func(_ int, s *goquery.Selection) {
		rows = append(rows, detailChartRow{strings.Join(strings.Fields(s.Find("th").Text()), " "), strings.TrimSpace(s.Find("td").Text())})
	})
	return rows
}

func TestPlanDetailChart(t *testing.T) {
	w := mustPlanDetailWorld(t)
	t.Run("every day from the start to today, then the forecast to the depletion day", func(t *testing.T) {
		doc := MustGetDetailDoc(t, w.admin, "/billing/plans/BP-BURN")
		rows := detailChartRows(doc)
		// 1 Nov..3 Dec is 33 days; 4..9 Dec is 6 days of forecast at 148,571.
		if len(rows) != 39 {
			t.Fatalf("%d days, want 39", len(rows))
		}
		want := map[int]detailChartRow{
			0:  {"1 Nov 2026", "₫0"},
			4:  {"5 Nov 2026", "₫52,000"},
			26: {"27 Nov 2026", "₫520,000"},
			31: {"2 Dec 2026", "₫0"},
			32: {"3 Dec 2026", "₫0"},
			33: {"4 Dec 2026 (forecast)", "₫148,571"},
			38: {"9 Dec 2026 (forecast)", "₫148,571"},
		}
		for i, wr := range want {
			if rows[i] != wr {
				t.Errorf("day %d = %+v, want %+v", i, rows[i], wr)
			}
		}
		if n := doc.Find(`[data-testid="usage-chart"] rect.chart-forecast`).Length(); n != 6 {
			t.Errorf("%d forecast bars, want 6", n)
		}
	})
	t.Run("a balance that outlasts the end is forecast to the end date", func(t *testing.T) {
		rows := detailChartRows(MustGetDetailDoc(t, w.admin, "/billing/plans/BP-ACTIVE"))
		// 33 days of November and December to today, 28 more to 31 December.
		if len(rows) != 61 || rows[32] != (detailChartRow{"3 Dec 2026", "₫52,000"}) || rows[60] != (detailChartRow{"31 Dec 2026 (forecast)", "₫47,544"}) {
			t.Errorf("%d days, today %+v, last %+v", len(rows), rows[min(32, len(rows)-1)], rows[len(rows)-1])
		}
	})
	t.Run("an ended plan is charted from its start to its end, with no forecast", func(t *testing.T) {
		doc := MustGetDetailDoc(t, w.admin, "/billing/plans/BP-ENDED")
		rows := detailChartRows(doc)
		if len(rows) != 91 || rows[9] != (detailChartRow{"10 Sep 2026", "₫260,000"}) || rows[90].Day != "30 Nov 2026" {
			t.Errorf("%d days, 10 Sep %+v, last %+v", len(rows), rows[min(9, len(rows)-1)], rows[len(rows)-1])
		}
		if n := doc.Find(`.chart-forecast`).Length(); n != 0 {
			t.Errorf("%d forecast marks, want none", n)
		}
	})
	t.Run("the chart is drawn again after usage and on the next day", func(t *testing.T) {
		w := mustPlanDetailWorld(t)
		today := func() detailChartRow {
			return detailChartRows(MustGetDetailDoc(t, w.admin, "/billing/plans/BP-ACTIVE"))[32]
		}
		if got := today(); got != (detailChartRow{"3 Dec 2026", "₫52,000"}) {
			t.Fatalf("today at first: %+v", got)
		}
		if got := today(); got != (detailChartRow{"3 Dec 2026", "₫52,000"}) {
			t.Fatalf("today again: %+v", got)
		}
		MustApplyDetailUsage(t, w.db, detailUsage("chart-later", "gpu-a", "1", "2026-12-03T15:00:00+07:00"))
		if got := today(); got != (detailChartRow{"3 Dec 2026", "₫104,000"}) {
			t.Errorf("today after another hour of GPU: %+v, want ₫104,000", got)
		}
		MustSetClock(t, w.db, planDetailToday.Add(24*time.Hour))
		w.admin = MustSignIn(t, w.srv, "admin@acme.test", planDetailPassword) // the session idled out overnight
		rows := detailChartRows(MustGetDetailDoc(t, w.admin, "/billing/plans/BP-ACTIVE"))
		if len(rows) != 61 || rows[33] != (detailChartRow{"4 Dec 2026", "₫0"}) {
			t.Errorf("the next day: %d days, 4 Dec %+v; want 61 days and 4 Dec no longer a forecast", len(rows), rows[min(33, len(rows)-1)])
		}
	})
	t.Run("a plan not started yet has no chart but says so", func(t *testing.T) {
		doc := MustGetDetailDoc(t, w.admin, "/billing/plans/BP-FUTURE")
		if got := testid(doc, "usage-chart-empty"); !strings.Contains(got, "3 Jan 2027") {
			t.Errorf("empty chart says %q", got)
		}
	})
}

func TestPlanDetailHistory(t *testing.T) {
	w := mustPlanDetailWorld(t)
	doc := MustGetDetailDoc(t, w.admin, "/billing/plans/BP-ACTIVE")
	rows := func(row string, cells ...string) [][]string {
		var out [][]string
		doc.Find(`[data-testid="` + row + `"]`).Each(func(_ int, s *goquery.Selection) {
			var r []string
			for _, c := range cells {
				r = append(r, strings.TrimSpace(s.Find(`[data-testid="`+row+"-"+c+`"]`).Text()))
			}
			out = append(out, r)
		})
		return out
	}
	check := func(t *testing.T, got, want [][]string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %d rows %v, want %d", len(got), got, len(want))
		}
		for i := range want {
			if strings.Join(got[i], " | ") != strings.Join(want[i], " | ") {
				t.Errorf("row %d = %v\n    want %v", i, got[i], want[i])
			}
		}
	}
	t.Run("payments, completed and pending, newest first, in the account's time zone", func(t *testing.T) {
		check(t, rows("history-payment", "at", "amount", "method", "status", "by", "reference"), [][]string{
			{"2 Dec 2026, 10:00", "₫1,000,000", "Bank transfer", "Pending", "bo@acme.test", "BT-7781"},
			{"15 Nov 2026, 14:00", "₫2,000,000", "Bank transfer", "Completed", "an@acme.test", ""},
			{"30 Oct 2026, 09:00", "₫3,000,000", "Bank transfer", "Completed", "an@acme.test", ""},
		})
	})
	t.Run("renewals with their term, price and old and new end", func(t *testing.T) {
		check(t, rows("history-renewal", "at", "term", "price", "period", "by"), [][]string{
			{"1 Dec 2026, 15:00", "3 months", "₫4,500,000", "31 Dec 2026 → 31 Mar 2027", "bo@acme.test"},
		})
	})
	t.Run("the plan's audit entries, newest first", func(t *testing.T) {
		check(t, rows("history-entry", "at", "actor", "action", "detail"), [][]string{
			{"3 Dec 2026, 15:00", "import", "plan.import", "Imported plan BP-ACTIVE from a file."},
			{"1 Dec 2026, 15:00", "bo@acme.test", "plan.renew", "Renewed for 3 months."},
		})
	})
	t.Run("a link to the plan's credit history", func(t *testing.T) {
		if href, _ := doc.Find(`[data-testid="credit-history-link"]`).Attr("href"); href != "/billing/credit-history?plan=BP-ACTIVE" {
			t.Errorf("credit history link %q", href)
		}
	})
	t.Run("a plan with no renewals says so", func(t *testing.T) {
		doc := MustGetDetailDoc(t, w.admin, "/billing/plans/BP-BURN")
		if doc.Find(`[data-testid="history-renewals-empty"]`).Length() != 1 || doc.Find(`[data-testid="history-renewal"]`).Length() != 0 {
			t.Error("BP-BURN shows renewals it does not have")
		}
		if n := doc.Find(`[data-testid="history-payment"]`).Length(); n != 1 {
			t.Errorf("BP-BURN shows %d payments, want its 1", n)
		}
	})
}

func TestPlanDetailButtons(t *testing.T) {
	w := mustPlanDetailWorld(t)
	for _, tc := range []struct {
		name       string
		c          *client
		code       string
		renew, pay string
	}{
		{"an admin may renew and pay a partially paid plan", w.admin, "BP-ACTIVE", "/billing/plans/BP-ACTIVE/renew", "/billing/plans/BP-ACTIVE/pay"},
		{"an admin may pay an unpaid plan", w.admin, "BP-QUIET", "/billing/plans/BP-QUIET/renew", "/billing/plans/BP-QUIET/pay"},
		{"an admin sees no Pay now on a paid plan", w.admin, "BP-BURN", "/billing/plans/BP-BURN/renew", ""},
		{"an admin may renew an expired plan", w.admin, "BP-ENDED", "/billing/plans/BP-ENDED/renew", ""},
		{"a viewer sees no buttons on a plan with an amount due", w.viewer, "BP-ACTIVE", "", ""},
		{"a viewer sees no buttons on an unpaid plan", w.viewer, "BP-QUIET", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := MustGetDetailDoc(t, tc.c, "/billing/plans/"+tc.code)
			for id, want := range map[string]string{"renew-button": tc.renew, "pay-now": tc.pay} {
				sel := doc.Find(`[data-testid="` + id + `"]`)
				href, _ := sel.Attr("href")
				if want == "" && sel.Length() != 0 {
					t.Errorf("%s is shown (to %s)", id, href)
				} else if want != "" && (sel.Length() != 1 || href != want) {
					t.Errorf("%s: %d on the page, href %q; want one to %s", id, sel.Length(), href, want)
				}
			}
		})
	}
	t.Run("the buttons say what they do", func(t *testing.T) {
		doc := MustGetDetailDoc(t, w.admin, "/billing/plans/BP-ACTIVE")
		if a, b := testid(doc, "renew-button"), testid(doc, "pay-now"); a != "Renew billing plan" || b != "Pay now" {
			t.Errorf("buttons %q, %q", a, b)
		}
	})
}

func TestPlanDetailNotFound(t *testing.T) {
	w := mustPlanDetailWorld(t)
	for _, tc := range []struct {
		name string
		c    *client
		path string
	}{
		{"a code that does not exist", w.admin, "/billing/plans/BP-NOPE"},
		{"another account's plan", w.admin, "/billing/plans/BP-GLOBEX"},
		{"acme's plan seen from globex", w.globex, "/billing/plans/BP-ACTIVE"},
		{"a code of characters no code has", w.admin, "/billing/plans/%3Cscript%3Ealert(1)%3C%2Fscript%3E"},
		{"a code of another case", w.admin, "/billing/plans/bp-active"},
	} {
		t.Run(tc.name+" is a 404", func(t *testing.T) {
			rec := tc.c.Get(tc.path)
			if rec.Code != http.StatusNotFound {
				t.Fatalf("status %d, want 404", rec.Code)
			}
			body := rec.Body.String()
			for _, leak := range []string{"Globex secret type", "AI Platform Starter", "<script>alert"} {
				if strings.Contains(body, leak) {
					t.Errorf("the 404 page shows %q", leak)
				}
			}
		})
	}
	t.Run("globex sees its own plan", func(t *testing.T) {
		if got := testid(MustGetDetailDoc(t, w.globex, "/billing/plans/BP-GLOBEX"), "plan-type"); got != "Globex secret type" {
			t.Errorf("plan type %q", got)
		}
	})
}

func TestPlanDetailBackLink(t *testing.T) {
	w := mustPlanDetailWorld(t)
	for _, tc := range []struct {
		name string
		back string
		want string
	}{
		{"no back parameter leads to the list", "", "/billing/plans"},
		{"the list's filter comes back", "q=gpu&status=active&page=2", "/billing/plans?page=2&q=gpu&status=active"},
		{"repeated parameters come back", "service=gpu-a&service=tok-a", "/billing/plans?service=gpu-a&service=tok-a"},
		{"a protocol-relative URL becomes a parameter of the list", "//evil.example", "/billing/plans?%2F%2Fevil.example="},
		{"an absolute URL becomes a parameter of the list", "https://evil.example/x?y=1", "/billing/plans?https%3A%2F%2Fevil.example%2Fx%3Fy=1"},
		{"a javascript URL becomes a parameter of the list", "javascript:alert(1)", "/billing/plans?javascript%3Aalert%281%29="},
		{"a path becomes a parameter of the list", "/../../logout", "/billing/plans?%2F..%2F..%2Flogout="},
		{"a query that does not parse leads to the list", "q=%zz", "/billing/plans"},
		{"a query with semicolons leads to the list", "a=1;b=2", "/billing/plans"},
		{"a query too long to be the list's leads to the list", "q=" + strings.Repeat("x", 5000), "/billing/plans"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/billing/plans/BP-ACTIVE"
			if tc.back != "" {
				path += "?back=" + url.QueryEscape(tc.back)
			}
			doc := MustGetDetailDoc(t, w.admin, path)
			href, _ := doc.Find(`[data-testid="back-link"]`).Attr("href")
			if href != tc.want {
				t.Errorf("back link %q, want %q", href, tc.want)
			}
			u, err := url.Parse(href)
			if err != nil || u.Scheme != "" || u.Host != "" || u.Path != "/billing/plans" {
				t.Errorf("back link %q leaves the plan list", href)
			}
		})
	}
}

func TestPlanDetailEscapesData(t *testing.T) {
	db := MustOpenDB(t)
	MustSetClock(t, db, planDetailToday)
	MustImportDetail(t, db, store.ImportFile{
		Accounts: []store.ImportAccount{{Code: "acme", Name: "Acme AI", Currency: "VND"}},
		Services: []store.ImportService{{Code: "evil", Name: "<script>alert('service')</script>", Unit: "<i>hour</i>",
			ListPrices: map[string]string{"VND": "1000"},
			Packages:   []store.ImportPackage{{Code: "evil-pkg", Name: "<b onmouseover=alert(5)>pkg</b>", Prices: map[string]string{"VND": "1000"}}}}},
		Plans: []store.ImportPlan{{Code: "BP-EVIL", Account: "acme", Type: "<script>alert(1)</script>",
			StartDate: "2026-11-01", EndDate: "2026-12-31", Amount: "1000000", Region: `<img src=x onerror="alert(2)">`,
			PaymentOption: "postpaid", PaymentMethod: "online", CreatedBy: "an@acme.test",
			Services: []store.ImportPlanService{{Service: "evil", Package: "evil-pkg"}}}},
	})
	MustExecDetailSQL(t, db, `UPDATE plans SET created_by = '<script>alert(3)</script>' WHERE code = 'BP-EVIL'`)
	MustExecDetailSQL(t, db, `INSERT INTO audit_log (at, account_id, plan_id, actor, action, detail)
		SELECT '2026-12-03T09:00:00.000000000Z', account_id, id, '<script>alert(6)</script>', 'plan.<b>x</b>', '<script>alert(7)</script>' FROM plans`)
	MustCreateUser(t, db, "admin@acme.test", planDetailPassword, "acme", store.RoleAdmin)
	c := MustSignIn(t, MustNewServer(t, db), "admin@acme.test", planDetailPassword)
	rec := c.Get("/billing/plans/BP-EVIL")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	for _, raw := range []string{"<script>alert", "<img src=x", "<b onmouseover", "<i>hour", "<b>x</b>"} {
		if strings.Contains(body, raw) {
			t.Errorf("the page holds %q unescaped", raw)
		}
	}
	doc := MustDoc(t, rec)
	for id, want := range map[string]string{
		"plan-type":            "<script>alert(1)</script>",
		"region":               `<img src=x onerror="alert(2)">`,
		"created-by":           "<script>alert(3)</script>",
		"detail-services":      "<script>alert('service')</script>",
		"breakdown-service":    "<script>alert('service')</script>",
		"breakdown-package":    "<b onmouseover=alert(5)>pkg</b>",
		"breakdown-unit":       "<i>hour</i>",
		"history-entry-actor":  "<script>alert(6)</script>",
		"history-entry-action": "plan.<b>x</b>",
		"history-entry-detail": "<script>alert(7)</script>",
	} {
		// The newest audit entry is the one written above, after the import's.
		if got := strings.TrimSpace(doc.Find(`[data-testid="` + id + `"]`).First().Text()); got != want {
			t.Errorf("%s = %q, want the text %q", id, got, want)
		}
	}
	if n := doc.Find("script:not([src])").Length(); n != 0 {
		t.Errorf("%d inline scripts on the page", n)
	}
}
