package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/billingplans/billingplans/store"
	"github.com/billingplans/billingplans/views"
)

// planDetailListPath is the plan list, where the detail page's breadcrumb leads.
const planDetailListPath = "/billing/plans"

// planDetailMaxBack bounds the list query the breadcrumb carries back; a longer
// one is not a query the list wrote.
const planDetailMaxBack = 4096

// showPlan shows the detail page of the current account's plan with the code
// of the path. A code the account does not have, another account's included,
// is a 404.
func (s *Server) showPlan(c echo.Context) error {
	m := currentMembership(c)
	d, err := s.DB.PlanDetail(c.Request().Context(), m.Account.ID, c.Param("code"))
	if err != nil {
		return err
	}
	chart, err := s.planChart(c.Request().Context(), m.Account.ID, d)
	if err != nil {
		return err
	}
	p := s.page(c, d.Plan.Code, views.NavPlans)
	page := planDetailPage(p, d, m.IsAdmin(), planDetailBackURL(c.QueryParam("back")))
	page.Chart = chart
	return s.render(c, http.StatusOK, views.PlanDetail(page))
}

// planChartsCacheSize bounds the plan charts kept written out: a chart of two
// years is about 100 KB of HTML, so 128 charts take about 13 MB.
const planChartsCacheSize = 128

// planChartKey is what a plan's chart depends on besides the account's plans
// version: the plan and the day (the forecast runs from today).
type planChartKey struct {
	account, plan int64
	today         store.Date
}

// planChart returns the daily chart of the plan of d written out, from the
// cache when it was written at the same version of the account's plans; an
// empty one for a plan that has not started. Writing the chart of two years
// (730 bars and the table beside them) was two thirds of the page's time.
func (s *Server) planChart(ctx context.Context, accountID int64, d store.PlanDetail) (views.Prerendered, error) {
	if len(d.Daily)+len(d.Projected) == 0 {
		return views.Prerendered{}, nil
	}
	return prerendered(ctx, s.planCharts, planChartKey{accountID, d.Plan.ID, d.Today}, d.Version, func() templ.Component {
		return views.DailyChart(planDetailChart(d))
	})
}

// planDetailChart returns the chart of the plan's daily consumption: the days
// so far, then the forecast's.
func planDetailChart(d store.PlanDetail) views.Chart {
	chart := views.Chart{
		Title:    "Daily consumption",
		TestID:   "usage-chart",
		Currency: d.Plan.Amount.Currency,
		Series:   []views.ChartSeries{{Name: "Consumed", Class: "series-consumption"}},
		Days:     make([]views.ChartDay, 0, len(d.Daily)+len(d.Projected)),
	}
	// One backing array for every day's single value, instead of a slice each.
	values := make([]int64, 0, len(d.Daily)+len(d.Projected))
	add := func(day store.DaySpend, forecast bool) {
		values = append(values, day.Amount.Minor)
		n := len(values)
		chart.Days = append(chart.Days, views.ChartDay{Day: day.Day, Values: values[n-1 : n : n], Forecast: forecast})
	}
	for _, day := range d.Daily {
		add(day, false)
	}
	for _, day := range d.Projected {
		add(day, true)
	}
	return chart
}

// planDetailBackURL returns the plan list with the query string back, the filter
// the user came from. back is accepted only as a query string and is encoded
// again, so whatever it holds ("//evil.example", "https://...", "/../x")
// becomes parameters of the list, never another path or host. A back that does
// not parse leads to the unfiltered list.
func planDetailBackURL(back string) string {
	if back == "" || len(back) > planDetailMaxBack {
		return planDetailListPath
	}
	v, err := url.ParseQuery(back)
	if err != nil || len(v) == 0 {
		return planDetailListPath
	}
	return planDetailListPath + "?" + v.Encode()
}

// planPath returns the path of the plan's detail page, plus suffix.
func planDetailPath(code, suffix string) string {
	return planDetailListPath + "/" + url.PathEscape(code) + suffix
}

// planDetailPage builds the detail page's view model from the store's figures:
// every number comes from the rules of store.Plan.
func planDetailPage(p views.Page, d store.PlanDetail, admin bool, backURL string) views.PlanDetailPage {
	plan, today := d.Plan, d.Today
	cur := plan.Amount.Currency
	page := views.PlanDetailPage{
		Page:             p,
		Code:             plan.Code,
		Type:             plan.Type,
		BackURL:          backURL,
		CreditHistoryURL: "/billing/credit-history?" + url.Values{"plan": {plan.Code}}.Encode(),
		Location:         d.Location,
		Status:           plan.Status(today),
		Days:             planDetailDays(d),
		UsagePercent:     plan.UsagePercent(),
		Consumed:         plan.Consumed,
		Amount:           plan.Amount,
		Remaining:        plan.Remaining(),
		Forecast: views.PlanDetailForecast{
			Forecast: d.Forecast, WindowDays: d.BurnDays, End: plan.EndDate, Currency: cur,
		},
		StartDate:     plan.StartDate,
		EndDate:       plan.EndDate,
		PaymentOption: plan.PaymentOption,
		UpfrontAmount: plan.UpfrontAmount,
		UpfrontPaid:   plan.PaidUpfront,
		PaymentMethod: plan.PaymentMethod,
		PaymentStatus: plan.PaymentStatus(),
		PaidTotal:     plan.PaidTotal,
		AmountDue:     plan.AmountDue(),
		CreatedAt:     plan.CreatedAt,
		CreatedBy:     plan.CreatedBy,
		Currency:      cur,
		Region:        plan.Region,
		PaymentsTotal: d.PaymentsTotal,
		RenewalsTotal: d.RenewalsTotal,
		ActivityTotal: d.AuditTotal,
	}
	if admin {
		page.RenewURL = planDetailPath(plan.Code, "/renew")
		if page.AmountDue.Minor > 0 {
			page.PayURL = planDetailPath(plan.Code, "/pay")
		}
	}

	spent := make([]int64, len(plan.Services))
	for i, ps := range plan.Services {
		spent[i] = ps.Spent.Minor
	}
	shares := store.SharesOfTotal(spent)
	page.BreakdownSpent = store.Money{Currency: cur}
	page.BreakdownShare = decimal.New(0, -1)
	for i, ps := range plan.Services {
		page.Services = append(page.Services, ps.Service.Name)
		page.Breakdown = append(page.Breakdown, views.PlanBreakdownRow{
			Service:      ps.Service.Name,
			Package:      ps.PackageName,
			PricePerUnit: ps.PricePerUnit,
			Currency:     cur,
			Unit:         ps.Service.Unit,
			Volume:       ps.Volume,
			Spent:        ps.Spent,
			Share:        shares[i],
		})
		page.BreakdownSpent = page.BreakdownSpent.Add(ps.Spent)
		page.BreakdownShare = page.BreakdownShare.Add(shares[i])
	}

	for _, r := range d.Payments {
		page.Payments = append(page.Payments, views.PlanHistoryPayment{
			At: r.At(), Amount: r.Amount, Method: r.Method, Pending: r.Pending, PaidBy: r.PaidBy, Reference: r.Reference,
		})
	}
	for _, r := range d.Renewals {
		page.Renewals = append(page.Renewals, views.PlanHistoryRenewal{
			At: r.RenewedAt, TermMonths: r.TermMonths, Price: r.Price, OldEnd: r.OldEndDate, NewEnd: r.NewEndDate, RenewedBy: r.RenewedBy,
		})
	}
	for _, e := range d.Audit {
		page.Activity = append(page.Activity, views.PlanHistoryEntry{At: e.At, Actor: e.Actor, Action: e.Action, Detail: e.Detail})
	}
	return page
}

// planDays returns what the days-remaining pill says of the plan on the
// detail's day: which case of the rules applies and its dates.
func planDetailDays(d store.PlanDetail) views.PlanDays {
	plan, today := d.Plan, d.Today
	days := views.PlanDays{Remaining: plan.DaysRemaining(today), Start: plan.StartDate, End: plan.EndDate}
	switch plan.Status(today) {
	case store.StatusActive:
		days.State = views.PlanDaysActive
	case store.StatusExpired:
		days.State = views.PlanDaysEnded
		// A plan consumes only within its dates, so a depleted plan ran out
		// before its end date: depletion is why it expired.
		if plan.IsDepleted() {
			days.State = views.PlanDaysDepleted
			if plan.DepletedAt != nil {
				days.DepletedOn = store.DateOf(*plan.DepletedAt, d.Location)
			}
		}
	default:
		switch {
		case today.Before(plan.StartDate):
			days.State = views.PlanDaysNotStarted
		case plan.Suspended:
			// Paying would not make a suspended plan usable, so that is what it says.
			days.State = views.PlanDaysSuspended
		default:
			days.State = views.PlanDaysAwaitingPayment
		}
	}
	return days
}
