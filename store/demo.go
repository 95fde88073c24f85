package store

// Demo data: a GPU cloud's catalogue, accounts in each currency, plans in every
// combination of status, payment status and payment option, vouchers, top-ups,
// and months of usage applied through the ledger engine, so that every figure
// on every page is real. The same seed and day give the same data.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// DemoOptions sizes the demo data.
type DemoOptions struct {
	// Seed makes the data reproducible: the same seed and Today give the same data.
	Seed uint64
	// Accounts is how many accounts to make (the first three are VND, USD and JPY).
	Accounts int
	// Plans is how many plans each account gets (at least the 12 showcase plans).
	Plans int
	// Days is how many days of usage, ending today, to generate.
	Days int
	// Today is the day the data is built around, in each account's time zone.
	Today Date
}

// DemoLogin is a user the demo data creates, with the password to sign in with.
type DemoLogin struct {
	Email, Password, Role string
}

// DemoLogins are the demo users: an admin of every demo account and a viewer.
var DemoLogins = []DemoLogin{
	{Email: "admin@demo.test", Password: "demo-admin-2026", Role: "admin"},
	{Email: "viewer@demo.test", Password: "demo-viewer-2026", Role: "viewer"},
}

// demoService is a catalogue entry: list prices per currency (per unit).
type demoService struct {
	code, name, unit string
	list             [3]string // VND, USD, JPY
	packages         []demoPackage
}

type demoPackage struct {
	code, name string
	prices     [3]string
}

var demoCurrencies = [3]Currency{VND, USD, JPY}

// demoCatalogue is priced like a GPU cloud's: hours for GPUs, notebooks and
// fine-tuning; tokens for inference (the prices are per token: a 1M-token price
// divided by a million); GB-months for storage.
var demoCatalogue = []demoService{
	{"gpu-h100-container", "GPU Container H100", "hour", [3]string{"65000", "2.54", "380"}, []demoPackage{
		{"h100-container-commit-3m", "H100 container, 3-month commitment", [3]string{"52000", "2.03", "305"}},
		{"h100-container-commit-12m", "H100 container, 12-month commitment", [3]string{"45500", "1.78", "266"}},
	}},
	{"gpu-h200-container", "GPU Container H200", "hour", [3]string{"89000", "3.48", "520"}, []demoPackage{
		{"h200-container-commit-3m", "H200 container, 3-month commitment", [3]string{"72000", "2.82", "421"}},
	}},
	{"gpu-h100-vm", "GPU Virtual Machine H100", "hour", [3]string{"70000", "2.74", "410"}, []demoPackage{
		{"h100-vm-commit-6m", "H100 VM, 6-month commitment", [3]string{"56000", "2.19", "328"}},
	}},
	{"gpu-h200-vm", "GPU Virtual Machine H200", "hour", [3]string{"95000", "3.72", "556"}, []demoPackage{
		{"h200-vm-commit-6m", "H200 VM, 6-month commitment", [3]string{"76000", "2.98", "445"}},
	}},
	{"inference-llama-3-70b", "Model inference Llama 3.3 70B", "token", [3]string{"0.0225", "0.00000088", "0.000132"}, []demoPackage{
		{"llama-70b-token-pack", "Llama 70B token pack", [3]string{"0.018", "0.0000007", "0.000105"}},
	}},
	{"inference-deepseek-r1", "Model inference DeepSeek R1", "token", [3]string{"0.055", "0.00000219", "0.000321"}, []demoPackage{
		{"deepseek-r1-token-pack", "DeepSeek R1 token pack", [3]string{"0.044", "0.00000175", "0.000257"}},
	}},
	{"inference-qwen-2-5-32b", "Model inference Qwen 2.5 32B", "token", [3]string{"0.0125", "0.0000005", "0.0000735"}, []demoPackage{
		{"qwen-32b-token-pack", "Qwen 32B token pack", [3]string{"0.01", "0.0000004", "0.0000588"}},
	}},
	{"fine-tuning-h100", "Fine-tuning H100", "hour", [3]string{"78000", "3.05", "456"}, []demoPackage{
		{"fine-tuning-h100-standard", "Fine-tuning H100, standard", [3]string{"66000", "2.59", "387"}},
	}},
	{"notebook-standard", "AI Notebook", "hour", [3]string{"12000", "0.47", "70"}, []demoPackage{
		{"notebook-standard-monthly", "Notebook, monthly bundle", [3]string{"9600", "0.38", "56"}},
	}},
	{"object-storage", "Object Storage", "GB-month", [3]string{"550", "0.022", "3.2"}, []demoPackage{
		{"object-storage-tb-pack", "Object storage TB pack", [3]string{"450", "0.018", "2.6"}},
	}},
}

var demoAccounts = []struct {
	code, name, tz string
}{
	{"acme", "Acme AI", "Asia/Ho_Chi_Minh"},
	{"globex", "Globex Research", "America/Los_Angeles"},
	{"tanaka", "Tanaka Robotics", "Asia/Tokyo"},
}

var demoPlanTypes = []struct {
	name     string
	services []int // indexes into demoCatalogue
}{
	{"GPU Commitment", []int{0, 1}},
	{"GPU VM Reserved", []int{2, 3}},
	{"Inference Token Pack", []int{4, 5, 6}},
	{"Fine-tuning Bundle", []int{7, 0}},
	{"Notebook & Storage", []int{8, 9}},
	{"AI Platform Starter", []int{0, 4, 8, 9}},
	{"Inference Token Pack", []int{4}},
	{"Inference Token Pack", []int{5, 6}},
	{"Fine-tuning Bundle", []int{7}},
	{"Storage Reserve", []int{9}},
	{"Notebook Hours", []int{8}},
}

var demoRegions = []string{"Hanoi", "Ho Chi Minh City", "Tokyo", "Oregon"}

// demoScale is a typical plan amount in each currency (major units).
var demoScale = [3]int64{150_000_000, 6_000, 900_000}

// demoShowcase is one plan shape every account gets, so that every status,
// payment status and payment option the rules allow is on the list page. The
// Active ones cover services no other showcase plan of their time covers, so
// that no other plan's usage drains them.
type demoShowcase struct {
	typ                 int // index into demoPlanTypes; -1: random
	startOffset, months int // start = today + startOffset days
	option              PaymentOption
	paidShare           int // percent of the amount paid
	usage               int // percent of the amount to consume over the whole term
	suspended           bool
}

var demoShowcases = []demoShowcase{
	{0, -40, 3, AllUpfront, 100, 45, false},     // Active, Paid
	{1, -20, 3, PartialUpfront, 40, 35, false},  // Active, Partially paid
	{6, -35, 3, PartialUpfront, 100, 60, false}, // Active, Paid, partial upfront
	{7, -15, 1, Postpaid, 0, 50, false},         // Active, Unpaid
	{8, -50, 3, Postpaid, 50, 70, false},        // Active, Partially paid, postpaid
	{9, -25, 1, Postpaid, 100, 105, false},      // Active, Paid, nearly spent
	{0, -150, 3, AllUpfront, 100, 70, false},    // Expired by its end date, Paid
	{1, -130, 2, PartialUpfront, 60, 50, false}, // Expired, Partially paid
	{7, -120, 1, Postpaid, 0, 80, false},        // Expired, Unpaid
	{6, -140, 1, AllUpfront, 0, 0, false},       // Expired, never paid nor used
	{10, -90, 6, AllUpfront, 100, 300, false},   // Expired: depleted
	{0, 20, 3, AllUpfront, 100, 0, false},       // Inactive: starts later, Paid
	{3, 35, 6, Postpaid, 0, 0, false},           // Inactive: starts later, Unpaid
	{4, -10, 3, PartialUpfront, 0, 0, false},    // Inactive: waiting for the upfront payment
	{5, -5, 12, AllUpfront, 30, 0, false},       // Inactive: all upfront, Partially paid
	{8, -30, 3, PartialUpfront, 100, 0, true},   // Inactive: suspended
}

// DemoData returns the demo accounts, users, catalogue, plans, vouchers and
// top-ups as an import file, and the usage events to apply after it.
func DemoData(o DemoOptions) (ImportFile, []UsageEvent) {
	if o.Accounts < 1 {
		o.Accounts = 3
	}
	if o.Plans < len(demoShowcases) {
		o.Plans = len(demoShowcases)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 2026))
	var f ImportFile
	for _, s := range demoCatalogue {
		is := ImportService{Code: s.code, Name: s.name, Unit: s.unit, ListPrices: map[string]string{}}
		for i, c := range demoCurrencies {
			is.ListPrices[string(c)] = s.list[i]
		}
		for _, p := range s.packages {
			ip := ImportPackage{Code: p.code, Name: p.name, Prices: map[string]string{}}
			for i, c := range demoCurrencies {
				ip.Prices[string(c)] = p.prices[i]
			}
			is.Packages = append(is.Packages, ip)
		}
		f.Services = append(f.Services, is)
	}
	admin := ImportUser{Email: DemoLogins[0].Email, Name: "Demo Admin", Password: DemoLogins[0].Password}
	viewer := ImportUser{Email: DemoLogins[1].Email, Name: "Demo Viewer", Password: DemoLogins[1].Password}

	var events []UsageEvent
	seq := 0
	for a := range o.Accounts {
		cur := a % 3
		code, name, tz := fmt.Sprintf("customer-%03d", a), fmt.Sprintf("Customer %03d", a), demoAccounts[cur].tz
		if a < len(demoAccounts) {
			code, name = demoAccounts[a].code, demoAccounts[a].name
		}
		f.Accounts = append(f.Accounts, ImportAccount{Code: code, Name: name, Currency: string(demoCurrencies[cur]), Timezone: tz})
		if a < len(demoAccounts) {
			admin.Memberships = append(admin.Memberships, ImportMembership{Account: code, Role: "admin"})
			if a < 2 {
				viewer.Memberships = append(viewer.Memberships, ImportMembership{Account: code, Role: "viewer"})
			}
		}
		loc := LoadLocation(tz)
		acct := demoAccount{code: code, cur: cur, loc: loc, rng: rng, today: o.Today, days: o.Days}
		for p := range o.Plans {
			seq++
			var sc demoShowcase
			if p < len(demoShowcases) {
				sc = demoShowcases[p]
			} else {
				// More plans of the past and the future, lightly used, so
				// that they do not drain the showcase plans.
				sc = demoShowcase{
					typ:         -1,
					startOffset: []int{-400, -300, -250, 40, 60}[rng.IntN(5)] + rng.IntN(30),
					months:      []int{1, 3, 6}[rng.IntN(3)],
					option:      []PaymentOption{AllUpfront, PartialUpfront, Postpaid}[rng.IntN(3)],
					paidShare:   []int{100, 100, 50, 0}[rng.IntN(4)],
					usage:       10 + rng.IntN(40),
				}
			}
			plan, usage := acct.plan(fmt.Sprintf("BP-%d-%06d", o.Today.Year(), seq), sc)
			f.Plans = append(f.Plans, plan)
			events = append(events, usage...)
		}
		scale := demoScale[cur]
		f.Vouchers = append(f.Vouchers,
			ImportVoucher{Code: fmt.Sprintf("WELCOME-%s", code), Account: code, Amount: fmt.Sprint(scale / 50),
				EffectiveDate: o.Today.AddDays(-o.Days).String(), ExpiryDate: o.Today.AddDays(20).String()},
			ImportVoucher{Code: fmt.Sprintf("GPU-PROMO-%s", code), Account: code, Amount: fmt.Sprint(scale / 30),
				EffectiveDate: o.Today.AddDays(-30).String(), ExpiryDate: o.Today.AddDays(90).String(), Services: []string{"gpu-h100-container"}})
		f.Topups = append(f.Topups, ImportTopup{Account: code, Amount: fmt.Sprint(scale / 10),
			At: o.Today.AddDays(-o.Days).Start(loc).Format(time.RFC3339)})
		// Pay-as-you-go usage outside any plan: notebooks and storage every day.
		for d := o.Days; d >= 1; d-- {
			day := o.Today.AddDays(-d)
			events = append(events, acct.event(8, day, decimal.NewFromInt(int64(2+rng.IntN(10)))))
		}
	}
	f.Users = append(f.Users, admin, viewer)
	return f, events
}

// demoAccount builds one account's plans and usage.
type demoAccount struct {
	code  string
	cur   int
	loc   *time.Location
	rng   *rand.Rand
	today Date
	days  int
	n     int
}

func (a *demoAccount) plan(code string, sc demoShowcase) (ImportPlan, []UsageEvent) {
	cur := demoCurrencies[a.cur]
	typ := sc.typ
	if typ < 0 {
		typ = a.rng.IntN(len(demoPlanTypes))
	}
	pt := demoPlanTypes[typ]
	start := a.today.AddDays(sc.startOffset)
	end := start.AddMonths(sc.months).AddDays(-1)
	// Amounts are whole thousands (VND, JPY) or whole dollars, scaled by term.
	unit := int64(1000)
	if cur == USD {
		unit = 10
	}
	amount := (demoScale[a.cur] * int64(sc.months) * int64(60+a.rng.IntN(80)) / 300) / unit * unit
	createdAt := start.AddDays(-3).Start(a.loc).Add(10 * time.Hour)
	p := ImportPlan{
		Code: code, Account: a.code, Type: pt.name, StartDate: start.String(), EndDate: end.String(),
		Amount: fmt.Sprint(amount), Region: demoRegions[a.rng.IntN(len(demoRegions))],
		PaymentOption: string(sc.option), PaymentMethod: []string{"online", "bank_transfer"}[a.rng.IntN(2)],
		CreatedAt: createdAt.Format(time.RFC3339), CreatedBy: DemoLogins[0].Email, Suspended: sc.suspended,
	}
	if sc.option == PartialUpfront {
		p.UpfrontAmount = fmt.Sprint(amount * 40 / 100)
	}
	for _, i := range pt.services {
		s := demoCatalogue[i]
		p.Services = append(p.Services, ImportPlanService{Service: s.code, Package: s.packages[0].code})
	}
	if paid := amount * int64(sc.paidShare) / 100; paid > 0 {
		p.Payments = append(p.Payments, ImportPayment{Amount: fmt.Sprint(paid), Method: p.PaymentMethod,
			PaidAt: createdAt.Add(26 * time.Hour).Format(time.RFC3339)})
	}
	// Usage: spread the target share of the amount over the plan's days up to
	// today, split across its services at their package prices.
	last := end
	if last.After(a.today) {
		last = a.today
	}
	first := start
	if from := a.today.AddDays(-a.days); first.Before(from) {
		first = from
	}
	days := first.DaysUntil(last) + 1
	if sc.usage == 0 || days <= 0 {
		return p, nil
	}
	perDay := decimal.NewFromInt(amount * int64(sc.usage) / 100).Div(decimal.NewFromInt(int64(start.DaysUntil(end) + 1)))
	var events []UsageEvent
	for d := range days {
		day := first.AddDays(d)
		for _, i := range pt.services {
			price := decimal.RequireFromString(demoCatalogue[i].packages[0].prices[a.cur])
			// Busy and quiet days: 40% to 160% of the average.
			spend := perDay.Mul(decimal.NewFromInt(int64(40 + a.rng.IntN(121)))).Div(decimal.NewFromInt(100 * int64(len(pt.services))))
			q := spend.Div(price)
			if demoCatalogue[i].unit == "token" {
				q = q.Round(0)
			} else {
				q = q.Round(2)
			}
			if q.IsPositive() {
				events = append(events, a.event(i, day, q))
			}
		}
	}
	return p, events
}

// event is a usage event of catalogue service i on day, at a random time of the day.
func (a *demoAccount) event(i int, day Date, q decimal.Decimal) UsageEvent {
	a.n++
	at := day.Start(a.loc).Add(time.Duration(8*3600+a.rng.IntN(12*3600)) * time.Second)
	return UsageEvent{ID: fmt.Sprintf("demo-%s-%07d", a.code, a.n), AccountCode: a.code,
		ServiceCode: demoCatalogue[i].code, Quantity: q, At: at}
}

// SeedDemo imports the demo data and applies its usage through the ledger
// engine, in batches. It returns the usage report; it fails when the database
// already holds any of the demo codes.
func (db *DB) SeedDemo(ctx context.Context, o DemoOptions) (IngestReport, error) {
	f, events := DemoData(o)
	rep := IngestReport{Drawn: map[Currency]*Drawn{}}
	if _, err := db.Import(ctx, f); err != nil {
		return rep, err
	}
	// Usage arrives in time order, as metering would send it.
	sortEventsByTime(events)
	for len(events) > 0 {
		n := min(IngestBatchSize, len(events))
		results, err := db.ApplyUsage(ctx, events[:n])
		if err != nil {
			return rep, err
		}
		for i, r := range results {
			rep.count(r, i)
		}
		events = events[n:]
	}
	return rep, nil
}

// IsEmpty reports whether the database holds no account yet.
func (db *DB) IsEmpty(ctx context.Context) (bool, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
		return false, fmt.Errorf("store: count accounts: %w", err)
	}
	return n == 0, nil
}

// sortEventsByTime orders events by their instant, keeping the order of equals.
func sortEventsByTime(events []UsageEvent) {
	sort.SliceStable(events, func(i, j int) bool { return events[i].At.Before(events[j].At) })
}
