package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
	"github.com/billingplans/billingplans/views"
)

// renewForm shows the Renew billing plan page of a plan of the current
// account: the term (?term=, else the plan's default), the new period and the
// default price for it, and a confirm form with a new one-time key. A term that
// is not offered is answered with 422 and the default term's preview.
func (s *Server) renewForm(c echo.Context) error {
	acct := currentAccount(c)
	p, err := s.DB.FindPlan(c.Request().Context(), acct.ID, c.Param("code"))
	if err != nil {
		return err
	}
	term, errs, status := p.DefaultRenewalTerm(), views.FormErrors{}, http.StatusOK
	if q := c.QueryParam("term"); q != "" {
		if t, err := store.ParseRenewalTerm(q); err != nil {
			errs["term"], status = store.ErrorMessage(err), http.StatusUnprocessableEntity
		} else {
			term = t
		}
	}
	key, err := store.NewIdempotencyKey()
	if err != nil {
		return err
	}
	form := views.RenewForm{Price: p.RenewalPrice(term).Plain(), Key: key}
	return s.render(c, status, views.Renew(s.renewPage(c, p, term, form, errs)))
}

// renew carries out the Renew form, then leads to the plan's page with a flash
// message that says what changed. A form that cannot be carried out is shown
// again with 422, the price typed, and a message beside the field; a plan that
// has not started yet gets a message that says so. The same form sent twice
// renews once and leads to the first result.
func (s *Server) renew(c echo.Context) error {
	ctx := c.Request().Context()
	acct := currentAccount(c)
	p, err := s.DB.FindPlan(ctx, acct.ID, c.Param("code"))
	if err != nil {
		return err
	}
	form := views.RenewForm{Price: strings.TrimSpace(c.FormValue("price")), Key: c.FormValue("idempotency_key")}
	errs := views.FormErrors{}
	term, err := store.ParseRenewalTerm(c.FormValue("term"))
	if err != nil {
		errs["term"], term = store.ErrorMessage(err), p.DefaultRenewalTerm()
	}
	price, err := store.ParseMoney(form.Price, acct.Currency)
	if form.Price == "" {
		errs["price"] = "Enter the price of the renewal."
	} else if err != nil {
		errs["price"] = store.ErrorMessage(err)
	}
	if len(errs) == 0 {
		res, err := s.DB.Renew(ctx, store.RenewRequest{
			AccountID: acct.ID, PlanCode: p.Code, Months: term, Price: price,
			IdempotencyKey: form.Key, Actor: currentUser(c).Email, IP: c.RealIP(),
		})
		if err == nil {
			if err := s.setFlash(c, renewFlash(res.Renewal)); err != nil {
				return err
			}
			return redirectSeeOther(c, actionPlanPath(res.Renewal.PlanCode))
		}
		field, msg, ok := actionFieldError(err)
		if !ok {
			return err
		}
		errs[field] = msg
	}
	if store.CheckIdempotencyKey(form.Key) != nil {
		if form.Key, err = store.NewIdempotencyKey(); err != nil {
			return err
		}
	}
	return s.render(c, http.StatusUnprocessableEntity, views.Renew(s.renewPage(c, p, term, form, errs)))
}

// renewPage builds the view model of the Renew page of plan p for a term.
func (s *Server) renewPage(c echo.Context, p store.Plan, term int, form views.RenewForm, errs views.FormErrors) views.RenewPage {
	today := currentAccount(c).Today(s.DB.Now())
	start, end := p.RenewalPeriod(today, term)
	m := views.RenewPage{
		Page:         s.page(c, "Renew billing plan", views.NavPlans),
		Plan:         actionPlan(p, today),
		Due:          p.AmountDue(),
		Terms:        store.RenewalTerms,
		Term:         term,
		NewStart:     start,
		NewEnd:       end,
		MonthlyRate:  p.MonthlyRate(),
		DefaultPrice: p.RenewalPrice(term),
		Form:         form,
		Errors:       errs,
		Blocked:      errs["plan"],
	}
	if err := p.CheckRenewable(today); err != nil && m.Blocked == "" {
		m.Blocked = store.ErrorMessage(err)
	}
	return m
}

// renewFlash is the message after a renewal: the term, the new end date, and
// what was added to the plan amount.
func renewFlash(r store.Renewal) string {
	added := views.Money(r.Price) + " added to the plan amount."
	if r.Price.IsZero() {
		added = "Nothing added to the plan amount."
	}
	return fmt.Sprintf("Renewed %s for %s: now ends %s. %s", r.PlanCode, views.TermText(r.TermMonths), views.Date(r.NewEndDate), added)
}
