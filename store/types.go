package store

import (
	"time"

	"github.com/shopspring/decimal"
)

// Role is what a member may do in an account.
type Role string

// The roles of a membership: an admin may pay and renew, a viewer only looks.
const (
	RoleAdmin  Role = "admin"
	RoleViewer Role = "viewer"
)

// Account is a customer of the cloud (a company or team) that owns plans,
// vouchers and top-up credit, and bills in one currency.
type Account struct {
	ID       int64
	Code     string
	Name     string
	Currency Currency
	// TimeZone is the IANA name of the zone the account's dates are in.
	TimeZone string
	// TopupBalance is the prepaid pay-as-you-go credit left.
	TopupBalance Money
	// Uncovered is the usage no credit covered: owed, pay-as-you-go.
	Uncovered Money
}

// Location returns the account's time zone, or Asia/Ho_Chi_Minh when its name is
// unknown to this machine.
func (a Account) Location() *time.Location {
	return LoadLocation(a.TimeZone)
}

// Today returns the calendar date at instant now in the account's time zone.
func (a Account) Today(now time.Time) Date { return DateOf(now, a.Location()) }

// User is a person who signs in.
type User struct {
	ID           int64
	Email        string
	Name         string
	PasswordHash string
	CreatedAt    time.Time
}

// Membership is a user's role in one account.
type Membership struct {
	Account Account
	Role    Role
}

// Service is a billable product of the catalog.
type Service struct {
	ID   int64
	Code string
	Name string
	// Unit is what a quantity of the service counts: hour, token, GB-month.
	Unit string
}

// PaymentOption says how much of a plan must be paid before it is used.
type PaymentOption string

// The payment options of a plan.
const (
	AllUpfront     PaymentOption = "all_upfront"
	PartialUpfront PaymentOption = "partial_upfront"
	Postpaid       PaymentOption = "postpaid"
)

// PaymentMethod is how money reaches us.
type PaymentMethod string

// The payment methods: online (card or e-wallet) and bank transfer.
const (
	Online       PaymentMethod = "online"
	BankTransfer PaymentMethod = "bank_transfer"
)

// Plan is a billing plan: prepaid credit for chosen services over a fixed period.
type Plan struct {
	ID        int64
	AccountID int64
	Code      string
	Type      string
	// StartDate and EndDate are inclusive calendar dates in the account's time zone.
	StartDate Date
	EndDate   Date
	// FirstTermMonths and FirstTermAmount are the first term's length and price,
	// the base of a renewal's default price.
	FirstTermMonths int
	FirstTermAmount Money
	Amount          Money
	Region          string
	PaymentOption   PaymentOption
	UpfrontAmount   Money
	PaymentMethod   PaymentMethod
	CreatedAt       time.Time
	CreatedBy       string
	Suspended       bool
	// ActivatedAt is when the money received first reached what the payment
	// option requires; nil until then.
	ActivatedAt *time.Time
	// PaidTotal is the sum of the plan's completed payments.
	PaidTotal Money
	// PaidUpfront is what was received before the start date.
	PaidUpfront Money
	// Consumed is the sum of the plan's consumption lines.
	Consumed Money
	// DepletedAt is when consumption reached the plan amount; nil while a balance is left.
	DepletedAt *time.Time
	// Services are the services the plan covers, in name order. Lists may leave them out.
	Services []PlanService
}

// PlanService is one service a plan covers, with its price fixed at purchase
// and the plan's usage of it so far.
type PlanService struct {
	Service     Service
	PackageCode string
	PackageName string
	// PricePerUnit is exact, with all its digits.
	PricePerUnit decimal.Decimal
	// Volume is the units consumed from the plan.
	Volume decimal.Decimal
	// Spent is the sum of the plan's consumption lines of this service.
	Spent Money
}

// Voucher is promotional credit of an account.
type Voucher struct {
	ID            int64
	AccountID     int64
	Code          string
	Amount        Money
	Remaining     Money
	EffectiveDate Date
	ExpiryDate    Date
	// ServiceIDs lists the services the voucher is limited to; empty means all.
	ServiceIDs []int64
}

// CreditSource is where a consumption line draws from, in consumption order.
type CreditSource string

// The credit sources, in the order the ledger engine draws from them.
const (
	SourcePlan      CreditSource = "plan"
	SourceVoucher   CreditSource = "voucher"
	SourceTopup     CreditSource = "topup"
	SourceUncovered CreditSource = "uncovered"
)

// CreditSources lists the sources in consumption order.
var CreditSources = []CreditSource{SourcePlan, SourceVoucher, SourceTopup, SourceUncovered}

// Label returns the source as the pages name it.
func (s CreditSource) Label() string {
	switch s {
	case SourcePlan:
		return "Billing plan"
	case SourceVoucher:
		return "Voucher"
	case SourceTopup:
		return "Top-up"
	case SourceUncovered:
		return "Uncovered"
	}
	return string(s)
}

// UsageEvent is an amount of a service used by an account at an instant, as the
// cloud's metering reports it. ID is the producer's id: the same id twice is one event.
type UsageEvent struct {
	ID          string
	AccountCode string
	ServiceCode string
	Quantity    decimal.Decimal
	At          time.Time
}

// Consumption is one line of the credit ledger.
type Consumption struct {
	ID        int64
	AccountID int64
	EventID   int64
	ServiceID int64
	Source    CreditSource
	PlanID    int64
	VoucherID int64
	Quantity  decimal.Decimal
	UnitPrice decimal.Decimal
	Amount    Money
	At        time.Time
	Day       Date
}

// LoadLocation returns the named time zone, or Asia/Ho_Chi_Minh (the default
// zone of accounts) when the name is unknown.
func LoadLocation(name string) *time.Location {
	// time.LoadLocation takes "" for UTC and "Local" for this machine's zone;
	// neither is a zone an account can be in.
	if name == "" || name == "Local" {
		name = DefaultTimeZone
	}
	if loc, err := loadLocation(name); err == nil {
		return loc
	}
	loc, _ := loadLocation(DefaultTimeZone)
	return loc
}

// DefaultTimeZone is the time zone of an account that names none.
const DefaultTimeZone = "Asia/Ho_Chi_Minh"
