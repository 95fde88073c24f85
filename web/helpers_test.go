package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/billingplans/billingplans/store"
)

// TestMain makes password hashing cheap: tests sign in hundreds of times.
func TestMain(m *testing.M) {
	store.PasswordParams.Memory, store.PasswordParams.Time, store.PasswordParams.Threads = 64, 1, 1
	os.Exit(m.Run())
}

// testSessionKey signs the session cookies of test servers.
const testSessionKey = "test-session-key-0123456789abcdef0123456789abcdef"

// testNow is where the clock of MustOpenDB starts.
var testNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// MustOpenDB opens a fresh database file in t.TempDir(), closed when the test
// ends, with its clock stopped at testNow; move it with MustSetClock.
func MustOpenDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "billing.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	MustSetClock(t, db, testNow)
	return db
}

// MustSetClock stops the database's clock at now.
func MustSetClock(t *testing.T, db *store.DB, now time.Time) {
	t.Helper()
	db.Now = func() time.Time { return now }
}

// MustNewServer returns a server on db for tests: plain-HTTP cookies, a fixed
// session key, and a logger that drops everything.
func MustNewServer(t *testing.T, db *store.DB) *Server {
	t.Helper()
	return MustNewServerWith(t, db, Config{})
}

// MustNewServerWith returns a server on db with cfg, filling in the test
// session key and a silent logger when cfg has none.
func MustNewServerWith(t *testing.T, db *store.DB, cfg Config) *Server {
	t.Helper()
	if len(cfg.SessionKeys) == 0 {
		cfg.SessionKeys = []string{testSessionKey}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := New(db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// MustCreateAccount inserts an account with code billing in currency (its name
// is "Account <code>") and returns it. It writes SQL directly: accounts come
// from the importer, which tests of the web do not need.
func MustCreateAccount(t *testing.T, db *store.DB, code string, currency store.Currency) store.Account {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	a := store.Account{Code: code, Name: "Account " + code, Currency: currency, TimeZone: store.DefaultTimeZone}
	res, err := tx.ExecContext(ctx, `INSERT INTO accounts (code, name, currency, timezone) VALUES (?, ?, ?, ?)`,
		a.Code, a.Name, string(a.Currency), a.TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID, err = res.LastInsertId(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	a.TopupBalance = store.Money{Currency: currency}
	a.Uncovered = store.Money{Currency: currency}
	return a
}

// MustCreateUser makes the user with email a member of the account with
// accountCode in role, creating the user (named "User <email>") first when the
// email is new.
func MustCreateUser(t *testing.T, db *store.DB, email, password, accountCode string, role store.Role) store.User {
	t.Helper()
	ctx := context.Background()
	u, err := db.FindUserByEmail(ctx, email)
	if store.ErrorCode(err) == store.ENOTFOUND {
		u, err = db.CreateUser(ctx, email, "User "+email, password)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddMembership(ctx, email, accountCode, role); err != nil {
		t.Fatal(err)
	}
	return u
}

// client is a browser for tests: it keeps cookies and the CSRF token between
// requests to the real Echo instance of a server.
type client struct {
	t   *testing.T
	srv *Server
	// RemoteAddr is the address the server sees the requests come from.
	RemoteAddr string
	// Header is added to every request (Sec-Fetch-Site, say).
	Header  http.Header
	cookies map[string]*http.Cookie
	csrf    string
}

// newClient returns a client of srv with no cookies yet.
func newClient(t *testing.T, srv *Server) *client {
	return &client{t: t, srv: srv, RemoteAddr: "192.0.2.1:40000", Header: http.Header{}, cookies: map[string]*http.Cookie{}}
}

// MustSignIn returns a client of srv signed in with email and password. It
// fails the test unless the sign-in redirects.
func MustSignIn(t *testing.T, srv *Server, email, password string) *client {
	t.Helper()
	c := newClient(t, srv)
	c.MustSignIn(email, password)
	return c
}

// MustSignIn signs the client in with email and password.
func (c *client) MustSignIn(email, password string) {
	c.t.Helper()
	c.Get("/login")
	rec := c.PostForm("/login", url.Values{"email": {email}, "password": {password}})
	if rec.Code != http.StatusSeeOther {
		c.t.Fatalf("sign in as %s: status %d, want 303; body:\n%s", email, rec.Code, rec.Body)
	}
}

// Do sends req with the client's cookies and headers, and keeps the cookies
// and CSRF token of the response.
func (c *client) Do(req *http.Request) *httptest.ResponseRecorder {
	c.t.Helper()
	req.RemoteAddr = c.RemoteAddr
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	for _, ck := range c.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	rec := httptest.NewRecorder()
	c.srv.Echo.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	if strings.Contains(rec.Body.String(), `name="_csrf"`) {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
		if err == nil {
			if v, ok := doc.Find(`input[name="_csrf"]`).First().Attr("value"); ok {
				c.csrf = v
			}
		}
	}
	return rec
}

// Get sends a GET of path (with its query).
func (c *client) Get(path string) *httptest.ResponseRecorder {
	c.t.Helper()
	return c.Do(httptest.NewRequest(http.MethodGet, path, nil))
}

// PostForm sends form to path, with the CSRF token added unless form has one.
func (c *client) PostForm(path string, form url.Values) *httptest.ResponseRecorder {
	c.t.Helper()
	if !form.Has("_csrf") {
		form = cloneValues(form)
		form.Set("_csrf", c.csrf)
	}
	return c.PostFormRaw(path, form)
}

// PostFormRaw sends form to path as it is, without adding a CSRF token.
func (c *client) PostFormRaw(path string, form url.Values) *httptest.ResponseRecorder {
	c.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// Cookies returns a copy of the client's cookies, to replay later.
func (c *client) Cookies() map[string]*http.Cookie {
	m := make(map[string]*http.Cookie, len(c.cookies))
	for k, v := range c.cookies {
		cp := *v
		m[k] = &cp
	}
	return m
}

// SetCookies replaces the client's cookies with a copy of cookies.
func (c *client) SetCookies(cookies map[string]*http.Cookie) {
	c.cookies = map[string]*http.Cookie{}
	for k, v := range cookies {
		cp := *v
		c.cookies[k] = &cp
	}
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+1)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// MustDoc parses the body of rec as HTML.
func MustDoc(t *testing.T, rec *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// MustRedirect fails the test unless rec redirects with 303 to want, and
// returns the location.
func MustRedirect(t *testing.T, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303 to %s; body:\n%.500s", rec.Code, want, rec.Body)
	}
	if got := rec.Header().Get("Location"); got != want {
		t.Fatalf("Location = %q, want %q", got, want)
	}
}

// testid returns the trimmed text of the elements with data-testid id.
func testid(doc *goquery.Document, id string) string {
	return strings.TrimSpace(doc.Find(`[data-testid="` + id + `"]`).Text())
}
