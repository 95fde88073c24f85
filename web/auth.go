package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
	"github.com/billingplans/billingplans/views"
)

// homePath is where a sign-in leads when it was not asked for another page.
const homePath = "/billing/plans"

// loginForm shows the sign-in form; a signed-in user goes on to next.
func (s *Server) loginForm(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if signedIn(c) {
		return redirectSeeOther(c, next)
	}
	m := views.LoginPage{Next: next, CSRF: csrfToken(c), Flash: s.takeFlash(c)}
	return s.render(c, http.StatusOK, views.Login(m))
}

// login signs a user in with email and password: a new session, whatever the
// browser had before, then on to next. Wrong credentials show the form again
// with 422, the same message for an unknown email and a wrong password; too many
// attempts from one address or for one email show it with 429 and Retry-After.
func (s *Server) login(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	m := views.LoginPage{Email: email, Next: safeNext(c.FormValue("next")), CSRF: csrfToken(c)}
	if email == "" || password == "" {
		m.Error = "Enter your email and password."
		return s.render(c, http.StatusUnprocessableEntity, views.Login(m))
	}

	ip := c.RealIP()
	keys := signInLimitKeys(ip, email)
	if wait, ok := s.limiter.reserve(s.DB.Now(), keys...); !ok {
		seconds := int(math.Ceil(wait.Seconds()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(seconds))
		m.Error = fmt.Sprintf("Too many sign-in attempts. Please try again in %s.", waitText(wait))
		return s.render(c, http.StatusTooManyRequests, views.Login(m))
	}
	_, token, err := s.signIn(c.Request().Context(), email, password, ip)
	if store.ErrorCode(err) == store.EUNAUTHORIZED {
		m.Error = store.ErrorMessage(err)
		return s.render(c, http.StatusUnprocessableEntity, views.Login(m))
	} else if err != nil {
		return err
	}
	s.limiter.succeed(keys...)

	sess := s.cookieSession(c)
	if old, _ := sess.Values[sessionTokenKey].(string); old != "" {
		if err := s.DB.EndSession(c.Request().Context(), old); err != nil {
			return err
		}
	}
	// Nothing of the session before the sign-in carries over.
	for k := range sess.Values {
		delete(sess.Values, k)
	}
	sess.Values[sessionTokenKey] = token
	if err := s.saveSession(c, sess); err != nil {
		return err
	}
	return redirectSeeOther(c, m.Next)
}

// signIn checks the password with at most s.hashing sign-ins at once: argon2id
// is made to be slow and to use memory, and a burst of sign-ins must leave
// cores for everybody else's pages.
func (s *Server) signIn(ctx context.Context, email, password, ip string) (store.User, string, error) {
	select {
	case s.hashing <- struct{}{}:
		defer func() { <-s.hashing }()
	case <-ctx.Done():
		return store.User{}, "", ctx.Err()
	}
	return s.DB.SignIn(ctx, email, password, ip)
}

// logout ends the session on the server, so that its cookie, wherever a copy
// of it is, signs nobody in any more.
func (s *Server) logout(c echo.Context) error {
	sess := s.cookieSession(c)
	if token, _ := sess.Values[sessionTokenKey].(string); token != "" {
		if err := s.DB.SignOut(c.Request().Context(), token, c.RealIP()); err != nil {
			return err
		}
	}
	for k := range sess.Values {
		delete(sess.Values, k)
	}
	if err := s.setFlash(c, "You have signed out."); err != nil {
		return err
	}
	return redirectSeeOther(c, "/login")
}

// switchAccount makes the account with the posted code the current one, when
// the user belongs to it; any other code is not found, like a missing one.
func (s *Server) switchAccount(c echo.Context) error {
	ctx := c.Request().Context()
	user, from := currentUser(c), currentMembership(c)
	to, err := s.DB.FindMembership(ctx, user.ID, strings.TrimSpace(c.FormValue("account")))
	if err != nil {
		return err
	}
	err = s.DB.Audit(ctx, store.AuditEntry{
		AccountID: to.Account.ID, Actor: user.Email, Action: store.AuditSwitchAccount,
		Before: from.Account.Code, After: to.Account.Code, IP: c.RealIP(),
	})
	if err != nil {
		return err
	}
	sess := s.cookieSession(c)
	sess.Values[sessionAccountKey] = to.Account.Code
	if err := s.setFlash(c, fmt.Sprintf("You are now working in %s.", to.Account.Name)); err != nil {
		return err
	}
	return redirectSeeOther(c, safeNext(c.FormValue("next")))
}

// safeNext returns next when it is a path of this app, homePath otherwise, so
// that a link to the sign-in page can never send someone to another site. A
// path of this app starts with one slash: "//host" and "/\host" name another
// host to browsers, and they drop tabs and newlines before reading a URL.
func safeNext(next string) string {
	if next == "" || len(next) > 2000 || next[0] != '/' {
		return homePath
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return homePath
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return homePath
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return homePath
	}
	return next
}

// waitText says how long a wait is, in whole seconds or minutes.
func waitText(d time.Duration) string {
	if d <= time.Minute {
		n := int(math.Ceil(d.Seconds()))
		if n == 1 {
			return "1 second"
		}
		return fmt.Sprintf("%d seconds", n)
	}
	n := int(math.Ceil(d.Minutes()))
	return fmt.Sprintf("%d minutes", n)
}
