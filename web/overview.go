package web

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
	"github.com/billingplans/billingplans/views"
)

// overview shows the current account's billing overview: its balances in
// consumption order with this month's spend from each, and the credit at risk.
func (s *Server) overview(c echo.Context) error {
	a := currentAccount(c)
	today := a.Today(s.DB.Now())
	o, err := s.DB.BillingOverview(c.Request().Context(), a, today)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.Overview(overviewPage(s.page(c, "Billing overview", views.NavOverview), o)))
}

// overviewPage returns the page's model of an overview.
func overviewPage(p views.Page, o store.Overview) views.OverviewPage {
	spent := func(src store.CreditSource) store.Money {
		return store.Money{Minor: o.SpentThisMonth.Of(src), Currency: o.TopupCredit.Currency}
	}
	m := views.OverviewPage{
		Page: p, Today: o.Today, MonthFrom: o.MonthFrom, AtRiskDays: store.AtRiskDays,
		Balances: []views.OverviewBalance{
			{Source: store.SourcePlan, Label: "Billing plans", Note: overviewCount(o.PlansInUse, "active plan", "active plans"),
				Balance: o.PlanCredit, SpentThisMonth: spent(store.SourcePlan)},
			{Source: store.SourceVoucher, Label: "Vouchers", Note: overviewCount(len(o.Vouchers), "valid voucher", "valid vouchers"),
				Balance: o.VoucherCredit, SpentThisMonth: spent(store.SourceVoucher)},
			{Source: store.SourceTopup, Label: "Top-up credit", Balance: o.TopupCredit, SpentThisMonth: spent(store.SourceTopup)},
			{Source: store.SourceUncovered, Label: "Uncovered (owed, pay-as-you-go)", Balance: o.Uncovered, SpentThisMonth: spent(store.SourceUncovered)},
		},
	}
	for _, pl := range o.Plans {
		m.Plans = append(m.Plans, views.OverviewPlan{Code: pl.Code, URL: historyPlanPath(pl.Code), Type: pl.Type, EndDate: pl.EndDate, Remaining: pl.Remaining()})
	}
	if m.MorePlans = o.PlansInUse - len(o.Plans); m.MorePlans > 0 {
		// Sorted by end date, the plan list starts where the draw order does.
		m.AllPlansURL = "/billing/plans?status=active&sort=end&dir=asc"
	}
	for _, v := range o.Vouchers {
		m.Vouchers = append(m.Vouchers, views.OverviewVoucher{Code: v.Code, ExpiryDate: v.ExpiryDate, Remaining: v.Remaining})
	}
	m.AtRiskRemaining, m.AtRiskUnused = store.Money{Currency: o.TopupCredit.Currency}, store.Money{Currency: o.TopupCredit.Currency}
	for i, r := range o.AtRisk {
		m.AtRiskRemaining, m.AtRiskUnused = m.AtRiskRemaining.Add(r.Remaining), m.AtRiskUnused.Add(r.Unused)
		if i >= overviewAtRiskRows {
			m.MoreAtRisk++
			continue
		}
		row := views.OverviewAtRisk{Source: r.Source, Code: r.Code, EndDate: r.EndDate, DaysLeft: r.DaysLeft,
			Remaining: r.Remaining, Forecast: r.Forecast, Unused: r.Unused}
		if r.Source == store.SourcePlan {
			row.URL = historyPlanPath(r.Code)
		}
		m.AtRisk = append(m.AtRisk, row)
	}
	if m.MoreAtRisk > 0 {
		q := DefaultPlanQuery()
		q.Status, q.DateField, q.From, q.To = store.StatusActive, "end", o.Today, o.Today.AddDays(store.AtRiskDays-1)
		q.Sort, q.Desc = store.SortByEnd, false
		m.AtRiskPlansURL = q.URL()
	}
	return m
}

// overviewAtRiskRows is how many credits at risk the overview lists, soonest
// end first: an account of thousands of plans can have hundreds ending within
// a month, which the plan list shows better, filtered by end date.
const overviewAtRiskRows = 20

// overviewCount returns "1 active plan" or "n active plans".
func overviewCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%s %s", views.Count(n), many)
}
