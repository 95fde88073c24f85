package store

// The billing overview: an account's credit in the order the ledger engine
// draws it (plans, vouchers, top-up credit, then uncovered), this month's
// spend from each source, and the credit that ends soon with what it is
// forecast to leave unused.

import (
	"context"
	"fmt"
	"slices"
	"sort"
)

// Overview is an account's billing overview on a day.
type Overview struct {
	Today Date
	// Plans are the first OverviewPlans of the plans Active today with a
	// balance left, in draw order (the plan that ends soonest first, then the
	// one that started first, then code); PlansInUse counts them all.
	Plans      []Plan
	PlansInUse int
	// Vouchers are the vouchers Valid today, in draw order (soonest expiry
	// first, then code).
	Vouchers []Voucher
	// PlanCredit is the remaining balance of Plans, VoucherCredit of Vouchers.
	PlanCredit    Money
	VoucherCredit Money
	// TopupCredit is the account's top-up balance; Uncovered what is owed.
	TopupCredit Money
	Uncovered   Money
	// MonthFrom is the 1st of Today's month; SpentThisMonth is what consumption
	// drew from each source from MonthFrom to Today, in minor units.
	MonthFrom      Date
	SpentThisMonth Drawn
	// AtRisk is the credit that ends within AtRiskDays, soonest end first.
	AtRisk []CreditAtRisk
}

// OverviewPlans is how many plans in use the overview lists; the plan list
// shows the rest.
const OverviewPlans = 10

// AtRiskDays is how far ahead the overview looks for credit that ends: a plan
// or voucher whose last day is within the next AtRiskDays days, today counted.
const AtRiskDays = 30

// CreditAtRisk is a plan or voucher that ends soon, with the amount forecast
// to be left unused at its end at the current burn rate.
type CreditAtRisk struct {
	// Source is SourcePlan or SourceVoucher.
	Source CreditSource
	Code   string
	// EndDate is the plan's end date or the voucher's expiry date; DaysLeft
	// counts today to it, both included.
	EndDate   Date
	DaysLeft  int
	Remaining Money
	// Forecast is the depletion forecast over the burn window (the last 7
	// whole days, fewer when the credit is younger). Unused is its UnusedAtEnd
	// when the balance outlasts the end, zero when it runs out first, and the
	// whole remaining balance when nothing was used in the window.
	Forecast Forecast
	Unused   Money
}

// BillingOverview returns the account's overview on today. It returns an error
// only when the database fails.
func (db *DB) BillingOverview(ctx context.Context, a Account, today Date) (Overview, error) {
	c := a.Currency
	o := Overview{Today: today, PlanCredit: Money{0, c}, VoucherCredit: Money{0, c}}
	err := db.view(ctx, func(tx *Tx) error {
		t := today.String()
		var topup, owed int64
		if err := tx.QueryRowContext(ctx, `SELECT topup_balance, uncovered FROM accounts WHERE id = ?`, a.ID).Scan(&topup, &owed); err != nil {
			return fmt.Errorf("store: overview account: %w", err)
		}
		o.TopupCredit, o.Uncovered = Money{topup, c}, Money{owed, c}

		plans, err := db.overviewPlans(ctx, tx, a, today)
		if err != nil {
			return err
		}
		o.Plans, o.PlansInUse, o.PlanCredit = plans.first, plans.inUse, plans.credit

		vouchers, err := findVouchers(ctx, tx, a)
		if err != nil {
			return err
		}
		for _, v := range vouchers {
			if v.Status(today) == VoucherValid {
				o.Vouchers = append(o.Vouchers, v)
				o.VoucherCredit = o.VoucherCredit.Add(v.Remaining)
			}
		}
		sort.Slice(o.Vouchers, func(i, j int) bool {
			vi, vj := o.Vouchers[i], o.Vouchers[j]
			if vi.ExpiryDate.Before(vj.ExpiryDate) || vj.ExpiryDate.Before(vi.ExpiryDate) {
				return vi.ExpiryDate.Before(vj.ExpiryDate)
			}
			return vi.Code < vj.Code
		})

		o.MonthFrom, _, _, _ = MonthSpans(today)
		spend, err := tx.QueryContext(ctx, `SELECT source, SUM(amount) FROM account_daily_spend
			WHERE account_id = ? AND day >= ? AND day <= ? GROUP BY source`, a.ID, o.MonthFrom.String(), t)
		if err != nil {
			return fmt.Errorf("store: overview spend: %w", err)
		}
		defer spend.Close()
		for spend.Next() {
			var source string
			var amount int64
			if err := spend.Scan(&source, &amount); err != nil {
				return fmt.Errorf("store: overview spend: %w", err)
			}
			o.SpentThisMonth.add(CreditSource(source), amount)
		}
		if err := spend.Err(); err != nil {
			return fmt.Errorf("store: overview spend: %w", err)
		}

		vouchersAtRisk, err := creditAtRisk(ctx, tx, a, today, nil, o.Vouchers)
		if err != nil {
			return err
		}
		// Stable: plans first, each group in draw order.
		o.AtRisk = append(slices.Clip(plans.atRisk), vouchersAtRisk...)
		sort.SliceStable(o.AtRisk, func(i, j int) bool { return o.AtRisk[i].EndDate.Before(o.AtRisk[j].EndDate) })
		return nil
	})
	return o, err
}

// overviewPlanPart is the part of an account's overview that comes from its
// plans, cached per account by overviewPlans.
type overviewPlanPart struct {
	version int64 // accounts.plans_version
	today   Date
	// first are the first OverviewPlans plans in use, in draw order; inUse
	// counts them all, and credit is their remaining balance.
	first  []Plan
	inUse  int
	credit Money
	// atRisk are the plans in use that end within AtRiskDays.
	atRisk []CreditAtRisk
}

// overviewPlans returns the plan part of the account's overview on today.
// An account can have thousands of plans in use, so it is cached per account
// and day until accounts.plans_version changes. What the plan figures read
// changes only with a plan: a plan's daily spend grows only with its consumed
// amount, and a new day of spend is counted by the trigger of migration 0006.
func (db *DB) overviewPlans(ctx context.Context, tx *Tx, a Account, today Date) (overviewPlanPart, error) {
	version, err := plansVersion(ctx, tx, a.ID)
	if err != nil {
		return overviewPlanPart{}, err
	}
	if c, ok := db.overviews.Load(a.ID); ok {
		if c := c.(overviewPlanPart); c.version == version && c.today == today {
			return c, nil
		}
	}
	part := overviewPlanPart{version: version, today: today, credit: Money{0, a.Currency}}
	t := today.String()
	// The SQL narrows to candidates; the rules decide.
	rows, err := tx.QueryContext(ctx, `SELECT `+planColumns+` FROM plans p JOIN accounts a ON a.id = p.account_id
		WHERE p.account_id = ? AND `+activeSQL+` ORDER BY p.end_date, p.start_date, p.code`, a.ID, t, t)
	if err != nil {
		return part, fmt.Errorf("store: overview plans: %w", err)
	}
	defer rows.Close()
	var ending []Plan
	last := today.AddDays(AtRiskDays - 1)
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return part, fmt.Errorf("store: overview plans: %w", err)
		}
		if p.Status(today) != StatusActive || p.Remaining().Minor <= 0 {
			continue
		}
		part.inUse++
		part.credit = part.credit.Add(p.Remaining())
		if len(part.first) < OverviewPlans {
			part.first = append(part.first, p)
		}
		if !p.EndDate.After(last) {
			ending = append(ending, p)
		}
	}
	if err := rows.Err(); err != nil {
		return part, fmt.Errorf("store: overview plans: %w", err)
	}
	rows.Close()
	if part.atRisk, err = creditAtRisk(ctx, tx, a, today, ending, nil); err != nil {
		return part, err
	}
	db.overviews.Store(a.ID, part)
	return part, nil
}

// creditAtRisk returns the plans and vouchers (of those given: Active and
// Valid today) whose last day is within AtRiskDays, with their forecasts:
// soonest end first, plans before vouchers of the same day (the draw order).
func creditAtRisk(ctx context.Context, tx *Tx, a Account, today Date, plans []Plan, vouchers []Voucher) ([]CreditAtRisk, error) {
	last := today.AddDays(AtRiskDays - 1)
	var out []CreditAtRisk
	for _, p := range plans {
		if p.EndDate.After(last) {
			continue
		}
		from, to, _ := p.BurnWindow(today)
		var spent int64
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM plan_daily_spend WHERE plan_id = ? AND day >= ? AND day <= ?`,
			p.ID, from.String(), to.String()).Scan(&spent)
		if err != nil {
			return nil, fmt.Errorf("store: plan burn: %w", err)
		}
		fc := p.Forecast(today, Money{spent, a.Currency})
		out = append(out, CreditAtRisk{Source: SourcePlan, Code: p.Code, EndDate: p.EndDate, DaysLeft: p.DaysRemaining(today),
			Remaining: p.Remaining(), Forecast: fc, Unused: unusedAtEnd(fc, p.Remaining())})
	}
	loc := a.Location()
	for _, v := range vouchers {
		if v.ExpiryDate.After(last) {
			continue
		}
		from, to, _ := v.BurnWindow(today)
		var spent int64
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM consumptions WHERE voucher_id = ? AND at >= ? AND at < ?`,
			v.ID, formatInstant(from.Start(loc)), formatInstant(to.AddDays(1).Start(loc))).Scan(&spent)
		if err != nil {
			return nil, fmt.Errorf("store: voucher burn: %w", err)
		}
		fc := v.Forecast(today, Money{spent, a.Currency})
		out = append(out, CreditAtRisk{Source: SourceVoucher, Code: v.Code, EndDate: v.ExpiryDate, DaysLeft: today.DaysUntil(v.ExpiryDate) + 1,
			Remaining: v.Remaining, Forecast: fc, Unused: unusedAtEnd(fc, v.Remaining)})
	}
	// Stable: plans came first, each group in draw order.
	sort.SliceStable(out, func(i, j int) bool { return out[i].EndDate.Before(out[j].EndDate) })
	return out, nil
}

// unusedAtEnd returns what a forecast leaves unused at the end: its
// UnusedAtEnd when the balance outlasts the end, nothing when it runs out
// first, and the whole remaining balance when nothing is being used.
func unusedAtEnd(fc Forecast, remaining Money) Money {
	switch fc.Kind {
	case ForecastOutlastsEnd:
		return fc.UnusedAtEnd
	case ForecastDepletes:
		return Money{0, remaining.Currency}
	}
	return remaining
}

// asPlan returns the voucher as a plan of its dates and balance, Active while
// Valid: a voucher's credit burns as a plan's does, so its burn window and
// forecast are the plan rules' own, not a second copy of them.
func (v Voucher) asPlan() Plan {
	activated := v.EffectiveDate.Start(LoadLocation(DefaultTimeZone))
	return Plan{
		StartDate: v.EffectiveDate, EndDate: v.ExpiryDate,
		Amount: v.Amount, Consumed: v.Amount.Sub(v.Remaining),
		ActivatedAt: &activated,
	}
}

// BurnWindow returns the days a voucher's burn rate is measured over on the
// given day: the last 7 whole days before today, fewer when the voucher became
// effective less than 7 days ago, at least 1 (Plan.BurnWindow's rule).
func (v Voucher) BurnWindow(today Date) (from, to Date, days int) {
	return v.asPlan().BurnWindow(today)
}

// Forecast returns the depletion forecast of a voucher on the given day given
// what it paid for in its BurnWindow, by Plan.Forecast's rule over the
// voucher's dates and balance; ForecastNone unless the voucher is Valid.
func (v Voucher) Forecast(today Date, spentInWindow Money) Forecast {
	if v.Status(today) != VoucherValid {
		return Forecast{Kind: ForecastNone}
	}
	return v.asPlan().Forecast(today, spentInWindow)
}
