package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/shopspring/decimal"

	"github.com/billingplans/billingplans/store"
)

// The billing world of the credit history and overview tests, with every
// figure worked out by hand. Account acme bills in VND, in Asia/Ho_Chi_Minh
// (UTC+7); today is 20 Mar 2026 (10:00 local).
//
// Services (list prices): gpu-h100 "GPU Container H100" 65,000/hour,
// storage "Object storage" 1,000/GB-month, notebook "Notebook" 20,000/hour.
// Plans (all paid in full on 1 Jan, so activated; gpu-h100 at 52,000/hour):
//
//	BP-OLD  1 Jan–28 Feb   520,000  (Expired: ended, and depleted on 20 Feb)
//	BP-1    1 Mar–31 Mar 2,080,000  (Active, ends in 12 days: at risk)
//	BP-LATE 1 Mar–30 Jun 5,200,000  (Active, ends after BP-1: drawn second, unused)
//
// Vouchers: WELCOME 200,000, 1–28 Feb, every service (Expired);
// SPRING 1,000,000, 1 Mar–5 Apr, storage only (Valid, expires in 17 days).
// Top-ups: 100,000 on 1 Feb 00:00; 300,000 on 19 Mar 12:00 (after the usage).
//
// Usage (local times) and what it draws:
//
//	e1 10 Feb 10:00 gpu 5h      BP-OLD 260,000
//	e2 20 Feb 10:00 gpu 6h      BP-OLD 260,000 (5h, depleting it), WELCOME 65,000 (1h at list)
//	e3 25 Feb 10:00 storage 100 WELCOME 100,000
//	e4  5 Mar 10:00 gpu 10h     BP-1 520,000
//	e5 13 Mar 10:00 gpu 7h      BP-1 364,000
//	e6 16 Mar 01:00 storage 200 SPRING 200,000 (15 Mar in UTC)
//	e7 17 Mar 10:00 notebook 3h top-up 60,000
//	e8 18 Mar 10:00 notebook 5h top-up 40,000 (2h, the balance), uncovered 60,000 (3h)
//	e9 19 Mar 10:00 gpu 2h      BP-1 104,000
//
// A second account, beta (USD), has a plan and usage of its own that acme's
// pages must never show.
var historyToday = time.Date(2026, 3, 20, 3, 0, 0, 0, time.UTC)

const (
	historyAdmin    = "ana@acme.test"
	historyViewer   = "vu@acme.test"
	historyPassword = "correct horse 42"
)

// historyImport returns the world's import file, before the second top-up.
func historyImport() store.ImportFile {
	gpuPlan := func(code, start, end, amount string) store.ImportPlan {
		return store.ImportPlan{
			Code: code, Account: "acme", Type: "GPU Commitment", StartDate: start, EndDate: end, Amount: amount,
			Region: "Hanoi", PaymentOption: "all_upfront", PaymentMethod: "online",
			Services: []store.ImportPlanService{{Service: "gpu-h100", PricePerUnit: "52000"}},
			Payments: []store.ImportPayment{{Amount: amount, Method: "online", PaidAt: "2026-01-01T09:00:00+07:00"}},
		}
	}
	return store.ImportFile{
		Accounts: []store.ImportAccount{
			{Code: "acme", Name: "Acme AI", Currency: "VND", Timezone: "Asia/Ho_Chi_Minh"},
			{Code: "beta", Name: "Beta Labs", Currency: "USD", Timezone: "UTC"},
		},
		Users: []store.ImportUser{
			{Email: historyAdmin, Name: "Ana", Password: historyPassword, Memberships: []store.ImportMembership{{Account: "acme", Role: "admin"}}},
			{Email: historyViewer, Name: "Vu", Password: historyPassword, Memberships: []store.ImportMembership{{Account: "acme", Role: "viewer"}}},
		},
		Services: []store.ImportService{
			{Code: "gpu-h100", Name: "GPU Container H100", Unit: "hour", ListPrices: map[string]string{"VND": "65000", "USD": "2.54"}},
			{Code: "storage", Name: "Object storage", Unit: "GB-month", ListPrices: map[string]string{"VND": "1000", "USD": "0.04"}},
			{Code: "notebook", Name: "Notebook", Unit: "hour", ListPrices: map[string]string{"VND": "20000", "USD": "0.80"}},
		},
		Plans: []store.ImportPlan{
			gpuPlan("BP-OLD", "2026-01-01", "2026-02-28", "520000"),
			gpuPlan("BP-1", "2026-03-01", "2026-03-31", "2080000"),
			gpuPlan("BP-LATE", "2026-03-01", "2026-06-30", "5200000"),
			{
				Code: "BETA-1", Account: "beta", Type: "GPU Commitment", StartDate: "2026-03-01", EndDate: "2026-03-31", Amount: "1000.00",
				Region: "Hanoi", PaymentOption: "postpaid", PaymentMethod: "online", CreatedAt: "2026-02-27T09:00:00Z",
				Services: []store.ImportPlanService{{Service: "gpu-h100", PricePerUnit: "2.00"}},
			},
		},
		Vouchers: []store.ImportVoucher{
			{Code: "WELCOME", Account: "acme", Amount: "200000", EffectiveDate: "2026-02-01", ExpiryDate: "2026-02-28"},
			{Code: "SPRING", Account: "acme", Amount: "1000000", EffectiveDate: "2026-03-01", ExpiryDate: "2026-04-05", Services: []string{"storage"}},
		},
		Topups: []store.ImportTopup{{Account: "acme", Amount: "100000", At: "2026-02-01T00:00:00+07:00"}},
	}
}

// historyEvents are the world's usage events, acme's and beta's.
func historyEvents(t testing.TB) []store.UsageEvent {
	t.Helper()
	ev := func(id, account, service, quantity, at string) store.UsageEvent {
		when, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		return store.UsageEvent{ID: id, AccountCode: account, ServiceCode: service, Quantity: decimal.RequireFromString(quantity), At: when}
	}
	return []store.UsageEvent{
		ev("e1", "acme", "gpu-h100", "5", "2026-02-10T10:00:00+07:00"),
		ev("e2", "acme", "gpu-h100", "6", "2026-02-20T10:00:00+07:00"),
		ev("e3", "acme", "storage", "100", "2026-02-25T10:00:00+07:00"),
		ev("e4", "acme", "gpu-h100", "10", "2026-03-05T10:00:00+07:00"),
		ev("e5", "acme", "gpu-h100", "7", "2026-03-13T10:00:00+07:00"),
		ev("e6", "acme", "storage", "200", "2026-03-16T01:00:00+07:00"),
		ev("e7", "acme", "notebook", "3", "2026-03-17T10:00:00+07:00"),
		ev("e8", "acme", "notebook", "5", "2026-03-18T10:00:00+07:00"),
		ev("e9", "acme", "gpu-h100", "2", "2026-03-19T10:00:00+07:00"),
		ev("b1", "beta", "gpu-h100", "3", "2026-03-10T10:00:00Z"),
		ev("b2", "beta", "notebook", "1", "2026-03-11T10:00:00Z"),
	}
}

// MustImport imports f into db.
func MustImport(t testing.TB, db *store.DB, f store.ImportFile) {
	t.Helper()
	if _, err := db.Import(context.Background(), f); err != nil {
		t.Fatal(err)
	}
}

// MustApplyUsage applies events and fails the test unless every one is applied.
func MustApplyUsage(t testing.TB, db *store.DB, events []store.UsageEvent) {
	t.Helper()
	results, err := db.ApplyUsage(context.Background(), events)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Outcome != store.Applied {
			t.Fatalf("event %s: %s %s", r.ID, r.Outcome, r.Reason)
		}
	}
}

// MustHistoryWorld builds the world described above (edit changes the import
// file first) and returns its database and a server, with the clock on today.
func MustHistoryWorld(t *testing.T, edit func(*store.ImportFile)) (*store.DB, *Server) {
	t.Helper()
	db := MustOpenDB(t)
	MustSetClock(t, db, historyToday)
	f := historyImport()
	if edit != nil {
		edit(&f)
	}
	MustImport(t, db, f)
	MustApplyUsage(t, db, historyEvents(t))
	MustImport(t, db, store.ImportFile{Topups: []store.ImportTopup{{Account: "acme", Amount: "300000", At: "2026-03-19T12:00:00+07:00"}}})
	return db, MustNewServer(t, db)
}

// historyRowText is what a test reads of a row of the history table.
type historyRowText struct {
	Date, Time, Service, Source, Code, Status, Amount string
}

func (r historyRowText) String() string {
	return strings.Join([]string{r.Date, r.Time, r.Service, r.Source, r.Code, r.Status, r.Amount}, " | ")
}

// historyRows returns the rows of the history table of doc.
func historyRows(doc *goquery.Document) []historyRowText {
	var out []historyRowText
	doc.Find(`[data-testid="history-row"]`).Each(func(_ int, s *goquery.Selection) {
		get := func(id string) string { return strings.TrimSpace(s.Find(`[data-testid="` + id + `"]`).Text()) }
		out = append(out, historyRowText{
			Date: get("history-date"), Time: get("history-time"), Service: get("history-service"),
			Source: get("history-source"), Code: get("history-code"), Status: get("history-status"), Amount: get("history-amount"),
		})
	})
	return out
}

// MustGetPage signs in (once per client) and returns the parsed page at path,
// failing unless it answers 200.
func MustGetPage(t *testing.T, c *client, path string) *goquery.Document {
	t.Helper()
	rec := c.Get(path)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d; body:\n%.800s", path, rec.Code, rec.Body)
	}
	return MustDoc(t, rec)
}

const gpuName = "GPU Container H100"

// allHistoryRows are every line of acme, newest first, as the table shows them.
var allHistoryRows = []historyRowText{
	{"19 Mar 2026", "12:00", "", "Top-up", "", "", "+₫300,000"},
	{"19 Mar 2026", "10:00", gpuName, "Billing plan", "BP-1", "Active", "-₫104,000"},
	{"18 Mar 2026", "10:00", "Notebook", "Uncovered", "", "", "-₫60,000"},
	{"18 Mar 2026", "10:00", "Notebook", "Top-up", "", "", "-₫40,000"},
	{"17 Mar 2026", "10:00", "Notebook", "Top-up", "", "", "-₫60,000"},
	{"16 Mar 2026", "01:00", "Object storage", "Voucher", "SPRING", "Valid", "-₫200,000"},
	{"13 Mar 2026", "10:00", gpuName, "Billing plan", "BP-1", "Active", "-₫364,000"},
	{"5 Mar 2026", "10:00", gpuName, "Billing plan", "BP-1", "Active", "-₫520,000"},
	{"1 Mar 2026", "00:00", "", "Voucher", "SPRING", "Valid", "+₫1,000,000"},
	{"25 Feb 2026", "10:00", "Object storage", "Voucher", "WELCOME", "Expired", "-₫100,000"},
	{"20 Feb 2026", "10:00", gpuName, "Voucher", "WELCOME", "Expired", "-₫65,000"},
	{"20 Feb 2026", "10:00", gpuName, "Billing plan", "BP-OLD", "Expired", "-₫260,000"},
	{"10 Feb 2026", "10:00", gpuName, "Billing plan", "BP-OLD", "Expired", "-₫260,000"},
	{"1 Feb 2026", "00:00", "", "Voucher", "WELCOME", "Expired", "+₫200,000"},
	{"1 Feb 2026", "00:00", "", "Top-up", "", "", "+₫100,000"},
}

// rowsAt returns the rows of allHistoryRows at the given positions (from 1).
func rowsAt(positions ...int) []historyRowText {
	out := make([]historyRowText, len(positions))
	for i, p := range positions {
		out[i] = allHistoryRows[p-1]
	}
	return out
}

func MustEqualRows(t *testing.T, got, want []historyRowText) {
	t.Helper()
	if !slices.Equal(got, want) {
		var b strings.Builder
		fmt.Fprintf(&b, "got %d rows:\n", len(got))
		for _, r := range got {
			fmt.Fprintf(&b, "  %s\n", r)
		}
		fmt.Fprintf(&b, "want %d rows:\n", len(want))
		for _, r := range want {
			fmt.Fprintf(&b, "  %s\n", r)
		}
		t.Error(b.String())
	}
}

func TestCreditHistoryLines(t *testing.T) {
	_, srv := MustHistoryWorld(t, nil)
	c := MustSignIn(t, srv, historyAdmin, historyPassword)

	tests := []struct {
		name  string
		query string
		want  []historyRowText
	}{
		{"with expired credit shown, every line of the account is listed newest first", "show_expired=1", allHistoryRows},
		{"by default the lines of Expired plans and expired vouchers are hidden", "", rowsAt(1, 2, 3, 4, 5, 6, 7, 8, 9, 15)},
		{"a plan filter shows that plan's lines, even an Expired plan's", "plan=BP-OLD", rowsAt(12, 13)},
		{"a plan filter of an Active plan", "plan=BP-1", rowsAt(2, 7, 8)},
		{"a service filter keeps that service's consumption and no credit additions", "service=notebook", rowsAt(3, 4, 5)},
		{"several services", "service=notebook&service=storage&show_expired=1", rowsAt(3, 4, 5, 6, 10)},
		{"a source filter keeps consumption and additions of that source", "source=topup", rowsAt(1, 4, 5, 15)},
		{"several sources", "source=uncovered&source=voucher", rowsAt(3, 6, 9)},
		{"a source of additions with expired credit hidden keeps the old top-up", "source=topup&to=2026-02-28", rowsAt(15)},
		{"sources with expired credit shown", "source=voucher&show_expired=1", rowsAt(6, 9, 10, 11, 14)},
		{"a date range is on the line's local day (16 Mar 01:00 local is 15 Mar in UTC)", "from=2026-03-16&to=2026-03-18", rowsAt(3, 4, 5, 6)},
		{"a range ending the day before leaves out a line of 16 Mar local", "from=2026-03-13&to=2026-03-15", rowsAt(7)},
		{"a one-day range with credit added at midnight", "from=2026-03-01&to=2026-03-01", rowsAt(9)},
		{"from alone", "from=2026-03-18", rowsAt(1, 2, 3, 4)},
		{"to alone, with expired credit shown", "to=2026-02-20&show_expired=1", rowsAt(11, 12, 13, 14, 15)},
		{"the widest dates there are keep every line", "from=0001-01-01&to=9999-12-31", rowsAt(1, 2, 3, 4, 5, 6, 7, 8, 9, 15)},
		{"every filter at once", "plan=BP-1&service=gpu-h100&source=plan&from=2026-03-10&to=2026-03-19", rowsAt(2, 7)},
		{"a plan filter with a source it does not draw from matches nothing", "plan=BP-1&source=voucher", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := MustGetPage(t, c, creditHistoryPath+"?"+tt.query)
			MustEqualRows(t, historyRows(doc), tt.want)
			if len(tt.want) == 0 && doc.Find(`[data-testid="history-empty"]`).Length() != 1 {
				t.Error("no empty state")
			}
			if doc.Find(`[data-testid^="filter-error-"]`).Length() != 0 {
				t.Errorf("unexpected filter errors: %s", doc.Find(`[data-testid^="filter-error-"]`).Text())
			}
		})
	}
}

func TestCreditHistoryDescriptionsAndLinks(t *testing.T) {
	_, srv := MustHistoryWorld(t, nil)
	c := MustSignIn(t, srv, historyAdmin, historyPassword)
	doc := MustGetPage(t, c, creditHistoryPath+"?show_expired=1")
	var got []string
	doc.Find(`[data-testid="history-description"]`).Each(func(_ int, s *goquery.Selection) { got = append(got, strings.TrimSpace(s.Text())) })
	want := []string{
		"Top-up credit added",
		"2 hours of GPU Container H100 at ₫52,000/hour",
		"3 hours of Notebook at ₫20,000/hour",
		"2 hours of Notebook at ₫20,000/hour",
		"3 hours of Notebook at ₫20,000/hour",
		"200 GB-months of Object storage at ₫1,000/GB-month",
		"7 hours of GPU Container H100 at ₫52,000/hour",
		"10 hours of GPU Container H100 at ₫52,000/hour",
		"Voucher SPRING granted",
		"100 GB-months of Object storage at ₫1,000/GB-month",
		"1 hour of GPU Container H100 at ₫65,000/hour",
		"5 hours of GPU Container H100 at ₫52,000/hour",
		"5 hours of GPU Container H100 at ₫52,000/hour",
		"Voucher WELCOME granted",
		"Top-up credit added",
	}
	if !slices.Equal(got, want) {
		t.Errorf("descriptions:\n got %q\nwant %q", got, want)
	}
	href, _ := doc.Find(`[data-testid="history-code"] a`).First().Attr("href")
	if href != "/billing/plans/BP-1" {
		t.Errorf("plan link = %q, want /billing/plans/BP-1", href)
	}
	if n := doc.Find(`[data-testid="history-code"] a`).Length(); n != 5 {
		t.Errorf("%d plan links, want 5 (voucher codes are not links)", n)
	}
}

// chartTotals returns the history's totals per source.
func chartTotals(doc *goquery.Document) map[string]string {
	out := map[string]string{}
	for _, s := range store.CreditSources {
		out[string(s)] = testid(doc, "history-total-"+string(s))
	}
	return out
}

func TestCreditHistoryChart(t *testing.T) {
	_, srv := MustHistoryWorld(t, nil)
	c := MustSignIn(t, srv, historyAdmin, historyPassword)
	// The default period is the 30 days to today: 19 Feb to 20 Mar. e1 (10 Feb)
	// is before it; e2 (20 Feb: BP-OLD 260,000 and WELCOME 65,000) and e3 (25 Feb:
	// WELCOME 100,000) are in it but hidden unless expired credit is shown.
	tests := []struct {
		name                            string
		query                           string
		plan, voucher, topup, uncovered string
		period                          string
	}{
		{"the default hides what Expired plans and vouchers drew", "", "₫988,000", "₫200,000", "₫100,000", "₫60,000", "19 Feb 2026 to 20 Mar 2026"},
		{"with expired credit shown, the daily totals are used whole", "show_expired=1", "₫1,248,000", "₫365,000", "₫100,000", "₫60,000", "19 Feb 2026 to 20 Mar 2026"},
		{"a longer range takes in e1", "from=2026-02-01&show_expired=1", "₫1,508,000", "₫365,000", "₫100,000", "₫60,000", "1 Feb 2026 to 20 Mar 2026"},
		{"a plan filter reads the plan's daily spend", "plan=BP-OLD&from=2026-02-01", "₫520,000", "₫0", "₫0", "₫0", "1 Feb 2026 to 20 Mar 2026"},
		{"a plan filter within the default period", "plan=BP-OLD", "₫260,000", "₫0", "₫0", "₫0", "19 Feb 2026 to 20 Mar 2026"},
		{"a plan and a service it covers read the plan's lines", "plan=BP-OLD&service=gpu-h100&from=2026-02-01", "₫520,000", "₫0", "₫0", "₫0", "1 Feb 2026 to 20 Mar 2026"},
		{"a plan and a service it never drew for", "plan=BP-1&service=storage", "₫0", "₫0", "₫0", "₫0", "19 Feb 2026 to 20 Mar 2026"},
		{"a service filter with expired credit hidden subtracts the hidden lines of that service", "service=gpu-h100", "₫988,000", "₫0", "₫0", "₫0", "19 Feb 2026 to 20 Mar 2026"},
		{"a service filter with expired credit shown", "service=gpu-h100&show_expired=1", "₫1,248,000", "₫65,000", "₫0", "₫0", "19 Feb 2026 to 20 Mar 2026"},
		{"a source filter zeroes the other sources", "source=voucher&show_expired=1", "₫0", "₫365,000", "₫0", "₫0", "19 Feb 2026 to 20 Mar 2026"},
		{"a date range on local days (e6 is 16 Mar local)", "from=2026-03-16&to=2026-03-16", "₫0", "₫200,000", "₫0", "₫0", "16 Mar 2026 to 16 Mar 2026"},
		{"the day before in local time has nothing", "from=2026-03-15&to=2026-03-15", "₫0", "₫0", "₫0", "₫0", "15 Mar 2026 to 15 Mar 2026"},
		{"to alone ends the 30-day period", "to=2026-02-28&show_expired=1", "₫520,000", "₫165,000", "₫0", "₫0", "30 Jan 2026 to 28 Feb 2026"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := MustGetPage(t, c, creditHistoryPath+"?"+tt.query)
			got := chartTotals(doc)
			want := map[string]string{"plan": tt.plan, "voucher": tt.voucher, "topup": tt.topup, "uncovered": tt.uncovered}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("history-total-%s = %q, want %q", k, got[k], v)
				}
			}
			if got := strings.Join(strings.Fields(testid(doc, "history-period")), " "); got != "Totals from "+tt.period {
				t.Errorf("period = %q, want %q", got, "Totals from "+tt.period)
			}
			if doc.Find(`[data-testid="history-daily-chart"] svg`).Length() != 1 {
				t.Error("no chart")
			}
		})
	}
}

func TestCreditHistoryChartDays(t *testing.T) {
	_, srv := MustHistoryWorld(t, nil)
	c := MustSignIn(t, srv, historyAdmin, historyPassword)
	doc := MustGetPage(t, c, creditHistoryPath+"?from=2026-03-17&to=2026-03-19")
	// The screen reader table of the chart: one row a day, one column a source.
	var got [][]string
	doc.Find(`[data-testid="history-daily-chart"] table tbody tr`).Each(func(_ int, tr *goquery.Selection) {
		var cells []string
		tr.Find("th, td").Each(func(_ int, td *goquery.Selection) { cells = append(cells, strings.TrimSpace(td.Text())) })
		got = append(got, cells)
	})
	want := [][]string{
		{"17 Mar 2026", "₫0", "₫0", "₫60,000", "₫0"},
		{"18 Mar 2026", "₫0", "₫0", "₫40,000", "₫60,000"},
		{"19 Mar 2026", "₫104,000", "₫0", "₫0", "₫0"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("chart days:\n got %q\nwant %q", got, want)
	}
}

func TestCreditHistoryIgnoresBadFilterValues(t *testing.T) {
	_, srv := MustHistoryWorld(t, nil)
	c := MustSignIn(t, srv, historyAdmin, historyPassword)
	tests := []struct {
		name, query, param string
		want               []historyRowText
	}{
		{"an unknown plan code", "plan=NOPE", "plan", rowsAt(1, 2, 3, 4, 5, 6, 7, 8, 9, 15)},
		{"another account's plan code", "plan=BETA-1", "plan", rowsAt(1, 2, 3, 4, 5, 6, 7, 8, 9, 15)},
		{"an unknown service, beside a known one", "service=nope&service=notebook", "service", rowsAt(3, 4, 5)},
		{"an unknown source", "source=cash", "source", rowsAt(1, 2, 3, 4, 5, 6, 7, 8, 9, 15)},
		{"a bad start date", "from=yesterday", "from", rowsAt(1, 2, 3, 4, 5, 6, 7, 8, 9, 15)},
		{"a bad end date", "to=2026-02-30", "to", rowsAt(1, 2, 3, 4, 5, 6, 7, 8, 9, 15)},
		{"an end before the start", "from=2026-03-18&to=2026-03-01", "to", rowsAt(1, 2, 3, 4)},
		{"a show_expired that is not yes or no", "show_expired=maybe", "show_expired", rowsAt(1, 2, 3, 4, 5, 6, 7, 8, 9, 15)},
		{"a cursor that is not one", "before=yesterday", "before", rowsAt(1, 2, 3, 4, 5, 6, 7, 8, 9, 15)},
		{"a cursor of an unknown kind", "after=1_x1", "after", rowsAt(1, 2, 3, 4, 5, 6, 7, 8, 9, 15)},
		{"a cursor past int64", "before=99999999999999999999_c1", "before", rowsAt(1, 2, 3, 4, 5, 6, 7, 8, 9, 15)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := MustGetPage(t, c, creditHistoryPath+"?"+tt.query)
			if msg := testid(doc, "filter-error-"+tt.param); msg == "" {
				t.Errorf("no filter-error-%s", tt.param)
			}
			if n := doc.Find(`[data-testid^="filter-error-"]`).Length(); n != 1 {
				t.Errorf("%d filter errors, want 1", n)
			}
			MustEqualRows(t, historyRows(doc), tt.want)
		})
	}
}

func TestCreditHistoryKeepsAnUnknownPlanCodeInItsBox(t *testing.T) {
	_, srv := MustHistoryWorld(t, nil)
	c := MustSignIn(t, srv, historyAdmin, historyPassword)
	doc := MustGetPage(t, c, creditHistoryPath+"?plan=NOPE")
	if v, _ := doc.Find(`input[name="plan"]`).Attr("value"); v != "NOPE" {
		t.Errorf("plan box = %q, want NOPE", v)
	}
	if href, _ := doc.Find(`[data-testid="history-export-csv"]`).Attr("href"); strings.Contains(href, "NOPE") {
		t.Errorf("export link %q carries the ignored plan", href)
	}
}

func TestCreditHistoryIsForEveryMember(t *testing.T) {
	_, srv := MustHistoryWorld(t, nil)
	c := MustSignIn(t, srv, historyViewer, historyPassword)
	doc := MustGetPage(t, c, creditHistoryPath)
	if got := len(historyRows(doc)); got != 10 {
		t.Errorf("a viewer sees %d rows, want 10", got)
	}
	if got := doc.Find(`[aria-current="page"]`).Text(); got != "Credit history" {
		t.Errorf("current nav = %q", got)
	}
}

func TestCreditHistoryEscapesDataText(t *testing.T) {
	evil := `<script>alert(1)</script>`
	_, srv := MustHistoryWorld(t, func(f *store.ImportFile) {
		f.Services[2].Name = "=cmd|' /C calc'!A0 " + evil
		f.Services[2].Unit = evil
	})
	c := MustSignIn(t, srv, historyAdmin, historyPassword)
	rec := c.Get(creditHistoryPath + "?service=notebook")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if strings.Contains(rec.Body.String(), evil) {
		t.Error("the page holds the script unescaped")
	}
	doc := MustDoc(t, rec)
	if got := testid(doc, "history-service"); !strings.Contains(got, evil) {
		t.Errorf("service cell = %q, want the name as text", got)
	}
	if doc.Find("script:not([src])").Length() != 0 {
		t.Error("an inline script made it into the page")
	}

	rec = c.Get(creditHistoryCSVPath + "?service=notebook")
	records := MustCSV(t, rec.Body.String())
	if got := records[1][2]; got != "'=cmd|' /C calc'!A0 "+evil {
		t.Errorf("service cell = %q, want it guarded with a leading apostrophe", got)
	}
}

// MustCSV parses a CSV export.
func MustCSV(t *testing.T, body string) [][]string {
	t.Helper()
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v\n%.500s", err, body)
	}
	return records
}

func TestCreditHistoryCSV(t *testing.T) {
	_, srv := MustHistoryWorld(t, nil)
	c := MustSignIn(t, srv, historyAdmin, historyPassword)

	t.Run("exports every line the filter selects, money as plain decimals", func(t *testing.T) {
		rec := c.Get(creditHistoryCSVPath + "?source=topup&source=uncovered")
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename="credit-history-acme-2026-03-20.csv"` {
			t.Errorf("Content-Disposition = %q", cd)
		}
		want := [][]string{
			historyCSVHeader,
			{"2026-03-19", "2026-03-19T12:00:00+07:00", "", "Top-up", "Top-up credit added", "", "", "", "", "", "300000", "VND"},
			{"2026-03-18", "2026-03-18T10:00:00+07:00", "Notebook", "Uncovered", "3 hours of Notebook at ₫20,000/hour", "", "", "3", "hour", "20000", "-60000", "VND"},
			{"2026-03-18", "2026-03-18T10:00:00+07:00", "Notebook", "Top-up", "2 hours of Notebook at ₫20,000/hour", "", "", "2", "hour", "20000", "-40000", "VND"},
			{"2026-03-17", "2026-03-17T10:00:00+07:00", "Notebook", "Top-up", "3 hours of Notebook at ₫20,000/hour", "", "", "3", "hour", "20000", "-60000", "VND"},
			{"2026-02-01", "2026-02-01T00:00:00+07:00", "", "Top-up", "Top-up credit added", "", "", "", "", "", "100000", "VND"},
		}
		if got := MustCSV(t, rec.Body.String()); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("CSV:\n got %q\nwant %q", got, want)
		}
	})

	t.Run("has the same lines as the pages, across every page", func(t *testing.T) {
		for _, q := range []string{"", "show_expired=1", "plan=BP-OLD", "service=gpu-h100&show_expired=1", "from=2026-03-16&to=2026-03-18"} {
			doc := MustGetPage(t, c, creditHistoryPath+"?"+q)
			rows := historyRows(doc)
			records := MustCSV(t, c.Get(creditHistoryCSVPath+"?"+q).Body.String())[1:]
			if len(records) != len(rows) {
				t.Fatalf("%q: %d CSV rows, %d page rows", q, len(records), len(rows))
			}
			for i, r := range records {
				if r[3] != rows[i].Source || r[5] != rows[i].Code || r[6] != rows[i].Status {
					t.Errorf("%q row %d: CSV %q, page %v", q, i, r, rows[i])
				}
			}
		}
	})

	t.Run("USD amounts keep their cents", func(t *testing.T) {
		db, srv := MustHistoryWorld(t, nil)
		MustCreateUser(t, db, "bo@beta.test", historyPassword, "beta", store.RoleViewer)
		c := MustSignIn(t, srv, "bo@beta.test", historyPassword)
		records := MustCSV(t, c.Get(creditHistoryCSVPath).Body.String())
		// b2: notebook 1h at the USD list price 0.80, uncovered; b1: gpu 3h at 2.00 from BETA-1.
		want := [][]string{
			historyCSVHeader,
			{"2026-03-11", "2026-03-11T10:00:00Z", "Notebook", "Uncovered", "1 hour of Notebook at $0.80/hour", "", "", "1", "hour", "0.8", "-0.80", "USD"},
			{"2026-03-10", "2026-03-10T10:00:00Z", gpuName, "Billing plan", "3 hours of GPU Container H100 at $2.00/hour", "BETA-1", "Active", "3", "hour", "2", "-6.00", "USD"},
		}
		if fmt.Sprint(records) != fmt.Sprint(want) {
			t.Errorf("CSV:\n got %q\nwant %q", records, want)
		}
	})
}

// MustHistoryKeys returns the line keys of a page and its Newer and Older links.
func MustHistoryKeys(t *testing.T, c *client, path string) (keys []string, newer, older string) {
	t.Helper()
	doc := MustGetPage(t, c, path)
	doc.Find(`[data-testid="history-row"]`).Each(func(_ int, s *goquery.Selection) {
		k, _ := s.Attr("data-line")
		keys = append(keys, k)
	})
	newer, _ = doc.Find(`[data-testid="history-newer"]`).Attr("href")
	older, _ = doc.Find(`[data-testid="history-older"]`).Attr("href")
	return keys, newer, older
}

func TestCreditHistoryKeysetPagination(t *testing.T) {
	db, srv := MustHistoryWorld(t, nil)
	// 160 more events on BP-LATE's service: gpu-h100, after BP-1 they go to
	// BP-LATE; several share an instant, so ties are broken by id. Two more
	// top-ups land at the same instants as consumption lines.
	var events []store.UsageEvent
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 160 {
		events = append(events, store.UsageEvent{ID: fmt.Sprintf("p%03d", i), AccountCode: "acme", ServiceCode: "gpu-h100",
			Quantity: decimal.RequireFromString("0.5"), At: base.Add(time.Duration(i/3) * 7 * time.Hour)})
	}
	MustApplyUsage(t, db, events)
	MustImport(t, db, store.ImportFile{Topups: []store.ImportTopup{
		{Account: "acme", Amount: "5000", At: base.Add(7 * time.Hour).Format(time.RFC3339)},
		{Account: "acme", Amount: "7000", At: base.Add(14 * 7 * time.Hour).Format(time.RFC3339)},
	}})
	c := MustSignIn(t, srv, historyAdmin, historyPassword)

	for _, q := range []string{"show_expired=1", "source=plan&source=topup"} {
		t.Run("paging through "+q+" gives every line once, in order", func(t *testing.T) {
			// The whole list, as the store streams it for the export.
			var want []string
			r := store.HistoryFilter{Today: store.NewDate(2026, 3, 20), ShowExpired: strings.Contains(q, "show_expired")}
			if strings.Contains(q, "source") {
				r.Sources = []store.CreditSource{store.SourcePlan, store.SourceTopup}
			}
			acct := MustAccount(t, db, "acme")
			err := db.EachCreditHistoryLine(context.Background(), acct, r, func(l store.HistoryLine, _ map[int64]store.Plan, _ map[int64]store.Voucher) error {
				want = append(want, l.Cursor().String())
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(want) < 2*store.HistoryPageSize+2 {
				t.Fatalf("only %d lines", len(want))
			}

			var got []string
			var pages [][]string
			path := creditHistoryPath + "?" + q
			for path != "" {
				keys, newer, older := MustHistoryKeys(t, c, path)
				if len(pages) == 0 && newer != "" {
					t.Errorf("the first page has a Newer link %q", newer)
				}
				if len(pages) > 0 && newer == "" {
					t.Errorf("page %d has no Newer link", len(pages)+1)
				}
				if older != "" && !strings.Contains(older, "before=") {
					t.Errorf("Older link %q has no cursor", older)
				}
				if !strings.Contains(older+newer, q) && older+newer != "" {
					t.Errorf("links %q %q drop the filter %q", newer, older, q)
				}
				got = append(got, keys...)
				pages = append(pages, keys)
				path = older
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paged lines differ from the whole list: got %d, want %d", len(got), len(want))
			}
			if n := len(pages[len(pages)-1]); n == 0 || n > store.HistoryPageSize {
				t.Errorf("last page has %d lines", n)
			}

			// Back up with Newer links from the last page: the same pages, in reverse.
			_, newer, _ := MustHistoryKeys(t, c, lastPagePath(t, c, creditHistoryPath+"?"+q))
			for i := len(pages) - 2; i >= 0; i-- {
				if newer == "" {
					t.Fatalf("no Newer link before page %d", i+1)
				}
				var keys []string
				keys, newer, _ = MustHistoryKeys(t, c, newer)
				if !slices.Equal(keys, pages[i]) {
					t.Errorf("page %d going back differs from going forward", i+1)
				}
			}
			if newer != "" {
				t.Errorf("the first page, reached going back, has a Newer link %q", newer)
			}
		})
	}

	t.Run("a Newer link with fewer than a page newer shows the newest page", func(t *testing.T) {
		keys, _, older := MustHistoryKeys(t, c, creditHistoryPath+"?show_expired=1")
		second, newer, _ := MustHistoryKeys(t, c, older)
		u, _ := url.Parse(newer)
		// After the 10th line of the first page, 9 lines are newer: not a page.
		u.RawQuery = strings.Replace(u.RawQuery, u.Query().Get("after"), keys[9], 1)
		got, newerAgain, _ := MustHistoryKeys(t, c, u.String())
		if !slices.Equal(got, keys) || newerAgain != "" {
			t.Errorf("got %d lines from %s, want the first page", len(got), u)
		}
		if len(second) == 0 {
			t.Error("no second page")
		}
	})

	t.Run("a cursor past the end shows an empty page with a way back", func(t *testing.T) {
		keys, newer, older := MustHistoryKeys(t, c, creditHistoryPath+"?show_expired=1&before=1_c1")
		if len(keys) != 0 || older != "" || newer == "" {
			t.Errorf("keys %v, newer %q, older %q", keys, newer, older)
		}
	})
}

// lastPagePath follows Older links from path and returns the last page's path.
func lastPagePath(t *testing.T, c *client, path string) string {
	t.Helper()
	for {
		_, _, older := MustHistoryKeys(t, c, path)
		if older == "" {
			return path
		}
		path = older
	}
}

// MustAccount returns the account with code, as a member of it sees it.
func MustAccount(t *testing.T, db *store.DB, code string) store.Account {
	t.Helper()
	u, err := db.FindUserByEmail(context.Background(), historyAdmin)
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.FindMembership(context.Background(), u.ID, code)
	if err != nil {
		t.Fatal(err)
	}
	return m.Account
}

func TestParseHistoryQuery(t *testing.T) {
	services := []string{"gpu-h100", "notebook", "storage"}
	cursor := store.HistoryCursor{At: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Kind: store.HistoryTopup, ID: 7}
	tests := []struct {
		name   string
		query  string
		want   historyQuery
		errors []string
	}{
		{"no parameters is the default", "", historyQuery{}, nil},
		{"services are sorted and deduplicated", "service=storage&service=gpu-h100&service=storage", historyQuery{Services: []string{"gpu-h100", "storage"}}, nil},
		{"sources come in consumption order, whatever their case", "source=Uncovered&source=plan&source=plan", historyQuery{Sources: []store.CreditSource{store.SourcePlan, store.SourceUncovered}}, nil},
		{"show_expired takes yes and no", "show_expired=on", historyQuery{ShowExpired: true}, nil},
		{"show_expired=0 is no", "show_expired=0", historyQuery{}, nil},
		{"a cursor round-trips", "before=" + cursor.String(), historyQuery{Before: cursor}, nil},
		{"before wins over after", "before=" + cursor.String() + "&after=" + cursor.String(), historyQuery{Before: cursor}, []string{"after"}},
		{"an end before the start is dropped", "from=2026-03-02&to=2026-03-01", historyQuery{From: store.NewDate(2026, 3, 2)}, []string{"to"}},
		{"bad values are each reported", "service=x&source=y&from=z&show_expired=w&after=v", historyQuery{}, []string{"after", "from", "service", "show_expired", "source"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.query)
			got, errs := parseHistoryQuery(v, services)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("query = %+v, want %+v", got, tt.want)
			}
			var names []string
			for k := range errs {
				names = append(names, k)
			}
			slices.Sort(names)
			if !slices.Equal(names, tt.errors) {
				t.Errorf("errors on %v (%v), want %v", names, errs, tt.errors)
			}
			// The canonical query string reads back the same.
			again, errs := parseHistoryQuery(mustParseQuery(t, got.Encode()), services)
			if len(errs) != 0 || fmt.Sprint(again) != fmt.Sprint(got) {
				t.Errorf("Encode %q reads back as %+v (%v)", got.Encode(), again, errs)
			}
		})
	}
}

func mustParseQuery(t *testing.T, s string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func FuzzParseHistoryQuery(f *testing.F) {
	f.Add("plan=BP-1&service=gpu-h100&source=plan&from=2026-03-01&to=2026-03-20&show_expired=1&before=1_c1")
	f.Add("after=1772442000000000000_v12&source=%00")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, _ := parseHistoryQuery(v, []string{"gpu-h100", "storage"})
		again, errs := parseHistoryQuery(mustParseQuery(t, q.Encode()), []string{"gpu-h100", "storage"})
		if len(errs) != 0 || fmt.Sprint(again) != fmt.Sprint(q) {
			t.Errorf("%q: Encode %q reads back as %+v (%v)", raw, q.Encode(), again, errs)
		}
	})
}
