package store

import (
	"time"
)

// DateLayout is how calendar dates are written in files, URLs and the database.
const DateLayout = "2006-01-02"

// InstantLayout is how instants are stored: fixed-width UTC, so that text order is time order.
const InstantLayout = "2006-01-02T15:04:05.000000000Z"

// Date is a calendar date with no time zone (a plan's start or end date, a day of
// spend). The zero Date is "no date".
type Date struct {
	// t is midnight UTC of the date, which makes day arithmetic exact.
	t time.Time
}

// NewDate returns the date y-m-d, normalised (month 13 is January of the next year).
func NewDate(y int, m time.Month, d int) Date {
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// ParseDate reads a YYYY-MM-DD date, or returns an EINVALID error.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return Date{}, Errorf(EINVALID, "%q is not a date (YYYY-MM-DD).", s)
	}
	return Date{t}, nil
}

// MustParseDate is ParseDate for constants; it panics on a bad date.
func MustParseDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DateOf returns the calendar date of instant t in time zone loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return NewDate(y, m, d)
}

// String returns the date as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.t.IsZero() {
		return ""
	}
	return d.t.Format(DateLayout)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d.t.IsZero() }

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// AddMonths returns the date n calendar months after d; a day past the end of the
// target month is clamped to its last day (31 January + 1 month is 28 or 29 February).
func (d Date) AddMonths(n int) Date {
	y, m, day := d.t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if day > last {
		day = last
	}
	return NewDate(first.Year(), first.Month(), day)
}

// DaysUntil returns the number of days from d to e (negative when e is before d).
func (d Date) DaysUntil(e Date) int {
	return int(e.t.Sub(d.t).Hours() / 24)
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.t.After(e.t) }

// Start returns the first instant of the date in time zone loc.
func (d Date) Start(loc *time.Location) time.Time {
	y, m, day := d.t.Date()
	return time.Date(y, m, day, 0, 0, 0, 0, loc)
}

// Year, Month and Day return the parts of the date.
func (d Date) Year() int { return d.t.Year() }

// Month returns the month of the date.
func (d Date) Month() time.Month { return d.t.Month() }

// Day returns the day of the month of the date.
func (d Date) Day() int { return d.t.Day() }

// Time returns midnight UTC of the date, for formatting.
func (d Date) Time() time.Time { return d.t }

// formatInstant returns t as stored in the database.
func formatInstant(t time.Time) string { return t.UTC().Format(InstantLayout) }

// parseInstant reads an instant as stored in the database.
func parseInstant(s string) (time.Time, error) { return time.Parse(InstantLayout, s) }
