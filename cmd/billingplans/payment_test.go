package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/billingplans/billingplans/store"
)

// mustPendingTransfers returns a database with a postpaid USD plan BP-1 of
// $1,000.00 and a pending bank transfer of each amount (in cents) on it, and
// the references of the transfers.
func mustPendingTransfers(t *testing.T, cents ...int64) (string, []string) {
	t.Helper()
	path := mustAccountDB(t, "ACME")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO plans (account_id, code, type, start_date, end_date, first_term_months, first_term_amount,
		amount, region, payment_option, payment_method, created_at, created_by, activated_at)
		SELECT id, 'BP-1', 'GPU Commitment', '2026-01-01', '2026-12-31', 12, 100000, 100000, 'Hanoi', 'postpaid', 'bank_transfer',
			'2026-01-01T00:00:00.000000000Z', 'ops', '2026-01-01T00:00:00.000000000Z' FROM accounts WHERE code = 'ACME'`)
	if err != nil {
		t.Fatal(err)
	}
	var account int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM accounts WHERE code = 'ACME'`).Scan(&account); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, c := range cents {
		key, err := store.NewIdempotencyKey()
		if err != nil {
			t.Fatal(err)
		}
		res, err := db.Pay(ctx, store.SandboxGateway{}, store.PayRequest{AccountID: account, PlanCode: "BP-1",
			Amount: store.Money{Minor: c, Currency: store.USD}, Method: store.BankTransfer, IdempotencyKey: key, Actor: "ana@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, res.Payment.Reference)
	}
	return path, refs
}

func TestPaymentConfirm(t *testing.T) {
	db, refs := mustPendingTransfers(t, 40000, 60000)
	payment := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(append([]string{"payment", args[0], "--db", db}, args[1:]...), &out, &out)
		return out.String(), err
	}

	t.Run("confirming a pending transfer counts it as paid", func(t *testing.T) {
		out, err := payment("confirm", refs[0])
		if err != nil {
			t.Fatal(err)
		}
		want := "confirmed bank transfer " + refs[0] + " of $400.00 on BP-1; payment status Partially paid, amount due $600.00\n"
		if out != want {
			t.Errorf("output = %q, want %q", out, want)
		}
	})
	t.Run("confirming it again is an error that says it is already confirmed", func(t *testing.T) {
		if _, err := payment("confirm", refs[0]); err == nil || !strings.Contains(err.Error(), "already confirmed") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a transfer that would overpay is refused", func(t *testing.T) {
		s, err := store.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		// $100.00 received some other way meanwhile: $500.00 is due, the transfer is $600.00.
		defer s.Close()
		tx, err := s.BeginTx(context.Background(), true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(context.Background(), `UPDATE plans SET paid_total = paid_total + 10000`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := payment("confirm", refs[1]); err == nil || !strings.Contains(err.Error(), "would overpay BP-1, which owes $500.00") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("cancelling frees its amount", func(t *testing.T) {
		out, err := payment("cancel", refs[1])
		if err != nil || out != "cancelled bank transfer "+refs[1]+" of $600.00 on BP-1; amount due $500.00\n" {
			t.Errorf("output %q, err %v", out, err)
		}
	})
	t.Run("an unknown reference, or no reference, is an error", func(t *testing.T) {
		if _, err := payment("confirm", "BT-XXXX-XXXX"); err == nil || !strings.Contains(err.Error(), "no bank transfer") {
			t.Errorf("err = %v", err)
		}
		if _, err := payment("confirm"); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("err = %v", err)
		}
		var out bytes.Buffer
		if err := run([]string{"payment", "refund", refs[0]}, &out, &out); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("err = %v", err)
		}
	})
}
