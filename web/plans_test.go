package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/shopspring/decimal"

	"github.com/billingplans/billingplans/store"
)

// The plan list's fixture. The clock is stopped at testNow (2 March 2026,
// 16:00 in Ho Chi Minh City), so today is 2026-03-02, this month's span of
// spend is 1–2 March and last month's is 1–2 February.
//
// Account ACME (VND) has six plans, one of each case a wrong rule gets wrong:
//
//	BP-A-001 GPU Commitment    gpu, llm, notebook, storage  2026-01-01..2026-06-30  9,000,000  paid         Active
//	BP-A-002 Inference Token Pack  llm                      2026-02-01..2026-04-30  6,000,000  postpaid     Active, Unpaid
//	BP-A-003 -GPU Legacy       gpu                          2025-09-01..2025-12-31  3,000,000  paid         Expired (ended)
//	BP-A-004 Storage Reserve   storage                      2026-04-01..2026-06-30  2,000,000  500,000 of it Inactive (not started), Partially paid
//	BP-A-005 <script>…         notebook                     2026-02-15..2026-03-31  1,000,000  400,000 of it Inactive (awaits payment), Partially paid
//	BP-A-006 Fine-tune Pack    finetune                     2026-02-01..2026-05-31    500,000  paid         Expired (depleted)
//
// Usage (prices: gpu 50,000/hour, llm 0.04/token, finetune 100,000/hour):
//
//	2026-02-01 10:00 +07  gpu 10 h        → BP-A-001   500,000  (last month's span)
//	2026-02-02 10:00 +07  llm 10M tokens  → BP-A-002   400,000  (last month's span: it ends before BP-A-001)
//	2026-02-10 10:00 +07  gpu 4 h         → BP-A-001   200,000  (in neither span)
//	2026-02-10 11:00 +07  finetune 5 h    → BP-A-006   500,000  (in neither span; depletes it)
//	2026-03-01 06:00 +07  gpu 20 h        → BP-A-001 1,000,000  (this month: still 28 Feb in UTC)
//	2026-03-02 08:00 +07  llm 5M tokens   → BP-A-002   200,000  (this month)
//
// So BP-A-001 consumed 1,700,000 (18.9%), BP-A-002 600,000 (10.0%), BP-A-006
// 500,000 (100.0%); total spent 2,800,000; this month 1,200,000 against
// 900,000: +33.3%. Total plan amount 21,500,000; the Active plans have
// 7,300,000 + 5,400,000 = 12,700,000 left. Active 2, Expired 2.
//
// Account OTHER (VND) has a GPU plan and the service vm that ACME does not
// have: none of it may show in ACME's list.
const (
	planListAdmin    = "admin@acme.test"
	planListViewer   = "viewer@acme.test"
	planListOther    = "admin@other.test"
	planListPassword = "correct horse 42"
	planListXSS      = "<script>alert(1)</script>"
)

// planListServices are the codes of the services ACME's plans cover.
var planListServices = []string{"finetune", "gpu", "llm", "notebook", "storage"}

// planListDefaultOrder is ACME's plans in the default order: latest start
// first, ties by code, latest first.
var planListDefaultOrder = []string{"BP-A-004", "BP-A-005", "BP-A-006", "BP-A-002", "BP-A-001", "BP-A-003"}

// mustPlanListFixture opens a database with the fixture above and returns a
// server on it.
func mustPlanListFixture(t *testing.T) (*store.DB, *Server) {
	t.Helper()
	db := MustOpenDB(t)
	ctx := context.Background()
	svc := func(code, name, unit, list, pkg string) store.ImportService {
		return store.ImportService{Code: code, Name: name, Unit: unit, ListPrices: map[string]string{"VND": list},
			Packages: []store.ImportPackage{{Code: code + "-pack", Name: name + " pack", Prices: map[string]string{"VND": pkg}}}}
	}
	plan := func(code, account, typ, start, end, amount, option string, services ...string) store.ImportPlan {
		p := store.ImportPlan{Code: code, Account: account, Type: typ, StartDate: start, EndDate: end, Amount: amount,
			Region: "Hanoi", PaymentOption: option, PaymentMethod: "online", CreatedAt: "2025-08-01T10:00:00+07:00", CreatedBy: "ops@acme.test"}
		for _, s := range services {
			p.Services = append(p.Services, store.ImportPlanService{Service: s, Package: s + "-pack"})
		}
		return p
	}
	paid := func(p store.ImportPlan, amount, at string) store.ImportPlan {
		p.Payments = append(p.Payments, store.ImportPayment{Amount: amount, Method: "online", PaidAt: at})
		return p
	}
	p4 := plan("BP-A-004", "ACME", "Storage Reserve", "2026-04-01", "2026-06-30", "2000000", "partial_upfront", "storage")
	p4.UpfrontAmount = "500000"
	f := store.ImportFile{
		Accounts: []store.ImportAccount{
			{Code: "ACME", Name: "Acme AI", Currency: "VND", Timezone: "Asia/Ho_Chi_Minh"},
			{Code: "OTHER", Name: "Other Corp", Currency: "VND", Timezone: "Asia/Ho_Chi_Minh"},
		},
		Users: []store.ImportUser{
			{Email: planListAdmin, Name: "Ada Admin", Password: planListPassword, Memberships: []store.ImportMembership{{Account: "ACME", Role: "admin"}}},
			{Email: planListViewer, Name: "Vic Viewer", Password: planListPassword, Memberships: []store.ImportMembership{{Account: "ACME", Role: "viewer"}}},
			{Email: planListOther, Name: "Otto Other", Password: planListPassword, Memberships: []store.ImportMembership{{Account: "OTHER", Role: "admin"}}},
		},
		Services: []store.ImportService{
			svc("gpu", "GPU Container H100", "hour", "65000", "50000"),
			svc("llm", "Model inference", "token", "0.05", "0.04"),
			svc("storage", "Object Storage", "GB-month", "550", "450"),
			svc("notebook", "Notebook", "hour", "12000", "10000"),
			svc("finetune", "Fine-tuning", "hour", "120000", "100000"),
			svc("vm", "Virtual Machine", "hour", "30000", "25000"),
		},
		Plans: []store.ImportPlan{
			paid(plan("BP-A-001", "ACME", "GPU Commitment", "2026-01-01", "2026-06-30", "9000000", "all_upfront", "gpu", "llm", "storage", "notebook"),
				"9000000", "2025-12-20T10:00:00+07:00"),
			plan("BP-A-002", "ACME", "Inference Token Pack", "2026-02-01", "2026-04-30", "6000000", "postpaid", "llm"),
			paid(plan("BP-A-003", "ACME", "-GPU Legacy", "2025-09-01", "2025-12-31", "3000000", "all_upfront", "gpu"),
				"3000000", "2025-08-20T10:00:00+07:00"),
			paid(p4, "500000", "2026-02-20T10:00:00+07:00"),
			paid(plan("BP-A-005", "ACME", planListXSS, "2026-02-15", "2026-03-31", "1000000", "all_upfront", "notebook"),
				"400000", "2026-02-14T10:00:00+07:00"),
			paid(plan("BP-A-006", "ACME", "Fine-tune Pack", "2026-02-01", "2026-05-31", "500000", "all_upfront", "finetune"),
				"500000", "2026-01-20T10:00:00+07:00"),
			paid(plan("BP-O-001", "OTHER", "GPU Commitment", "2026-01-01", "2026-12-31", "99000000", "all_upfront", "gpu", "vm"),
				"99000000", "2025-12-20T10:00:00+07:00"),
		},
	}
	if _, err := db.Import(ctx, f); err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ev := func(id, account, service string, qty int64, when string) store.UsageEvent {
		return store.UsageEvent{ID: id, AccountCode: account, ServiceCode: service, Quantity: decimal.NewFromInt(qty), At: at(when)}
	}
	results, err := db.ApplyUsage(ctx, []store.UsageEvent{
		ev("e1", "ACME", "gpu", 10, "2026-02-01T10:00:00+07:00"),
		ev("e2", "ACME", "llm", 10_000_000, "2026-02-02T10:00:00+07:00"),
		ev("e3", "ACME", "gpu", 4, "2026-02-10T10:00:00+07:00"),
		ev("e4", "ACME", "finetune", 5, "2026-02-10T11:00:00+07:00"),
		ev("e5", "ACME", "gpu", 20, "2026-03-01T06:00:00+07:00"),
		ev("e6", "ACME", "llm", 5_000_000, "2026-03-02T08:00:00+07:00"),
		ev("o1", "OTHER", "gpu", 100, "2026-03-01T10:00:00+07:00"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Outcome != store.Applied || r.Drawn.Plan == 0 || r.Drawn.Voucher+r.Drawn.Topup+r.Drawn.Uncovered != 0 {
			t.Fatalf("event %s: %+v, want it drawn from a plan only", r.ID, r)
		}
	}
	return db, MustNewServer(t, db)
}

// planListCodes returns the plan codes of the rows of a list page, in order.
func planListCodes(doc *goquery.Document) []string {
	var codes []string
	doc.Find(`[data-testid="plan-row"] [data-testid="plan-code"]`).Each(func(_ int, s *goquery.Selection) {
		codes = append(codes, strings.TrimSpace(s.Text()))
	})
	return codes
}

// planListRow returns the row of the plan with code.
func planListRow(t *testing.T, doc *goquery.Document, code string) *goquery.Selection {
	t.Helper()
	row := doc.Find(`[data-testid="plan-row"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.TrimSpace(s.Find(`[data-testid="plan-code"]`).Text()) == code
	})
	if row.Length() != 1 {
		t.Fatalf("%d rows of %s", row.Length(), code)
	}
	return row
}

// within returns the trimmed text of the element with data-testid id in s.
func within(s *goquery.Selection, id string) string {
	return strings.TrimSpace(s.Find(`[data-testid="` + id + `"]`).Text())
}

// MustPlanList gets the list at path and fails the test unless it is a 200 page.
func MustPlanList(t *testing.T, c *client, path string) *goquery.Document {
	t.Helper()
	rec := c.Get(path)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200; Location %q; body:\n%.2000s", path, rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	return MustDoc(t, rec)
}

func TestPlanListFilters(t *testing.T) {
	_, srv := mustPlanListFixture(t)
	c := MustSignIn(t, srv, planListAdmin, planListPassword)
	tests := []struct {
		name, query string
		want        []string
	}{
		{"no filter lists every plan of the account, latest start first", "", planListDefaultOrder},
		{"the search matches the plan type whatever its case", "q=gPu", []string{"BP-A-001", "BP-A-003"}},
		{"the search matches part of the plan type", "q=pack", []string{"BP-A-006", "BP-A-002"}},
		{"the search matches part of the plan code whatever its case", "q=a-004", []string{"BP-A-004"}},
		{"the search takes % as itself", "q=%25", nil},
		{"one service keeps the plans covering it", "service=storage", []string{"BP-A-004", "BP-A-001"}},
		{"several services keep the plans covering any of them", "service=notebook&service=storage", []string{"BP-A-004", "BP-A-005", "BP-A-001"}},
		{"active plans are the activated ones within their dates with a balance", "status=active", []string{"BP-A-002", "BP-A-001"}},
		{"expired plans are the ended and the depleted ones", "status=expired", []string{"BP-A-006", "BP-A-003"}},
		{"inactive plans are the not started and the unpaid ones", "status=inactive", []string{"BP-A-004", "BP-A-005"}},
		{"a start date range includes both ends", "from=2026-02-01&to=2026-02-15", []string{"BP-A-005", "BP-A-006", "BP-A-002"}},
		{"an end date range applies to the end date", "date_field=end&from=2026-06-30", []string{"BP-A-004", "BP-A-001"}},
		{"an end date range with only its end", "date_field=end&to=2025-12-31", []string{"BP-A-003"}},
		{"search and status together", "q=gpu&status=active", []string{"BP-A-001"}},
		{"service, status and a start date together", "service=llm&status=active&from=2026-02-01", []string{"BP-A-002"}},
		{"service and search together", "q=commitment&service=llm", []string{"BP-A-001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := MustPlanList(t, c, "/billing/plans?"+tt.query)
			if got := planListCodes(doc); !slices.Equal(got, tt.want) {
				t.Errorf("rows %v, want %v", got, tt.want)
			}
			if got, want := testid(doc, "plans-total"), fmt.Sprint(len(tt.want)); got != want {
				t.Errorf("total %q, want %q", got, want)
			}
		})
	}
	t.Run("a filter that matches nothing says so, with a link that clears it", func(t *testing.T) {
		doc := MustPlanList(t, c, "/billing/plans?q=nothing-like-this&sort=code&dir=asc")
		if doc.Find(`[data-testid="plans-no-match"]`).Length() != 1 || len(planListCodes(doc)) != 0 {
			t.Fatal("no empty state for a filter that matches nothing")
		}
		href, _ := doc.Find(`[data-testid="plans-no-match-clear"]`).Attr("href")
		if href != "/billing/plans?sort=code&dir=asc" {
			t.Errorf("clear link %q, want the list in the same order without the filter", href)
		}
		if got := planListCodes(MustPlanList(t, c, href)); len(got) != 6 {
			t.Errorf("after clearing: %v", got)
		}
	})
}

func TestPlanListSort(t *testing.T) {
	_, srv := mustPlanListFixture(t)
	c := MustSignIn(t, srv, planListAdmin, planListPassword)
	tests := []struct {
		name, query string
		want        []string
	}{
		{"by plan code, A to Z", "sort=code&dir=asc", []string{"BP-A-001", "BP-A-002", "BP-A-003", "BP-A-004", "BP-A-005", "BP-A-006"}},
		{"by plan code, Z to A", "sort=code", []string{"BP-A-006", "BP-A-005", "BP-A-004", "BP-A-003", "BP-A-002", "BP-A-001"}},
		{"by start date, earliest first, ties by code", "dir=asc", []string{"BP-A-003", "BP-A-001", "BP-A-002", "BP-A-006", "BP-A-005", "BP-A-004"}},
		{"by end date, earliest first, ties by code", "sort=end&dir=asc", []string{"BP-A-003", "BP-A-005", "BP-A-002", "BP-A-006", "BP-A-001", "BP-A-004"}},
		{"by usage, most used first, ties by code", "sort=usage", []string{"BP-A-006", "BP-A-001", "BP-A-002", "BP-A-005", "BP-A-004", "BP-A-003"}},
		{"by plan amount, smallest first", "sort=amount&dir=asc", []string{"BP-A-006", "BP-A-005", "BP-A-004", "BP-A-003", "BP-A-002", "BP-A-001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := planListCodes(MustPlanList(t, c, "/billing/plans?"+tt.query)); !slices.Equal(got, tt.want) {
				t.Errorf("rows %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("the header links sort by their column and turn the current one over", func(t *testing.T) {
		doc := MustPlanList(t, c, "/billing/plans?status=active")
		want := map[string]string{
			"sort-code":   "/billing/plans?status=active&sort=code&dir=asc",
			"sort-start":  "/billing/plans?status=active&dir=asc",
			"sort-end":    "/billing/plans?status=active&sort=end",
			"sort-usage":  "/billing/plans?status=active&sort=usage",
			"sort-amount": "/billing/plans?status=active&sort=amount",
		}
		for id, w := range want {
			if got, _ := doc.Find(`[data-testid="` + id + `"]`).Attr("href"); got != w {
				t.Errorf("%s links to %q, want %q", id, got, w)
			}
		}
		if got, _ := doc.Find(`th:has([data-testid="sort-start"])`).Attr("aria-sort"); got != "descending" {
			t.Errorf("the Duration header's aria-sort is %q, want descending", got)
		}
	})
}

func TestPlanListRows(t *testing.T) {
	_, srv := mustPlanListFixture(t)
	admin := MustSignIn(t, srv, planListAdmin, planListPassword)
	doc := MustPlanList(t, admin, "/billing/plans")
	type row struct {
		typ, start, end, days, status, consumed, percent, payment string
		payNow                                                    bool
	}
	want := map[string]row{
		"BP-A-001": {"GPU Commitment", "1 Jan 2026", "30 Jun 2026", "121 days", "Active", "₫1,700,000", "18.9%", "Paid", false},
		"BP-A-002": {"Inference Token Pack", "1 Feb 2026", "30 Apr 2026", "60 days", "Active", "₫600,000", "10.0%", "Unpaid", true},
		"BP-A-003": {"-GPU Legacy", "1 Sep 2025", "31 Dec 2025", "0 days", "Expired", "₫0", "0.0%", "Paid", false},
		"BP-A-004": {"Storage Reserve", "1 Apr 2026", "30 Jun 2026", "91 days", "Inactive", "₫0", "0.0%", "Partially paid", true},
		"BP-A-005": {planListXSS, "15 Feb 2026", "31 Mar 2026", "30 days", "Inactive", "₫0", "0.0%", "Partially paid", true},
		"BP-A-006": {"Fine-tune Pack", "1 Feb 2026", "31 May 2026", "0 days", "Expired", "₫500,000", "100.0%", "Paid", false},
	}
	for code, w := range want {
		t.Run(code+" shows its figures", func(t *testing.T) {
			r := planListRow(t, doc, code)
			got := row{
				within(r, "plan-type"), within(r, "plan-start"), within(r, "plan-end"), within(r, "plan-days-remaining"),
				within(r, "plan-status"), within(r, "plan-consumed"), within(r, "plan-usage-percent"), within(r, "payment-status"),
				r.Find(`[data-testid="pay-now"]`).Length() == 1,
			}
			if got != w {
				t.Errorf("got  %+v\nwant %+v", got, w)
			}
			if w.payNow {
				if href, _ := r.Find(`[data-testid="pay-now"]`).Attr("href"); href != "/billing/plans/"+code+"/pay" {
					t.Errorf("Pay now leads to %q", href)
				}
			}
			if href, _ := r.Find(`a[data-testid="plan-code"]`).Attr("href"); href != "/billing/plans/"+code {
				t.Errorf("the code links to %q, want the plan's page", href)
			}
		})
	}
	t.Run("only a plan that has not started says when it starts", func(t *testing.T) {
		if got := within(planListRow(t, doc, "BP-A-004"), "plan-starts-on"); got != "· starts on 1 Apr 2026" {
			t.Errorf("BP-A-004 says %q", got)
		}
		if n := doc.Find(`[data-testid="plan-starts-on"]`).Length(); n != 1 {
			t.Errorf("%d plans say when they start, want 1", n)
		}
	})
	t.Run("the code links back to the filtered list it was found in", func(t *testing.T) {
		doc := MustPlanList(t, admin, "/billing/plans?q=gpu&status=active&per_page=50")
		href, _ := planListRow(t, doc, "BP-A-001").Find(`a[data-testid="plan-code"]`).Attr("href")
		if want := "/billing/plans/BP-A-001?back=" + url.QueryEscape("q=gpu&status=active&per_page=50"); href != want {
			t.Errorf("link %q, want %q", href, want)
		}
	})
	t.Run("two services are shown and the rest open under +N more, without JavaScript", func(t *testing.T) {
		r := planListRow(t, doc, "BP-A-001")
		var shown, more []string
		r.Find(`[data-testid="plan-services"] > ul > [data-testid="plan-service"]`).Each(func(_ int, s *goquery.Selection) { shown = append(shown, s.Text()) })
		details := r.Find(`details[data-testid="plan-services-more"]`)
		details.Find(`[data-testid="plan-service"]`).Each(func(_ int, s *goquery.Selection) { more = append(more, s.Text()) })
		if !slices.Equal(shown, []string{"GPU Container H100", "Model inference"}) || !slices.Equal(more, []string{"Notebook", "Object Storage"}) {
			t.Errorf("shown %v, more %v", shown, more)
		}
		if got := strings.TrimSpace(details.Find("summary").Text()); got != "+2 more" {
			t.Errorf("summary %q, want +2 more", got)
		}
		if n := doc.Find(`details[data-testid="plan-services-more"]`).Length(); n != 1 {
			t.Errorf("%d rows have more services, want only BP-A-001", n)
		}
	})
	t.Run("a viewer sees every figure but no Pay now", func(t *testing.T) {
		viewer := MustSignIn(t, srv, planListViewer, planListPassword)
		doc := MustPlanList(t, viewer, "/billing/plans")
		if n := doc.Find(`[data-testid="pay-now"]`).Length(); n != 0 {
			t.Errorf("a viewer sees %d Pay now", n)
		}
		if got := within(planListRow(t, doc, "BP-A-002"), "payment-status"); got != "Unpaid" {
			t.Errorf("a viewer sees payment status %q", got)
		}
		if n := MustPlanList(t, admin, "/billing/plans").Find(`[data-testid="pay-now"]`).Length(); n != 3 {
			t.Errorf("an admin sees %d Pay now, want 3", n)
		}
	})
}

func TestPlanListCards(t *testing.T) {
	db, srv := mustPlanListFixture(t)
	c := MustSignIn(t, srv, planListAdmin, planListPassword)
	card := func(doc *goquery.Document, id string) string {
		return strings.TrimSpace(doc.Find(`[data-testid="` + id + `"] .card-value`).Text())
	}
	for _, query := range []string{"", "?q=legacy&status=expired", "?page=2&per_page=50"} {
		t.Run("the cards are the whole account's, whatever the filter "+query, func(t *testing.T) {
			doc := MustPlanList(t, c, "/billing/plans"+query)
			got := []string{
				card(doc, "card-active-plans"), card(doc, "card-expired-plans"),
				card(doc, "card-total-spent"), testid(doc, "card-total-spent-change"),
				card(doc, "card-total-plan-amount"), testid(doc, "card-remaining"),
			}
			want := []string{"2", "2", "₫2,800,000", "▲ Up 33.3% vs last month", "₫21,500,000", "₫12,700,000"}
			if !slices.Equal(got, want) {
				t.Errorf("cards %q\nwant  %q", got, want)
			}
			if !doc.Find(`[data-testid="card-total-spent-change"]`).HasClass("spend-change-up") {
				t.Error("the spend change is not marked up")
			}
		})
	}
	t.Run("spend that fell shows a down arrow", func(t *testing.T) {
		// On 2 April this month's span (1–2 April) has nothing, last month's
		// (1–2 March) has 1,200,000: -100.0%.
		MustSetClock(t, db, time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC))
		defer MustSetClock(t, db, testNow)
		doc := MustPlanList(t, MustSignIn(t, srv, planListAdmin, planListPassword), "/billing/plans")
		change := doc.Find(`[data-testid="card-total-spent-change"]`)
		if got := strings.TrimSpace(change.Text()); got != "▼ Down 100.0% vs last month" || !change.HasClass("spend-change-down") {
			t.Errorf("change %q, classes %q", got, change.AttrOr("class", ""))
		}
	})
	t.Run("no spend last month gives no figure", func(t *testing.T) {
		// On 10 February last month's span (1–10 January) had no spend.
		MustSetClock(t, db, time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC))
		defer MustSetClock(t, db, testNow)
		doc := MustPlanList(t, MustSignIn(t, srv, planListAdmin, planListPassword), "/billing/plans")
		if got := testid(doc, "card-total-spent-change"); got != "— vs last month" {
			t.Errorf("change %q, want no figure", got)
		}
	})
}

func TestPlanListEscapesPlanData(t *testing.T) {
	_, srv := mustPlanListFixture(t)
	c := MustSignIn(t, srv, planListAdmin, planListPassword)
	for _, path := range []string{
		"/billing/plans",
		"/billing/plans?q=" + url.QueryEscape(planListXSS),
		"/billing/plans?status=" + url.QueryEscape(planListXSS) + "&service=" + url.QueryEscape(planListXSS) + "&from=" + url.QueryEscape(planListXSS),
	} {
		t.Run(path+" shows the script as text", func(t *testing.T) {
			rec := c.Get(path)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if strings.Contains(rec.Body.String(), planListXSS) {
				t.Error("the page holds the script unescaped")
			}
			doc := MustDoc(t, rec)
			if n := doc.Find("script:not([src])").Length(); n != 0 {
				t.Errorf("%d inline scripts", n)
			}
		})
	}
	t.Run("the plan type is text in its row", func(t *testing.T) {
		doc := MustPlanList(t, c, "/billing/plans")
		if got := within(planListRow(t, doc, "BP-A-005"), "plan-type"); got != planListXSS {
			t.Errorf("plan type %q", got)
		}
	})
	t.Run("the search is text in its field and in the links", func(t *testing.T) {
		doc := MustPlanList(t, c, "/billing/plans?q="+url.QueryEscape(planListXSS))
		if got, _ := doc.Find(`input[name="q"]`).Attr("value"); got != planListXSS {
			t.Errorf("search field %q", got)
		}
		if got := planListCodes(doc); !slices.Equal(got, []string{"BP-A-005"}) {
			t.Errorf("rows %v", got)
		}
		href, _ := doc.Find(`[data-testid="export-csv"]`).Attr("href")
		if href != "/billing/plans.csv?q="+url.QueryEscape(planListXSS) {
			t.Errorf("export link %q", href)
		}
	})
	t.Run("a bad value is text in its message", func(t *testing.T) {
		doc := MustPlanList(t, c, "/billing/plans?status="+url.QueryEscape(planListXSS))
		if got := testid(doc, "filter-error-status"); !strings.Contains(got, planListXSS) {
			t.Errorf("message %q", got)
		}
	})
}

func TestPlanListBadParameters(t *testing.T) {
	_, srv := mustPlanListFixture(t)
	c := MustSignIn(t, srv, planListAdmin, planListPassword)
	tests := []struct {
		name, query, param string
		want               []string
	}{
		{"a date that does not exist", "from=2026-02-30", "from", planListDefaultOrder},
		{"a date in another format", "to=03/02/2026&status=active", "to", []string{"BP-A-002", "BP-A-001"}},
		{"a start after the end, which keeps the start", "from=2026-03-01&to=2026-02-01", "to", []string{"BP-A-004"}},
		{"an unknown status", "status=pending", "status", planListDefaultOrder},
		{"a service of another account", "service=vm", "service", planListDefaultOrder},
		{"an unknown service beside a known one", "service=tpu&service=finetune", "service", []string{"BP-A-006"}},
		{"an unknown plan date", "date_field=created&from=2026-04-01", "date_field", []string{"BP-A-004"}},
		{"an unknown sort", "sort=status", "sort", planListDefaultOrder},
		{"an unknown direction", "dir=sideways&sort=code", "dir", []string{"BP-A-006", "BP-A-005", "BP-A-004", "BP-A-003", "BP-A-002", "BP-A-001"}},
		{"a page that is not a number", "page=two", "page", planListDefaultOrder},
		{"a page of zero", "page=0", "page", planListDefaultOrder},
		{"a page past the end", "page=4", "page", planListDefaultOrder},
		{"a page past the end of a filter that matches nothing", "q=zzz&page=3", "page", nil},
		{"a page too large to count", "page=9223372036854775807", "page", planListDefaultOrder},
		{"a page size not offered", "per_page=1000", "per_page", planListDefaultOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is ignored, with a message beside its control", func(t *testing.T) {
			doc := MustPlanList(t, c, "/billing/plans?"+tt.query)
			if testid(doc, "filter-error-"+tt.param) == "" {
				t.Errorf("no message for %s", tt.param)
			}
			if n := doc.Find(`[data-testid^="filter-error-"]`).Length(); n != 1 {
				t.Errorf("%d messages, want 1", n)
			}
			if got := planListCodes(doc); !slices.Equal(got, tt.want) {
				t.Errorf("rows %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("a bad control shows the value used, not the one ignored", func(t *testing.T) {
		doc := MustPlanList(t, c, "/billing/plans?status=pending&per_page=7&sort=status")
		if v := doc.Find(`select[name="status"] option[selected]`).AttrOr("value", "none"); v != "" {
			t.Errorf("status shows %q, want all statuses", v)
		}
		if v := doc.Find(`select[name="per_page"] option[selected]`).AttrOr("value", ""); v != "25" {
			t.Errorf("per page shows %q", v)
		}
		if v := doc.Find(`select[name="sort"] option[selected]`).AttrOr("value", ""); v != "start" {
			t.Errorf("sort shows %q", v)
		}
	})
}

// planListFormQuery returns the query string a browser sends for the filter
// form as it stands: every named field in document order, checkboxes only
// when checked, each select's selected option.
func planListFormQuery(form *goquery.Selection) string {
	var parts []string
	add := func(name, value string) { parts = append(parts, url.QueryEscape(name)+"="+url.QueryEscape(value)) }
	form.Find("input[name], select[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		switch {
		case goquery.NodeName(s) == "select":
			opt := s.Find("option[selected]")
			if opt.Length() == 0 {
				opt = s.Find("option").First()
			}
			add(name, opt.AttrOr("value", ""))
		case s.AttrOr("type", "text") == "checkbox":
			if _, checked := s.Attr("checked"); checked {
				add(name, s.AttrOr("value", "on"))
			}
		default:
			add(name, s.AttrOr("value", ""))
		}
	})
	return strings.Join(parts, "&")
}

func TestPlanListBookmarks(t *testing.T) {
	_, srv := mustPlanListFixture(t)
	c := MustSignIn(t, srv, planListAdmin, planListPassword)
	bookmarks := []string{
		"",
		"q=gpu",
		"service=notebook&service=storage&status=inactive",
		"q=a-00&service=llm&status=active&date_field=end&from=2026-01-01&to=2026-12-31&sort=usage&dir=asc&per_page=50",
		"date_field=end&to=2026-04-30&sort=code&dir=asc&per_page=100",
		"q=" + url.QueryEscape("a+b %_x/é&c=d"),
	}
	for _, b := range bookmarks {
		path := "/billing/plans"
		if b != "" {
			path += "?" + b
		}
		t.Run("the bookmark "+path+" opens as it was left", func(t *testing.T) {
			doc := MustPlanList(t, c, path)
			rows := planListCodes(doc)
			form := doc.Find(`form[data-testid="plan-filters"]`)
			if form.AttrOr("method", "") != "get" || form.AttrOr("action", "") != "/billing/plans" {
				t.Fatalf("the filter bar is not a GET form of the list")
			}
			// Sending the form as it stands gives the same list, at the same canonical URL.
			sent := "/billing/plans?" + planListFormQuery(form)
			rec := c.Get(sent)
			if rec.Code == http.StatusSeeOther {
				if got := rec.Header().Get("Location"); got != path {
					t.Fatalf("the form sends %s, which leads to %s, want %s", sent, got, path)
				}
				rec = c.Get(rec.Header().Get("Location"))
			}
			if got := planListCodes(MustDoc(t, rec)); !slices.Equal(got, rows) {
				t.Errorf("the form's list %v, want %v", got, rows)
			}
			// Every link the page makes to the list is canonical: it opens without a redirect.
			doc.Find(`a[href^="/billing/plans?"], a[href="/billing/plans"]`).Each(func(_ int, a *goquery.Selection) {
				href := a.AttrOr("href", "")
				v, _ := url.ParseQuery(strings.TrimPrefix(strings.TrimPrefix(href, "/billing/plans"), "?"))
				q, errs := ParsePlanQuery(v, planListServices)
				if len(errs) != 0 || q.URL() != href {
					t.Errorf("link %q is not canonical (%v, canonical %q)", href, errs, q.URL())
				}
				if rec := c.Get(href); rec.Code != http.StatusOK {
					t.Errorf("link %q: status %d", href, rec.Code)
				}
			})
		})
	}
	t.Run("the controls are set to the bookmark's values", func(t *testing.T) {
		doc := MustPlanList(t, c, "/billing/plans?q=a-00&service=llm&service=storage&status=active&date_field=end&from=2026-01-01&to=2026-12-31&sort=usage&dir=asc&per_page=50")
		form := doc.Find(`form[data-testid="plan-filters"]`)
		var checked []string
		form.Find(`input[name="service"][checked]`).Each(func(_ int, s *goquery.Selection) { checked = append(checked, s.AttrOr("value", "")) })
		got := map[string]string{
			"q":          form.Find(`input[name="q"]`).AttrOr("value", ""),
			"service":    strings.Join(checked, ","),
			"status":     form.Find(`select[name="status"] option[selected]`).AttrOr("value", ""),
			"date_field": form.Find(`select[name="date_field"] option[selected]`).AttrOr("value", ""),
			"from":       form.Find(`input[name="from"]`).AttrOr("value", ""),
			"to":         form.Find(`input[name="to"]`).AttrOr("value", ""),
			"sort":       form.Find(`select[name="sort"] option[selected]`).AttrOr("value", ""),
			"dir":        form.Find(`select[name="dir"] option[selected]`).AttrOr("value", ""),
			"per_page":   form.Find(`select[name="per_page"] option[selected]`).AttrOr("value", ""),
		}
		want := map[string]string{"q": "a-00", "service": "llm,storage", "status": "active", "date_field": "end",
			"from": "2026-01-01", "to": "2026-12-31", "sort": "usage", "dir": "asc", "per_page": "50"}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s = %q, want %q", k, got[k], w)
			}
		}
		if form.Find(`input[type="date"]`).Length() != 2 {
			t.Error("the dates are not date inputs")
		}
	})
	t.Run("the service choices are the account's own", func(t *testing.T) {
		doc := MustPlanList(t, c, "/billing/plans")
		var codes []string
		doc.Find(`input[name="service"]`).Each(func(_ int, s *goquery.Selection) { codes = append(codes, s.AttrOr("value", "")) })
		if want := []string{"finetune", "gpu", "llm", "notebook", "storage"}; !slices.Equal(codes, want) {
			t.Errorf("choices %v, want %v (in name order)", codes, want)
		}
	})
	t.Run("a valid query in another form leads to its canonical URL", func(t *testing.T) {
		MustRedirect(t, c.Get("/billing/plans?per_page=25&status=Active&q=&sort=start&dir=desc"), "/billing/plans?status=active")
	})
	t.Run("clear filters keeps the order and page size", func(t *testing.T) {
		doc := MustPlanList(t, c, "/billing/plans?q=gpu&status=active&sort=code&dir=asc&per_page=50")
		if href := doc.Find(`[data-testid="clear-filters"]`).AttrOr("href", ""); href != "/billing/plans?sort=code&dir=asc&per_page=50" {
			t.Errorf("clear filters leads to %q", href)
		}
		if MustPlanList(t, c, "/billing/plans?sort=code").Find(`[data-testid="clear-filters"]`).Length() != 0 {
			t.Error("an unfiltered list offers to clear filters")
		}
	})
}

// mustPlanListPaged adds account BIG, with n plans BP-B-0001... starting on
// successive days from 2025-01-01 (a day of 400 repeats), and a user of it;
// it returns the codes in the list's default order, worked out here.
func mustPlanListPaged(t *testing.T, db *store.DB, n int) []string {
	t.Helper()
	f := store.ImportFile{
		Accounts: []store.ImportAccount{{Code: "BIG", Name: "Big Co", Currency: "USD", Timezone: "Asia/Ho_Chi_Minh"}},
		Users: []store.ImportUser{{Email: "admin@big.test", Name: "Bea Big", Password: planListPassword,
			Memberships: []store.ImportMembership{{Account: "BIG", Role: "admin"}}}},
	}
	type plan struct{ code, start string }
	var plans []plan
	for i := 1; i <= n; i++ {
		start := store.NewDate(2025, 1, 1).AddDays(i % 400)
		code := fmt.Sprintf("BP-B-%04d", i)
		plans = append(plans, plan{code, start.String()})
		f.Plans = append(f.Plans, store.ImportPlan{Code: code, Account: "BIG", Type: "=Bulk", StartDate: start.String(),
			EndDate: start.AddDays(89).String(), Amount: "1000.50", Region: "Hanoi", PaymentOption: "postpaid", PaymentMethod: "online",
			Services: []store.ImportPlanService{{Service: "gpu", PricePerUnit: "2.5"}}})
	}
	if _, err := db.Import(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	sort.Slice(plans, func(i, j int) bool {
		if plans[i].start != plans[j].start {
			return plans[i].start > plans[j].start
		}
		return plans[i].code > plans[j].code
	})
	codes := make([]string, len(plans))
	for i, p := range plans {
		codes[i] = p.code
	}
	return codes
}

func TestPlanListPages(t *testing.T) {
	db, srv := mustPlanListFixture(t)
	order := mustPlanListPaged(t, db, 1050)
	c := MustSignIn(t, srv, "admin@big.test", planListPassword)
	tests := []struct {
		name, query     string
		from, to        int
		showing         string
		prev, next      string
		pages, pageNote string
	}{
		{"the first page", "", 0, 25, "Showing 1–25 of 1,050", "", "/billing/plans?page=2", "1 2 3 … 42", ""},
		{"a page in the middle", "page=5", 100, 125, "Showing 101–125 of 1,050", "/billing/plans?page=4", "/billing/plans?page=6", "1 … 3 4 5 6 7 … 42", ""},
		{"the last page of 50", "page=21&per_page=50", 1000, 1050, "Showing 1,001–1,050 of 1,050", "/billing/plans?page=20&per_page=50", "", "1 … 19 20 21", ""},
		{"a page past the end shows the last page", "page=12&per_page=100", 1000, 1050, "Showing 1,001–1,050 of 1,050", "/billing/plans?page=10&per_page=100", "", "1 … 9 10 11", "past the end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := MustPlanList(t, c, "/billing/plans?"+tt.query)
			if got := planListCodes(doc); !slices.Equal(got, order[tt.from:tt.to]) {
				t.Errorf("rows %v...", got[:min(3, len(got))])
			}
			if got := testid(doc, "plans-showing"); got != tt.showing {
				t.Errorf("showing %q, want %q", got, tt.showing)
			}
			if got := testid(doc, "plans-total"); got != "1,050" {
				t.Errorf("total %q", got)
			}
			nav := doc.Find(`[data-testid="pagination"]`)
			if got := nav.Find(`[data-testid="page-prev"]`).AttrOr("href", ""); got != tt.prev {
				t.Errorf("previous %q, want %q", got, tt.prev)
			}
			if got := nav.Find(`[data-testid="page-next"]`).AttrOr("href", ""); got != tt.next {
				t.Errorf("next %q, want %q", got, tt.next)
			}
			var pages []string
			nav.Find("ol li").Each(func(_ int, s *goquery.Selection) { pages = append(pages, strings.TrimSpace(s.Text())) })
			if got := strings.Join(pages, " "); got != tt.pages {
				t.Errorf("pages %q, want %q", got, tt.pages)
			}
			if got := testid(doc, "filter-error-page"); !strings.Contains(got, tt.pageNote) || (tt.pageNote == "") != (got == "") {
				t.Errorf("page message %q, want one saying %q", got, tt.pageNote)
			}
		})
	}
	t.Run("the current page is marked", func(t *testing.T) {
		doc := MustPlanList(t, c, "/billing/plans?page=5")
		if got := strings.TrimSpace(doc.Find(`[data-testid="pagination"] [aria-current="page"]`).Text()); got != "5" {
			t.Errorf("current page %q", got)
		}
	})
	t.Run("one page has no pagination", func(t *testing.T) {
		doc := MustPlanList(t, c, "/billing/plans?q=BP-B-000")
		if doc.Find(`[data-testid="pagination"]`).Length() != 0 || testid(doc, "plans-showing") != "Showing 1–9 of 9" {
			t.Errorf("showing %q with pagination", testid(doc, "plans-showing"))
		}
	})
}

func TestPlanListEmptyAccount(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	MustCreateAccount(t, db, "NEW", store.JPY)
	MustCreateUser(t, db, "new@example.com", planListPassword, "NEW", store.RoleAdmin)
	c := MustSignIn(t, srv, "new@example.com", planListPassword)
	for _, path := range []string{"/billing/plans", "/billing/plans?status=active&page=3"} {
		t.Run(path+" says there are no plans yet", func(t *testing.T) {
			doc := MustPlanList(t, c, path)
			if got := testid(doc, "plans-empty"); !strings.HasPrefix(got, "No billing plans yet") {
				t.Errorf("empty state %q", got)
			}
			if doc.Find(`[data-testid="plan-table"]`).Length() != 0 {
				t.Error("an empty account shows a table")
			}
			if got := testid(doc, "card-total-plan-amount"); !strings.Contains(got, "¥0") {
				t.Errorf("total plan amount %q", got)
			}
			if got := testid(doc, "card-total-spent-change"); got != "— vs last month" {
				t.Errorf("change %q", got)
			}
			if testid(doc, "page-title") != "Billing plans" {
				t.Errorf("title %q", testid(doc, "page-title"))
			}
		})
	}
}

func TestPlanListKeepsAccountsApart(t *testing.T) {
	_, srv := mustPlanListFixture(t)
	acme := MustSignIn(t, srv, planListAdmin, planListPassword)
	other := MustSignIn(t, srv, planListOther, planListPassword)
	for _, path := range []string{"/billing/plans", "/billing/plans?q=gpu", "/billing/plans?q=BP-O", "/billing/plans?status=active&sort=amount"} {
		t.Run(path+" lists no plan of another account", func(t *testing.T) {
			for _, code := range planListCodes(MustPlanList(t, acme, path)) {
				if !strings.HasPrefix(code, "BP-A-") {
					t.Errorf("ACME sees %s", code)
				}
			}
		})
	}
	t.Run("another account's cards count its own plans", func(t *testing.T) {
		doc := MustPlanList(t, other, "/billing/plans")
		if got := planListCodes(doc); !slices.Equal(got, []string{"BP-O-001"}) {
			t.Errorf("OTHER sees %v", got)
		}
		if got := strings.TrimSpace(doc.Find(`[data-testid="card-total-plan-amount"] .card-value`).Text()); got != "₫99,000,000" {
			t.Errorf("OTHER's total plan amount %q", got)
		}
	})
	t.Run("the export has no plan of another account", func(t *testing.T) {
		rec := acme.Get("/billing/plans.csv?q=bp")
		if strings.Contains(rec.Body.String(), "BP-O-") {
			t.Error("ACME's export holds OTHER's plan")
		}
	})
}

// MustPlanCSV gets the export at path and returns its records.
func MustPlanCSV(t *testing.T, c *client, path string) ([][]string, *httptest.ResponseRecorder) {
	t.Helper()
	rec := c.Get(path)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d; body:\n%.1000s", path, rec.Code, rec.Body)
	}
	records, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return records, rec
}

func TestPlanListCSV(t *testing.T) {
	db, srv := mustPlanListFixture(t)
	c := MustSignIn(t, srv, planListAdmin, planListPassword)
	t.Run("the export has the list's columns, with plain money and the currency", func(t *testing.T) {
		records, rec := MustPlanCSV(t, c, "/billing/plans.csv?sort=code&dir=asc")
		want := [][]string{
			{"Plan code", "Plan type", "Services", "Start date", "End date", "Days remaining", "Status", "Consumed", "Usage percent", "Amount", "Payment status", "Amount due", "Currency"},
			{"BP-A-001", "GPU Commitment", "GPU Container H100; Model inference; Notebook; Object Storage", "2026-01-01", "2026-06-30", "121", "Active", "1700000", "18.9", "9000000", "Paid", "0", "VND"},
			{"BP-A-002", "Inference Token Pack", "Model inference", "2026-02-01", "2026-04-30", "60", "Active", "600000", "10.0", "6000000", "Unpaid", "6000000", "VND"},
			{"BP-A-003", "'-GPU Legacy", "GPU Container H100", "2025-09-01", "2025-12-31", "0", "Expired", "0", "0.0", "3000000", "Paid", "0", "VND"},
			{"BP-A-004", "Storage Reserve", "Object Storage", "2026-04-01", "2026-06-30", "91", "Inactive", "0", "0.0", "2000000", "Partially paid", "1500000", "VND"},
			{"BP-A-005", planListXSS, "Notebook", "2026-02-15", "2026-03-31", "30", "Inactive", "0", "0.0", "1000000", "Partially paid", "600000", "VND"},
			{"BP-A-006", "Fine-tune Pack", "Fine-tuning", "2026-02-01", "2026-05-31", "0", "Expired", "500000", "100.0", "500000", "Paid", "0", "VND"},
		}
		if len(records) != len(want) {
			t.Fatalf("%d records, want %d: %q", len(records), len(want), records)
		}
		for i := range want {
			if !slices.Equal(records[i], want[i]) {
				t.Errorf("record %d\n got %q\nwant %q", i, records[i], want[i])
			}
		}
		if got := rec.Header().Get("Content-Type"); got != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", got)
		}
		if got := rec.Header().Get("Content-Disposition"); got != "attachment; filename=billing-plans-ACME-2026-03-02.csv" {
			t.Errorf("Content-Disposition %q", got)
		}
	})
	t.Run("the export selects what the filter selects, in its order", func(t *testing.T) {
		records, _ := MustPlanCSV(t, c, "/billing/plans.csv?service=notebook&service=storage&page=2&per_page=50&dir=asc")
		var codes []string
		for _, r := range records[1:] {
			codes = append(codes, r[0])
		}
		if want := []string{"BP-A-001", "BP-A-005", "BP-A-004"}; !slices.Equal(codes, want) {
			t.Errorf("codes %v, want %v", codes, want)
		}
	})
	t.Run("the export ignores paging and streams every plan in chunks", func(t *testing.T) {
		order := mustPlanListPaged(t, db, 1050)
		big := MustSignIn(t, srv, "admin@big.test", planListPassword)
		records, _ := MustPlanCSV(t, big, "/billing/plans.csv?page=3&per_page=25")
		var codes []string
		for _, r := range records[1:] {
			codes = append(codes, r[0])
		}
		if !slices.Equal(codes, order) {
			t.Errorf("%d codes, want all %d in the list's order", len(codes), len(order))
		}
		// USD has cents; a type that starts with = is kept as text.
		if r := records[1]; r[1] != "'=Bulk" || r[9] != "1000.50" || r[11] != "1000.50" || r[12] != "USD" {
			t.Errorf("record %q", r)
		}
	})
	t.Run("a viewer may export too", func(t *testing.T) {
		records, _ := MustPlanCSV(t, MustSignIn(t, srv, planListViewer, planListPassword), "/billing/plans.csv?status=expired")
		if len(records) != 3 {
			t.Errorf("%d records, want a header and 2 plans", len(records))
		}
	})
	t.Run("a bad value in the export's query is ignored", func(t *testing.T) {
		records, _ := MustPlanCSV(t, c, "/billing/plans.csv?status=nope&from=x&sort=y")
		if len(records) != 7 {
			t.Errorf("%d records, want a header and 6 plans", len(records))
		}
	})
}

// TestPlanListShowsEveryChange reads the same list before and after each kind
// of change to its plans: the rows are kept written out between requests, and
// must never be shown once a plan behind them has changed.
func TestPlanListShowsEveryChange(t *testing.T) {
	db, srv := mustPlanListFixture(t)
	ctx := context.Background()
	admin := MustSignIn(t, srv, planListAdmin, planListPassword)
	u, err := db.FindUserByEmail(ctx, planListAdmin)
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.FindMembership(ctx, u.ID, "ACME")
	if err != nil {
		t.Fatal(err)
	}
	acme := m.Account
	row := func(t *testing.T, code, id string) string {
		t.Helper()
		return within(planListRow(t, MustPlanList(t, admin, "/billing/plans"), code), id)
	}
	if got := row(t, "BP-A-001", "plan-consumed"); got != "₫1,700,000" {
		t.Fatalf("at first BP-A-001 consumed %s, want ₫1,700,000", got)
	}
	if got := row(t, "BP-A-001", "plan-consumed"); got != "₫1,700,000" {
		t.Fatalf("the same list again: BP-A-001 consumed %s, want ₫1,700,000", got)
	}

	t.Run("usage", func(t *testing.T) {
		MustApplyUsage(t, db, []store.UsageEvent{{ID: "later", AccountCode: "ACME", ServiceCode: "gpu", Quantity: decimal.NewFromInt(2),
			At: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}})
		if got := row(t, "BP-A-001", "plan-consumed"); got != "₫1,800,000" {
			t.Errorf("after 2 more hours BP-A-001 consumed %s, want ₫1,800,000", got)
		}
	})
	t.Run("a payment", func(t *testing.T) {
		_, err := db.Pay(ctx, store.SandboxGateway{}, store.PayRequest{AccountID: acme.ID, PlanCode: "BP-A-002",
			Amount: store.Money{Minor: 6_000_000, Currency: store.VND}, Method: store.Online, CardNumber: "4242 4242 4242 4242",
			IdempotencyKey: mustKey(t), Actor: planListAdmin})
		if err != nil {
			t.Fatal(err)
		}
		if got := row(t, "BP-A-002", "payment-status"); got != "Paid" {
			t.Errorf("after paying it all BP-A-002 is %s, want Paid", got)
		}
	})
	t.Run("a renewal", func(t *testing.T) {
		_, err := db.Renew(ctx, store.RenewRequest{AccountID: acme.ID, PlanCode: "BP-A-001", Months: 1,
			Price: store.Money{Minor: 1_000_000, Currency: store.VND}, IdempotencyKey: mustKey(t), Actor: planListAdmin})
		if err != nil {
			t.Fatal(err)
		}
		if got := row(t, "BP-A-001", "plan-end"); got != "31 Jul 2026" {
			t.Errorf("after a month's renewal BP-A-001 ends %s, want 31 Jul 2026", got)
		}
	})
	t.Run("the next day", func(t *testing.T) {
		MustSetClock(t, db, testNow.Add(24*time.Hour))
		admin = MustSignIn(t, srv, planListAdmin, planListPassword) // the session idled out overnight
		if got := row(t, "BP-A-002", "plan-days-remaining"); got != "59 days" {
			t.Errorf("a day later BP-A-002 has %s left, want 59 days", got)
		}
	})
}
