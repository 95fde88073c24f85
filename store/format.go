package store

// Formatting of money and exact decimals for people to read. Money is an int64
// count of minor units and decimals are arbitrary precision; neither ever passes
// through a float64 here.
//
// golang.org/x/text formats a number exactly only when it is given an integer:
// its number formatter converts anything else (and, with a rounding increment,
// as currency.Amount sets, even integers) through float64, and its exact decimal
// input type is internal to the module. So the integer part is formatted by x/text
// from an integer, which gives the locale's digit grouping, and the fraction
// digits, already exact, are appended after the locale's decimal separator.

import (
	"strings"
	"sync"

	"github.com/shopspring/decimal"
	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// displayLanguage is the language money and numbers are written in. The pages
// are in English, so amounts are grouped the English way ("1,234.50").
var displayLanguage = language.English

// printer formats in displayLanguage. A message.Printer copies its state per
// call, so one may be shared by goroutines.
var printer = message.NewPrinter(displayLanguage)

// decimalSeparator is the separator of the fraction digits in displayLanguage.
// x/text keeps its symbol tables internal, so it is read once from a number it
// formats exactly: a one with a fixed fraction digit.
var decimalSeparator = strings.Trim(printer.Sprint(number.Decimal(1, number.Scale(1))), "01")

// String returns the amount the way its currency is written in English: the
// currency's symbol, digits grouped by thousands, and exactly as many decimals as
// the currency's minor unit has ("$1,234.50", "₫1,250,000,000", "¥12,345",
// "-$5.00"). It is exact for every int64 amount. An amount with no currency, or a
// currency x/text does not know, is written with its code after the number.
func (m Money) String() string {
	exp := m.Currency.Exponent()
	unit := uint64(1)
	for range exp {
		unit *= 10
	}
	// The magnitude as a uint64, so that the smallest int64 has one too.
	abs := uint64(m.Minor)
	if m.Minor < 0 {
		abs = -abs
	}
	var b strings.Builder
	if m.Minor < 0 {
		b.WriteString("-")
	}
	symbol, known := currencySymbol(m.Currency)
	if known {
		b.WriteString(symbol)
	}
	b.WriteString(printer.Sprint(number.Decimal(abs / unit)))
	if exp > 0 {
		b.WriteString(decimalSeparator)
		frac := decimal.NewFromUint64(abs % unit).String()
		b.WriteString(strings.Repeat("0", int(exp)-len(frac)))
		b.WriteString(frac)
	}
	if !known && m.Currency != "" {
		b.WriteString(" ")
		b.WriteString(string(m.Currency))
	}
	return b.String()
}

// currencySymbol returns the symbol of c in displayLanguage ("$", "₫", "¥"), or
// false when x/text does not know the currency.
func currencySymbol(c Currency) (string, bool) {
	if s, ok := currencySymbols.Load(c); ok {
		sym := s.(symbol)
		return sym.text, sym.known
	}
	var sym symbol
	if unit, err := currency.ParseISO(string(c)); err == nil {
		sym = symbol{printer.Sprint(currency.NarrowSymbol(unit)), true}
	}
	currencySymbols.Store(c, sym)
	return sym.text, sym.known
}

// currencySymbols caches currencySymbol: a page of a long chart formats
// hundreds of amounts, and looking the symbol up is most of the cost of each.
var currencySymbols sync.Map // Currency -> symbol

type symbol struct {
	text  string
	known bool
}

// FormatDecimal returns d with its integer digits grouped by thousands and all
// its fraction digits, none rounded away ("1,234.000002", "-0.5"). Trailing
// zeros of the fraction are not shown: 1.50 is written "1.5". It never fails.
func FormatDecimal(d decimal.Decimal) string {
	var b strings.Builder
	if d.Sign() < 0 {
		b.WriteString("-")
		d = d.Neg()
	}
	whole := d.Truncate(0)
	b.WriteString(groupInteger(whole))
	if frac := d.Sub(whole); !frac.IsZero() {
		// frac is in (0, 1), so its plain text is "0." and its digits.
		b.WriteString(decimalSeparator)
		b.WriteString(strings.TrimPrefix(frac.String(), "0."))
	}
	return b.String()
}

// groupInteger returns the non-negative integer n with its digits grouped by
// thousands. x/text takes at most a uint64; a larger n (a quantity of more than
// 18 quintillion units, which the product never has) is split into a uint64
// head, formatted by x/text, and groups of three digits written after it with the
// separator x/text used.
func groupInteger(n decimal.Decimal) string {
	big := n.BigInt()
	if big.IsUint64() {
		return printer.Sprint(number.Decimal(big.Uint64()))
	}
	digits := big.String()
	// The head keeps a multiple of three digits out of the tail, so the tail's
	// groups line up; 1000 shows which separator x/text groups with.
	split := len(digits) - 18
	head, _ := decimal.NewFromString(digits[:split])
	sep := strings.Trim(printer.Sprint(number.Decimal(1000)), "01")
	var b strings.Builder
	b.WriteString(groupInteger(head))
	for i := split; i < len(digits); i += 3 {
		b.WriteString(sep)
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
