package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
	"github.com/billingplans/billingplans/views"
)

// paymentGateway returns the gateway that charges online payments. The console
// ships with the sandbox (store.SandboxGateway, test cards in docs/actions.md);
// a real provider implements store.PaymentGateway and is chosen here, through
// the server's configuration.
func (s *Server) paymentGateway() store.PaymentGateway {
	if s.cfg.PaymentGateway != nil {
		return s.cfg.PaymentGateway
	}
	return store.SandboxGateway{}
}

// payForm shows the Pay now page of a plan of the current account: the amount
// due, the pending bank transfers, and a form with a new one-time key, its
// amount set to all that is left to pay and its method to the plan's own.
func (s *Server) payForm(c echo.Context) error {
	payable, err := s.DB.FindPayable(c.Request().Context(), currentAccount(c).ID, c.Param("code"))
	if err != nil {
		return err
	}
	key, err := store.NewIdempotencyKey()
	if err != nil {
		return err
	}
	form := views.PayForm{Amount: payable.Left().Plain(), Method: string(payable.Plan.PaymentMethod), Key: key}
	return s.render(c, http.StatusOK, views.Pay(s.payPage(c, payable, form, nil)))
}

// pay carries out the Pay now form, then leads to the plan's page with a flash
// message that names the amount and the new payment status. A form that cannot
// be paid is shown again with 422, what the user typed, and a message beside
// the field. The same form sent twice leads to the first result.
func (s *Server) pay(c echo.Context) error {
	ctx := c.Request().Context()
	acct := currentAccount(c)
	code := c.Param("code")
	form := views.PayForm{
		Amount: strings.TrimSpace(c.FormValue("amount")),
		Method: strings.TrimSpace(c.FormValue("method")),
		Card:   strings.TrimSpace(c.FormValue("card")),
		Key:    c.FormValue("idempotency_key"),
	}
	errs := views.FormErrors{}
	amount, err := store.ParseMoney(form.Amount, acct.Currency)
	if form.Amount == "" {
		errs["amount"] = "Enter the amount to pay."
	} else if err != nil {
		errs["amount"] = store.ErrorMessage(err)
	}
	method, err := store.ParsePaymentMethod(form.Method)
	if err != nil {
		errs["method"] = store.ErrorMessage(err)
	}
	if len(errs) == 0 {
		res, err := s.DB.Pay(ctx, s.paymentGateway(), store.PayRequest{
			AccountID: acct.ID, PlanCode: code, Amount: amount, Method: method, CardNumber: form.Card,
			IdempotencyKey: form.Key, Actor: currentUser(c).Email, IP: c.RealIP(),
		})
		if err == nil {
			if err := s.setFlash(c, payFlash(res, acct.Today(s.DB.Now()))); err != nil {
				return err
			}
			return redirectSeeOther(c, actionPlanPath(res.Payment.PlanCode))
		}
		field, msg, ok := actionFieldError(err)
		if !ok {
			return err
		}
		errs[field] = msg
		if errors.Is(err, store.ErrCardDeclined) {
			// Providers remember a declined key's answer: another try is another form.
			form.Key = ""
		}
	}
	if store.CheckIdempotencyKey(form.Key) != nil {
		if form.Key, err = store.NewIdempotencyKey(); err != nil {
			return err
		}
	}
	payable, err := s.DB.FindPayable(ctx, acct.ID, code)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusUnprocessableEntity, views.Pay(s.payPage(c, payable, form, errs)))
}

// payPage builds the view model of the Pay now page.
func (s *Server) payPage(c echo.Context, payable store.Payable, form views.PayForm, errs views.FormErrors) views.PayPage {
	acct := currentAccount(c)
	p := payable.Plan
	m := views.PayPage{
		Page:     s.page(c, "Pay now", views.NavPlans),
		Plan:     actionPlan(p, acct.Today(s.DB.Now())),
		Due:      p.AmountDue(),
		Pending:  payable.Pending(),
		Charging: payable.Charging,
		Left:     payable.Left(),
		Loc:      acct.Location(),
		Form:     form,
		Errors:   errs,
	}
	for _, t := range payable.PendingTransfers {
		m.PendingTransfers = append(m.PendingTransfers, views.PendingTransfer{
			Reference: t.Reference, Amount: t.Amount, CreatedAt: t.CreatedAt, CreatedBy: t.PaidBy,
		})
	}
	if _, ok := s.paymentGateway().(store.SandboxGateway); ok {
		m.Sandbox = true
		m.TestCards = []views.TestCard{
			{Number: store.SandboxCardSucceeds, Outcome: "is charged."},
			{Number: store.SandboxCardDeclined, Outcome: "is declined."},
			{Number: store.SandboxCardTimesOut, Outcome: "times out."},
		}
	}
	return m
}

// payFlash is the message after a payment: the amount, the plan's new payment
// status, and whether the payment activated the plan.
func payFlash(r store.PayResult, today store.Date) string {
	pm := r.Payment
	if pm.Method == store.BankTransfer {
		return fmt.Sprintf("Bank transfer of %s recorded for %s with reference %s: quote it on the transfer. "+
			"It counts as paid once the money arrives; until then the payment status stays %s.",
			views.Money(pm.Amount), pm.PlanCode, pm.Reference, r.PaymentStatus.Label())
	}
	msg := fmt.Sprintf("Payment of %s received for %s. Payment status: %s.", views.Money(pm.Amount), pm.PlanCode, r.PaymentStatus.Label())
	if r.Activated {
		switch {
		case r.Plan.Status(today) == store.StatusActive:
			msg += " The plan is now active."
		case today.Before(r.Plan.StartDate):
			msg += " The plan is activated: it becomes active on " + views.Date(r.Plan.StartDate) + "."
		default:
			msg += " The plan is activated."
		}
	}
	return msg
}

// actionPlan is the header of an action page about plan p on the given day.
func actionPlan(p store.Plan, today store.Date) views.ActionPlan {
	return views.ActionPlan{
		Code: p.Code, Type: p.Type, URL: actionPlanPath(p.Code),
		Status: p.Status(today), PaymentStatus: p.PaymentStatus(),
		Amount: p.Amount, PaidTotal: p.PaidTotal, StartDate: p.StartDate, EndDate: p.EndDate,
	}
}

// actionPlanPath is the path of a plan's detail page, where actions lead back to.
func actionPlanPath(code string) string { return "/billing/plans/" + url.PathEscape(code) }

// actionFieldError returns the field and message of a store error about one
// field of an action's form, and false for any other error (not found, a
// failure on our side), which the error handler answers.
func actionFieldError(err error) (field, msg string, ok bool) {
	var se *store.Error
	if errors.As(err, &se) && se.Code == store.EINVALID && se.Field != "" {
		return se.Field, se.Message, true
	}
	return "", "", false
}
