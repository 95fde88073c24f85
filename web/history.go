package web

// The credit history page: its query string (parsed leniently: a value that
// makes no sense is dropped with a message beside its control, never an error
// page), and the handler that reads a page of lines and the chart.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
	"github.com/billingplans/billingplans/views"
)

// The credit history's paths.
const (
	creditHistoryPath    = "/billing/credit-history"
	creditHistoryCSVPath = "/billing/credit-history.csv"
)

// historyChartDays is how many days the chart shows when the filter sets no
// start date: the 30 days ending on its end date (or today).
const historyChartDays = 30

// historyQuery is what the credit history shows, as its query string says.
type historyQuery struct {
	// Plan is a plan code (resolved to PlanID by the handler).
	Plan   string
	PlanID int64
	// Services are service codes, sorted, without repeats.
	Services []string
	// Sources are credit sources, in consumption order, without repeats.
	Sources     []store.CreditSource
	From, To    store.Date
	ShowExpired bool
	// Before and After are the page's cursor; at most one is set.
	Before, After store.HistoryCursor
}

// historyErrors maps a query parameter to why its value was ignored.
type historyErrors map[string]string

// parseHistoryQuery reads the credit history's query string. services are the
// codes of the services lines can be of. A value that makes no sense (an
// unknown service or source, a bad date, from after to, a show_expired that is
// not a yes or no, a bad cursor) is ignored, and the errors say so under the
// parameter's name; it never fails. The plan code is kept as given: only the
// database can tell whether the account has it.
func parseHistoryQuery(v url.Values, services []string) (historyQuery, historyErrors) {
	var q historyQuery
	errs := historyErrors{}
	first := func(name string) string { return strings.TrimSpace(v.Get(name)) }

	q.Plan = first("plan")

	var unknown []string
	q.Services, unknown = pickServices(v["service"], services)
	if len(unknown) > 0 {
		errs["service"] = fmt.Sprintf("There is no service %s; it is ignored.", historyValues(unknown))
	}

	unknown = nil
	for _, s := range v["source"] {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" {
			continue
		}
		src := store.CreditSource(s)
		switch {
		case slices.Contains(store.CreditSources, src):
			if !slices.Contains(q.Sources, src) {
				q.Sources = append(q.Sources, src)
			}
		case !slices.Contains(unknown, s):
			unknown = append(unknown, s)
		}
	}
	slices.SortFunc(q.Sources, func(a, b store.CreditSource) int {
		return slices.Index(store.CreditSources, a) - slices.Index(store.CreditSources, b)
	})
	if len(unknown) > 0 {
		errs["source"] = fmt.Sprintf("%s is not a credit source (plan, voucher, topup or uncovered); it is ignored.", historyValues(unknown))
	}

	for _, name := range []string{"from", "to"} {
		s := first(name)
		if s == "" {
			continue
		}
		d, err := store.ParseDate(s)
		if err != nil {
			errs[name] = fmt.Sprintf("%s is not a date (YYYY-MM-DD); it is ignored.", historyValue(s))
			continue
		}
		if name == "from" {
			q.From = d
		} else {
			q.To = d
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To) {
		errs["to"] = fmt.Sprintf("The end of the date range (%s) is before its start (%s); it is ignored.", q.To, q.From)
		q.To = store.Date{}
	}

	switch s := strings.ToLower(first("show_expired")); s {
	case "":
	case "1", "on", "true", "yes":
		q.ShowExpired = true
	case "0", "off", "false", "no":
	default:
		errs["show_expired"] = fmt.Sprintf("%s is not a yes (1) or no (0); expired credit stays hidden.", historyValue(first("show_expired")))
	}

	for _, name := range []string{"before", "after"} {
		s := first(name)
		if s == "" {
			continue
		}
		c, err := store.ParseHistoryCursor(s)
		switch {
		case err != nil:
			errs[name] = fmt.Sprintf("%s is not a place in the credit history; the newest lines are shown.", historyValue(s))
		case name == "after" && !q.Before.IsZero():
			errs[name] = "A page is either before or after a line, not both; the page before it is shown."
		case name == "before":
			q.Before = c
		default:
			q.After = c
		}
	}
	return q, errs
}

// historyValue returns a value of the query string for a message: in quotes,
// and cut short when long, so that a huge parameter does not make a huge page.
func historyValue(s string) string {
	const limit = 40
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit]) + "…"
	}
	return "“" + s + "”"
}

// historyValues returns several values for a message, each as historyValue.
func historyValues(values []string) string {
	quoted := make([]string, len(values))
	for i, s := range values {
		quoted[i] = historyValue(s)
	}
	return strings.Join(quoted, ", ")
}

// Encode returns the query string of q, without "?", in one order (plan,
// service..., source..., from, to, show_expired, before, after): two queries
// that show the same lines encode the same, and parseHistoryQuery of the
// result gives q back (but PlanID, which the handler resolves).
func (q historyQuery) Encode() string {
	v := make([]string, 0, 8)
	add := func(name, value string) { v = append(v, name+"="+url.QueryEscape(value)) }
	if q.Plan != "" {
		add("plan", q.Plan)
	}
	for _, s := range q.Services {
		add("service", s)
	}
	for _, s := range q.Sources {
		add("source", string(s))
	}
	if !q.From.IsZero() {
		add("from", q.From.String())
	}
	if !q.To.IsZero() {
		add("to", q.To.String())
	}
	if q.ShowExpired {
		add("show_expired", "1")
	}
	if !q.Before.IsZero() {
		add("before", q.Before.String())
	}
	if !q.After.IsZero() {
		add("after", q.After.String())
	}
	return strings.Join(v, "&")
}

// url returns base with q's query string, if any.
func (q historyQuery) url(base string) string {
	if s := q.Encode(); s != "" {
		return base + "?" + s
	}
	return base
}

// atPage returns q on the page before (older) or after (newer) cursor c.
func (q historyQuery) atPage(before, after store.HistoryCursor) historyQuery {
	q.Before, q.After = before, after
	return q
}

// filtered reports whether q leaves any line out, beyond the default of
// hiding expired credit.
func (q historyQuery) filtered() bool {
	return q.Plan != "" || len(q.Services) > 0 || len(q.Sources) > 0 || !q.From.IsZero() || !q.To.IsZero() || q.ShowExpired
}

// filter returns the store's filter of q, with statuses judged on today.
// serviceIDs maps service codes to ids.
func (q historyQuery) filter(today store.Date, serviceIDs map[string]int64) store.HistoryFilter {
	f := store.HistoryFilter{PlanID: q.PlanID, Sources: q.Sources, From: q.From, To: q.To, ShowExpired: q.ShowExpired, Today: today}
	for _, s := range q.Services {
		f.ServiceIDs = append(f.ServiceIDs, serviceIDs[s])
	}
	return f
}

// chartPeriod returns the days the chart covers: the filter's date range,
// where an open end is today (or the start date, when that is later) and an
// open start the historyChartDays days up to the end; a range longer than
// store.MaxHistoryChartDays keeps its last days. note says when the period is
// not the range asked for.
func (q historyQuery) chartPeriod(today store.Date) (from, to store.Date, note string) {
	to = q.To
	if to.IsZero() {
		to = today
		if !q.From.IsZero() && q.From.After(today) {
			to = q.From
		}
	}
	from = q.From
	if from.IsZero() {
		from = to.AddDays(1 - historyChartDays)
	}
	if from.DaysUntil(to)+1 > store.MaxHistoryChartDays {
		from = to.AddDays(1 - store.MaxHistoryChartDays)
		note = fmt.Sprintf("The chart shows the last %d days of the date range; the table lists every line.", store.MaxHistoryChartDays)
	}
	return from, to, note
}

// historyRequest is a parsed credit history request: the account, today, the
// query with its errors, and the services it can name.
type historyRequest struct {
	account  store.Account
	today    store.Date
	query    historyQuery
	errs     historyErrors
	services []store.Service
	filter   store.HistoryFilter
	// rawPlan is the plan parameter as sent, kept when it names no plan.
	rawPlan string
}

// parseHistoryRequest reads the query string of a credit history request of
// the current account, and resolves its plan code; an unknown plan code is
// ignored with a message, as any other bad value.
func (s *Server) parseHistoryRequest(c echo.Context) (historyRequest, error) {
	ctx := c.Request().Context()
	r := historyRequest{account: currentAccount(c)}
	r.today = r.account.Today(s.DB.Now())
	var err error
	if r.services, err = s.DB.FindHistoryServices(ctx); err != nil {
		return r, err
	}
	codes := make([]string, len(r.services))
	ids := make(map[string]int64, len(r.services))
	for i, svc := range r.services {
		codes[i], ids[svc.Code] = svc.Code, svc.ID
	}
	r.query, r.errs = parseHistoryQuery(c.QueryParams(), codes)
	r.rawPlan = r.query.Plan
	if r.query.Plan != "" {
		p, err := s.DB.FindPlan(ctx, r.account.ID, r.query.Plan)
		switch {
		case store.ErrorCode(err) == store.ENOTFOUND:
			r.errs["plan"] = fmt.Sprintf("There is no billing plan %s in this account; it is ignored.", historyValue(r.query.Plan))
			r.query.Plan = ""
		case err != nil:
			return r, err
		default:
			r.query.PlanID = p.ID
		}
	}
	r.filter = r.query.filter(r.today, ids)
	return r, nil
}

// creditHistory shows a page of the current account's credit history with the
// chart of its daily consumption.
func (s *Server) creditHistory(c echo.Context) error {
	ctx := c.Request().Context()
	r, err := s.parseHistoryRequest(c)
	if err != nil {
		return err
	}
	q := r.query
	page, err := s.DB.FindCreditHistory(ctx, r.account, r.filter, q.Before, q.After, store.HistoryPageSize)
	if err != nil {
		return err
	}
	from, to, note := q.chartPeriod(r.today)
	spend, err := s.DB.CreditHistorySpend(ctx, r.account, r.filter, from, to)
	if err != nil {
		return err
	}
	m := views.CreditHistoryPage{
		Page:       s.page(c, "Credit history", views.NavCreditHistory),
		Filter:     historyFilterForm(r),
		PeriodFrom: spend[0].Day, PeriodTo: to, ChartNote: note,
		CSVURL: q.atPage(store.HistoryCursor{}, store.HistoryCursor{}).url(creditHistoryCSVPath),
	}
	m.Chart, m.Totals = historyChart(r.account.Currency, spend)
	loc := r.account.Location()
	for _, l := range page.Lines {
		m.Rows = append(m.Rows, historyRow(l, page.Plans, page.Vouchers, r.today, loc))
	}
	if !page.Newer.IsZero() {
		m.NewerURL = q.atPage(store.HistoryCursor{}, page.Newer).url(creditHistoryPath)
	}
	if !page.Older.IsZero() {
		m.OlderURL = q.atPage(page.Older, store.HistoryCursor{}).url(creditHistoryPath)
	}
	return s.render(c, http.StatusOK, views.CreditHistory(m))
}

// historyFilterForm returns the filter bar's model of a request.
func historyFilterForm(r historyRequest) views.HistoryFilterForm {
	q := r.query
	f := views.HistoryFilterForm{
		Action: creditHistoryPath, Plan: q.Plan, ShowExpired: q.ShowExpired,
		From: q.From.String(), To: q.To.String(), Errors: r.errs,
		Filtered: q.filtered(), ClearURL: creditHistoryPath,
	}
	if r.errs["plan"] != "" {
		// The code typed stays in its box beside the message, to be corrected.
		f.Plan = strings.TrimSpace(r.rawPlan)
	}
	for _, svc := range r.services {
		f.Services = append(f.Services, views.HistoryOption{Value: svc.Code, Label: svc.Name, Selected: slices.Contains(q.Services, svc.Code)})
	}
	for _, src := range store.CreditSources {
		f.Sources = append(f.Sources, views.HistoryOption{Value: string(src), Label: src.Label(), Selected: slices.Contains(q.Sources, src)})
	}
	return f
}

// historySeries are the chart's series, bottom first, in consumption order.
var historySeries = []views.ChartSeries{
	{Name: "Billing plan", Class: "series-plan"},
	{Name: "Voucher", Class: "series-voucher"},
	{Name: "Top-up", Class: "series-topup"},
	{Name: "Uncovered", Class: "series-uncovered"},
}

// historyChart returns the chart of the daily spend and its totals per source.
func historyChart(c store.Currency, spend []store.DailySpend) (views.Chart, []views.HistoryTotal) {
	chart := views.Chart{Title: "Daily consumption by credit source", TestID: "history-daily-chart", Currency: c, Series: historySeries}
	totals := make([]views.HistoryTotal, len(store.CreditSources))
	for i, src := range store.CreditSources {
		totals[i] = views.HistoryTotal{Source: src, Amount: store.Money{Currency: c}}
	}
	for _, d := range spend {
		day := views.ChartDay{Day: d.Day, Values: make([]int64, len(store.CreditSources))}
		for i, src := range store.CreditSources {
			day.Values[i] = d.Drawn.Of(src)
			totals[i].Amount.Minor += d.Drawn.Of(src)
		}
		chart.Days = append(chart.Days, day)
	}
	return chart, totals
}

// historyRow returns the table's model of a line: its plan's or voucher's code
// and status today come from plans and vouchers.
func historyRow(l store.HistoryLine, plans map[int64]store.Plan, vouchers map[int64]store.Voucher, today store.Date, loc *time.Location) views.HistoryRow {
	r := views.HistoryRow{
		Key: l.Cursor().String(), Kind: l.Kind, At: l.At, Day: l.Day, Location: loc, Source: l.Source,
		Service: l.Service.Name, Unit: l.Service.Unit, Quantity: l.Quantity, UnitPrice: l.UnitPrice, Amount: l.Amount,
	}
	if p, ok := plans[l.PlanID]; ok && l.PlanID != 0 {
		r.Code, r.CodeURL, r.PlanStatus = p.Code, historyPlanPath(p.Code), p.Status(today)
	}
	if v, ok := vouchers[l.VoucherID]; ok && l.VoucherID != 0 {
		r.Code, r.VoucherStatus = v.Code, v.Status(today)
	}
	return r
}

// historyPlanPath returns the path of the page of the plan with code.
func historyPlanPath(code string) string { return "/billing/plans/" + url.PathEscape(code) }
