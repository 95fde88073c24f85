package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// importNow is the clock of the import tests: the instant every import happens.
var importNow = time.Date(2026, 9, 30, 5, 0, 0, 0, time.UTC)

// MustOpenImportDB opens a fresh database in t.TempDir() whose clock stands at importNow.
// (users_test.go lowers PasswordParams for the whole package, so hashing is quick.)
func MustOpenImportDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "billing.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return importNow }
	return db
}

// MustDecodeImportFile decodes testdata/import/name.
func MustDecodeImportFile(t *testing.T, name string) ImportFile {
	t.Helper()
	r, err := os.Open(filepath.Join("testdata", "import", name))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := DecodeImport(r)
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return f
}

// MustImport imports f and fails the test on any error.
func MustImport(t *testing.T, db *DB, f ImportFile) ImportReport {
	t.Helper()
	rep, err := db.Import(context.Background(), f)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rep
}

// MustOpenExampleDB opens a fresh database holding the spec's example file.
func MustOpenExampleDB(t *testing.T) *DB {
	t.Helper()
	db := MustOpenImportDB(t)
	MustImport(t, db, MustDecodeImportFile(t, "example.json"))
	return db
}

// MustImportSnapshot returns the row count of every table and the sum of the
// top-up balances (which an import updates in place), to compare before and after.
func MustImportSnapshot(t *testing.T, db *DB) map[string]int64 {
	t.Helper()
	rows, err := db.read.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 20 {
		t.Fatalf("found only %d tables: %v", len(tables), tables)
	}
	snap := map[string]int64{}
	for _, name := range tables {
		var n int64
		if err := db.read.QueryRow(`SELECT count(*) FROM "` + name + `"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		snap[name] = n
	}
	var balance int64
	if err := db.read.QueryRow(`SELECT ifnull(sum(topup_balance), 0) FROM accounts`).Scan(&balance); err != nil {
		t.Fatal(err)
	}
	snap["accounts.topup_balance"] = balance
	return snap
}

// MustImportRow fails the test unless query finds exactly one row whose columns
// are exactly want, column by column (NULL is written "NULL").
func MustImportRow(t *testing.T, db *DB, want map[string]string, query string, args ...any) {
	t.Helper()
	rows, err := db.read.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatalf("no row: %s %v", query, args)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Fatalf("more than one row: %s %v", query, args)
	}
	for i, col := range cols {
		var got string
		switch v := vals[i].(type) {
		case nil:
			got = "NULL"
		case []byte:
			got = string(v)
		default:
			got = fmt.Sprint(v)
		}
		w, ok := want[col]
		if !ok {
			t.Errorf("%s = %q: not checked", col, got)
		} else if got != w {
			t.Errorf("%s = %q, want %q", col, got, w)
		}
	}
	if len(want) != len(cols) {
		t.Errorf("want has %d columns, the row %d", len(want), len(cols))
	}
}

func TestImportExample(t *testing.T) {
	db := MustOpenImportDB(t)
	rep := MustImport(t, db, MustDecodeImportFile(t, "example.json"))
	if want := (ImportReport{Accounts: 1, Users: 1, Memberships: 1, Services: 1, Packages: 1, Plans: 1, Payments: 1, Vouchers: 1, Topups: 1}); rep != want {
		t.Errorf("report = %+v, want %+v", rep, want)
	}
	now := "2026-09-30T05:00:00.000000000Z"

	t.Run("the account gets its top-up in its balance", func(t *testing.T) {
		MustImportRow(t, db, map[string]string{
			"id": "1", "code": "acme", "name": "Acme AI", "currency": "VND", "timezone": "Asia/Ho_Chi_Minh",
			"topup_balance": "10000000", "uncovered": "0",
		}, `SELECT id, code, name, currency, timezone, topup_balance, uncovered FROM accounts`)
		MustImportRow(t, db, map[string]string{
			"id": "1", "account_id": "1", "amount": "10000000", "at": "2026-09-30T17:00:00.000000000Z",
		}, `SELECT * FROM topups`)
	})
	t.Run("the user signs in with the file's password and is an admin of the account", func(t *testing.T) {
		MustImportRow(t, db, map[string]string{"id": "1", "email": "an@acme.test", "name": "An Nguyen", "created_at": now},
			`SELECT id, email, name, created_at FROM users`)
		var hash string
		if err := db.read.QueryRow(`SELECT password_hash FROM users`).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if !CheckPassword(hash, "correct horse 42") {
			t.Errorf("the password does not match its hash %q", hash)
		}
		MustImportRow(t, db, map[string]string{"user_id": "1", "account_id": "1", "role": "admin"}, `SELECT * FROM memberships`)
	})
	t.Run("the service keeps its list prices and its package's prices as written", func(t *testing.T) {
		MustImportRow(t, db, map[string]string{"id": "1", "code": "gpu-h100-container", "name": "GPU Container H100", "unit": "hour"},
			`SELECT * FROM services`)
		MustImportRow(t, db, map[string]string{"prices": "USD 2.54, VND 65000"},
			`SELECT group_concat(currency || ' ' || price, ', ' ORDER BY currency) AS prices FROM service_list_prices WHERE service_id = 1`)
		MustImportRow(t, db, map[string]string{"id": "1", "service_id": "1", "code": "h100-commit-3m", "name": "H100 commitment, 3 months"},
			`SELECT * FROM packages`)
		MustImportRow(t, db, map[string]string{"prices": "USD 2.03, VND 52000"},
			`SELECT group_concat(currency || ' ' || price, ', ' ORDER BY currency) AS prices FROM package_prices WHERE package_id = 1`)
	})
	t.Run("the plan has every derived column right", func(t *testing.T) {
		MustImportRow(t, db, map[string]string{
			"id": "1", "account_id": "1", "code": "BP-2026-000001", "type": "GPU Commitment",
			"start_date": "2026-10-01", "end_date": "2026-12-31",
			// October, November and December.
			"first_term_months": "3", "first_term_amount": "150000000",
			"amount": "150000000", "region": "Hanoi", "payment_option": "partial_upfront", "upfront_amount": "50000000",
			"payment_method": "bank_transfer",
			"created_at":     "2026-09-28T03:00:00.000000000Z", "created_by": "an@acme.test", "suspended": "0",
			// The one payment, 09:00 on 29 September in Hanoi, reaches the upfront amount.
			"activated_at": "2026-09-29T02:00:00.000000000Z",
			// It came before 1 October in Hanoi, so it is paid upfront too.
			"paid_total": "50000000", "paid_upfront": "50000000",
			"consumed": "0", "depleted_at": "NULL",
		}, `SELECT * FROM plans`)
		MustImportRow(t, db, map[string]string{
			"plan_id": "1", "service_id": "1", "package_id": "1", "price_per_unit": "52000", "volume": "0", "spent": "0",
		}, `SELECT * FROM plan_services`)
		MustImportRow(t, db, map[string]string{
			"id": "1", "plan_id": "1", "amount": "50000000", "method": "bank_transfer", "status": "completed",
			"reference": "NULL", "paid_at": "2026-09-29T02:00:00.000000000Z", "created_at": "2026-09-29T02:00:00.000000000Z",
			"paid_by": "an@acme.test", "idempotency_key": "NULL",
		}, `SELECT * FROM payments`)
	})
	t.Run("the plan's creation is in the audit log", func(t *testing.T) {
		MustImportRow(t, db, map[string]string{
			"id": "1", "at": now, "account_id": "1", "plan_id": "1", "actor": "import", "action": "plan.import",
			"detail": "Imported plan BP-2026-000001 from a file.", "before": "",
			"after": `{"amount":"150000000","code":"BP-2026-000001","currency":"VND","end_date":"2026-12-31",` +
				`"paid_total":"50000000","payment_option":"partial_upfront","start_date":"2026-10-01","suspended":false}`,
			"ip": "",
		}, `SELECT * FROM audit_log`)
	})
	t.Run("the voucher has its whole amount remaining and only its service", func(t *testing.T) {
		MustImportRow(t, db, map[string]string{
			"id": "1", "account_id": "1", "code": "WELCOME2026", "amount": "2000000", "remaining": "2000000",
			"effective_date": "2026-10-01", "expiry_date": "2027-01-31", "all_services": "0",
		}, `SELECT * FROM vouchers`)
		MustImportRow(t, db, map[string]string{"voucher_id": "1", "service_id": "1"}, `SELECT * FROM voucher_services`)
	})
}

func TestImportActivation(t *testing.T) {
	db := MustOpenImportDB(t)
	MustImport(t, db, ImportFile{
		Accounts: []ImportAccount{
			{Code: "globex", Name: "Globex", Currency: "USD", Timezone: "America/New_York"},
			{Code: "tokyo-ai", Name: "Tokyo AI", Currency: "JPY", Timezone: "Asia/Tokyo"},
		},
		Services: []ImportService{{Code: "gpu", Name: "GPU", Unit: "hour", ListPrices: map[string]string{"USD": "2.54", "JPY": "380"}}},
	})
	pay := func(amount, at string) ImportPayment {
		return ImportPayment{Amount: amount, Method: "online", PaidAt: at}
	}
	tests := []struct {
		name string
		plan ImportPlan
		// want are the plan's created_at, activated_at, paid_total and paid_upfront.
		want map[string]string
	}{{
		name: "an all upfront plan is activated by the payment that completes its amount, in paid_at order not file order",
		plan: ImportPlan{Account: "globex", PaymentOption: "all_upfront", Amount: "300.00", StartDate: "2026-10-01",
			Payments: []ImportPayment{pay("199.50", "2026-10-03T10:00:00-04:00"), pay("100.50", "2026-09-20T10:00:00-04:00")}},
		want: map[string]string{"activated_at": "2026-10-03T14:00:00.000000000Z", "paid_total": "30000", "paid_upfront": "10050"},
	}, {
		name: "an all upfront plan paid all but a cent is not activated",
		plan: ImportPlan{Account: "globex", PaymentOption: "all_upfront", Amount: "300", StartDate: "2026-10-01",
			Payments: []ImportPayment{pay("299.99", "2026-09-20T10:00:00-04:00")}},
		want: map[string]string{"activated_at": "NULL", "paid_total": "29999", "paid_upfront": "29999"},
	}, {
		name: "a partial upfront plan is activated by the payment that reaches its upfront amount",
		plan: ImportPlan{Account: "globex", PaymentOption: "partial_upfront", Amount: "300", UpfrontAmount: "100", StartDate: "2026-10-01",
			Payments: []ImportPayment{pay("60", "2026-09-20T10:00:00-04:00"), pay("200", "2026-11-01T10:00:00-04:00"), pay("40", "2026-09-25T10:00:00-04:00")}},
		want: map[string]string{"activated_at": "2026-09-25T14:00:00.000000000Z", "paid_total": "30000", "paid_upfront": "10000"},
	}, {
		name: "a partial upfront plan paid less than its upfront amount is not activated",
		plan: ImportPlan{Account: "globex", PaymentOption: "partial_upfront", Amount: "300", UpfrontAmount: "100", StartDate: "2026-10-01",
			Payments: []ImportPayment{pay("99.99", "2026-09-20T10:00:00-04:00")}},
		want: map[string]string{"activated_at": "NULL", "paid_total": "9999", "paid_upfront": "9999"},
	}, {
		name: "a postpaid plan is activated when it is created, paid or not",
		plan: ImportPlan{Account: "globex", PaymentOption: "postpaid", Amount: "300", StartDate: "2026-10-01", CreatedAt: "2026-09-10T08:00:00-04:00",
			Payments: []ImportPayment{pay("10", "2026-10-05T10:00:00-04:00")}},
		want: map[string]string{"created_at": "2026-09-10T12:00:00.000000000Z", "activated_at": "2026-09-10T12:00:00.000000000Z", "paid_total": "1000", "paid_upfront": "0"},
	}, {
		name: "a postpaid plan without created_at is created and activated at the import",
		plan: ImportPlan{Account: "globex", PaymentOption: "postpaid", Amount: "300", StartDate: "2026-10-01"},
		want: map[string]string{"created_at": "2026-09-30T05:00:00.000000000Z", "activated_at": "2026-09-30T05:00:00.000000000Z", "paid_total": "0", "paid_upfront": "0"},
	}, {
		// Both payments are on 30 September in UTC, but the second is on 1 October in Tokyo.
		name: "only payments before the start date in the account's time zone are paid upfront",
		plan: ImportPlan{Account: "tokyo-ai", PaymentOption: "all_upfront", Amount: "100000", StartDate: "2026-10-01",
			Payments: []ImportPayment{pay("40000", "2026-09-30T23:30:00+09:00"), pay("60000", "2026-09-30T16:00:00Z")}},
		want: map[string]string{"activated_at": "2026-09-30T16:00:00.000000000Z", "paid_total": "100000", "paid_upfront": "40000"},
	}}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.plan
			p.Code = fmt.Sprintf("BP-ACT-%03d", i)
			p.Type, p.Region, p.PaymentMethod, p.EndDate = "GPU Commitment", "Hanoi", "online", "2026-12-31"
			if p.CreatedAt == "" && p.PaymentOption != "postpaid" {
				p.CreatedAt = "2026-09-01T00:00:00Z"
			}
			p.Services = []ImportPlanService{{Service: "gpu", PricePerUnit: "2"}}
			MustImport(t, db, ImportFile{Plans: []ImportPlan{p}})
			want := map[string]string{"created_at": "2026-09-01T00:00:00.000000000Z"}
			for k, v := range tt.want {
				want[k] = v
			}
			MustImportRow(t, db, want, `SELECT created_at, activated_at, paid_total, paid_upfront FROM plans WHERE code = ?`, p.Code)
		})
	}
}

func TestImportPricePerUnit(t *testing.T) {
	db := MustOpenExampleDB(t)
	MustImport(t, db, ImportFile{Accounts: []ImportAccount{{Code: "globex", Name: "Globex", Currency: "USD"}}})
	tests := []struct {
		name                 string
		account, pkg, price  string
		wantPrice, wantPkgID string
	}{
		{"a plan service without a price takes its package's price in a VND account", "acme", "h100-commit-3m", "", "52000", "1"},
		{"a plan service without a price takes its package's price in a USD account", "globex", "h100-commit-3m", "", "2.03", "1"},
		{"a given price is kept instead of the package's", "acme", "h100-commit-3m", "48000", "48000", "1"},
		{"a tiny price is kept exactly", "globex", "", "0.0000021", "0.0000021", "NULL"},
		{"a price with many digits keeps every one", "globex", "", "0.000000000123456789012345678901", "0.000000000123456789012345678901", "NULL"},
		{"a price with trailing zeros is kept as its exact value", "globex", "", "2.500", "2.5", "NULL"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := fmt.Sprintf("BP-PRICE-%03d", i)
			MustImport(t, db, ImportFile{Plans: []ImportPlan{{
				Code: code, Account: tt.account, Type: "GPU Commitment", StartDate: "2026-10-01", EndDate: "2026-10-31",
				Amount: "1000", Region: "Hanoi", PaymentOption: "postpaid", PaymentMethod: "online",
				Services: []ImportPlanService{{Service: "gpu-h100-container", Package: tt.pkg, PricePerUnit: tt.price}},
			}}})
			MustImportRow(t, db, map[string]string{"price_per_unit": tt.wantPrice, "package_id": tt.wantPkgID},
				`SELECT ps.price_per_unit, ps.package_id FROM plan_services ps JOIN plans p ON p.id = ps.plan_id WHERE p.code = ?`, code)
		})
	}
}

func TestImportLargeVNDPlan(t *testing.T) {
	db := MustOpenExampleDB(t)
	MustImport(t, db, ImportFile{Plans: []ImportPlan{{
		Code: "BP-2026-040000", Account: "acme", Type: "GPU Commitment", StartDate: "2026-01-01", EndDate: "2026-12-31",
		Amount: "40000000000", Region: "Hanoi", PaymentOption: "all_upfront", PaymentMethod: "bank_transfer",
		CreatedAt: "2025-12-01T09:00:00+07:00",
		Services:  []ImportPlanService{{Service: "gpu-h100-container", Package: "h100-commit-3m"}},
		Payments: []ImportPayment{
			{Amount: "25000000000", Method: "bank_transfer", PaidAt: "2025-12-10T09:00:00+07:00"},
			{Amount: "15000000000", Method: "bank_transfer", PaidAt: "2025-12-20T09:00:00+07:00"},
		},
	}}})
	MustImportRow(t, db, map[string]string{
		"amount": "40000000000", "first_term_amount": "40000000000", "first_term_months": "12",
		"paid_total": "40000000000", "paid_upfront": "40000000000", "activated_at": "2025-12-20T02:00:00.000000000Z",
		"payments": "40000000000",
	}, `SELECT amount, first_term_amount, first_term_months, paid_total, paid_upfront, activated_at,
		(SELECT sum(amount) FROM payments WHERE plan_id = plans.id) AS payments
		FROM plans WHERE code = 'BP-2026-040000'`)
}

func TestImportSuspendedPlan(t *testing.T) {
	db := MustOpenExampleDB(t)
	f, err := DecodeImport(strings.NewReader(`{"plans": [{"code": "BP-2026-000050", "account": "acme", "type": "GPU Commitment",
		"start_date": "2026-10-01", "end_date": "2026-10-31", "amount": "1000000", "region": "Hanoi",
		"payment_option": "postpaid", "payment_method": "online", "created_at": "2026-09-01T00:00:00Z",
		"suspended": true, "services": [{"service": "gpu-h100-container", "package": "h100-commit-3m"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	MustImport(t, db, f)
	MustImportRow(t, db, map[string]string{"suspended": "1", "activated_at": "2026-09-01T00:00:00.000000000Z"},
		`SELECT suspended, activated_at FROM plans WHERE code = 'BP-2026-000050'`)
}

func TestImportAddsPlansToAnExistingAccount(t *testing.T) {
	db := MustOpenExampleDB(t)
	before := MustImportSnapshot(t, db)
	rep := MustImport(t, db, MustDecodeImportFile(t, "more-plans.json"))
	if want := (ImportReport{Plans: 1, Payments: 1}); rep != want {
		t.Errorf("report = %+v, want %+v", rep, want)
	}
	after := MustImportSnapshot(t, db)
	for _, table := range []string{"plans", "plan_services", "payments", "audit_log"} {
		before[table]++
	}
	for k, n := range after {
		if before[k] != n {
			t.Errorf("%s = %d after the import, want %d", k, n, before[k])
		}
	}
	MustImportRow(t, db, map[string]string{
		"account": "acme", "created_by": "binh@acme.test", "first_term_months": "6", "paid_total": "300000000",
		"paid_upfront": "300000000", "activated_at": "2026-12-20T01:05:00.000000000Z",
		"price_per_unit": "52000", "paid_by": "binh@acme.test",
	}, `SELECT a.code AS account, p.created_by, p.first_term_months, p.paid_total, p.paid_upfront, p.activated_at,
		ps.price_per_unit, pay.paid_by
		FROM plans p JOIN accounts a ON a.id = p.account_id JOIN plan_services ps ON ps.plan_id = p.id
		JOIN payments pay ON pay.plan_id = p.id
		WHERE p.code = 'BP-2026-000002'`)
}

func TestImportTwice(t *testing.T) {
	tests := []struct {
		name    string
		file    ImportFile
		wantMsg string
	}{
		{"the spec's example again names its account", ImportFile{}, `accounts[0].code: "acme" already exists`},
		{"a file of plans again names its first plan", ImportFile{}, `plans[0].code: "BP-2026-000002" already exists`},
		{"a file of top-ups again names its first top-up", ImportFile{Topups: []ImportTopup{
			{Account: "acme", Amount: "500000", At: "2026-10-02T00:00:00+07:00"},
		}}, `topups[0]: a top-up of 500000 VND to "acme" at 2026-10-02T00:00:00+07:00 already exists`},
	}
	tests[0].file = MustDecodeImportFile(t, "example.json")
	tests[1].file = MustDecodeImportFile(t, "more-plans.json")
	db := MustOpenImportDB(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			MustImport(t, db, tt.file)
			before := MustImportSnapshot(t, db)
			_, err := db.Import(context.Background(), tt.file)
			if got := ErrorCode(err); got != ECONFLICT {
				t.Errorf("code = %q (%v), want %q", got, err, ECONFLICT)
			}
			if got := ErrorMessage(err); got != tt.wantMsg {
				t.Errorf("message = %q, want %q", got, tt.wantMsg)
			}
			if after := MustImportSnapshot(t, db); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("the second import changed the database:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// freshImportFile returns a valid file whose codes are all new to the example
// database, and which references the example's account, user and service.
func freshImportFile() ImportFile {
	return ImportFile{
		Accounts: []ImportAccount{
			{Code: "umbrella", Name: "Umbrella Labs", Currency: "VND", Timezone: "Asia/Ho_Chi_Minh"},
			{Code: "globex", Name: "Globex", Currency: "USD", Timezone: "America/New_York"},
		},
		Users: []ImportUser{{Email: "lan@umbrella.test", Name: "Lan Tran", Password: "umbrella-secret",
			Memberships: []ImportMembership{{Account: "umbrella", Role: "viewer"}, {Account: "acme", Role: "admin"}}}},
		Services: []ImportService{{Code: "llm-inference", Name: "Model inference", Unit: "token",
			ListPrices: map[string]string{"VND": "0.06", "USD": "0.0000025"},
			Packages:   []ImportPackage{{Code: "tokens-1b", Name: "1B token pack", Prices: map[string]string{"VND": "0.05"}}}}},
		Plans: []ImportPlan{{
			Code: "BP-2026-000100", Account: "umbrella", Type: "Inference Token Pack",
			StartDate: "2026-11-01", EndDate: "2027-01-31", Amount: "60000000", Region: "Hanoi",
			PaymentOption: "partial_upfront", UpfrontAmount: "20000000", PaymentMethod: "online",
			CreatedAt: "2026-10-20T09:00:00+07:00", CreatedBy: "lan@umbrella.test",
			Services: []ImportPlanService{
				{Service: "llm-inference", Package: "tokens-1b"},
				{Service: "gpu-h100-container", Package: "h100-commit-3m", PricePerUnit: "50000"},
			},
			Payments: []ImportPayment{
				{Amount: "20000000", Method: "online", PaidAt: "2026-10-21T10:00:00+07:00"},
				{Amount: "10000000", Method: "bank_transfer", PaidAt: "2026-11-05T10:00:00+07:00"},
			},
		}, {
			Code: "BP-2026-000101", Account: "globex", Type: "GPU Commitment",
			StartDate: "2026-10-01", EndDate: "2027-09-30", Amount: "12000.00", Region: "Ho Chi Minh City",
			PaymentOption: "all_upfront", PaymentMethod: "online", CreatedAt: "2026-09-15T09:00:00-04:00",
			Services: []ImportPlanService{{Service: "gpu-h100-container", Package: "h100-commit-3m"}},
			Payments: []ImportPayment{{Amount: "12000", Method: "online", PaidAt: "2026-09-15T09:30:00-04:00"}},
		}},
		Vouchers: []ImportVoucher{{Code: "SPRING2027", Account: "umbrella", Amount: "500000",
			EffectiveDate: "2027-03-01", ExpiryDate: "2027-05-31"}},
		Topups: []ImportTopup{
			{Account: "acme", Amount: "5000000", At: "2026-10-15T12:00:00+07:00"},
			{Account: "globex", Amount: "250.50", At: "2026-10-01T09:00:00-04:00"},
		},
	}
}

func TestImportRejectsABadValue(t *testing.T) {
	db := MustOpenExampleDB(t)
	before := MustImportSnapshot(t, db)
	tests := []struct {
		name   string
		change func(f *ImportFile)
		code   string
		want   string
	}{
		{"an account code taken in the database", func(f *ImportFile) { f.Accounts[0].Code = "acme" },
			ECONFLICT, `accounts[0].code: "acme" already exists`},
		{"an account code given twice in the file", func(f *ImportFile) { f.Accounts[1].Code = "umbrella" },
			ECONFLICT, `accounts[1].code: "umbrella" appears twice in the file (also accounts[0].code)`},
		{"an account code with a space", func(f *ImportFile) { f.Accounts[0].Code = "umbrella labs" },
			EINVALID, `accounts[0].code: "umbrella labs" may hold only letters, digits, '-', '_' and '.'`},
		{"an account without a name", func(f *ImportFile) { f.Accounts[0].Name = " " },
			EINVALID, `accounts[0].name: required`},
		{"a currency that is not VND, USD or JPY", func(f *ImportFile) { f.Accounts[1].Currency = "EUR" },
			EINVALID, `accounts[1].currency: "EUR" is not one of VND, USD, JPY`},
		{"an unknown time zone", func(f *ImportFile) { f.Accounts[0].Timezone = "Asia/Hanoi" },
			EINVALID, `accounts[0].timezone: unknown time zone "Asia/Hanoi" (an IANA name such as "Asia/Ho_Chi_Minh")`},
		{"an email taken in the database, in another case", func(f *ImportFile) { f.Users[0].Email = "AN@acme.test" },
			ECONFLICT, `users[0].email: "AN@acme.test" already exists`},
		{"an email that is not one", func(f *ImportFile) { f.Users[0].Email = "lan at umbrella" },
			EINVALID, `users[0].email: "lan at umbrella" is not an email address`},
		{"a password of seven characters", func(f *ImportFile) { f.Users[0].Password = "1234567" },
			EINVALID, `users[0].password: needs at least 8 characters`},
		{"a membership of an unknown account", func(f *ImportFile) { f.Users[0].Memberships[1].Account = "initech" },
			EINVALID, `users[0].memberships[1].account: unknown account "initech"`},
		{"a role that is not admin or viewer", func(f *ImportFile) { f.Users[0].Memberships[0].Role = "owner" },
			EINVALID, `users[0].memberships[0].role: "owner" is not one of admin, viewer`},
		{"a service code taken in the database", func(f *ImportFile) { f.Services[0].Code = "gpu-h100-container" },
			ECONFLICT, `services[0].code: "gpu-h100-container" already exists`},
		{"a service without a unit", func(f *ImportFile) { f.Services[0].Unit = "" },
			EINVALID, `services[0].unit: required`},
		{"a list price in an unknown currency", func(f *ImportFile) { f.Services[0].ListPrices["EUR"] = "0.01" },
			EINVALID, `services[0].list_prices.EUR: "EUR" is not one of VND, USD, JPY`},
		{"a package price that is not a number", func(f *ImportFile) { f.Services[0].Packages[0].Prices["USD"] = "2,03" },
			EINVALID, `services[0].packages[0].prices.USD: "2,03" is not a number`},
		{"a negative list price", func(f *ImportFile) { f.Services[0].ListPrices["VND"] = "-1" },
			EINVALID, `services[0].list_prices.VND: must not be negative`},
		{"a plan code taken in the database", func(f *ImportFile) { f.Plans[1].Code = "BP-2026-000001" },
			ECONFLICT, `plans[1].code: "BP-2026-000001" already exists`},
		{"a plan code given twice in the file", func(f *ImportFile) { f.Plans[1].Code = "BP-2026-000100" },
			ECONFLICT, `plans[1].code: "BP-2026-000100" appears twice in the file (also plans[0].code)`},
		{"a plan of an unknown account", func(f *ImportFile) { f.Plans[0].Account = "initech" },
			EINVALID, `plans[0].account: unknown account "initech"`},
		{"a plan without a type", func(f *ImportFile) { f.Plans[0].Type = "" },
			EINVALID, `plans[0].type: required`},
		{"a start date that does not exist", func(f *ImportFile) { f.Plans[0].StartDate = "2026-02-30" },
			EINVALID, `plans[0].start_date: "2026-02-30" is not a date (YYYY-MM-DD)`},
		{"a date written another way", func(f *ImportFile) { f.Plans[0].EndDate = "31/01/2027" },
			EINVALID, `plans[0].end_date: "31/01/2027" is not a date (YYYY-MM-DD)`},
		{"an end date before the start date", func(f *ImportFile) { f.Plans[0].EndDate = "2026-10-31" },
			EINVALID, `plans[0].end_date: before start_date`},
		{"a plan amount in numbers", func(f *ImportFile) { f.Plans[0].Amount = "60 million" },
			EINVALID, `plans[0].amount: "60 million" is not a number`},
		{"a VND amount with decimals", func(f *ImportFile) { f.Plans[0].Amount = "1.5" },
			EINVALID, `plans[0].amount: VND amounts have no decimals`},
		{"a USD amount with three decimals", func(f *ImportFile) { f.Plans[1].Amount = "12.345" },
			EINVALID, `plans[1].amount: USD amounts have at most 2 decimals`},
		{"a plan amount of zero", func(f *ImportFile) { f.Plans[0].Amount = "0" },
			EINVALID, `plans[0].amount: must be greater than 0`},
		{"a negative plan amount", func(f *ImportFile) { f.Plans[1].Amount = "-12000" },
			EINVALID, `plans[1].amount: must be greater than 0`},
		{"a plan amount too large to hold", func(f *ImportFile) { f.Plans[0].Amount = "1000000000000000000" },
			EINVALID, `plans[0].amount: The amount 1000000000000000000 is too large`},
		{"a plan without a region", func(f *ImportFile) { f.Plans[0].Region = "" },
			EINVALID, `plans[0].region: required`},
		{"an unknown payment option", func(f *ImportFile) { f.Plans[0].PaymentOption = "monthly" },
			EINVALID, `plans[0].payment_option: "monthly" is not one of all_upfront, partial_upfront, postpaid`},
		{"a partial upfront plan without an upfront amount", func(f *ImportFile) { f.Plans[0].UpfrontAmount = "" },
			EINVALID, `plans[0].upfront_amount: required for partial_upfront`},
		{"an upfront amount of zero", func(f *ImportFile) { f.Plans[0].UpfrontAmount = "0" },
			EINVALID, `plans[0].upfront_amount: must be greater than 0`},
		{"an upfront amount above the plan amount", func(f *ImportFile) { f.Plans[0].UpfrontAmount = "60000001" },
			EINVALID, `plans[0].upfront_amount: more than the plan amount 60000000`},
		{"an upfront amount on an all upfront plan", func(f *ImportFile) { f.Plans[1].UpfrontAmount = "100" },
			EINVALID, `plans[1].upfront_amount: only a partial_upfront plan has an upfront amount`},
		{"an unknown payment method", func(f *ImportFile) { f.Plans[0].PaymentMethod = "cash" },
			EINVALID, `plans[0].payment_method: "cash" is not one of online, bank_transfer`},
		{"a created_at without an offset", func(f *ImportFile) { f.Plans[0].CreatedAt = "2026-10-20T09:00:00" },
			EINVALID, `plans[0].created_at: "2026-10-20T09:00:00" is not an RFC 3339 instant with an offset (2026-10-01T09:00:00+07:00)`},
		{"a created_by that is not an email", func(f *ImportFile) { f.Plans[0].CreatedBy = "Lan" },
			EINVALID, `plans[0].created_by: "lan" is not an email address`},
		{"a plan without services", func(f *ImportFile) { f.Plans[1].Services = nil },
			EINVALID, `plans[1].services: a plan covers at least one service`},
		{"a plan of an unknown service", func(f *ImportFile) { f.Plans[0].Services[1].Service = "gpu-a100" },
			EINVALID, `plans[0].services[1].service: unknown service "gpu-a100"`},
		{"a package of another service", func(f *ImportFile) { f.Plans[0].Services[0].Package = "h100-commit-3m" },
			EINVALID, `plans[0].services[0].package: unknown package "h100-commit-3m" of service "llm-inference"`},
		{"a service covered twice", func(f *ImportFile) {
			f.Plans[0].Services[1].Service = "llm-inference"
			f.Plans[0].Services[1].Package = ""
		},
			EINVALID, `plans[0].services[1].service: "llm-inference" listed twice`},
		{"no price and a package without one in the account's currency", func(f *ImportFile) {
			f.Plans[1].Services[0] = ImportPlanService{Service: "llm-inference", Package: "tokens-1b"}
		}, EINVALID, `plans[1].services[0].price_per_unit: required: package "tokens-1b" has no USD price`},
		{"no price and no package", func(f *ImportFile) { f.Plans[0].Services[1].Package = ""; f.Plans[0].Services[1].PricePerUnit = "" },
			EINVALID, `plans[0].services[1].price_per_unit: required when no package is given`},
		{"a negative price per unit", func(f *ImportFile) { f.Plans[0].Services[1].PricePerUnit = "-50000" },
			EINVALID, `plans[0].services[1].price_per_unit: must not be negative`},
		{"a price per unit with an exponent", func(f *ImportFile) { f.Plans[0].Services[1].PricePerUnit = "5e4" },
			EINVALID, `plans[0].services[1].price_per_unit: "5e4" is not a number`},
		{"a payment of zero", func(f *ImportFile) { f.Plans[0].Payments[1].Amount = "0" },
			EINVALID, `plans[0].payments[1].amount: must be greater than 0`},
		{"payments past the plan amount", func(f *ImportFile) { f.Plans[0].Payments[1].Amount = "40000001" },
			EINVALID, `plans[0].payments[1].amount: payments add up to 60000001, more than the plan amount 60000000`},
		{"a payment by an unknown method", func(f *ImportFile) { f.Plans[0].Payments[0].Method = "cheque" },
			EINVALID, `plans[0].payments[0].method: "cheque" is not one of online, bank_transfer`},
		{"a payment without paid_at", func(f *ImportFile) { f.Plans[1].Payments[0].PaidAt = "" },
			EINVALID, `plans[1].payments[0].paid_at: required`},
		{"a paid_at that is a date", func(f *ImportFile) { f.Plans[1].Payments[0].PaidAt = "2026-09-15" },
			EINVALID, `plans[1].payments[0].paid_at: "2026-09-15" is not an RFC 3339 instant with an offset (2026-10-01T09:00:00+07:00)`},
		{"a voucher code taken in the database", func(f *ImportFile) { f.Vouchers[0].Code = "WELCOME2026" },
			ECONFLICT, `vouchers[0].code: "WELCOME2026" already exists`},
		{"a voucher of an unknown account", func(f *ImportFile) { f.Vouchers[0].Account = "initech" },
			EINVALID, `vouchers[0].account: unknown account "initech"`},
		{"a voucher of zero", func(f *ImportFile) { f.Vouchers[0].Amount = "0" },
			EINVALID, `vouchers[0].amount: must be greater than 0`},
		{"a voucher that expires before it starts", func(f *ImportFile) { f.Vouchers[0].ExpiryDate = "2027-02-28" },
			EINVALID, `vouchers[0].expiry_date: before effective_date`},
		{"a voucher of an unknown service", func(f *ImportFile) { f.Vouchers[0].Services = []string{"llm-inference", "gpu-a100"} },
			EINVALID, `vouchers[0].services[1]: unknown service "gpu-a100"`},
		{"a top-up of an unknown account", func(f *ImportFile) { f.Topups[0].Account = "initech" },
			EINVALID, `topups[0].account: unknown account "initech"`},
		{"a negative top-up", func(f *ImportFile) { f.Topups[1].Amount = "-250.50" },
			EINVALID, `topups[1].amount: must be greater than 0`},
		{"a top-up with a bad instant", func(f *ImportFile) { f.Topups[1].At = "yesterday" },
			EINVALID, `topups[1].at: "yesterday" is not an RFC 3339 instant with an offset (2026-10-01T09:00:00+07:00)`},
		{"the same top-up twice in the file", func(f *ImportFile) { f.Topups = append(f.Topups, f.Topups[0]) },
			ECONFLICT, `topups[2]: the same top-up as topups[0] (account, amount and instant)`},
		{"a top-up already in the database", func(f *ImportFile) {
			f.Topups[0] = ImportTopup{Account: "acme", Amount: "10000000", At: "2026-10-01T00:00:00+07:00"}
		},
			ECONFLICT, `topups[0]: a top-up of 10000000 VND to "acme" at 2026-10-01T00:00:00+07:00 already exists`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := freshImportFile()
			tt.change(&f)
			_, err := db.Import(context.Background(), f)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want a *store.Error", err)
			}
			if e.Code != tt.code {
				t.Errorf("code = %q, want %q", e.Code, tt.code)
			}
			if e.Message != tt.want {
				t.Errorf("message = %q\n             want %q", e.Message, tt.want)
			}
			if path, _, _ := strings.Cut(tt.want, ":"); e.Field != path {
				t.Errorf("field = %q, want %q", e.Field, path)
			}
			if after := MustImportSnapshot(t, db); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("the bad file changed the database:\nbefore %v\nafter  %v", before, after)
			}
		})
	}

	// Each file above differed from this one by its bad value alone.
	t.Run("the file without a bad value imports", func(t *testing.T) {
		rep := MustImport(t, db, freshImportFile())
		if want := (ImportReport{Accounts: 2, Users: 1, Memberships: 2, Services: 1, Packages: 1, Plans: 2, Payments: 3, Vouchers: 1, Topups: 2}); rep != want {
			t.Errorf("report = %+v, want %+v", rep, want)
		}
		MustImportRow(t, db, map[string]string{
			"first_term_months": "3", "paid_total": "30000000", "paid_upfront": "20000000",
			"activated_at": "2026-10-21T03:00:00.000000000Z", "prices": "llm-inference 0.05, gpu-h100-container 50000",
		}, `SELECT first_term_months, paid_total, paid_upfront, activated_at,
			(SELECT group_concat(s.code || ' ' || ps.price_per_unit, ', ' ORDER BY s.code DESC) FROM plan_services ps JOIN services s ON s.id = ps.service_id WHERE ps.plan_id = plans.id) AS prices
			FROM plans WHERE code = 'BP-2026-000100'`)
		MustImportRow(t, db, map[string]string{
			"amount": "1200000", "first_term_months": "12", "created_by": "import", "paid_by": "import",
			"activated_at": "2026-09-15T13:30:00.000000000Z",
		}, `SELECT p.amount, p.first_term_months, p.created_by, pay.paid_by, p.activated_at
			FROM plans p JOIN payments pay ON pay.plan_id = p.id WHERE p.code = 'BP-2026-000101'`)
		MustImportRow(t, db, map[string]string{"all_services": "1", "remaining": "500000", "services": "0"},
			`SELECT all_services, remaining, (SELECT count(*) FROM voucher_services WHERE voucher_id = vouchers.id) AS services
			FROM vouchers WHERE code = 'SPRING2027'`)
		MustImportRow(t, db, map[string]string{"balances": "acme 15000000, globex 25050, umbrella 0"},
			`SELECT group_concat(code || ' ' || topup_balance, ', ' ORDER BY code) AS balances FROM accounts`)
		MustImportRow(t, db, map[string]string{"roles": "acme admin, umbrella viewer"},
			`SELECT group_concat(a.code || ' ' || m.role, ', ' ORDER BY a.code) AS roles
			FROM memberships m JOIN users u ON u.id = m.user_id JOIN accounts a ON a.id = m.account_id WHERE u.email = 'lan@umbrella.test'`)
	})
}

func TestDecodeImport(t *testing.T) {
	t.Run("the spec's example decodes as written", func(t *testing.T) {
		f := MustDecodeImportFile(t, "example.json")
		p := f.Plans[0]
		got := []string{p.Code, p.Amount, p.UpfrontAmount, p.CreatedAt, p.Services[0].PricePerUnit, p.Payments[0].PaidAt,
			f.Services[0].ListPrices["USD"], f.Services[0].Packages[0].Prices["VND"], f.Vouchers[0].Services[0], f.Topups[0].Amount}
		want := []string{"BP-2026-000001", "150000000", "50000000", "2026-09-28T10:00:00+07:00", "52000", "2026-09-29T09:00:00+07:00",
			"2.54", "52000", "gpu-h100-container", "10000000"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %q\nwant %q", got, want)
		}
	})
	t.Run("null is taken as a field left out", func(t *testing.T) {
		f, err := DecodeImport(strings.NewReader(`{"accounts": [{"code": "a", "name": "A", "currency": "VND", "timezone": null}], "users": null}`))
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Accounts) != 1 || f.Accounts[0].Timezone != "" || f.Users != nil {
			t.Errorf("got %+v", f)
		}
	})

	tests := []struct {
		name string
		json string
		want string
	}{
		{"an empty file", " \n", "The file is empty: an import file holds one JSON object."},
		{"a list at the top", `[]`, "An import file holds one JSON object, not a list."},
		{"an unknown section", `{"acounts": []}`, "acounts: unknown field"},
		{"a field in another case", `{"Accounts": []}`, "Accounts: unknown field"},
		{"an unknown field deep in a plan", `{"plans": [{"code": "x"}, {"services": [{"service": "s"}, {"prise": "1"}]}]}`,
			"plans[1].services[1].prise: unknown field"},
		{"a field given twice", `{"topups": [{"amount": "1", "amount": "2"}]}`, "topups[0].amount: given twice"},
		{"an amount written as a number", `{"plans": [{"amount": 150000000}]}`,
			`plans[0].amount: must be a string, not a number (write numbers as strings: "150000000")`},
		{"a section that is not a list", `{"plans": {"code": "x"}}`, "plans: must be a list, not an object"},
		{"prices that are not an object", `{"services": [{"list_prices": ["65000"]}]}`, "services[0].list_prices: must be an object, not a list"},
		{"suspended as a string", `{"plans": [{"suspended": "yes"}]}`, "plans[0].suspended: must be true or false, not a string"},
		{"a trailing comma", "{\n  \"plans\": [\n    {\"code\": \"x\",}\n  ]\n}",
			"line 3, column 18: invalid character '}' looking for beginning of object key string"},
		{"a missing comma after a multi-byte name", "{\"accounts\": [{\"name\": \"Công ty\" \"code\": \"x\"}]}",
			"line 1, column 34: invalid character '\"' after object key:value pair"},
		{"a file cut short", "{\n  \"plans\": [\n", "line 3, column 1: unexpected end of JSON input"},
		{"two objects", `{} {}`, "line 1, column 4: invalid character '{' after top-level value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeImport(strings.NewReader(tt.json))
			if got := ErrorCode(err); got != EINVALID {
				t.Errorf("code = %q (%v), want %q", got, err, EINVALID)
			}
			if got := ErrorMessage(err); got != tt.want {
				t.Errorf("message = %q\n             want %q", got, tt.want)
			}
		})
	}
}

// FuzzDecodeImport checks that no input makes DecodeImport panic, and that every
// input it refuses is refused with an EINVALID error.
func FuzzDecodeImport(f *testing.F) {
	for _, name := range []string{"example.json", "more-plans.json", "bad-end-date.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "import", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"plans": [{"amount": 1}]}`))
	f.Add([]byte("{\n\"a\": [1,]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := DecodeImport(bytes.NewReader(data))
		if err != nil && ErrorCode(err) != EINVALID {
			t.Errorf("DecodeImport(%q) = %v, code %q", data, err, ErrorCode(err))
		}
	})
}
