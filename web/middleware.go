package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/billingplans/billingplans/static"
	"github.com/billingplans/billingplans/store"
)

// contentSecurityPolicy allows scripts, styles, fonts and forms from this
// origin only, images also as data: URLs, and no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// formBodyLimit bounds the body of every request but the API's (see routes.go).
const formBodyLimit = "1M"

func isStatic(path string) bool { return strings.HasPrefix(path, static.Prefix) || path == "/healthz" }

func isAPI(path string) bool { return strings.HasPrefix(path, "/api/") }

// securityHeaders sets the headers every response carries, before anything
// else runs, so that not-found pages, static files and errors have them too.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.cfg.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// bodyLimit refuses bodies over formBodyLimit with 413. The API has a limit of
// its own, so it is skipped here.
func (s *Server) bodyLimit() echo.MiddlewareFunc {
	return middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   formBodyLimit,
		Skipper: func(c echo.Context) bool { return isAPI(c.Request().URL.Path) },
	})
}

// csrf protects every state-changing request. Browsers that send
// Sec-Fetch-Site are checked on it: same-origin passes, cross-site is refused
// with 403. Others (and same-site) must send the token of the _csrf cookie back
// in the form field _csrf or the X-CSRF-Token header. Any failure is a 403.
// Static files and the API (authenticated by key, never by cookie) are skipped.
func (s *Server) csrf() echo.MiddlewareFunc {
	name := "_csrf"
	if s.cfg.SecureCookies {
		name = "__Host-csrf"
	}
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			return isStatic(p) || isAPI(p)
		},
		TokenLookup:    "form:_csrf,header:" + echo.HeaderXCSRFToken,
		ContextKey:     csrfContextKey,
		CookieName:     name,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   s.cfg.SecureCookies,
		CookieSameSite: http.SameSiteLaxMode,
		ErrorHandler: func(err error, c echo.Context) error {
			return echo.NewHTTPError(http.StatusForbidden, "invalid csrf token").SetInternal(err)
		},
	})
}

// requireSignIn lets a request through only from a signed-in user who belongs
// to an account. Anybody else is sent to the sign-in page, which leads back to
// the page asked for (for a GET) once signed in.
func (s *Server) requireSignIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !signedIn(c) {
			target := "/login"
			if r := c.Request(); r.Method == http.MethodGet || r.Method == http.MethodHead {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			return redirectSeeOther(c, target)
		}
		if len(userMemberships(c)) == 0 {
			return store.Errorf(store.EFORBIDDEN, "Your user belongs to no account yet. Ask an admin of your account to add you.")
		}
		return next(c)
	}
}

// requireAdmin lets a request through only from an admin of the current
// account; a viewer gets 403. It goes after requireSignIn on the routes that pay,
// renew or change anything else of an account.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if m := currentMembership(c); !m.IsAdmin() {
			return store.Errorf(store.EFORBIDDEN, "Only an admin of %s may do this; you are a viewer.", m.Account.Name)
		}
		return next(c)
	}
}
