package views

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingplans/billingplans/store"
)

// PlanDetailPage is the detail page of one billing plan: quick-stat pills, the
// main card (usage overview, plan details, payment details, other
// information), the service breakdown, the daily consumption chart and the
// plan's history. The handler builds it from the store's figures and rules;
// its methods only word and format them.
type PlanDetailPage struct {
	Page Page
	Code string
	Type string
	// BackURL is the plan list the user came from, with its filter.
	BackURL string
	// RenewURL and PayURL lead to the renew and pay pages; "" hides the button
	// (the user is a viewer, or nothing is due).
	RenewURL string
	PayURL   string
	// CreditHistoryURL is the credit history filtered to this plan.
	CreditHistoryURL string
	// Location is the account's time zone, for instants.
	Location *time.Location

	Status store.Status
	Days   PlanDays

	UsagePercent decimal.Decimal
	Consumed     store.Money
	Amount       store.Money
	Remaining    store.Money
	Forecast     PlanDetailForecast

	Services  []string
	StartDate store.Date
	EndDate   store.Date

	PaymentOption store.PaymentOption
	UpfrontAmount store.Money
	UpfrontPaid   store.Money
	PaymentMethod store.PaymentMethod
	PaymentStatus store.PaymentStatus
	PaidTotal     store.Money
	AmountDue     store.Money

	CreatedAt time.Time
	CreatedBy string
	Currency  store.Currency
	Region    string

	Breakdown []PlanBreakdownRow
	// BreakdownSpent and BreakdownShare are the totals row: the sum of the
	// rows' spent amounts and of their shares.
	BreakdownSpent store.Money
	BreakdownShare decimal.Decimal

	// Chart is the DailyChart of the plan's days, prerendered; empty for a
	// plan that has not started.
	Chart Prerendered

	Payments      []PlanHistoryPayment
	PaymentsTotal int
	Renewals      []PlanHistoryRenewal
	RenewalsTotal int
	Activity      []PlanHistoryEntry
	ActivityTotal int
}

// PlanDaysState says which of its wordings the days-remaining pill uses.
type PlanDaysState int

// The states of the days-remaining pill.
const (
	// PlanDaysActive: N days remaining.
	PlanDaysActive PlanDaysState = iota
	// PlanDaysNotStarted: the whole term, starting on Start.
	PlanDaysNotStarted
	// PlanDaysEnded: expired on its end date.
	PlanDaysEnded
	// PlanDaysDepleted: expired because its balance was spent, on DepletedOn.
	PlanDaysDepleted
	// PlanDaysAwaitingPayment: within its dates, waiting for the payment that activates it.
	PlanDaysAwaitingPayment
	// PlanDaysSuspended: within its dates, suspended by an operator.
	PlanDaysSuspended
)

// PlanDays is what the days-remaining pill says.
type PlanDays struct {
	State PlanDaysState
	// Remaining is store.Plan.DaysRemaining.
	Remaining int
	Start     store.Date
	End       store.Date
	// DepletedOn is the day, in the account's time zone, the balance ran out;
	// zero when it is not known.
	DepletedOn store.Date
}

// Text returns the pill's wording: "12 days remaining", "90 days, starts on 3
// Jan 2027", "Ended on 31 Dec 2026", "Depleted on 5 Dec 2026", "Awaiting
// payment, 12 days left", "Suspended, 12 days left".
func (d PlanDays) Text() string {
	switch d.State {
	case PlanDaysNotStarted:
		return Days(d.Remaining) + ", starts on " + Date(d.Start)
	case PlanDaysEnded:
		return "Ended on " + Date(d.End)
	case PlanDaysDepleted:
		if d.DepletedOn.IsZero() {
			return "Depleted"
		}
		return "Depleted on " + Date(d.DepletedOn)
	case PlanDaysAwaitingPayment:
		return "Awaiting payment, " + Days(d.Remaining) + " left"
	case PlanDaysSuspended:
		return "Suspended, " + Days(d.Remaining) + " left"
	}
	return Days(d.Remaining) + " remaining"
}

// PlanDetailForecast is the estimate of when the plan's balance runs out, with the
// burn rate it comes from.
type PlanDetailForecast struct {
	store.Forecast
	// WindowDays is the length of the burn window in days.
	WindowDays int
	// End is the plan's end date.
	End      store.Date
	Currency store.Currency
}

// Text returns the estimate in words, or "Not active" when the plan is not
// Active and nothing is forecast.
func (f PlanDetailForecast) Text() string {
	switch f.Kind {
	case store.ForecastDepletes:
		return fmt.Sprintf("About %s at the current rate (runs out around %s)", Days(f.Days), Date(f.DepletesOn))
	case store.ForecastNoRecentUsage:
		return fmt.Sprintf("No usage in the last %s, so no estimate", Days(f.WindowDays))
	case store.ForecastOutlastsEnd:
		return fmt.Sprintf("The balance outlasts the end date: about %s will be left unused on %s", Money(f.UnusedAtEnd), Date(f.End))
	}
	return "Not active"
}

// HasRate reports whether a burn rate is shown: only for an Active plan.
func (f PlanDetailForecast) HasRate() bool { return f.Kind != store.ForecastNone }

// RateText returns the burn rate per day, rounded to the minor unit, and the
// days it is measured over: "₫1,250,000 per day (average of the last 7 days)".
func (f PlanDetailForecast) RateText() string {
	rate := store.Money{Minor: f.BurnRate.Round(0).IntPart(), Currency: f.Currency}
	return fmt.Sprintf("%s per day (average of the last %s)", Money(rate), Days(f.WindowDays))
}

// PlanBreakdownRow is one service of the service breakdown.
type PlanBreakdownRow struct {
	Service string
	// Package is the package option's name, "" when the plan names none.
	Package      string
	PricePerUnit decimal.Decimal
	Currency     store.Currency
	Unit         string
	Volume       decimal.Decimal
	Spent        store.Money
	// Share is the row's share of the plan's total spend, in percent.
	Share decimal.Decimal
}

// PriceText returns the price per unit with all its digits and the currency:
// "0.00000088 USD".
func (r PlanBreakdownRow) PriceText() string {
	return Quantity(r.PricePerUnit) + " " + string(r.Currency)
}

// PackageText returns the package option's name, or a dash for none.
func (r PlanBreakdownRow) PackageText() string {
	if r.Package == "" {
		return "—"
	}
	return r.Package
}

// PlanHistoryPayment is one payment of the plan's history.
type PlanHistoryPayment struct {
	At        time.Time
	Amount    store.Money
	Method    store.PaymentMethod
	Pending   bool
	PaidBy    string
	Reference string
}

// StatusText returns "Completed" or "Pending".
func (r PlanHistoryPayment) StatusText() string {
	if r.Pending {
		return "Pending"
	}
	return "Completed"
}

// PlanHistoryRenewal is one renewal of the plan's history.
type PlanHistoryRenewal struct {
	At         time.Time
	TermMonths int
	Price      store.Money
	OldEnd     store.Date
	NewEnd     store.Date
	RenewedBy  string
}

// TermText returns the renewal's term: "1 month", "3 months".
func (r PlanHistoryRenewal) TermText() string {
	if r.TermMonths == 1 {
		return "1 month"
	}
	return fmt.Sprintf("%d months", r.TermMonths)
}

// PlanHistoryEntry is one audit log entry of the plan.
type PlanHistoryEntry struct {
	At     time.Time
	Actor  string
	Action string
	Detail string
}

// PaymentOptionText returns the payment option as the page writes it:
// "All upfront", "Partial upfront (₫50,000,000 upfront)", "Postpaid".
func (p PlanDetailPage) PaymentOptionText() string {
	switch p.PaymentOption {
	case store.AllUpfront:
		return "All upfront"
	case store.PartialUpfront:
		return "Partial upfront (" + Money(p.UpfrontAmount) + " upfront)"
	case store.Postpaid:
		return "Postpaid"
	}
	return string(p.PaymentOption)
}

// PaymentMethodText returns the plan's payment method as the page writes it.
func (p PlanDetailPage) PaymentMethodText() string { return planDetailMethod(p.PaymentMethod) }

// MethodText returns the payment's method as the page writes it.
func (r PlanHistoryPayment) MethodText() string { return planDetailMethod(r.Method) }

func planDetailMethod(m store.PaymentMethod) string {
	switch m {
	case store.Online:
		return "Online (card or e-wallet)"
	case store.BankTransfer:
		return "Bank transfer"
	}
	return string(m)
}

// ServicesText returns the names of the services the plan covers, separated by commas.
func (p PlanDetailPage) ServicesText() string { return strings.Join(p.Services, ", ") }

// Instant returns an instant in the account's time zone.
func (p PlanDetailPage) Instant(t time.Time) string { return Instant(t, p.Location) }

// planDetailShowing returns "Showing the latest n of total." when a list is
// cut short, or "".
func planDetailShowing(n, total int) string {
	if n >= total {
		return ""
	}
	return fmt.Sprintf("Showing the latest %s of %s.", Count(n), Count(total))
}
