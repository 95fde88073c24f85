package store

// The ledger engine: it prices usage events and draws them from credit in the
// order of spec/domain.md (plans, then vouchers, then top-up credit, then
// uncovered), writing one consumption line per part of an event and keeping the
// running totals that pages read, all in one transaction per batch.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// Outcome is what the engine did with one usage event.
type Outcome string

// The outcomes of a usage event.
const (
	Applied   Outcome = "applied"
	Duplicate Outcome = "duplicate"
	Rejected  Outcome = "rejected"
)

// Drawn is how much of an event, in minor units of the account's currency, each
// credit source paid.
type Drawn struct {
	Plan      int64 `json:"plan"`
	Voucher   int64 `json:"voucher"`
	Topup     int64 `json:"topup"`
	Uncovered int64 `json:"uncovered"`
}

// Of returns the amount drawn from source.
func (d Drawn) Of(source CreditSource) int64 {
	switch source {
	case SourcePlan:
		return d.Plan
	case SourceVoucher:
		return d.Voucher
	case SourceTopup:
		return d.Topup
	}
	return d.Uncovered
}

func (d *Drawn) add(source CreditSource, minor int64) {
	switch source {
	case SourcePlan:
		d.Plan += minor
	case SourceVoucher:
		d.Voucher += minor
	case SourceTopup:
		d.Topup += minor
	default:
		d.Uncovered += minor
	}
}

// EventResult is the engine's answer for one usage event. A duplicate carries
// the result of the event's first application.
type EventResult struct {
	ID       string
	Outcome  Outcome
	Reason   string
	Currency Currency
	Drawn    Drawn
}

// maxLineMinor bounds one line's amount so that sums of many lines stay far
// from int64's limit; an event priced above it is rejected.
var maxLineMinor = decimal.New(1, 15)

// ApplyUsage prices the events and draws them from credit, in order, in one
// transaction. Each event gets a result: applied, duplicate (its id was seen
// before, in the database or earlier in the batch: nothing changes) or rejected
// (unknown account or service, a quantity that is not positive...). It returns
// an error, and changes nothing, only when the database fails.
func (db *DB) ApplyUsage(ctx context.Context, events []UsageEvent) ([]EventResult, error) {
	var results []EventResult
	err := db.update(ctx, func(tx *Tx) error {
		var err error
		results, err = applyUsage(ctx, tx, events)
		return err
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// applyUsage is ApplyUsage inside the caller's transaction. It notes in tx
// what the batch changed of each account's summary cards, for them to move
// by once tx commits (see Tx.summaryChanges).
func applyUsage(ctx context.Context, tx *Tx, events []UsageEvent) ([]EventResult, error) {
	l := &ledger{
		ctx: ctx, tx: tx,
		accounts: map[string]*ledgerAccount{},
		services: map[string]*ledgerService{},
		plans:    map[int64]*ledgerPlan{},
		carries:  map[carryKey]*carry{},
		daily:    map[dailyKey]int64{},
		planDay:  map[planDayKey]int64{},
		planSvc:  map[planSvcKey]*planSvcDelta{},
	}
	defer l.close()
	return l.apply(events)
}

// ledger is the working state of one batch: what the batch read, and what it
// will write back when every event is allocated.
type ledger struct {
	ctx context.Context
	tx  *Tx

	accounts map[string]*ledgerAccount
	services map[string]*ledgerService
	plans    map[int64]*ledgerPlan
	carries  map[carryKey]*carry
	daily    map[dailyKey]int64
	planDay  map[planDayKey]int64
	planSvc  map[planSvcKey]*planSvcDelta

	// nextEventID numbers the batch's usage events; the batch holds the write
	// lock, so no one else takes these ids. Events and lines are written in
	// multi-row statements when the batch is flushed (see flush).
	nextEventID int64

	// Statements run many times a batch, prepared once: planStmts by page
	// size (see planPages).
	planStmts [len(planPages)]*sql.Stmt
	carryStmt *sql.Stmt
}

// stmt prepares q into *st on first use.
func (l *ledger) stmt(st **sql.Stmt, q string) (*sql.Stmt, error) {
	if *st == nil {
		var err error
		if *st, err = l.tx.PrepareContext(l.ctx, q); err != nil {
			return nil, fmt.Errorf("store: prepare: %w", err)
		}
	}
	return *st, nil
}

// close releases the batch's prepared statements.
func (l *ledger) close() {
	for _, st := range append(l.planStmts[:], l.carryStmt) {
		if st != nil {
			st.Close()
		}
	}
}

type ledgerAccount struct {
	id int64
	// idArg is id as a statement argument, made once for the batch's rows.
	idArg any
	// version0 is the account's plans_version when the batch began.
	version0 int64
	currency Currency
	loc      *time.Location
	topup    int64
	topup0   int64
	owed     int64
	owed0    int64
	// minDay and maxDay bound the batch's events of this account, for loading.
	minDay, maxDay Date
	// plans queues, per service, the plans that may pay for it, in draw order.
	plans    map[int64]*planQueue
	vouchers []*ledgerVoucher
	loadedV  bool
	// seen holds the results of event ids already applied, in the database or this batch.
	seen map[string]EventResult
	// eventArgs and lineArgs hold the values of the account's usage_events
	// and consumptions rows, eventColumns and lineColumns of them a row, in
	// the order applied; the i-th event has lineCounts[i] lines. The event
	// ids are left out (nil) until flush numbers the rows.
	eventArgs, lineArgs []any
	lineCounts          []int
}

type ledgerService struct {
	id    int64
	idArg any
	// prices are the list prices by currency.
	prices map[Currency]*unitPrice
}

type ledgerPlan struct {
	id, account                 int64
	idArg                       any
	amount, consumed, consumed0 int64
	code                        string
	start, end                  Date
	activatedAt                 time.Time
	depletedAt                  *time.Time
	// prices are the plan's prices by service.
	prices map[int64]*unitPrice
}

// unitPrice is a price per unit, with what drawing at it needs again and
// again worked out once.
type unitPrice struct {
	// minor is the price in minor units of the currency it is paid in.
	minor decimal.Decimal
	// text is the price as consumption lines store it, as a statement
	// argument.
	text any
}

// newUnitPrice reads a price per unit paid in currency c.
func newUnitPrice(text string, c Currency) (*unitPrice, error) {
	v, err := decimal.NewFromString(text)
	if err != nil {
		return nil, err
	}
	return &unitPrice{minor: v.Shift(c.Exponent()), text: v.String()}, nil
}

type ledgerVoucher struct {
	id, remaining, remaining0 int64
	code                      string
	effective, expiry         Date
	services                  map[int64]bool
}

type carryKey struct {
	source   CreditSource
	sourceID int64
	service  int64
}

type carry struct {
	value, initial decimal.Decimal
	stored         bool
}

type dailyKey struct {
	account int64
	day     string
	source  CreditSource
	service int64
}

type planDayKey struct {
	plan int64
	day  string
}

type planSvcKey struct{ plan, service int64 }

type planSvcDelta struct {
	volume decimal.Decimal
	spent  int64
}

// line is one consumption line before it is written.
type line struct {
	source   CreditSource
	sourceID int64
	// sourceArg is the plan's or voucher's id as a statement argument.
	sourceArg any
	quantity  decimal.Decimal
	unitPrice *unitPrice
	amount    int64
}

// The columns of the rows the engine inserts, in the order of its INSERT
// statements.
const (
	eventColumns = 7
	lineColumns  = 11
)

func (l *ledger) apply(events []UsageEvent) ([]EventResult, error) {
	results := make([]EventResult, len(events))
	valid := make([]bool, len(events))
	// First pass: resolve accounts and services, and bound each account's dates.
	for i, ev := range events {
		acct, svc, reason, err := l.resolve(ev)
		if err != nil {
			return nil, err
		}
		if reason != "" {
			results[i] = EventResult{ID: ev.ID, Outcome: Rejected, Reason: reason}
			continue
		}
		if _, ok := svc.prices[acct.currency]; !ok {
			results[i] = EventResult{ID: ev.ID, Outcome: Rejected, Reason: fmt.Sprintf("service %q has no list price in %s", ev.ServiceCode, acct.currency)}
			continue
		}
		day := DateOf(ev.At, acct.loc)
		if acct.minDay.IsZero() || day.Before(acct.minDay) {
			acct.minDay = day
		}
		if acct.maxDay.IsZero() || day.After(acct.maxDay) {
			acct.maxDay = day
		}
		valid[i] = true
	}
	if err := l.loadSeen(events, valid); err != nil {
		return nil, err
	}
	if err := l.tx.QueryRowContext(l.ctx, `SELECT COALESCE(MAX(id), 0) FROM usage_events`).Scan(&l.nextEventID); err != nil {
		return nil, fmt.Errorf("store: number usage events: %w", err)
	}
	for i, ev := range events {
		if !valid[i] {
			continue
		}
		acct, svc := l.accounts[ev.AccountCode], l.services[ev.ServiceCode]
		if first, ok := acct.seen[ev.ID]; ok {
			first.Outcome = Duplicate
			results[i] = first
			continue
		}
		res, err := l.applyEvent(ev, acct, svc)
		if err != nil {
			return nil, err
		}
		acct.seen[ev.ID] = res
		results[i] = res
	}
	if err := l.flush(); err != nil {
		return nil, err
	}
	return results, nil
}

// resolve finds the event's account and service, or says why the event is rejected.
func (l *ledger) resolve(ev UsageEvent) (*ledgerAccount, *ledgerService, string, error) {
	switch {
	case strings.TrimSpace(ev.ID) == "":
		return nil, nil, "id is required", nil
	case len(ev.ID) > 200:
		return nil, nil, "id is longer than 200 characters", nil
	case !ev.Quantity.IsPositive():
		return nil, nil, "quantity must be greater than 0", nil
	case ev.At.IsZero():
		return nil, nil, "at is required", nil
	}
	acct, err := l.account(ev.AccountCode)
	if err != nil || acct == nil {
		return nil, nil, fmt.Sprintf("unknown account %q", ev.AccountCode), err
	}
	svc, err := l.service(ev.ServiceCode)
	if err != nil || svc == nil {
		return nil, nil, fmt.Sprintf("unknown service %q", ev.ServiceCode), err
	}
	return acct, svc, "", nil
}

func (l *ledger) account(code string) (*ledgerAccount, error) {
	if a, ok := l.accounts[code]; ok {
		return a, nil
	}
	a := &ledgerAccount{plans: map[int64]*planQueue{}, seen: map[string]EventResult{}}
	var currency, tz string
	err := l.tx.QueryRowContext(l.ctx, `SELECT id, currency, timezone, topup_balance, uncovered, plans_version FROM accounts WHERE code = ?`, code).
		Scan(&a.id, &currency, &tz, &a.topup, &a.owed, &a.version0)
	if err == sql.ErrNoRows {
		l.accounts[code] = nil
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("store: find account %q: %w", code, err)
	}
	a.currency, a.loc, a.topup0, a.owed0 = Currency(currency), LoadLocation(tz), a.topup, a.owed
	a.idArg = a.id
	l.accounts[code] = a
	return a, nil
}

func (l *ledger) service(code string) (*ledgerService, error) {
	if s, ok := l.services[code]; ok {
		return s, nil
	}
	rows, err := l.tx.QueryContext(l.ctx, `SELECT s.id, p.currency, p.price FROM services s LEFT JOIN service_list_prices p ON p.service_id = s.id WHERE s.code = ?`, code)
	if err != nil {
		return nil, fmt.Errorf("store: find service %q: %w", code, err)
	}
	defer rows.Close()
	var s *ledgerService
	for rows.Next() {
		var id int64
		var currency, price sql.NullString
		if err := rows.Scan(&id, &currency, &price); err != nil {
			return nil, fmt.Errorf("store: find service %q: %w", code, err)
		}
		if s == nil {
			s = &ledgerService{id: id, idArg: id, prices: map[Currency]*unitPrice{}}
		}
		if currency.Valid {
			c := Currency(currency.String)
			p, err := newUnitPrice(price.String, c)
			if err != nil {
				return nil, fmt.Errorf("store: list price of %q: %w", code, err)
			}
			s.prices[c] = p
		}
	}
	l.services[code] = s
	return s, rows.Err()
}

// loadSeen reads which of the batch's event ids were applied before, with their
// first results, a few hundred ids per query.
func (l *ledger) loadSeen(events []UsageEvent, valid []bool) error {
	byAccount := map[*ledgerAccount][]string{}
	for i, ev := range events {
		if valid[i] {
			a := l.accounts[ev.AccountCode]
			byAccount[a] = append(byAccount[a], ev.ID)
		}
	}
	const chunk = 500
	for a, ids := range byAccount {
		for len(ids) > 0 {
			n := min(chunk, len(ids))
			part := ids[:n]
			ids = ids[n:]
			args := make([]any, 0, n+1)
			args = append(args, a.id)
			for _, id := range part {
				args = append(args, id)
			}
			q := `SELECT event_id, result FROM usage_events WHERE account_id = ? AND event_id IN (?` + strings.Repeat(",?", n-1) + `)`
			rows, err := l.tx.QueryContext(l.ctx, q, args...)
			if err != nil {
				return fmt.Errorf("store: find seen events: %w", err)
			}
			for rows.Next() {
				var id, result string
				if err := rows.Scan(&id, &result); err != nil {
					rows.Close()
					return fmt.Errorf("store: find seen events: %w", err)
				}
				var d Drawn
				if err := json.Unmarshal([]byte(result), &d); err != nil {
					rows.Close()
					return fmt.Errorf("store: result of event %q: %w", id, err)
				}
				a.seen[id] = EventResult{ID: id, Outcome: Applied, Currency: a.currency, Drawn: d}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("store: find seen events: %w", err)
			}
		}
	}
	return nil
}

// planQueue holds, for one account and service, the plans that may pay for the
// batch's events, in draw order, loaded a page at a time: most events are paid by
// the first plan or two, so an account's hundreds of plans are rarely all read.
type planQueue struct {
	plans []*ledgerPlan
	// loads counts the pages loaded so far.
	loads int
	done  bool
}

// planPages are how many plans the successive queries of a planQueue load. The
// first page is small because one plan usually pays for all of a batch's
// events of a service: each plan read costs a row of plans and one of
// plan_services, often not yet in the page cache. The pages grow so that an
// account whose events need many plans still reads them in few queries.
var planPages = [...]int{4, 8, 16, 32}

// planAt returns the i-th plan of the account that covers the service and could
// pay for an event of this batch, in draw order (the plan that ends soonest
// first, then the one that started first, then the lower code), or nil past the last.
func (l *ledger) planAt(a *ledgerAccount, serviceID int64, i int) (*ledgerPlan, error) {
	q := a.plans[serviceID]
	if q == nil {
		q = &planQueue{}
		a.plans[serviceID] = q
	}
	for i >= len(q.plans) && !q.done {
		if err := l.loadPlans(a, serviceID, q); err != nil {
			return nil, err
		}
	}
	if i >= len(q.plans) {
		return nil, nil
	}
	return q.plans[i], nil
}

// loadPlans appends the next page of plans to q.
func (l *ledger) loadPlans(a *ledgerAccount, serviceID int64, q *planQueue) error {
	after := []any{"", "", ""}
	if n := len(q.plans); n > 0 {
		last := q.plans[n-1]
		after = []any{last.end.String(), last.start.String(), last.code}
	}
	args := append([]any{serviceID, a.id, a.minDay.String(), a.maxDay.String()}, after...)
	page := min(q.loads, len(planPages)-1)
	size := planPages[page]
	q.loads++
	// The ids are compared with CAST(? AS INTEGER), not a bare ?, on purpose.
	// The driver clears a statement's bindings before each run, and SQLite
	// prepares a statement again after that whenever its query plan was worked
	// out from a bound value (here: "= ?" in a join), which cost three
	// quarters of this query. An expression is not a bound value to the
	// planner, so the statement stays prepared; the indexes are used as
	// before. The page size is part of the text for the same reason (LIMIT ?
	// is such a value too).
	st, err := l.stmt(&l.planStmts[page], `
		SELECT p.id, p.code, p.start_date, p.end_date, p.amount, p.consumed, p.activated_at, ps.price_per_unit
		FROM plans p JOIN plan_services ps ON ps.plan_id = p.id AND ps.service_id = CAST(? AS INTEGER)
		WHERE p.account_id = CAST(? AS INTEGER) AND p.suspended = 0
		  AND p.activated_at IS NOT NULL AND p.consumed < p.amount
		  AND p.end_date >= ? AND p.start_date <= ?
		  AND (p.end_date, p.start_date, p.code) > (?, ?, ?)
		ORDER BY p.end_date, p.start_date, p.code
		LIMIT `+strconv.Itoa(size))
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(l.ctx, args...)
	if err != nil {
		return fmt.Errorf("store: find plans for usage: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		var (
			id, amount, consumed               int64
			code, start, end, activated, price string
		)
		if err := rows.Scan(&id, &code, &start, &end, &amount, &consumed, &activated, &price); err != nil {
			return fmt.Errorf("store: find plans for usage: %w", err)
		}
		p, ok := l.plans[id]
		if !ok {
			p = &ledgerPlan{id: id, idArg: id, account: a.id, code: code, amount: amount, consumed: consumed, consumed0: consumed, prices: map[int64]*unitPrice{}}
			if p.start, err = ParseDate(start); err != nil {
				return err
			}
			if p.end, err = ParseDate(end); err != nil {
				return err
			}
			if p.activatedAt, err = parseInstant(activated); err != nil {
				return fmt.Errorf("store: activation of plan %s: %w", code, err)
			}
			l.plans[id] = p
		}
		if p.prices[serviceID], err = newUnitPrice(price, a.currency); err != nil {
			return fmt.Errorf("store: price of plan %s: %w", code, err)
		}
		q.plans = append(q.plans, p)
	}
	if n < size {
		q.done = true
	}
	return rows.Err()
}

// vouchersOf returns the account's vouchers that still hold credit and could be
// valid for an event of this batch, soonest expiry first (then code).
func (l *ledger) vouchersOf(a *ledgerAccount) ([]*ledgerVoucher, error) {
	if a.loadedV {
		return a.vouchers, nil
	}
	rows, err := l.tx.QueryContext(l.ctx, `
		SELECT v.id, v.code, v.remaining, v.effective_date, v.expiry_date, v.all_services, vs.service_id
		FROM vouchers v LEFT JOIN voucher_services vs ON vs.voucher_id = v.id
		WHERE v.account_id = ? AND v.remaining > 0 AND v.expiry_date >= ? AND v.effective_date <= ?
		ORDER BY v.expiry_date, v.code`, a.id, a.minDay.String(), a.maxDay.String())
	if err != nil {
		return nil, fmt.Errorf("store: find vouchers for usage: %w", err)
	}
	defer rows.Close()
	byID := map[int64]*ledgerVoucher{}
	for rows.Next() {
		var (
			id, remaining  int64
			code, eff, exp string
			all            bool
			service        sql.NullInt64
		)
		if err := rows.Scan(&id, &code, &remaining, &eff, &exp, &all, &service); err != nil {
			return nil, fmt.Errorf("store: find vouchers for usage: %w", err)
		}
		v, ok := byID[id]
		if !ok {
			v = &ledgerVoucher{id: id, code: code, remaining: remaining, remaining0: remaining}
			if v.effective, err = ParseDate(eff); err != nil {
				return nil, err
			}
			if v.expiry, err = ParseDate(exp); err != nil {
				return nil, err
			}
			if !all {
				v.services = map[int64]bool{}
			}
			byID[id] = v
			a.vouchers = append(a.vouchers, v)
		}
		if service.Valid && v.services != nil {
			v.services[service.Int64] = true
		}
	}
	a.loadedV = true
	return a.vouchers, rows.Err()
}

// carryOf returns the rounding remainder carried for a source and service.
func (l *ledger) carryOf(k carryKey) (*carry, error) {
	if c, ok := l.carries[k]; ok {
		return c, nil
	}
	c := &carry{}
	var s string
	st, err := l.stmt(&l.carryStmt, `SELECT remainder FROM ledger_carries WHERE source = ? AND source_id = ? AND service_id = ?`)
	if err != nil {
		return nil, err
	}
	err = st.QueryRowContext(l.ctx, string(k.source), k.sourceID, k.service).Scan(&s)
	switch {
	case err == sql.ErrNoRows:
	case err != nil:
		return nil, fmt.Errorf("store: find carry: %w", err)
	default:
		if c.value, err = decimal.NewFromString(s); err != nil {
			return nil, fmt.Errorf("store: carry: %w", err)
		}
		c.stored = true
	}
	c.initial = c.value
	l.carries[k] = c
	return c, nil
}

// draw takes up to avail minor units (avail < 0: no limit) for quantity q at
// price from one source, rounding the line to the minor unit with the
// source's carried remainder. It returns the quantity and amount taken.
func (l *ledger) draw(k carryKey, q decimal.Decimal, price *unitPrice, avail int64) (decimal.Decimal, int64, error) {
	c, err := l.carryOf(k)
	if err != nil {
		return decimal.Zero, 0, err
	}
	unitMinor := price.minor
	total := q.Mul(unitMinor).Add(c.value)
	amount := total.Round(0)
	if avail < 0 || amount.IntPart() <= avail {
		c.value = total.Sub(amount)
		return q, amount.IntPart(), nil
	}
	// Only part of the quantity fits: the part whose price, with the carry, is
	// the balance left. The quantity is cut to 18 decimals, and the sliver of a
	// minor unit that cutting leaves stays in the carry.
	part := decimal.NewFromInt(avail).Sub(c.value).DivRound(unitMinor, 24).Truncate(18)
	if part.IsNegative() {
		part = decimal.Zero
	}
	if part.GreaterThan(q) {
		part = q
	}
	c.value = part.Mul(unitMinor).Add(c.value).Sub(decimal.NewFromInt(avail))
	return part, avail, nil
}

func (l *ledger) applyEvent(ev UsageEvent, a *ledgerAccount, svc *ledgerService) (EventResult, error) {
	res := EventResult{ID: ev.ID, Outcome: Applied, Currency: a.currency}
	day := DateOf(ev.At, a.loc)
	listPrice := svc.prices[a.currency]
	if ev.Quantity.Mul(listPrice.minor).Abs().GreaterThan(maxLineMinor) {
		return EventResult{ID: ev.ID, Outcome: Rejected, Reason: "quantity is too large"}, nil
	}
	left := ev.Quantity
	// Most events make one line or two.
	var buf [2]line
	lines := buf[:0]

	for i := 0; left.IsPositive(); i++ {
		p, err := l.planAt(a, svc.id, i)
		if err != nil {
			return res, err
		} else if p == nil {
			break
		}
		if p.consumed >= p.amount || day.Before(p.start) || day.After(p.end) || p.activatedAt.After(ev.At) {
			continue
		}
		price := p.prices[svc.id]
		q, amt, err := l.draw(carryKey{SourcePlan, p.id, svc.id}, left, price, p.amount-p.consumed)
		if err != nil {
			return res, err
		}
		if !q.IsPositive() && amt == 0 {
			continue
		}
		p.consumed += amt
		if p.consumed >= p.amount && p.depletedAt == nil {
			at := ev.At
			p.depletedAt = &at
		}
		left = left.Sub(q)
		lines = append(lines, line{SourcePlan, p.id, p.idArg, q, price, amt})
	}
	if left.IsPositive() {
		vouchers, err := l.vouchersOf(a)
		if err != nil {
			return res, err
		}
		for _, v := range vouchers {
			if !left.IsPositive() {
				break
			}
			if v.remaining <= 0 || day.Before(v.effective) || day.After(v.expiry) || (v.services != nil && !v.services[svc.id]) {
				continue
			}
			q, amt, err := l.draw(carryKey{SourceVoucher, v.id, svc.id}, left, listPrice, v.remaining)
			if err != nil {
				return res, err
			}
			if !q.IsPositive() && amt == 0 {
				continue
			}
			v.remaining -= amt
			left = left.Sub(q)
			lines = append(lines, line{SourceVoucher, v.id, v.id, q, listPrice, amt})
		}
	}
	if left.IsPositive() && a.topup > 0 {
		q, amt, err := l.draw(carryKey{SourceTopup, a.id, svc.id}, left, listPrice, a.topup)
		if err != nil {
			return res, err
		}
		if q.IsPositive() || amt > 0 {
			a.topup -= amt
			left = left.Sub(q)
			lines = append(lines, line{SourceTopup, a.id, nil, q, listPrice, amt})
		}
	}
	if left.IsPositive() {
		q, amt, err := l.draw(carryKey{SourceUncovered, a.id, svc.id}, left, listPrice, -1)
		if err != nil {
			return res, err
		}
		a.owed += amt
		lines = append(lines, line{SourceUncovered, a.id, nil, q, listPrice, amt})
	}

	for _, ln := range lines {
		res.Drawn.add(ln.source, ln.amount)
	}
	// The event's values, each made a statement argument once for its row
	// and its lines.
	var (
		at       any = formatInstant(ev.At)
		dayText      = day.String()
		dayArg   any = dayText
		quantity any = ev.Quantity.String()
	)
	a.eventArgs = append(a.eventArgs, nil, a.idArg, ev.ID, svc.idArg, quantity, at, string(appendDrawn(nil, res.Drawn)))
	a.lineCounts = append(a.lineCounts, len(lines))
	for _, ln := range lines {
		var planID, voucherID any
		switch ln.source {
		case SourcePlan:
			planID = ln.sourceArg
			l.planDay[planDayKey{ln.sourceID, dayText}] += ln.amount
			d := l.planSvc[planSvcKey{ln.sourceID, svc.id}]
			if d == nil {
				d = &planSvcDelta{}
				l.planSvc[planSvcKey{ln.sourceID, svc.id}] = d
			}
			d.volume = d.volume.Add(ln.quantity)
			d.spent += ln.amount
		case SourceVoucher:
			voucherID = ln.sourceArg
		}
		l.daily[dailyKey{a.id, dayText, ln.source, svc.id}] += ln.amount
		// Every unit of the event is on exactly one line, so a line of its
		// own has the event's quantity, and its text.
		q := quantity
		if len(lines) > 1 {
			q = ln.quantity.String()
		}
		a.lineArgs = append(a.lineArgs, a.idArg, nil, svc.idArg, sourceArg(ln.source), planID, voucherID,
			q, ln.unitPrice.text, ln.amount, at, dayArg)
	}
	return res, nil
}

// sourceArg returns a credit source as a statement argument, without making
// one for every line.
func sourceArg(s CreditSource) any {
	switch s {
	case SourcePlan:
		return string(SourcePlan)
	case SourceVoucher:
		return string(SourceVoucher)
	case SourceTopup:
		return string(SourceTopup)
	}
	return string(SourceUncovered)
}

// appendDrawn appends the first result of an event as usage_events.result
// keeps it: a JSON object of what each credit source paid (the fields of
// Drawn), where a source that paid nothing is left out. Most events are paid
// from one source, so the row is short; reading it with encoding/json gives
// zero for the sources left out, as before.
func appendDrawn(b []byte, d Drawn) []byte {
	b = append(b, '{')
	for _, f := range [...]struct {
		name  string
		minor int64
	}{{`"plan":`, d.Plan}, {`"voucher":`, d.Voucher}, {`"topup":`, d.Topup}, {`"uncovered":`, d.Uncovered}} {
		if f.minor == 0 {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, f.name...)
		b = strconv.AppendInt(b, f.minor, 10)
	}
	return append(b, '}')
}

// flush writes the batch's running totals: plans, plan services, vouchers,
// accounts, carries and daily spend.
func (l *ledger) flush() error {
	ctx, tx := l.ctx, l.tx
	exec := func(q string, args ...any) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: update ledger totals: %w", err)
		}
		return nil
	}
	events, lines := l.numberRows()
	if err := insertValues(ctx, tx, `INSERT INTO usage_events (id, account_id, event_id, service_id, quantity, at, result) VALUES `, eventColumns, events); err != nil {
		return fmt.Errorf("store: insert usage events: %w", err)
	}
	if err := insertValues(ctx, tx, `INSERT INTO consumptions (account_id, event_id, service_id, source, plan_id, voucher_id, quantity, unit_price, amount, at, day) VALUES `, lineColumns, lines); err != nil {
		return fmt.Errorf("store: insert consumptions: %w", err)
	}
	for _, p := range sortedPlans(l.plans) {
		if p.consumed == p.consumed0 {
			continue
		}
		var depleted any
		if p.depletedAt != nil {
			depleted = formatInstant(*p.depletedAt)
		}
		if err := exec(`UPDATE plans SET consumed = ?, depleted_at = COALESCE(depleted_at, ?) WHERE id = ?`, p.consumed, depleted, p.id); err != nil {
			return err
		}
	}
	for k, d := range l.planSvc {
		var volume string
		if err := tx.QueryRowContext(ctx, `SELECT volume FROM plan_services WHERE plan_id = ? AND service_id = ?`, k.plan, k.service).Scan(&volume); err != nil {
			return fmt.Errorf("store: plan service volume: %w", err)
		}
		v, err := decimal.NewFromString(volume)
		if err != nil {
			return fmt.Errorf("store: plan service volume: %w", err)
		}
		if err := exec(`UPDATE plan_services SET volume = ?, spent = spent + ? WHERE plan_id = ? AND service_id = ?`,
			v.Add(d.volume).String(), d.spent, k.plan, k.service); err != nil {
			return err
		}
	}
	for _, a := range l.accounts {
		if a == nil {
			continue
		}
		for _, v := range a.vouchers {
			if v.remaining != v.remaining0 {
				if err := exec(`UPDATE vouchers SET remaining = ? WHERE id = ?`, v.remaining, v.id); err != nil {
					return err
				}
			}
		}
		if a.topup != a.topup0 || a.owed != a.owed0 {
			if err := exec(`UPDATE accounts SET topup_balance = ?, uncovered = ? WHERE id = ?`, a.topup, a.owed, a.id); err != nil {
				return err
			}
		}
	}
	for k, c := range l.carries {
		if c.value.Equal(c.initial) {
			continue
		}
		if err := exec(`INSERT INTO ledger_carries (source, source_id, service_id, remainder) VALUES (?, ?, ?, ?)
			ON CONFLICT (source, source_id, service_id) DO UPDATE SET remainder = excluded.remainder`,
			string(k.source), k.sourceID, k.service, c.value.String()); err != nil {
			return err
		}
	}
	for k, amt := range l.planDay {
		if err := exec(`INSERT INTO plan_daily_spend (plan_id, day, amount) VALUES (?, ?, ?)
			ON CONFLICT (plan_id, day) DO UPDATE SET amount = plan_daily_spend.amount + excluded.amount`, k.plan, k.day, amt); err != nil {
			return err
		}
	}
	for k, amt := range l.daily {
		if err := exec(`INSERT INTO account_daily_spend (account_id, day, source, service_id, amount) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (account_id, day, source, service_id) DO UPDATE SET amount = account_daily_spend.amount + excluded.amount`,
			k.account, k.day, string(k.source), k.service, amt); err != nil {
			return err
		}
	}
	return l.collectSummaryChanges()
}

// numberRows gives the batch's usage events their ids and returns the values
// of the usage_events and consumptions rows to insert. The rows go account by
// account (in id order), each account's in the order its events were
// applied. A statement that inserts a run of rows then changes the index
// pages of an account or two instead of those of every account in the batch,
// and SQLite copies far fewer pages into the statement's journal. What any
// page shows together is one account's lines, ordered by time and then id,
// and their order is the order they were drawn, as before.
func (l *ledger) numberRows() (events, lines []any) {
	var accounts []*ledgerAccount
	nEvents, nLines := 0, 0
	for _, a := range l.accounts {
		if a != nil && len(a.lineCounts) > 0 {
			accounts = append(accounts, a)
			nEvents, nLines = nEvents+len(a.eventArgs), nLines+len(a.lineArgs)
		}
	}
	sort.Slice(accounts, func(i, j int) bool { return accounts[i].id < accounts[j].id })
	events, lines = make([]any, 0, nEvents), make([]any, 0, nLines)
	for _, a := range accounts {
		line := 0
		for i, n := range a.lineCounts {
			l.nextEventID++
			var id any = l.nextEventID
			a.eventArgs[i*eventColumns] = id
			for ; n > 0; n-- {
				a.lineArgs[line*lineColumns+1] = id
				line++
			}
		}
		events, lines = append(events, a.eventArgs...), append(lines, a.lineArgs...)
	}
	return events, lines
}

// collectSummaryChanges notes in the transaction, for each account whose
// plans the batch changed, each plan it drew from before and after, the plan
// spend by day, and the account's plans_version before and after (the batch
// holds the write lock, so no one else changed them in between).
func (l *ledger) collectSummaryChanges() error {
	byAccount := map[int64]*summaryChange{}
	currencies := map[int64]Currency{}
	for _, a := range l.accounts {
		if a != nil {
			byAccount[a.id] = &summaryChange{account: a.id, from: a.version0, spend: map[string]int64{}}
			currencies[a.id] = a.currency
		}
	}
	// The engine draws only from activated, unsuspended plans, and changes
	// nothing of them but consumed.
	var activated time.Time
	for _, p := range l.plans {
		if c := byAccount[p.account]; c != nil && p.consumed != p.consumed0 {
			cur := currencies[p.account]
			before := Plan{StartDate: p.start, EndDate: p.end, Amount: Money{p.amount, cur}, Consumed: Money{p.consumed0, cur}, ActivatedAt: &activated}
			after := before
			after.Consumed.Minor = p.consumed
			c.moves = append(c.moves, planMove{before, after})
		}
	}
	for k, amt := range l.daily {
		if c := byAccount[k.account]; c != nil && k.source == SourcePlan {
			c.spend[k.day] += amt
		}
	}
	for id, c := range byAccount {
		if len(c.moves) == 0 && len(c.spend) == 0 {
			continue
		}
		var err error
		if c.to, err = plansVersion(l.ctx, l.tx, id); err != nil {
			return err
		}
		l.tx.summaryChanges = append(l.tx.summaryChanges, *c)
	}
	return nil
}

// sortedPlans returns the plans in id order, so updates take rows in one order.
func sortedPlans(m map[int64]*ledgerPlan) []*ledgerPlan {
	ps := make([]*ledgerPlan, 0, len(m))
	for _, p := range m {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].id < ps[j].id })
	return ps
}

// maxInsertRows bounds the rows of one multi-row INSERT.
const maxInsertRows = 1024

// insertRows inserts rows (all of the same width) with multi-row INSERT
// statements, as few as it can. Every statement pays for a statement journal:
// SQLite copies each page it changes there first, so that a failing row can
// undo the statement's earlier rows, and an insert of a batch's events or
// lines changes the same few dozen index pages however many rows it holds. So
// large statements cost far less per row than small ones. Their row counts
// are powers of two, so that one table needs only a few statement texts,
// which the driver keeps prepared on the connection from batch to batch.
func insertRows(ctx context.Context, tx *Tx, insert string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	args := make([]any, 0, len(rows)*width)
	for _, r := range rows {
		args = append(args, r...)
	}
	return insertValues(ctx, tx, insert, width, args)
}

// insertValues is insertRows with the rows' values one after another in args.
func insertValues(ctx context.Context, tx *Tx, insert string, width int, args []any) error {
	for len(args) > 0 {
		// The largest power of two that fits.
		n := 1 << (bits.Len(uint(min(len(args)/width, maxInsertRows))) - 1)
		if _, err := tx.ExecContext(ctx, insertStatement(insert, width, n), args[:n*width]...); err != nil {
			return err
		}
		args = args[n*width:]
	}
	return nil
}

// insertStatements holds the texts insertStatement built, so that a batch
// does not build a statement of thousands of placeholders again.
var insertStatements sync.Map // insertKey → string

type insertKey struct {
	insert      string
	width, rows int
}

// insertStatement returns insert followed by rows tuples of width placeholders.
func insertStatement(insert string, width, rows int) string {
	k := insertKey{insert, width, rows}
	if q, ok := insertStatements.Load(k); ok {
		return q.(string)
	}
	tuple := "(?" + strings.Repeat(",?", width-1) + ")"
	q := insert + tuple + strings.Repeat(","+tuple, rows-1)
	insertStatements.Store(k, q)
	return q
}
