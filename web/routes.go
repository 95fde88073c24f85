package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// routes lists every route of the console in one place.
func (s *Server) routes() {
	e := s.Echo
	e.GET("/healthz", s.healthz)
	e.GET("/", s.home)
}

// healthz answers 200 "ok" when the database answers a query.
func (s *Server) healthz(c echo.Context) error {
	if err := s.DB.Ping(c.Request().Context()); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unavailable\n")
	}
	return c.String(http.StatusOK, "ok\n")
}

// home is a plain page until the plan list arrives.
func (s *Server) home(c echo.Context) error {
	return c.HTML(http.StatusOK, "<!doctype html><title>Billing plans</title><h1>Billing plans</h1>")
}
