package store

// Pay now (spec/domain.md, "Payment status" and "Actions"): an online payment
// charged through a PaymentGateway, or a bank transfer recorded as pending until
// an operator confirms it. The choices the spec leaves open are written down in
// docs/actions.md.
//
// An online payment takes two short transactions around the call to the
// gateway, so that no write lock is held while the provider thinks:
//
//  1. reserve: check the form against the plan and insert a payment attempt in
//     state 'charging', which holds its amount against the amount due;
//  2. charge, outside any transaction;
//  3. record: check again that the plan still owes the amount, then insert the
//     payment and update the plan's totals, all in one transaction. When the plan
//     no longer owes it, the charge is refunded through the gateway and nothing
//     is recorded as paid.
//
// Every form carries a one-time key (payment_attempts.idempotency_key): the
// same form sent again finds the attempt and answers with its first result.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// PaymentState says whether a payment counts as paid.
type PaymentState string

// The states of a payment: a completed payment counts as paid; a pending one is
// a bank transfer waiting for an operator to confirm it.
const (
	PaymentCompleted PaymentState = "completed"
	PaymentPending   PaymentState = "pending"
)

// The audit log's actions of payments.
const (
	AuditPayOnline       = "payment.online"
	AuditPayBankTransfer = "payment.bank_transfer"
	AuditPayFailed       = "payment.failed"
	AuditPayRefund       = "payment.refund"
	AuditTransferConfirm = "payment.confirm"
	AuditTransferCancel  = "payment.cancel"
)

// transferReferenceSize is the number of characters of a transfer reference
// after "BT-", 40 random bits: guessing one is hopeless, and a collision is
// caught and drawn again.
const transferReferenceSize = 8

// chargeTimeout bounds one call to the payment gateway.
const chargeTimeout = 30 * time.Second

// attemptStaleAfter is the age past which an attempt still 'charging' was
// abandoned: the process stopped between the charge and its recording. It
// holds its amount no longer, and the same form sent again charges again with
// the same key, which the gateway answers without charging twice.
const attemptStaleAfter = 2 * chargeTimeout

// chargePoll is how often a form sent again during its own charge looks
// whether the charge has finished.
const chargePoll = 20 * time.Millisecond

// ErrCardDeclined is wrapped by the error of a charge the gateway declined.
// Nothing was charged; a new attempt needs a new form key, since providers
// remember a declined key's answer.
var ErrCardDeclined = errors.New("store: the card was declined")

// Payment is money received against a plan, or announced by a pending bank
// transfer.
type Payment struct {
	ID       int64
	PlanID   int64
	PlanCode string
	Amount   Money
	Method   PaymentMethod
	State    PaymentState
	// Reference is what the customer quotes on a bank transfer
	// (BT-XXXX-XXXX), or the gateway's id of an online payment's charge.
	Reference string
	// PaidAt is when the payment counted as paid; nil while pending.
	PaidAt    *time.Time
	CreatedAt time.Time
	// PaidBy is who paid: the admin's email, or who recorded the transfer.
	PaidBy string
}

// ParsePaymentMethod returns the method named by s ("online",
// "bank_transfer"), or an EINVALID error about the field "method".
func ParsePaymentMethod(s string) (PaymentMethod, error) {
	switch m := PaymentMethod(strings.TrimSpace(s)); m {
	case Online, BankTransfer:
		return m, nil
	}
	return "", FieldError("method", "Choose online (card or e-wallet) or bank transfer.")
}

// NewIdempotencyKey returns a new random one-time key for a form: 32 hex digits.
// It returns an error only when the system's random source fails.
func NewIdempotencyKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: idempotency key: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// CheckIdempotencyKey returns an EINVALID error about the field "form" unless
// key looks like a key NewIdempotencyKey makes (16 to 64 letters, digits, - or _).
func CheckIdempotencyKey(key string) error {
	ok := len(key) >= 16 && len(key) <= 64
	for _, r := range key {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			ok = false
		}
	}
	if !ok {
		return FieldError("form", "This form is out of date. Check it and send it again.")
	}
	return nil
}

// Payable is what a plan owes, and what is already on its way to pay it.
type Payable struct {
	Plan Plan
	// PendingTransfers are the bank transfers waiting for confirmation, oldest first.
	PendingTransfers []Payment
	// Charging is the sum of the online charges in progress.
	Charging Money
}

// Pending returns the sum of the pending bank transfers.
func (p Payable) Pending() Money {
	sum := Money{Currency: p.Plan.Amount.Currency}
	for _, t := range p.PendingTransfers {
		sum = sum.Add(t.Amount)
	}
	return sum
}

// Reserved returns what is on its way: pending transfers and charges in progress.
func (p Payable) Reserved() Money { return p.Pending().Add(p.Charging) }

// Left returns what may still be paid now: the amount due less what is on its
// way, never below zero. Two pending transfers never together exceed the amount due.
func (p Payable) Left() Money {
	left := p.Plan.AmountDue().Sub(p.Reserved())
	if left.Minor < 0 {
		left.Minor = 0
	}
	return left
}

// FindPayable returns what the account's plan with the given code owes and what
// is on its way. It returns an ENOTFOUND error when the account has no such plan.
func (db *DB) FindPayable(ctx context.Context, accountID int64, code string) (Payable, error) {
	var out Payable
	err := db.view(ctx, func(tx *Tx) error {
		p, err := findPlan(ctx, tx, accountID, code)
		if err != nil {
			return err
		}
		out, err = findPayable(ctx, tx, p)
		return err
	})
	return out, err
}

// findPayable is FindPayable inside tx, for a plan already read.
func findPayable(ctx context.Context, tx *Tx, p Plan) (Payable, error) {
	out := Payable{Plan: p, Charging: Money{Currency: p.Amount.Currency}}
	rows, err := tx.QueryContext(ctx, `SELECT `+paymentColumns+` FROM payments pm JOIN plans p ON p.id = pm.plan_id
		JOIN accounts a ON a.id = p.account_id
		WHERE pm.plan_id = ? AND pm.status = 'pending' ORDER BY pm.created_at, pm.id`, p.ID)
	if err != nil {
		return out, fmt.Errorf("store: find pending transfers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		pm, err := scanPayment(rows)
		if err != nil {
			return out, fmt.Errorf("store: find pending transfers: %w", err)
		}
		out.PendingTransfers = append(out.PendingTransfers, pm)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("store: find pending transfers: %w", err)
	}
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM payment_attempts
		WHERE plan_id = ? AND state = 'charging' AND created_at > ?`,
		p.ID, formatInstant(tx.Now().Add(-attemptStaleAfter))).Scan(&out.Charging.Minor)
	if err != nil {
		return out, fmt.Errorf("store: sum charges in progress: %w", err)
	}
	return out, nil
}

// paymentColumns are the columns scanPayment reads; pm is payments, p plans,
// a accounts.
const paymentColumns = `pm.id, pm.plan_id, p.code, pm.amount, a.currency, pm.method, pm.status,
	COALESCE(pm.reference, ''), pm.paid_at, pm.created_at, pm.paid_by`

func scanPayment(row rowScanner) (Payment, error) {
	var (
		pm             Payment
		amount         int64
		currency, meth string
		state, created string
		paidAt         sql.NullString
		err            error
	)
	if err = row.Scan(&pm.ID, &pm.PlanID, &pm.PlanCode, &amount, &currency, &meth, &state,
		&pm.Reference, &paidAt, &created, &pm.PaidBy); err != nil {
		return pm, err
	}
	pm.Amount = Money{amount, Currency(currency)}
	pm.Method, pm.State = PaymentMethod(meth), PaymentState(state)
	if pm.PaidAt, err = parseNullInstant(paidAt); err != nil {
		return pm, err
	}
	pm.CreatedAt, err = parseInstant(created)
	return pm, err
}

func findPayment(ctx context.Context, tx *Tx, where string, arg any) (Payment, error) {
	return scanPayment(tx.QueryRowContext(ctx, `SELECT `+paymentColumns+` FROM payments pm
		JOIN plans p ON p.id = pm.plan_id JOIN accounts a ON a.id = p.account_id WHERE `+where, arg))
}

// PayRequest is a Pay now form, read by the web layer.
type PayRequest struct {
	// AccountID scopes the plan: another account's plan is not found.
	AccountID int64
	PlanCode  string
	Amount    Money
	Method    PaymentMethod
	// CardNumber is the card of an online payment; never stored.
	CardNumber string
	// IdempotencyKey is the form's one-time key (NewIdempotencyKey).
	IdempotencyKey string
	// Actor is who pays (the admin's email), IP where from, for the audit log.
	Actor string
	IP    string
}

// check returns a field error for what is wrong with the form on its own,
// before any plan is read.
func (r PayRequest) check() error {
	if err := CheckIdempotencyKey(r.IdempotencyKey); err != nil {
		return err
	}
	if _, err := ParsePaymentMethod(string(r.Method)); err != nil {
		return err
	}
	if r.Amount.Minor <= 0 {
		return FieldError("amount", "Enter an amount above zero.")
	}
	if r.Method == Online {
		if err := CheckCardNumber(r.CardNumber); err != nil {
			return err
		}
	}
	if r.Actor == "" {
		return fmt.Errorf("store: pay: an actor is required")
	}
	return nil
}

// PayResult is the answer to a Pay now form.
type PayResult struct {
	Payment Payment
	// PaymentStatus is the plan's payment status right after the payment.
	PaymentStatus PaymentStatus
	// Activated is true when the payment activated the plan.
	Activated bool
	// Plan is the plan right after the payment; for a result Replayed, the plan
	// as it is now.
	Plan Plan
	// Replayed is true when the form had been sent before: the result is the
	// first one's, and nothing was recorded this time.
	Replayed bool
}

// attempt is a row of payment_attempts.
type attempt struct {
	id, planID    int64
	key           string
	amount        Money
	method        PaymentMethod
	state         string
	chargeID      string
	paymentID     int64
	paymentStatus PaymentStatus
	activated     bool
	createdAt     time.Time
}

const (
	attemptCharging  = "charging"
	attemptDone      = "done"
	attemptRefunding = "refunding"
	attemptRefunded  = "refunded"
	attemptCancelled = "cancelled"
)

// findAttempt returns the attempt of a form key, and false when there is none.
func findAttempt(ctx context.Context, tx *Tx, key string) (attempt, bool, error) {
	var (
		a                      attempt
		currency, meth, status string
		chargeID               sql.NullString
		paymentID              sql.NullInt64
		created                string
	)
	err := tx.QueryRowContext(ctx, `
		SELECT t.id, t.plan_id, t.idempotency_key, t.amount, a.currency, t.method, t.state, t.charge_id, t.payment_id,
			t.payment_status, t.activated, t.created_at
		FROM payment_attempts t JOIN plans p ON p.id = t.plan_id JOIN accounts a ON a.id = p.account_id
		WHERE t.idempotency_key = ?`, key).Scan(&a.id, &a.planID, &a.key, &a.amount.Minor, &currency, &meth, &a.state,
		&chargeID, &paymentID, &status, &a.activated, &created)
	if err == sql.ErrNoRows {
		return a, false, nil
	} else if err != nil {
		return a, false, fmt.Errorf("store: find payment attempt: %w", err)
	}
	a.amount.Currency, a.method, a.paymentStatus = Currency(currency), PaymentMethod(meth), PaymentStatus(status)
	a.chargeID, a.paymentID = chargeID.String, paymentID.Int64
	if a.createdAt, err = parseInstant(created); err != nil {
		return a, false, fmt.Errorf("store: payment attempt %d: %w", a.id, err)
	}
	return a, true, nil
}

// result returns the answer a finished attempt gave the first time.
func (a attempt) result(ctx context.Context, tx *Tx) (PayResult, error) {
	pm, err := findPayment(ctx, tx, "pm.id = ?", a.paymentID)
	if err != nil {
		return PayResult{}, fmt.Errorf("store: payment of attempt %d: %w", a.id, err)
	}
	p, err := findPlanByID(ctx, tx, a.planID)
	if err != nil {
		return PayResult{}, err
	}
	return PayResult{Payment: pm, PaymentStatus: a.paymentStatus, Activated: a.activated, Plan: p, Replayed: true}, nil
}

// payStep is what reserving a payment decided.
type payStep struct {
	// result is the answer when there is nothing more to do: a bank transfer
	// recorded, or the first answer to a form sent again.
	result *PayResult
	// charge is the attempt to charge now.
	charge *attempt
	// refund is the attempt of a form sent again whose charge was (or is being)
	// refunded.
	refund *attempt
	// wait says the form's charge is in progress.
	wait bool
	// refusal is the answer of a form sent again that was refused the first time.
	refusal error
	plan    Plan
}

// Pay carries out a Pay now form: it records a bank transfer as pending, or
// charges an online payment through gw and records it (see the top of this
// file). The same form (IdempotencyKey) sent again answers with the first
// result, Replayed, even while its charge is in progress.
//
// It returns an ENOTFOUND error for a plan the account does not have, and an
// EINVALID error with a Field ("amount", "method", "card", "form") for a form
// that cannot be paid: an amount of zero or less, more than is left to pay, a
// plan that owes nothing, a card the gateway declined or a charge that timed
// out (nothing is then recorded as paid). A form still charging after the
// charge's time-out gives an ECONFLICT error.
func (db *DB) Pay(ctx context.Context, gw PaymentGateway, req PayRequest) (PayResult, error) {
	if err := req.check(); err != nil {
		return PayResult{}, err
	}
	giveUp := time.Now().Add(chargeTimeout + 5*time.Second)
	for {
		var step payStep
		err := db.update(ctx, func(tx *Tx) error {
			var err error
			step, err = reservePayment(ctx, tx, req)
			return err
		})
		switch {
		case err != nil:
			return PayResult{}, err
		case step.result != nil:
			return *step.result, nil
		case step.refusal != nil:
			return PayResult{}, step.refusal
		case step.charge != nil:
			return db.charge(ctx, gw, req, *step.charge, step.plan)
		case step.refund != nil:
			return PayResult{}, db.refund(ctx, gw, *step.refund, req)
		}
		// The same form is being charged by another request: wait for its answer.
		if time.Now().After(giveUp) {
			return PayResult{}, Errorf(ECONFLICT, "This payment is still being processed. Check the plan in a moment.")
		}
		select {
		case <-time.After(chargePoll):
		case <-ctx.Done():
			return PayResult{}, ctx.Err()
		}
	}
}

// reservePayment is the first transaction of Pay: it finds the form's earlier
// attempt, or checks the form against the plan and reserves its amount.
func reservePayment(ctx context.Context, tx *Tx, req PayRequest) (payStep, error) {
	p, err := findPlan(ctx, tx, req.AccountID, req.PlanCode)
	if err != nil {
		return payStep{}, err
	}
	step := payStep{plan: p}
	a, found, err := findAttempt(ctx, tx, req.IdempotencyKey)
	if err != nil {
		return step, err
	}
	if found && a.planID != p.ID {
		return step, FieldError("form", "This form was already sent for another plan. Reload the page and try again.")
	}
	if found {
		switch a.state {
		case attemptDone:
			res, err := a.result(ctx, tx)
			step.result = &res
			return step, err
		case attemptRefunding:
			step.refund = &a
			return step, nil
		case attemptRefunded:
			step.refusal = refundedError(a.amount, p)
			return step, nil
		case attemptCancelled:
			step.refusal = FieldError("form", "This bank transfer was cancelled by an operator. Reload the page to pay again.")
			return step, nil
		}
		if tx.Now().Sub(a.createdAt) < attemptStaleAfter {
			step.wait = true
			return step, nil
		}
		// Abandoned during its charge: charge again, with the same key.
		if _, err := tx.ExecContext(ctx, `DELETE FROM payment_attempts WHERE id = ?`, a.id); err != nil {
			return step, fmt.Errorf("store: drop abandoned attempt: %w", err)
		}
	}

	if req.Amount.Currency != p.Amount.Currency {
		return step, FieldError("amount", "Pay in %s, the currency of %s.", p.Amount.Currency, p.Code)
	}
	payable, err := findPayable(ctx, tx, p)
	if err != nil {
		return step, err
	}
	if err := checkPayable(payable, req.Amount); err != nil {
		return step, err
	}

	res, err := tx.ExecContext(ctx, `
		INSERT INTO payment_attempts (plan_id, idempotency_key, amount, method, state, created_at, actor)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.ID, req.IdempotencyKey, req.Amount.Minor, req.Method, attemptCharging, formatInstant(tx.Now()), req.Actor)
	if err != nil {
		return step, fmt.Errorf("store: reserve payment: %w", err)
	}
	a = attempt{planID: p.ID, key: req.IdempotencyKey, amount: req.Amount, method: req.Method, state: attemptCharging, createdAt: tx.Now()}
	if a.id, err = res.LastInsertId(); err != nil {
		return step, fmt.Errorf("store: reserve payment: %w", err)
	}
	if req.Method == Online {
		step.charge = &a
		return step, nil
	}
	r, err := recordTransfer(ctx, tx, req, a, p)
	step.result = &r
	return step, err
}

// checkPayable returns a field error unless amount may be paid on the plan now.
func checkPayable(payable Payable, amount Money) error {
	p := payable.Plan
	due, left, reserved := p.AmountDue(), payable.Left(), payable.Reserved()
	switch {
	case due.IsZero():
		return FieldError("amount", "%s is paid in full: nothing is due.", p.Code)
	case left.IsZero():
		return FieldError("amount", "Nothing is left to pay on %s now: the %s due is awaiting bank transfers or a card payment in progress.", p.Code, due)
	case amount.Minor > left.Minor && reserved.IsZero():
		return FieldError("amount", "%s is more than the amount due, %s.", amount, left)
	case amount.Minor > left.Minor:
		return FieldError("amount", "%s is more than the %s left to pay now: %s of the %s due is awaiting bank transfers or a card payment in progress.",
			amount, left, reserved, due)
	}
	return nil
}

// recordTransfer records the bank transfer of attempt a as a pending payment
// with a new reference, in the reserving transaction.
func recordTransfer(ctx context.Context, tx *Tx, req PayRequest, a attempt, p Plan) (PayResult, error) {
	ref, err := newTransferReference(ctx, tx)
	if err != nil {
		return PayResult{}, err
	}
	now := formatInstant(tx.Now())
	res, err := tx.ExecContext(ctx, `
		INSERT INTO payments (plan_id, amount, method, status, reference, created_at, paid_by, idempotency_key)
		VALUES (?, ?, 'bank_transfer', 'pending', ?, ?, ?, ?)`, p.ID, a.amount.Minor, ref, now, req.Actor, a.key)
	if err != nil {
		return PayResult{}, fmt.Errorf("store: record bank transfer: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return PayResult{}, fmt.Errorf("store: record bank transfer: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payment_attempts SET state = 'done', payment_id = ?, payment_status = ? WHERE id = ?`,
		id, p.PaymentStatus(), a.id); err != nil {
		return PayResult{}, fmt.Errorf("store: record bank transfer: %w", err)
	}
	err = auditPlanChange(ctx, tx, p, p, actionAudit{
		Actor: req.Actor, IP: req.IP, Action: AuditPayBankTransfer,
		Detail: fmt.Sprintf("Bank transfer %s of %s on %s recorded, pending until confirmed.", ref, a.amount, p.Code),
	})
	if err != nil {
		return PayResult{}, err
	}
	pm := Payment{ID: id, PlanID: p.ID, PlanCode: p.Code, Amount: a.amount, Method: BankTransfer, State: PaymentPending,
		Reference: ref, CreatedAt: tx.Now(), PaidBy: req.Actor}
	return PayResult{Payment: pm, PaymentStatus: p.PaymentStatus(), Plan: p}, nil
}

// transferAlphabet writes references without the characters people confuse
// (0 and O, 1 and I).
const transferAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// newTransferReference returns a reference BT-XXXX-XXXX that no payment has.
func newTransferReference(ctx context.Context, tx *Tx) (string, error) {
	for range 10 {
		b := make([]byte, transferReferenceSize)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("store: transfer reference: %w", err)
		}
		for i := range b {
			// 256 is a multiple of 32: every character is as likely.
			b[i] = transferAlphabet[int(b[i])%len(transferAlphabet)]
		}
		ref := "BT-" + string(b[:4]) + "-" + string(b[4:])
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM payments WHERE reference = ?`, ref).Scan(&n); err != nil {
			return "", fmt.Errorf("store: transfer reference: %w", err)
		}
		if n == 0 {
			return ref, nil
		}
	}
	return "", fmt.Errorf("store: transfer reference: no free reference after 10 tries")
}

// charge calls the gateway for attempt a outside any transaction, then records
// the outcome. The charge and its recording are not cancelled when the client
// goes away: a charge the provider made must be recorded or refunded.
func (db *DB) charge(ctx context.Context, gw PaymentGateway, req PayRequest, a attempt, p Plan) (PayResult, error) {
	bg := context.WithoutCancel(ctx)
	chargeCtx, cancel := context.WithTimeout(bg, chargeTimeout)
	res, err := gw.Charge(chargeCtx, ChargeRequest{IdempotencyKey: a.key, Amount: a.amount, CardNumber: CardDigits(req.CardNumber), Description: p.Code})
	cancel()
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: %w", ErrGatewayTimeout, err)
	}
	if err != nil || res.Declined {
		var fail *Error
		detail := fmt.Sprintf("Online payment of %s on %s ", a.amount, p.Code)
		switch {
		case errors.Is(err, ErrGatewayTimeout):
			fail = &Error{Code: EINVALID, Field: "card", Err: err,
				Message: "The payment provider did not answer in time, so nothing was recorded as paid. Send the form again to retry: you will not be charged twice."}
			detail += "timed out: the provider did not answer in time."
		case err != nil:
			fail = &Error{Code: EINVALID, Field: "card", Err: err,
				Message: "The payment provider could not be reached, so nothing was recorded as paid. Send the form again to retry: you will not be charged twice."}
			detail += "failed: the provider could not be reached."
		default:
			fail = &Error{Code: EINVALID, Field: "card", Err: ErrCardDeclined,
				Message: res.DeclineReason + " Nothing was charged or recorded as paid."}
			detail += "declined: " + res.DeclineReason
		}
		err := db.update(bg, func(tx *Tx) error {
			if _, err := tx.ExecContext(bg, `DELETE FROM payment_attempts WHERE id = ? AND state = 'charging'`, a.id); err != nil {
				return fmt.Errorf("store: release payment attempt: %w", err)
			}
			return auditPlanChange(bg, tx, p, p, actionAudit{Actor: req.Actor, IP: req.IP, Action: AuditPayFailed, Detail: detail})
		})
		if err != nil {
			return PayResult{}, err
		}
		return PayResult{}, fail
	}

	var (
		out      PayResult
		refunded bool
	)
	err = db.update(bg, func(tx *Tx) error {
		var err error
		out, refunded, err = recordCharge(bg, tx, req, a, res.ChargeID)
		return err
	})
	if err != nil {
		return PayResult{}, err
	}
	if refunded {
		a.chargeID = res.ChargeID
		return PayResult{}, db.refund(bg, gw, a, req)
	}
	return out, nil
}

// recordCharge is the second transaction of an online payment: it records the
// charge chargeID of attempt a when the plan still owes its amount, and
// otherwise marks the attempt for a refund (true).
func recordCharge(ctx context.Context, tx *Tx, req PayRequest, a attempt, chargeID string) (PayResult, bool, error) {
	cur, found, err := findAttempt(ctx, tx, a.key)
	if err != nil {
		return PayResult{}, false, err
	}
	if found && cur.state == attemptDone && cur.chargeID == chargeID {
		// The same form, sent again after this attempt was given up for
		// abandoned, recorded the same charge first.
		res, err := cur.result(ctx, tx)
		return res, false, err
	}
	p, err := findPlanByID(ctx, tx, a.planID)
	if err != nil {
		return PayResult{}, false, err
	}
	if !found || cur.id != a.id || cur.state != attemptCharging || a.amount.Minor > p.AmountDue().Minor {
		// The plan no longer owes the amount (it was paid meanwhile), or the
		// attempt is no longer this one's: the charge goes back.
		if found && cur.id == a.id && cur.state == attemptCharging {
			if _, err := tx.ExecContext(ctx, `UPDATE payment_attempts SET state = 'refunding', charge_id = ? WHERE id = ?`, chargeID, a.id); err != nil {
				return PayResult{}, false, fmt.Errorf("store: refund payment attempt: %w", err)
			}
		}
		err := auditPlanChange(ctx, tx, p, p, actionAudit{Actor: req.Actor, IP: req.IP, Action: AuditPayRefund,
			Detail: fmt.Sprintf("Online payment %s of %s on %s not applied: the plan owed %s when the charge came back. The charge is refunded.",
				chargeID, a.amount, p.Code, p.AmountDue())})
		return PayResult{}, true, err
	}

	now := tx.Now()
	res, err := tx.ExecContext(ctx, `
		INSERT INTO payments (plan_id, amount, method, status, reference, paid_at, created_at, paid_by, idempotency_key)
		VALUES (?, ?, 'online', 'completed', ?, ?, ?, ?, ?)`,
		p.ID, a.amount.Minor, chargeID, formatInstant(now), formatInstant(now), req.Actor, a.key)
	if err != nil {
		return PayResult{}, false, fmt.Errorf("store: record online payment: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return PayResult{}, false, fmt.Errorf("store: record online payment: %w", err)
	}
	after, activated, err := applyPayment(ctx, tx, p, a.amount, now)
	if err != nil {
		return PayResult{}, false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payment_attempts SET state = 'done', charge_id = ?, payment_id = ?, payment_status = ?, activated = ? WHERE id = ?`,
		chargeID, id, after.PaymentStatus(), activated, a.id); err != nil {
		return PayResult{}, false, fmt.Errorf("store: record online payment: %w", err)
	}
	err = auditPlanChange(ctx, tx, p, after, actionAudit{Actor: req.Actor, IP: req.IP, Action: AuditPayOnline,
		Detail: fmt.Sprintf("Online payment %s of %s on %s.", chargeID, a.amount, p.Code)})
	if err != nil {
		return PayResult{}, false, err
	}
	pm := Payment{ID: id, PlanID: p.ID, PlanCode: p.Code, Amount: a.amount, Method: Online, State: PaymentCompleted,
		Reference: chargeID, PaidAt: &now, CreatedAt: now, PaidBy: req.Actor}
	return PayResult{Payment: pm, PaymentStatus: after.PaymentStatus(), Activated: activated, Plan: after}, false, nil
}

// refund gives back the charge of attempt a, which could not be applied to its
// plan, and marks the attempt refunded. It returns the refusal the form gets, or
// an internal error when the gateway did not confirm the refund (the attempt
// stays 'refunding', and the same form sent again tries the refund again).
func (db *DB) refund(ctx context.Context, gw PaymentGateway, a attempt, req PayRequest) error {
	bg := context.WithoutCancel(ctx)
	refundCtx, cancel := context.WithTimeout(bg, chargeTimeout)
	err := gw.Refund(refundCtx, a.chargeID)
	cancel()
	if err != nil {
		return fmt.Errorf("store: refund charge %s of %s: %w", a.chargeID, a.amount, err)
	}
	var p Plan
	err = db.update(bg, func(tx *Tx) error {
		if _, err := tx.ExecContext(bg, `UPDATE payment_attempts SET state = 'refunded' WHERE id = ? AND state = 'refunding'`, a.id); err != nil {
			return fmt.Errorf("store: refunded payment attempt: %w", err)
		}
		var err error
		p, err = findPlanByID(bg, tx, a.planID)
		return err
	})
	if err != nil {
		return err
	}
	return refundedError(a.amount, p)
}

// refundedError is the answer of a charge that came back when its plan no
// longer owed it: it tells the new amount due.
func refundedError(amount Money, p Plan) error {
	return FieldError("amount", "%s was paid by someone else while your card was charged, so your charge of %s was refunded and nothing was recorded. The amount due is now %s.",
		p.Code, amount, p.AmountDue())
}

// applyPayment adds a completed payment of amount, received at instant at, to
// plan p inside tx: the paid total; the upfront amount paid when it came before
// the plan's start date in the account's time zone; and the activation, when
// the paid total first reaches what the payment option requires (activation is
// kept for good). It returns the plan after, and whether the payment activated it.
// The update is guarded so that no payment takes the paid total past the amount.
func applyPayment(ctx context.Context, tx *Tx, p Plan, amount Money, at time.Time) (Plan, bool, error) {
	loc, err := accountLocation(ctx, tx, p.AccountID)
	if err != nil {
		return p, false, err
	}
	after := p
	after.PaidTotal = p.PaidTotal.Add(amount)
	upfront := Money{Currency: amount.Currency}
	if at.Before(p.StartDate.Start(loc)) {
		upfront = amount
	}
	after.PaidUpfront = p.PaidUpfront.Add(upfront)
	var activatedAt any
	activated := p.ActivatedAt == nil && after.PaidTotal.Minor >= after.RequiredBeforeUse().Minor
	if activated {
		t := at
		after.ActivatedAt = &t
		activatedAt = formatInstant(at)
	}
	err = tx.changePlan(ctx, p, after, func() error {
		res, err := tx.ExecContext(ctx, `
			UPDATE plans SET paid_total = paid_total + ?, paid_upfront = paid_upfront + ?, activated_at = COALESCE(activated_at, ?)
			WHERE id = ? AND paid_total + ? <= amount`, amount.Minor, upfront.Minor, activatedAt, p.ID, amount.Minor)
		if err != nil {
			return fmt.Errorf("store: add payment to %s: %w", p.Code, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: add payment to %s: %w", p.Code, err)
		} else if n != 1 {
			return Errorf(ECONFLICT, "%s does not owe %s: the amount due is %s.", p.Code, amount, p.AmountDue())
		}
		return nil
	})
	if err != nil {
		return p, false, err
	}
	return after, activated, nil
}

// findPlanByID returns the plan with id, with no account scope: for the
// operator's commands and for rows already scoped.
func findPlanByID(ctx context.Context, tx *Tx, id int64) (Plan, error) {
	p, err := scanPlan(tx.QueryRowContext(ctx, `SELECT `+planColumns+`
		FROM plans p JOIN accounts a ON a.id = p.account_id WHERE p.id = ?`, id))
	if err == sql.ErrNoRows {
		return p, Errorf(ENOTFOUND, "There is no such billing plan.")
	} else if err != nil {
		return p, fmt.Errorf("store: find plan %d: %w", id, err)
	}
	return p, nil
}

// accountLocation returns the time zone of the account with id.
func accountLocation(ctx context.Context, tx *Tx, accountID int64) (*time.Location, error) {
	var tz string
	if err := tx.QueryRowContext(ctx, `SELECT timezone FROM accounts WHERE id = ?`, accountID).Scan(&tz); err != nil {
		return nil, fmt.Errorf("store: time zone of account %d: %w", accountID, err)
	}
	return LoadLocation(tz), nil
}

// TransferResult is the answer to confirming or cancelling a bank transfer.
type TransferResult struct {
	Payment Payment
	// Plan is the plan after the change.
	Plan Plan
	// Activated is true when the confirmation activated the plan.
	Activated bool
}

// ConfirmTransfer counts the pending bank transfer with the given reference as
// paid, now: an operator saw the money arrive. It returns an ENOTFOUND error
// for an unknown reference, and an ECONFLICT error for a transfer already
// confirmed or one that would take the plan's paid total past its amount.
func (db *DB) ConfirmTransfer(ctx context.Context, reference, actor string) (TransferResult, error) {
	var out TransferResult
	err := db.update(ctx, func(tx *Tx) error {
		pm, p, err := findTransfer(ctx, tx, reference)
		if err != nil {
			return err
		}
		if pm.State == PaymentCompleted {
			return Errorf(ECONFLICT, "Bank transfer %s is already confirmed (on %s UTC).", pm.Reference, pm.PaidAt.UTC().Format("2 Jan 2006 15:04"))
		}
		if due := p.AmountDue(); pm.Amount.Minor > due.Minor {
			return Errorf(ECONFLICT, "Bank transfer %s of %s would overpay %s, which owes %s: it is not confirmed. Cancel it and give the money back.",
				pm.Reference, pm.Amount, p.Code, due)
		}
		now := tx.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE payments SET status = 'completed', paid_at = ? WHERE id = ? AND status = 'pending'`,
			formatInstant(now), pm.ID); err != nil {
			return fmt.Errorf("store: confirm transfer: %w", err)
		}
		after, activated, err := applyPayment(ctx, tx, p, pm.Amount, now)
		if err != nil {
			return err
		}
		pm.State, pm.PaidAt = PaymentCompleted, &now
		out = TransferResult{Payment: pm, Plan: after, Activated: activated}
		return auditPlanChange(ctx, tx, p, after, actionAudit{Actor: actor, Action: AuditTransferConfirm,
			Detail: fmt.Sprintf("Bank transfer %s of %s on %s confirmed.", pm.Reference, pm.Amount, p.Code)})
	})
	return out, err
}

// CancelTransfer removes the pending bank transfer with the given reference:
// the money never came, and its amount is free to pay again. It returns an
// ENOTFOUND error for an unknown reference and an ECONFLICT error for a
// transfer already confirmed.
func (db *DB) CancelTransfer(ctx context.Context, reference, actor string) (TransferResult, error) {
	var out TransferResult
	err := db.update(ctx, func(tx *Tx) error {
		pm, p, err := findTransfer(ctx, tx, reference)
		if err != nil {
			return err
		}
		if pm.State == PaymentCompleted {
			return Errorf(ECONFLICT, "Bank transfer %s is already confirmed: it cannot be cancelled.", pm.Reference)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payment_attempts SET state = 'cancelled', payment_id = NULL WHERE payment_id = ?`, pm.ID); err != nil {
			return fmt.Errorf("store: cancel transfer: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM payments WHERE id = ? AND status = 'pending'`, pm.ID); err != nil {
			return fmt.Errorf("store: cancel transfer: %w", err)
		}
		out = TransferResult{Payment: pm, Plan: p}
		return auditPlanChange(ctx, tx, p, p, actionAudit{Actor: actor, Action: AuditTransferCancel,
			Detail: fmt.Sprintf("Pending bank transfer %s of %s on %s cancelled.", pm.Reference, pm.Amount, p.Code)})
	})
	return out, err
}

// findTransfer returns the bank transfer with reference (any case, spaces
// around ignored) and its plan.
func findTransfer(ctx context.Context, tx *Tx, reference string) (Payment, Plan, error) {
	ref := strings.ToUpper(strings.TrimSpace(reference))
	pm, err := findPayment(ctx, tx, "pm.reference = ?", ref)
	if err == sql.ErrNoRows || (err == nil && pm.Method != BankTransfer) {
		return pm, Plan{}, Errorf(ENOTFOUND, "There is no bank transfer with reference %q.", ref)
	} else if err != nil {
		return pm, Plan{}, fmt.Errorf("store: find transfer %s: %w", ref, err)
	}
	p, err := findPlanByID(ctx, tx, pm.PlanID)
	return pm, p, err
}

// actionAudit is what an action on a plan writes to the audit log besides the
// plan's figures before and after.
type actionAudit struct {
	Actor, IP, Action, Detail string
}

// planFigures are the figures of a plan the audit log keeps before and after
// an action.
type planFigures struct {
	Amount        string        `json:"amount"`
	Currency      Currency      `json:"currency"`
	PaidTotal     string        `json:"paid_total"`
	PaymentStatus PaymentStatus `json:"payment_status"`
	Status        Status        `json:"status"`
	EndDate       string        `json:"end_date"`
}

// auditPlanChange writes the audit entry of an action that took plan before to
// after, with the figures of both, inside the action's transaction.
func auditPlanChange(ctx context.Context, tx *Tx, before, after Plan, e actionAudit) error {
	loc, err := accountLocation(ctx, tx, before.AccountID)
	if err != nil {
		return err
	}
	today := DateOf(tx.Now(), loc)
	figures := func(p Plan) (string, error) {
		b, err := json.Marshal(planFigures{Amount: p.Amount.Plain(), Currency: p.Amount.Currency, PaidTotal: p.PaidTotal.Plain(),
			PaymentStatus: p.PaymentStatus(), Status: p.Status(today), EndDate: p.EndDate.String()})
		return string(b), err
	}
	b, err := figures(before)
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", e.Action, err)
	}
	a, err := figures(after)
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", e.Action, err)
	}
	return Audit(ctx, tx, AuditEntry{AccountID: before.AccountID, PlanID: before.ID, Actor: e.Actor, Action: e.Action,
		Detail: e.Detail, Before: b, After: a, IP: e.IP})
}
