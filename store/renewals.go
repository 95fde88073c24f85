package store

// Renew (spec/domain.md, "Actions"): extend a plan's period by a term of 1, 3, 6
// or 12 months at a price the admin confirms, once per form. The choices the
// spec leaves open are written down in docs/actions.md.

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AuditRenew is the audit log's action of a renewal.
const AuditRenew = "plan.renew"

// RenewalTerms are the terms a plan may be renewed for, in months.
var RenewalTerms = []int{1, 3, 6, 12}

// ParseRenewalTerm returns the term in months named by s, or an EINVALID error
// about the field "term" unless it is one of RenewalTerms.
func ParseRenewalTerm(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err == nil && isRenewalTerm(n) {
		return n, nil
	}
	return 0, FieldError("term", "Choose a term of 1, 3, 6 or 12 months.")
}

func isRenewalTerm(months int) bool {
	for _, t := range RenewalTerms {
		if t == months {
			return true
		}
	}
	return false
}

// DefaultRenewalTerm returns the term the renew page offers first: the plan's
// first term when it is one of RenewalTerms, 1 month otherwise.
func (p Plan) DefaultRenewalTerm() int {
	if isRenewalTerm(p.FirstTermMonths) {
		return p.FirstTermMonths
	}
	return 1
}

// RenewalPrice returns the default price of a renewal of months: the plan's
// MonthlyRate times the months.
func (p Plan) RenewalPrice(months int) Money {
	r := p.MonthlyRate()
	return Money{Minor: r.Minor * int64(months), Currency: r.Currency}
}

// CheckRenewable returns an EINVALID error about the field "plan" when the plan
// may not be renewed on the given day: one that has not started yet.
func (p Plan) CheckRenewable(today Date) error {
	if today.Before(p.StartDate) {
		return FieldError("plan", "%s has not started yet (it starts on %s), so it cannot be renewed. Renew it once it has started.",
			p.Code, p.StartDate.Time().Format("2 Jan 2006"))
	}
	return nil
}

// monthsText returns "1 month" or "n months", for the audit log (pages format with views.TermText).
func monthsText(n int) string {
	if n == 1 {
		return "1 month"
	}
	return strconv.Itoa(n) + " months"
}

// Renewal is one extension of a plan's period.
type Renewal struct {
	ID           int64
	PlanID       int64
	PlanCode     string
	TermMonths   int
	Price        Money
	OldEndDate   Date
	NewStartDate Date
	NewEndDate   Date
	RenewedAt    time.Time
	RenewedBy    string
}

// RenewRequest is a Renew form, read by the web layer.
type RenewRequest struct {
	// AccountID scopes the plan: another account's plan is not found.
	AccountID int64
	PlanCode  string
	// Months is the term, one of RenewalTerms.
	Months int
	// Price is what the renewal adds to the plan amount, zero or more.
	Price Money
	// IdempotencyKey is the form's one-time key (NewIdempotencyKey).
	IdempotencyKey string
	// Actor is who renews (the admin's email), IP where from, for the audit log.
	Actor string
	IP    string
}

// RenewResult is the answer to a Renew form.
type RenewResult struct {
	Renewal Renewal
	// Replayed is true when the form had been sent before: the renewal is the
	// first one, and nothing changed this time.
	Replayed bool
}

// Renew extends the account's plan by req.Months at req.Price, in one
// transaction: the end date moves to the end of the new period
// (Plan.RenewalPeriod), the amount grows by the price (and so does the amount
// due), the plan is no longer depleted when the new amount exceeds what it
// consumed, and the renewal is added to its history and to the audit log. The
// same form (IdempotencyKey) sent again answers with the first renewal, Replayed.
//
// It returns an ENOTFOUND error for a plan the account does not have, and an
// EINVALID error with a Field ("term", "price", "plan", "form") for a term
// that is not offered, a negative price or one in another currency, or a plan
// that has not started yet.
func (db *DB) Renew(ctx context.Context, req RenewRequest) (RenewResult, error) {
	if err := CheckIdempotencyKey(req.IdempotencyKey); err != nil {
		return RenewResult{}, err
	}
	if !isRenewalTerm(req.Months) {
		return RenewResult{}, FieldError("term", "Choose a term of 1, 3, 6 or 12 months.")
	}
	if req.Price.Minor < 0 {
		return RenewResult{}, FieldError("price", "The price cannot be below zero.")
	}
	if req.Actor == "" {
		return RenewResult{}, fmt.Errorf("store: renew: an actor is required")
	}
	var out RenewResult
	err := db.update(ctx, func(tx *Tx) error {
		p, err := findPlan(ctx, tx, req.AccountID, req.PlanCode)
		if err != nil {
			return err
		}
		if r, found, err := findRenewal(ctx, tx, req.IdempotencyKey); err != nil {
			return err
		} else if found && r.PlanID != p.ID {
			return FieldError("form", "This form was already sent for another plan. Reload the page and try again.")
		} else if found {
			r.PlanCode = p.Code
			out = RenewResult{Renewal: r, Replayed: true}
			return nil
		}
		if req.Price.Currency != p.Amount.Currency {
			return FieldError("price", "The price is in %s, the currency of %s.", p.Amount.Currency, p.Code)
		}
		loc, err := accountLocation(ctx, tx, p.AccountID)
		if err != nil {
			return err
		}
		today := DateOf(tx.Now(), loc)
		if err := p.CheckRenewable(today); err != nil {
			return err
		}
		start, end := p.RenewalPeriod(today, req.Months)
		after := p
		after.EndDate = end
		after.Amount = p.Amount.Add(req.Price)
		if after.Amount.Minor > after.Consumed.Minor {
			after.DepletedAt = nil
		}
		var depleted any
		if after.DepletedAt != nil {
			depleted = formatInstant(*after.DepletedAt)
		}
		err = tx.changePlan(ctx, p, after, func() error {
			if _, err := tx.ExecContext(ctx, `UPDATE plans SET end_date = ?, amount = ?, depleted_at = ? WHERE id = ?`,
				end.String(), after.Amount.Minor, depleted, p.ID); err != nil {
				return fmt.Errorf("store: renew %s: %w", p.Code, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		now := tx.Now()
		r := Renewal{PlanID: p.ID, PlanCode: p.Code, TermMonths: req.Months, Price: req.Price, OldEndDate: p.EndDate,
			NewStartDate: start, NewEndDate: end, RenewedAt: now, RenewedBy: req.Actor}
		res, err := tx.ExecContext(ctx, `
			INSERT INTO renewals (plan_id, term_months, price, old_end_date, new_start_date, new_end_date, renewed_at, renewed_by, idempotency_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, r.TermMonths, r.Price.Minor, r.OldEndDate.String(), start.String(), end.String(), formatInstant(now), r.RenewedBy, req.IdempotencyKey)
		if err != nil {
			return fmt.Errorf("store: renew %s: %w", p.Code, err)
		}
		if r.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: renew %s: %w", p.Code, err)
		}
		out = RenewResult{Renewal: r}
		return auditPlanChange(ctx, tx, p, after, actionAudit{Actor: req.Actor, IP: req.IP, Action: AuditRenew,
			Detail: fmt.Sprintf("Renewed %s for %s (%s to %s) at %s.", p.Code, monthsText(r.TermMonths), start, end, r.Price)})
	})
	return out, err
}

// findRenewal returns the renewal made by a form key, and false when there is none.
func findRenewal(ctx context.Context, tx *Tx, key string) (Renewal, bool, error) {
	var (
		r                      Renewal
		price                  int64
		currency               string
		oldEnd, start, end, at string
	)
	err := tx.QueryRowContext(ctx, `
		SELECT r.id, r.plan_id, p.code, r.term_months, r.price, a.currency, r.old_end_date, r.new_start_date, r.new_end_date,
			r.renewed_at, r.renewed_by
		FROM renewals r JOIN plans p ON p.id = r.plan_id JOIN accounts a ON a.id = p.account_id
		WHERE r.idempotency_key = ?`, key).Scan(&r.ID, &r.PlanID, &r.PlanCode, &r.TermMonths, &price, &currency,
		&oldEnd, &start, &end, &at, &r.RenewedBy)
	if err == sql.ErrNoRows {
		return r, false, nil
	} else if err != nil {
		return r, false, fmt.Errorf("store: find renewal: %w", err)
	}
	r.Price = Money{price, Currency(currency)}
	for _, d := range []struct {
		dst *Date
		s   string
	}{{&r.OldEndDate, oldEnd}, {&r.NewStartDate, start}, {&r.NewEndDate, end}} {
		if *d.dst, err = ParseDate(d.s); err != nil {
			return r, false, fmt.Errorf("store: renewal %d: %w", r.ID, err)
		}
	}
	if r.RenewedAt, err = parseInstant(at); err != nil {
		return r, false, fmt.Errorf("store: renewal %d: %w", r.ID, err)
	}
	return r, true, nil
}
