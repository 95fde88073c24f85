package store

// Reading one plan for its detail page: the plan, its spend per day, the
// depletion forecast, and its history (payments, renewals, audit log), all in
// one read transaction, so that every figure on the page agrees with every
// other even while usage is being applied.

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// ChartMaxDays is the most days of spend PlanDetail reads for a plan's chart:
// a plan longer than that shows its last two years.
const ChartMaxDays = 730

// ForecastMaxDays is the most days of forecast PlanDetail carries on after today.
const ForecastMaxDays = 90

// HistoryLimit is the most payments, renewals and audit entries PlanDetail
// reads of one plan, each; the totals say how many there are in all.
const HistoryLimit = 100

// DaySpend is what a plan consumed on one calendar day of its account.
type DaySpend struct {
	Day    Date
	Amount Money
}

// PaymentRecord is one payment of a plan, as its history shows it.
type PaymentRecord struct {
	ID     int64
	Amount Money
	Method PaymentMethod
	// Pending says a bank transfer waits for an operator; otherwise the payment
	// is completed and counts as paid.
	Pending   bool
	Reference string
	// PaidAt is when the money was received, nil while pending.
	PaidAt    *time.Time
	CreatedAt time.Time
	PaidBy    string
}

// At returns when the payment was received, or when it was recorded while it
// is pending.
func (r PaymentRecord) At() time.Time {
	if r.PaidAt != nil {
		return *r.PaidAt
	}
	return r.CreatedAt
}

// RenewalRecord is one renewal of a plan, as its history shows it.
type RenewalRecord struct {
	ID           int64
	TermMonths   int
	Price        Money
	OldEndDate   Date
	NewStartDate Date
	NewEndDate   Date
	RenewedAt    time.Time
	RenewedBy    string
}

// PlanDetail is everything the plan detail page shows about one plan, read in
// one transaction.
type PlanDetail struct {
	Plan Plan
	// Version is the account's plans_version the page was read at: any change
	// to the account's plans, their daily spend included, makes a new one.
	Version int64
	// Now is the instant the transaction read; Today is its date in Location,
	// the account's time zone.
	Now      time.Time
	Today    Date
	Location *time.Location
	// BurnFrom and BurnTo (inclusive) are the plan's BurnWindow on Today,
	// BurnDays its length in days, and SpentInWindow what the plan consumed in it.
	BurnFrom, BurnTo Date
	BurnDays         int
	SpentInWindow    Money
	// Forecast is Plan.Forecast on Today given SpentInWindow.
	Forecast Forecast
	// Daily is the plan's spend per day, oldest first, zero-filled: every day
	// from the plan's start date (or ChartMaxDays before the last day, when the
	// plan is longer) to today, or to its end date when it has ended. Spend
	// outside a plan's dates cannot happen, so the days after its end would
	// all be zeros. Empty for a plan that has not started.
	Daily []DaySpend
	// Projected carries Daily on after today at the forecast's burn rate (see
	// ProjectedSpend); empty when nothing is forecast.
	Projected []DaySpend
	// Payments, Renewals and Audit are the plan's history, newest first, at
	// most HistoryLimit each; the totals count them all.
	Payments      []PaymentRecord
	PaymentsTotal int
	Renewals      []RenewalRecord
	RenewalsTotal int
	Audit         []AuditEntry
	AuditTotal    int
}

// PlanDetail returns the account's plan with the given code and everything its
// detail page shows, read in one transaction, with today taken from the
// database clock in the account's time zone. It returns an ENOTFOUND error when
// the account has no plan with that code (another account's plan is not
// found), or an error when the database fails.
func (db *DB) PlanDetail(ctx context.Context, accountID int64, code string) (PlanDetail, error) {
	var d PlanDetail
	err := db.view(ctx, func(tx *Tx) error {
		var err error
		d, err = planDetail(ctx, tx, accountID, code)
		return err
	})
	return d, err
}

func planDetail(ctx context.Context, tx *Tx, accountID int64, code string) (PlanDetail, error) {
	var d PlanDetail
	p, err := findPlan(ctx, tx, accountID, code)
	if err != nil {
		return d, err
	}
	var tz string
	if err := tx.QueryRowContext(ctx, `SELECT timezone, plans_version FROM accounts WHERE id = ?`, accountID).Scan(&tz, &d.Version); err != nil {
		return d, fmt.Errorf("store: plan detail: account time zone: %w", err)
	}
	d.Plan, d.Now, d.Location = p, tx.Now(), LoadLocation(tz)
	d.Today = DateOf(d.Now, d.Location)
	cur := p.Amount.Currency

	d.BurnFrom, d.BurnTo, d.BurnDays = p.BurnWindow(d.Today)
	spent, err := planSpendBetween(ctx, tx, p.ID, d.BurnFrom, d.BurnTo)
	if err != nil {
		return d, err
	}
	d.SpentInWindow = Money{spent, cur}
	d.Forecast = p.Forecast(d.Today, d.SpentInWindow)
	d.Projected = ProjectedSpend(p, d.Today, d.Forecast, ForecastMaxDays)

	if from, to, ok := ChartSpan(p, d.Today); ok {
		if d.Daily, err = planDailySpend(ctx, tx, p.ID, cur, from, to); err != nil {
			return d, err
		}
	}
	if d.Payments, d.PaymentsTotal, err = planPayments(ctx, tx, p.ID, cur); err != nil {
		return d, err
	}
	if d.Renewals, d.RenewalsTotal, err = planRenewals(ctx, tx, p.ID, cur); err != nil {
		return d, err
	}
	if d.Audit, d.AuditTotal, err = planAudit(ctx, tx, p.ID); err != nil {
		return d, err
	}
	return d, nil
}

// ChartSpan returns the days (inclusive) of a plan's spend chart on today: from
// its start date to today, or to its end date once it has ended, and no more
// than the last ChartMaxDays of them. ok is false when the plan has not started.
func ChartSpan(p Plan, today Date) (from, to Date, ok bool) {
	to = today
	if p.EndDate.Before(to) {
		to = p.EndDate
	}
	if to.Before(p.StartDate) {
		return Date{}, Date{}, false
	}
	from = p.StartDate
	if earliest := to.AddDays(-(ChartMaxDays - 1)); from.Before(earliest) {
		from = earliest
	}
	return from, to, true
}

// ProjectedSpend returns the days after today that forecast f of plan p
// carries on, each at the burn rate rounded to the minor unit (half away from
// zero): up to the day the balance is forecast to run out (ForecastDepletes)
// or to the end date (ForecastOutlastsEnd), at most maxDays of them. The days
// never add up to more than the plan's remaining balance: the last one takes
// only what is left. It returns nil when nothing is forecast.
func ProjectedSpend(p Plan, today Date, f Forecast, maxDays int) []DaySpend {
	var last Date
	switch f.Kind {
	case ForecastDepletes:
		last = f.DepletesOn
	case ForecastOutlastsEnd:
		last = p.EndDate
	default:
		return nil
	}
	if limit := today.AddDays(maxDays); last.After(limit) {
		last = limit
	}
	rate := f.BurnRate.Round(0).IntPart()
	left := p.Remaining().Minor
	var out []DaySpend
	for day := today.AddDays(1); !day.After(last); day = day.AddDays(1) {
		amt := min(rate, left)
		left -= amt
		out = append(out, DaySpend{Day: day, Amount: Money{amt, p.Amount.Currency}})
	}
	return out
}

// planDailySpend returns the plan's spend on every day from..to (inclusive),
// oldest first, with a zero for each day it spent nothing. SQLite joins the
// rows into one text ("2026-01-02=1500,2026-01-03=70"): two years of days are
// then one row, not 730, each of which would cost a round trip through cgo
// worth more than the rest of the page's queries. Integers become text exactly.
func planDailySpend(ctx context.Context, tx *Tx, planID int64, cur Currency, from, to Date) ([]DaySpend, error) {
	n := from.DaysUntil(to) + 1
	if n <= 0 {
		return nil, nil
	}
	out := make([]DaySpend, n)
	for i := range out {
		out[i] = DaySpend{Day: from.AddDays(i), Amount: Money{0, cur}}
	}
	var joined string
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(group_concat(day || '=' || amount, ','), '') FROM plan_daily_spend
		WHERE plan_id = ? AND day >= ? AND day <= ?`, planID, from.String(), to.String()).Scan(&joined)
	if err != nil {
		return nil, fmt.Errorf("store: plan daily spend: %w", err)
	}
	for joined != "" {
		var item string
		item, joined, _ = strings.Cut(joined, ",")
		day, amount, _ := strings.Cut(item, "=")
		d, ok := parseDay(day)
		a, err := strconv.ParseInt(amount, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: plan daily spend: bad day %q", item)
		}
		if i := from.DaysUntil(d); i >= 0 && i < n {
			out[i].Amount.Minor += a
		}
	}
	return out, nil
}

// parseDay reads a YYYY-MM-DD day as the database stores it. It is
// ParseDate without time.Parse, which costs more than the rest of reading a
// row when a chart reads two years of days.
func parseDay(s string) (Date, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, false
	}
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	y, ok1 := num(s[:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return Date{}, false
	}
	date := NewDate(y, time.Month(m), d)
	// NewDate normalises 31 April to 1 May; a stored day never needs that.
	if date.Day() != d {
		return Date{}, false
	}
	return date, true
}

// planSpendBetween returns what the plan consumed on the days from..to (inclusive).
func planSpendBetween(ctx context.Context, tx *Tx, planID int64, from, to Date) (int64, error) {
	var n int64
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM plan_daily_spend
		WHERE plan_id = ? AND day >= ? AND day <= ?`, planID, from.String(), to.String()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: plan spend: %w", err)
	}
	return n, nil
}

// planPayments returns the plan's payments, newest first (pending ones by when
// they were recorded), and how many there are. It reads only the columns of
// migration 0001.
func planPayments(ctx context.Context, tx *Tx, planID int64, cur Currency) ([]PaymentRecord, int, error) {
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM payments WHERE plan_id = ?`, planID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count plan payments: %w", err)
	}
	if total == 0 {
		return nil, 0, nil
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT id, amount, method, status, COALESCE(reference, ''), paid_at, created_at, paid_by
		FROM payments WHERE plan_id = ?
		ORDER BY COALESCE(paid_at, created_at) DESC, id DESC LIMIT ?`, planID, HistoryLimit)
	if err != nil {
		return nil, 0, fmt.Errorf("store: find plan payments: %w", err)
	}
	defer rows.Close()
	var out []PaymentRecord
	for rows.Next() {
		var (
			r              PaymentRecord
			amount         int64
			method, status string
			paidAt         sql.NullString
			created        string
		)
		if err := rows.Scan(&r.ID, &amount, &method, &status, &r.Reference, &paidAt, &created, &r.PaidBy); err != nil {
			return nil, 0, fmt.Errorf("store: find plan payments: %w", err)
		}
		r.Amount, r.Method, r.Pending = Money{amount, cur}, PaymentMethod(method), status == "pending"
		if r.PaidAt, err = parseNullInstant(paidAt); err != nil {
			return nil, 0, fmt.Errorf("store: payment %d: %w", r.ID, err)
		}
		if r.CreatedAt, err = parseInstant(created); err != nil {
			return nil, 0, fmt.Errorf("store: payment %d: %w", r.ID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: find plan payments: %w", err)
	}
	return out, total, nil
}

// planRenewals returns the plan's renewals, newest first, and how many there are.
func planRenewals(ctx context.Context, tx *Tx, planID int64, cur Currency) ([]RenewalRecord, int, error) {
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM renewals WHERE plan_id = ?`, planID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count plan renewals: %w", err)
	}
	if total == 0 {
		return nil, 0, nil
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT id, term_months, price, old_end_date, new_start_date, new_end_date, renewed_at, renewed_by
		FROM renewals WHERE plan_id = ?
		ORDER BY renewed_at DESC, id DESC LIMIT ?`, planID, HistoryLimit)
	if err != nil {
		return nil, 0, fmt.Errorf("store: find plan renewals: %w", err)
	}
	defer rows.Close()
	var out []RenewalRecord
	for rows.Next() {
		var (
			r                  RenewalRecord
			price              int64
			oldEnd, start, end string
			at                 string
		)
		if err := rows.Scan(&r.ID, &r.TermMonths, &price, &oldEnd, &start, &end, &at, &r.RenewedBy); err != nil {
			return nil, 0, fmt.Errorf("store: find plan renewals: %w", err)
		}
		r.Price = Money{price, cur}
		if r.OldEndDate, err = ParseDate(oldEnd); err != nil {
			return nil, 0, fmt.Errorf("store: renewal %d: %w", r.ID, err)
		}
		if r.NewStartDate, err = ParseDate(start); err != nil {
			return nil, 0, fmt.Errorf("store: renewal %d: %w", r.ID, err)
		}
		if r.NewEndDate, err = ParseDate(end); err != nil {
			return nil, 0, fmt.Errorf("store: renewal %d: %w", r.ID, err)
		}
		if r.RenewedAt, err = parseInstant(at); err != nil {
			return nil, 0, fmt.Errorf("store: renewal %d: %w", r.ID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: find plan renewals: %w", err)
	}
	return out, total, nil
}

// planAudit returns the plan's audit log entries, newest first, and how many
// there are. It is DB.AuditLog with a plan filter, inside the caller's
// transaction (AuditLog opens one of its own).
func planAudit(ctx context.Context, tx *Tx, planID int64) ([]AuditEntry, int, error) {
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE plan_id = ?`, planID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count plan audit log: %w", err)
	}
	if total == 0 {
		return nil, 0, nil
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT id, at, account_id, plan_id, actor, action, detail, before, after, ip
		FROM audit_log WHERE plan_id = ? ORDER BY at DESC, id DESC LIMIT ?`, planID, HistoryLimit)
	if err != nil {
		return nil, 0, fmt.Errorf("store: find plan audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at string
		var account, plan sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &account, &plan, &e.Actor, &e.Action, &e.Detail, &e.Before, &e.After, &e.IP); err != nil {
			return nil, 0, fmt.Errorf("store: find plan audit log: %w", err)
		}
		if e.At, err = parseInstant(at); err != nil {
			return nil, 0, fmt.Errorf("store: audit entry %d: %w", e.ID, err)
		}
		e.AccountID, e.PlanID = account.Int64, plan.Int64
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: find plan audit log: %w", err)
	}
	return out, total, nil
}

// SharesOfTotal returns each amount's share of their sum in percent with one
// decimal, such that the shares add up to exactly 100.0, or are all 0.0 when
// the sum is zero. It works in tenths of a percent, in integers (the largest
// remainder method): each amount gets the whole tenths of its exact share, and
// the tenths still missing go one each to the amounts with the largest
// remainders; equal remainders go to the larger amount, then to the earlier
// one. Negative amounts count as zero. The arithmetic is in big integers, so no
// sum or product of int64 amounts can overflow.
func SharesOfTotal(amounts []int64) []decimal.Decimal {
	out := make([]decimal.Decimal, len(amounts))
	vals := make([]*big.Int, len(amounts))
	total := new(big.Int)
	for i, a := range amounts {
		vals[i] = big.NewInt(max(a, 0))
		total.Add(total, vals[i])
	}
	if total.Sign() == 0 {
		for i := range out {
			out[i] = decimal.New(0, -1)
		}
		return out
	}
	thousand := big.NewInt(1000)
	tenths := make([]int64, len(amounts))
	rests := make([]*big.Int, len(amounts))
	var given int64
	for i, v := range vals {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(v, thousand), total, new(big.Int))
		tenths[i], rests[i] = q.Int64(), r // q ≤ 1000: each amount is at most the total
		given += tenths[i]
	}
	order := make([]int, len(amounts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		i, j := order[a], order[b]
		if c := rests[i].Cmp(rests[j]); c != 0 {
			return c > 0
		}
		return vals[i].Cmp(vals[j]) > 0
	})
	// Each amount lost less than one tenth, so fewer tenths are missing than
	// there are amounts.
	for k := 0; given < 1000; k++ {
		tenths[order[k]]++
		given++
	}
	for i, t := range tenths {
		out[i] = decimal.New(t, -1)
	}
	return out
}
