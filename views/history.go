package views

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingplans/billingplans/store"
)

// CreditHistoryPage is the credit history: the filter bar, the chart of daily
// consumption with its totals per credit source, and a page of lines, newest
// first, with links to the newer and older pages.
type CreditHistoryPage struct {
	Page   Page
	Filter HistoryFilterForm
	// Chart is the daily consumption of the filtered lines over the period.
	Chart Chart
	// PeriodFrom and PeriodTo bound the chart and its totals (inclusive).
	PeriodFrom, PeriodTo store.Date
	// ChartNote says how the period was chosen, when it is not the filter's
	// whole date range.
	ChartNote string
	// Totals are the chart's totals per credit source, in consumption order.
	Totals []HistoryTotal
	Rows   []HistoryRow
	// NewerURL and OlderURL lead to the neighbouring pages; "" when there is none.
	NewerURL, OlderURL string
	// CSVURL exports every line the filter selects.
	CSVURL string
}

// HistoryFilterForm is the history's filter bar: a GET form, so every filtered
// view is a link. Errors holds, by parameter, why a value was ignored (the
// page cursors before and after included).
type HistoryFilterForm struct {
	Action      string
	Plan        string
	Services    []HistoryOption
	Sources     []HistoryOption
	From, To    string
	ShowExpired bool
	Errors      map[string]string
	// Filtered says the filter differs from the default; ClearURL drops it.
	Filtered bool
	ClearURL string
}

// HistoryOption is one choice of a multiple-choice filter.
type HistoryOption struct {
	Value    string
	Label    string
	Selected bool
}

// SelectedServices returns how many services are chosen.
func (f HistoryFilterForm) SelectedServices() int {
	n := 0
	for _, o := range f.Services {
		if o.Selected {
			n++
		}
	}
	return n
}

// HistoryTotal is what the chart's lines drew from one credit source over the period.
type HistoryTotal struct {
	Source store.CreditSource
	Amount store.Money
}

// HistoryRow is one line of the credit history, as the table shows it.
type HistoryRow struct {
	// Key is the line's place in the history (store.HistoryCursor's text),
	// unique across the kinds of lines.
	Key string
	// Kind is a consumption line or a credit addition (top-up, voucher granted).
	Kind store.HistoryKind
	At   time.Time
	Day  store.Date
	// Location is the account's time zone, for the line's time.
	Location *time.Location
	Source   store.CreditSource
	// Service, Unit, Quantity and UnitPrice describe a consumption line.
	Service   string
	Unit      string
	Quantity  decimal.Decimal
	UnitPrice decimal.Decimal
	// Code is the plan's or voucher's code; CodeURL the plan's page ("" for a voucher).
	Code    string
	CodeURL string
	// PlanStatus is the plan's status today (plan lines), VoucherStatus the
	// voucher's (voucher lines); "" otherwise.
	PlanStatus    store.Status
	VoucherStatus store.VoucherStatus
	// Amount is signed: credit in positive, debit out negative.
	Amount store.Money
}

// Description returns what the line is, in words: "12.5 hour of GPU Container
// H100 at ₫52,000/hour" for a consumption line, or the credit it adds.
func (r HistoryRow) Description() string {
	switch r.Kind {
	case store.HistoryTopup:
		return "Top-up credit added"
	case store.HistoryVoucher:
		return "Voucher " + r.Code + " granted"
	}
	var b strings.Builder
	b.WriteString(Quantity(r.Quantity))
	b.WriteString(" ")
	b.WriteString(Units(r.Unit, r.Quantity))
	b.WriteString(" of ")
	b.WriteString(r.Service)
	b.WriteString(" at ")
	b.WriteString(UnitPrice(r.UnitPrice, r.Amount.Currency))
	b.WriteString("/")
	b.WriteString(r.Unit)
	return b.String()
}

// SignedAmount returns the amount with its sign: "+₫2,000,000" in, "-₫650,000" out.
func (r HistoryRow) SignedAmount() string {
	if r.Amount.Minor > 0 {
		return "+" + Money(r.Amount)
	}
	return Money(r.Amount)
}

// AmountClass returns the CSS class of the amount: credit in or debit out.
func (r HistoryRow) AmountClass() string {
	if r.Amount.Minor > 0 {
		return "amount-credit"
	}
	return "amount-debit"
}

// StatusLabel returns the status of the line's plan or voucher in words, or "".
func (r HistoryRow) StatusLabel() string {
	switch {
	case r.PlanStatus != "":
		return r.PlanStatus.Label()
	case r.VoucherStatus != "":
		return r.VoucherStatus.Label()
	}
	return ""
}

// Time returns the line's time of day in the account's zone ("14:05").
func (r HistoryRow) Time() string {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	return r.At.In(loc).Format("15:04")
}

// UnitPrice returns an exact price per unit in currency c, with all its
// digits: "₫52,000", "$2.03", "₫0.0021", "$0.0000025". Money's formatting
// writes the whole minor units; the digits past the minor unit follow them.
func UnitPrice(d decimal.Decimal, c store.Currency) string {
	exp := c.Exponent()
	minor := d.Shift(exp)
	whole := minor.Truncate(0)
	s := Money(store.Money{Minor: whole.IntPart(), Currency: c})
	rest := minor.Sub(whole).Abs()
	if rest.IsZero() {
		return s
	}
	// rest is 0.xxx: its digits after the point continue the amount.
	digits := strings.TrimPrefix(rest.String(), "0.")
	if exp == 0 {
		return insertAfterDigits(s, "."+digits)
	}
	return insertAfterDigits(s, digits)
}

// insertAfterDigits inserts more after the last digit of s (before a
// trailing currency code, if Money wrote one).
func insertAfterDigits(s, more string) string {
	i := strings.LastIndexAny(s, "0123456789")
	return s[:i+1] + more + s[i+1:]
}
