package store

// Reading billing plans: one plan by code, a filtered and sorted page of an
// account's plans, and the summary cards. Every query is scoped to an account.

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// planColumns are the columns scanPlan reads, in order; p is the plans table.
const planColumns = `p.id, p.account_id, p.code, p.type, p.start_date, p.end_date, p.first_term_months, p.first_term_amount,
	p.amount, p.region, p.payment_option, p.upfront_amount, p.payment_method, p.created_at, p.created_by, p.suspended,
	p.activated_at, p.paid_total, p.paid_upfront, p.consumed, p.depleted_at, a.currency`

type rowScanner interface {
	Scan(dest ...any) error
}

// scanPlan reads one row of planColumns.
func scanPlan(row rowScanner) (Plan, error) {
	var (
		p                                 Plan
		start, end, created, option, meth string
		firstAmount, amount, upfront      int64
		paid, paidUpfront, consumed       int64
		activated, depleted               sql.NullString
		currency                          string
	)
	if err := row.Scan(&p.ID, &p.AccountID, &p.Code, &p.Type, &start, &end, &p.FirstTermMonths, &firstAmount,
		&amount, &p.Region, &option, &upfront, &meth, &created, &p.CreatedBy, &p.Suspended,
		&activated, &paid, &paidUpfront, &consumed, &depleted, &currency); err != nil {
		return p, err
	}
	c := Currency(currency)
	p.FirstTermAmount = Money{firstAmount, c}
	p.Amount, p.UpfrontAmount = Money{amount, c}, Money{upfront, c}
	p.PaidTotal, p.PaidUpfront, p.Consumed = Money{paid, c}, Money{paidUpfront, c}, Money{consumed, c}
	p.PaymentOption, p.PaymentMethod = PaymentOption(option), PaymentMethod(meth)
	var err error
	if p.StartDate, err = ParseDate(start); err != nil {
		return p, err
	}
	if p.EndDate, err = ParseDate(end); err != nil {
		return p, err
	}
	if p.CreatedAt, err = parseInstant(created); err != nil {
		return p, err
	}
	if p.ActivatedAt, err = parseNullInstant(activated); err != nil {
		return p, err
	}
	if p.DepletedAt, err = parseNullInstant(depleted); err != nil {
		return p, err
	}
	return p, nil
}

func parseNullInstant(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseInstant(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// FindPlan returns the account's plan with the given code, with its services.
// It returns an ENOTFOUND error when no plan has that code in that account:
// another account's plan is not found, exactly as a code that does not exist.
func (db *DB) FindPlan(ctx context.Context, accountID int64, code string) (Plan, error) {
	var p Plan
	err := db.view(ctx, func(tx *Tx) error {
		var err error
		p, err = findPlan(ctx, tx, accountID, code)
		return err
	})
	return p, err
}

// findPlan is FindPlan inside the caller's transaction.
func findPlan(ctx context.Context, tx *Tx, accountID int64, code string) (Plan, error) {
	p, err := scanPlan(tx.QueryRowContext(ctx, `SELECT `+planColumns+`
		FROM plans p JOIN accounts a ON a.id = p.account_id
		WHERE p.account_id = ? AND p.code = ?`, accountID, code))
	if err == sql.ErrNoRows {
		return p, Errorf(ENOTFOUND, "There is no billing plan %s.", code)
	} else if err != nil {
		return p, fmt.Errorf("store: find plan %s: %w", code, err)
	}
	plans := []Plan{p}
	if err := attachServices(ctx, tx, plans); err != nil {
		return p, err
	}
	return plans[0], nil
}

// attachServices loads the services of the given plans in one query, in
// service name order.
func attachServices(ctx context.Context, tx *Tx, plans []Plan) error {
	if len(plans) == 0 {
		return nil
	}
	byID := make(map[int64]*Plan, len(plans))
	args := make([]any, 0, len(plans))
	for i := range plans {
		byID[plans[i].ID] = &plans[i]
		args = append(args, plans[i].ID)
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT ps.plan_id, s.id, s.code, s.name, s.unit, COALESCE(pk.code, ''), COALESCE(pk.name, ''),
			ps.price_per_unit, ps.volume, ps.spent
		FROM plan_services ps
		JOIN services s ON s.id = ps.service_id
		LEFT JOIN packages pk ON pk.id = ps.package_id
		WHERE ps.plan_id IN (?`+strings.Repeat(",?", len(args)-1)+`)
		ORDER BY s.name, s.code`, args...)
	if err != nil {
		return fmt.Errorf("store: find plan services: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			planID        int64
			ps            PlanService
			price, volume string
			spent         int64
		)
		if err := rows.Scan(&planID, &ps.Service.ID, &ps.Service.Code, &ps.Service.Name, &ps.Service.Unit,
			&ps.PackageCode, &ps.PackageName, &price, &volume, &spent); err != nil {
			return fmt.Errorf("store: find plan services: %w", err)
		}
		if ps.PricePerUnit, err = decimal.NewFromString(price); err != nil {
			return fmt.Errorf("store: price of a plan service: %w", err)
		}
		if ps.Volume, err = decimal.NewFromString(volume); err != nil {
			return fmt.Errorf("store: volume of a plan service: %w", err)
		}
		p := byID[planID]
		ps.Spent = Money{spent, p.Amount.Currency}
		p.Services = append(p.Services, ps)
	}
	return rows.Err()
}

// PlanSort is a column the plan list can be sorted by.
type PlanSort string

// The columns the plan list sorts by.
const (
	SortByCode   PlanSort = "code"
	SortByStart  PlanSort = "start"
	SortByEnd    PlanSort = "end"
	SortByUsage  PlanSort = "usage"
	SortByAmount PlanSort = "amount"
)

// planSortColumns maps each sort to its SQL; usage is consumed per ten
// thousand of the amount, in integers (an amount up to 9.2e14 minor units
// cannot overflow it), so no floating point is needed to order by it.
var planSortColumns = map[PlanSort]string{
	SortByCode:   "p.code",
	SortByStart:  "p.start_date",
	SortByEnd:    "p.end_date",
	SortByUsage:  "(CASE WHEN p.amount > 0 THEN p.consumed * 10000 / p.amount ELSE 0 END)",
	SortByAmount: "p.amount",
}

// PlanFilter selects, sorts and pages an account's plans. Zero fields select
// everything.
type PlanFilter struct {
	// Query matches part of the plan code or plan type, case-insensitively.
	Query string
	// Services keeps plans covering any of these service codes.
	Services []string
	// Status keeps plans with this status on Today.
	Status Status
	// DateField is "start" or "end": the date From and To (inclusive) apply to.
	DateField string
	From, To  Date
	// Sort and Desc order the plans; the plan code breaks ties.
	Sort PlanSort
	Desc bool
	// Offset and Limit page the result; Limit 0 means no limit.
	Offset, Limit int
	// Today is the day statuses are judged on, in the account's time zone.
	Today Date
}

// statusSQL returns SQL conditions true for an expired and for an active plan
// p on today (the first argument of each, as its ? placeholders say).
const (
	expiredSQL = `(p.end_date < ? OR (p.amount > 0 AND p.consumed >= p.amount))`
	activeSQL  = `(NOT ` + expiredSQL + ` AND p.start_date <= ? AND p.activated_at IS NOT NULL AND p.suspended = 0)`
)

// where returns the filter's WHERE clause for plans p of the account, and its arguments.
func (f PlanFilter) where(accountID int64) (string, []any) {
	conds := []string{"p.account_id = ?"}
	args := []any{accountID}
	today := f.Today.String()
	if q := strings.TrimSpace(f.Query); q != "" {
		// SQLite's LIKE ignores the case of ASCII letters already (LOWER() would
		// cost a function call a row and know no more letters); PostgreSQL
		// needs ILIKE here.
		like := "%" + escapeLike(q) + "%"
		conds = append(conds, `(p.code LIKE ? ESCAPE '\' OR p.type LIKE ? ESCAPE '\')`)
		args = append(args, like, like)
	}
	if len(f.Services) > 0 {
		conds = append(conds, `EXISTS (SELECT 1 FROM plan_services ps JOIN services s ON s.id = ps.service_id
			WHERE ps.plan_id = p.id AND s.code IN (?`+strings.Repeat(",?", len(f.Services)-1)+`))`)
		for _, s := range f.Services {
			args = append(args, s)
		}
	}
	switch f.Status {
	case StatusExpired:
		conds = append(conds, expiredSQL)
		args = append(args, today)
	case StatusActive:
		conds = append(conds, activeSQL)
		args = append(args, today, today)
	case StatusInactive:
		conds = append(conds, `NOT `+expiredSQL+` AND NOT `+activeSQL)
		args = append(args, today, today, today)
	}
	col := "p.start_date"
	if f.DateField == "end" {
		col = "p.end_date"
	}
	if !f.From.IsZero() {
		conds = append(conds, col+" >= ?")
		args = append(args, f.From.String())
	}
	if !f.To.IsZero() {
		conds = append(conds, col+" <= ?")
		args = append(args, f.To.String())
	}
	return strings.Join(conds, " AND "), args
}

// escapeLike escapes LIKE's wildcards in s, so that they match themselves.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// FindPlans returns the page of the account's plans that the filter selects,
// with their services, the number of plans it selects in all, and the
// account's summary cards. A page of at most planPageMaxLimit plans is cached
// until any of the account's plans changes (accounts.plans_version) or the day
// does, as the summary cards are: the plans and their services are shared with
// the cache, so callers must not modify them.
func (db *DB) FindPlans(ctx context.Context, accountID int64, f PlanFilter) (PlanPage, error) {
	var page PlanPage
	err := db.view(ctx, func(tx *Tx) error {
		var (
			currency             string
			version, listVersion int64
		)
		if err := tx.QueryRowContext(ctx, `SELECT currency, plans_version, plans_list_version FROM accounts WHERE id = ?`, accountID).
			Scan(&currency, &version, &listVersion); err != nil {
			return fmt.Errorf("store: find plans: %w", err)
		}
		summary, err := db.summaryAt(ctx, tx, accountID, Currency(currency), f.Today, version)
		if err != nil {
			return err
		}
		key := planPageKey{accountID, f.key()}
		cacheable := f.Limit > 0 && f.Limit <= planPageMaxLimit
		if cacheable {
			cached, at, ok := db.planPages.Latest(key)
			switch {
			case ok && at == version:
				page = cached
				page.Summary = summary
				return nil
			case ok && cached.listVersion == listVersion && f.Sort != SortByUsage:
				// The same plans in the same order: read their rows again.
				page = PlanPage{Total: cached.Total, Summary: summary, Version: version, listVersion: listVersion}
				if page.Plans, err = findPlansByID(ctx, tx, cached.Plans); err != nil {
					return err
				}
				db.planPages.Put(key, version, page)
				return nil
			}
		}
		// Without a search, service or date filter the count is one of the
		// summary cards'; counting 20,000 plans is most of a page.
		total := -1
		if f.Query == "" && len(f.Services) == 0 && f.From.IsZero() && f.To.IsZero() {
			total = summary.Count(f.Status)
		}
		page = PlanPage{Version: version, listVersion: listVersion, Summary: summary}
		if page.Plans, page.Total, err = findPlans(ctx, tx, accountID, f, total); err != nil {
			return err
		}
		if cacheable {
			db.planPages.Put(key, version, page)
		}
		return nil
	})
	return page, err
}

// findPlansByID reads again the plans of an earlier page, in the same order,
// with their services. It returns an error when one is gone: the caller knows
// none was removed (plans_list_version), so that is the database failing.
func findPlansByID(ctx context.Context, tx *Tx, earlier []Plan) ([]Plan, error) {
	if len(earlier) == 0 {
		return nil, nil
	}
	args := make([]any, len(earlier))
	at := make(map[int64]int, len(earlier))
	for i, p := range earlier {
		args[i] = p.ID
		at[p.ID] = i
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+planColumns+`
		FROM plans p JOIN accounts a ON a.id = p.account_id
		WHERE p.id IN (?`+strings.Repeat(",?", len(args)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: find plans again: %w", err)
	}
	defer rows.Close()
	plans := make([]Plan, len(earlier))
	found := 0
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: find plans again: %w", err)
		}
		plans[at[p.ID]] = p
		found++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: find plans again: %w", err)
	}
	if found != len(earlier) {
		return nil, fmt.Errorf("store: find plans again: %d of %d plans found", found, len(earlier))
	}
	if err := attachServices(ctx, tx, plans); err != nil {
		return nil, err
	}
	return plans, nil
}

// findPlans is FindPlans inside the caller's transaction; total is the number
// of plans the filter selects when the caller knows it, or -1.
func findPlans(ctx context.Context, tx *Tx, accountID int64, f PlanFilter, total int) ([]Plan, int, error) {
	where, args := f.where(accountID)
	if total < 0 {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM plans p WHERE `+where, args...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("store: count plans: %w", err)
		}
	}
	col, ok := planSortColumns[f.Sort]
	if !ok {
		col = planSortColumns[SortByStart]
	}
	dir := "ASC"
	if f.Desc {
		dir = "DESC"
	}
	order := col + " " + dir + ", p.code " + dir
	if col == "p.code" {
		order = "p.code " + dir
	}
	limit := ""
	if f.Limit > 0 {
		limit = fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(f.Offset, 0))
	}
	// The page's ids come from the index first, and only those rows are read:
	// a deep page skips index entries, not whole rows.
	rows, err := tx.QueryContext(ctx, `SELECT `+planColumns+`
		FROM plans p JOIN accounts a ON a.id = p.account_id
		WHERE p.id IN (SELECT p.id FROM plans p WHERE `+where+` ORDER BY `+order+limit+`)
		ORDER BY `+order, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: find plans: %w", err)
	}
	defer rows.Close()
	var plans []Plan
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: find plans: %w", err)
		}
		plans = append(plans, p)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: find plans: %w", err)
	}
	if err := attachServices(ctx, tx, plans); err != nil {
		return nil, 0, err
	}
	return plans, total, nil
}

// PlanSummary returns the four summary cards of the account's plan list on
// today: counts by status, total spent with this month's and last month's
// spend to the same day, total plan amount and what the Active plans have left.
// The answer is cached per account and day until any of the account's plans
// changes (accounts.plans_version, kept by triggers), so the cards cost one
// indexed read however many plans the account has.
func (db *DB) PlanSummary(ctx context.Context, accountID int64, currency Currency, today Date) (Summary, error) {
	var s Summary
	err := db.view(ctx, func(tx *Tx) error {
		var err error
		s, err = db.summaryIn(ctx, tx, accountID, currency, today)
		return err
	})
	return s, err
}

// summaryIn is PlanSummary inside the caller's transaction, through the cache.
func (db *DB) summaryIn(ctx context.Context, tx *Tx, accountID int64, currency Currency, today Date) (Summary, error) {
	version, err := plansVersion(ctx, tx, accountID)
	if err != nil {
		return Summary{}, err
	}
	return db.summaryAt(ctx, tx, accountID, currency, today, version)
}

// summaryAt is summaryIn for the plans_version the caller read in tx.
func (db *DB) summaryAt(ctx context.Context, tx *Tx, accountID int64, currency Currency, today Date, version int64) (Summary, error) {
	// One entry an account, for the day and version it was worked out for, so
	// the cache never outgrows the number of accounts. Cards of an earlier
	// day of the same version move to today by the plans starting or ending
	// in between.
	var cached cachedSummary
	if c, ok := db.summaries.Load(accountID); ok {
		cached = c.(cachedSummary)
	}
	var (
		s   Summary
		err error
	)
	switch {
	case cached.version == version && cached.today == today:
		return cached.summary, nil
	case cached.version == version && !cached.today.IsZero() && cached.today.Before(today):
		s, err = advanceDays(ctx, tx, accountID, currency, cached.summary, cached.today, today)
	default:
		s, err = planSummary(ctx, tx, accountID, currency, today)
	}
	if err != nil {
		return s, err
	}
	db.summaries.Store(accountID, cachedSummary{version, today, s})
	return s, nil
}

type cachedSummary struct {
	version int64
	today   Date
	summary Summary
}

// planSummary computes PlanSummary from the plans and the daily spend.
func planSummary(ctx context.Context, tx *Tx, accountID int64, currency Currency, today Date) (Summary, error) {
	s := Summary{}
	t := today.String()
	// Each plan's status is decided once (2 expired, 1 active, 0 inactive),
	// then counted in a single pass: no grouping, so no sort of 20,000 rows.
	var active, expired, all, consumed, amount, remaining int64
	err := tx.QueryRowContext(ctx, `
		SELECT COUNT(*) FILTER (WHERE status = 1), COUNT(*) FILTER (WHERE status = 2), COUNT(*),
			COALESCE(SUM(consumed), 0), COALESCE(SUM(amount), 0),
			COALESCE(SUM(amount - consumed) FILTER (WHERE status = 1 AND amount > consumed), 0)
		FROM (SELECT CASE WHEN `+expiredSQL+` THEN 2 WHEN `+activeSQL+` THEN 1 ELSE 0 END AS status,
				p.consumed, p.amount
			FROM plans p WHERE p.account_id = ?) AS by_plan`, t, t, t, accountID).
		Scan(&active, &expired, &all, &consumed, &amount, &remaining)
	if err != nil {
		return s, fmt.Errorf("store: plan summary: %w", err)
	}
	s.Active, s.Expired, s.Inactive = int(active), int(expired), int(all-active-expired)
	s.RemainingActive = Money{remaining, currency}
	s.TotalSpent, s.TotalAmount = Money{consumed, currency}, Money{amount, currency}
	s.SpentThisMonth, s.SpentLastMonth, err = monthSpend(ctx, tx, accountID, currency, today)
	return s, err
}

// monthSpend returns the plan spend of this month and of last month, each up
// to the same day of the month as today (MonthSpans).
func monthSpend(ctx context.Context, tx *Tx, accountID int64, currency Currency, today Date) (this, last Money, err error) {
	thisFrom, thisTo, lastFrom, lastTo := MonthSpans(today)
	spend := func(from, to Date) (Money, error) {
		var n int64
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM account_daily_spend
			WHERE account_id = ? AND source = 'plan' AND day >= ? AND day <= ?`, accountID, from.String(), to.String()).Scan(&n)
		if err != nil {
			return Money{}, fmt.Errorf("store: plan spend: %w", err)
		}
		return Money{n, currency}, nil
	}
	if this, err = spend(thisFrom, thisTo); err != nil {
		return this, last, err
	}
	last, err = spend(lastFrom, lastTo)
	return this, last, err
}

// FindAccountServices returns the services any of the account's plans cover,
// in name order: the choices of the plan list's service filter. Triggers keep
// them in account_services (migration 0009), so this is one indexed read
// however many plans the account has.
func (db *DB) FindAccountServices(ctx context.Context, accountID int64) ([]Service, error) {
	var out []Service
	err := db.view(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT s.id, s.code, s.name, s.unit
			FROM account_services a JOIN services s ON s.id = a.service_id
			WHERE a.account_id = ?
			ORDER BY s.name, s.code`, accountID)
		if err != nil {
			return fmt.Errorf("store: find account services: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var s Service
			if err := rows.Scan(&s.ID, &s.Code, &s.Name, &s.Unit); err != nil {
				return fmt.Errorf("store: find account services: %w", err)
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
