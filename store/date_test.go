package store_test

import (
	"testing"
	"time"

	"github.com/billingplans/billingplans/store"
)

func TestDateOf(t *testing.T) {
	tests := []struct {
		name    string
		instant string
		zone    string
		want    string
	}{
		{"half past midnight in Ho Chi Minh is already 1 January while UTC is on 31 December", "2026-12-31T17:30:00Z", "Asia/Ho_Chi_Minh", "2027-01-01"},
		{"the same instant in UTC is still 31 December", "2026-12-31T17:30:00Z", "UTC", "2026-12-31"},
		{"a minute before midnight in Ho Chi Minh is still 31 December", "2026-12-31T16:59:00Z", "Asia/Ho_Chi_Minh", "2026-12-31"},
		{"midnight exactly in Ho Chi Minh is the new day", "2026-12-31T17:00:00Z", "Asia/Ho_Chi_Minh", "2027-01-01"},
		{"3 a.m. UTC on 1 January is still 31 December in New York", "2027-01-01T03:00:00Z", "America/New_York", "2026-12-31"},
		{"5 a.m. UTC on 1 January is 1 January in New York", "2027-01-01T05:00:00Z", "America/New_York", "2027-01-01"},
		{"New York on summer time is four hours behind UTC", "2026-07-01T03:30:00Z", "America/New_York", "2026-06-30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := store.DateOf(MustParseInstant(t, tt.instant), MustLoadLocation(t, tt.zone))
			if want := store.MustParseDate(tt.want); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestAccountToday(t *testing.T) {
	now := MustParseInstant(t, "2026-12-31T17:30:00Z")
	tests := []struct {
		name string
		zone string
		want string
	}{
		{"an account in Ho Chi Minh is on its next day", "Asia/Ho_Chi_Minh", "2027-01-01"},
		{"an account in New York is on the previous day", "America/New_York", "2026-12-31"},
		{"an account with an unknown time zone is in Ho Chi Minh", "Mars/Olympus_Mons", "2027-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := store.Account{TimeZone: tt.zone}.Today(now)
			if want := store.MustParseDate(tt.want); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestDateStart(t *testing.T) {
	t.Run("a date starts at midnight in the account's time zone", func(t *testing.T) {
		got := store.MustParseDate("2027-01-01").Start(MustLoadLocation(t, "Asia/Ho_Chi_Minh"))
		if want := MustParseInstant(t, "2026-12-31T17:00:00Z"); !got.Equal(want) {
			t.Errorf("got %s, want %s", got.UTC(), want)
		}
	})
}

func TestAddMonths(t *testing.T) {
	tests := []struct {
		name   string
		from   string
		months int
		want   string
	}{
		{"31 January plus a month is clamped to 28 February", "2026-01-31", 1, "2026-02-28"},
		{"31 January plus a month in a leap year is 29 February", "2028-01-31", 1, "2028-02-29"},
		{"31 March minus a month is clamped to 28 February", "2026-03-31", -1, "2026-02-28"},
		{"31 May plus a month is clamped to 30 June", "2026-05-31", 1, "2026-06-30"},
		{"29 February plus a year is clamped to 28 February", "2028-02-29", 12, "2029-02-28"},
		{"15 December plus a month is in the next year", "2026-12-15", 1, "2027-01-15"},
		{"15 January minus a month is in the previous year", "2026-01-15", -1, "2025-12-15"},
		{"a day that exists in the target month is kept", "2026-01-30", 3, "2026-04-30"},
		{"zero months is the same day", "2026-01-31", 0, "2026-01-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := store.MustParseDate(tt.from).AddMonths(tt.months)
			if want := store.MustParseDate(tt.want); got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestDateArithmetic(t *testing.T) {
	t.Run("adding a day to 31 December gives 1 January", func(t *testing.T) {
		if got, want := store.MustParseDate("2026-12-31").AddDays(1), store.MustParseDate("2027-01-01"); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("adding a day to 28 February of a leap year gives 29 February", func(t *testing.T) {
		if got, want := store.MustParseDate("2028-02-28").AddDays(1), store.MustParseDate("2028-02-29"); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("the days from 1 October to 31 December are 91", func(t *testing.T) {
		if got, want := store.MustParseDate("2026-10-01").DaysUntil(store.MustParseDate("2026-12-31")), 91; got != want {
			t.Errorf("got %d, want %d", got, want)
		}
	})
	t.Run("the days to an earlier date are negative", func(t *testing.T) {
		if got, want := store.MustParseDate("2026-03-02").DaysUntil(store.MustParseDate("2026-02-28")), -2; got != want {
			t.Errorf("got %d, want %d", got, want)
		}
	})
	t.Run("the zero date is written as nothing", func(t *testing.T) {
		var d store.Date
		if got := d.String(); got != "" || !d.IsZero() {
			t.Errorf("got %q (IsZero %v), want \"\" and true", got, d.IsZero())
		}
	})
}

func TestParseDate(t *testing.T) {
	for _, s := range []string{"2026-02-30", "2026-2-3", "03/01/2026", "", "2026-13-01"} {
		t.Run("ParseDate refuses "+s, func(t *testing.T) {
			if _, err := store.ParseDate(s); store.ErrorCode(err) != store.EINVALID {
				t.Errorf("got %v, want an EINVALID error", err)
			}
		})
	}
	t.Run("a date reads back as it is written", func(t *testing.T) {
		d, err := store.ParseDate("2028-02-29")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := d.String(), "2028-02-29"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

// MustLoadLocation returns the named time zone, or fails the test.
func MustLoadLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load location %q: %v", name, err)
	}
	return loc
}

// MustParseInstant returns the RFC 3339 instant s, or fails the test.
func MustParseInstant(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("parse instant %q: %v", s, err)
	}
	return at
}
