package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// payNow is the clock of the payment tests: 16:00 on 2 March 2026 in Ho Chi Minh City.
var payNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// payFixture is an account in VND with plans inserted straight in SQL, so the
// tests of payments do not depend on the importer.
type payFixture struct {
	*ledgerFixture
}

func mustPayFixture(t testing.TB) payFixture {
	t.Helper()
	f := payFixture{mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")}
	f.db.Now = func() time.Time { return payNow }
	return f
}

// unpaid inserts a plan of the account with nothing paid and not activated
// (unless postpaid), from 1 March to 31 May 2026.
func (f payFixture) unpaid(t testing.TB, code string, option PaymentOption, amount, upfront int64) int64 {
	t.Helper()
	var activated any
	if option == Postpaid {
		activated = "2026-02-01T00:00:00.000000000Z"
	}
	return MustExec(t, f.db, `INSERT INTO plans (account_id, code, type, start_date, end_date, first_term_months, first_term_amount, amount,
		region, payment_option, upfront_amount, payment_method, created_at, created_by, activated_at)
		VALUES (?, ?, 'GPU Commitment', '2026-03-01', '2026-05-31', 3, ?, ?, 'Hanoi', ?, ?, 'online', '2026-02-01T00:00:00.000000000Z', 'ops', ?)`,
		f.account, code, amount, amount, option, upfront, activated)
}

func (f payFixture) request(code string, amount int64, method PaymentMethod, key string) PayRequest {
	card := ""
	if method == Online {
		card = SandboxCardSucceeds
	}
	return PayRequest{AccountID: f.account, PlanCode: code, Amount: Money{amount, VND}, Method: method, CardNumber: card,
		IdempotencyKey: key, Actor: "ana@acme.test"}
}

func newKey(t testing.TB) string {
	t.Helper()
	k, err := NewIdempotencyKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// gatewayFunc is a payment gateway for tests: the sandbox, with a hook run
// during each charge and a refund that may fail; it counts its calls.
type gatewayFunc struct {
	SandboxGateway
	duringCharge func()
	refundErr    error
	charges      atomic.Int64
	refunds      atomic.Int64
	refunded     []string
	mu           sync.Mutex
}

func (g *gatewayFunc) Charge(ctx context.Context, req ChargeRequest) (ChargeResult, error) {
	g.charges.Add(1)
	if g.duringCharge != nil {
		g.duringCharge()
	}
	return g.SandboxGateway.Charge(ctx, req)
}

func (g *gatewayFunc) Refund(ctx context.Context, chargeID string) error {
	g.refunds.Add(1)
	if g.refundErr != nil {
		return g.refundErr
	}
	g.mu.Lock()
	g.refunded = append(g.refunded, chargeID)
	g.mu.Unlock()
	return nil
}

func mustField(t *testing.T, err error, field, message string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID || e.Field != field || !strings.Contains(e.Message, message) {
		t.Fatalf("err = %v, want a field error about %s saying %q", err, field, message)
	}
}

func TestPayOnline(t *testing.T) {
	f := mustPayFixture(t)
	id := f.unpaid(t, "BP-1", AllUpfront, 3_000_000, 0)
	ctx := context.Background()

	res, err := f.db.Pay(ctx, SandboxGateway{}, f.request("BP-1", 1_000_000, Online, newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	if res.PaymentStatus != PartiallyPaid || res.Activated || res.Replayed || res.Payment.State != PaymentCompleted ||
		!strings.HasPrefix(res.Payment.Reference, "ch_sandbox_") || res.Plan.PaidTotal.Minor != 1_000_000 {
		t.Errorf("first payment = %+v", res)
	}
	res, err = f.db.Pay(ctx, SandboxGateway{}, f.request("BP-1", 2_000_000, Online, newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	if res.PaymentStatus != Paid || !res.Activated || res.Plan.Status(NewDate(2026, 3, 2)) != StatusActive {
		t.Errorf("second payment = %+v", res)
	}
	// Both came after the start date (1 March, 17:00 UTC on 28 February): nothing upfront.
	if got := mustInt(t, f.db, `SELECT paid_total * 1000 + paid_upfront FROM plans WHERE id = ?`, id); got != 3_000_000*1000 {
		t.Errorf("paid_total*1000 + paid_upfront = %d", got)
	}
	if got := mustInt(t, f.db, `SELECT COUNT(*) FROM payment_attempts WHERE state = 'done'`); got != 2 {
		t.Errorf("%d attempts done, want 2", got)
	}
	_, err = f.db.Pay(ctx, SandboxGateway{}, f.request("BP-1", 1, Online, newKey(t)))
	mustField(t, err, "amount", "BP-1 is paid in full")
}

func TestPayChecksTheFormBeforeAnyPlan(t *testing.T) {
	f := mustPayFixture(t)
	f.unpaid(t, "BP-1", AllUpfront, 3_000_000, 0)
	ok := f.request("BP-1", 1000, Online, newKey(t))
	tests := []struct {
		name    string
		change  func(r *PayRequest)
		field   string
		message string
	}{
		{"a key too short", func(r *PayRequest) { r.IdempotencyKey = "abc" }, "form", "out of date"},
		{"a key with odd characters", func(r *PayRequest) { r.IdempotencyKey = strings.Repeat("é", 20) }, "form", "out of date"},
		{"a method not offered", func(r *PayRequest) { r.Method = "cash" }, "method", "Choose"},
		{"zero", func(r *PayRequest) { r.Amount.Minor = 0 }, "amount", "above zero"},
		{"a negative amount", func(r *PayRequest) { r.Amount.Minor = -1 }, "amount", "above zero"},
		{"online without a card", func(r *PayRequest) { r.CardNumber = "" }, "card", "card number"},
		{"another currency", func(r *PayRequest) { r.Amount.Currency = USD }, "amount", "Pay in VND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.change(&r)
			_, err := f.db.Pay(context.Background(), SandboxGateway{}, r)
			mustField(t, err, tt.field, tt.message)
			if n := mustInt(t, f.db, `SELECT (SELECT COUNT(*) FROM payments) + (SELECT COUNT(*) FROM payment_attempts)`); n != 0 {
				t.Errorf("%d rows written", n)
			}
		})
	}
	t.Run("another account's plan is not found", func(t *testing.T) {
		other := MustExec(t, f.db, `INSERT INTO accounts (code, name, currency, timezone) VALUES ('beta', 'Beta', 'VND', 'Asia/Ho_Chi_Minh')`)
		r := ok
		r.AccountID = other
		if _, err := f.db.Pay(context.Background(), SandboxGateway{}, r); ErrorCode(err) != ENOTFOUND {
			t.Errorf("err = %v, want not found", err)
		}
	})
}

func TestPayAtOnceNeverPassesTheAmount(t *testing.T) {
	f := mustPayFixture(t)
	id := f.unpaid(t, "BP-1", Postpaid, 1_000_000, 0)
	// A slow gateway, so that charges overlap: only their reservations keep the total in bounds.
	gw := SandboxGateway{Delay: 5 * time.Millisecond}
	const n = 20
	errs := make([]error, n)
	reqs := make([]PayRequest, n)
	for i := range reqs {
		reqs[i] = f.request("BP-1", 150_000, Online, newKey(t))
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.db.Pay(context.Background(), gw, reqs[i])
		}()
	}
	wg.Wait()
	paid := 0
	for _, err := range errs {
		var e *Error
		switch {
		case err == nil:
			paid++
		case errors.As(err, &e) && e.Field == "amount" && (strings.Contains(e.Message, "more than") || strings.Contains(e.Message, "Nothing is left")):
		default:
			t.Errorf("err = %v, want a payment or a refusal about the amount", err)
		}
	}
	// ₫1,000,000 holds six payments of ₫150,000.
	if total := mustInt(t, f.db, `SELECT paid_total FROM plans WHERE id = ?`, id); paid != 6 || total != 900_000 {
		t.Errorf("%d paid, paid total %d; want 6, 900000", paid, total)
	}
	if sum := mustInt(t, f.db, `SELECT SUM(amount) FROM payments WHERE plan_id = ?`, id); sum != 900_000 {
		t.Errorf("payments sum to %d", sum)
	}
}

func TestPayTheSameFormDuringItsCharge(t *testing.T) {
	f := mustPayFixture(t)
	f.unpaid(t, "BP-1", Postpaid, 1_000_000, 0)
	gw := &gatewayFunc{SandboxGateway: SandboxGateway{Delay: 100 * time.Millisecond}}
	req := f.request("BP-1", 400_000, Online, newKey(t))
	results := make([]PayResult, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 1 {
				time.Sleep(20 * time.Millisecond) // the second click, while the first is charging
			}
			results[i], errs[i] = f.db.Pay(context.Background(), gw, req)
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	a, b := results[0], results[1]
	if a.Payment.ID != b.Payment.ID || a.Replayed || !b.Replayed || a.PaymentStatus != b.PaymentStatus {
		t.Errorf("results %+v and %+v, want the same payment, the second replayed", a, b)
	}
	if n := gw.charges.Load(); n != 1 {
		t.Errorf("%d charges, want 1", n)
	}
	if n := mustInt(t, f.db, `SELECT COUNT(*) FROM payments`); n != 1 {
		t.Errorf("%d payments, want 1", n)
	}
}

func TestPayRefundsACardChargedWhenThePlanWasPaidMeanwhile(t *testing.T) {
	f := mustPayFixture(t)
	id := f.unpaid(t, "BP-1", Postpaid, 1_000_000, 0)
	// While the card is charged, someone settles the plan some other way.
	gw := &gatewayFunc{duringCharge: func() { MustExec(t, f.db, `UPDATE plans SET paid_total = 700000 WHERE id = ?`, id) }}
	req := f.request("BP-1", 400_000, Online, newKey(t))
	_, err := f.db.Pay(context.Background(), gw, req)
	mustField(t, err, "amount", "your charge of ₫400,000 was refunded and nothing was recorded. The amount due is now ₫300,000.")
	if len(gw.refunded) != 1 || !strings.HasPrefix(gw.refunded[0], "ch_sandbox_") {
		t.Errorf("refunded %v, want the charge", gw.refunded)
	}
	if n := mustInt(t, f.db, `SELECT COUNT(*) FROM payments`); n != 0 {
		t.Errorf("%d payments recorded", n)
	}
	if got := mustInt(t, f.db, `SELECT paid_total FROM plans WHERE id = ?`, id); got != 700_000 {
		t.Errorf("paid total = %d", got)
	}
	if n := mustInt(t, f.db, `SELECT COUNT(*) FROM payment_attempts WHERE state = 'refunded'`); n != 1 {
		t.Errorf("%d attempts refunded, want 1", n)
	}
	if n := mustInt(t, f.db, `SELECT COUNT(*) FROM audit_log WHERE action = ?`, AuditPayRefund); n != 1 {
		t.Errorf("%d refunds in the audit log, want 1", n)
	}
	t.Run("the same form sent again gets the same refusal, with no second charge", func(t *testing.T) {
		gw.duringCharge = nil
		_, err := f.db.Pay(context.Background(), gw, req)
		mustField(t, err, "amount", "was refunded")
		if gw.charges.Load() != 1 || gw.refunds.Load() != 1 {
			t.Errorf("%d charges, %d refunds; want 1 and 1", gw.charges.Load(), gw.refunds.Load())
		}
	})
}

func TestPayRetriesARefundThatFailed(t *testing.T) {
	f := mustPayFixture(t)
	id := f.unpaid(t, "BP-1", Postpaid, 1_000_000, 0)
	gw := &gatewayFunc{refundErr: errors.New("provider down"),
		duringCharge: func() { MustExec(t, f.db, `UPDATE plans SET paid_total = 1000000 WHERE id = ?`, id) }}
	req := f.request("BP-1", 400_000, Online, newKey(t))
	if _, err := f.db.Pay(context.Background(), gw, req); err == nil || ErrorCode(err) != EINTERNAL {
		t.Fatalf("err = %v, want an internal error", err)
	}
	if n := mustInt(t, f.db, `SELECT COUNT(*) FROM payment_attempts WHERE state = 'refunding' AND charge_id LIKE 'ch_sandbox_%'`); n != 1 {
		t.Fatalf("%d attempts waiting for their refund, want 1", n)
	}
	gw.refundErr, gw.duringCharge = nil, nil
	_, err := f.db.Pay(context.Background(), gw, req)
	mustField(t, err, "amount", "was refunded")
	if gw.charges.Load() != 1 || len(gw.refunded) != 1 {
		t.Errorf("%d charges, refunded %v", gw.charges.Load(), gw.refunded)
	}
	if n := mustInt(t, f.db, `SELECT COUNT(*) FROM payment_attempts WHERE state = 'refunded'`); n != 1 {
		t.Errorf("%d attempts refunded, want 1", n)
	}
}

func TestPayAfterATimeOut(t *testing.T) {
	f := mustPayFixture(t)
	f.unpaid(t, "BP-1", Postpaid, 1_000_000, 0)
	req := f.request("BP-1", 400_000, Online, newKey(t))
	req.CardNumber = SandboxCardTimesOut
	_, err := f.db.Pay(context.Background(), SandboxGateway{}, req)
	mustField(t, err, "card", "did not answer in time")
	if !errors.Is(err, ErrGatewayTimeout) {
		t.Errorf("err = %v, want it to wrap ErrGatewayTimeout", err)
	}
	if n := mustInt(t, f.db, `SELECT (SELECT COUNT(*) FROM payments) + (SELECT COUNT(*) FROM payment_attempts)`); n != 0 {
		t.Errorf("%d rows left", n)
	}
	// The same form sent again (the provider answers this time) pays once.
	req.CardNumber = SandboxCardSucceeds
	res, err := f.db.Pay(context.Background(), SandboxGateway{}, req)
	if err != nil || res.Replayed || res.Payment.Amount.Minor != 400_000 {
		t.Fatalf("result %+v, err %v", res, err)
	}
}

func TestPayTakesOverAnAbandonedCharge(t *testing.T) {
	f := mustPayFixture(t)
	id := f.unpaid(t, "BP-1", Postpaid, 1_000_000, 0)
	key := newKey(t)
	// The process stopped during this charge, two minutes ago.
	MustExec(t, f.db, `INSERT INTO payment_attempts (plan_id, idempotency_key, amount, method, state, created_at, actor)
		VALUES (?, ?, 900000, 'online', 'charging', ?, 'ana@acme.test')`, id, key, formatInstant(payNow.Add(-2*time.Minute)))
	p, err := f.db.FindPayable(context.Background(), f.account, "BP-1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Charging.Minor != 0 || p.Left().Minor != 1_000_000 {
		t.Errorf("charging %d, left %d: an abandoned charge holds nothing", p.Charging.Minor, p.Left().Minor)
	}
	res, err := f.db.Pay(context.Background(), SandboxGateway{}, f.request("BP-1", 900_000, Online, key))
	if err != nil || res.Replayed {
		t.Fatalf("result %+v, err %v", res, err)
	}
	if n := mustInt(t, f.db, `SELECT COUNT(*) FROM payment_attempts`); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
	t.Run("a recent one holds its amount", func(t *testing.T) {
		id := f.unpaid(t, "BP-2", Postpaid, 1_000_000, 0)
		MustExec(t, f.db, `INSERT INTO payment_attempts (plan_id, idempotency_key, amount, method, state, created_at, actor)
			VALUES (?, ?, 900000, 'online', 'charging', ?, 'ana@acme.test')`, id, newKey(t), formatInstant(payNow.Add(-10*time.Second)))
		_, err := f.db.Pay(context.Background(), SandboxGateway{}, f.request("BP-2", 100_001, Online, newKey(t)))
		mustField(t, err, "amount", "₫100,001 is more than the ₫100,000 left to pay now")
	})
}

func TestBankTransfers(t *testing.T) {
	f := mustPayFixture(t)
	id := f.unpaid(t, "BP-1", PartialUpfront, 1_000_000, 300_000)
	ctx := context.Background()
	res, err := f.db.Pay(ctx, SandboxGateway{}, f.request("BP-1", 300_000, BankTransfer, newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	ref := res.Payment.Reference
	if res.Payment.State != PaymentPending || res.PaymentStatus != Unpaid || len(ref) != 12 || ref[:3] != "BT-" || strings.ContainsAny(ref[3:], "01IO") {
		t.Errorf("result = %+v", res)
	}
	p, err := f.db.FindPayable(ctx, f.account, "BP-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.PendingTransfers) != 1 || p.Pending().Minor != 300_000 || p.Left().Minor != 700_000 || p.Plan.PaidTotal.Minor != 0 {
		t.Errorf("payable = %+v", p)
	}
	second, err := f.db.Pay(ctx, SandboxGateway{}, f.request("BP-1", 700_000, BankTransfer, newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.db.Pay(ctx, SandboxGateway{}, f.request("BP-1", 1, Online, newKey(t)))
	mustField(t, err, "amount", "Nothing is left to pay on BP-1 now")

	t.Run("confirming counts it as paid and activates the plan", func(t *testing.T) {
		c, err := f.db.ConfirmTransfer(ctx, " "+strings.ToLower(ref)+" ", "cli")
		if err != nil {
			t.Fatal(err)
		}
		if !c.Activated || c.Plan.PaidTotal.Minor != 300_000 || c.Payment.State != PaymentCompleted || !c.Payment.PaidAt.Equal(payNow) {
			t.Errorf("result = %+v", c)
		}
		if got := mustInt(t, f.db, `SELECT COUNT(*) FROM plans WHERE id = ? AND activated_at IS NOT NULL AND paid_upfront = 0`, id); got != 1 {
			t.Error("the plan is not activated, or the payment after its start counts as upfront")
		}
	})
	t.Run("confirming twice is refused", func(t *testing.T) {
		_, err := f.db.ConfirmTransfer(ctx, ref, "cli")
		if ErrorCode(err) != ECONFLICT || !strings.Contains(ErrorMessage(err), "already confirmed") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a transfer that would overpay is refused", func(t *testing.T) {
		// Something else paid ₫500,000 meanwhile: ₫200,000 is due, the transfer is ₫700,000.
		MustExec(t, f.db, `UPDATE plans SET paid_total = paid_total + 500000 WHERE id = ?`, id)
		_, err := f.db.ConfirmTransfer(ctx, second.Payment.Reference, "cli")
		if ErrorCode(err) != ECONFLICT || !strings.Contains(ErrorMessage(err), "would overpay BP-1, which owes ₫200,000") {
			t.Errorf("err = %v", err)
		}
		if got := mustInt(t, f.db, `SELECT paid_total FROM plans WHERE id = ?`, id); got != 800_000 {
			t.Errorf("paid total = %d", got)
		}
	})
	t.Run("a cancelled transfer frees its amount, and its form cannot be replayed into a payment", func(t *testing.T) {
		if _, err := f.db.CancelTransfer(ctx, second.Payment.Reference, "cli"); err != nil {
			t.Fatal(err)
		}
		p, _ := f.db.FindPayable(ctx, f.account, "BP-1")
		if len(p.PendingTransfers) != 0 || p.Left().Minor != 200_000 {
			t.Errorf("payable = %+v", p)
		}
		if _, err := f.db.CancelTransfer(ctx, ref, "cli"); ErrorCode(err) != ECONFLICT {
			t.Errorf("cancelling a confirmed transfer: %v", err)
		}
	})
	t.Run("an unknown reference, or an online payment's, is not found", func(t *testing.T) {
		online, err := f.db.Pay(ctx, SandboxGateway{}, f.request("BP-1", 100, Online, newKey(t)))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{"BT-NOPE-NOPE", online.Payment.Reference} {
			if _, err := f.db.ConfirmTransfer(ctx, r, "cli"); ErrorCode(err) != ENOTFOUND {
				t.Errorf("confirm %s: %v", r, err)
			}
		}
	})
	want := fmt.Sprint([]string{AuditPayBankTransfer, AuditPayBankTransfer, AuditTransferConfirm, AuditTransferCancel, AuditPayOnline})
	rows, err := f.db.read.Query(`SELECT action FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var a string
		rows.Scan(&a)
		got = append(got, a)
	}
	if fmt.Sprint(got) != want {
		t.Errorf("audit log = %v, want %v", got, want)
	}
}
