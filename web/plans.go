package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/views"
)

// listPlans shows the billing plans of the current account. Until the plan
// list is built it is a placeholder in the console layout.
func (s *Server) listPlans(c echo.Context) error {
	p := s.page(c, "Billing plans", views.NavPlans)
	return s.render(c, http.StatusOK, views.Placeholder(p, "The billing plans of "+currentAccount(c).Name+" will be listed here."))
}
