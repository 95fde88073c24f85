package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSandboxGateway(t *testing.T) {
	ctx := context.Background()
	g := SandboxGateway{}
	charge := func(card, key string) (ChargeResult, error) {
		return g.Charge(ctx, ChargeRequest{IdempotencyKey: key, Amount: Money{1000, VND}, CardNumber: card})
	}
	t.Run("the success card is charged, the same key being the same charge", func(t *testing.T) {
		a, err := charge(SandboxCardSucceeds, "key-one-0123456789")
		if err != nil || a.Declined || !strings.HasPrefix(a.ChargeID, "ch_sandbox_") {
			t.Fatalf("result %+v, err %v", a, err)
		}
		b, _ := charge("4242424242424242", "key-one-0123456789")
		c, _ := charge(SandboxCardSucceeds, "key-two-0123456789")
		if a.ChargeID != b.ChargeID || a.ChargeID == c.ChargeID {
			t.Errorf("charge ids %s, %s (same key), %s (another key)", a.ChargeID, b.ChargeID, c.ChargeID)
		}
	})
	t.Run("the decline card is declined with a reason", func(t *testing.T) {
		r, err := charge(SandboxCardDeclined, "k")
		if err != nil || !r.Declined || r.DeclineReason == "" || r.ChargeID != "" {
			t.Errorf("result %+v, err %v", r, err)
		}
	})
	t.Run("the time-out card times out", func(t *testing.T) {
		if _, err := charge(SandboxCardTimesOut, "k"); !errors.Is(err, ErrGatewayTimeout) {
			t.Errorf("err = %v, want ErrGatewayTimeout", err)
		}
	})
	t.Run("any other card is declined", func(t *testing.T) {
		if r, err := charge("5555 5555 5555 4444", "k"); err != nil || !r.Declined {
			t.Errorf("result %+v, err %v", r, err)
		}
	})
	t.Run("a slow sandbox stops when its context ends", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		_, err := SandboxGateway{Delay: time.Hour}.Charge(ctx, ChargeRequest{CardNumber: SandboxCardSucceeds})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestCheckCardNumber(t *testing.T) {
	tests := []struct {
		name, number string
		ok           bool
	}{
		{"the sandbox's success card, in groups", SandboxCardSucceeds, true},
		{"the sandbox's decline card, with dashes", "4000-0000-0000-0002", true},
		{"the sandbox's time-out card, in one piece", "4000000000000119", true},
		{"a wrong check digit", "4242 4242 4242 4241", false},
		{"nothing", "", false},
		{"too few digits", "4242 4242", false},
		{"letters", "4242 4242 4242 424x", false},
		{"twenty digits", "42424242424242424242", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckCardNumber(tt.number)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			var e *Error
			if err != nil && (!errors.As(err, &e) || e.Field != "card") {
				t.Errorf("err = %#v, want a field error about card", err)
			}
		})
	}
}
