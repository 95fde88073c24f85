// Package web is the HTTP side of billingplans: the Echo server, its routes,
// middleware, sessions and the handlers that turn requests into store calls and
// templ views.
package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
	"github.com/billingplans/billingplans/store/cache"
	"github.com/billingplans/billingplans/views"
)

// Config is what the server needs from the command line and environment.
type Config struct {
	// Addr is the address the server listens on, for messages and cookie defaults.
	Addr string
	// SecureCookies marks the session cookie Secure and sends HSTS (HTTPS deployments).
	SecureCookies bool
	// SessionKeys sign and encrypt the session cookie, each at least
	// MinSessionKeyLength bytes; the first is used for new cookies. When there
	// are none, New makes a random one that lasts until the process ends.
	SessionKeys []string
	// TrustedProxies are the networks (CIDR) of reverse proxies whose
	// X-Forwarded-For names the client. Without them the client is the
	// connection's peer, and forwarding headers are ignored.
	TrustedProxies []string
	// Logger receives request errors; nil means slog.Default().
	Logger *slog.Logger
	// PaymentGateway charges online payments; nil means the sandbox
	// (store.SandboxGateway), where no money moves and the pay page says so.
	PaymentGateway store.PaymentGateway
}

// Server is the billing console: an Echo instance wired to the store.
type Server struct {
	Echo *echo.Echo
	DB   *store.DB
	cfg  Config
	log  *slog.Logger

	cookies    *sessions.CookieStore
	cookieName string
	// limiter counts sign-in attempts per client address and per email.
	limiter *limiter
	// hashing bounds the password checks that run at once.
	hashing chan struct{}
	// planRows keeps the plan list's rows written out (see listPlans).
	planRows *cache.Versioned[planRowsKey, views.Prerendered]
	// planCharts keeps the plan pages' charts written out (see planChart).
	planCharts *cache.Versioned[planChartKey, views.Prerendered]
}

// New returns a server with every route registered. It returns an error when the
// configuration cannot be used: a session key too short, a proxy network that
// does not parse.
func New(db *store.DB, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if len(cfg.SessionKeys) == 0 {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("web: session key: %w", err)
		}
		cfg.SessionKeys = []string{hex.EncodeToString(b)}
		cfg.Logger.Warn("no session keys configured: sign-ins last until the server stops")
	}
	cookies, err := newCookieStore(cfg.SessionKeys, cfg.SecureCookies)
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	if e.IPExtractor, err = ipExtractor(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	s := &Server{
		Echo: e, DB: db, cfg: cfg, log: cfg.Logger,
		cookies: cookies, cookieName: sessionCookieName(cfg.SecureCookies),
		limiter:    newLimiter(5, time.Minute),
		hashing:    make(chan struct{}, max(1, runtime.NumCPU())),
		planRows:   cache.New[planRowsKey, views.Prerendered](planRowsCacheSize),
		planCharts: cache.New[planChartKey, views.Prerendered](planChartsCacheSize),
	}
	e.HTTPErrorHandler = s.handleError
	s.routes()
	return s, nil
}

// ipExtractor returns how the client's address is found: the connection's
// peer, or with trusted proxies the X-Forwarded-For entry they vouch for.
func ipExtractor(proxies []string) (echo.IPExtractor, error) {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect(), nil
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("web: trusted proxy %q: %w", p, err)
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}
