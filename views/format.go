package views

// Formatting for people to read, in one place: money, dates, instants,
// percentages and quantities. Components call these; nothing else formats.

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingplans/billingplans/store"
)

// Money returns the amount as its currency is written ("₫1,250,000", "$12.50").
func Money(m store.Money) string { return m.String() }

// Date returns a calendar date as "3 Dec 2026", or "" for no date.
func Date(d store.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.Time().Format("2 Jan 2006")
}

// ISODate returns a calendar date as YYYY-MM-DD, for machine-readable attributes
// and date inputs.
func ISODate(d store.Date) string { return d.String() }

// Instant returns an instant in the given zone as "3 Dec 2026, 14:05".
func Instant(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2 Jan 2006, 15:04")
}

// Percent returns a percentage with one decimal and a % sign ("33.3%").
func Percent(d decimal.Decimal) string { return d.StringFixed(1) + "%" }

// Quantity returns an exact quantity or unit price with its digits grouped
// ("1,234.000002"), never rounded.
func Quantity(d decimal.Decimal) string { return store.FormatDecimal(d) }

// Count returns a whole number with its digits grouped ("1,234").
func Count(n int) string { return store.FormatDecimal(decimal.NewFromInt(int64(n))) }

// Days returns "1 day" or "n days".
func Days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

// BarWidth returns the width of a progress bar for a percentage, capped at
// 100: the bar stops at 100% whatever the plan consumed.
func BarWidth(p decimal.Decimal) string {
	if p.GreaterThan(decimal.NewFromInt(100)) {
		p = decimal.NewFromInt(100)
	}
	if p.IsNegative() {
		p = decimal.Zero
	}
	return p.StringFixed(1) + "%"
}

// BarLevel returns the colour level of a usage bar: "ok", "warn" past 80% and
// "critical" past 95%.
func BarLevel(p decimal.Decimal) string {
	switch {
	case p.GreaterThan(decimal.NewFromInt(95)):
		return "critical"
	case p.GreaterThan(decimal.NewFromInt(80)):
		return "warn"
	}
	return "ok"
}

// Units returns a unit name for a quantity of it: "hour" for exactly one,
// "hours" (or "tokens", "GB-months") for any other quantity.
func Units(unit string, q decimal.Decimal) string {
	if unit == "" || q.Equal(decimal.NewFromInt(1)) {
		return unit
	}
	return unit + "s"
}
