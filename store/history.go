package store

// The credit history of an account: its consumption lines (debits, drawn by the
// ledger engine) and its credit additions (top-ups, and vouchers granted), newest
// first, filtered, paged by keyset, streamed for CSV export, and summed per day
// for the history's chart.
//
// The lines come from three tables. A line's place in the history is the key
// (at, kind, id), newest first: at is the instant, kind ranks a voucher grant
// above a top-up above a consumption of the same instant (credit is added
// before it is drawn), id is the row id in the line's table. A page asks each
// table for the lines past a cursor (a key) in that order, through indexes on
// (…, at, id), and merges them: no OFFSET, so a page a million lines back
// costs what the first page does. Consumption lines come from the account's
// index, or, when the filter hides much of it, from one index range per plan
// and voucher that shows and one for the pay-as-you-go lines (pageStreams).
//
// Rules this file decides (the spec leaves them open):
//   - A voucher adds its amount on its effective date: its grant is a line at
//     the first instant of that date in the account's time zone. A voucher that
//     is not effective yet has no line yet.
//   - Credit additions belong to no service and no plan: a service filter or a
//     plan filter leaves them out.
//   - Hiding expired credit (HistoryFilter.ShowExpired false, the default) hides
//     the consumption lines drawn from a plan whose Status today is Expired (its
//     end date is past, or its balance is spent), and the consumption lines and
//     grant of a voucher whose status today is Expired (its expiry date is past).
//     Lines of the top-up balance and uncovered lines are never hidden. A plan
//     filter names the plan the user asks for, so it shows that plan's lines
//     even when the plan is Expired.

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// HistoryKind is what a line of the credit history records.
type HistoryKind string

// The kinds of credit history lines.
const (
	// HistoryConsumption is a consumption line: a debit drawn by the ledger engine.
	HistoryConsumption HistoryKind = "consumption"
	// HistoryTopup is top-up credit added to the account's balance.
	HistoryTopup HistoryKind = "topup"
	// HistoryVoucher is a voucher's amount, granted on its effective date.
	HistoryVoucher HistoryKind = "voucher"
)

// rank orders the kinds of lines of one instant: newest first means a voucher
// grant, then a top-up, then a consumption.
func (k HistoryKind) rank() int {
	switch k {
	case HistoryTopup:
		return 1
	case HistoryVoucher:
		return 2
	}
	return 0
}

// letter is the kind's letter in a cursor.
func (k HistoryKind) letter() byte {
	switch k {
	case HistoryTopup:
		return 't'
	case HistoryVoucher:
		return 'v'
	}
	return 'c'
}

// HistoryLine is one line of the credit history.
type HistoryLine struct {
	Kind HistoryKind
	// ID is the row id in the line's table (consumptions, topups, vouchers).
	ID int64
	// At is the line's instant; Day its calendar date in the account's time zone.
	At  time.Time
	Day Date
	// Source is the credit source the line draws from or adds to.
	Source CreditSource
	// Service is the service a consumption line is of; zero for credit additions.
	Service Service
	// Quantity and UnitPrice are the units drawn and their price (consumption lines).
	Quantity  decimal.Decimal
	UnitPrice decimal.Decimal
	// Amount is signed: credit additions are positive, consumption lines negative.
	Amount Money
	// PlanID is the plan a line draws from (source plan), VoucherID the voucher
	// it draws from or grants (source voucher); 0 otherwise.
	PlanID    int64
	VoucherID int64
}

// Cursor returns the line's place in the history.
func (l HistoryLine) Cursor() HistoryCursor {
	return HistoryCursor{At: l.At, Kind: l.Kind, ID: l.ID}
}

// HistoryCursor is a place in the credit history: the key (At, Kind, ID) of a
// line. Pages are asked for as the lines before (older than) or after (newer
// than) a cursor.
type HistoryCursor struct {
	At   time.Time
	Kind HistoryKind
	ID   int64
}

// IsZero reports whether c is no cursor.
func (c HistoryCursor) IsZero() bool { return c.Kind == "" }

// String returns the cursor as URLs carry it: the instant in Unix nanoseconds,
// an underscore, the kind's letter (c, t or v) and the id: "1772442000000000000_c123".
func (c HistoryCursor) String() string {
	if c.IsZero() {
		return ""
	}
	return strconv.FormatInt(c.At.UnixNano(), 10) + "_" + string(c.Kind.letter()) + strconv.FormatInt(c.ID, 10)
}

// ParseHistoryCursor reads a cursor written by HistoryCursor.String. It returns
// an EINVALID error for anything else.
func ParseHistoryCursor(s string) (HistoryCursor, error) {
	bad := Errorf(EINVALID, "This is not a place in the credit history.")
	at, rest, ok := strings.Cut(s, "_")
	if !ok || len(rest) < 2 || len(at) == 0 || len(at) > 19 {
		return HistoryCursor{}, bad
	}
	nanos, err := strconv.ParseInt(at, 10, 64)
	if err != nil || nanos < 0 {
		return HistoryCursor{}, bad
	}
	var kind HistoryKind
	switch rest[0] {
	case 'c':
		kind = HistoryConsumption
	case 't':
		kind = HistoryTopup
	case 'v':
		kind = HistoryVoucher
	default:
		return HistoryCursor{}, bad
	}
	id, err := strconv.ParseInt(rest[1:], 10, 64)
	if err != nil || id < 0 || rest[1] == '+' || rest[1] == '-' {
		return HistoryCursor{}, bad
	}
	return HistoryCursor{At: time.Unix(0, nanos).UTC(), Kind: kind, ID: id}, nil
}

// less reports whether line key c comes before d in time order (oldest first).
func (c HistoryCursor) less(d HistoryCursor) bool {
	if !c.At.Equal(d.At) {
		return c.At.Before(d.At)
	}
	if rc, rd := c.Kind.rank(), d.Kind.rank(); rc != rd {
		return rc < rd
	}
	return c.ID < d.ID
}

// HistoryFilter selects lines of an account's credit history. Zero fields
// select everything (but expired credit: see ShowExpired).
type HistoryFilter struct {
	// PlanID keeps the consumption lines of one plan.
	PlanID int64
	// ServiceIDs keeps the consumption lines of these services.
	ServiceIDs []int64
	// Sources keeps the lines of these credit sources.
	Sources []CreditSource
	// From and To keep the lines whose day (in the account's time zone) is
	// within them, inclusive.
	From, To Date
	// ShowExpired shows the lines of Expired plans and expired vouchers too;
	// without it they are hidden (see the top of history.go).
	ShowExpired bool
	// Today is the day statuses are judged on, in the account's time zone.
	Today Date
}

func (f HistoryFilter) hasSource(s CreditSource) bool {
	if len(f.Sources) == 0 {
		return true
	}
	for _, x := range f.Sources {
		if x == s {
			return true
		}
	}
	return false
}

// additions reports whether credit additions can match the filter.
func (f HistoryFilter) additions() bool { return f.PlanID == 0 && len(f.ServiceIDs) == 0 }

// hidesExpiredPlans reports whether lines of Expired plans are left out.
func (f HistoryFilter) hidesExpiredPlans() bool { return !f.ShowExpired && f.PlanID == 0 }

// HistoryPage is one page of the credit history, newest first, with the plans,
// vouchers and services its lines name.
type HistoryPage struct {
	Lines []HistoryLine
	// Newer and Older are the cursors of the neighbouring pages (after=Newer,
	// before=Older), zero when there is none.
	Newer, Older HistoryCursor
	Plans        map[int64]Plan
	Vouchers     map[int64]Voucher
}

// HistoryPageSize is how many lines a page of the credit history shows.
const HistoryPageSize = 50

// FindCreditHistory returns a page of the account's credit history that the
// filter selects, newest first: the newest limit lines, or with before the
// limit lines just older than it, or with after the limit lines just newer
// than it (the newest page when fewer than limit are newer). It returns an error
// only when the database fails.
func (db *DB) FindCreditHistory(ctx context.Context, a Account, f HistoryFilter, before, after HistoryCursor, limit int) (HistoryPage, error) {
	var page HistoryPage
	if limit < 1 {
		limit = HistoryPageSize
	}
	err := db.view(ctx, func(tx *Tx) error {
		q, err := newHistoryQuery(ctx, tx, a, f)
		if err != nil {
			return err
		}
		var lines []HistoryLine
		if !after.IsZero() {
			newer, err := q.fetch(after, true, limit+1)
			if err != nil {
				return err
			}
			if len(newer) > limit {
				lines = reverse(newer[:limit])
				page.Newer = lines[0].Cursor()
			} else {
				// Fewer than a page is newer: show the newest page instead.
				before = HistoryCursor{}
			}
		}
		if lines == nil {
			older, err := q.fetch(before, false, limit+1)
			if err != nil {
				return err
			}
			lines = older[:min(limit, len(older))]
			if len(older) > limit {
				page.Older = lines[len(lines)-1].Cursor()
			}
			if !before.IsZero() {
				// A newer page exists when a line is newer than this page's first
				// (or, on an empty page, than the cursor).
				from := before
				if len(lines) > 0 {
					from = lines[0].Cursor()
				}
				newer, err := q.fetch(from, true, 1)
				if err != nil {
					return err
				}
				if len(newer) > 0 {
					page.Newer = from
				}
			}
		} else {
			older, err := q.fetch(lines[len(lines)-1].Cursor(), false, 1)
			if err != nil {
				return err
			}
			if len(older) > 0 {
				page.Older = lines[len(lines)-1].Cursor()
			}
		}
		page.Lines = lines
		page.Plans, err = q.plansOf(lines)
		if err != nil {
			return err
		}
		page.Vouchers = q.vouchers
		return nil
	})
	return page, err
}

// EachCreditHistoryLine calls fn with every line of the account's credit
// history that the filter selects, newest first, as it reads them from one
// read transaction: the consumption lines are never all in memory. plans and
// vouchers hold every plan and voucher of the account, by id, for the lines'
// codes and statuses. It stops at fn's first error and returns it, or the
// database's.
func (db *DB) EachCreditHistoryLine(ctx context.Context, a Account, f HistoryFilter,
	fn func(l HistoryLine, plans map[int64]Plan, vouchers map[int64]Voucher) error) error {
	return db.view(ctx, func(tx *Tx) error {
		q, err := newHistoryQuery(ctx, tx, a, f)
		if err != nil {
			return err
		}
		plans, err := q.allPlans()
		if err != nil {
			return err
		}
		// Credit additions are few (a top-up or voucher a month or so); they are
		// read whole and merged into the stream of consumption lines.
		adds, err := q.additions(HistoryCursor{}, false, 0)
		if err != nil {
			return err
		}
		next := 0
		// emitNewerThan sends the additions newer than key (all of them when
		// key is zero), which come before it newest first.
		emitNewerThan := func(key HistoryCursor) error {
			for next < len(adds) && (key.IsZero() || key.less(adds[next].Cursor())) {
				if err := fn(adds[next], plans, q.vouchers); err != nil {
					return err
				}
				next++
			}
			return nil
		}
		rows, err := q.consumptionRows(nil, HistoryCursor{}, false, 0)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			l, err := q.scanConsumption(rows)
			if err != nil {
				return err
			}
			if err := emitNewerThan(l.Cursor()); err != nil {
				return err
			}
			if err := fn(l, plans, q.vouchers); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: read credit history: %w", err)
		}
		return emitNewerThan(HistoryCursor{})
	})
}

// historyQuery reads the lines of one account and filter inside a transaction.
type historyQuery struct {
	ctx context.Context
	tx  *Tx
	a   Account
	loc *time.Location
	f   HistoryFilter

	services map[int64]Service
	// vouchers are every voucher of the account, by id.
	vouchers map[int64]Voucher
	// hiddenVouchers are the ids of the vouchers whose lines are hidden.
	hiddenVouchers map[int64]bool
	// streams, once worked out, say where pages read consumption lines from.
	streams *historyStreams
	// plans, once read, are what plansWithLines returns.
	plans *historyPlans
}

func newHistoryQuery(ctx context.Context, tx *Tx, a Account, f HistoryFilter) (*historyQuery, error) {
	q := &historyQuery{ctx: ctx, tx: tx, a: a, loc: a.Location(), f: f, services: map[int64]Service{}, hiddenVouchers: map[int64]bool{}}
	rows, err := tx.QueryContext(ctx, `SELECT id, code, name, unit FROM services`)
	if err != nil {
		return nil, fmt.Errorf("store: find services: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s Service
		if err := rows.Scan(&s.ID, &s.Code, &s.Name, &s.Unit); err != nil {
			return nil, fmt.Errorf("store: find services: %w", err)
		}
		q.services[s.ID] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: find services: %w", err)
	}
	if q.vouchers, err = findVouchers(ctx, tx, a); err != nil {
		return nil, err
	}
	if !f.ShowExpired {
		for id, v := range q.vouchers {
			if v.Status(f.Today) == VoucherExpired {
				q.hiddenVouchers[id] = true
			}
		}
	}
	return q, nil
}

// findVouchers returns every voucher of the account, by id, with the services
// each is limited to.
func findVouchers(ctx context.Context, tx *Tx, a Account) (map[int64]Voucher, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT v.id, v.code, v.amount, v.remaining, v.effective_date, v.expiry_date, vs.service_id
		FROM vouchers v LEFT JOIN voucher_services vs ON vs.voucher_id = v.id
		WHERE v.account_id = ? ORDER BY v.id, vs.service_id`, a.ID)
	if err != nil {
		return nil, fmt.Errorf("store: find vouchers: %w", err)
	}
	defer rows.Close()
	out := map[int64]Voucher{}
	for rows.Next() {
		var (
			v            Voucher
			amount, rest int64
			eff, exp     string
			service      sql.NullInt64
		)
		if err := rows.Scan(&v.ID, &v.Code, &amount, &rest, &eff, &exp, &service); err != nil {
			return nil, fmt.Errorf("store: find vouchers: %w", err)
		}
		if prev, ok := out[v.ID]; ok {
			v = prev
		} else {
			v.AccountID = a.ID
			v.Amount, v.Remaining = Money{amount, a.Currency}, Money{rest, a.Currency}
			if v.EffectiveDate, err = ParseDate(eff); err != nil {
				return nil, err
			}
			if v.ExpiryDate, err = ParseDate(exp); err != nil {
				return nil, err
			}
		}
		if service.Valid {
			v.ServiceIDs = append(v.ServiceIDs, service.Int64)
		}
		out[v.ID] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: find vouchers: %w", err)
	}
	return out, nil
}

// span returns the instants [from, to) of the filter's days, as stored text,
// or "" for an open end.
func (q *historyQuery) span() (from, to string) {
	if !q.f.From.IsZero() {
		from = formatInstant(q.f.From.Start(q.loc))
	}
	// The day after 9999-12-31 would be written with five digits, which sorts
	// before every instant: such an end is no end.
	if !q.f.To.IsZero() && q.f.To.Year() < 9999 {
		to = formatInstant(q.f.To.AddDays(1).Start(q.loc))
	}
	return from, to
}

// keyset returns the SQL condition and arguments that keep the rows of a table
// whose lines are of kind past cursor c: older than it (newer when asc). at and
// id name the table's columns.
func keyset(kind HistoryKind, c HistoryCursor, asc bool, at, id string) (string, []any) {
	if c.IsZero() {
		return "", nil
	}
	t := formatInstant(c.At)
	op, eq := "<", "<="
	if asc {
		op, eq = ">", ">="
	}
	r, r0 := kind.rank(), c.Kind.rank()
	switch {
	case r == r0:
		return fmt.Sprintf("(%s, %s) %s (?, ?)", at, id, op), []any{t, c.ID}
	case (r < r0) != asc:
		// Lines of this kind at the cursor's instant come after it in this direction.
		return fmt.Sprintf("%s %s ?", at, eq), []any{t}
	}
	return fmt.Sprintf("%s %s ?", at, op), []any{t}
}

// historyStream is one ordered source of an account's consumption lines: one
// plan's (consumptions_plan_at), one voucher's (consumptions_voucher_at), or
// the pay-as-you-go lines, top-up and uncovered (consumptions_account_payg_at).
type historyStream struct {
	cond string
	args []any
}

// historyStreams says where the pages of a filter read consumption lines from:
// the account's lines in time order, skipping those the filter leaves out
// (scan), or the streams of what it can show, merged.
type historyStreams struct {
	scan bool
	list []historyStream
}

// historyStreamLimit bounds the plan and voucher streams a page merges; with
// more, it scans the account's lines instead. A variable so that tests can
// take the scanning path on a small ledger.
var historyStreamLimit = 32

// pageStreams returns where the pages read consumption lines from. Scanning
// the account's lines in order costs what it skips: nothing when every line
// can show, but every line of an Expired plan between two visible lines when
// expired credit is hidden, and a whole ledger of plan lines to find that no
// uncovered line is older. So when the filter hides an Expired plan or
// voucher, or keeps only some sources, a page reads instead each plan and
// voucher it can show that has lines, and the pay-as-you-go lines, through
// their indexes, and merges them: a few index seeks whatever lies between.
// With more than historyStreamLimit plans and vouchers it scans after all. A
// service filter still skips, within each, the lines of other services.
func (q *historyQuery) pageStreams() (*historyStreams, error) {
	if q.streams != nil {
		return q.streams, nil
	}
	f := q.f
	q.streams = &historyStreams{scan: true}
	if f.PlanID != 0 {
		return q.streams, nil
	}
	plans, few, err := q.plansWithLines()
	if err != nil {
		return nil, err
	}
	hidden := len(q.hiddenVouchers) > 0 || plans.expired > 0
	if !hidden && len(f.Sources) == 0 {
		return q.streams, nil
	}
	var list []historyStream
	if f.hasSource(SourcePlan) {
		if !few {
			return q.streams, nil
		}
		for _, id := range plans.withLines {
			list = append(list, historyStream{cond: "c.plan_id = ?", args: []any{id}})
		}
	}
	if f.hasSource(SourceVoucher) {
		for id := range q.vouchers {
			if !q.hiddenVouchers[id] {
				list = append(list, historyStream{cond: "c.voucher_id = ?", args: []any{id}})
			}
		}
	}
	if len(list) > historyStreamLimit {
		return q.streams, nil
	}
	if f.hasSource(SourceTopup) || f.hasSource(SourceUncovered) {
		// The partial index's own condition, word for word, so SQLite uses it.
		list = append(list, historyStream{cond: "c.source IN ('topup', 'uncovered')"})
	}
	q.streams = &historyStreams{list: list}
	return q.streams, nil
}

// historyPlans is what the credit history needs to know of an account's
// plans, cached per account by historyQuery.plansWithLines.
type historyPlans struct {
	version int64 // accounts.plans_version
	today   Date
	// expired counts the Expired plans (with expired credit hidden).
	expired int
	// withLines are the ids of the plans whose lines can show and that have
	// drawn a line, at most historyStreamLimit+1 of them.
	withLines []int64
}

// historyPlansKey keys the cache of historyPlans: an account, with expired
// credit shown or hidden.
type historyPlansKey struct {
	account     int64
	showExpired bool
}

// plansWithLines returns what the history needs to know of the account's
// plans: how many are Expired (with expired credit hidden), and the ids of
// those whose lines the filter can show (every plan, or with expired credit
// hidden those not Expired) that have drawn a line; plan_daily_spend has a row
// for every day a plan drew one, even of amount zero. The ids are incomplete,
// and few false, when there are more than historyStreamLimit of them.
//
// Finding them reads every plan of the account, so the answer is cached per
// account and day until accounts.plans_version changes: triggers count every
// change to a plan and every new plan_daily_spend row (migrations 0005, 0006).
func (q *historyQuery) plansWithLines() (hp historyPlans, few bool, err error) {
	if q.plans != nil {
		return *q.plans, len(q.plans.withLines) <= historyStreamLimit, nil
	}
	defer func() {
		if err == nil {
			q.plans = &hp
			few = len(hp.withLines) <= historyStreamLimit
		}
	}()
	if hp.version, err = plansVersion(q.ctx, q.tx, q.a.ID); err != nil {
		return hp, false, err
	}
	key := historyPlansKey{q.a.ID, !q.f.hidesExpiredPlans()}
	if c, ok := q.tx.db.historyPlans.Load(key); ok {
		if c := c.(historyPlans); c.version == hp.version && c.today == q.f.Today {
			return c, false, nil
		}
	}
	hp.today = q.f.Today
	where := `p.account_id = ?`
	args := []any{q.a.ID}
	if q.f.hidesExpiredPlans() {
		where += ` AND NOT ` + expiredSQL
		args = append(args, q.f.Today.String())
		err := q.tx.QueryRowContext(q.ctx, `SELECT COUNT(*) FROM plans p WHERE p.account_id = ? AND `+expiredSQL, q.a.ID, q.f.Today.String()).Scan(&hp.expired)
		if err != nil {
			return hp, false, fmt.Errorf("store: count expired plans: %w", err)
		}
	}
	rows, err := q.tx.QueryContext(q.ctx, `SELECT p.id FROM plans p WHERE `+where+`
		AND EXISTS (SELECT 1 FROM plan_daily_spend s WHERE s.plan_id = p.id)
		LIMIT `+strconv.Itoa(historyStreamLimit+1), args...)
	if err != nil {
		return hp, false, fmt.Errorf("store: find plans of the credit history: %w", err)
	}
	defer rows.Close()
	hp.withLines = []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return hp, false, fmt.Errorf("store: find plans of the credit history: %w", err)
		}
		hp.withLines = append(hp.withLines, id)
	}
	if err := rows.Err(); err != nil {
		return hp, false, fmt.Errorf("store: find plans of the credit history: %w", err)
	}
	q.tx.db.historyPlans.Store(key, hp)
	return hp, false, nil
}

// consumptionRows queries the consumption lines the filter selects, past c in
// the direction asked, limit of them (0: all): of one stream, or with no
// stream every line of the account, skipping those the filter leaves out.
func (q *historyQuery) consumptionRows(stream *historyStream, c HistoryCursor, asc bool, limit int) (*sql.Rows, error) {
	f := q.f
	conds := []string{"c.account_id = ?"}
	args := []any{q.a.ID}
	if stream != nil {
		conds = append(conds, stream.cond)
		args = append(args, stream.args...)
	}
	if f.PlanID != 0 {
		conds = append(conds, "c.plan_id = ?")
		args = append(args, f.PlanID)
	}
	if len(f.ServiceIDs) > 0 {
		conds = append(conds, "c.service_id IN (?"+strings.Repeat(",?", len(f.ServiceIDs)-1)+")")
		for _, id := range f.ServiceIDs {
			args = append(args, id)
		}
	}
	if len(f.Sources) > 0 {
		conds = append(conds, "c.source IN (?"+strings.Repeat(",?", len(f.Sources)-1)+")")
		for _, s := range f.Sources {
			args = append(args, string(s))
		}
	}
	from, to := q.span()
	if from != "" {
		conds = append(conds, "c.at >= ?")
		args = append(args, from)
	}
	if to != "" {
		conds = append(conds, "c.at < ?")
		args = append(args, to)
	}
	// A stream is of a plan or voucher that shows, or of lines never hidden.
	if stream == nil && f.hidesExpiredPlans() {
		conds = append(conds, `(c.plan_id IS NULL OR c.plan_id NOT IN (SELECT p.id FROM plans p WHERE p.account_id = ? AND `+expiredSQL+`))`)
		args = append(args, q.a.ID, f.Today.String())
	}
	if stream == nil && len(q.hiddenVouchers) > 0 {
		conds = append(conds, `(c.voucher_id IS NULL OR c.voucher_id NOT IN (SELECT v.id FROM vouchers v WHERE v.account_id = ? AND v.expiry_date < ?))`)
		args = append(args, q.a.ID, f.Today.String())
	}
	if k, kargs := keyset(HistoryConsumption, c, asc, "c.at", "c.id"); k != "" {
		conds = append(conds, k)
		args = append(args, kargs...)
	}
	dir := "DESC"
	if asc {
		dir = "ASC"
	}
	query := `SELECT c.id, c.at, c.day, c.source, c.service_id, COALESCE(c.plan_id, 0), COALESCE(c.voucher_id, 0),
		c.quantity, c.unit_price, c.amount
		FROM consumptions c WHERE ` + strings.Join(conds, " AND ") + `
		ORDER BY c.at ` + dir + `, c.id ` + dir
	if limit > 0 {
		query += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := q.tx.QueryContext(q.ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: read credit history: %w", err)
	}
	return rows, nil
}

// scanConsumption reads one row of consumptionRows as a line.
func (q *historyQuery) scanConsumption(rows *sql.Rows) (HistoryLine, error) {
	l := HistoryLine{Kind: HistoryConsumption}
	var (
		at, day, source, quantity, price string
		serviceID, amount                int64
	)
	if err := rows.Scan(&l.ID, &at, &day, &source, &serviceID, &l.PlanID, &l.VoucherID, &quantity, &price, &amount); err != nil {
		return l, fmt.Errorf("store: read credit history: %w", err)
	}
	var err error
	if l.At, err = parseInstant(at); err != nil {
		return l, fmt.Errorf("store: consumption %d: %w", l.ID, err)
	}
	if l.Day, err = ParseDate(day); err != nil {
		return l, fmt.Errorf("store: consumption %d: %w", l.ID, err)
	}
	if l.Quantity, err = decimal.NewFromString(quantity); err != nil {
		return l, fmt.Errorf("store: consumption %d: %w", l.ID, err)
	}
	if l.UnitPrice, err = decimal.NewFromString(price); err != nil {
		return l, fmt.Errorf("store: consumption %d: %w", l.ID, err)
	}
	l.Source = CreditSource(source)
	l.Service = q.services[serviceID]
	l.Amount = Money{-amount, q.a.Currency}
	return l, nil
}

// consumptions returns up to limit consumption lines past c, from the page's
// streams (see pageStreams), in the order asked.
func (q *historyQuery) consumptions(c HistoryCursor, asc bool, limit int) ([]HistoryLine, error) {
	streams, err := q.pageStreams()
	if err != nil {
		return nil, err
	}
	if streams.scan {
		return q.streamLines(nil, c, asc, limit, nil)
	}
	var out []HistoryLine
	for i := range streams.list {
		if out, err = q.streamLines(&streams.list[i], c, asc, limit, out); err != nil {
			return nil, err
		}
	}
	sortLines(out, asc)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// streamLines appends to out up to limit lines of a stream past c.
func (q *historyQuery) streamLines(stream *historyStream, c HistoryCursor, asc bool, limit int, out []HistoryLine) ([]HistoryLine, error) {
	rows, err := q.consumptionRows(stream, c, asc, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		l, err := q.scanConsumption(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read credit history: %w", err)
	}
	return out, nil
}

// additions returns up to limit (0: all) credit additions past c, in the order
// asked: top-ups and voucher grants.
func (q *historyQuery) additions(c HistoryCursor, asc bool, limit int) ([]HistoryLine, error) {
	f := q.f
	if !f.additions() {
		return nil, nil
	}
	var out []HistoryLine
	if f.hasSource(SourceTopup) {
		conds := []string{"t.account_id = ?"}
		args := []any{q.a.ID}
		from, to := q.span()
		if from != "" {
			conds = append(conds, "t.at >= ?")
			args = append(args, from)
		}
		if to != "" {
			conds = append(conds, "t.at < ?")
			args = append(args, to)
		}
		if k, kargs := keyset(HistoryTopup, c, asc, "t.at", "t.id"); k != "" {
			conds = append(conds, k)
			args = append(args, kargs...)
		}
		dir := "DESC"
		if asc {
			dir = "ASC"
		}
		query := `SELECT t.id, t.at, t.amount FROM topups t WHERE ` + strings.Join(conds, " AND ") +
			` ORDER BY t.at ` + dir + `, t.id ` + dir
		if limit > 0 {
			query += " LIMIT " + strconv.Itoa(limit)
		}
		rows, err := q.tx.QueryContext(q.ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("store: read top-ups: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			l := HistoryLine{Kind: HistoryTopup, Source: SourceTopup}
			var at string
			var amount int64
			if err := rows.Scan(&l.ID, &at, &amount); err != nil {
				return nil, fmt.Errorf("store: read top-ups: %w", err)
			}
			if l.At, err = parseInstant(at); err != nil {
				return nil, fmt.Errorf("store: top-up %d: %w", l.ID, err)
			}
			l.Day = DateOf(l.At, q.loc)
			l.Amount = Money{amount, q.a.Currency}
			out = append(out, l)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: read top-ups: %w", err)
		}
	}
	if f.hasSource(SourceVoucher) {
		for _, v := range q.vouchers {
			day := v.EffectiveDate
			if day.After(f.Today) || q.hiddenVouchers[v.ID] ||
				(!f.From.IsZero() && day.Before(f.From)) || (!f.To.IsZero() && day.After(f.To)) {
				continue
			}
			l := HistoryLine{Kind: HistoryVoucher, ID: v.ID, At: day.Start(q.loc).UTC(), Day: day,
				Source: SourceVoucher, Amount: v.Amount, VoucherID: v.ID}
			if c.IsZero() || (asc && c.less(l.Cursor())) || (!asc && l.Cursor().less(c)) {
				out = append(out, l)
			}
		}
	}
	sortLines(out, asc)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// fetch returns up to limit lines of every kind past c, merged in the order asked.
func (q *historyQuery) fetch(c HistoryCursor, asc bool, limit int) ([]HistoryLine, error) {
	lines, err := q.consumptions(c, asc, limit)
	if err != nil {
		return nil, err
	}
	adds, err := q.additions(c, asc, limit)
	if err != nil {
		return nil, err
	}
	if len(adds) > 0 {
		lines = append(lines, adds...)
		sortLines(lines, asc)
	}
	if len(lines) > limit {
		lines = lines[:limit]
	}
	return lines, nil
}

// sortLines sorts lines oldest first (asc) or newest first.
func sortLines(lines []HistoryLine, asc bool) {
	sort.Slice(lines, func(i, j int) bool {
		a, b := lines[i].Cursor(), lines[j].Cursor()
		if asc {
			return a.less(b)
		}
		return b.less(a)
	})
}

func reverse(lines []HistoryLine) []HistoryLine {
	out := make([]HistoryLine, len(lines))
	for i, l := range lines {
		out[len(lines)-1-i] = l
	}
	return out
}

// plansOf returns the plans the lines draw from, by id.
func (q *historyQuery) plansOf(lines []HistoryLine) (map[int64]Plan, error) {
	seen := map[int64]bool{}
	var args []any
	for _, l := range lines {
		if l.PlanID != 0 && !seen[l.PlanID] {
			seen[l.PlanID] = true
			args = append(args, l.PlanID)
		}
	}
	if len(args) == 0 {
		return map[int64]Plan{}, nil
	}
	return q.queryPlans(`p.id IN (?`+strings.Repeat(",?", len(args)-1)+`)`, args...)
}

// allPlans returns every plan of the account, by id.
func (q *historyQuery) allPlans() (map[int64]Plan, error) {
	return q.queryPlans(`p.account_id = ?`, q.a.ID)
}

func (q *historyQuery) queryPlans(where string, args ...any) (map[int64]Plan, error) {
	rows, err := q.tx.QueryContext(q.ctx, `SELECT `+planColumns+` FROM plans p JOIN accounts a ON a.id = p.account_id
		WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: find plans of the credit history: %w", err)
	}
	defer rows.Close()
	out := map[int64]Plan{}
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: find plans of the credit history: %w", err)
		}
		out[p.ID] = p
	}
	return out, rows.Err()
}

// FindHistoryServices returns the services the credit history can be filtered
// by, in name order: the whole catalog, which is small (which services an
// account has used would take a scan of its ledger).
func (db *DB) FindHistoryServices(ctx context.Context) ([]Service, error) {
	var out []Service
	err := db.view(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, code, name, unit FROM services ORDER BY name, code`)
		if err != nil {
			return fmt.Errorf("store: find services: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var s Service
			if err := rows.Scan(&s.ID, &s.Code, &s.Name, &s.Unit); err != nil {
				return fmt.Errorf("store: find services: %w", err)
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, err
}

// DailySpend is what an account's consumption drew from each credit source on
// one day, in minor units.
type DailySpend struct {
	Day   Date
	Drawn Drawn
}

// MaxHistoryChartDays bounds the days of the credit history's chart.
const MaxHistoryChartDays = 366

// CreditHistorySpend returns, for every day from from to to (inclusive, at
// most MaxHistoryChartDays: a longer period keeps its last days), what the
// consumption lines the filter selects drew from each credit source: the
// figures of the credit history's chart. Days outside the filter's own date
// range have nothing. Its figures are the sums of exactly the lines the
// history lists (credit additions are not consumption and are left out), read
// from the daily totals the engine keeps wherever the filter allows:
//
//   - a plan filter: plan_daily_spend of the plan, or with a service filter
//     the plan's consumption lines (consumptions_plan_at);
//   - otherwise account_daily_spend by source and service; when expired
//     credit is hidden and at most historyStreamLimit plans that show have
//     lines, the plans' figures are theirs alone (plan_daily_spend, or with a
//     service filter their lines); otherwise the account's totals less what
//     hidden plans and vouchers drew: on a day no plan (voucher) that shows
//     is valid, the day's whole plan (voucher) total; on a day one is, what
//     the hidden plans drew (plan_daily_spend, or with a service filter their
//     lines) and the hidden vouchers' lines (consumptions_voucher_at). So
//     lines are read only for the days a hidden plan or voucher shares with
//     one that shows.
//
// It returns an EINVALID error when to is before from, and an error when the
// database fails.
func (db *DB) CreditHistorySpend(ctx context.Context, a Account, f HistoryFilter, from, to Date) ([]DailySpend, error) {
	if to.Before(from) || from.IsZero() {
		return nil, Errorf(EINVALID, "The chart's period ends before it starts.")
	}
	if n := from.DaysUntil(to) + 1; n > MaxHistoryChartDays {
		from = to.AddDays(1 - MaxHistoryChartDays)
	}
	days := make([]DailySpend, from.DaysUntil(to)+1)
	for i := range days {
		days[i].Day = from.AddDays(i)
	}
	// The days outside the filter's own date range have nothing.
	qFrom, qTo := from, to
	if !f.From.IsZero() && f.From.After(qFrom) {
		qFrom = f.From
	}
	if !f.To.IsZero() && f.To.Before(qTo) {
		qTo = f.To
	}
	if qTo.Before(qFrom) {
		return days, nil
	}
	err := db.view(ctx, func(tx *Tx) error {
		q, err := newHistoryQuery(ctx, tx, a, f)
		if err != nil {
			return err
		}
		// add adds the rows (day, source, amount) of a query, times sign, to the
		// days; with only, to the days it marks.
		add := func(sign int64, only []bool, query string, args ...any) error {
			rows, err := tx.QueryContext(ctx, query, args...)
			if err != nil {
				return fmt.Errorf("store: credit history spend: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var day, source string
				var amount int64
				if err := rows.Scan(&day, &source, &amount); err != nil {
					return fmt.Errorf("store: credit history spend: %w", err)
				}
				d, err := ParseDate(day)
				if err != nil {
					return err
				}
				if i := from.DaysUntil(d); i >= 0 && i < len(days) && (only == nil || only[i]) {
					days[i].Drawn.add(CreditSource(source), sign*amount)
				}
			}
			return rows.Err()
		}
		services, serviceArgs := "", []any{}
		if len(f.ServiceIDs) > 0 {
			services = " AND c.service_id IN (?" + strings.Repeat(",?", len(f.ServiceIDs)-1) + ")"
			for _, id := range f.ServiceIDs {
				serviceArgs = append(serviceArgs, id)
			}
		}
		// linesOf sums the consumption lines from start to end (inclusive) of
		// the plans or vouchers (col) that sub selects, within the service filter.
		linesOf := func(sign int64, only []bool, start, end Date, col, sub string, subArgs ...any) error {
			args := append(append(subArgs, formatInstant(start.Start(q.loc)), formatInstant(end.AddDays(1).Start(q.loc))), serviceArgs...)
			return add(sign, only, `SELECT c.day, c.source, SUM(c.amount) FROM consumptions c
				WHERE c.`+col+` IN (`+sub+`) AND c.at >= ? AND c.at < ?`+services+`
				GROUP BY c.day, c.source`, args...)
		}
		if f.PlanID != 0 {
			if !f.hasSource(SourcePlan) {
				return nil
			}
			if len(f.ServiceIDs) == 0 {
				return add(1, nil, `SELECT day, 'plan', amount FROM plan_daily_spend
					WHERE plan_id = (SELECT id FROM plans WHERE id = ? AND account_id = ?) AND day >= ? AND day <= ?`,
					f.PlanID, a.ID, qFrom.String(), qTo.String())
			}
			return linesOf(1, nil, qFrom, qTo, "plan_id", `SELECT id FROM plans WHERE id = ? AND account_id = ?`, f.PlanID, a.ID)
		}
		conds, args := "account_id = ? AND day >= ? AND day <= ?", []any{a.ID, qFrom.String(), qTo.String()}
		if len(f.Sources) > 0 {
			conds += " AND source IN (?" + strings.Repeat(",?", len(f.Sources)-1) + ")"
			for _, s := range f.Sources {
				args = append(args, string(s))
			}
		}
		if len(f.ServiceIDs) > 0 {
			conds += strings.Replace(services, "c.", "", 1)
			args = append(args, serviceArgs...)
		}
		if err := add(1, nil, `SELECT day, source, SUM(amount) FROM account_daily_spend WHERE `+conds+` GROUP BY day, source`, args...); err != nil {
			return err
		}

		// Hidden credit comes off the daily totals. A line falls on a day its
		// plan or voucher is valid on (the engine draws from nothing else), so
		// on a day no plan that shows is valid, every plan line is a hidden
		// plan's and the day's plan total goes whole, with nothing read. Only
		// on the days a plan that shows shares with hidden ones is what the
		// hidden plans drew read: their daily spend, or with a service filter
		// their lines. The same for vouchers, whose lines are always read.
		offDays := func(src CreditSource, shown []bool) (start, end Date, found bool) {
			for i := range days {
				d := days[i].Day
				if d.Before(qFrom) || d.After(qTo) {
					continue
				}
				if !shown[i] {
					days[i].Drawn.add(src, -days[i].Drawn.Of(src))
					continue
				}
				if !found {
					start, found = d, true
				}
				end = d
			}
			return start, end, found
		}
		// hiddenVouchers takes off what expired vouchers drew.
		hiddenVouchers := func() error {
			if len(q.hiddenVouchers) == 0 || !f.hasSource(SourceVoucher) {
				return nil
			}
			shown := make([]bool, len(days))
			for id, v := range q.vouchers {
				if !q.hiddenVouchers[id] {
					markDays(shown, from, v.EffectiveDate, v.ExpiryDate)
				}
			}
			if start, end, ok := offDays(SourceVoucher, shown); ok {
				return linesOf(-1, shown, start, end, "voucher_id", `SELECT v.id FROM vouchers v WHERE v.account_id = ? AND v.expiry_date < ?`,
					a.ID, f.Today.String())
			}
			return nil
		}
		if f.hidesExpiredPlans() && f.hasSource(SourcePlan) {
			// When few plans that show have lines, their own figures are read
			// instead of the account's less what the hidden ones drew.
			plans, few, err := q.plansWithLines()
			if err != nil {
				return err
			}
			if live := plans.withLines; few {
				for i := range days {
					days[i].Drawn.add(SourcePlan, -days[i].Drawn.Of(SourcePlan))
				}
				if len(live) == 0 {
					return hiddenVouchers()
				}
				ids := make([]any, len(live))
				for i, id := range live {
					ids[i] = id
				}
				in := "?" + strings.Repeat(",?", len(live)-1)
				if len(f.ServiceIDs) == 0 {
					err = add(1, nil, `SELECT day, 'plan', SUM(amount) FROM plan_daily_spend
						WHERE plan_id IN (`+in+`) AND day >= ? AND day <= ? GROUP BY day`,
						append(ids, qFrom.String(), qTo.String())...)
				} else {
					err = linesOf(1, nil, qFrom, qTo, "plan_id", in, ids...)
				}
				if err != nil {
					return err
				}
				return hiddenVouchers()
			}
			shown, err := q.validDays(from, len(days), `SELECT p.start_date, p.end_date FROM plans p WHERE p.account_id = ? AND NOT `+expiredSQL,
				a.ID, f.Today.String())
			if err != nil {
				return err
			}
			hidden := `SELECT p.id FROM plans p WHERE p.account_id = ? AND ` + expiredSQL
			if start, end, ok := offDays(SourcePlan, shown); ok {
				if len(f.ServiceIDs) == 0 {
					err = add(-1, shown, `SELECT day, 'plan', SUM(amount) FROM plan_daily_spend
						WHERE plan_id IN (`+hidden+`) AND day >= ? AND day <= ? GROUP BY day`,
						a.ID, f.Today.String(), start.String(), end.String())
				} else {
					err = linesOf(-1, shown, start, end, "plan_id", hidden, a.ID, f.Today.String())
				}
				if err != nil {
					return err
				}
			}
		}
		return hiddenVouchers()
	})
	if err != nil {
		return nil, err
	}
	return days, nil
}

// validDays returns, for the n days from from, whether one of the date ranges
// (start, end) the query selects covers it.
func (q *historyQuery) validDays(from Date, n int, query string, args ...any) ([]bool, error) {
	out := make([]bool, n)
	rows, err := q.tx.QueryContext(q.ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: credit history spend: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var start, end string
		if err := rows.Scan(&start, &end); err != nil {
			return nil, fmt.Errorf("store: credit history spend: %w", err)
		}
		s, err := ParseDate(start)
		if err != nil {
			return nil, err
		}
		e, err := ParseDate(end)
		if err != nil {
			return nil, err
		}
		markDays(out, from, s, e)
	}
	return out, rows.Err()
}

// markDays marks the days of days (from from on) within start..end.
func markDays(days []bool, from, start, end Date) {
	i := max(from.DaysUntil(start), 0)
	last := min(from.DaysUntil(end), len(days)-1)
	for ; i <= last; i++ {
		days[i] = true
	}
}

// VoucherStatus is where a voucher stands on a day.
type VoucherStatus string

// The statuses of a voucher.
const (
	VoucherValid   VoucherStatus = "valid"
	VoucherExpired VoucherStatus = "expired"
	VoucherUsedUp  VoucherStatus = "used_up"
	// VoucherPending is a voucher whose effective date is still ahead.
	VoucherPending VoucherStatus = "pending"
)

// Label returns the status as the pages write it.
func (s VoucherStatus) Label() string {
	switch s {
	case VoucherValid:
		return "Valid"
	case VoucherExpired:
		return "Expired"
	case VoucherUsedUp:
		return "Used up"
	}
	return "Not yet valid"
}

// Status returns the voucher's status on the given day: Expired after its
// expiry date; Used up when nothing remains; Not yet valid before its
// effective date; Valid otherwise (it can pay for usage that day).
func (v Voucher) Status(today Date) VoucherStatus {
	switch {
	case today.After(v.ExpiryDate):
		return VoucherExpired
	case v.Remaining.Minor <= 0:
		return VoucherUsedUp
	case today.Before(v.EffectiveDate):
		return VoucherPending
	}
	return VoucherValid
}
