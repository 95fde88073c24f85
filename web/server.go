// Package web is the HTTP side of billingplans: the Echo server, its routes,
// middleware, sessions and the handlers that turn requests into store calls and
// templ views.
package web

import (
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
)

// Config is what the server needs from the command line and environment.
type Config struct {
	// Addr is the address the server listens on, for messages and cookie defaults.
	Addr string
	// SecureCookies marks the session cookie Secure and sends HSTS (HTTPS deployments).
	SecureCookies bool
	// Logger receives request errors; nil means slog.Default().
	Logger *slog.Logger
}

// Server is the billing console: an Echo instance wired to the store.
type Server struct {
	Echo *echo.Echo
	DB   *store.DB
	cfg  Config
	log  *slog.Logger
}

// New returns a server with every route registered. It returns an error when the
// configuration cannot be used.
func New(db *store.DB, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	s := &Server{Echo: e, DB: db, cfg: cfg, log: cfg.Logger}
	s.routes()
	return s, nil
}
