package store

// The rules of spec/domain.md as plain functions with no I/O. Every figure a page
// shows about a plan comes from here.

import (
	"time"

	"github.com/shopspring/decimal"
)

// Status is where a plan stands today.
type Status string

// The three statuses of a plan.
const (
	StatusActive   Status = "active"
	StatusExpired  Status = "expired"
	StatusInactive Status = "inactive"
)

// Label returns the status as the pages write it.
func (s Status) Label() string {
	switch s {
	case StatusActive:
		return "Active"
	case StatusExpired:
		return "Expired"
	}
	return "Inactive"
}

// PaymentStatus says how much of a plan's amount has been paid.
type PaymentStatus string

// The payment statuses of a plan.
const (
	Paid          PaymentStatus = "paid"
	PartiallyPaid PaymentStatus = "partially_paid"
	Unpaid        PaymentStatus = "unpaid"
)

// Label returns the payment status as the pages write it.
func (s PaymentStatus) Label() string {
	switch s {
	case Paid:
		return "Paid"
	case PartiallyPaid:
		return "Partially paid"
	}
	return "Unpaid"
}

// IsDepleted reports whether the plan's balance is spent.
func (p Plan) IsDepleted() bool {
	return p.Amount.Minor > 0 && p.Consumed.Minor >= p.Amount.Minor
}

// RequiredBeforeUse returns what must be received before the plan may be used:
// the whole amount for all upfront, the upfront amount for partial upfront,
// nothing for postpaid.
func (p Plan) RequiredBeforeUse() Money {
	switch p.PaymentOption {
	case AllUpfront:
		return p.Amount
	case PartialUpfront:
		return p.UpfrontAmount
	}
	return Money{Currency: p.Amount.Currency}
}

// IsActivated reports whether the plan was activated: the money received reached
// what its payment option requires. Activation, once reached, is kept (a renewal
// that raises the amount does not take it back).
func (p Plan) IsActivated() bool { return p.ActivatedAt != nil }

// Status returns the plan's status on the given day: Expired after its end date
// or once depleted; Active within its dates when activated and not suspended;
// Inactive otherwise.
func (p Plan) Status(today Date) Status {
	switch {
	case today.After(p.EndDate) || p.IsDepleted():
		return StatusExpired
	case !today.Before(p.StartDate) && p.IsActivated() && !p.Suspended:
		return StatusActive
	}
	return StatusInactive
}

// PaymentStatus returns Paid when the paid total reaches the plan amount, Unpaid
// when nothing is paid, Partially paid in between.
func (p Plan) PaymentStatus() PaymentStatus {
	switch {
	case p.PaidTotal.Minor >= p.Amount.Minor:
		return Paid
	case p.PaidTotal.Minor <= 0:
		return Unpaid
	}
	return PartiallyPaid
}

// AmountDue returns the plan amount minus the paid total, never below zero.
func (p Plan) AmountDue() Money {
	due := p.Amount.Sub(p.PaidTotal)
	if due.Minor < 0 {
		due.Minor = 0
	}
	return due
}

// Remaining returns the plan amount minus what it consumed, never below zero.
func (p Plan) Remaining() Money {
	r := p.Amount.Sub(p.Consumed)
	if r.Minor < 0 {
		r.Minor = 0
	}
	return r
}

// UsagePercent returns consumed ÷ amount as a percentage with one decimal
// (half away from zero); 0 for a plan of no amount.
func (p Plan) UsagePercent() decimal.Decimal {
	return Percent(p.Consumed.Minor, p.Amount.Minor)
}

// Percent returns part ÷ whole × 100 with one decimal, or 0 when whole is 0.
func Percent(part, whole int64) decimal.Decimal {
	if whole == 0 {
		return decimal.Zero
	}
	return decimal.NewFromInt(part).Mul(decimal.NewFromInt(100)).DivRound(decimal.NewFromInt(whole), 1)
}

// DaysRemaining returns the days from today to the end date, both counted, for
// an Active plan; 0 for an Expired one; the whole term for one not started yet.
// An Inactive plan within its dates (waiting for payment, suspended) has the days
// from today to its end, as an Active one.
func (p Plan) DaysRemaining(today Date) int {
	switch p.Status(today) {
	case StatusExpired:
		return 0
	case StatusInactive:
		if today.Before(p.StartDate) {
			return p.TermDays()
		}
	}
	return today.DaysUntil(p.EndDate) + 1
}

// TermDays returns the days from the start date to the end date, both counted.
func (p Plan) TermDays() int { return p.StartDate.DaysUntil(p.EndDate) + 1 }

// BurnWindow returns the days the burn rate is measured over on the given day:
// the last 7 whole days before today, fewer when the plan is younger, at least 1.
// from and to are inclusive.
func (p Plan) BurnWindow(today Date) (from, to Date, days int) {
	days = p.StartDate.DaysUntil(today)
	if days > 7 {
		days = 7
	}
	if days < 1 {
		days = 1
	}
	return today.AddDays(-days), today.AddDays(-1), days
}

// ForecastKind says which of the depletion forecast's cases applies.
type ForecastKind int

// The cases of the depletion forecast.
const (
	// ForecastNone: the plan is not Active, so nothing is forecast.
	ForecastNone ForecastKind = iota
	// ForecastNoRecentUsage: nothing was consumed in the burn window.
	ForecastNoRecentUsage
	// ForecastDepletes: at the burn rate the balance runs out on or before the end date.
	ForecastDepletes
	// ForecastOutlastsEnd: the balance outlasts the end date; UnusedAtEnd is left over.
	ForecastOutlastsEnd
)

// Forecast is the estimate of when a plan's balance runs out.
type Forecast struct {
	Kind ForecastKind
	// BurnRate is the average spend per day in minor units, to 16 decimals.
	BurnRate decimal.Decimal
	// Days is the days until depleted, rounded up (ForecastDepletes).
	Days int
	// DepletesOn is the day the balance is forecast to run out (ForecastDepletes).
	DepletesOn Date
	// UnusedAtEnd is the amount forecast to be left at the end date (ForecastOutlastsEnd).
	UnusedAtEnd Money
}

// Forecast returns the depletion forecast of the plan on the given day, given what
// it consumed in its BurnWindow.
func (p Plan) Forecast(today Date, spentInWindow Money) Forecast {
	if p.Status(today) != StatusActive {
		return Forecast{Kind: ForecastNone}
	}
	_, _, days := p.BurnWindow(today)
	if spentInWindow.Minor <= 0 {
		return Forecast{Kind: ForecastNoRecentUsage}
	}
	spent := decimal.NewFromInt(spentInWindow.Minor)
	window := decimal.NewFromInt(int64(days))
	rate := spent.Div(window)
	// The rate itself is rounded (10 ÷ 3), so the days and the unused amount are
	// worked out from the integers it comes from, with integer division:
	// days = ⌈remaining × window ÷ spent⌉, unused = ⌊remaining − spent × left ÷ window⌋.
	remaining := decimal.NewFromInt(p.Remaining().Minor)
	toDepletion, rest := remaining.Mul(window).QuoRem(spent, 0)
	if rest.Sign() > 0 {
		toDepletion = toDepletion.Add(decimal.NewFromInt(1))
	}
	left := p.DaysRemaining(today)
	if !toDepletion.GreaterThan(decimal.NewFromInt(int64(left))) {
		n := int(toDepletion.IntPart())
		return Forecast{Kind: ForecastDepletes, BurnRate: rate, Days: n, DepletesOn: today.AddDays(n - 1)}
	}
	// Positive, because the balance outlasts the left days: floor is truncation.
	unused, _ := remaining.Mul(window).Sub(spent.Mul(decimal.NewFromInt(int64(left)))).QuoRem(window, 0)
	return Forecast{Kind: ForecastOutlastsEnd, BurnRate: rate, UnusedAtEnd: Money{Minor: unused.IntPart(), Currency: p.Amount.Currency}}
}

// Summary holds the four summary cards of the plan list, for a whole account.
type Summary struct {
	Active   int
	Expired  int
	Inactive int
	// TotalSpent is consumed across all plans.
	TotalSpent Money
	// SpentThisMonth is plan spend from the 1st of this month to today;
	// SpentLastMonth the same span of the previous month.
	SpentThisMonth Money
	SpentLastMonth Money
	// TotalAmount is the sum of all plan amounts.
	TotalAmount Money
	// RemainingActive is the remaining unused amount of the Active plans.
	RemainingActive Money
}

// Count returns how many plans have the status, or all of them for "".
func (s Summary) Count(status Status) int {
	switch status {
	case StatusActive:
		return s.Active
	case StatusExpired:
		return s.Expired
	case StatusInactive:
		return s.Inactive
	}
	return s.Active + s.Expired + s.Inactive
}

// SpentChange returns the month-over-month change of spend in percent with one
// decimal, and false when last month's span had no spend (no figure is shown).
func (s Summary) SpentChange() (decimal.Decimal, bool) {
	if s.SpentLastMonth.Minor == 0 {
		return decimal.Zero, false
	}
	diff := s.SpentThisMonth.Minor - s.SpentLastMonth.Minor
	return Percent(diff, s.SpentLastMonth.Minor), true
}

// MonthSpans returns the span of this month up to today and the same span of the
// previous month (clamped to its last day), all dates inclusive.
func MonthSpans(today Date) (thisFrom, thisTo, lastFrom, lastTo Date) {
	thisFrom = NewDate(today.Year(), today.Month(), 1)
	lastFrom = thisFrom.AddMonths(-1)
	lastTo = lastFrom.AddDays(today.Day() - 1)
	if lastEnd := thisFrom.AddDays(-1); lastTo.After(lastEnd) {
		lastTo = lastEnd
	}
	return thisFrom, today, lastFrom, lastTo
}

// RenewalPeriod returns the period a renewal of the given months covers when made
// on the given day: from the day after the current end date, or from today for an
// Expired plan, to the day before the same date term months later.
func (p Plan) RenewalPeriod(today Date, months int) (start, end Date) {
	start = p.EndDate.AddDays(1)
	if p.Status(today) == StatusExpired && today.After(p.EndDate) {
		start = today
	}
	return start, start.AddMonths(months).AddDays(-1)
}

// MonthlyRate returns the amount of the plan's first term divided by its months,
// rounded to the minor unit: the base of a renewal's default price.
func (p Plan) MonthlyRate() Money {
	months := int64(p.FirstTermMonths)
	if months < 1 {
		months = 1
	}
	q := decimal.NewFromInt(p.FirstTermAmount.Minor).DivRound(decimal.NewFromInt(months), 0)
	return Money{Minor: q.IntPart(), Currency: p.Amount.Currency}
}

// TermMonths returns the whole calendar months between start and end (inclusive
// dates), at least 1: 2026-10-01..2026-12-31 is 3. It counts months as AddMonths
// does, so it is the inverse of RenewalPeriod: 2026-01-31..2026-04-29 is 3.
func TermMonths(start, end Date) int {
	next := end.AddDays(1)
	months := (next.Year()-start.Year())*12 + int(next.Month()) - int(start.Month())
	// A start day past the end of a shorter month is clamped, as AddMonths does.
	if months > 0 && start.AddMonths(months).After(next) {
		months--
	}
	if months < 1 {
		months = 1
	}
	return months
}

// activationTime returns when payments reached required: the instant of the
// payment that crossed it, given payments in time order, or nil.
func activationTime(required int64, paidAt []time.Time, amounts []int64) *time.Time {
	var sum int64
	for i, a := range amounts {
		sum += a
		if sum >= required {
			t := paidAt[i]
			return &t
		}
	}
	return nil
}
