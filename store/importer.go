package store

// The import file of spec/import-format.md: accounts, users, services, plans,
// vouchers and top-ups loaded by `billingplans import`. A file is decoded
// strictly (DecodeImport), checked whole against itself and the database, and
// written in one transaction (DB.Import), so a bad file changes nothing. The
// rules the spec leaves open are written down in docs/import.md.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// ImportFile is the content of an import file. Every section is optional.
// Amounts, prices and dates are kept as the file writes them (strings); DB.Import
// parses and checks them.
type ImportFile struct {
	Accounts []ImportAccount `json:"accounts,omitempty"`
	Users    []ImportUser    `json:"users,omitempty"`
	Services []ImportService `json:"services,omitempty"`
	Plans    []ImportPlan    `json:"plans,omitempty"`
	Vouchers []ImportVoucher `json:"vouchers,omitempty"`
	Topups   []ImportTopup   `json:"topups,omitempty"`
}

// ImportAccount is an account to create. Timezone defaults to DefaultTimeZone.
type ImportAccount struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
	Timezone string `json:"timezone,omitempty"`
}

// ImportUser is a user to create, with the accounts they belong to.
type ImportUser struct {
	Email       string             `json:"email"`
	Name        string             `json:"name"`
	Password    string             `json:"password"`
	Memberships []ImportMembership `json:"memberships,omitempty"`
}

// ImportMembership is a user's role in one account.
type ImportMembership struct {
	Account string `json:"account"`
	Role    string `json:"role"`
}

// ImportService is a service of the catalog to create, with its list prices and
// package options. Prices are keyed by currency.
type ImportService struct {
	Code       string            `json:"code"`
	Name       string            `json:"name"`
	Unit       string            `json:"unit"`
	ListPrices map[string]string `json:"list_prices,omitempty"`
	Packages   []ImportPackage   `json:"packages,omitempty"`
}

// ImportPackage is a package option of a service, with its price per unit in
// each currency.
type ImportPackage struct {
	Code   string            `json:"code"`
	Name   string            `json:"name"`
	Prices map[string]string `json:"prices,omitempty"`
}

// ImportPlan is a billing plan to create, with the services it covers and the
// payments already received. Suspended is an extension of the spec's format
// (docs/import.md).
type ImportPlan struct {
	Code          string              `json:"code"`
	Account       string              `json:"account"`
	Type          string              `json:"type"`
	StartDate     string              `json:"start_date"`
	EndDate       string              `json:"end_date"`
	Amount        string              `json:"amount"`
	Region        string              `json:"region"`
	PaymentOption string              `json:"payment_option"`
	UpfrontAmount string              `json:"upfront_amount,omitempty"`
	PaymentMethod string              `json:"payment_method"`
	CreatedAt     string              `json:"created_at,omitempty"`
	CreatedBy     string              `json:"created_by,omitempty"`
	Suspended     bool                `json:"suspended,omitempty"`
	Services      []ImportPlanService `json:"services"`
	Payments      []ImportPayment     `json:"payments,omitempty"`
}

// ImportPlanService is a service a plan covers. Package is optional;
// PricePerUnit defaults to the package's price in the account's currency.
type ImportPlanService struct {
	Service      string `json:"service"`
	Package      string `json:"package,omitempty"`
	PricePerUnit string `json:"price_per_unit,omitempty"`
}

// ImportPayment is a completed payment received against a plan.
type ImportPayment struct {
	Amount string `json:"amount"`
	Method string `json:"method"`
	PaidAt string `json:"paid_at"`
}

// ImportVoucher is a voucher to create. No Services means every service.
type ImportVoucher struct {
	Code          string   `json:"code"`
	Account       string   `json:"account"`
	Amount        string   `json:"amount"`
	EffectiveDate string   `json:"effective_date"`
	ExpiryDate    string   `json:"expiry_date"`
	Services      []string `json:"services,omitempty"`
}

// ImportTopup is top-up credit added to an account's balance.
type ImportTopup struct {
	Account string `json:"account"`
	Amount  string `json:"amount"`
	At      string `json:"at"`
}

// ImportReport counts what an import added, per section of the file.
type ImportReport struct {
	Accounts    int
	Users       int
	Memberships int
	Services    int
	Packages    int
	Plans       int
	Payments    int
	Vouchers    int
	Topups      int
}

// importActor is who the audit log names for an import, and the payments when
// the file names no creator of their plan.
const importActor = "import"

// AuditPlanImport is the audit log's action for a plan created by an import.
const AuditPlanImport = "plan.import"

// DecodeImport reads an import file strictly: it returns an EINVALID error that
// gives the line and column of a JSON syntax error, or the JSON path of a field
// the format does not have, of a field given twice, or of a value of the wrong
// kind (a number where the format wants a string).
func DecodeImport(r io.Reader) (ImportFile, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return ImportFile{}, fmt.Errorf("store: read import file: %w", err)
	}
	// Editors on some systems start UTF-8 files with a byte order mark; JSON has none.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return ImportFile{}, Errorf(EINVALID, "The file is empty: an import file holds one JSON object.")
	}
	// Unmarshal checks the syntax of the whole input first and, unlike the token
	// reader, reports the offset from the start of the file.
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineColumn(data, se)
			return ImportFile{}, Errorf(EINVALID, "line %d, column %d: %s", line, col, se.Error())
		}
		return ImportFile{}, Errorf(EINVALID, "not JSON: %s", err.Error())
	}
	w := jsonWalker{dec: json.NewDecoder(bytes.NewReader(data))}
	w.dec.UseNumber()
	if err := w.walk(reflect.TypeFor[ImportFile](), ""); err != nil {
		return ImportFile{}, err
	}
	// The walk found every field and kind right, so this cannot fail on the
	// content; it matches keys case-insensitively, but the walk accepted only exact ones.
	var f ImportFile
	if err := json.Unmarshal(data, &f); err != nil {
		return ImportFile{}, Errorf(EINVALID, "not an import file: %s", err.Error())
	}
	return f, nil
}

// lineColumn returns the 1-based line and column (in characters) of a syntax
// error: the offending character, or the end of the input when it ended early.
func lineColumn(data []byte, se *json.SyntaxError) (line, col int) {
	pos := int(se.Offset) - 1 // Offset counts the bad byte itself
	if int(se.Offset) >= len(data) && strings.Contains(se.Error(), "end of JSON input") {
		pos = len(data)
	}
	pos = max(0, min(pos, len(data)))
	start := bytes.LastIndexByte(data[:pos], '\n') + 1
	return bytes.Count(data[:pos], []byte("\n")) + 1, utf8.RuneCount(data[start:pos]) + 1
}

// jsonWalker reads a JSON document token by token alongside the Go type it must
// fit, so that an unknown field or a value of the wrong kind is reported with its
// path (plans[0].services[1].price_per_unit). encoding/json's own errors name
// neither the array index nor, for an unknown field, where it is.
type jsonWalker struct {
	dec *json.Decoder
}

func (w *jsonWalker) walk(t reflect.Type, path string) error {
	tok, err := w.dec.Token()
	if err != nil {
		return Errorf(EINVALID, "not JSON: %s", err.Error())
	}
	if path == "" && tok != json.Delim('{') {
		return Errorf(EINVALID, "An import file holds one JSON object, not %s.", tokenKind(tok))
	}
	if tok == nil {
		return nil // null is as if the field were left out
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return importError(path, "must be a string, not %s", tokenKind(tok))
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return importError(path, "must be true or false, not %s", tokenKind(tok))
		}
	case reflect.Slice:
		if tok != json.Delim('[') {
			return importError(path, "must be a list, not %s", tokenKind(tok))
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.walk(t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err = w.dec.Token() // ]
	case reflect.Map, reflect.Struct:
		if tok != json.Delim('{') {
			return importError(path, "must be an object, not %s", tokenKind(tok))
		}
		var fields map[string]reflect.Type
		if t.Kind() == reflect.Struct {
			fields = jsonFields(t)
		}
		seen := map[string]bool{}
		for w.dec.More() {
			tok, err := w.dec.Token()
			if err != nil {
				return Errorf(EINVALID, "not JSON: %s", err.Error())
			}
			key, _ := tok.(string)
			at := key
			if path != "" {
				at = path + "." + key
			}
			if seen[key] {
				return importError(at, "given twice")
			}
			seen[key] = true
			var elem reflect.Type
			if fields == nil {
				elem = t.Elem() // any key of a map (list_prices) is fine; the currency is checked later
			} else if elem = fields[key]; elem == nil {
				return importError(at, "unknown field")
			}
			if err := w.walk(elem, at); err != nil {
				return err
			}
		}
		_, err = w.dec.Token() // }
	default:
		return fmt.Errorf("store: import walk: unexpected kind %s at %s", t.Kind(), path)
	}
	if err != nil {
		return Errorf(EINVALID, "not JSON: %s", err.Error())
	}
	return nil
}

// jsonFields returns the JSON names of a struct's fields and their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			fields[name] = f.Type
		}
	}
	return fields
}

// tokenKind names the kind of JSON value a token starts, for messages.
func tokenKind(tok json.Token) string {
	switch tok.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number (write numbers as strings: \"150000000\")"
	case bool:
		return "true or false"
	case nil:
		return "null"
	}
	if tok == json.Delim('[') {
		return "a list"
	}
	return "an object"
}

// importError returns an EINVALID error about the value at path in an import file.
func importError(path, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: path, Message: path + ": " + fmt.Sprintf(format, args...)}
}

// importConflict returns an ECONFLICT error about a code at path that is already
// taken, in the file or in the database.
func importConflict(path, format string, args ...any) *Error {
	return &Error{Code: ECONFLICT, Field: path, Message: path + ": " + fmt.Sprintf(format, args...)}
}

// Import adds what the file holds to the database. It checks the whole file
// first, against itself and against the database, and then writes it in one
// transaction: on any error nothing is written. A bad value gives an EINVALID
// error, and a code that already exists (in the database or earlier in the file)
// an ECONFLICT one, each naming the JSON path of the first bad value; other
// errors are failures of the database.
func (db *DB) Import(ctx context.Context, f ImportFile) (ImportReport, error) {
	// Check once in a reading transaction so that a bad file fails before the
	// password hashes, which are slow on purpose, and so that they are made
	// outside the write lock that the server and ingest wait on.
	if err := db.view(ctx, func(tx *Tx) error {
		_, err := checkImport(ctx, tx, f)
		return err
	}); err != nil {
		return ImportReport{}, err
	}
	hashes := make([]string, len(f.Users))
	for i, u := range f.Users {
		h, err := HashPassword(u.Password)
		if err != nil {
			return ImportReport{}, importError(fmt.Sprintf("users[%d].password", i), "%s", ErrorMessage(err))
		}
		hashes[i] = h
	}
	var rep ImportReport
	err := db.update(ctx, func(tx *Tx) error {
		// Check again: the database may have changed since the first check.
		b, err := checkImport(ctx, tx, f)
		if err != nil {
			return err
		}
		rep, err = writeImport(ctx, tx, b, hashes)
		return err
	})
	if err != nil {
		return ImportReport{}, err
	}
	return rep, nil
}

// importBatch is an import file checked and resolved: every value parsed, every
// reference found, every derived figure computed; writeImport only writes it.
type importBatch struct {
	accounts []*importAccount
	users    []importUser
	services []*importService
	plans    []importPlan
	vouchers []importVoucher
	topups   []importTopup
}

// importAccount is an account named by the file: one it creates (path is where)
// or one already in the database (id is set).
type importAccount struct {
	id       int64
	path     string
	code     string
	name     string
	currency Currency
	timezone string
	loc      *time.Location
}

type importUser struct {
	email, name string
	memberships []importMembership
}

type importMembership struct {
	account *importAccount
	role    Role
}

// importService is a service named by the file: one it creates (path is where)
// or one already in the database (id is set).
type importService struct {
	id         int64
	path       string
	code       string
	name       string
	unit       string
	listPrices []importPrice
	packages   []*importPackage
	byCode     map[string]*importPackage
}

type importPackage struct {
	id     int64
	code   string
	name   string
	prices []importPrice
}

// price returns the package's price per unit in currency c, and whether it has one.
func (p *importPackage) price(c Currency) (string, bool) {
	for _, pr := range p.prices {
		if pr.currency == c {
			return pr.price, true
		}
	}
	return "", false
}

// importPrice is a price per unit in one currency, as exact decimal text.
type importPrice struct {
	currency Currency
	price    string
}

type importPlan struct {
	plan     Plan
	account  *importAccount
	services []importPlanService
	// payments are in paid_at order.
	payments []importPayment
}

type importPlanService struct {
	service *importService
	pkg     *importPackage // nil when the file names none
	price   string
}

type importPayment struct {
	amount Money
	method PaymentMethod
	paidAt time.Time
}

type importVoucher struct {
	voucher  Voucher
	account  *importAccount
	services []*importService
}

type importTopup struct {
	account *importAccount
	amount  Money
	at      time.Time
}

// importChecker checks an import file in a transaction, looking up the codes the
// file references (and remembering what it found) in the file and the database.
type importChecker struct {
	ctx      context.Context
	tx       *Tx
	accounts map[string]*importAccount // nil value: not in the database
	services map[string]*importService
	emails   map[string]string // email -> path where the file first gives it
	plans    map[string]string // plan code -> path
	vouchers map[string]string // voucher code -> path
	topups   map[topupKey]string
}

// topupKey identifies a top-up: the file has no code for them, so the same
// account, amount and instant twice is taken for the same top-up.
type topupKey struct {
	account string
	minor   int64
	at      string
}

// checkImport checks f whole and resolves it, or returns the error of its first
// bad value, section by section in the order of the format.
func checkImport(ctx context.Context, tx *Tx, f ImportFile) (*importBatch, error) {
	c := &importChecker{
		ctx: ctx, tx: tx,
		accounts: map[string]*importAccount{}, services: map[string]*importService{},
		emails: map[string]string{}, plans: map[string]string{}, vouchers: map[string]string{},
		topups: map[topupKey]string{},
	}
	b := &importBatch{}
	for i, a := range f.Accounts {
		acct, err := c.checkAccount(fmt.Sprintf("accounts[%d]", i), a)
		if err != nil {
			return nil, err
		}
		b.accounts = append(b.accounts, acct)
	}
	for i, u := range f.Users {
		user, err := c.checkUser(fmt.Sprintf("users[%d]", i), u)
		if err != nil {
			return nil, err
		}
		b.users = append(b.users, user)
	}
	for i, s := range f.Services {
		svc, err := c.checkService(fmt.Sprintf("services[%d]", i), s)
		if err != nil {
			return nil, err
		}
		b.services = append(b.services, svc)
	}
	for i, p := range f.Plans {
		plan, err := c.checkPlan(fmt.Sprintf("plans[%d]", i), p)
		if err != nil {
			return nil, err
		}
		b.plans = append(b.plans, plan)
	}
	for i, v := range f.Vouchers {
		voucher, err := c.checkVoucher(fmt.Sprintf("vouchers[%d]", i), v)
		if err != nil {
			return nil, err
		}
		b.vouchers = append(b.vouchers, voucher)
	}
	for i, t := range f.Topups {
		topup, err := c.checkTopup(fmt.Sprintf("topups[%d]", i), t)
		if err != nil {
			return nil, err
		}
		b.topups = append(b.topups, topup)
	}
	return b, nil
}

func (c *importChecker) checkAccount(path string, a ImportAccount) (*importAccount, error) {
	if err := checkCode(path+".code", a.Code); err != nil {
		return nil, err
	}
	if prev, err := c.account(a.Code); err != nil {
		return nil, err
	} else if prev != nil {
		return nil, c.taken(path+".code", a.Code, prev.path)
	}
	if err := required(path+".name", a.Name); err != nil {
		return nil, err
	}
	cur, err := ParseCurrency(a.Currency)
	if err != nil {
		return nil, importError(path+".currency", "%q is not one of VND, USD, JPY", a.Currency)
	}
	tz := a.Timezone
	if tz == "" {
		tz = DefaultTimeZone
	}
	// "Local" is whatever zone the importing machine is in: not a zone to keep.
	loc, err := loadLocation(tz)
	if err != nil || tz == "Local" {
		return nil, importError(path+".timezone", "unknown time zone %q (an IANA name such as %q)", a.Timezone, DefaultTimeZone)
	}
	acct := &importAccount{path: path + ".code", code: a.Code, name: a.Name, currency: cur, timezone: tz, loc: loc}
	c.accounts[a.Code] = acct
	return acct, nil
}

func (c *importChecker) checkUser(path string, u ImportUser) (importUser, error) {
	// Emails are compared and kept as sign-in reads them: trimmed, lower case.
	email := NormalizeEmail(u.Email)
	if err := checkEmail(path+".email", email); err != nil {
		return importUser{}, err
	}
	if prev, ok := c.emails[email]; ok {
		return importUser{}, importConflict(path+".email", "%q appears twice in the file (also %s)", u.Email, prev)
	}
	if found, err := c.exists(`SELECT 1 FROM users WHERE lower(email) = ?`, email); err != nil {
		return importUser{}, err
	} else if found {
		return importUser{}, importConflict(path+".email", "%q already exists", u.Email)
	}
	c.emails[email] = path + ".email"
	if err := required(path+".name", u.Name); err != nil {
		return importUser{}, err
	}
	if utf8.RuneCountInString(u.Password) < MinPasswordLength {
		return importUser{}, importError(path+".password", "needs at least %d characters", MinPasswordLength)
	}
	user := importUser{email: email, name: u.Name}
	seen := map[string]bool{}
	for i, m := range u.Memberships {
		at := fmt.Sprintf("%s.memberships[%d]", path, i)
		acct, err := c.accountRef(at+".account", m.Account)
		if err != nil {
			return importUser{}, err
		}
		if seen[m.Account] {
			return importUser{}, importError(at+".account", "%q listed twice", m.Account)
		}
		seen[m.Account] = true
		role := Role(m.Role)
		if role != RoleAdmin && role != RoleViewer {
			return importUser{}, importError(at+".role", "%q is not one of admin, viewer", m.Role)
		}
		user.memberships = append(user.memberships, importMembership{account: acct, role: role})
	}
	return user, nil
}

func (c *importChecker) checkService(path string, s ImportService) (*importService, error) {
	if err := checkCode(path+".code", s.Code); err != nil {
		return nil, err
	}
	if prev, err := c.service(s.Code); err != nil {
		return nil, err
	} else if prev != nil {
		return nil, c.taken(path+".code", s.Code, prev.path)
	}
	if err := required(path+".name", s.Name); err != nil {
		return nil, err
	}
	if err := required(path+".unit", s.Unit); err != nil {
		return nil, err
	}
	svc := &importService{path: path + ".code", code: s.Code, name: s.Name, unit: s.Unit, byCode: map[string]*importPackage{}}
	var err error
	if svc.listPrices, err = checkPrices(path+".list_prices", s.ListPrices); err != nil {
		return nil, err
	}
	for i, p := range s.Packages {
		at := fmt.Sprintf("%s.packages[%d]", path, i)
		if err := checkCode(at+".code", p.Code); err != nil {
			return nil, err
		}
		if svc.byCode[p.Code] != nil {
			return nil, importConflict(at+".code", "%q appears twice in service %q", p.Code, s.Code)
		}
		if err := required(at+".name", p.Name); err != nil {
			return nil, err
		}
		pkg := &importPackage{code: p.Code, name: p.Name}
		if pkg.prices, err = checkPrices(at+".prices", p.Prices); err != nil {
			return nil, err
		}
		svc.packages = append(svc.packages, pkg)
		svc.byCode[p.Code] = pkg
	}
	c.services[s.Code] = svc
	return svc, nil
}

func (c *importChecker) checkPlan(path string, p ImportPlan) (importPlan, error) {
	var none importPlan
	if err := checkCode(path+".code", p.Code); err != nil {
		return none, err
	}
	if prev, ok := c.plans[p.Code]; ok {
		return none, importConflict(path+".code", "%q appears twice in the file (also %s)", p.Code, prev)
	}
	if found, err := c.exists(`SELECT 1 FROM plans WHERE code = ?`, p.Code); err != nil {
		return none, err
	} else if found {
		return none, importConflict(path+".code", "%q already exists", p.Code)
	}
	c.plans[p.Code] = path + ".code"
	acct, err := c.accountRef(path+".account", p.Account)
	if err != nil {
		return none, err
	}
	cur := acct.currency
	if err := required(path+".type", p.Type); err != nil {
		return none, err
	}
	plan := Plan{Code: p.Code, Type: p.Type, Region: p.Region, Suspended: p.Suspended}
	if plan.StartDate, err = checkDate(path+".start_date", p.StartDate); err != nil {
		return none, err
	}
	if plan.EndDate, err = checkDate(path+".end_date", p.EndDate); err != nil {
		return none, err
	}
	if plan.EndDate.Before(plan.StartDate) {
		return none, importError(path+".end_date", "before start_date")
	}
	if plan.Amount, err = checkAmount(path+".amount", p.Amount, cur); err != nil {
		return none, err
	}
	if err := required(path+".region", p.Region); err != nil {
		return none, err
	}
	plan.PaymentOption = PaymentOption(p.PaymentOption)
	plan.UpfrontAmount = Money{Currency: cur}
	switch plan.PaymentOption {
	case PartialUpfront:
		if p.UpfrontAmount == "" {
			return none, importError(path+".upfront_amount", "required for partial_upfront")
		}
		if plan.UpfrontAmount, err = checkAmount(path+".upfront_amount", p.UpfrontAmount, cur); err != nil {
			return none, err
		}
		if plan.UpfrontAmount.Minor > plan.Amount.Minor {
			return none, importError(path+".upfront_amount", "more than the plan amount %s", plan.Amount.Plain())
		}
	case AllUpfront, Postpaid:
		if p.UpfrontAmount != "" {
			return none, importError(path+".upfront_amount", "only a partial_upfront plan has an upfront amount")
		}
	default:
		return none, importError(path+".payment_option", "%q is not one of all_upfront, partial_upfront, postpaid", p.PaymentOption)
	}
	if plan.PaymentMethod, err = checkMethod(path+".payment_method", p.PaymentMethod); err != nil {
		return none, err
	}
	plan.CreatedAt = c.tx.Now()
	if p.CreatedAt != "" {
		if plan.CreatedAt, err = checkInstant(path+".created_at", p.CreatedAt); err != nil {
			return none, err
		}
	}
	plan.CreatedBy = importActor
	if p.CreatedBy != "" {
		plan.CreatedBy = NormalizeEmail(p.CreatedBy)
		if err := checkEmail(path+".created_by", plan.CreatedBy); err != nil {
			return none, err
		}
	}

	out := importPlan{account: acct}
	if len(p.Services) == 0 {
		return none, importError(path+".services", "a plan covers at least one service")
	}
	covered := map[string]bool{}
	for i, s := range p.Services {
		at := fmt.Sprintf("%s.services[%d]", path, i)
		ps, err := c.checkPlanService(at, s, cur)
		if err != nil {
			return none, err
		}
		if covered[s.Service] {
			return none, importError(at+".service", "%q listed twice", s.Service)
		}
		covered[s.Service] = true
		out.services = append(out.services, ps)
	}

	paid := Money{Currency: cur}
	for i, pay := range p.Payments {
		at := fmt.Sprintf("%s.payments[%d]", path, i)
		var pm importPayment
		if pm.amount, err = checkAmount(at+".amount", pay.Amount, cur); err != nil {
			return none, err
		}
		if paid = paid.Add(pm.amount); paid.Minor > plan.Amount.Minor {
			return none, importError(at+".amount", "payments add up to %s, more than the plan amount %s", paid.Plain(), plan.Amount.Plain())
		}
		if pm.method, err = checkMethod(at+".method", pay.Method); err != nil {
			return none, err
		}
		if pm.paidAt, err = checkInstant(at+".paid_at", pay.PaidAt); err != nil {
			return none, err
		}
		out.payments = append(out.payments, pm)
	}
	sort.SliceStable(out.payments, func(i, j int) bool { return out.payments[i].paidAt.Before(out.payments[j].paidAt) })

	plan.FirstTermMonths = TermMonths(plan.StartDate, plan.EndDate)
	plan.FirstTermAmount = plan.Amount
	plan.PaidTotal = paid
	plan.PaidUpfront = Money{Currency: cur}
	startsAt := plan.StartDate.Start(acct.loc)
	paidAt := make([]time.Time, len(out.payments))
	amounts := make([]int64, len(out.payments))
	for i, pm := range out.payments {
		paidAt[i], amounts[i] = pm.paidAt, pm.amount.Minor
		if pm.paidAt.Before(startsAt) {
			plan.PaidUpfront = plan.PaidUpfront.Add(pm.amount)
		}
	}
	if plan.PaymentOption == Postpaid {
		// Postpaid needs nothing before use: the plan is activated when created.
		created := plan.CreatedAt
		plan.ActivatedAt = &created
	} else {
		plan.ActivatedAt = activationTime(plan.RequiredBeforeUse().Minor, paidAt, amounts)
	}
	out.plan = plan
	return out, nil
}

func (c *importChecker) checkPlanService(path string, s ImportPlanService, cur Currency) (importPlanService, error) {
	svc, err := c.serviceRef(path+".service", s.Service)
	if err != nil {
		return importPlanService{}, err
	}
	ps := importPlanService{service: svc}
	if s.Package != "" {
		if ps.pkg = svc.byCode[s.Package]; ps.pkg == nil {
			return importPlanService{}, importError(path+".package", "unknown package %q of service %q", s.Package, s.Service)
		}
	}
	if s.PricePerUnit != "" {
		ps.price, err = checkPrice(path+".price_per_unit", s.PricePerUnit)
		return ps, err
	}
	if ps.pkg == nil {
		return importPlanService{}, importError(path+".price_per_unit", "required when no package is given")
	}
	price, ok := ps.pkg.price(cur)
	if !ok {
		return importPlanService{}, importError(path+".price_per_unit", "required: package %q has no %s price", s.Package, cur)
	}
	ps.price = price
	return ps, nil
}

func (c *importChecker) checkVoucher(path string, v ImportVoucher) (importVoucher, error) {
	var none importVoucher
	if err := checkCode(path+".code", v.Code); err != nil {
		return none, err
	}
	if prev, ok := c.vouchers[v.Code]; ok {
		return none, importConflict(path+".code", "%q appears twice in the file (also %s)", v.Code, prev)
	}
	if found, err := c.exists(`SELECT 1 FROM vouchers WHERE code = ?`, v.Code); err != nil {
		return none, err
	} else if found {
		return none, importConflict(path+".code", "%q already exists", v.Code)
	}
	c.vouchers[v.Code] = path + ".code"
	acct, err := c.accountRef(path+".account", v.Account)
	if err != nil {
		return none, err
	}
	out := importVoucher{account: acct, voucher: Voucher{Code: v.Code}}
	vo := &out.voucher
	if vo.Amount, err = checkAmount(path+".amount", v.Amount, acct.currency); err != nil {
		return none, err
	}
	vo.Remaining = vo.Amount
	if vo.EffectiveDate, err = checkDate(path+".effective_date", v.EffectiveDate); err != nil {
		return none, err
	}
	if vo.ExpiryDate, err = checkDate(path+".expiry_date", v.ExpiryDate); err != nil {
		return none, err
	}
	if vo.ExpiryDate.Before(vo.EffectiveDate) {
		return none, importError(path+".expiry_date", "before effective_date")
	}
	seen := map[string]bool{}
	for i, code := range v.Services {
		at := fmt.Sprintf("%s.services[%d]", path, i)
		svc, err := c.serviceRef(at, code)
		if err != nil {
			return none, err
		}
		if seen[code] {
			return none, importError(at, "%q listed twice", code)
		}
		seen[code] = true
		out.services = append(out.services, svc)
	}
	return out, nil
}

func (c *importChecker) checkTopup(path string, t ImportTopup) (importTopup, error) {
	acct, err := c.accountRef(path+".account", t.Account)
	if err != nil {
		return importTopup{}, err
	}
	out := importTopup{account: acct}
	if out.amount, err = checkAmount(path+".amount", t.Amount, acct.currency); err != nil {
		return importTopup{}, err
	}
	if out.at, err = checkInstant(path+".at", t.At); err != nil {
		return importTopup{}, err
	}
	key := topupKey{account: acct.code, minor: out.amount.Minor, at: formatInstant(out.at)}
	if prev, ok := c.topups[key]; ok {
		return importTopup{}, importConflict(path, "the same top-up as %s (account, amount and instant)", prev)
	}
	c.topups[key] = path
	if acct.id != 0 {
		found, err := c.exists(`SELECT 1 FROM topups WHERE account_id = ? AND amount = ? AND at = ?`, acct.id, key.minor, key.at)
		if err != nil {
			return importTopup{}, err
		} else if found {
			return importTopup{}, importConflict(path, "a top-up of %s %s to %q at %s already exists", out.amount.Plain(), out.amount.Currency, acct.code, t.At)
		}
	}
	return out, nil
}

// taken returns the ECONFLICT error of a code at path that the file gave before
// (at prev) or, when prev is "", that the database holds.
func (c *importChecker) taken(path, code, prev string) error {
	if prev != "" {
		return importConflict(path, "%q appears twice in the file (also %s)", code, prev)
	}
	return importConflict(path, "%q already exists", code)
}

// accountRef returns the account a reference at path names, in the file or the
// database, or an EINVALID error.
func (c *importChecker) accountRef(path, code string) (*importAccount, error) {
	if err := required(path, code); err != nil {
		return nil, err
	}
	acct, err := c.account(code)
	if err != nil {
		return nil, err
	} else if acct == nil {
		return nil, importError(path, "unknown account %q", code)
	}
	return acct, nil
}

// account returns the account with the code, from the file or the database, or nil.
func (c *importChecker) account(code string) (*importAccount, error) {
	if acct, ok := c.accounts[code]; ok {
		return acct, nil
	}
	a := &importAccount{code: code}
	var cur string
	err := c.tx.QueryRowContext(c.ctx, `SELECT id, name, currency, timezone FROM accounts WHERE code = ?`, code).
		Scan(&a.id, &a.name, &cur, &a.timezone)
	if errors.Is(err, sql.ErrNoRows) {
		c.accounts[code] = nil
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("store: import: find account %q: %w", code, err)
	}
	a.currency, a.loc = Currency(cur), LoadLocation(a.timezone)
	c.accounts[code] = a
	return a, nil
}

// serviceRef returns the service a reference at path names, in the file or the
// database, or an EINVALID error.
func (c *importChecker) serviceRef(path, code string) (*importService, error) {
	if err := required(path, code); err != nil {
		return nil, err
	}
	svc, err := c.service(code)
	if err != nil {
		return nil, err
	} else if svc == nil {
		return nil, importError(path, "unknown service %q", code)
	}
	return svc, nil
}

// service returns the service with the code, with its packages and their prices,
// from the file or the database, or nil.
func (c *importChecker) service(code string) (*importService, error) {
	if svc, ok := c.services[code]; ok {
		return svc, nil
	}
	rows, err := c.tx.QueryContext(c.ctx, `
		SELECT s.id, p.id, p.code, pp.currency, pp.price
		FROM services s
		LEFT JOIN packages p ON p.service_id = s.id
		LEFT JOIN package_prices pp ON pp.package_id = p.id
		WHERE s.code = ?`, code)
	if err != nil {
		return nil, fmt.Errorf("store: import: find service %q: %w", code, err)
	}
	defer rows.Close()
	var svc *importService
	for rows.Next() {
		var (
			id                  int64
			pkgID               sql.NullInt64
			pkgCode, cur, price sql.NullString
		)
		if err := rows.Scan(&id, &pkgID, &pkgCode, &cur, &price); err != nil {
			return nil, fmt.Errorf("store: import: find service %q: %w", code, err)
		}
		if svc == nil {
			svc = &importService{id: id, code: code, byCode: map[string]*importPackage{}}
		}
		if !pkgID.Valid {
			continue
		}
		pkg := svc.byCode[pkgCode.String]
		if pkg == nil {
			pkg = &importPackage{id: pkgID.Int64, code: pkgCode.String}
			svc.byCode[pkg.code] = pkg
		}
		if cur.Valid {
			pkg.prices = append(pkg.prices, importPrice{currency: Currency(cur.String), price: price.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: import: find service %q: %w", code, err)
	}
	c.services[code] = svc
	return svc, nil
}

// exists reports whether the query finds a row.
func (c *importChecker) exists(query string, args ...any) (bool, error) {
	var one int
	err := c.tx.QueryRowContext(c.ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("store: import: %w", err)
	}
	return true, nil
}

// required returns an EINVALID error when s is blank.
func required(path, s string) error {
	if strings.TrimSpace(s) == "" {
		return importError(path, "required")
	}
	return nil
}

// checkCode checks a code: letters, digits, '-', '_' and '.', as codes appear in
// URLs and files; case matters.
func checkCode(path, code string) error {
	if code == "" {
		return importError(path, "required")
	}
	if len(code) > 100 {
		return importError(path, "longer than 100 characters")
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return importError(path, "%q may hold only letters, digits, '-', '_' and '.'", code)
		}
	}
	return nil
}

// checkEmail checks a bare email address (no display name).
func checkEmail(path, email string) error {
	if email == "" {
		return importError(path, "required")
	}
	if len(email) > MaxEmailLength {
		return importError(path, "longer than %d characters", MaxEmailLength)
	}
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		return importError(path, "%q is not an email address", email)
	}
	return nil
}

// checkAmount parses an amount in currency c that must be greater than zero.
func checkAmount(path, s string, c Currency) (Money, error) {
	if s == "" {
		return Money{}, importError(path, "required")
	}
	m, err := ParseMoney(s, c)
	if err != nil {
		return Money{}, importError(path, "%s", strings.TrimSuffix(ErrorMessage(err), "."))
	}
	if m.Minor <= 0 {
		return Money{}, importError(path, "must be greater than 0")
	}
	return m, nil
}

// checkPrice parses a price per unit, which must not be negative, and returns it
// as exact decimal text with all its digits.
func checkPrice(path, s string) (string, error) {
	d, err := ParseDecimal(s)
	if err != nil {
		return "", importError(path, "%s", strings.TrimSuffix(ErrorMessage(err), "."))
	}
	if d.IsNegative() {
		return "", importError(path, "must not be negative")
	}
	return d.String(), nil
}

// checkPrices parses prices per unit keyed by currency, in currency order.
func checkPrices(path string, prices map[string]string) ([]importPrice, error) {
	keys := make([]string, 0, len(prices))
	for k := range prices {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]importPrice, 0, len(keys))
	for _, k := range keys {
		at := path + "." + k
		cur, err := ParseCurrency(k)
		if err != nil {
			return nil, importError(at, "%q is not one of VND, USD, JPY", k)
		}
		price, err := checkPrice(at, prices[k])
		if err != nil {
			return nil, err
		}
		out = append(out, importPrice{currency: cur, price: price})
	}
	return out, nil
}

// checkDate parses a YYYY-MM-DD date.
func checkDate(path, s string) (Date, error) {
	if s == "" {
		return Date{}, importError(path, "required")
	}
	d, err := ParseDate(s)
	if err != nil {
		return Date{}, importError(path, "%q is not a date (YYYY-MM-DD)", s)
	}
	return d, nil
}

// checkInstant parses an RFC 3339 instant, which always has an offset (Z or ±hh:mm).
func checkInstant(path, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, importError(path, "required")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, importError(path, "%q is not an RFC 3339 instant with an offset (2026-10-01T09:00:00+07:00)", s)
	}
	return t, nil
}

// checkMethod parses a payment method.
func checkMethod(path, s string) (PaymentMethod, error) {
	switch m := PaymentMethod(s); m {
	case Online, BankTransfer:
		return m, nil
	}
	return "", importError(path, "%q is not one of online, bank_transfer", s)
}

// writeImport writes a checked batch; hashes are the users' password hashes in
// file order.
func writeImport(ctx context.Context, tx *Tx, b *importBatch, hashes []string) (ImportReport, error) {
	var rep ImportReport
	now := formatInstant(tx.Now())
	insert := func(what, query string, args ...any) (int64, error) {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return 0, fmt.Errorf("store: import %s: %w", what, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return 0, fmt.Errorf("store: import %s: %w", what, err)
		}
		return id, nil
	}
	var err error

	for _, a := range b.accounts {
		if a.id, err = insert("account", `INSERT INTO accounts (code, name, currency, timezone) VALUES (?, ?, ?, ?)`,
			a.code, a.name, a.currency, a.timezone); err != nil {
			return rep, err
		}
		rep.Accounts++
	}

	for i, u := range b.users {
		id, err := insert("user", `INSERT INTO users (email, name, password_hash, created_at) VALUES (?, ?, ?, ?)`,
			u.email, u.name, hashes[i], now)
		if err != nil {
			return rep, err
		}
		rep.Users++
		for _, m := range u.memberships {
			if _, err := insert("membership", `INSERT INTO memberships (user_id, account_id, role) VALUES (?, ?, ?)`,
				id, m.account.id, m.role); err != nil {
				return rep, err
			}
			rep.Memberships++
		}
	}

	for _, s := range b.services {
		if s.id, err = insert("service", `INSERT INTO services (code, name, unit) VALUES (?, ?, ?)`, s.code, s.name, s.unit); err != nil {
			return rep, err
		}
		rep.Services++
		for _, p := range s.listPrices {
			if _, err := insert("list price", `INSERT INTO service_list_prices (service_id, currency, price) VALUES (?, ?, ?)`,
				s.id, p.currency, p.price); err != nil {
				return rep, err
			}
		}
		for _, pkg := range s.packages {
			if pkg.id, err = insert("package", `INSERT INTO packages (service_id, code, name) VALUES (?, ?, ?)`,
				s.id, pkg.code, pkg.name); err != nil {
				return rep, err
			}
			rep.Packages++
			for _, p := range pkg.prices {
				if _, err := insert("package price", `INSERT INTO package_prices (package_id, currency, price) VALUES (?, ?, ?)`,
					pkg.id, p.currency, p.price); err != nil {
					return rep, err
				}
			}
		}
	}

	for _, ip := range b.plans {
		p := ip.plan
		var activated any
		if p.ActivatedAt != nil {
			activated = formatInstant(*p.ActivatedAt)
		}
		id, err := insert("plan", `
			INSERT INTO plans (account_id, code, type, start_date, end_date, first_term_months, first_term_amount,
				amount, region, payment_option, upfront_amount, payment_method, created_at, created_by, suspended,
				activated_at, paid_total, paid_upfront)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ip.account.id, p.Code, p.Type, p.StartDate.String(), p.EndDate.String(), p.FirstTermMonths, p.FirstTermAmount.Minor,
			p.Amount.Minor, p.Region, p.PaymentOption, p.UpfrontAmount.Minor, p.PaymentMethod, formatInstant(p.CreatedAt), p.CreatedBy, p.Suspended,
			activated, p.PaidTotal.Minor, p.PaidUpfront.Minor)
		if err != nil {
			return rep, err
		}
		rep.Plans++
		for _, s := range ip.services {
			var pkgID any
			if s.pkg != nil {
				pkgID = s.pkg.id
			}
			if _, err := insert("plan service", `INSERT INTO plan_services (plan_id, service_id, package_id, price_per_unit) VALUES (?, ?, ?, ?)`,
				id, s.service.id, pkgID, s.price); err != nil {
				return rep, err
			}
		}
		for _, pm := range ip.payments {
			// A payment of the past is recorded when it was received.
			at := formatInstant(pm.paidAt)
			if _, err := insert("payment", `
				INSERT INTO payments (plan_id, amount, method, status, paid_at, created_at, paid_by)
				VALUES (?, ?, ?, 'completed', ?, ?, ?)`,
				id, pm.amount.Minor, pm.method, at, at, p.CreatedBy); err != nil {
				return rep, err
			}
			rep.Payments++
		}
		after, err := json.Marshal(map[string]any{
			"code": p.Code, "amount": p.Amount.Plain(), "currency": p.Amount.Currency,
			"start_date": p.StartDate.String(), "end_date": p.EndDate.String(),
			"payment_option": p.PaymentOption, "paid_total": p.PaidTotal.Plain(), "suspended": p.Suspended,
		})
		if err != nil {
			return rep, fmt.Errorf("store: import audit: %w", err)
		}
		if err := Audit(ctx, tx, AuditEntry{
			AccountID: ip.account.id, PlanID: id, Actor: importActor, Action: AuditPlanImport,
			Detail: "Imported plan " + p.Code + " from a file.", After: string(after),
		}); err != nil {
			return rep, err
		}
	}

	for _, iv := range b.vouchers {
		v := iv.voucher
		id, err := insert("voucher", `
			INSERT INTO vouchers (account_id, code, amount, remaining, effective_date, expiry_date, all_services)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			iv.account.id, v.Code, v.Amount.Minor, v.Remaining.Minor, v.EffectiveDate.String(), v.ExpiryDate.String(), len(iv.services) == 0)
		if err != nil {
			return rep, err
		}
		rep.Vouchers++
		for _, s := range iv.services {
			if _, err := insert("voucher service", `INSERT INTO voucher_services (voucher_id, service_id) VALUES (?, ?)`, id, s.id); err != nil {
				return rep, err
			}
		}
	}

	for _, t := range b.topups {
		if _, err := insert("top-up", `INSERT INTO topups (account_id, amount, at) VALUES (?, ?, ?)`,
			t.account.id, t.amount.Minor, formatInstant(t.at)); err != nil {
			return rep, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET topup_balance = topup_balance + ? WHERE id = ?`,
			t.amount.Minor, t.account.id); err != nil {
			return rep, fmt.Errorf("store: import top-up: %w", err)
		}
		rep.Topups++
	}
	return rep, nil
}
