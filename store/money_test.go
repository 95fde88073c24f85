package store_test

import (
	"testing"

	"github.com/billingplans/billingplans/store"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		currency store.Currency
		want     int64
	}{
		{"12.50 dollars are 1,250 cents", "12.50", store.USD, 1250},
		{"12.5 dollars are 1,250 cents", "12.5", store.USD, 1250},
		{"12 dollars are 1,200 cents", "12", store.USD, 1200},
		{"one cent is one minor unit", "0.01", store.USD, 1},
		{"a VND amount is its own minor unit", "1250000000", store.VND, 1_250_000_000},
		{"a JPY amount is its own minor unit", "12345", store.JPY, 12_345},
		{"a whole VND amount written with zero decimals is accepted", "1250000.00", store.VND, 1_250_000},
		{"surrounding spaces are ignored", " 150 ", store.VND, 150},
		{"a negative amount keeps its sign", "-5.00", store.USD, -500},
		{"the largest amount allowed is accepted", "100000000000000000", store.VND, 100_000_000_000_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := store.ParseMoney(tt.in, tt.currency)
			if err != nil {
				t.Fatalf("ParseMoney(%q, %s): %v", tt.in, tt.currency, err)
			}
			if want := (store.Money{Minor: tt.want, Currency: tt.currency}); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestParseMoneyRefuses(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		currency store.Currency
	}{
		{"a VND amount with decimals", "1250000.5", store.VND},
		{"a JPY amount with decimals", "12.50", store.JPY},
		{"a USD amount with three decimals", "12.505", store.USD},
		{"an exponent", "1e5", store.VND},
		{"letters", "abc", store.USD},
		{"an empty amount", "", store.USD},
		{"a lone minus", "-", store.USD},
		{"a lone point", ".", store.USD},
		{"a plus sign", "+5", store.USD},
		{"a thousands separator", "1,000", store.VND},
		{"two points", "1.2.3", store.USD},
		{"a currency symbol", "$5", store.USD},
		{"an amount past the bound", "100000000000000001", store.VND},
		{"an amount an int64 cannot hold", "99999999999999999999", store.VND},
	}
	for _, tt := range tests {
		t.Run("ParseMoney refuses "+tt.name, func(t *testing.T) {
			got, err := store.ParseMoney(tt.in, tt.currency)
			if err == nil {
				t.Fatalf("ParseMoney(%q, %s) = %+v, want an error", tt.in, tt.currency, got)
			}
			if got, want := store.ErrorCode(err), store.EINVALID; got != want {
				t.Errorf("got code %q, want %q", got, want)
			}
		})
	}
}

func TestParseCurrency(t *testing.T) {
	for _, c := range []store.Currency{store.VND, store.USD, store.JPY} {
		t.Run(string(c)+" is a currency an account may bill in", func(t *testing.T) {
			got, err := store.ParseCurrency(string(c))
			if err != nil {
				t.Fatal(err)
			}
			if got != c {
				t.Errorf("got %q, want %q", got, c)
			}
		})
	}
	for _, s := range []string{"EUR", "usd", ""} {
		t.Run("ParseCurrency refuses "+s, func(t *testing.T) {
			if _, err := store.ParseCurrency(s); store.ErrorCode(err) != store.EINVALID {
				t.Errorf("got %v, want an EINVALID error", err)
			}
		})
	}
}

func TestCurrencyExponent(t *testing.T) {
	tests := []struct {
		currency store.Currency
		want     int32
	}{
		{store.VND, 0},
		{store.USD, 2},
		{store.JPY, 0},
	}
	for _, tt := range tests {
		t.Run(string(tt.currency)+" has the minor unit of ISO 4217", func(t *testing.T) {
			if got := tt.currency.Exponent(); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestMoneyPlain(t *testing.T) {
	tests := []struct {
		name  string
		money store.Money
		want  string
	}{
		{"a USD amount has exactly two decimals", store.Money{Minor: 1250, Currency: store.USD}, "12.50"},
		{"one cent is 0.01", store.Money{Minor: 1, Currency: store.USD}, "0.01"},
		{"a VND amount has no decimals", store.Money{Minor: 1_250_000, Currency: store.VND}, "1250000"},
		{"a negative USD amount keeps its sign", store.Money{Minor: -500, Currency: store.USD}, "-5.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.money.Plain(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			// Plain is what CSV carries, so reading it back gives the same amount.
			back, err := store.ParseMoney(tt.money.Plain(), tt.money.Currency)
			if err != nil {
				t.Fatal(err)
			}
			if back != tt.money {
				t.Errorf("read back %+v, want %+v", back, tt.money)
			}
		})
	}
}

func TestMoneySum(t *testing.T) {
	t.Run("5,000 plans of 40 billion dong sum exactly to 200 trillion dong", func(t *testing.T) {
		plan := MustParseMoney(t, "40000000000", store.VND)
		total := store.Money{Currency: store.VND}
		for range 5000 {
			total = total.Add(plan)
		}
		if got, want := total, (store.Money{Minor: 200_000_000_000_000, Currency: store.VND}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if got, want := total.Plain(), "200000000000000"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("adding cents one at a time loses none", func(t *testing.T) {
		cent := MustParseMoney(t, "0.01", store.USD)
		total := store.Money{Currency: store.USD}
		for range 1000 {
			total = total.Add(cent)
		}
		if got, want := total.Plain(), "10.00"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("subtracting gives the exact difference", func(t *testing.T) {
		got := MustParseMoney(t, "10.00", store.USD).Sub(MustParseMoney(t, "0.01", store.USD))
		if want := (store.Money{Minor: 999, Currency: store.USD}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
}

func TestMoneyAcrossCurrencies(t *testing.T) {
	vnd := store.Money{Minor: 1000, Currency: store.VND}
	usd := store.Money{Minor: 1000, Currency: store.USD}
	t.Run("adding dollars to dong panics", func(t *testing.T) {
		MustPanic(t, func() { vnd.Add(usd) })
	})
	t.Run("subtracting yen from dollars panics", func(t *testing.T) {
		MustPanic(t, func() { usd.Sub(store.Money{Minor: 1, Currency: store.JPY}) })
	})
	t.Run("adding an amount with no currency panics", func(t *testing.T) {
		MustPanic(t, func() { vnd.Add(store.Money{Minor: 1}) })
	})
}

// MustParseMoney returns the amount s in currency c, or fails the test.
func MustParseMoney(t *testing.T, s string, c store.Currency) store.Money {
	t.Helper()
	m, err := store.ParseMoney(s, c)
	if err != nil {
		t.Fatalf("ParseMoney(%q, %s): %v", s, c, err)
	}
	return m
}

// MustPanic fails the test unless f panics.
func MustPanic(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("got no panic, want one")
		}
	}()
	f()
}
