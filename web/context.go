package web

import (
	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
)

// Values the middleware puts in the request context, read back through the
// typed getters below and nowhere else.
const (
	authContextKey = "billingplans.auth"
	csrfContextKey = "billingplans.csrf"
)

// requestAuth is who is signed in on a request, set by loadSession.
type requestAuth struct {
	// token is the session's token from the cookie.
	token       string
	user        store.User
	memberships []store.Membership
	// current is the membership of the account the user works in now.
	current store.Membership
}

func authOf(c echo.Context) *requestAuth {
	a, _ := c.Get(authContextKey).(*requestAuth)
	return a
}

// signedIn reports whether the request comes from a signed-in user.
func signedIn(c echo.Context) bool { return authOf(c) != nil }

// currentUser returns the signed-in user, or the zero User when nobody is
// signed in (requireSignIn keeps that from reaching a handler).
func currentUser(c echo.Context) store.User {
	if a := authOf(c); a != nil {
		return a.user
	}
	return store.User{}
}

// currentMembership returns the current account with the user's role in it: the
// account every query of the request is scoped to. It is the zero Membership
// when nobody is signed in.
func currentMembership(c echo.Context) store.Membership {
	if a := authOf(c); a != nil {
		return a.current
	}
	return store.Membership{}
}

// currentAccount returns the account of currentMembership.
func currentAccount(c echo.Context) store.Account { return currentMembership(c).Account }

// userMemberships returns every account the signed-in user belongs to, in name order.
func userMemberships(c echo.Context) []store.Membership {
	if a := authOf(c); a != nil {
		return a.memberships
	}
	return nil
}

// csrfToken returns the token forms send back as _csrf, or "" on requests the
// CSRF middleware skips.
func csrfToken(c echo.Context) string {
	t, _ := c.Get(csrfContextKey).(string)
	return t
}
