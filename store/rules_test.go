package store_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingplans/billingplans/store"
)

// The plan most cases start from: 40 billion dong, all upfront, fully paid and
// activated, for the fourth quarter of 2026 (92 days), nothing consumed.
const (
	quarterStart = "2026-10-01"
	quarterEnd   = "2026-12-31"
	quarterDays  = 92
	quarterVND   = 40_000_000_000
)

// quarterPlan returns the plan above, changed by each of edits.
func quarterPlan(edits ...func(p *store.Plan)) store.Plan {
	activated := time.Date(2026, 9, 20, 3, 0, 0, 0, time.UTC)
	p := store.Plan{
		Code:            "BP-2026-000142",
		StartDate:       store.MustParseDate(quarterStart),
		EndDate:         store.MustParseDate(quarterEnd),
		FirstTermMonths: 3,
		FirstTermAmount: vnd(quarterVND),
		Amount:          vnd(quarterVND),
		PaymentOption:   store.AllUpfront,
		UpfrontAmount:   vnd(0),
		PaidTotal:       vnd(quarterVND),
		PaidUpfront:     vnd(quarterVND),
		Consumed:        vnd(0),
		ActivatedAt:     &activated,
	}
	for _, edit := range edits {
		edit(&p)
	}
	return p
}

func vnd(minor int64) store.Money { return store.Money{Minor: minor, Currency: store.VND} }
func usd(minor int64) store.Money { return store.Money{Minor: minor, Currency: store.USD} }

// day returns the date s, written YYYY-MM-DD.
func day(s string) store.Date { return store.MustParseDate(s) }

func notActivated(p *store.Plan) { p.ActivatedAt = nil }
func suspended(p *store.Plan)    { p.Suspended = true }
func consumed(minor int64) func(p *store.Plan) {
	return func(p *store.Plan) { p.Consumed = vnd(minor) }
}
func paid(minor int64) func(p *store.Plan) {
	return func(p *store.Plan) { p.PaidTotal = vnd(minor) }
}
func dates(start, end string) func(p *store.Plan) {
	return func(p *store.Plan) { p.StartDate, p.EndDate = day(start), day(end) }
}

func TestPlanStatus(t *testing.T) {
	tests := []struct {
		name  string
		plan  store.Plan
		today string
		want  store.Status
	}{
		{"a plan on its first day is Active", quarterPlan(), quarterStart, store.StatusActive},
		{"a plan within its dates is Active", quarterPlan(), "2026-11-15", store.StatusActive},
		{"a plan whose last day is today is Active", quarterPlan(), quarterEnd, store.StatusActive},
		{"a plan the day after its last day is Expired", quarterPlan(), "2027-01-01", store.StatusExpired},
		{"a plan the day before its first day is Inactive", quarterPlan(), "2026-09-30", store.StatusInactive},
		{"a plan whose consumption equals its amount is Expired within its dates", quarterPlan(consumed(quarterVND)), "2026-11-15", store.StatusExpired},
		{"a plan with one dong left is Active", quarterPlan(consumed(quarterVND - 1)), "2026-11-15", store.StatusActive},
		{"a depleted plan that has not started is Expired", quarterPlan(consumed(quarterVND)), "2026-09-30", store.StatusExpired},
		{
			"a partial-upfront plan waiting for its upfront payment is Inactive within its dates",
			quarterPlan(notActivated, paid(0), func(p *store.Plan) { p.PaymentOption, p.UpfrontAmount = store.PartialUpfront, vnd(10_000_000_000) }),
			"2026-11-15", store.StatusInactive,
		},
		{
			"a partial-upfront plan whose upfront amount was paid is Active",
			quarterPlan(paid(10_000_000_000), func(p *store.Plan) { p.PaymentOption, p.UpfrontAmount = store.PartialUpfront, vnd(10_000_000_000) }),
			"2026-11-15", store.StatusActive,
		},
		{"an all-upfront plan not yet activated is Inactive within its dates", quarterPlan(notActivated, paid(0)), "2026-11-15", store.StatusInactive},
		{
			"a postpaid plan with nothing paid is Active within its dates",
			quarterPlan(paid(0), func(p *store.Plan) { p.PaymentOption = store.Postpaid }),
			"2026-11-15", store.StatusActive,
		},
		{"a suspended plan within its dates is Inactive", quarterPlan(suspended), "2026-11-15", store.StatusInactive},
		{"a suspended plan after its last day is Expired", quarterPlan(suspended), "2027-01-01", store.StatusExpired},
		{"a plan waiting for payment after its last day is Expired", quarterPlan(notActivated), "2027-01-01", store.StatusExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.plan.Status(day(tt.today)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPlanStatusInTimeZones(t *testing.T) {
	// 17:30 UTC on 31 December: 00:30 on 1 January in Ho Chi Minh, 12:30 on
	// 31 December in New York. The quarter plan ends on 31 December.
	now := MustParseInstant(t, "2026-12-31T17:30:00Z")
	tests := []struct {
		name string
		zone string
		want store.Status
		days int
	}{
		{"for an account in Ho Chi Minh the plan expired at its midnight, while UTC is still on 31 December", "Asia/Ho_Chi_Minh", store.StatusExpired, 0},
		{"for an account in New York the plan is on its last day", "America/New_York", store.StatusActive, 1},
		{"for an account in UTC the plan is on its last day", "UTC", store.StatusActive, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			today := store.DateOf(now, MustLoadLocation(t, tt.zone))
			p := quarterPlan()
			if got := p.Status(today); got != tt.want {
				t.Errorf("got status %s, want %s", got, tt.want)
			}
			if got := p.DaysRemaining(today); got != tt.days {
				t.Errorf("got %d days remaining, want %d", got, tt.days)
			}
		})
	}
	t.Run("a plan starting on 1 January is Active at half past midnight in Ho Chi Minh", func(t *testing.T) {
		today := store.DateOf(now, MustLoadLocation(t, "Asia/Ho_Chi_Minh"))
		p := quarterPlan(dates("2027-01-01", "2027-03-31"))
		if got, want := p.Status(today), store.StatusActive; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

func TestStatusLabels(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{store.StatusActive.Label(), "Active"},
		{store.StatusExpired.Label(), "Expired"},
		{store.StatusInactive.Label(), "Inactive"},
		{store.Paid.Label(), "Paid"},
		{store.PartiallyPaid.Label(), "Partially paid"},
		{store.Unpaid.Label(), "Unpaid"},
	}
	for _, tt := range tests {
		t.Run("a status is labelled "+tt.want, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestRequiredBeforeUse(t *testing.T) {
	tests := []struct {
		name   string
		option store.PaymentOption
		want   store.Money
	}{
		{"an all-upfront plan needs its whole amount before use", store.AllUpfront, vnd(quarterVND)},
		{"a partial-upfront plan needs its upfront amount before use", store.PartialUpfront, vnd(10_000_000_000)},
		{"a postpaid plan needs nothing before use", store.Postpaid, vnd(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := quarterPlan(func(p *store.Plan) { p.PaymentOption, p.UpfrontAmount = tt.option, vnd(10_000_000_000) })
			if got := p.RequiredBeforeUse(); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPaymentStatus(t *testing.T) {
	tests := []struct {
		name string
		paid int64
		want store.PaymentStatus
		due  int64
	}{
		{"a plan paid in full is Paid with nothing due", quarterVND, store.Paid, 0},
		{"a plan with nothing paid is Unpaid with its whole amount due", 0, store.Unpaid, quarterVND},
		{"a plan with part paid is Partially paid with the rest due", 15_000_000_000, store.PartiallyPaid, 25_000_000_000},
		{"a plan one dong short is Partially paid with one dong due", quarterVND - 1, store.PartiallyPaid, 1},
		{"a plan with one dong paid is Partially paid", 1, store.PartiallyPaid, quarterVND - 1},
		{"a plan paid past its amount is Paid and its amount due is zero, never negative", quarterVND + 5, store.Paid, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := quarterPlan(paid(tt.paid))
			if got := p.PaymentStatus(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if got, want := p.AmountDue(), vnd(tt.due); got != want {
				t.Errorf("got amount due %v, want %v", got, want)
			}
		})
	}
	t.Run("a renewal that raises the amount makes a paid plan Partially paid again", func(t *testing.T) {
		p := quarterPlan(func(p *store.Plan) { p.Amount = vnd(2 * quarterVND) })
		if got, want := p.PaymentStatus(), store.PartiallyPaid; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		if got, want := p.AmountDue(), vnd(quarterVND); got != want {
			t.Errorf("got amount due %v, want %v", got, want)
		}
		if got, want := p.Status(day("2026-11-15")), store.StatusActive; got != want {
			t.Errorf("got status %s, want %s: activation is kept", got, want)
		}
	})
}

func TestRemaining(t *testing.T) {
	tests := []struct {
		name     string
		consumed int64
		want     int64
	}{
		{"a plan with nothing consumed has its whole amount remaining", 0, quarterVND},
		{"a plan has its amount minus its consumption remaining", 12_500_000_000, 27_500_000_000},
		{"a depleted plan has nothing remaining", quarterVND, 0},
		{"a plan consumed past its amount has nothing remaining, never below zero", quarterVND + 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := quarterPlan(consumed(tt.consumed)).Remaining(), vnd(tt.want); got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestUsagePercent(t *testing.T) {
	tests := []struct {
		name     string
		consumed int64
		amount   int64
		want     string
	}{
		{"a third consumed is 33.3%", 1, 3, "33.3"},
		{"two thirds consumed is 66.7%, rounded up", 2, 3, "66.7"},
		{"a sixteenth consumed is 6.3%, half rounded away from zero", 1, 16, "6.3"},
		{"an eighth consumed is 12.5%", 1, 8, "12.5"},
		{"nothing consumed is 0%", 0, 3, "0"},
		{"a depleted plan is 100%", 3, 3, "100"},
		{"one dong of 40 billion is 0%", 1, quarterVND, "0"},
		{"a plan of no amount is 0%", 0, 0, "0"},
		{"a plan consumed past its amount is over 100%; the bar stops, the figure does not", 3, 2, "150"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := quarterPlan(consumed(tt.consumed), func(p *store.Plan) { p.Amount = vnd(tt.amount) })
			got := p.UsagePercent()
			if want := decimal.RequireFromString(tt.want); !got.Equal(want) {
				t.Errorf("got %s, want %s", got, want)
			}
			if got.Exponent() < -1 {
				t.Errorf("got %s, want at most one decimal", got)
			}
		})
	}
	t.Run("a negative share rounds half away from zero", func(t *testing.T) {
		if got, want := store.Percent(-1, 16), decimal.RequireFromString("-6.3"); !got.Equal(want) {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

func TestDaysRemaining(t *testing.T) {
	tests := []struct {
		name  string
		plan  store.Plan
		today string
		want  int
	}{
		{"a plan whose last day is today has 1 day remaining", quarterPlan(), quarterEnd, 1},
		{"a plan the day after its last day has 0 days remaining", quarterPlan(), "2027-01-01", 0},
		{"a plan on its first day has its whole term remaining", quarterPlan(), quarterStart, quarterDays},
		{"a plan on its second-last day has 2 days remaining", quarterPlan(), "2026-12-30", 2},
		{"a plan not started yet has its whole term remaining", quarterPlan(), "2026-09-30", quarterDays},
		{"a plan starting in months has its whole term remaining", quarterPlan(), "2026-01-15", quarterDays},
		{"a depleted plan within its dates has 0 days remaining", quarterPlan(consumed(quarterVND)), "2026-11-15", 0},
		{"a plan waiting for payment within its dates counts the days to its end", quarterPlan(notActivated), "2026-12-30", 2},
		{"a suspended plan within its dates counts the days to its end", quarterPlan(suspended), "2026-12-30", 2},
		{"a plan that expired long ago has 0 days remaining", quarterPlan(), "2027-06-01", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.plan.DaysRemaining(day(tt.today)); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
	t.Run("a plan of one day has a term of 1 day", func(t *testing.T) {
		if got, want := quarterPlan(dates("2026-10-01", "2026-10-01")).TermDays(), 1; got != want {
			t.Errorf("got %d, want %d", got, want)
		}
	})
}

func TestBurnWindow(t *testing.T) {
	tests := []struct {
		name     string
		start    string
		today    string
		from, to string
		days     int
	}{
		{"a plan older than a week is measured over the last 7 whole days", "2026-10-01", "2026-11-15", "2026-11-08", "2026-11-14", 7},
		{"a plan exactly a week old is measured over its 7 days", "2026-10-01", "2026-10-08", "2026-10-01", "2026-10-07", 7},
		{"a plan 3 days old is measured over its 3 whole days", "2026-10-01", "2026-10-04", "2026-10-01", "2026-10-03", 3},
		{"a plan a day old is measured over its first day", "2026-10-01", "2026-10-02", "2026-10-01", "2026-10-01", 1},
		{"a plan starting today is measured over at least 1 day", "2026-10-01", "2026-10-01", "2026-09-30", "2026-09-30", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to, days := quarterPlan(dates(tt.start, quarterEnd)).BurnWindow(day(tt.today))
			if from != day(tt.from) || to != day(tt.to) || days != tt.days {
				t.Errorf("got %s..%s (%d days), want %s..%s (%d days)", from, to, days, tt.from, tt.to, tt.days)
			}
		})
	}
}

func TestForecast(t *testing.T) {
	// On 2026-12-02 the quarter plan has 30 days remaining and a 7-day window.
	const today = "2026-12-02"
	tests := []struct {
		name   string
		plan   store.Plan
		today  string
		spent  int64
		want   store.ForecastKind
		days   int
		on     string
		unused int64
	}{
		{name: "an Expired plan has no forecast", plan: quarterPlan(), today: "2027-01-01", spent: 700, want: store.ForecastNone},
		{name: "a depleted plan has no forecast", plan: quarterPlan(consumed(quarterVND)), today: today, spent: 700, want: store.ForecastNone},
		{name: "an Inactive plan has no forecast", plan: quarterPlan(notActivated), today: today, spent: 700, want: store.ForecastNone},
		{name: "a plan not started yet has no forecast", plan: quarterPlan(), today: "2026-09-30", spent: 700, want: store.ForecastNone},
		{name: "a plan with no usage in the window says so, with no number", plan: quarterPlan(), today: today, spent: 0, want: store.ForecastNoRecentUsage},
		{
			name: "a plan burning 100 a day with 1,000 left depletes in 10 days",
			plan: quarterPlan(consumed(quarterVND - 1000)), today: today, spent: 700,
			want: store.ForecastDepletes, days: 10, on: "2026-12-11",
		},
		{
			name: "a plan burning 100 a day with 1,001 left depletes in 11 days, rounded up",
			plan: quarterPlan(consumed(quarterVND - 1001)), today: today, spent: 700,
			want: store.ForecastDepletes, days: 11, on: "2026-12-12",
		},
		{
			name: "a plan burning 100 a day with 50 left depletes today",
			plan: quarterPlan(consumed(quarterVND - 50)), today: today, spent: 700,
			want: store.ForecastDepletes, days: 1, on: today,
		},
		{
			name: "a plan that runs out on its last day depletes rather than outlasting its end",
			plan: quarterPlan(consumed(quarterVND - 3000)), today: today, spent: 700,
			want: store.ForecastDepletes, days: 30, on: quarterEnd,
		},
		{
			name: "a plan 3 days old burning 10 over 3 days with 100 left depletes in exactly 30 days",
			plan: quarterPlan(dates("2026-11-29", quarterEnd), consumed(quarterVND-100)), today: today, spent: 10,
			want: store.ForecastDepletes, days: 30, on: quarterEnd,
		},
		{
			name: "a plan burning 100 a day with 3,001 left outlasts its end with 1 unused",
			plan: quarterPlan(consumed(quarterVND - 3001)), today: today, spent: 700,
			want: store.ForecastOutlastsEnd, unused: 1,
		},
		{
			name: "a plan burning 10 a day with 10,000 left outlasts its end with 9,700 unused",
			plan: quarterPlan(consumed(quarterVND - 10_000)), today: today, spent: 70,
			want: store.ForecastOutlastsEnd, unused: 9700,
		},
		{
			name: "a plan burning 20 over 3 days with 30 left and 3 days to go has exactly 10 unused",
			plan: quarterPlan(dates("2026-12-26", quarterEnd), consumed(quarterVND-30)), today: "2026-12-29", spent: 20,
			want: store.ForecastOutlastsEnd, unused: 10,
		},
		{
			name: "an unused forecast of a fraction of a dong is rounded down",
			plan: quarterPlan(dates("2026-12-19", quarterEnd), consumed(quarterVND-100)), today: "2026-12-22", spent: 10,
			want: store.ForecastOutlastsEnd, unused: 66,
		},
		{
			name: "a plan barely used outlasts its end with nearly all its amount unused",
			plan: quarterPlan(), today: today, spent: 7,
			want: store.ForecastOutlastsEnd, unused: quarterVND - 30,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.plan.Forecast(day(tt.today), vnd(tt.spent))
			if got.Kind != tt.want {
				t.Fatalf("got kind %d, want %d (%+v)", got.Kind, tt.want, got)
			}
			switch tt.want {
			case store.ForecastDepletes:
				if got.Days != tt.days || got.DepletesOn != day(tt.on) {
					t.Errorf("got %d days (on %s), want %d days (on %s)", got.Days, got.DepletesOn, tt.days, tt.on)
				}
			case store.ForecastOutlastsEnd:
				if want := vnd(tt.unused); got.UnusedAtEnd != want {
					t.Errorf("got %v unused at end, want %v", got.UnusedAtEnd, want)
				}
			}
		})
	}
	t.Run("the burn rate is the window's spend divided by its days", func(t *testing.T) {
		got := quarterPlan().Forecast(day(today), vnd(700)).BurnRate
		if want := decimal.NewFromInt(100); !got.Equal(want) {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("a young plan's burn rate divides by its days, not by 7", func(t *testing.T) {
		got := quarterPlan(dates("2026-11-30", quarterEnd)).Forecast(day(today), vnd(700)).BurnRate
		if want := decimal.NewFromInt(350); !got.Equal(want) {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

func TestSpentChange(t *testing.T) {
	tests := []struct {
		name       string
		this, last int64
		want       string
		ok         bool
	}{
		{"spend up from 100 to 150 is +50%", 150, 100, "50", true},
		{"spend down from 100 to 50 is -50%", 50, 100, "-50", true},
		{"no spend this month after 100 last month is -100%", 0, 100, "-100", true},
		{"the same spend is 0%", 100, 100, "0", true},
		{"spend up from 300 to 400 is +33.3%, one decimal", 400, 300, "33.3", true},
		{"no spend last month gives no figure", 150, 0, "0", false},
		{"no spend in either month gives no figure", 0, 0, "0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := store.Summary{SpentThisMonth: vnd(tt.this), SpentLastMonth: vnd(tt.last)}
			got, ok := s.SpentChange()
			if ok != tt.ok {
				t.Fatalf("got ok %v, want %v", ok, tt.ok)
			}
			if want := decimal.RequireFromString(tt.want); ok && !got.Equal(want) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestMonthSpans(t *testing.T) {
	tests := []struct {
		name                               string
		today                              string
		thisFrom, thisTo, lastFrom, lastTo string
	}{
		{"on 31 March the previous span ends on 28 February", "2026-03-31", "2026-03-01", "2026-03-31", "2026-02-01", "2026-02-28"},
		{"on 31 March of a leap year the previous span ends on 29 February", "2028-03-31", "2028-03-01", "2028-03-31", "2028-02-01", "2028-02-29"},
		{"on 29 March the previous span ends on 28 February, clamped", "2026-03-29", "2026-03-01", "2026-03-29", "2026-02-01", "2026-02-28"},
		{"on the 1st both spans are one day", "2026-03-01", "2026-03-01", "2026-03-01", "2026-02-01", "2026-02-01"},
		{"on 1 January the previous span is 1 December of the year before", "2027-01-01", "2027-01-01", "2027-01-01", "2026-12-01", "2026-12-01"},
		{"on 15 May the previous span is 1 to 15 April", "2026-05-15", "2026-05-01", "2026-05-15", "2026-04-01", "2026-04-15"},
		{"on 31 May the previous span is the whole of April", "2026-05-31", "2026-05-01", "2026-05-31", "2026-04-01", "2026-04-30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			thisFrom, thisTo, lastFrom, lastTo := store.MonthSpans(day(tt.today))
			got := []store.Date{thisFrom, thisTo, lastFrom, lastTo}
			want := []store.Date{day(tt.thisFrom), day(tt.thisTo), day(tt.lastFrom), day(tt.lastTo)}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("got %v, want %v", got, want)
					break
				}
			}
		})
	}
}

func TestRenewalPeriod(t *testing.T) {
	tests := []struct {
		name       string
		plan       store.Plan
		today      string
		months     int
		start, end string
	}{
		{"an Active plan renewed for 3 months continues the day after its end", quarterPlan(), "2026-11-15", 3, "2027-01-01", "2027-03-31"},
		{"an Active plan renewed for 1 month ends a month later", quarterPlan(), "2026-11-15", 1, "2027-01-01", "2027-01-31"},
		{"an Active plan renewed for 12 months ends a year later", quarterPlan(), "2026-11-15", 12, "2027-01-01", "2027-12-31"},
		{"a plan renewed on its last day continues the next day", quarterPlan(), quarterEnd, 6, "2027-01-01", "2027-06-30"},
		{"an Expired plan renewed for 1 month starts today", quarterPlan(), "2027-02-10", 1, "2027-02-10", "2027-03-09"},
		{"an Expired plan renewed the day after its end starts that day", quarterPlan(), "2027-01-01", 3, "2027-01-01", "2027-03-31"},
		{"a plan not started yet continues the day after its end", quarterPlan(), "2026-09-01", 1, "2027-01-01", "2027-01-31"},
		{"a depleted plan within its dates continues the day after its end", quarterPlan(consumed(quarterVND)), "2026-11-15", 1, "2027-01-01", "2027-01-31"},
		{"a renewal from 31 January for a month ends on 27 February", quarterPlan(dates("2026-01-01", "2026-01-30")), "2026-01-15", 1, "2026-01-31", "2026-02-27"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end := tt.plan.RenewalPeriod(day(tt.today), tt.months)
			if start != day(tt.start) || end != day(tt.end) {
				t.Errorf("got %s..%s, want %s..%s", start, end, tt.start, tt.end)
			}
		})
	}
	t.Run("a renewal's period is as many months as were chosen", func(t *testing.T) {
		for _, end := range []string{"2026-01-30", "2026-01-27", "2026-02-27", "2026-12-30", "2027-02-28"} {
			for _, months := range []int{1, 3, 6, 12} {
				start, renewedEnd := quarterPlan(dates("2026-01-01", end)).RenewalPeriod(day("2026-01-01"), months)
				if got := store.TermMonths(start, renewedEnd); got != months {
					t.Errorf("TermMonths(%s, %s) = %d, want %d", start, renewedEnd, got, months)
				}
			}
		}
	})
}

func TestMonthlyRate(t *testing.T) {
	tests := []struct {
		name   string
		months int
		amount store.Money
		want   store.Money
	}{
		{"a 3-month plan of 30 million dong is 10 million a month", 3, vnd(30_000_000), vnd(10_000_000)},
		{"a 3-month plan of $100.00 is $33.33 a month, rounded", 3, usd(10_000), usd(3333)},
		{"a 3-month plan of $200.00 is $66.67 a month, rounded up", 3, usd(20_000), usd(6667)},
		{"a 12-month plan of 40 billion dong is 3,333,333,333 a month", 12, vnd(quarterVND), vnd(3_333_333_333)},
		{"a plan with no first-term months counts as one month", 0, vnd(5_000_000), vnd(5_000_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := store.Plan{Amount: store.Money{Currency: tt.amount.Currency}, FirstTermMonths: tt.months, FirstTermAmount: tt.amount}
			if got := p.MonthlyRate(); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("a renewal does not change the monthly rate", func(t *testing.T) {
		p := quarterPlan(func(p *store.Plan) { p.Amount = vnd(3 * quarterVND) })
		if got, want := p.MonthlyRate(), vnd(quarterVND/3); got != want {
			t.Errorf("got %v, want %v", got, want)
		}
	})
}

func TestTermMonths(t *testing.T) {
	tests := []struct {
		name       string
		start, end string
		want       int
	}{
		{"October to December is 3 months", "2026-10-01", "2026-12-31", 3},
		{"January is 1 month", "2026-01-01", "2026-01-31", 1},
		{"a whole year is 12 months", "2026-01-01", "2026-12-31", 12},
		{"31 January to 27 February is 1 month, as 31 January plus a month is 28 February", "2026-01-31", "2026-02-27", 1},
		{"31 January to 28 February is 1 month", "2026-01-31", "2026-02-28", 1},
		{"31 January to 29 April is 3 months, as 31 January plus 3 months is 30 April", "2026-01-31", "2026-04-29", 3},
		{"15 January to 14 March is 2 months", "2026-01-15", "2026-03-14", 2},
		{"15 January to 13 March is 1 whole month", "2026-01-15", "2026-03-13", 1},
		{"29 February to 27 February the next year is 12 months", "2028-02-29", "2029-02-27", 12},
		{"a plan of 10 days is at least 1 month", "2026-10-01", "2026-10-10", 1},
		{"a plan of one day is at least 1 month", "2026-10-01", "2026-10-01", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := store.TermMonths(day(tt.start), day(tt.end)); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}
