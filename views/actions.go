package views

// The view models of the two actions on a plan: Pay now and Renew.

import (
	"strconv"
	"time"

	"github.com/billingplans/billingplans/store"
)

// ActionPlan is the plan an action page is about, as its header shows it.
type ActionPlan struct {
	Code string
	Type string
	// URL is the plan's detail page, where the action leads back to.
	URL           string
	Status        store.Status
	PaymentStatus store.PaymentStatus
	Amount        store.Money
	PaidTotal     store.Money
	StartDate     store.Date
	EndDate       store.Date
}

// FormErrors holds the message about each wrong field of a form, by field
// name ("amount", "method", "card", "term", "price"); "plan" and "form" are
// about the whole form.
type FormErrors map[string]string

// Has reports whether field has a message.
func (e FormErrors) Has(field string) bool { return e[field] != "" }

// PayPage is the Pay now page of one plan.
type PayPage struct {
	Page Page
	Plan ActionPlan
	// Due is the amount due: the plan amount less the paid total.
	Due store.Money
	// Pending is the sum of PendingTransfers; Charging the online payments in
	// progress. Left is what may be paid now: Due less both.
	Pending          store.Money
	Charging         store.Money
	Left             store.Money
	PendingTransfers []PendingTransfer
	// Loc is the account's time zone, for instants.
	Loc *time.Location
	// Form is what the form shows: the default amount, or what the user sent.
	Form   PayForm
	Errors FormErrors
	// Sandbox says online payments go to the sandbox gateway, so the page lists
	// its test card numbers.
	Sandbox   bool
	TestCards []TestCard
}

// PayForm is the content of the Pay now form.
type PayForm struct {
	Amount string
	Method string
	Card   string
	// Key is the form's one-time key (hidden field idempotency_key).
	Key string
}

// PendingTransfer is a bank transfer waiting for an operator's confirmation.
type PendingTransfer struct {
	Reference string
	Amount    store.Money
	CreatedAt time.Time
	CreatedBy string
}

// TestCard is a card number of the sandbox gateway and what it does.
type TestCard struct {
	Number  string
	Outcome string
}

// PaymentMethodOption is one method of the pay form's select.
type PaymentMethodOption struct {
	Value string
	Label string
}

// PaymentMethodOptions are the methods the pay form offers, in order.
func PaymentMethodOptions() []PaymentMethodOption {
	return []PaymentMethodOption{
		{Value: string(store.Online), Label: "Online (card or e-wallet)"},
		{Value: string(store.BankTransfer), Label: "Bank transfer"},
	}
}

// RenewPage is the Renew billing plan page of one plan.
type RenewPage struct {
	Page Page
	Plan ActionPlan
	// Due is the amount due now, before the renewal.
	Due store.Money
	// Terms are the terms offered, in months; Term is the one previewed.
	Terms []int
	Term  int
	// NewStart and NewEnd are the period the renewal covers.
	NewStart store.Date
	NewEnd   store.Date
	// MonthlyRate is the plan's first term amount per month; DefaultPrice is
	// it times Term.
	MonthlyRate  store.Money
	DefaultPrice store.Money
	// Form is what the confirm form shows: the default price, or what the user sent.
	Form   RenewForm
	Errors FormErrors
	// Blocked says why the plan cannot be renewed now ("" when it can): the
	// page then shows no confirm button.
	Blocked string
}

// RenewForm is the content of the Renew form.
type RenewForm struct {
	Price string
	// Key is the form's one-time key (hidden field idempotency_key).
	Key string
}

// TermText returns a term as "1 month" or "n months".
func TermText(months int) string {
	if months == 1 {
		return "1 month"
	}
	return strconv.Itoa(months) + " months"
}

// ariaInvalid returns the aria-invalid value of a field: "true" when it has a message.
func ariaInvalid(errs FormErrors, field string) string {
	if errs.Has(field) {
		return "true"
	}
	return "false"
}
