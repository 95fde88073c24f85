package store

import (
	"context"
	"fmt"
	"time"
)

// The summary cards of an account of many plans take one read of every plan to
// work out (6 ms for 20,000), and usage changes some plan of a busy account
// every few seconds. So the cached cards are not thrown away when the store
// changes a plan: a usage batch, a payment and a renewal move them by what
// they changed, which costs a few operations per plan changed, and a new day
// moves them by the plans that start or end in between (advanceDays). Only a
// change made elsewhere (an import, another process, a hand-run UPDATE) bumps
// plans_version without a summaryChange, and the next reader works the cards
// out again.

// summaryChange is what one change (a usage batch, a payment, a renewal) did
// to an account's summary cards: the plans it changed, before and after, and
// the plan spend it added by day. from and to are the account's
// plans_version before and after the change: it applies to cards worked out
// at from, and makes cards of to.
type summaryChange struct {
	account  int64
	from, to int64
	moves    []planMove
	// spend is the plan spend by day (YYYY-MM-DD) of a usage batch.
	spend map[string]int64
}

// planMove is a plan before and after a change, in the fields the summary
// cards read (dates, amount, consumed, activation, suspension).
type planMove struct{ before, after Plan }

// advance returns s, the cards on today before the change, after it.
func (c summaryChange) advance(s Summary, today Date) Summary {
	for _, m := range c.moves {
		s.count(m.before, today, -1)
		s.count(m.after, today, +1)
	}
	thisFrom, thisTo, lastFrom, lastTo := MonthSpans(today)
	for day, amount := range c.spend {
		d, err := ParseDate(day)
		if err != nil {
			continue
		}
		if !d.Before(thisFrom) && !d.After(thisTo) {
			s.SpentThisMonth.Minor += amount
		}
		if !d.Before(lastFrom) && !d.After(lastTo) {
			s.SpentLastMonth.Minor += amount
		}
	}
	return s
}

// count adds plan p to the cards on today (sign +1) or takes it away (-1).
func (s *Summary) count(p Plan, today Date, sign int64) {
	switch p.Status(today) {
	case StatusExpired:
		s.Expired += int(sign)
	case StatusActive:
		s.Active += int(sign)
		s.RemainingActive.Minor += sign * max(p.Amount.Minor-p.Consumed.Minor, 0)
	default:
		s.Inactive += int(sign)
	}
	s.TotalSpent.Minor += sign * p.Consumed.Minor
	s.TotalAmount.Minor += sign * p.Amount.Minor
}

// advanceSummary moves the account's cached summary cards by c, when they were
// worked out at the version c starts from; otherwise it leaves them, and the
// next reader works them out. A reader storing cards meanwhile wins: the swap
// only replaces the entry it read.
func (db *DB) advanceSummary(c summaryChange) {
	for {
		old, ok := db.summaries.Load(c.account)
		if !ok {
			return
		}
		cs := old.(cachedSummary)
		if cs.version != c.from {
			return
		}
		next := cachedSummary{c.to, cs.today, c.advance(cs.summary, cs.today)}
		if db.summaries.CompareAndSwap(c.account, old, next) {
			return
		}
	}
}

// changePlan runs update, which changes plan before into after inside tx, and
// notes the change, so that once tx commits the cached summary cards move by
// it instead of being worked out again. after must be the plan as update
// leaves it in the database, in every field the cards read (dates, amount,
// consumed, activation, suspension).
func (tx *Tx) changePlan(ctx context.Context, before, after Plan, update func() error) error {
	from, err := plansVersion(ctx, tx, before.AccountID)
	if err != nil {
		return err
	}
	if err := update(); err != nil {
		return err
	}
	to, err := plansVersion(ctx, tx, before.AccountID)
	if err != nil {
		return err
	}
	tx.summaryChanges = append(tx.summaryChanges, summaryChange{account: before.AccountID, from: from, to: to,
		moves: []planMove{{before, after}}})
	return nil
}

// plansVersion returns the account's plans_version.
func plansVersion(ctx context.Context, tx *Tx, accountID int64) (int64, error) {
	var v int64
	if err := tx.QueryRowContext(ctx, `SELECT plans_version FROM accounts WHERE id = ?`, accountID).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: plans version: %w", err)
	}
	return v, nil
}

// advanceDays returns s, the account's cards on day from, on the later day
// to. Between the two only the plans that start after from (up to to) or end
// before to (from on) can change status, and both are ranges of an index, so
// this reads those plans and not the rest; the month spans of spend move with
// the day, and are summed again from the daily spend.
func advanceDays(ctx context.Context, tx *Tx, accountID int64, currency Currency, s Summary, from, to Date) (Summary, error) {
	const columns = `p.id, p.start_date, p.end_date, p.amount, p.consumed, p.activated_at IS NOT NULL, p.suspended`
	rows, err := tx.QueryContext(ctx, `
		SELECT `+columns+` FROM plans p WHERE p.account_id = ? AND p.start_date > ? AND p.start_date <= ?
		UNION
		SELECT `+columns+` FROM plans p WHERE p.account_id = ? AND p.end_date >= ? AND p.end_date < ?`,
		accountID, from.String(), to.String(), accountID, from.String(), to.String())
	if err != nil {
		return s, fmt.Errorf("store: plans starting or ending: %w", err)
	}
	defer rows.Close()
	var activated time.Time
	for rows.Next() {
		var (
			id                int64
			start, end        string
			amount, consumed  int64
			isActivated, susp bool
		)
		if err := rows.Scan(&id, &start, &end, &amount, &consumed, &isActivated, &susp); err != nil {
			return s, fmt.Errorf("store: plans starting or ending: %w", err)
		}
		p := Plan{Amount: Money{amount, currency}, Consumed: Money{consumed, currency}, Suspended: susp}
		if p.StartDate, err = ParseDate(start); err != nil {
			return s, err
		}
		if p.EndDate, err = ParseDate(end); err != nil {
			return s, err
		}
		if isActivated {
			p.ActivatedAt = &activated
		}
		s.count(p, from, -1)
		s.count(p, to, +1)
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("store: plans starting or ending: %w", err)
	}
	s.SpentThisMonth, s.SpentLastMonth, err = monthSpend(ctx, tx, accountID, currency, to)
	return s, err
}
