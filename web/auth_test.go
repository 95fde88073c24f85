package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
)

// mustAuditLog returns the audit log, oldest first.
func mustAuditLog(t *testing.T, db *store.DB) []store.AuditEntry {
	t.Helper()
	entries, _, err := db.AuditLog(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(entries)-1; i < j; i, j = i+1, j-1 {
		entries[i], entries[j] = entries[j], entries[i]
	}
	return entries
}

func TestSignIn(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	MustCreateAccount(t, db, "ACME", store.USD)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "ACME", store.RoleAdmin)

	t.Run("the sign-in page has the form with a CSRF token", func(t *testing.T) {
		c := newClient(t, srv)
		rec := c.Get("/login")
		if rec.Code != http.StatusOK {
			t.Fatalf("status = %d", rec.Code)
		}
		doc := MustDoc(t, rec)
		if doc.Find(`[data-testid="login-form"] input[name="_csrf"]`).AttrOr("value", "") == "" {
			t.Error("no CSRF token in the form")
		}
		if got := doc.Find(`[data-testid="login-form"] input[name="next"]`).AttrOr("value", ""); got != "/billing/plans" {
			t.Errorf("next = %q, want /billing/plans", got)
		}
	})
	t.Run("the right password leads to the page asked for, signed in", func(t *testing.T) {
		c := newClient(t, srv)
		MustRedirect(t, c.Get("/billing/plans?status=active"), "/login?next="+url.QueryEscape("/billing/plans?status=active"))
		doc := MustDoc(t, c.Get("/login?next="+url.QueryEscape("/billing/plans?status=active")))
		next := doc.Find(`input[name="next"]`).AttrOr("value", "")
		rec := c.PostForm("/login", url.Values{"email": {"Ana@Example.com"}, "password": {"correct horse"}, "next": {next}})
		MustRedirect(t, rec, "/billing/plans?status=active")
		rec = c.Get("/billing/plans")
		if rec.Code != http.StatusOK {
			t.Fatalf("status = %d after sign-in", rec.Code)
		}
		if got := testid(MustDoc(t, rec), "user-name"); got != "User ana@example.com" {
			t.Errorf("user name = %q", got)
		}
	})
	t.Run("the session cookie is HttpOnly and SameSite=Lax", func(t *testing.T) {
		c := newClient(t, srv)
		c.Get("/login")
		rec := c.PostForm("/login", url.Values{"email": {"ana@example.com"}, "password": {"correct horse"}})
		var found bool
		for _, ck := range rec.Result().Cookies() {
			if ck.Name == sessionCookieName(false) {
				found = true
				if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
					t.Errorf("cookie = %+v", ck)
				}
				if strings.Contains(ck.Value, "ana") {
					t.Error("the cookie shows its content")
				}
			}
		}
		if !found {
			t.Fatal("no session cookie")
		}
	})
	t.Run("every sign-in is a new session", func(t *testing.T) {
		c := MustSignIn(t, srv, "ana@example.com", "correct horse")
		before := c.Cookies()
		c.MustSignIn("ana@example.com", "correct horse")
		// The session the browser had before is over.
		old := newClient(t, srv)
		old.SetCookies(before)
		MustRedirect(t, old.Get("/billing/plans"), "/login?next=%2Fbilling%2Fplans")
		if rec := c.Get("/billing/plans"); rec.Code != http.StatusOK {
			t.Errorf("the new session: status %d", rec.Code)
		}
	})
	t.Run("a signed-in user asking for the sign-in page goes on", func(t *testing.T) {
		c := MustSignIn(t, srv, "ana@example.com", "correct horse")
		MustRedirect(t, c.Get("/login"), "/billing/plans")
	})
}

func TestSignInFailures(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	MustCreateAccount(t, db, "ACME", store.USD)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "ACME", store.RoleAdmin)

	try := func(t *testing.T, email, password string) (int, string, string) {
		t.Helper()
		c := newClient(t, srv)
		c.Get("/login")
		rec := c.PostForm("/login", url.Values{"email": {email}, "password": {password}})
		doc := MustDoc(t, rec)
		return rec.Code, testid(doc, "login-error"), doc.Find(`input[name="email"]`).AttrOr("value", "")
	}

	t.Run("an unknown email and a wrong password get the same answer", func(t *testing.T) {
		wrongStatus, wrongMsg, wrongEmail := try(t, "ana@example.com", "wrong horse")
		unknownStatus, unknownMsg, _ := try(t, "bo@example.com", "correct horse")
		if wrongStatus != http.StatusUnprocessableEntity || unknownStatus != http.StatusUnprocessableEntity {
			t.Errorf("statuses = %d, %d, want 422", wrongStatus, unknownStatus)
		}
		if wrongMsg == "" || wrongMsg != unknownMsg {
			t.Errorf("messages = %q and %q, want the same", wrongMsg, unknownMsg)
		}
		if wrongEmail != "ana@example.com" {
			t.Errorf("the email typed is not kept: %q", wrongEmail)
		}
	})
	t.Run("an empty password is refused without a lookup", func(t *testing.T) {
		status, msg, _ := try(t, "ana@example.com", "")
		if status != http.StatusUnprocessableEntity || msg == "" {
			t.Errorf("status %d, message %q", status, msg)
		}
	})
}

func TestSignInAudit(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	MustCreateAccount(t, db, "ACME", store.USD)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "ACME", store.RoleAdmin)

	c := newClient(t, srv)
	c.RemoteAddr = "198.51.100.7:5555"
	c.Get("/login")
	c.PostForm("/login", url.Values{"email": {"ana@example.com"}, "password": {"wrong horse"}})
	c.MustSignIn("ana@example.com", "correct horse")
	MustRedirect(t, c.PostForm("/logout", nil), "/login")

	entries := mustAuditLog(t, db)
	want := []string{store.AuditSignInFailed, store.AuditSignIn, store.AuditSignOut}
	if len(entries) != len(want) {
		t.Fatalf("audit log = %+v, want %v", entries, want)
	}
	for i, e := range entries {
		if e.Action != want[i] || e.Actor != "ana@example.com" || e.IP != "198.51.100.7" || !e.At.Equal(testNow) {
			t.Errorf("entry %d = %+v, want %s by ana@example.com from 198.51.100.7 at %v", i, e, want[i], testNow)
		}
	}
}

func TestSignOut(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	MustCreateAccount(t, db, "ACME", store.USD)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "ACME", store.RoleAdmin)

	c := MustSignIn(t, srv, "ana@example.com", "correct horse")
	copied := c.Cookies()
	MustRedirect(t, c.PostForm("/logout", nil), "/login")

	t.Run("the sign-in page says so", func(t *testing.T) {
		if got := testid(MustDoc(t, c.Get("/login")), "flash"); got != "You have signed out." {
			t.Errorf("flash = %q", got)
		}
	})
	t.Run("the browser is signed out", func(t *testing.T) {
		MustRedirect(t, c.Get("/billing/plans"), "/login?next=%2Fbilling%2Fplans")
	})
	t.Run("a cookie copied before the sign-out is refused", func(t *testing.T) {
		thief := newClient(t, srv)
		thief.SetCookies(copied)
		MustRedirect(t, thief.Get("/billing/plans"), "/login?next=%2Fbilling%2Fplans")
	})
	t.Run("signing out without a session just leads to the sign-in page", func(t *testing.T) {
		anon := newClient(t, srv)
		anon.Get("/login")
		MustRedirect(t, anon.PostForm("/logout", nil), "/login")
	})
}

func TestSessionTimeouts(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	MustCreateAccount(t, db, "ACME", store.USD)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "ACME", store.RoleAdmin)

	t.Run("a session idle for 8 hours ends", func(t *testing.T) {
		MustSetClock(t, db, testNow)
		c := MustSignIn(t, srv, "ana@example.com", "correct horse")
		MustSetClock(t, db, testNow.Add(7*time.Hour+59*time.Minute))
		if rec := c.Get("/billing/plans"); rec.Code != http.StatusOK {
			t.Fatalf("after 7h59m idle: status %d", rec.Code)
		}
		MustSetClock(t, db, testNow.Add(15*time.Hour+58*time.Minute))
		if rec := c.Get("/billing/plans"); rec.Code != http.StatusOK {
			t.Fatalf("use keeps a session alive: status %d", rec.Code)
		}
		MustSetClock(t, db, testNow.Add(23*time.Hour+58*time.Minute))
		MustRedirect(t, c.Get("/billing/plans"), "/login?next=%2Fbilling%2Fplans")
		if got := testid(MustDoc(t, c.Get("/login")), "flash"); !strings.Contains(got, "expired") {
			t.Errorf("flash = %q, want it to say the session expired", got)
		}
	})
	t.Run("a session in use ends 7 days after its sign-in", func(t *testing.T) {
		MustSetClock(t, db, testNow)
		c := MustSignIn(t, srv, "ana@example.com", "correct horse")
		for h := 6; h < 7*24; h += 6 {
			MustSetClock(t, db, testNow.Add(time.Duration(h)*time.Hour))
			if rec := c.Get("/billing/plans"); rec.Code != http.StatusOK {
				t.Fatalf("after %dh: status %d", h, rec.Code)
			}
		}
		MustSetClock(t, db, testNow.Add(7*24*time.Hour))
		MustRedirect(t, c.Get("/billing/plans"), "/login?next=%2Fbilling%2Fplans")
	})
}

func TestSignInRateLimit(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	MustCreateAccount(t, db, "ACME", store.USD)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "ACME", store.RoleAdmin)
	MustCreateUser(t, db, "bo@example.com", "battery staple", "ACME", store.RoleViewer)

	attacker := newClient(t, srv)
	attacker.RemoteAddr = "203.0.113.9:1234"
	attacker.Get("/login")
	for i := 1; i <= 5; i++ {
		rec := attacker.PostForm("/login", url.Values{"email": {"ana@example.com"}, "password": {"guess " + strconv.Itoa(i)}})
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: status %d, want 422", i, rec.Code)
		}
	}

	t.Run("the sixth attempt in a minute is refused with Retry-After", func(t *testing.T) {
		rec := attacker.PostForm("/login", url.Values{"email": {"ana@example.com"}, "password": {"correct horse"}})
		if rec.Code != http.StatusTooManyRequests {
			t.Fatalf("status = %d, want 429", rec.Code)
		}
		if got := rec.Header().Get("Retry-After"); got != "60" {
			t.Errorf("Retry-After = %q, want 60", got)
		}
		if got := testid(MustDoc(t, rec), "login-error"); !strings.Contains(got, "60 seconds") {
			t.Errorf("message = %q, want it to say when to retry", got)
		}
	})
	t.Run("the same address is refused for another email too", func(t *testing.T) {
		rec := attacker.PostForm("/login", url.Values{"email": {"bo@example.com"}, "password": {"battery staple"}})
		if rec.Code != http.StatusTooManyRequests {
			t.Errorf("status = %d, want 429", rec.Code)
		}
	})
	t.Run("the same email is refused from another address too", func(t *testing.T) {
		c := newClient(t, srv)
		c.RemoteAddr = "198.51.100.20:1234"
		c.Get("/login")
		rec := c.PostForm("/login", url.Values{"email": {"ANA@example.com"}, "password": {"correct horse"}})
		if rec.Code != http.StatusTooManyRequests {
			t.Errorf("status = %d, want 429", rec.Code)
		}
	})
	t.Run("another address and email still sign in", func(t *testing.T) {
		c := newClient(t, srv)
		c.RemoteAddr = "198.51.100.21:1234"
		c.MustSignIn("bo@example.com", "battery staple")
	})
	t.Run("pages of signed-in users are not limited", func(t *testing.T) {
		c := MustSignIn(t, srv, "bo@example.com", "battery staple")
		c.RemoteAddr = attacker.RemoteAddr
		if rec := c.Get("/billing/plans"); rec.Code != http.StatusOK {
			t.Errorf("status = %d", rec.Code)
		}
	})
	t.Run("after the wait, one may try again; the next refusal lasts longer", func(t *testing.T) {
		MustSetClock(t, db, testNow.Add(time.Minute))
		for i := 1; i <= 5; i++ {
			rec := attacker.PostForm("/login", url.Values{"email": {"ana@example.com"}, "password": {"guess"}})
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("attempt %d: status %d, want 422", i, rec.Code)
			}
		}
		rec := attacker.PostForm("/login", url.Values{"email": {"ana@example.com"}, "password": {"guess"}})
		if got := rec.Header().Get("Retry-After"); rec.Code != http.StatusTooManyRequests || got != "120" {
			t.Errorf("status %d, Retry-After %q; want 429 and 120", rec.Code, got)
		}
	})
}

func TestSignInLimitKeys(t *testing.T) {
	tests := []struct {
		name, ip, want string
	}{
		{"an IPv4 client counts by its address", "192.0.2.1", "ip 192.0.2.1"},
		{"an IPv6 client counts by its /64", "2001:db8:1:2:3:4:5:6", "ip 2001:db8:1:2::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := signInLimitKeys(tt.ip, "a@b.c")[0]; got != tt.want {
				t.Errorf("key = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("an email counts in lower case, and a huge one by its start", func(t *testing.T) {
		if got := signInLimitKeys("192.0.2.1", " Ana@Example.com")[1]; got != "email ana@example.com" {
			t.Errorf("key = %q", got)
		}
		if got := signInLimitKeys("192.0.2.1", strings.Repeat("a", 1<<20))[1]; len(got) > 300 {
			t.Errorf("key has %d bytes", len(got))
		}
	})
}

func TestSafeNext(t *testing.T) {
	tests := []struct {
		next, want string
	}{
		{"/billing/plans?status=active&page=2", "/billing/plans?status=active&page=2"},
		{"/billing/credit-history", "/billing/credit-history"},
		{"", "/billing/plans"},
		{"https://evil.example", "/billing/plans"},
		{"//evil.example", "/billing/plans"},
		{"/\\evil.example", "/billing/plans"},
		{"\\\\evil.example", "/billing/plans"},
		{"/\t/evil.example", "/billing/plans"},
		{"javascript:alert(1)", "/billing/plans"},
		{"billing/plans", "/billing/plans"},
		{"/billing\\..\\evil", "/billing/plans"},
	}
	for _, tt := range tests {
		t.Run("next "+strconv.Quote(tt.next), func(t *testing.T) {
			if got := safeNext(tt.next); got != tt.want {
				t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
			}
		})
	}
}

func TestSignInIgnoresForeignNext(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	MustCreateAccount(t, db, "ACME", store.USD)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "ACME", store.RoleAdmin)

	for _, next := range []string{"https://evil.example", "//evil.example", "/\\evil.example"} {
		t.Run("next="+next+" leads to the plans", func(t *testing.T) {
			c := newClient(t, srv)
			doc := MustDoc(t, c.Get("/login?next="+url.QueryEscape(next)))
			if got := doc.Find(`input[name="next"]`).AttrOr("value", ""); got != "/billing/plans" {
				t.Errorf("form next = %q", got)
			}
			rec := c.PostForm("/login", url.Values{"email": {"ana@example.com"}, "password": {"correct horse"}, "next": {next}})
			MustRedirect(t, rec, "/billing/plans")
		})
	}
}

func TestSwitchAccount(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	MustCreateAccount(t, db, "ACME", store.USD)
	beta := MustCreateAccount(t, db, "BETA", store.VND)
	MustCreateAccount(t, db, "GAMMA", store.JPY)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "ACME", store.RoleViewer)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "BETA", store.RoleAdmin)
	MustCreateUser(t, db, "gus@example.com", "gamma gamma", "GAMMA", store.RoleAdmin)
	c := MustSignIn(t, srv, "ana@example.com", "correct horse")

	t.Run("the header offers the user's accounts, the first current", func(t *testing.T) {
		doc := MustDoc(t, c.Get("/billing/plans"))
		opts := doc.Find(`[data-testid="account-switcher"] select[name="account"] option`)
		if opts.Length() != 2 || opts.Eq(0).AttrOr("value", "") != "ACME" || opts.Eq(1).AttrOr("value", "") != "BETA" {
			t.Fatalf("options = %d: %s", opts.Length(), opts.Text())
		}
		if _, ok := opts.Eq(0).Attr("selected"); !ok {
			t.Error("ACME is not selected")
		}
		if doc.Find(`[data-testid="account-switcher"] input[name="_csrf"]`).Length() != 1 {
			t.Error("the switcher has no CSRF token")
		}
	})
	t.Run("switching to a member account makes it current", func(t *testing.T) {
		rec := c.PostForm("/account", url.Values{"account": {"BETA"}, "next": {"/billing/credit-history"}})
		MustRedirect(t, rec, "/billing/credit-history")
		doc := MustDoc(t, c.Get("/billing/plans"))
		if got := doc.Find(`option[selected]`).AttrOr("value", ""); got != "BETA" {
			t.Errorf("current account = %q, want BETA", got)
		}
		if got := testid(doc, "flash"); !strings.Contains(got, "Account BETA") {
			t.Errorf("flash = %q", got)
		}
		if got := currentAccountOf(t, srv, c); got != "BETA" {
			t.Errorf("the handler's current account = %q", got)
		}
		entries := mustAuditLog(t, db)
		last := entries[len(entries)-1]
		if last.Action != store.AuditSwitchAccount || last.AccountID != beta.ID || last.Before != "ACME" || last.After != "BETA" || last.Actor != "ana@example.com" {
			t.Errorf("audit entry = %+v", last)
		}
	})
	t.Run("another account's code answers 404 exactly as a missing one", func(t *testing.T) {
		foreign := c.PostForm("/account", url.Values{"account": {"GAMMA"}})
		missing := c.PostForm("/account", url.Values{"account": {"NOPE"}})
		if foreign.Code != http.StatusNotFound || missing.Code != http.StatusNotFound {
			t.Fatalf("statuses = %d, %d, want 404", foreign.Code, missing.Code)
		}
		fm := testid(MustDoc(t, foreign), "error-message")
		mm := testid(MustDoc(t, missing), "error-message")
		if fm != strings.ReplaceAll(mm, "NOPE", "GAMMA") {
			t.Errorf("messages differ: %q and %q", fm, mm)
		}
		if got := currentAccountOf(t, srv, c); got != "BETA" {
			t.Errorf("current account = %q, want BETA still", got)
		}
	})
}

// currentAccountOf returns the code of the current account as a handler sees
// it, through a test-only route.
func currentAccountOf(t *testing.T, srv *Server, c *client) string {
	t.Helper()
	srv.Echo.GET("/test/current-account", func(ec echo.Context) error {
		return ec.String(http.StatusOK, currentAccount(ec).Code)
	}, srv.requireSignIn)
	rec := c.Get("/test/current-account")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	return rec.Body.String()
}
