package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingplans/billingplans/store"
)

// The fixture of the Pay now and Renew tests. The clock is testNow, 2 March 2026
// 09:00 UTC: 16:00 on 2 March 2026 in the accounts' zone, Asia/Ho_Chi_Minh.
// Every expected figure below is worked out by hand from these plans.
//
// ACME (VND):
//   - BP-PAY: all upfront, ₫150,000,000, 1 Mar–31 May 2026, ₫50,000,000 paid on
//     20 Feb (before its start): Partially paid, ₫100,000,000 due, not activated
//     (all upfront needs the whole amount), so Inactive.
//   - BP-PARTIAL: partial upfront, ₫150,000,000 with ₫50,000,000 upfront,
//     1 Mar–31 May 2026, nothing paid: Unpaid, Inactive until ₫50,000,000 is paid.
//   - BP-SOON: partial upfront, ₫60,000,000 with ₫20,000,000 upfront, 3 Mar–2 Jun
//     2026, nothing paid: its start is 17:00 UTC on 2 March.
//   - BP-PAID: all upfront, ₫10,000,000, paid in full.
//   - BP-XSS: postpaid, ₫1,000,000, a plan type that is markup.
//   - BP-R-ACTIVE: all upfront, ₫100,000,000 for 1 Jan–31 Mar 2026 (3 months),
//     paid: Active. Monthly rate ₫100,000,000 ÷ 3 = ₫33,333,333.33, rounded to
//     ₫33,333,333.
//   - BP-R-EXPIRED: postpaid, ₫62,000,000 for 1 Dec 2025–31 Jan 2026 (2 months,
//     not a term offered, so the page offers 1 month): Expired. Monthly rate
//     ₫31,000,000.
//   - BP-R-DEPLETED: postpaid, ₫1,000,000 for 1 Feb–30 Apr 2026 (3 months), covers
//     gpu at ₫100,000 an hour; 10 hours on 10 Feb spend it all: Expired (depleted)
//     within its dates. Monthly rate ₫1,000,000 ÷ 3 = ₫333,333.33 → ₫333,333.
//   - BP-R-SOON: starts 1 Apr 2026: cannot be renewed yet.
//
// BETA (VND): BP-BETA, another account's plan. USCO (USD): BP-US, $1,000.00 unpaid.
func actionsImport() store.ImportFile {
	plan := func(code, typ, start, end, amount, option, upfront, created string, services []string, payments ...store.ImportPayment) store.ImportPlan {
		account := "ACME"
		switch {
		case strings.HasPrefix(code, "BP-BETA"):
			account = "BETA"
		case strings.HasPrefix(code, "BP-US"):
			account = "USCO"
		}
		p := store.ImportPlan{Code: code, Account: account, Type: typ, StartDate: start, EndDate: end, Amount: amount,
			Region: "Hanoi", PaymentOption: option, UpfrontAmount: upfront, PaymentMethod: "online",
			CreatedAt: created, CreatedBy: "ops@acme.test", Payments: payments}
		for _, s := range services {
			p.Services = append(p.Services, store.ImportPlanService{Service: s, PricePerUnit: "500"})
		}
		return p
	}
	storage := []string{"storage"}
	return store.ImportFile{
		Accounts: []store.ImportAccount{
			{Code: "ACME", Name: "Acme AI", Currency: "VND", Timezone: "Asia/Ho_Chi_Minh"},
			{Code: "BETA", Name: "Beta Labs", Currency: "VND", Timezone: "Asia/Ho_Chi_Minh"},
			{Code: "USCO", Name: "US Co", Currency: "USD", Timezone: "Asia/Ho_Chi_Minh"},
		},
		Services: []store.ImportService{
			{Code: "gpu", Name: "GPU Container H100", Unit: "hour", ListPrices: map[string]string{"VND": "65000", "USD": "2.54"}},
			{Code: "storage", Name: "Object storage", Unit: "GB-month", ListPrices: map[string]string{"VND": "550", "USD": "0.02"}},
		},
		Plans: []store.ImportPlan{
			plan("BP-PAY", "GPU Commitment", "2026-03-01", "2026-05-31", "150000000", "all_upfront", "", "2026-02-15T10:00:00+07:00", storage,
				store.ImportPayment{Amount: "50000000", Method: "online", PaidAt: "2026-02-20T10:00:00+07:00"}),
			plan("BP-PARTIAL", "Inference Token Pack", "2026-03-01", "2026-05-31", "150000000", "partial_upfront", "50000000", "2026-02-15T10:00:00+07:00", storage),
			plan("BP-SOON", "GPU Commitment", "2026-03-03", "2026-06-02", "60000000", "partial_upfront", "20000000", "2026-02-15T10:00:00+07:00", storage),
			plan("BP-PAID", "GPU Commitment", "2026-03-01", "2026-05-31", "10000000", "all_upfront", "", "2026-02-15T10:00:00+07:00", storage,
				store.ImportPayment{Amount: "10000000", Method: "online", PaidAt: "2026-02-20T10:00:00+07:00"}),
			plan("BP-XSS", "<script>alert(1)</script>", "2026-03-01", "2026-05-31", "1000000", "postpaid", "", "2026-02-15T10:00:00+07:00", storage),
			plan("BP-R-ACTIVE", "GPU Commitment", "2026-01-01", "2026-03-31", "100000000", "all_upfront", "", "2025-12-15T10:00:00+07:00", storage,
				store.ImportPayment{Amount: "100000000", Method: "online", PaidAt: "2025-12-20T10:00:00+07:00"}),
			plan("BP-R-EXPIRED", "GPU Commitment", "2025-12-01", "2026-01-31", "62000000", "postpaid", "", "2025-11-15T10:00:00+07:00", storage),
			func() store.ImportPlan {
				p := plan("BP-R-DEPLETED", "GPU Commitment", "2026-02-01", "2026-04-30", "1000000", "postpaid", "", "2026-01-15T10:00:00+07:00", nil)
				p.Services = []store.ImportPlanService{{Service: "gpu", PricePerUnit: "100000"}}
				return p
			}(),
			plan("BP-R-SOON", "GPU Commitment", "2026-04-01", "2026-06-30", "30000000", "postpaid", "", "2026-02-15T10:00:00+07:00", storage),
			plan("BP-BETA", "GPU Commitment", "2026-01-01", "2026-03-31", "5000000", "postpaid", "", "2025-12-15T10:00:00+07:00", storage),
			plan("BP-US", "GPU Commitment", "2026-03-01", "2026-05-31", "1000.00", "all_upfront", "", "2026-02-15T10:00:00+07:00", storage),
		},
	}
}

// actionsFixture is a server on the fixture with a signed-in admin of ACME.
type actionsFixture struct {
	db    *store.DB
	srv   *Server
	admin *client
	acme  int64
}

const actionsPassword = "correct horse"

func mustActionsFixture(t *testing.T) *actionsFixture {
	t.Helper()
	db := MustOpenDB(t)
	ctx := context.Background()
	if _, err := db.Import(ctx, actionsImport()); err != nil {
		t.Fatal(err)
	}
	_, err := db.ApplyUsage(ctx, []store.UsageEvent{{ID: "e1", AccountCode: "ACME", ServiceCode: "gpu",
		Quantity: decimal.NewFromInt(10), At: time.Date(2026, 2, 10, 3, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	MustCreateUser(t, db, "ana@acme.test", actionsPassword, "ACME", store.RoleAdmin)
	MustCreateUser(t, db, "vic@acme.test", actionsPassword, "ACME", store.RoleViewer)
	MustCreateUser(t, db, "uma@usco.test", actionsPassword, "USCO", store.RoleAdmin)
	srv := MustNewServer(t, db)
	acme, err := db.FindMembership(ctx, mustUserID(t, db, "ana@acme.test"), "ACME")
	if err != nil {
		t.Fatal(err)
	}
	return &actionsFixture{db: db, srv: srv, admin: MustSignIn(t, srv, "ana@acme.test", actionsPassword), acme: acme.Account.ID}
}

func mustUserID(t *testing.T, db *store.DB, email string) int64 {
	t.Helper()
	u, err := db.FindUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// mustPlan returns the ACME plan with code, as the store has it now.
func (f *actionsFixture) mustPlan(t *testing.T, code string) store.Plan {
	t.Helper()
	p, err := f.db.FindPlan(context.Background(), f.acme, code)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mustCount returns the one integer query selects.
func mustCount(t *testing.T, db *store.DB, query string, args ...any) int64 {
	t.Helper()
	tx, err := db.BeginTx(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n int64
	if err := tx.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// writes counts the rows every action may write, to show nothing was written.
func writes(t *testing.T, db *store.DB) [4]int64 {
	t.Helper()
	return [4]int64{
		mustCount(t, db, `SELECT COUNT(*) FROM payments`),
		mustCount(t, db, `SELECT COUNT(*) FROM payment_attempts`),
		mustCount(t, db, `SELECT COUNT(*) FROM renewals`),
		mustCount(t, db, `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'payment.%' OR action = 'plan.renew'`),
	}
}

func mustKey(t *testing.T) string {
	t.Helper()
	k, err := store.NewIdempotencyKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func payForm(key, amount, method, card string) url.Values {
	return url.Values{"idempotency_key": {key}, "amount": {amount}, "method": {method}, "card": {card}}
}

// mustFollow sends a GET of the page a redirect leads to and returns its flash message.
func mustFollow(t *testing.T, c *client, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303; body:\n%.800s", rec.Code, rec.Body)
	}
	return testid(MustDoc(t, c.Get(rec.Header().Get("Location"))), "flash")
}

// mustClone returns another browser with the same session as c, for requests
// sent at once from several goroutines.
func mustClone(c *client) *client {
	n := newClient(c.t, c.srv)
	n.SetCookies(c.Cookies())
	n.csrf = c.csrf
	return n
}

func TestPayPage(t *testing.T) {
	f := mustActionsFixture(t)
	rec := f.admin.Get("/billing/plans/BP-PAY/pay")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	doc := MustDoc(t, rec)
	for id, want := range map[string]string{
		"pay-plan-amount":            "₫150,000,000",
		"pay-paid":                   "₫50,000,000",
		"pay-due":                    "₫100,000,000",
		"action-plan-code":           "BP-PAY",
		"action-plan-status":         "Inactive",
		"action-plan-payment-status": "Partially paid",
		"action-plan-period":         "1 Mar 2026 – 31 May 2026",
	} {
		if got := testid(doc, id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	t.Run("the form offers all of the amount due by the plan's method, with a one-time key", func(t *testing.T) {
		if got := doc.Find(`[data-testid="pay-amount"]`).AttrOr("value", ""); got != "100000000" {
			t.Errorf("amount = %q, want 100000000", got)
		}
		if got := doc.Find(`[data-testid="pay-method"] option[selected]`).AttrOr("value", ""); got != "online" {
			t.Errorf("method = %q, want online", got)
		}
		key := doc.Find(`input[name="idempotency_key"]`).AttrOr("value", "")
		if len(key) != 32 {
			t.Errorf("key = %q, want 32 hex digits", key)
		}
		again := MustDoc(t, f.admin.Get("/billing/plans/BP-PAY/pay")).Find(`input[name="idempotency_key"]`).AttrOr("value", "")
		if again == key {
			t.Error("two visits of the page got the same key")
		}
		if doc.Find(`[data-testid="pay-form"] input[name="_csrf"]`).AttrOr("value", "") == "" {
			t.Error("no CSRF field in the form")
		}
		for _, id := range []string{"pay-card", "pay-submit"} {
			if doc.Find(`[data-testid="`+id+`"]`).Length() != 1 {
				t.Errorf("no %s", id)
			}
		}
	})
	t.Run("sandbox mode shows the test card numbers", func(t *testing.T) {
		got := testid(doc, "sandbox-hint")
		for _, n := range []string{"4242 4242 4242 4242", "4000 0000 0000 0002", "4000 0000 0000 0119"} {
			if !strings.Contains(got, n) {
				t.Errorf("sandbox hint %q does not list %s", got, n)
			}
		}
	})
	t.Run("a plan paid in full offers no form", func(t *testing.T) {
		doc := MustDoc(t, f.admin.Get("/billing/plans/BP-PAID/pay"))
		if got := testid(doc, "pay-due"); got != "₫0" {
			t.Errorf("due = %q", got)
		}
		if doc.Find(`[data-testid="pay-submit"]`).Length() != 0 || !strings.Contains(testid(doc, "pay-nothing-due"), "paid in full") {
			t.Error("a paid plan offers to pay")
		}
	})
	t.Run("the plan type is text, not markup", func(t *testing.T) {
		for _, path := range []string{"/billing/plans/BP-XSS/pay", "/billing/plans/BP-XSS/renew"} {
			rec := f.admin.Get(path)
			if got := testid(MustDoc(t, rec), "action-plan-type"); got != "<script>alert(1)</script>" {
				t.Errorf("%s: plan type = %q", path, got)
			}
			if strings.Contains(rec.Body.String(), "<script>alert(1)") {
				t.Errorf("%s: the plan type is in the page as markup", path)
			}
		}
	})
}

func TestPayNow(t *testing.T) {
	t.Run("paying all that is due makes the plan Paid and activates it", func(t *testing.T) {
		f := mustActionsFixture(t)
		rec := f.admin.PostForm("/billing/plans/BP-PAY/pay", payForm(mustKey(t), "100000000", "online", store.SandboxCardSucceeds))
		MustRedirect(t, rec, "/billing/plans/BP-PAY")
		want := "Payment of ₫100,000,000 received for BP-PAY. Payment status: Paid. The plan is now active."
		if got := mustFollow(t, f.admin, rec); got != want {
			t.Errorf("flash = %q, want %q", got, want)
		}
		p := f.mustPlan(t, "BP-PAY")
		// The first ₫50,000,000 came before the start date, the rest on 2 March, after it.
		if p.PaidTotal.Minor != 150_000_000 || p.PaidUpfront.Minor != 50_000_000 || p.ActivatedAt == nil || !p.ActivatedAt.Equal(testNow) {
			t.Errorf("paid %d, upfront %d, activated %v; want 150000000, 50000000, %v", p.PaidTotal.Minor, p.PaidUpfront.Minor, p.ActivatedAt, testNow)
		}
		if n := mustCount(t, f.db, `SELECT COUNT(*) FROM payments WHERE plan_id = ? AND status = 'completed' AND method = 'online' AND amount = 100000000 AND reference LIKE 'ch_sandbox_%'`, p.ID); n != 1 {
			t.Errorf("%d online payments of ₫100,000,000, want 1", n)
		}
	})
	t.Run("paying part of it leaves the plan Partially paid, the rest due", func(t *testing.T) {
		f := mustActionsFixture(t)
		rec := f.admin.PostForm("/billing/plans/BP-PAY/pay", payForm(mustKey(t), "30000000", "online", "4242-4242-4242-4242"))
		if got, want := mustFollow(t, f.admin, rec), "Payment of ₫30,000,000 received for BP-PAY. Payment status: Partially paid."; got != want {
			t.Errorf("flash = %q, want %q", got, want)
		}
		doc := MustDoc(t, f.admin.Get("/billing/plans/BP-PAY/pay"))
		if got := testid(doc, "pay-due"); got != "₫70,000,000" {
			t.Errorf("due = %q, want ₫70,000,000", got)
		}
		if got := testid(doc, "action-plan-status"); got != "Inactive" {
			t.Errorf("status = %q: all upfront needs the whole amount", got)
		}
	})
	t.Run("a partial-upfront plan is activated by the payment that reaches its upfront amount", func(t *testing.T) {
		f := mustActionsFixture(t)
		rec := f.admin.PostForm("/billing/plans/BP-PARTIAL/pay", payForm(mustKey(t), "30000000", "online", store.SandboxCardSucceeds))
		if got := mustFollow(t, f.admin, rec); got != "Payment of ₫30,000,000 received for BP-PARTIAL. Payment status: Partially paid." {
			t.Errorf("flash = %q", got)
		}
		if got := testid(MustDoc(t, f.admin.Get("/billing/plans/BP-PARTIAL/pay")), "action-plan-status"); got != "Inactive" {
			t.Errorf("after ₫30,000,000 of ₫50,000,000 upfront: status %q, want Inactive", got)
		}
		rec = f.admin.PostForm("/billing/plans/BP-PARTIAL/pay", payForm(mustKey(t), "20000000", "online", store.SandboxCardSucceeds))
		if got, want := mustFollow(t, f.admin, rec), "Payment of ₫20,000,000 received for BP-PARTIAL. Payment status: Partially paid. The plan is now active."; got != want {
			t.Errorf("flash = %q, want %q", got, want)
		}
		if got := testid(MustDoc(t, f.admin.Get("/billing/plans/BP-PARTIAL/pay")), "action-plan-status"); got != "Active" {
			t.Errorf("status = %q, want Active", got)
		}
	})
	t.Run("upfront means before the start date in the account's zone", func(t *testing.T) {
		f := mustActionsFixture(t)
		// 16:59 UTC on 2 March is 23:59 in Ho Chi Minh City: before BP-SOON starts on 3 March.
		MustSetClock(t, f.db, time.Date(2026, 3, 2, 16, 59, 0, 0, time.UTC))
		rec := f.admin.PostForm("/billing/plans/BP-SOON/pay", payForm(mustKey(t), "20000000", "online", store.SandboxCardSucceeds))
		if got, want := mustFollow(t, f.admin, rec), "Payment of ₫20,000,000 received for BP-SOON. Payment status: Partially paid. The plan is activated: it becomes active on 3 Mar 2026."; got != want {
			t.Errorf("flash = %q, want %q", got, want)
		}
		// 17:00 UTC is midnight of 3 March there, although still 2 March in UTC.
		MustSetClock(t, f.db, time.Date(2026, 3, 2, 17, 0, 0, 0, time.UTC))
		f.admin.PostForm("/billing/plans/BP-SOON/pay", payForm(mustKey(t), "5000000", "online", store.SandboxCardSucceeds))
		p := f.mustPlan(t, "BP-SOON")
		if p.PaidTotal.Minor != 25_000_000 || p.PaidUpfront.Minor != 20_000_000 {
			t.Errorf("paid %d, upfront %d; want 25000000, 20000000", p.PaidTotal.Minor, p.PaidUpfront.Minor)
		}
	})
	t.Run("the US dollar takes cents", func(t *testing.T) {
		f := mustActionsFixture(t)
		c := MustSignIn(t, f.srv, "uma@usco.test", actionsPassword)
		rec := c.PostForm("/billing/plans/BP-US/pay", payForm(mustKey(t), "12.34", "online", store.SandboxCardSucceeds))
		if got := mustFollow(t, c, rec); got != "Payment of $12.34 received for BP-US. Payment status: Partially paid." {
			t.Errorf("flash = %q", got)
		}
		if got := testid(MustDoc(t, c.Get("/billing/plans/BP-US/pay")), "pay-due"); got != "$987.66" {
			t.Errorf("due = %q, want $987.66", got)
		}
	})
}

func TestPayNowRefusesBadInput(t *testing.T) {
	f := mustActionsFixture(t)
	usco := MustSignIn(t, f.srv, "uma@usco.test", actionsPassword)
	card := store.SandboxCardSucceeds
	tests := []struct {
		name    string
		c       *client
		plan    string
		form    url.Values
		field   string
		message string
	}{
		{"text that is not a number", f.admin, "BP-PAY", payForm(mustKey(t), "abc", "online", card), "amount", `"abc" is not a number.`},
		{"a number with an exponent", f.admin, "BP-PAY", payForm(mustKey(t), "1e5", "online", card), "amount", "not a number"},
		{"no amount", f.admin, "BP-PAY", payForm(mustKey(t), "", "online", card), "amount", "Enter the amount to pay."},
		{"zero", f.admin, "BP-PAY", payForm(mustKey(t), "0", "online", card), "amount", "above zero"},
		{"a negative amount", f.admin, "BP-PAY", payForm(mustKey(t), "-5", "bank_transfer", ""), "amount", "above zero"},
		{"one dong more than is due", f.admin, "BP-PAY", payForm(mustKey(t), "100000001", "online", card), "amount",
			"₫100,000,001 is more than the amount due, ₫100,000,000."},
		{"decimals in dong", f.admin, "BP-PAY", payForm(mustKey(t), "100.5", "online", card), "amount", "VND amounts have no decimals."},
		{"a third decimal in dollars", usco, "BP-US", payForm(mustKey(t), "10.005", "online", card), "amount", "USD amounts have at most 2 decimals."},
		{"an unknown method", f.admin, "BP-PAY", payForm(mustKey(t), "1000", "cash", card), "method", "Choose online"},
		{"online without a card number", f.admin, "BP-PAY", payForm(mustKey(t), "1000", "online", ""), "card", "Enter the card number"},
		{"a card number that fails its check digit", f.admin, "BP-PAY", payForm(mustKey(t), "1000", "online", "4242 4242 4242 4241"), "card", "not a valid card number"},
		{"a plan that owes nothing", f.admin, "BP-PAID", payForm(mustKey(t), "1000", "online", card), "amount", "BP-PAID is paid in full"},
		{"a form without its one-time key", f.admin, "BP-PAY", payForm("", "1000", "online", card), "form", "out of date"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused beside its field, with the input kept", func(t *testing.T) {
			before := writes(t, f.db)
			rec := tt.c.PostForm("/billing/plans/"+tt.plan+"/pay", tt.form)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status = %d, want 422; body:\n%.800s", rec.Code, rec.Body)
			}
			doc := MustDoc(t, rec)
			if got := testid(doc, "error-"+tt.field); !strings.Contains(got, tt.message) {
				t.Errorf("error-%s = %q, want it to say %q", tt.field, got, tt.message)
			}
			if got := doc.Find(`[data-testid="pay-amount"]`).AttrOr("value", "?"); got != tt.form.Get("amount") {
				t.Errorf("amount shown again = %q, want %q", got, tt.form.Get("amount"))
			}
			if got := doc.Find(`[data-testid="pay-card"]`).AttrOr("value", "?"); got != tt.form.Get("card") {
				t.Errorf("card shown again = %q, want %q", got, tt.form.Get("card"))
			}
			if m := tt.form.Get("method"); m != "cash" {
				if got := doc.Find(`[data-testid="pay-method"] option[selected]`).AttrOr("value", ""); got != m {
					t.Errorf("method shown again = %q, want %q", got, m)
				}
			}
			if key := doc.Find(`input[name="idempotency_key"]`).AttrOr("value", ""); store.CheckIdempotencyKey(key) != nil {
				t.Errorf("the form shown again has no usable key: %q", key)
			}
			if after := writes(t, f.db); after != before {
				t.Errorf("rows (payments, attempts, renewals, audit) = %v, want %v: something was written", after, before)
			}
		})
	}
}

func TestPayNowTheSameFormTwice(t *testing.T) {
	f := mustActionsFixture(t)
	doc := MustDoc(t, f.admin.Get("/billing/plans/BP-PAY/pay"))
	form := payForm(doc.Find(`input[name="idempotency_key"]`).AttrOr("value", ""), "30000000", "online", store.SandboxCardSucceeds)

	first := f.admin.PostForm("/billing/plans/BP-PAY/pay", form)
	firstFlash := mustFollow(t, f.admin, first)
	second := f.admin.PostForm("/billing/plans/BP-PAY/pay", form)
	if got, want := mustFollow(t, f.admin, second), firstFlash; got != want || got == "" {
		t.Errorf("second answer %q, want the first one, %q", got, want)
	}
	// Back, change the amount, send again: still the same form.
	changed := cloneValues(form)
	changed.Set("amount", "40000000")
	if got := mustFollow(t, f.admin, f.admin.PostForm("/billing/plans/BP-PAY/pay", changed)); got != firstFlash {
		t.Errorf("the form sent again with another amount: %q, want the first answer", got)
	}
	p := f.mustPlan(t, "BP-PAY")
	if n := mustCount(t, f.db, `SELECT COUNT(*) FROM payments WHERE plan_id = ?`, p.ID); n != 2 || p.PaidTotal.Minor != 80_000_000 {
		t.Errorf("%d payments, paid %d; want 2 (the imported one and this one), 80000000", n, p.PaidTotal.Minor)
	}

	t.Run("a bank transfer sent twice is one pending transfer", func(t *testing.T) {
		form := payForm(mustKey(t), "10000000", "bank_transfer", "")
		a := mustFollow(t, f.admin, f.admin.PostForm("/billing/plans/BP-PARTIAL/pay", form))
		b := mustFollow(t, f.admin, f.admin.PostForm("/billing/plans/BP-PARTIAL/pay", form))
		if a != b || !strings.Contains(a, "BT-") {
			t.Errorf("answers %q and %q, want the same, with a reference", a, b)
		}
		if n := mustCount(t, f.db, `SELECT COUNT(*) FROM payments WHERE status = 'pending'`); n != 1 {
			t.Errorf("%d pending transfers, want 1", n)
		}
	})
	t.Run("a form used for one plan cannot pay another", func(t *testing.T) {
		before := writes(t, f.db)
		rec := f.admin.PostForm("/billing/plans/BP-PARTIAL/pay", form)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(testid(MustDoc(t, rec), "error-form"), "another plan") {
			t.Errorf("status %d, error %q", rec.Code, testid(MustDoc(t, rec), "error-form"))
		}
		if writes(t, f.db) != before {
			t.Error("something was written")
		}
	})
}

func TestPayNowAtOnce(t *testing.T) {
	f := mustActionsFixture(t)
	// BP-PARTIAL owes ₫150,000,000: ten of twenty payments of ₫15,000,000 fit.
	const n = 20
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = mustClone(f.admin)
	}
	forms := make([]url.Values, n)
	for i := range forms {
		method, card := "online", store.SandboxCardSucceeds
		if i%2 == 1 {
			method, card = "bank_transfer", ""
		}
		forms[i] = payForm(mustKey(t), "15000000", method, card)
	}
	recs := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs[i] = clients[i].PostForm("/billing/plans/BP-PARTIAL/pay", forms[i])
		}()
	}
	wg.Wait()
	ok := 0
	for i, rec := range recs {
		msg := testid(MustDoc(t, rec), "error-amount")
		switch {
		case rec.Code == http.StatusSeeOther:
			ok++
		case rec.Code == http.StatusUnprocessableEntity && (strings.Contains(msg, "more than") || strings.Contains(msg, "Nothing is left")):
		default:
			t.Errorf("request %d: status %d, message %q; want 303, or 422 that says why", i, rec.Code, msg)
		}
	}
	p := f.mustPlan(t, "BP-PARTIAL")
	completed := mustCount(t, f.db, `SELECT COALESCE(SUM(amount), 0) FROM payments WHERE plan_id = ? AND status = 'completed'`, p.ID)
	pending := mustCount(t, f.db, `SELECT COALESCE(SUM(amount), 0) FROM payments WHERE plan_id = ? AND status = 'pending'`, p.ID)
	if ok != 10 || completed+pending != 150_000_000 || p.PaidTotal.Minor != completed {
		t.Errorf("%d paid, completed %d + pending %d, paid total %d; want 10 paid, 150000000 in all, the paid total = completed",
			ok, completed, pending, p.PaidTotal.Minor)
	}
}

func TestPayNowDeclinedOrTimedOut(t *testing.T) {
	f := mustActionsFixture(t)
	tests := []struct {
		name, card, message string
		sameKey             bool
	}{
		{"a declined card records nothing and needs a new form key", store.SandboxCardDeclined, "declined", false},
		{"a charge that times out records nothing and keeps the key, so a retry cannot charge twice", store.SandboxCardTimesOut, "did not answer in time", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := mustCount(t, f.db, `SELECT COUNT(*) FROM payments`)
			key := mustKey(t)
			rec := f.admin.PostForm("/billing/plans/BP-PAY/pay", payForm(key, "30000000", "online", tt.card))
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status = %d, want 422", rec.Code)
			}
			doc := MustDoc(t, rec)
			if got := testid(doc, "error-card"); !strings.Contains(got, tt.message) || !strings.Contains(got, "recorded") {
				t.Errorf("error-card = %q, want it to say %q and that nothing was recorded", got, tt.message)
			}
			if got := doc.Find(`[data-testid="pay-amount"]`).AttrOr("value", ""); got != "30000000" {
				t.Errorf("amount shown again = %q", got)
			}
			if got := doc.Find(`input[name="idempotency_key"]`).AttrOr("value", ""); (got == key) != tt.sameKey {
				t.Errorf("key %q after the key %q; same key wanted: %v", got, key, tt.sameKey)
			}
			if after := mustCount(t, f.db, `SELECT COUNT(*) FROM payments`); after != before {
				t.Errorf("payments %d → %d", before, after)
			}
			if n := mustCount(t, f.db, `SELECT COUNT(*) FROM payment_attempts`); n != 0 {
				t.Errorf("%d attempts left holding an amount", n)
			}
			if p := f.mustPlan(t, "BP-PAY"); p.PaidTotal.Minor != 50_000_000 {
				t.Errorf("paid total = %d, want 50000000", p.PaidTotal.Minor)
			}
		})
	}
	if n := mustCount(t, f.db, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND actor = 'ana@acme.test'`, store.AuditPayFailed); n != 2 {
		t.Errorf("%d failed payments in the audit log, want 2", n)
	}
}

func TestPayNowByBankTransfer(t *testing.T) {
	f := mustActionsFixture(t)
	rec := f.admin.PostForm("/billing/plans/BP-PAY/pay", payForm(mustKey(t), "40000000", "bank_transfer", ""))
	flash := mustFollow(t, f.admin, rec)
	var pm struct {
		ref string
	}
	if err := mustQueryRow(t, f.db, `SELECT reference FROM payments WHERE status = 'pending'`, &pm.ref); err != nil {
		t.Fatal(err)
	}
	if len(pm.ref) != len("BT-XXXX-XXXX") || !strings.HasPrefix(pm.ref, "BT-") || pm.ref[7] != '-' {
		t.Errorf("reference = %q, want BT-XXXX-XXXX", pm.ref)
	}
	if want := "Bank transfer of ₫40,000,000 recorded for BP-PAY with reference " + pm.ref; !strings.HasPrefix(flash, want) || !strings.Contains(flash, "stays Partially paid") {
		t.Errorf("flash = %q, want it to start %q and say the status stays Partially paid", flash, want)
	}

	t.Run("the pending transfer shows on the pay page and holds its amount", func(t *testing.T) {
		doc := MustDoc(t, f.admin.Get("/billing/plans/BP-PAY/pay"))
		if got := testid(doc, "pending-transfer-reference"); got != pm.ref {
			t.Errorf("pending transfer = %q, want %q", got, pm.ref)
		}
		if got := testid(doc, "pending-transfer-amount"); got != "₫40,000,000" {
			t.Errorf("pending amount = %q", got)
		}
		// Still due: it is not paid until confirmed. Left to pay: 100,000,000 − 40,000,000.
		if due, left := testid(doc, "pay-due"), testid(doc, "pay-left"); due != "₫100,000,000" || left != "₫60,000,000" {
			t.Errorf("due %q, left %q; want ₫100,000,000 and ₫60,000,000", due, left)
		}
		if got := doc.Find(`[data-testid="pay-amount"]`).AttrOr("value", ""); got != "60000000" {
			t.Errorf("default amount = %q, want 60000000", got)
		}
	})
	t.Run("two pending transfers cannot together exceed the amount due", func(t *testing.T) {
		rec := f.admin.PostForm("/billing/plans/BP-PAY/pay", payForm(mustKey(t), "60000001", "bank_transfer", ""))
		if got := testid(MustDoc(t, rec), "error-amount"); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(got, "₫60,000,000 left to pay") {
			t.Errorf("status %d, error %q", rec.Code, got)
		}
	})
	t.Run("once confirmed it counts as paid", func(t *testing.T) {
		res, err := f.db.ConfirmTransfer(context.Background(), strings.ToLower(pm.ref), "ops")
		if err != nil {
			t.Fatal(err)
		}
		if res.Plan.PaidTotal.Minor != 90_000_000 || res.Plan.PaymentStatus() != store.PartiallyPaid || res.Activated {
			t.Errorf("paid %d, %s, activated %v; want 90000000, partially paid, not activated", res.Plan.PaidTotal.Minor, res.Plan.PaymentStatus(), res.Activated)
		}
		doc := MustDoc(t, f.admin.Get("/billing/plans/BP-PAY/pay"))
		if doc.Find(`[data-testid="pending-transfer"]`).Length() != 0 {
			t.Error("the confirmed transfer is still pending")
		}
		if got := testid(doc, "pay-due"); got != "₫60,000,000" {
			t.Errorf("due = %q, want ₫60,000,000", got)
		}
		_, err = f.db.ConfirmTransfer(context.Background(), pm.ref, "ops")
		if store.ErrorCode(err) != store.ECONFLICT || !strings.Contains(store.ErrorMessage(err), "already confirmed") {
			t.Errorf("confirming twice: %v", err)
		}
	})
}

func mustQueryRow(t *testing.T, db *store.DB, query string, dest ...any) error {
	t.Helper()
	tx, err := db.BeginTx(context.Background(), false)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return tx.QueryRowContext(context.Background(), query).Scan(dest...)
}

func renewForm(key, term, price string) url.Values {
	return url.Values{"idempotency_key": {key}, "term": {term}, "price": {price}}
}

func TestRenewPage(t *testing.T) {
	f := mustActionsFixture(t)
	tests := []struct {
		name, path                string
		term, start, end, price   string
		defaultPrice, monthlyNote string
	}{
		{"an active plan renews from the day after its end, for its first term", "/billing/plans/BP-R-ACTIVE/renew",
			"3", "1 Apr 2026", "30 Jun 2026", "99999999", "₫99,999,999", "₫33,333,333 a month × 3 months"},
		{"a term chosen in the query changes the preview", "/billing/plans/BP-R-ACTIVE/renew?term=12",
			"12", "1 Apr 2026", "31 Mar 2027", "399999996", "₫399,999,996", "₫33,333,333 a month × 12 months"},
		{"an expired plan renews from today, for a month when its first term is not offered", "/billing/plans/BP-R-EXPIRED/renew",
			"1", "2 Mar 2026", "1 Apr 2026", "31000000", "₫31,000,000", "₫31,000,000 a month × 1 month"},
		{"an expired plan renewed for a year", "/billing/plans/BP-R-EXPIRED/renew?term=12",
			"12", "2 Mar 2026", "1 Mar 2027", "372000000", "₫372,000,000", "₫31,000,000 a month × 12 months"},
		{"a depleted plan within its dates renews from the day after its end", "/billing/plans/BP-R-DEPLETED/renew?term=1",
			"1", "1 May 2026", "31 May 2026", "333333", "₫333,333", "₫333,333 a month × 1 month"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.admin.Get(tt.path)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d", rec.Code)
			}
			doc := MustDoc(t, rec)
			if got := doc.Find(`[data-testid="renew-term"] option[selected]`).AttrOr("value", ""); got != tt.term {
				t.Errorf("term = %q, want %q", got, tt.term)
			}
			if got := doc.Find(`[data-testid="renew-form"] input[name="term"]`).AttrOr("value", ""); got != tt.term {
				t.Errorf("term confirmed = %q, want %q", got, tt.term)
			}
			for id, want := range map[string]string{"renew-new-start": tt.start, "renew-new-end": tt.end,
				"renew-default-price": tt.defaultPrice, "renew-monthly-rate": tt.monthlyNote} {
				if got := testid(doc, id); got != want {
					t.Errorf("%s = %q, want %q", id, got, want)
				}
			}
			if got := doc.Find(`[data-testid="renew-price"]`).AttrOr("value", ""); got != tt.price {
				t.Errorf("price = %q, want %q", got, tt.price)
			}
			if doc.Find(`[data-testid="renew-submit"]`).Length() != 1 || doc.Find(`[data-testid="renew-form"] input[name="_csrf"]`).Length() != 1 {
				t.Error("no confirm button or no CSRF field")
			}
		})
	}
	t.Run("a term not offered is refused beside the term", func(t *testing.T) {
		rec := f.admin.Get("/billing/plans/BP-R-ACTIVE/renew?term=5")
		if got := testid(MustDoc(t, rec), "error-term"); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(got, "1, 3, 6 or 12") {
			t.Errorf("status %d, error %q", rec.Code, got)
		}
	})
	t.Run("a plan not started yet says why it cannot be renewed", func(t *testing.T) {
		doc := MustDoc(t, f.admin.Get("/billing/plans/BP-R-SOON/renew"))
		if got := testid(doc, "error-plan"); !strings.Contains(got, "has not started yet (it starts on 1 Apr 2026)") {
			t.Errorf("message = %q", got)
		}
		if doc.Find(`[data-testid="renew-submit"]`).Length() != 0 {
			t.Error("the page offers to renew it")
		}
	})
}

func TestRenew(t *testing.T) {
	f := mustActionsFixture(t)
	t.Run("an active plan: the end date moves, the amount and the amount due grow", func(t *testing.T) {
		before := f.mustPlan(t, "BP-R-ACTIVE")
		rec := f.admin.PostForm("/billing/plans/BP-R-ACTIVE/renew", renewForm(mustKey(t), "3", "99999999"))
		MustRedirect(t, rec, "/billing/plans/BP-R-ACTIVE")
		want := "Renewed BP-R-ACTIVE for 3 months: now ends 30 Jun 2026. ₫99,999,999 added to the plan amount."
		if got := mustFollow(t, f.admin, rec); got != want {
			t.Errorf("flash = %q, want %q", got, want)
		}
		p := f.mustPlan(t, "BP-R-ACTIVE")
		today := store.NewDate(2026, 3, 2)
		if p.EndDate.String() != "2026-06-30" || p.Amount.Minor != 199_999_999 || p.AmountDue().Minor != 99_999_999 ||
			p.PaymentStatus() != store.PartiallyPaid || p.Status(today) != store.StatusActive || p.StartDate != before.StartDate {
			t.Errorf("plan after: %s–%s, amount %d, due %d, %s, %s", p.StartDate, p.EndDate, p.Amount.Minor, p.AmountDue().Minor, p.PaymentStatus(), p.Status(today))
		}
		var got [5]string
		if err := mustQueryRow(t, f.db, `SELECT term_months, price, old_end_date, new_start_date, new_end_date FROM renewals`,
			&got[0], &got[1], &got[2], &got[3], &got[4]); err != nil {
			t.Fatal(err)
		}
		if want := [5]string{"3", "99999999", "2026-03-31", "2026-04-01", "2026-06-30"}; got != want {
			t.Errorf("renewal row = %v, want %v", got, want)
		}
	})
	t.Run("an expired plan at a price the admin changed", func(t *testing.T) {
		rec := f.admin.PostForm("/billing/plans/BP-R-EXPIRED/renew", renewForm(mustKey(t), "1", "25000000"))
		if got, want := mustFollow(t, f.admin, rec), "Renewed BP-R-EXPIRED for 1 month: now ends 1 Apr 2026. ₫25,000,000 added to the plan amount."; got != want {
			t.Errorf("flash = %q, want %q", got, want)
		}
		p := f.mustPlan(t, "BP-R-EXPIRED")
		if p.EndDate.String() != "2026-04-01" || p.Amount.Minor != 87_000_000 || p.Status(store.NewDate(2026, 3, 2)) != store.StatusActive {
			t.Errorf("plan after: ends %s, amount %d, %s", p.EndDate, p.Amount.Minor, p.Status(store.NewDate(2026, 3, 2)))
		}
	})
	t.Run("a depleted plan is no longer depleted once its amount exceeds what it consumed", func(t *testing.T) {
		if p := f.mustPlan(t, "BP-R-DEPLETED"); p.DepletedAt == nil || p.Consumed.Minor != 1_000_000 {
			t.Fatalf("fixture: consumed %d, depleted %v", p.Consumed.Minor, p.DepletedAt)
		}
		rec := f.admin.PostForm("/billing/plans/BP-R-DEPLETED/renew", renewForm(mustKey(t), "1", "333333"))
		MustRedirect(t, rec, "/billing/plans/BP-R-DEPLETED")
		if got, want := mustFollow(t, f.admin, rec), "Renewed BP-R-DEPLETED for 1 month: now ends 31 May 2026. ₫333,333 added to the plan amount."; got != want {
			t.Errorf("flash = %q, want %q", got, want)
		}
		p := f.mustPlan(t, "BP-R-DEPLETED")
		if p.DepletedAt != nil || p.Amount.Minor != 1_333_333 || p.EndDate.String() != "2026-05-31" || p.Status(store.NewDate(2026, 3, 2)) != store.StatusActive {
			t.Errorf("plan after: depleted %v, amount %d, ends %s, %s", p.DepletedAt, p.Amount.Minor, p.EndDate, p.Status(store.NewDate(2026, 3, 2)))
		}
	})
	t.Run("the same form twice renews once and answers with the first result", func(t *testing.T) {
		form := renewForm(mustKey(t), "6", "1000")
		a := mustFollow(t, f.admin, f.admin.PostForm("/billing/plans/BP-XSS/renew", form))
		form.Set("price", "2000")
		b := mustFollow(t, f.admin, f.admin.PostForm("/billing/plans/BP-XSS/renew", form))
		if a != b || a != "Renewed BP-XSS for 6 months: now ends 30 Nov 2026. ₫1,000 added to the plan amount." {
			t.Errorf("answers %q and %q", a, b)
		}
		p := f.mustPlan(t, "BP-XSS")
		if n := mustCount(t, f.db, `SELECT COUNT(*) FROM renewals WHERE plan_id = ?`, p.ID); n != 1 || p.Amount.Minor != 1_001_000 {
			t.Errorf("%d renewals, amount %d; want 1, 1001000", n, p.Amount.Minor)
		}
	})
}

func TestRenewRefusesBadInput(t *testing.T) {
	f := mustActionsFixture(t)
	tests := []struct {
		name, plan, term, price, field, message string
	}{
		{"a negative price", "BP-R-ACTIVE", "3", "-1", "price", "below zero"},
		{"a price that is not a number", "BP-R-ACTIVE", "3", "lots", "price", `"lots" is not a number.`},
		{"no price", "BP-R-ACTIVE", "3", "", "price", "Enter the price"},
		{"decimals in dong", "BP-R-ACTIVE", "3", "1.5", "price", "VND amounts have no decimals."},
		{"a term not offered", "BP-R-ACTIVE", "5", "1000", "term", "1, 3, 6 or 12"},
		{"a plan that has not started yet", "BP-R-SOON", "1", "1000", "plan", "has not started yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused with 422 and changes nothing", func(t *testing.T) {
			before, plan := writes(t, f.db), f.mustPlan(t, tt.plan)
			rec := f.admin.PostForm("/billing/plans/"+tt.plan+"/renew", renewForm(mustKey(t), tt.term, tt.price))
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status = %d, want 422", rec.Code)
			}
			doc := MustDoc(t, rec)
			if got := testid(doc, "error-"+tt.field); !strings.Contains(got, tt.message) {
				t.Errorf("error-%s = %q, want it to say %q", tt.field, got, tt.message)
			}
			if tt.field != "plan" {
				if got := doc.Find(`[data-testid="renew-price"]`).AttrOr("value", "?"); got != tt.price {
					t.Errorf("price shown again = %q, want %q", got, tt.price)
				}
			}
			if after := f.mustPlan(t, tt.plan); writes(t, f.db) != before || after.Amount != plan.Amount || after.EndDate != plan.EndDate {
				t.Error("something changed")
			}
		})
	}
}

func TestActionsNeedAnAdminOfThePlansAccount(t *testing.T) {
	f := mustActionsFixture(t)
	viewer := MustSignIn(t, f.srv, "vic@acme.test", actionsPassword)
	routes := []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodGet, "/billing/plans/%s/pay", nil},
		{http.MethodPost, "/billing/plans/%s/pay", payForm(mustKey(t), "1000", "online", store.SandboxCardSucceeds)},
		{http.MethodGet, "/billing/plans/%s/renew", nil},
		{http.MethodPost, "/billing/plans/%s/renew", renewForm(mustKey(t), "1", "1000")},
	}
	send := func(c *client, method, path string, form url.Values) *httptest.ResponseRecorder {
		if method == http.MethodGet {
			return c.Get(path)
		}
		return c.PostForm(path, form)
	}
	before := writes(t, f.db)
	for _, r := range routes {
		t.Run(r.method+" "+r.path+" is refused to a viewer", func(t *testing.T) {
			if rec := send(viewer, r.method, strings.Replace(r.path, "%s", "BP-PAY", 1), r.form); rec.Code != http.StatusForbidden {
				t.Errorf("status = %d, want 403", rec.Code)
			}
		})
		t.Run(r.method+" "+r.path+" does not find another account's plan", func(t *testing.T) {
			if rec := send(f.admin, r.method, strings.Replace(r.path, "%s", "BP-BETA", 1), r.form); rec.Code != http.StatusNotFound {
				t.Errorf("status = %d, want 404", rec.Code)
			}
		})
	}
	if writes(t, f.db) != before {
		t.Error("a refused request wrote something")
	}
}

func TestActionsAudit(t *testing.T) {
	f := mustActionsFixture(t)
	f.admin.RemoteAddr = "198.51.100.9:4000"
	f.admin.PostForm("/billing/plans/BP-PAY/pay", payForm(mustKey(t), "100000000", "online", store.SandboxCardSucceeds))
	f.admin.PostForm("/billing/plans/BP-R-ACTIVE/renew", renewForm(mustKey(t), "3", "99999999"))

	figures := func(amount, paid, payment, status, end string) map[string]string {
		return map[string]string{"amount": amount, "currency": "VND", "paid_total": paid, "payment_status": payment, "status": status, "end_date": end}
	}
	tests := []struct {
		action, plan  string
		before, after map[string]string
	}{
		{store.AuditPayOnline, "BP-PAY",
			figures("150000000", "50000000", "partially_paid", "inactive", "2026-05-31"),
			figures("150000000", "150000000", "paid", "active", "2026-05-31")},
		{store.AuditRenew, "BP-R-ACTIVE",
			figures("100000000", "100000000", "paid", "active", "2026-03-31"),
			figures("199999999", "100000000", "partially_paid", "active", "2026-06-30")},
	}
	for _, tt := range tests {
		t.Run(tt.action+" keeps who, when, from where, and the figures before and after", func(t *testing.T) {
			p := f.mustPlan(t, tt.plan)
			action := tt.action
			entries, _, err := f.db.AuditLog(context.Background(), store.AuditFilter{PlanID: &p.ID, Action: &action})
			if err != nil || len(entries) != 1 {
				t.Fatalf("entries = %+v, %v; want 1", entries, err)
			}
			e := entries[0]
			if e.Actor != "ana@acme.test" || e.IP != "198.51.100.9" || !e.At.Equal(testNow) || e.AccountID != f.acme {
				t.Errorf("entry = %+v", e)
			}
			for name, c := range map[string]struct {
				text string
				want map[string]string
			}{"before": {e.Before, tt.before}, "after": {e.After, tt.after}} {
				var got map[string]string
				if err := json.Unmarshal([]byte(c.text), &got); err != nil {
					t.Fatalf("%s = %q: %v", name, c.text, err)
				}
				for k, v := range c.want {
					if got[k] != v {
						t.Errorf("%s.%s = %q, want %q", name, k, got[k], v)
					}
				}
			}
		})
	}
}
