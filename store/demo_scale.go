package store

// Demo data at scale: hundreds of accounts, a hundred thousand plans and
// millions of consumption lines, for load tests and for measuring the pages on
// a database the size of a large customer base. Everything goes through the
// same importer and ledger engine as real data: the plans through Import in
// chunks, the usage through ApplyUsage in batches, day after day, so that every
// running total, daily spend row and consumption line is the engine's own.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// ScaleOptions sizes the demo data of SeedScale.
type ScaleOptions struct {
	// Seed makes the data reproducible: the same seed and Today give the same data.
	Seed uint64
	// Accounts is how many accounts to make; the first three are acme (VND),
	// globex (USD, the big one) and tanaka (JPY).
	Accounts int
	// Plans is how many plans in all.
	Plans int
	// BigPlans is how many of them the big account, ScaleBigAccount, has; the
	// others share the rest evenly.
	BigPlans int
	// Events is how many usage events to apply; each makes one consumption
	// line, or more when it is split between credits.
	Events int
	// Days is how many days of usage, ending the day before Today.
	Days int
	// Today is the day the data is built around.
	Today Date
	// Window is how many days of usage go to the engine at a time (see
	// scaleWindow, the default when 0).
	Window int
}

// ScaleBigAccount is the code of the account that holds ScaleOptions.BigPlans plans.
const ScaleBigAccount = "globex"

// Scale presets: ScalePreset returns them by name.
var scalePresets = map[string]ScaleOptions{
	// small is for tests: seconds.
	"small": {Seed: 1, Accounts: 5, Plans: 400, BigPlans: 200, Events: 20_000, Days: 60},
	// medium keeps the big account of 20,000 plans (page 400 of the list)
	// with a tenth of the usage of large: about half a minute.
	"medium": {Seed: 1, Accounts: 50, Plans: 30_000, BigPlans: 20_000, Events: 500_000, Days: 365},
	// large is 500 accounts, 100,000 plans (20,000 in one account) and 5
	// million consumption lines over a year.
	"large": {Seed: 1, Accounts: 500, Plans: 100_000, BigPlans: 20_000, Events: 5_000_000, Days: 365},
}

// ScalePreset returns the options of a named scale (small, medium or large),
// or an EINVALID error naming the choices.
func ScalePreset(name string) (ScaleOptions, error) {
	o, ok := scalePresets[name]
	if !ok {
		return ScaleOptions{}, Errorf(EINVALID, "There is no scale %q: choose small, medium or large.", name)
	}
	return o, nil
}

// ScaleReport is what SeedScale made and how long each part took.
type ScaleReport struct {
	Accounts, Plans int
	// Usage is the engine's report on the events.
	Usage IngestReport
	// Lines is how many consumption lines the database holds afterwards.
	Lines int64
	// Batches is how many ApplyUsage calls the usage took.
	Batches int
	// ImportTime and UsageTime are the wall time of the import and of the usage.
	ImportTime, UsageTime time.Duration
}

// scalePlanChunk is how many plans one Import call (one transaction) writes.
const scalePlanChunk = 5000

// scaleTypes is how many kinds of plans (of demoPlanTypes) each account buys.
const scaleTypes = 3

// scaleWindow is how many days of usage SeedScale generates at a time by default: each
// account's events of the window in time order, then the next account's. The
// engine reads credit per account and service per batch, so a batch of a few
// accounts over a few days costs far less than one of dozens of accounts over
// one day; accounts draw only from their own credit, so each account seeing
// its own events in time order is all the order the ledger needs.
const scaleWindow = 7

// scaleUsageShare is the percentage of a plan's daily rate that usage spends
// on an average day.
const scaleUsageShare = 55

// SeedScale loads demo data of the size o asks for: the demo catalogue and
// users (an admin of acme, globex and tanaka, a viewer of acme and globex),
// the accounts with a voucher and a top-up each, their plans through Import in
// chunks of 5,000, then o.Events usage events through ApplyUsage, a week at a
// time: the week's events grouped by account, each account's in time order, in
// batches of at most IngestBatchSize that never span two weeks. progress, when
// not nil, is told how far it has got. It fails when the database already
// holds any of the codes it makes.
func (db *DB) SeedScale(ctx context.Context, o ScaleOptions, progress func(string)) (ScaleReport, error) {
	if progress == nil {
		progress = func(string) {}
	}
	if o.Accounts < 3 || o.Plans < o.Accounts || o.BigPlans < 1 || o.BigPlans > o.Plans-(o.Accounts-1) || o.Days < 1 || o.Events < 0 {
		return ScaleReport{}, Errorf(EINVALID, "The scale needs at least 3 accounts, a plan for each, and at least a day.")
	}
	if o.Window <= 0 {
		o.Window = scaleWindow
	}
	g := newScaleGen(o)
	rep := ScaleReport{Accounts: o.Accounts, Plans: o.Plans, Usage: IngestReport{Drawn: map[Currency]*Drawn{}}}

	start := time.Now()
	head, plans := g.importFile()
	if _, err := db.Import(ctx, head); err != nil {
		return rep, fmt.Errorf("store: scale import: %w", err)
	}
	for i := 0; i < len(plans); i += scalePlanChunk {
		chunk := ImportFile{Plans: plans[i:min(i+scalePlanChunk, len(plans))]}
		if _, err := db.Import(ctx, chunk); err != nil {
			return rep, fmt.Errorf("store: scale import plans %d-%d: %w", i, i+len(chunk.Plans), err)
		}
		progress(fmt.Sprintf("plans: %d of %d imported (%s)", i+len(chunk.Plans), len(plans), time.Since(start).Round(time.Second)))
	}
	rep.ImportTime = time.Since(start)

	// Millions of lines grow the indexes far past the 32 MB page cache of the
	// one writing connection, and each checkpoint rewrites the same hot pages:
	// for the seed, a larger cache and rarer checkpoints; as they were after.
	if _, err := db.write.ExecContext(ctx, `PRAGMA cache_size = -524288`); err != nil {
		return rep, fmt.Errorf("store: scale cache size: %w", err)
	}
	if _, err := db.write.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 50000`); err != nil {
		return rep, fmt.Errorf("store: scale checkpoints: %w", err)
	}
	defer db.write.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 1000`)
	defer db.write.ExecContext(ctx, `PRAGMA cache_size = -32000`)

	start = time.Now()
	batch := make([]UsageEvent, 0, IngestBatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		results, err := db.ApplyUsage(ctx, batch)
		if err != nil {
			return err
		}
		for i, r := range results {
			rep.Usage.count(r, i)
		}
		rep.Batches++
		batch = batch[:0]
		return nil
	}
	for w := 0; w < o.Days; w += o.Window {
		for a := range g.accounts {
			for d := w; d < min(w+o.Window, o.Days); d++ {
				for _, ev := range g.dayEvents(a, d, o.Today.AddDays(d-o.Days)) {
					batch = append(batch, ev)
					if len(batch) == IngestBatchSize {
						if err := flush(); err != nil {
							return rep, err
						}
					}
				}
			}
		}
		// A batch never spans two windows.
		if err := flush(); err != nil {
			return rep, err
		}
		if end := min(w+o.Window, o.Days); end/30 != w/30 || end == o.Days {
			progress(fmt.Sprintf("usage: day %d of %d, %d events (%s)", end, o.Days, rep.Usage.Applied, time.Since(start).Round(time.Second)))
		}
	}
	rep.UsageTime = time.Since(start)
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM consumptions`).Scan(&rep.Lines); err != nil {
		return rep, fmt.Errorf("store: scale count lines: %w", err)
	}
	return rep, nil
}

// scaleGen generates the data of SeedScale, deterministically from the seed.
type scaleGen struct {
	o        ScaleOptions
	rng      *rand.Rand
	accounts []*scaleAccount
	prices   [3][]decimal.Decimal // per currency, per catalogue entry: the first package's price
	n        int                  // events made so far
}

// scaleAccount is one account of the generated data.
type scaleAccount struct {
	code string
	cur  int
	loc  *time.Location
	// plans is how many plans it has; events how many usage events it sends.
	plans, events int
	// rate is, per day of the usage window, the plans' daily amounts summed, in
	// hundredths of the major unit.
	rate []int64
	// sent is how many events it has sent so far.
	sent int
	// types are the indexes of the plan types (demoPlanTypes) it buys, and
	// services the catalogue entries they cover, the ones it uses.
	types, services []int
}

func newScaleGen(o ScaleOptions) *scaleGen {
	g := &scaleGen{o: o, rng: rand.New(rand.NewPCG(o.Seed, 9))}
	for c := range demoCurrencies {
		for _, s := range demoCatalogue {
			g.prices[c] = append(g.prices[c], decimal.RequireFromString(s.packages[0].prices[c]))
		}
	}
	rest := o.Plans - o.BigPlans
	for a := range o.Accounts {
		cur := a % 3
		sa := &scaleAccount{code: fmt.Sprintf("customer-%03d", a), cur: cur, loc: LoadLocation(demoAccounts[cur].tz)}
		if a < len(demoAccounts) {
			sa.code = demoAccounts[a].code
		}
		if sa.code == ScaleBigAccount {
			sa.plans = o.BigPlans
		} else {
			// The others share the rest: the first ones get one more.
			k := a
			if a > 1 {
				k = a - 1
			}
			sa.plans = rest / (o.Accounts - 1)
			if k < rest%(o.Accounts-1) {
				sa.plans++
			}
		}
		// Usage in proportion to the plans.
		sa.events = int(int64(o.Events) * int64(sa.plans) / int64(o.Plans))
		sa.rate = make([]int64, o.Days)
		// A customer buys a few kinds of plans and uses what they cover.
		sa.types = g.rng.Perm(len(demoPlanTypes))[:scaleTypes]
		for _, t := range sa.types {
			for _, i := range demoPlanTypes[t].services {
				if !slices.Contains(sa.services, i) {
					sa.services = append(sa.services, i)
				}
			}
		}
		g.accounts = append(g.accounts, sa)
	}
	return g
}

// importFile returns the catalogue, accounts, users, vouchers and top-ups as
// one import file, and the plans apart, to import in chunks. It fills in each
// account's daily rate.
func (g *scaleGen) importFile() (ImportFile, []ImportPlan) {
	o := g.o
	f, _ := DemoData(DemoOptions{Seed: o.Seed, Accounts: 1, Plans: 0, Days: 1, Today: o.Today})
	f.Accounts, f.Plans, f.Vouchers, f.Topups, f.Users = nil, nil, nil, nil, nil
	admin := ImportUser{Email: DemoLogins[0].Email, Name: "Demo Admin", Password: DemoLogins[0].Password}
	viewer := ImportUser{Email: DemoLogins[1].Email, Name: "Demo Viewer", Password: DemoLogins[1].Password}
	first := o.Today.AddDays(-o.Days)
	var plans []ImportPlan
	seq := 0
	for a, sa := range g.accounts {
		name := fmt.Sprintf("Customer %03d", a)
		if a < len(demoAccounts) {
			name = demoAccounts[a].name
			admin.Memberships = append(admin.Memberships, ImportMembership{Account: sa.code, Role: "admin"})
			if a < 2 {
				viewer.Memberships = append(viewer.Memberships, ImportMembership{Account: sa.code, Role: "viewer"})
			}
		}
		f.Accounts = append(f.Accounts, ImportAccount{Code: sa.code, Name: name, Currency: string(demoCurrencies[sa.cur]), Timezone: demoAccounts[sa.cur].tz})
		scale := demoScale[sa.cur]
		f.Vouchers = append(f.Vouchers,
			ImportVoucher{Code: "WELCOME-" + sa.code, Account: sa.code, Amount: fmt.Sprint(scale / 50),
				EffectiveDate: first.String(), ExpiryDate: o.Today.AddDays(20).String()},
			ImportVoucher{Code: "GPU-PROMO-" + sa.code, Account: sa.code, Amount: fmt.Sprint(scale / 30),
				EffectiveDate: o.Today.AddDays(-30).String(), ExpiryDate: o.Today.AddDays(90).String(), Services: []string{"gpu-h100-container"}})
		f.Topups = append(f.Topups, ImportTopup{Account: sa.code, Amount: fmt.Sprint(scale / 10),
			At: first.Start(sa.loc).Format(time.RFC3339)})
		for range sa.plans {
			seq++
			plans = append(plans, g.plan(sa, fmt.Sprintf("BP-%07d", seq)))
		}
	}
	f.Users = []ImportUser{admin, viewer}
	return f, plans
}

// plan makes one plan of account sa, starting between the start of the usage
// window less two months and two months after today, and adds its daily rate
// to the account's (suspended plans and those waiting for their upfront
// payment draw nothing, but the usage does not know).
func (g *scaleGen) plan(sa *scaleAccount, code string) ImportPlan {
	o, rng := g.o, g.rng
	cur := demoCurrencies[sa.cur]
	pt := demoPlanTypes[sa.types[rng.IntN(len(sa.types))]]
	start := o.Today.AddDays(-o.Days - 60 + rng.IntN(o.Days+120))
	months := []int{1, 3, 3, 6, 12}[rng.IntN(5)]
	end := start.AddMonths(months).AddDays(-1)
	unit := int64(1000)
	if cur == USD {
		unit = 10
	}
	amount := (demoScale[sa.cur] * int64(months) * int64(60+rng.IntN(80)) / 300) / unit * unit
	created := start.AddDays(-3)
	if latest := o.Today.AddDays(-2); created.After(latest) {
		created = latest
	}
	createdAt := created.Start(sa.loc).Add(10 * time.Hour)
	option := []PaymentOption{AllUpfront, PartialUpfront, Postpaid}[rng.IntN(3)]
	p := ImportPlan{
		Code: code, Account: sa.code, Type: pt.name, StartDate: start.String(), EndDate: end.String(),
		Amount: fmt.Sprint(amount), Region: demoRegions[rng.IntN(len(demoRegions))],
		PaymentOption: string(option), PaymentMethod: []string{"online", "bank_transfer"}[rng.IntN(2)],
		CreatedAt: createdAt.Format(time.RFC3339), CreatedBy: DemoLogins[0].Email, Suspended: rng.IntN(100) == 0,
	}
	if option == PartialUpfront {
		p.UpfrontAmount = fmt.Sprint(amount * 40 / 100)
	}
	for _, i := range pt.services {
		s := demoCatalogue[i]
		p.Services = append(p.Services, ImportPlanService{Service: s.code, Package: s.packages[0].code})
	}
	if paid := amount * int64([]int{100, 100, 50, 0}[rng.IntN(4)]) / 100; paid > 0 {
		p.Payments = append(p.Payments, ImportPayment{Amount: fmt.Sprint(paid), Method: p.PaymentMethod,
			PaidAt: createdAt.Add(26 * time.Hour).Format(time.RFC3339)})
	}
	// The plan's daily amount over the days of the window it covers.
	perDay := amount * 100 / int64(start.DaysUntil(end)+1)
	first := o.Today.AddDays(-o.Days)
	for d := max(0, first.DaysUntil(start)); d < o.Days && d <= first.DaysUntil(end); d++ {
		sa.rate[d] += perDay
	}
	return p
}

// dayEvents returns account a's usage events of day d of the window (the
// date day), in time order: its share of the events, spending about
// scaleUsageShare percent of its plans' daily rate between them, on services
// of the catalogue at random.
func (g *scaleGen) dayEvents(a, d int, day Date) []UsageEvent {
	sa, rng := g.accounts[a], g.rng
	// Spread the account's events evenly over the days.
	n := sa.events*(d+1)/g.o.Days - sa.sent
	if n <= 0 {
		return nil
	}
	sa.sent += n
	secs := make([]int, n)
	for i := range secs {
		secs[i] = rng.IntN(86400)
	}
	slices.Sort(secs)
	// Hundredths of the major unit per event on an average day.
	avg := max(sa.rate[d]*scaleUsageShare/100/int64(n), 100)
	midnight := day.Start(sa.loc)
	events := make([]UsageEvent, 0, n)
	for _, s := range secs {
		i := sa.services[rng.IntN(len(sa.services))]
		spend := decimal.New(avg*int64(40+rng.IntN(121))/100, -2)
		q := spend.Div(g.prices[sa.cur][i])
		if demoCatalogue[i].unit == "token" {
			q = q.Round(0)
		} else {
			q = q.Round(2)
		}
		if !q.IsPositive() {
			q = decimal.NewFromInt(1)
		}
		g.n++
		events = append(events, UsageEvent{ID: fmt.Sprintf("scale-%08d", g.n), AccountCode: sa.code,
			ServiceCode: demoCatalogue[i].code, Quantity: q, At: midnight.Add(time.Duration(s) * time.Second)})
	}
	return events
}
