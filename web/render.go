package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
	"github.com/billingplans/billingplans/store/cache"
	"github.com/billingplans/billingplans/views"
)

// render writes component as an HTML page with status. The component renders
// into a buffer first, so a failure half-way returns an error (and the error
// page) instead of sending half a page. Pages carry account data, so no cache
// may keep them.
func (s *Server) render(c echo.Context, status int, component templ.Component) error {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer func() {
		// A buffer that grew for an unusually large page is let go, so the
		// pool does not keep megabytes per goroutine.
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			renderBuffers.Put(buf)
		}
	}()
	if err := component.Render(c.Request().Context(), buf); err != nil {
		return fmt.Errorf("web: render %s: %w", c.Path(), err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// prerendered returns the HTML kept in c under key for version, or writes out
// the component build returns, keeps it and returns it. It returns an error
// when the component fails to render.
func prerendered[K comparable](ctx context.Context, c *cache.Versioned[K, views.Prerendered], key K, version int64, build func() templ.Component) (views.Prerendered, error) {
	if html, ok := c.Get(key, version); ok {
		return html, nil
	}
	html, err := views.Prerender(ctx, build())
	if err != nil {
		return views.Prerendered{}, fmt.Errorf("web: prerender: %w", err)
	}
	c.Put(key, version, html)
	return html, nil
}

// renderBuffers reuses the buffers pages are rendered into: a page is written
// out before its buffer returns to the pool.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// page returns the layout's view model for a page titled title in sidebar
// section nav (views.NavPlans, ...): the user, their accounts, the CSRF token,
// and the flash message, which it takes out of the session.
func (s *Server) page(c echo.Context, title, nav string) views.Page {
	p := views.Page{Title: title, Nav: nav, CSRF: csrfToken(c), Flash: s.takeFlash(c)}
	if a := authOf(c); a != nil {
		p.User = a.user.Name
		for _, m := range a.memberships {
			p.Accounts = append(p.Accounts, accountOption(m))
		}
		p.CurrentAccount = accountOption(a.current)
		p.IsAdmin = a.current.IsAdmin()
	}
	return p
}

func accountOption(m store.Membership) views.AccountOption {
	return views.AccountOption{Code: m.Account.Code, Name: m.Account.Name, Role: string(m.Role)}
}

// redirectSeeOther answers a form with a redirect to a page (POST, redirect, GET).
func redirectSeeOther(c echo.Context, path string) error {
	return c.Redirect(http.StatusSeeOther, path)
}
