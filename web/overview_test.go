package web

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/shopspring/decimal"

	"github.com/billingplans/billingplans/store"
)

// The figures of the overview of the world of history_test.go, on 20 Mar 2026.
//
// Balances in consumption order:
//   - plans: BP-1 2,080,000 − (520,000 + 364,000 + 104,000) = 1,092,000, and
//     BP-LATE 5,200,000 untouched: 6,292,000 (BP-OLD is Expired);
//   - vouchers: SPRING 1,000,000 − 200,000 = 800,000 (WELCOME expired);
//   - top-up: 100,000 − 60,000 − 40,000 + 300,000 = 300,000;
//   - uncovered: 60,000.
//
// Spent since 1 Mar: plans 988,000; vouchers 200,000; top-up 100,000; uncovered 60,000.
//
// At risk (ending by 18 Apr):
//   - BP-1 ends 31 Mar: 12 days left. Burn window 13–19 Mar (7 days): e5
//     364,000 + e9 104,000 = 468,000. Days to depletion ⌈1,092,000 × 7 ÷
//     468,000⌉ = 17 > 12, so it outlasts its end with
//     ⌊(1,092,000 × 7 − 468,000 × 12) ÷ 7⌋ = ⌊2,028,000 ÷ 7⌋ = 289,714 unused.
//     (A window ending today, 14–20 Mar, would miss e5; 11 days left would give 356,571.)
//   - SPRING expires 5 Apr: 17 days left. Window 13–19 Mar: e6 200,000.
//     ⌈800,000 × 7 ÷ 200,000⌉ = 28 > 17: ⌊(5,600,000 − 3,400,000) ÷ 7⌋ = 314,285 unused.
//   - BP-LATE ends 30 Jun: not at risk.
func TestOverviewFigures(t *testing.T) {
	_, srv := MustHistoryWorld(t, nil)
	c := MustSignIn(t, srv, historyAdmin, historyPassword)
	doc := MustGetPage(t, c, "/billing")

	for id, want := range map[string]string{
		"balance-plans":     "₫6,292,000",
		"balance-vouchers":  "₫800,000",
		"balance-topup":     "₫300,000",
		"balance-uncovered": "₫60,000",
		"spent-plan":        "₫988,000",
		"spent-voucher":     "₫200,000",
		"spent-topup":       "₫100,000",
		"spent-uncovered":   "₫60,000",
	} {
		if got := testid(doc, id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	var order []string
	doc.Find(`[data-testid="balances"] tbody tr`).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-testid")
		order = append(order, id)
	})
	if want := []string{"balance-row-plan", "balance-row-voucher", "balance-row-topup", "balance-row-uncovered"}; !slices.Equal(order, want) {
		t.Errorf("balances in order %v, want %v", order, want)
	}
	if got := testid(doc, "consumption-order"); !strings.HasPrefix(got, "Usage is paid from your billing plans first (the plan that ends soonest first), then vouchers") {
		t.Errorf("explanation = %q", got)
	}

	var plans []string
	doc.Find(`[data-testid="overview-plan"] a`).Each(func(_ int, s *goquery.Selection) { plans = append(plans, s.Text()) })
	if want := []string{"BP-1", "BP-LATE"}; !slices.Equal(plans, want) {
		t.Errorf("plans in draw order %v, want %v", plans, want)
	}

	type riskRow struct{ credit, end, remaining, forecast, unused string }
	var risks []riskRow
	doc.Find(`[data-testid="at-risk-row"]`).Each(func(_ int, s *goquery.Selection) {
		get := func(id string) string {
			return strings.Join(strings.Fields(s.Find(`[data-testid="`+id+`"]`).Text()), " ")
		}
		risks = append(risks, riskRow{get("at-risk-credit"), get("at-risk-end"), get("at-risk-remaining"), get("at-risk-forecast"), get("at-risk-unused")})
	})
	want := []riskRow{
		{"Billing plan BP-1", "31 Mar 2026 12 days left", "₫1,092,000", "Outlasts its end at the current rate", "₫289,714"},
		{"Voucher SPRING", "5 Apr 2026 17 days left", "₫800,000", "Outlasts its end at the current rate", "₫314,285"},
	}
	if !slices.Equal(risks, want) {
		t.Errorf("at risk:\n got %+v\nwant %+v", risks, want)
	}
	if got := doc.Find(`[aria-current="page"]`).Text(); got != "Overview" {
		t.Errorf("current nav = %q", got)
	}
}

func TestOverviewAtRiskCases(t *testing.T) {
	// On 25 Mar, BP-1 has had no usage for 6 days: the window 18–24 Mar holds
	// e9 (104,000) only. 7 days left (25–31 Mar): ⌈1,092,000 × 7 ÷ 104,000⌉ =
	// 74 > 7: ⌊(7,644,000 − 728,000) ÷ 7⌋ = 988,000 unused.
	//
	// SPRING pays for storage on the window's edges, in local days: s0 (17 Mar
	// 23:30, before the window) 10,000, s1 (18 Mar 00:30, 17 Mar in UTC, in it)
	// 70,000, s2 (today, after it) 30,000. Remaining 690,000, 12 days left
	// (25 Mar–5 Apr), window spend 70,000: ⌈690,000 × 7 ÷ 70,000⌉ = 69 > 12:
	// ⌊(4,830,000 − 840,000) ÷ 7⌋ = 570,000 unused.
	db, srv := MustHistoryWorld(t, nil)
	storage := func(id, quantity, at string) store.UsageEvent {
		when, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		return store.UsageEvent{ID: id, AccountCode: "acme", ServiceCode: "storage", Quantity: decimal.RequireFromString(quantity), At: when}
	}
	MustApplyUsage(t, db, []store.UsageEvent{
		storage("s0", "10", "2026-03-17T23:30:00+07:00"),
		storage("s1", "70", "2026-03-18T00:30:00+07:00"),
		storage("s2", "30", "2026-03-25T08:00:00+07:00"),
	})
	MustSetClock(t, db, time.Date(2026, 3, 25, 3, 0, 0, 0, time.UTC))
	c := MustSignIn(t, srv, historyAdmin, historyPassword)
	doc := MustGetPage(t, c, "/billing")
	var unused, forecasts []string
	doc.Find(`[data-testid="at-risk-unused"]`).Each(func(_ int, s *goquery.Selection) { unused = append(unused, s.Text()) })
	doc.Find(`[data-testid="at-risk-forecast"]`).Each(func(_ int, s *goquery.Selection) { forecasts = append(forecasts, s.Text()) })
	if want := []string{"₫988,000", "₫570,000"}; !slices.Equal(unused, want) {
		t.Errorf("unused = %v, want %v", unused, want)
	}
	if want := []string{"Outlasts its end at the current rate", "Outlasts its end at the current rate"}; !slices.Equal(forecasts, want) {
		t.Errorf("forecasts = %v, want %v", forecasts, want)
	}
	if got := testid(doc, "balance-vouchers"); got != "₫690,000" {
		t.Errorf("balance-vouchers = %q, want ₫690,000", got)
	}

	// A voucher with no usage in its window is forecast to leave all of it.
	MustSetClock(t, db, time.Date(2026, 4, 3, 3, 0, 0, 0, time.UTC))
	doc = MustGetPage(t, MustSignIn(t, srv, historyAdmin, historyPassword), "/billing")
	last := doc.Find(`[data-testid="at-risk-row"]`).Last()
	if got := strings.TrimSpace(last.Find(`[data-testid="at-risk-forecast"]`).Text()); got != "No usage in the last 7 days" {
		t.Errorf("SPRING forecast on 3 Apr = %q", got)
	}
	if got := strings.TrimSpace(last.Find(`[data-testid="at-risk-unused"]`).Text()); got != "₫690,000" {
		t.Errorf("SPRING unused on 3 Apr = %q, want all of ₫690,000", got)
	}
	MustSetClock(t, db, time.Date(2026, 3, 25, 3, 0, 0, 0, time.UTC))
	c = MustSignIn(t, srv, historyAdmin, historyPassword)

	// Heavy usage on 24 Mar: 20h of gpu from BP-1 (1,040,000). The window
	// 18–24 Mar now holds 1,144,000; remaining 52,000 runs out in
	// ⌈52,000 × 7 ÷ 1,144,000⌉ = 1 day, before the end: nothing left unused.
	MustApplyUsage(t, db, []store.UsageEvent{{ID: "big", AccountCode: "acme", ServiceCode: "gpu-h100",
		Quantity: decimal.NewFromInt(20), At: time.Date(2026, 3, 24, 3, 0, 0, 0, time.UTC)}})
	doc = MustGetPage(t, c, "/billing")
	first := doc.Find(`[data-testid="at-risk-row"]`).First()
	if got := strings.TrimSpace(first.Find(`[data-testid="at-risk-unused"]`).Text()); got != "₫0" {
		t.Errorf("BP-1 unused = %q, want ₫0", got)
	}
	if got := strings.TrimSpace(first.Find(`[data-testid="at-risk-forecast"]`).Text()); got != "Runs out on 25 Mar 2026 at the current rate" {
		t.Errorf("BP-1 forecast = %q", got)
	}
	if got := testid(doc, "balance-plans"); got != "₫5,252,000" {
		t.Errorf("balance-plans = %q, want ₫5,252,000 (52,000 + 5,200,000)", got)
	}
}

func TestOverviewOfAnotherAccountAndEmptyAccount(t *testing.T) {
	db, srv := MustHistoryWorld(t, nil)
	MustCreateUser(t, db, "bo@beta.test", historyPassword, "beta", store.RoleViewer)
	c := MustSignIn(t, srv, "bo@beta.test", historyPassword)
	doc := MustGetPage(t, c, "/billing")
	// beta: BETA-1 1,000.00 − 6.00 = 994.00; no voucher; no top-up; b2 owed 0.80.
	for id, want := range map[string]string{
		"balance-plans": "$994.00", "balance-vouchers": "$0.00", "balance-topup": "$0.00", "balance-uncovered": "$0.80",
		"spent-plan": "$6.00", "spent-uncovered": "$0.80",
	} {
		if got := testid(doc, id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if strings.Contains(doc.Text(), "BP-1") || strings.Contains(doc.Text(), "SPRING") {
		t.Error("beta's overview shows acme's credit")
	}
	if doc.Find(`[data-testid="overview-vouchers-empty"]`).Length() != 1 {
		t.Error("no empty state for vouchers")
	}

	MustCreateAccount(t, db, "empty", store.JPY)
	MustCreateUser(t, db, "em@empty.test", historyPassword, "empty", store.RoleAdmin)
	c = MustSignIn(t, srv, "em@empty.test", historyPassword)
	doc = MustGetPage(t, c, "/billing")
	if got := testid(doc, "balance-plans"); got != "¥0" {
		t.Errorf("empty account balance-plans = %q", got)
	}
	if doc.Find(`[data-testid="at-risk-empty"]`).Length() != 1 {
		t.Error("no empty state for credit at risk")
	}
}

func TestOverviewEscapesDataText(t *testing.T) {
	evil := `<script>alert(1)</script>`
	_, srv := MustHistoryWorld(t, func(f *store.ImportFile) { f.Plans[1].Type = evil })
	c := MustSignIn(t, srv, historyAdmin, historyPassword)
	rec := c.Get("/billing")
	if strings.Contains(rec.Body.String(), evil) {
		t.Fatal("the plan type is in the page unescaped")
	}
	if got := MustDoc(t, rec).Find(`[data-testid="overview-plan"]`).First().Text(); !strings.Contains(got, evil) {
		t.Errorf("plan row = %q, want the type as text", got)
	}
}

func TestBillingOverviewStore(t *testing.T) {
	db, _ := MustHistoryWorld(t, nil)
	o, err := db.BillingOverview(context.Background(), MustAccount(t, db, "acme"), store.NewDate(2026, 3, 20))
	if err != nil {
		t.Fatal(err)
	}
	if got := o.SpentThisMonth; got != (store.Drawn{Plan: 988000, Voucher: 200000, Topup: 100000, Uncovered: 60000}) {
		t.Errorf("spent this month = %+v", got)
	}
	if o.MonthFrom != store.NewDate(2026, 3, 1) {
		t.Errorf("month from = %s", o.MonthFrom)
	}
}

// With more plans in use than the overview lists, it lists the first
// store.OverviewPlans in draw order and links to the plan list for the rest;
// the balance still counts them all. Twelve more plans (M-01 to M-12, 1 Mar to
// 30 Apr, 100,000 each, unused) end after BP-1 (31 Mar) and before BP-LATE
// (30 Jun): the list is BP-1, M-01 … M-09; 4 more (M-10, M-11, M-12,
// BP-LATE); the plans' balance 6,292,000 + 12 × 100,000 = 7,492,000.
func TestOverviewListsTheFirstPlansInUse(t *testing.T) {
	_, srv := MustHistoryWorld(t, func(f *store.ImportFile) {
		for i := 1; i <= 12; i++ {
			p := f.Plans[1] // BP-1, paid in full
			p.Code = fmt.Sprintf("M-%02d", i)
			p.EndDate, p.Amount = "2026-04-30", "100000"
			p.Payments = []store.ImportPayment{{Amount: "100000", Method: "online", PaidAt: "2026-01-01T09:00:00+07:00"}}
			f.Plans = append(f.Plans, p)
		}
	})
	c := MustSignIn(t, srv, historyAdmin, historyPassword)
	doc := MustGetPage(t, c, "/billing")
	var plans []string
	doc.Find(`[data-testid="overview-plan"] a`).Each(func(_ int, s *goquery.Selection) { plans = append(plans, s.Text()) })
	want := []string{"BP-1", "M-01", "M-02", "M-03", "M-04", "M-05", "M-06", "M-07", "M-08", "M-09"}
	if !slices.Equal(plans, want) {
		t.Errorf("plans listed %v, want %v", plans, want)
	}
	more := doc.Find(`[data-testid="overview-more-plans"] a`)
	if got := more.Text(); got != "4 more in the plan list" {
		t.Errorf("more = %q", got)
	}
	if href, _ := more.Attr("href"); href != "/billing/plans?status=active&sort=end&dir=asc" {
		t.Errorf("more links to %q", href)
	}
	if got := testid(doc, "balance-plans"); got != "₫7,492,000" {
		t.Errorf("plans' balance = %q, want ₫7,492,000", got)
	}
	if got := doc.Find(`[data-testid="balance-row-plan"]`).Text(); !strings.Contains(got, "14 active plans") {
		t.Errorf("plans' row = %q, want 14 active plans", got)
	}
}

// The plan part of the overview is cached, but never stale: usage that draws
// from a plan, and a plan that expires, show on the next load. e10 (19 Mar,
// 3 hours of GPU) draws 156,000 from BP-1: 6,292,000 − 156,000 = 6,136,000.
// Then BP-1 is cut to end on 19 Mar: Expired, it leaves BP-LATE's 5,200,000.
func TestOverviewIsNeverStale(t *testing.T) {
	db, srv := MustHistoryWorld(t, nil)
	c := MustSignIn(t, srv, historyAdmin, historyPassword)
	balance := func() string { return testid(MustGetPage(t, c, "/billing"), "balance-plans") }
	if got := balance(); got != "₫6,292,000" {
		t.Fatalf("balance = %q, want ₫6,292,000", got)
	}
	when, _ := time.Parse(time.RFC3339, "2026-03-19T11:00:00+07:00")
	MustApplyUsage(t, db, []store.UsageEvent{{ID: "e10", AccountCode: "acme", ServiceCode: "gpu-h100", Quantity: decimal.NewFromInt(3), At: when}})
	if got := balance(); got != "₫6,136,000" {
		t.Errorf("after e10, balance = %q, want ₫6,136,000", got)
	}
	MustExecDetailSQL(t, db, `UPDATE plans SET end_date = '2026-03-19' WHERE code = 'BP-1'`)
	if got := balance(); got != "₫5,200,000" {
		t.Errorf("after BP-1 ended, balance = %q, want ₫5,200,000", got)
	}
}

// TestOverviewListsTheCreditsAtRiskThatEndSoonest gives acme 24 more plans
// ending within 30 days: the overview lists the 20 credits that end soonest,
// totals all 26, and leads to the plan list of the rest.
func TestOverviewListsTheCreditsAtRiskThatEndSoonest(t *testing.T) {
	_, srv := MustHistoryWorld(t, func(f *store.ImportFile) {
		f.Services = append(f.Services, store.ImportService{Code: "vm", Name: "Virtual machine", Unit: "hour", ListPrices: map[string]string{"VND": "30000"}})
		for i := range 24 {
			f.Plans = append(f.Plans, store.ImportPlan{
				Code: fmt.Sprintf("BP-R%02d", i), Account: "acme", Type: "VM Reserved", StartDate: "2026-03-01",
				EndDate: store.NewDate(2026, 4, 1).AddDays(i % 10).String(), Amount: "100000",
				Region: "Hanoi", PaymentOption: "all_upfront", PaymentMethod: "online",
				Services: []store.ImportPlanService{{Service: "vm", PricePerUnit: "25000"}},
				Payments: []store.ImportPayment{{Amount: "100000", Method: "online", PaidAt: "2026-02-20T09:00:00+07:00"}},
			})
		}
	})
	c := MustSignIn(t, srv, historyAdmin, historyPassword)
	doc := MustGetPage(t, c, "/billing")
	rows := doc.Find(`[data-testid="at-risk-row"]`)
	if rows.Length() != 20 {
		t.Fatalf("%d credits at risk listed, want the 20 that end soonest", rows.Length())
	}
	if got := strings.TrimSpace(rows.First().Find(`[data-testid="at-risk-code"]`).Text()); got != "BP-1" {
		t.Errorf("first listed %q, want BP-1 (ends 31 Mar)", got)
	}
	if got := strings.Join(strings.Fields(doc.Find(`[data-testid="at-risk-total"] th`).Text()), " "); got != "All 26 credits at risk" {
		t.Errorf("total row says %q", got)
	}
	// 24 × 100,000 + BP-1 1,092,000 + SPRING 800,000 remaining; unused: the new
	// plans are not used at all, BP-1 leaves 289,714 and SPRING 314,285.
	if got := testid(doc, "at-risk-total-remaining"); got != "₫4,292,000" {
		t.Errorf("total remaining %q, want ₫4,292,000", got)
	}
	if got := testid(doc, "at-risk-total-unused"); got != "₫3,003,999" {
		t.Errorf("total unused %q, want ₫3,003,999", got)
	}
	href, _ := doc.Find(`[data-testid="at-risk-more-link"]`).Attr("href")
	if want := "/billing/plans?status=active&date_field=end&from=2026-03-20&to=2026-04-18&sort=end&dir=asc"; href != want {
		t.Fatalf("the link to the rest leads to %q, want %q", href, want)
	}
	list := MustPlanList(t, c, href)
	if got := testid(list, "plans-total"); got != "25" {
		t.Errorf("the plan list of the link shows %s plans, want 25 (BP-1 and the 24)", got)
	}
}
