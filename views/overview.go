package views

import (
	"github.com/billingplans/billingplans/store"
)

// ConsumptionOrder explains, in plain words, the order the ledger engine draws credit in.
const ConsumptionOrder = "Usage is paid from your billing plans first (the plan that ends soonest first), " +
	"then vouchers (soonest expiry first), then top-up credit; what is left is billed pay-as-you-go."

// OverviewPage is the billing overview: the account's balances in consumption
// order with this month's spend from each, the plans and vouchers that hold
// them, and the credit at risk of ending unused.
type OverviewPage struct {
	Page  Page
	Today store.Date
	// MonthFrom is the 1st of this month: "spent this month" runs from it to Today.
	MonthFrom store.Date
	// Balances are the four credit sources, in consumption order.
	Balances []OverviewBalance
	// Plans are the first plans in use, in draw order; MorePlans counts
	// those not listed, which AllPlansURL (the plan list) shows.
	Plans       []OverviewPlan
	MorePlans   int
	AllPlansURL string
	Vouchers    []OverviewVoucher
	// AtRisk are the first of the credits at risk, soonest end first;
	// MoreAtRisk counts those not listed, and AtRiskPlansURL is the plan
	// list of the Active plans ending within AtRiskDays.
	AtRisk         []OverviewAtRisk
	MoreAtRisk     int
	AtRiskPlansURL string
	// AtRiskRemaining and AtRiskUnused are the remaining balance and the
	// forecast unused amount of every credit at risk, listed or not.
	AtRiskRemaining store.Money
	AtRiskUnused    store.Money
	// AtRiskDays is how far ahead the at-risk list looks.
	AtRiskDays int
}

// OverviewBalance is one credit source: what it holds (or, for uncovered,
// what is owed) and what consumption drew from it this month.
type OverviewBalance struct {
	Source store.CreditSource
	// Label names the balance ("Billing plans", "Uncovered (owed)"); Note says
	// what it is made of ("2 active plans").
	Label          string
	Note           string
	Balance        store.Money
	SpentThisMonth store.Money
}

// OverviewPlan is an Active plan with a balance, in draw order.
type OverviewPlan struct {
	Code      string
	URL       string
	Type      string
	EndDate   store.Date
	Remaining store.Money
}

// OverviewVoucher is a voucher valid today, in draw order.
type OverviewVoucher struct {
	Code       string
	ExpiryDate store.Date
	Remaining  store.Money
}

// OverviewAtRisk is a plan or voucher that ends soon, with what the current
// burn rate is forecast to leave unused.
type OverviewAtRisk struct {
	// Source is store.SourcePlan or store.SourceVoucher.
	Source store.CreditSource
	Code   string
	// URL is the plan's page; "" for a voucher.
	URL       string
	EndDate   store.Date
	DaysLeft  int
	Remaining store.Money
	Forecast  store.Forecast
	Unused    store.Money
}

// ForecastNote says in words what the forecast expects.
func (r OverviewAtRisk) ForecastNote() string {
	switch r.Forecast.Kind {
	case store.ForecastDepletes:
		return "Runs out on " + Date(r.Forecast.DepletesOn) + " at the current rate"
	case store.ForecastOutlastsEnd:
		return "Outlasts its end at the current rate"
	case store.ForecastNoRecentUsage:
		return "No usage in the last 7 days"
	}
	return ""
}

// balanceTestID is the data-testid of a balance: balance-plans,
// balance-vouchers, balance-topup, balance-uncovered.
func balanceTestID(s store.CreditSource) string {
	switch s {
	case store.SourcePlan:
		return "balance-plans"
	case store.SourceVoucher:
		return "balance-vouchers"
	}
	return "balance-" + string(s)
}
