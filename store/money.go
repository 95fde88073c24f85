package store

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Currency is an ISO 4217 code of a currency an account may bill in.
type Currency string

// The currencies an account may bill in.
const (
	VND Currency = "VND"
	USD Currency = "USD"
	JPY Currency = "JPY"
)

// ParseCurrency returns the Currency named by s, or an EINVALID error.
func ParseCurrency(s string) (Currency, error) {
	switch c := Currency(s); c {
	case VND, USD, JPY:
		return c, nil
	}
	return "", Errorf(EINVALID, "Currency %q is not one of VND, USD, JPY.", s)
}

// Exponent returns the number of decimal digits of the currency's minor unit
// (ISO 4217): 0 for VND and JPY, 2 for USD.
func (c Currency) Exponent() int32 {
	if c == USD {
		return 2
	}
	return 0
}

// Money is an exact amount in one currency, held as an integer count of the
// currency's minor unit. An int64 holds ±9.2e18 minor units: for VND that is
// 9.2 billion plans of a billion dong each, so sums never overflow in practice,
// and SQLite reports an overflow as an error rather than rounding.
type Money struct {
	Minor    int64
	Currency Currency
}

// Decimal returns the amount in the currency's major unit, exactly.
func (m Money) Decimal() decimal.Decimal {
	return decimal.New(m.Minor, -m.Currency.Exponent())
}

// Plain returns the amount as a plain decimal in the major unit with exactly the
// currency's number of decimals ("1250000", "12.50"), as CSV and JSON carry it.
func (m Money) Plain() string {
	return m.Decimal().StringFixed(m.Currency.Exponent())
}

// Add returns m + n. It panics when the currencies differ: amounts in different
// currencies are never added, and a caller that tries has a bug.
func (m Money) Add(n Money) Money {
	if m.Currency != n.Currency {
		panic(fmt.Sprintf("store: add %s to %s", n.Currency, m.Currency))
	}
	return Money{Minor: m.Minor + n.Minor, Currency: m.Currency}
}

// Sub returns m - n, with the same rule as Add.
func (m Money) Sub(n Money) Money {
	return m.Add(Money{Minor: -n.Minor, Currency: n.Currency})
}

// IsZero reports whether the amount is zero.
func (m Money) IsZero() bool { return m.Minor == 0 }

// ParseMoney reads a decimal amount in the major unit of c ("150000000", "2.54").
// It returns an EINVALID error for text that is not a plain decimal, for more
// decimals than the currency has, and for amounts an int64 of minor units cannot hold.
func ParseMoney(s string, c Currency) (Money, error) {
	s = strings.TrimSpace(s)
	d, err := ParseDecimal(s)
	if err != nil {
		return Money{}, err
	}
	exp := c.Exponent()
	minor := d.Shift(exp)
	if !minor.Equal(minor.Truncate(0)) {
		if exp == 0 {
			return Money{}, Errorf(EINVALID, "%s amounts have no decimals.", c)
		}
		return Money{}, Errorf(EINVALID, "%s amounts have at most %d decimals.", c, exp)
	}
	if minor.Abs().GreaterThan(decimal.New(1, 17)) {
		return Money{}, Errorf(EINVALID, "The amount %s is too large.", s)
	}
	return Money{Minor: minor.IntPart(), Currency: c}, nil
}

// ParseDecimal reads a plain decimal number ("3.5", "-2", "0.000002"). It refuses
// exponents, signs other than a leading minus, and anything that is not a number,
// with an EINVALID error.
func ParseDecimal(s string) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Decimal{}, Errorf(EINVALID, "A number is required.")
	}
	digits, dot := 0, false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.' && !dot:
			dot = true
		case r == '-' && i == 0:
		default:
			return decimal.Decimal{}, Errorf(EINVALID, "%q is not a number.", s)
		}
	}
	if digits == 0 || digits > 60 {
		return decimal.Decimal{}, Errorf(EINVALID, "%q is not a number.", s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, Errorf(EINVALID, "%q is not a number.", s)
	}
	return d, nil
}
