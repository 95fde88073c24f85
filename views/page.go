// Package views holds the console's templ components and the view models they
// take. Handlers build the models; components only format them. Nothing here
// queries or does I/O.
package views

// The sections of the sidebar, as Page.Nav names them.
const (
	NavPlans         = "plans"
	NavCreditHistory = "credit-history"
	NavOverview      = "overview"
)

// Page is what the console layout shows around every page: the title, the
// sidebar's current section, the signed-in user, the account switcher, the CSRF
// token for forms, and a one-shot flash message.
type Page struct {
	// Title is the page's heading and the first part of the window title.
	Title string
	// Nav is the sidebar section the page belongs to: NavPlans, NavCreditHistory, NavOverview.
	Nav string
	// User is the signed-in user's name.
	User string
	// Accounts are the accounts the user belongs to, for the switcher.
	Accounts []AccountOption
	// CurrentAccount is the account every figure on the page belongs to.
	CurrentAccount AccountOption
	// IsAdmin says the user may pay and renew in CurrentAccount; pages hide
	// those buttons from viewers (the server refuses them either way).
	IsAdmin bool
	// CSRF is the token every form that changes something sends as _csrf.
	CSRF string
	// Flash is the message left by the previous action ("Payment recorded."), or "".
	Flash string
}

// AccountOption is one account of the switcher.
type AccountOption struct {
	Code string
	Name string
	// Role is admin or viewer.
	Role string
}

// SectionPath returns the path of the sidebar section of the page, where the
// account switcher leads back to: a page of one plan does not exist in another
// account, its section does.
func (p Page) SectionPath() string {
	switch p.Nav {
	case NavCreditHistory:
		return "/billing/credit-history"
	case NavOverview:
		return "/billing"
	}
	return "/billing/plans"
}

// LoginPage is the sign-in form.
type LoginPage struct {
	// Email is what the user typed, kept when the form is shown again.
	Email string
	// Next is where a successful sign-in leads (already checked to stay in the app).
	Next  string
	CSRF  string
	Error string
	Flash string
}

// ErrorPage is a page that says a request failed and why.
type ErrorPage struct {
	// Page is the layout's model; when Page.User is "" (nobody signed in), the
	// error is shown on its own, without the console around it.
	Page    Page
	Status  int
	Message string
}
