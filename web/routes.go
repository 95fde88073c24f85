package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/billingplans/billingplans/static"
)

// routes lists every route of the console in one place.
//
// Every response gets the security headers; every request but the API's has a
// 1 MB body limit and CSRF protection, and finds its signed-in user through the
// session cookie. Pages take s.requireSignIn; routes that pay, renew or
// otherwise change an account take s.requireAdmin after it.
//
// The usage API (/api/v1/...) is skipped by the body limit and by CSRF: it is
// authenticated by API key (store.AuthenticateAPIKey), never by cookie, and its
// group must add its own, larger middleware.BodyLimit for batches of events.
func (s *Server) routes() {
	e := s.Echo
	e.Use(
		s.securityHeaders,
		middleware.Recover(),
		s.bodyLimit(),
		s.csrf(),
		s.loadSession,
	)
	// Pages take signedIn; routes that pay or renew take both, as in
	// e.POST("/billing/plans/:code/pay", s.pay, signedIn, s.requireAdmin).
	signedIn := s.requireSignIn

	e.GET("/healthz", s.healthz)
	e.GET(static.Prefix+"*", s.static)

	e.GET("/login", s.loginForm)
	e.POST("/login", s.login)
	e.POST("/logout", s.logout)

	e.GET("/", s.home, signedIn)
	e.POST("/account", s.switchAccount, signedIn)
	e.GET("/billing/plans", s.listPlans, signedIn)
	e.GET("/billing/plans/:code", s.showPlan, signedIn)
	e.GET("/billing/plans.csv", s.exportPlansCSV, signedIn)
	e.GET("/billing", s.overview, signedIn)
	e.GET(creditHistoryPath, s.creditHistory, signedIn)
	e.GET(creditHistoryCSVPath, s.exportCreditHistoryCSV, signedIn)

	// The usage API: an API key instead of a session, and its own body limit.
	api := e.Group("/api/v1", s.requireAPIKey, middleware.BodyLimit(apiBodyLimit))
	api.POST("/usage", s.postUsage)
	e.GET("/billing/plans/:code/pay", s.payForm, signedIn, s.requireAdmin)
	e.POST("/billing/plans/:code/pay", s.pay, signedIn, s.requireAdmin)
	e.GET("/billing/plans/:code/renew", s.renewForm, signedIn, s.requireAdmin)
	e.POST("/billing/plans/:code/renew", s.renew, signedIn, s.requireAdmin)
}

// healthz answers 200 "ok" when the database answers a query.
func (s *Server) healthz(c echo.Context) error {
	if err := s.DB.Ping(c.Request().Context()); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unavailable\n")
	}
	return c.String(http.StatusOK, "ok\n")
}

// home leads to the plan list.
func (s *Server) home(c echo.Context) error {
	return redirectSeeOther(c, homePath)
}

// static serves the embedded CSS, JavaScript and icons under fingerprinted names.
func (s *Server) static(c echo.Context) error {
	if !static.Serve(c.Response(), c.Request(), c.Param("*")) {
		return echo.ErrNotFound
	}
	return nil
}
