package store

import "time"

// The summary cards of an account of many plans take one read of every plan to
// work out (13 ms for 20,000), and usage changes some plan of a busy account
// every few seconds. So a usage batch does not throw the cached cards away:
// it moves them by what it changed, which costs a few operations per plan it
// drew from. Any other change (a payment, a renewal, an import, a hand-run
// UPDATE) bumps plans_version without a summaryChange, and the next reader
// works the cards out again.

// summaryChange is what one usage batch changed of an account's summary
// cards: the plans it drew from, before and after, and its plan spend by day.
// from and to are the account's plans_version before and after the batch: the
// change applies to cards worked out at from, and makes cards of to.
type summaryChange struct {
	account  int64
	from, to int64
	plans    []planChange
	// spend is the batch's plan spend by day (YYYY-MM-DD).
	spend map[string]int64
}

// planChange is a plan a batch drew from: the ledger draws only from
// activated, unsuspended plans, and changes nothing of them but consumed.
type planChange struct {
	start, end                  Date
	amount, consumed0, consumed int64
}

// plan returns the plan as far as the summary cards see it, with consumed.
func (c planChange) plan(consumed int64, currency Currency) Plan {
	var activated time.Time
	return Plan{StartDate: c.start, EndDate: c.end, Amount: Money{c.amount, currency}, Consumed: Money{consumed, currency},
		ActivatedAt: &activated}
}

// advance returns s, the cards on today before the change, after it.
func (c summaryChange) advance(s Summary, today Date) Summary {
	cur := s.TotalSpent.Currency
	for _, p := range c.plans {
		s.count(p.plan(p.consumed0, cur), today, -1)
		s.count(p.plan(p.consumed, cur), today, +1)
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
