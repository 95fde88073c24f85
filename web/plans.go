package web

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
	"github.com/billingplans/billingplans/views"
)

// The plan list and its export.
const (
	plansPath    = "/billing/plans"
	plansCSVPath = "/billing/plans.csv"
)

// listPlans shows the billing plans of the current account: the summary
// cards of the whole account, the filter bar, and the page of plans the query
// string selects. A value of the query string that makes no sense is ignored
// with a message beside its control; a page past the end shows the last page.
// A query string that is valid but not canonical (the filter form sends every
// field, empty or not) is redirected to its canonical form, so that the
// address bar holds the link to bookmark.
func (s *Server) listPlans(c echo.Context) error {
	ctx := c.Request().Context()
	account := currentAccount(c)
	services, err := s.DB.FindAccountServices(ctx, account.ID)
	if err != nil {
		return err
	}
	q, errs := ParsePlanQuery(c.QueryParams(), serviceCodes(services))
	if len(errs) == 0 && c.QueryString() != q.Encode() {
		return c.Redirect(http.StatusSeeOther, q.URL())
	}
	today := account.Today(s.DB.Now())
	page, pastEnd, err := s.findPlanPage(ctx, account.ID, &q, today)
	if err != nil {
		return err
	}
	rows, err := s.planRowsOf(ctx, account.ID, page, q, today, currentMembership(c).IsAdmin())
	if err != nil {
		return err
	}
	sum := page.Summary

	m := views.PlanListPage{
		Page:       s.page(c, "Billing plans", views.NavPlans),
		Cards:      planCards(sum),
		HasPlans:   sum.Active+sum.Expired+sum.Inactive > 0,
		Filter:     planFilterForm(q, services, errs),
		Rows:       rows,
		Total:      page.Total,
		PageError:  cmp.Or(errs["page"], pastEnd),
		Pagination: planPagination(q, page.Total),
		Sort:       planSortLinks(q),
		CSVURL:     q.CSVURL(),
	}
	if len(page.Plans) > 0 {
		m.First = (q.Page-1)*q.PerPage + 1
		m.Last = m.First + len(page.Plans) - 1
	}
	return s.render(c, http.StatusOK, views.PlanList(m))
}

// findPlanPage returns the page of plans q asks for, with the number of plans
// its filter selects. A page past the end is replaced in q by the last page,
// and pastEnd says so.
func (s *Server) findPlanPage(ctx context.Context, accountID int64, q *PlanQuery, today store.Date) (page store.PlanPage, pastEnd string, err error) {
	if page, err = s.DB.FindPlans(ctx, accountID, q.Filter(today)); err != nil {
		return store.PlanPage{}, "", err
	}
	last := lastPlanPage(page.Total, q.PerPage)
	if q.Page <= last {
		return page, "", nil
	}
	pastEnd = fmt.Sprintf("Page %s is past the end of the list; the last page (%s) is shown.", views.Count(q.Page), views.Count(last))
	q.Page = last
	if page.Total > 0 {
		if page, err = s.DB.FindPlans(ctx, accountID, q.Filter(today)); err != nil {
			return store.PlanPage{}, "", err
		}
	}
	return page, pastEnd, nil
}

// planRowsCacheSize bounds the rows kept written out: a page of 50 rows is
// about 80 KB of HTML, so 128 pages take about 10 MB.
const planRowsCacheSize = 128

// planRowsKey is what a page's rows depend on: the plans (the account, its
// plans_version and the query, paging included, which is also the link back
// from each plan), the day (status and days remaining) and whether Pay now is
// shown (admins only).
type planRowsKey struct {
	account int64
	query   string
	today   store.Date
	admin   bool
}

// planRowsOf returns the rows of page, of the account's plans, written out, from the cache when the
// same rows were written at the same version of the account's plans.
func (s *Server) planRowsOf(ctx context.Context, accountID int64, page store.PlanPage, q PlanQuery, today store.Date, isAdmin bool) (views.Prerendered, error) {
	if len(page.Plans) == 0 {
		return views.Prerendered{}, nil
	}
	back := q.Encode()
	return prerendered(ctx, s.planRows, planRowsKey{accountID, back, today, isAdmin}, page.Version, func() templ.Component {
		rows := make([]views.PlanRow, len(page.Plans))
		for i, p := range page.Plans {
			rows[i] = planRow(p, today, back, isAdmin)
		}
		return views.PlanRows(rows)
	})
}

// serviceCodes returns the codes of services.
func serviceCodes(services []store.Service) []string {
	codes := make([]string, len(services))
	for i, s := range services {
		codes[i] = s.Code
	}
	return codes
}

// planCards returns the summary cards of an account's summary.
func planCards(s store.Summary) views.PlanCards {
	change, ok := s.SpentChange()
	return views.PlanCards{
		Active: s.Active, Expired: s.Expired,
		TotalSpent: s.TotalSpent, SpentChange: change, HasSpentChange: ok,
		TotalAmount: s.TotalAmount, RemainingActive: s.RemainingActive,
	}
}

// planFilterForm returns the filter bar set to q, with a message for each
// value of the query string that was ignored.
func planFilterForm(q PlanQuery, services []store.Service, errs QueryErrors) views.PlanFilterForm {
	f := views.PlanFilterForm{
		Action: plansPath, Q: q.Q, Status: string(q.Status),
		DateField: q.DateField, From: q.From.String(), To: q.To.String(),
		Sort: string(q.Sort), Dir: planDir(q.Desc), PerPage: q.PerPage,
		PerPageChoices: planPerPageChoices, Errors: errs,
		Filtered: q.Filtered(), ClearURL: q.Cleared().URL(),
	}
	for _, s := range services {
		selected := false
		for _, code := range q.Services {
			selected = selected || code == s.Code
		}
		f.Services = append(f.Services, views.PlanServiceChoice{Code: s.Code, Name: s.Name, Selected: selected})
	}
	return f
}

// planRow returns the row of plan p on today. back is the list's query string,
// for the plan's page to link back to; Pay now is shown to admins only, on
// plans not fully paid.
func planRow(p store.Plan, today store.Date, back string, isAdmin bool) views.PlanRow {
	r := views.PlanRow{
		Code: p.Code, Type: p.Type, URL: planPath(p.Code),
		StartDate: p.StartDate, EndDate: p.EndDate,
		DaysRemaining: p.DaysRemaining(today), NotStarted: today.Before(p.StartDate),
		Status: p.Status(today), Consumed: p.Consumed, Amount: p.Amount,
		UsagePercent: p.UsagePercent(), PaymentStatus: p.PaymentStatus(),
	}
	if back != "" {
		r.URL += "?back=" + url.QueryEscape(back)
	}
	if isAdmin && r.PaymentStatus != store.Paid {
		r.PayURL = planPath(p.Code) + "/pay"
	}
	for _, s := range p.Services {
		r.Services = append(r.Services, s.Service.Name)
	}
	return r
}

// planPath returns the path of the page of the plan with code.
func planPath(code string) string { return plansPath + "/" + url.PathEscape(code) }

// planPagination returns the links between the pages of total plans: the
// first and last page, and two on either side of the current one.
func planPagination(q PlanQuery, total int) views.PlanPagination {
	last := lastPlanPage(total, q.PerPage)
	var p views.PlanPagination
	if q.Page > 1 {
		p.Prev = q.WithPage(q.Page - 1).URL()
	}
	if q.Page < last {
		p.Next = q.WithPage(q.Page + 1).URL()
	}
	const around = 2
	for n := 1; n <= last; n++ {
		if n != 1 && n != last && (n < q.Page-around || n > q.Page+around) {
			if len(p.Pages) > 0 && !p.Pages[len(p.Pages)-1].Gap {
				p.Pages = append(p.Pages, views.PlanPageLink{Gap: true})
			}
			// Jump over the numbers that are not shown.
			if n < q.Page-around {
				n = q.Page - around - 1
			} else {
				n = last - 1
			}
			continue
		}
		p.Pages = append(p.Pages, views.PlanPageLink{Number: n, URL: q.WithPage(n).URL(), Current: n == q.Page})
	}
	return p
}

// planSortLinks returns the header links: the column the list is sorted by
// turns its direction over; another starts with its natural direction (plan
// codes A to Z, dates, usage and amounts largest first).
func planSortLinks(q PlanQuery) views.PlanSortLinks {
	link := func(s store.PlanSort) views.PlanSortLink {
		active := q.Sort == s
		desc := s != store.SortByCode
		if active {
			desc = !q.Desc
		}
		return views.PlanSortLink{URL: q.WithSort(s, desc).URL(), Active: active, Desc: active && q.Desc}
	}
	return views.PlanSortLinks{
		Code: link(store.SortByCode), Start: link(store.SortByStart), End: link(store.SortByEnd),
		Usage: link(store.SortByUsage), Amount: link(store.SortByAmount),
	}
}
