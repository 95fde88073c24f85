package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/static"
	"github.com/billingplans/billingplans/store"
)

// publicRoutes are the routes open to anybody; every other route of the
// console asks for a session. The usage API (/api/) has API keys instead.
var publicRoutes = map[string]bool{
	"/healthz":          true,
	static.Prefix + "*": true,
	"/login":            true,
	"/logout":           true,
}

// routePath returns a request path for route, its parameters filled in.
func routePath(route string) string {
	parts := strings.Split(route, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || p == "*" {
			parts[i] = "x"
		}
	}
	return strings.Join(parts, "/")
}

func TestEveryPageNeedsASession(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	routes := srv.Echo.Routes()
	if len(routes) < 5 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, r := range routes {
		if publicRoutes[r.Path] || strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		path := routePath(r.Path)
		switch r.Method {
		case http.MethodGet:
			t.Run("GET "+r.Path+" leads to the sign-in page and back", func(t *testing.T) {
				c := newClient(t, srv)
				target := path + "?page=2"
				MustRedirect(t, c.Get(target), "/login?next="+url.QueryEscape(target))
			})
		case http.MethodPost:
			t.Run("POST "+r.Path+" leads to the sign-in page", func(t *testing.T) {
				c := newClient(t, srv)
				c.Get("/login")
				MustRedirect(t, c.PostForm(path, url.Values{}), "/login")
			})
		}
	}
}

func TestUserOfNoAccount(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	if _, err := db.CreateUser(context.Background(), "lone@example.com", "Lone", "correct horse"); err != nil {
		t.Fatal(err)
	}
	c := MustSignIn(t, srv, "lone@example.com", "correct horse")
	rec := c.Get("/billing/plans")
	if rec.Code != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", rec.Code)
	}
	if got := testid(MustDoc(t, rec), "error-message"); !strings.Contains(got, "no account") {
		t.Errorf("message = %q", got)
	}
}

func TestCSRF(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	MustCreateAccount(t, db, "ACME", store.USD)
	MustCreateAccount(t, db, "BETA", store.USD)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "ACME", store.RoleAdmin)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "BETA", store.RoleAdmin)
	c := MustSignIn(t, srv, "ana@example.com", "correct horse")
	switchTo := url.Values{"account": {"BETA"}}

	tests := []struct {
		name   string
		token  string
		header map[string]string
		want   int
	}{
		{"a POST without a token is refused", "", nil, http.StatusForbidden},
		{"a POST with a wrong token is refused", "forged", nil, http.StatusForbidden},
		{"a cross-site POST is refused, even with the token", c.csrf, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"a same-site POST needs the token", "", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"a POST with the token goes through", c.csrf, nil, http.StatusSeeOther},
		{"a same-origin POST goes through", "", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := cloneValues(switchTo)
			form.Set("_csrf", tt.token)
			req := httptest.NewRequest(http.MethodPost, "/account", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := c.Do(req)
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d; body:\n%.300s", rec.Code, tt.want, rec.Body)
			}
		})
	}
	t.Run("signing in needs the token too", func(t *testing.T) {
		anon := newClient(t, srv)
		anon.Get("/login")
		rec := anon.PostFormRaw("/login", url.Values{"email": {"ana@example.com"}, "password": {"correct horse"}})
		if rec.Code != http.StatusForbidden {
			t.Errorf("status = %d, want 403", rec.Code)
		}
	})
	t.Run("the CSRF cookie is HttpOnly and SameSite=Lax", func(t *testing.T) {
		rec := newClient(t, srv).Get("/login")
		var found bool
		for _, ck := range rec.Result().Cookies() {
			if ck.Name == "_csrf" {
				found = true
				if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
					t.Errorf("cookie = %+v", ck)
				}
			}
		}
		if !found {
			t.Error("no CSRF cookie")
		}
	})
}

func TestRequireAdmin(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	MustCreateAccount(t, db, "ACME", store.USD)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "ACME", store.RoleAdmin)
	MustCreateUser(t, db, "vic@example.com", "viewer only", "ACME", store.RoleViewer)
	srv.Echo.POST("/test/pay", func(c echo.Context) error {
		return c.String(http.StatusOK, "paid")
	}, srv.requireSignIn, srv.requireAdmin)

	t.Run("a viewer is refused with 403", func(t *testing.T) {
		c := MustSignIn(t, srv, "vic@example.com", "viewer only")
		rec := c.PostForm("/test/pay", url.Values{})
		if rec.Code != http.StatusForbidden {
			t.Fatalf("status = %d, want 403", rec.Code)
		}
		if got := testid(MustDoc(t, rec), "error-message"); !strings.Contains(got, "admin") {
			t.Errorf("message = %q", got)
		}
	})
	t.Run("an admin goes through", func(t *testing.T) {
		c := MustSignIn(t, srv, "ana@example.com", "correct horse")
		if rec := c.PostForm("/test/pay", url.Values{}); rec.Code != http.StatusOK || rec.Body.String() != "paid" {
			t.Errorf("status = %d, body %q", rec.Code, rec.Body)
		}
	})
	t.Run("the layout tells pages who is an admin", func(t *testing.T) {
		srv.Echo.GET("/test/is-admin", func(c echo.Context) error {
			if srv.page(c, "t", "").IsAdmin {
				return c.String(http.StatusOK, "admin")
			}
			return c.String(http.StatusOK, "viewer")
		}, srv.requireSignIn)
		for email, want := range map[string]string{"ana@example.com": "admin", "vic@example.com": "viewer"} {
			pw := map[string]string{"ana@example.com": "correct horse", "vic@example.com": "viewer only"}[email]
			if got := MustSignIn(t, srv, email, pw).Get("/test/is-admin").Body.String(); got != want {
				t.Errorf("%s: %q, want %q", email, got, want)
			}
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	secure := MustNewServerWith(t, db, Config{SecureCookies: true})
	MustCreateAccount(t, db, "ACME", store.USD)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "ACME", store.RoleAdmin)
	signed := MustSignIn(t, srv, "ana@example.com", "correct horse")

	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
	}
	tests := []struct {
		name   string
		do     func() *httptest.ResponseRecorder
		status int
	}{
		{"the sign-in page", func() *httptest.ResponseRecorder { return newClient(t, srv).Get("/login") }, http.StatusOK},
		{"a page", func() *httptest.ResponseRecorder { return signed.Get("/billing/plans") }, http.StatusOK},
		{"a redirect", func() *httptest.ResponseRecorder { return newClient(t, srv).Get("/billing/plans") }, http.StatusSeeOther},
		{"an unknown page", func() *httptest.ResponseRecorder { return newClient(t, srv).Get("/no/such/page") }, http.StatusNotFound},
		{"an unknown page, signed in", func() *httptest.ResponseRecorder { return signed.Get("/no/such/page") }, http.StatusNotFound},
		{"a stylesheet", func() *httptest.ResponseRecorder { return newClient(t, srv).Get(static.Path("app.css")) }, http.StatusOK},
		{"an unknown static file", func() *httptest.ResponseRecorder { return newClient(t, srv).Get("/static/app.0000000000.css") }, http.StatusNotFound},
		{"a refused POST", func() *httptest.ResponseRecorder { return newClient(t, srv).PostFormRaw("/login", url.Values{}) }, http.StatusForbidden},
		{"a wrong method", func() *httptest.ResponseRecorder { return newClient(t, srv).PostFormRaw("/healthz", url.Values{}) }, http.StatusMethodNotAllowed},
		{"the health check", func() *httptest.ResponseRecorder { return newClient(t, srv).Get("/healthz") }, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name+" has the security headers", func(t *testing.T) {
			rec := tt.do()
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			for k, v := range want {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if got := rec.Header().Get("Strict-Transport-Security"); got != "" {
				t.Errorf("HSTS over plain HTTP: %q", got)
			}
		})
	}
	t.Run("HTTPS responses have HSTS, errors too", func(t *testing.T) {
		for _, path := range []string{"/login", "/no/such/page"} {
			rec := newClient(t, secure).Get(path)
			if got := rec.Header().Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
				t.Errorf("%s: HSTS = %q", path, got)
			}
		}
	})
}

func TestErrorPages(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	MustCreateAccount(t, db, "ACME", store.USD)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "ACME", store.RoleAdmin)

	t.Run("an unknown page is the error page with 404", func(t *testing.T) {
		rec := newClient(t, srv).Get("/no/such/page")
		doc := MustDoc(t, rec)
		if rec.Code != http.StatusNotFound || !strings.HasPrefix(testid(doc, "error-status"), "404") {
			t.Errorf("status %d, error status %q", rec.Code, testid(doc, "error-status"))
		}
		if doc.Find(`[data-testid="nav"]`).Length() != 0 {
			t.Error("the console's sidebar is shown to somebody not signed in")
		}
	})
	t.Run("a signed-in user sees the error inside the console", func(t *testing.T) {
		c := MustSignIn(t, srv, "ana@example.com", "correct horse")
		doc := MustDoc(t, c.Get("/no/such/page"))
		if doc.Find(`[data-testid="nav"]`).Length() != 1 || testid(doc, "user-name") == "" {
			t.Error("no console around the error")
		}
	})
	t.Run("a body over 1 MB is refused with 413", func(t *testing.T) {
		c := newClient(t, srv)
		c.Get("/login")
		form := url.Values{"email": {strings.Repeat("a", 2<<20)}, "_csrf": {c.csrf}}
		if rec := c.PostFormRaw("/login", form); rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("status = %d, want 413", rec.Code)
		}
	})
	t.Run("store errors map to statuses", func(t *testing.T) {
		tests := []struct {
			err  error
			want int
		}{
			{store.Errorf(store.ENOTFOUND, "No plan BP-1."), http.StatusNotFound},
			{store.Errorf(store.EFORBIDDEN, "No."), http.StatusForbidden},
			{store.Errorf(store.ECONFLICT, "Paid already."), http.StatusConflict},
			{store.FieldError("amount", "Too much."), http.StatusUnprocessableEntity},
			{store.Errorf(store.EINVALID, "Bad filter."), http.StatusBadRequest},
			{store.Errorf(store.EUNAUTHORIZED, "Bad key."), http.StatusUnauthorized},
			{context.DeadlineExceeded, http.StatusInternalServerError},
		}
		for _, tt := range tests {
			if got, _ := errorResponse(tt.err); got != tt.want {
				t.Errorf("%v: status %d, want %d", tt.err, got, tt.want)
			}
		}
		if _, msg := errorResponse(context.DeadlineExceeded); strings.Contains(msg, "deadline") {
			t.Errorf("an internal error shows its cause: %q", msg)
		}
	})
}

func TestStatic(t *testing.T) {
	db := MustOpenDB(t)
	srv := MustNewServer(t, db)
	path := static.Path("app.css")
	if !strings.HasPrefix(path, "/static/app.") || !strings.HasSuffix(path, ".css") || len(path) <= len("/static/app.css") {
		t.Fatalf("path = %q, want a fingerprinted name", path)
	}
	rec := newClient(t, srv).Get(path)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	if got := rec.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control = %q", got)
	}
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
		t.Errorf("Content-Type = %q", got)
	}
	if !strings.Contains(rec.Body.String(), "--color-primary") {
		t.Error("not the stylesheet")
	}
	if _, ok := rec.Result().Header["Set-Cookie"]; ok {
		t.Error("a static file sets a cookie")
	}

	t.Run("pages link only fingerprinted files of this host, and carry no inline script or style", func(t *testing.T) {
		doc := MustDoc(t, newClient(t, srv).Get("/login"))
		if got := doc.Find(`link[rel="stylesheet"]`).AttrOr("href", ""); got != path {
			t.Errorf("stylesheet = %q, want %q", got, path)
		}
		if got := doc.Find(`script`).AttrOr("src", ""); got != static.Path("app.js") {
			t.Errorf("script = %q", got)
		}
		if doc.Find(`script:not([src]), style, [style]`).Length() != 0 {
			t.Error("inline script or style")
		}
	})
}
