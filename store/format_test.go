package store_test

import (
	"math"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/billingplans/billingplans/store"
)

func TestMoneyString(t *testing.T) {
	tests := []struct {
		name  string
		money store.Money
		want  string
	}{
		{"a VND amount has no decimals and groups by thousands", store.Money{Minor: 1_250_000_000, Currency: store.VND}, "₫1,250,000,000"},
		{"a USD amount has two decimals", store.Money{Minor: 123_450, Currency: store.USD}, "$1,234.50"},
		{"a JPY amount has no decimals", store.Money{Minor: 12_345, Currency: store.JPY}, "¥12,345"},
		{"a USD amount below a thousand has no separator", store.Money{Minor: 99_999, Currency: store.USD}, "$999.99"},
		{"zero dong is written as zero", store.Money{Currency: store.VND}, "₫0"},
		{"zero dollars keeps both decimals", store.Money{Currency: store.USD}, "$0.00"},
		{"zero yen is written as zero", store.Money{Currency: store.JPY}, "¥0"},
		{"one cent keeps its leading zero", store.Money{Minor: 1, Currency: store.USD}, "$0.01"},
		{"ten cents keeps its trailing zero", store.Money{Minor: 10, Currency: store.USD}, "$0.10"},
		{"a negative USD amount has a leading minus", store.Money{Minor: -500, Currency: store.USD}, "-$5.00"},
		{"minus one cent has a leading minus", store.Money{Minor: -1, Currency: store.USD}, "-$0.01"},
		{"a negative VND amount has a leading minus", store.Money{Minor: -1_250_000, Currency: store.VND}, "-₫1,250,000"},
		{"a negative JPY amount has a leading minus", store.Money{Minor: -12_345, Currency: store.JPY}, "-¥12,345"},
		{"nine quintillion dong is exact to the last digit", store.Money{Minor: 9_000_000_000_000_000_000, Currency: store.VND}, "₫9,000,000,000,000,000,000"},
		{"a huge VND amount that a float64 cannot hold is exact", store.Money{Minor: 9_000_000_000_000_000_001, Currency: store.VND}, "₫9,000,000,000,000,000,001"},
		{"the largest USD amount is exact", store.Money{Minor: math.MaxInt64, Currency: store.USD}, "$92,233,720,368,547,758.07"},
		{"the smallest VND amount is exact", store.Money{Minor: math.MinInt64, Currency: store.VND}, "-₫9,223,372,036,854,775,808"},
		{"a VND account total of 5,000 plans of 40 billion dong is exact", store.Money{Minor: 200_000_000_000_000, Currency: store.VND}, "₫200,000,000,000,000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.money.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatDecimal(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"a price keeps all its fraction digits", "1234.000002", "1,234.000002"},
		{"a tiny per-token price is not rounded", "0.000000125", "0.000000125"},
		{"a whole quantity has no decimal point", "1250000", "1,250,000"},
		{"zero is written as zero", "0", "0"},
		{"a negative quantity has a leading minus", "-1234.5", "-1,234.5"},
		{"a negative fraction keeps its zero", "-0.5", "-0.5"},
		{"trailing zeros of the fraction are not shown", "1.50", "1.5"},
		{"a number below a thousand has no separator", "999.999", "999.999"},
		{"a number past a uint64 is still grouped exactly", "123456789012345678901234567.125", "123,456,789,012,345,678,901,234,567.125"},
		{"a round number past a uint64 is grouped exactly", "1000000000000000000000", "1,000,000,000,000,000,000,000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := store.FormatDecimal(decimal.RequireFromString(tt.in)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
