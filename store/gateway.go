package store

// The payment gateway: how an online payment (card or e-wallet) is charged. A
// real provider plugs in behind PaymentGateway; the product ships a sandbox for
// development and tests whose test card numbers are documented in
// docs/actions.md and hinted on the pay page.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// PaymentGateway charges online payments, and refunds a charge that could not
// be applied to its plan.
//
// Both calls must be idempotent by key, as payment providers are: a Charge with
// the IdempotencyKey of an earlier charge answers with that charge's result and
// charges nothing again, and a Refund of a charge already refunded refunds
// nothing again. The store relies on it to retry a charge whose answer it never
// got (a time-out) without charging twice.
type PaymentGateway interface {
	// Charge takes req.Amount from the card. A decline is a result, not an
	// error: ChargeResult.Declined. An error means the outcome is unknown
	// (ErrGatewayTimeout, a network failure); nothing is then recorded as paid.
	Charge(ctx context.Context, req ChargeRequest) (ChargeResult, error)
	// Refund gives back the whole of the charge chargeID. It returns an error
	// when the provider did not confirm the refund.
	Refund(ctx context.Context, chargeID string) error
}

// ChargeRequest is one online payment to charge.
type ChargeRequest struct {
	// IdempotencyKey is the Pay now form's one-time key: the same key is the
	// same charge.
	IdempotencyKey string
	Amount         Money
	// CardNumber is the number typed on the pay page, digits only. It is never
	// stored nor logged.
	CardNumber string
	// Description says what the charge is for ("BP-2026-000142").
	Description string
}

// ChargeResult is what the gateway answered to a charge.
type ChargeResult struct {
	// ChargeID is the provider's id of the charge, kept as the payment's
	// reference.
	ChargeID string
	// Declined is true when the provider refused the charge; DeclineReason then
	// says why, in a sentence fit to show.
	Declined      bool
	DeclineReason string
}

// ErrGatewayTimeout is the error of a charge whose answer did not come in time:
// the provider may or may not have charged, so the same form sent again
// charges with the same key, which the provider answers without charging twice.
var ErrGatewayTimeout = errors.New("store: the payment gateway did not answer in time")

// The sandbox's test card numbers (docs/actions.md), as typed on the pay page.
const (
	// SandboxCardSucceeds is charged successfully.
	SandboxCardSucceeds = "4242 4242 4242 4242"
	// SandboxCardDeclined is declined.
	SandboxCardDeclined = "4000 0000 0000 0002"
	// SandboxCardTimesOut never answers: the charge times out.
	SandboxCardTimesOut = "4000 0000 0000 0119"
)

// SandboxGateway is the payment gateway of development and tests: no money
// moves. SandboxCardSucceeds is charged, SandboxCardDeclined is declined,
// SandboxCardTimesOut times out, and any other number is declined as unknown.
// It keeps no state: a charge's id is derived from its idempotency key, so the
// same key is the same charge, as with a real provider.
type SandboxGateway struct {
	// Delay is how long each call takes, waiting for ctx at most; 0 answers at
	// once. Tests make it slow to send the same form twice during a charge.
	Delay time.Duration
}

// Charge answers as the card number says; see SandboxGateway. It returns
// ErrGatewayTimeout for SandboxCardTimesOut and ctx's error when ctx ends first.
func (g SandboxGateway) Charge(ctx context.Context, req ChargeRequest) (ChargeResult, error) {
	if err := g.wait(ctx); err != nil {
		return ChargeResult{}, err
	}
	switch CardDigits(req.CardNumber) {
	case CardDigits(SandboxCardSucceeds):
		sum := sha256.Sum256([]byte(req.IdempotencyKey))
		return ChargeResult{ChargeID: "ch_sandbox_" + hex.EncodeToString(sum[:12])}, nil
	case CardDigits(SandboxCardDeclined):
		return ChargeResult{Declined: true, DeclineReason: "The card was declined."}, nil
	case CardDigits(SandboxCardTimesOut):
		return ChargeResult{}, ErrGatewayTimeout
	}
	return ChargeResult{Declined: true, DeclineReason: "The sandbox accepts only its test card numbers."}, nil
}

// Refund refunds nothing, as no money moved; it returns ctx's error when ctx
// ends before the Delay.
func (g SandboxGateway) Refund(ctx context.Context, chargeID string) error {
	return g.wait(ctx)
}

func (g SandboxGateway) wait(ctx context.Context) error {
	if g.Delay <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(g.Delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CardDigits returns the card number s without the spaces and dashes people
// type between groups of digits.
func CardDigits(s string) string {
	return strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s))
}

// CheckCardNumber returns an EINVALID error about the field "card" unless s
// (spaces and dashes aside) is 12 to 19 digits that pass the Luhn check, as
// every card number does.
func CheckCardNumber(s string) error {
	d := CardDigits(s)
	if d == "" {
		return FieldError("card", "Enter the card number to pay online.")
	}
	if len(d) < 12 || len(d) > 19 {
		return FieldError("card", "A card number has 12 to 19 digits.")
	}
	sum := 0
	for i := range len(d) {
		c := d[len(d)-1-i]
		if c < '0' || c > '9' {
			return FieldError("card", "A card number has only digits.")
		}
		n := int(c - '0')
		if i%2 == 1 {
			if n *= 2; n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	if sum%10 != 0 {
		return FieldError("card", "This is not a valid card number: check the digits.")
	}
	return nil
}
