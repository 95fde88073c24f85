package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"

	"github.com/billingplans/billingplans/store"
)

const usagePath = "/api/v1/usage"

// MustAPIKey creates an API key of the account with code and returns it.
func MustAPIKey(t testing.TB, db *store.DB, code string) string {
	t.Helper()
	key, _, err := db.CreateAPIKey(context.Background(), code, "test")
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// postUsage sends body to the usage API with key (none when "").
func postUsage(srv *Server, key, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, usagePath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	srv.Echo.ServeHTTP(rec, req)
	return rec
}

// apiResult is a result of the usage API as a client reads it.
type apiResult struct {
	ID       string            `json:"id"`
	Outcome  string            `json:"outcome"`
	Drawn    map[string]string `json:"drawn"`
	Currency string            `json:"currency"`
	Reason   string            `json:"reason"`
}

// MustResults posts body and returns the results, failing unless the answer is 200.
func MustResults(t testing.TB, srv *Server, key, body string) []apiResult {
	t.Helper()
	rec := postUsage(srv, key, body)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d; body:\n%.500s", rec.Code, rec.Body)
	}
	var res struct{ Results []apiResult }
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	return res.Results
}

// eventsBody returns a request body of events given as JSON objects.
func eventsBody(events ...string) string { return `{"events":[` + strings.Join(events, ",") + `]}` }

func drawn(plan, voucher, topup, uncovered string) map[string]string {
	return map[string]string{"plan": plan, "voucher": voucher, "topup": topup, "uncovered": uncovered}
}

// apiCount returns the result of a counting query.
func apiCount(t testing.TB, db *store.DB, q string, args ...any) int64 {
	t.Helper()
	tx, err := db.BeginTx(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n int64
	if err := tx.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestUsageAPIOutcomes(t *testing.T) {
	db, srv := MustHistoryWorld(t, nil)
	key := MustAPIKey(t, db, "acme")

	// a1: 3.5h of gpu from BP-1 at 52,000: 182,000. a2: 1h of notebook from the
	// 300,000 top-up: 20,000. a3: 450 GB-month of storage: SPRING has 800,000;
	// 450,000. Then a1 again, in the same request.
	body := eventsBody(
		`{"id":"a1","service":"gpu-h100","quantity":"3.5","at":"2026-03-20T08:00:00+07:00"}`,
		`{"id":"a2","service":"notebook","quantity":"1","at":"2026-03-20T08:00:00+07:00"}`,
		`{"id":"a3","service":"storage","quantity":"450","at":"2026-03-20T08:30:00+07:00"}`,
		`{"id":"a1","service":"gpu-h100","quantity":"99","at":"2026-03-20T09:00:00+07:00"}`,
		`{"id":"r1","service":"gpu-h100","quantity":"0","at":"2026-03-20T08:00:00+07:00"}`,
		`{"id":"r2","account":"beta","service":"gpu-h100","quantity":"1","at":"2026-03-20T08:00:00+07:00"}`,
		`{"id":"r3","service":"nope","quantity":"1","at":"2026-03-20T08:00:00+07:00"}`,
		`{"id":"r4","service":"gpu-h100","quantity":"1","at":"yesterday"}`,
		`42`,
		`{"id":"r5","service":"gpu-h100","quantity":"1","at":"2026-03-20T08:00:00+07:00","colour":"red"}`,
	)
	got := MustResults(t, srv, key, body)
	want := []apiResult{
		{ID: "a1", Outcome: "applied", Drawn: drawn("182000", "0", "0", "0"), Currency: "VND"},
		{ID: "a2", Outcome: "applied", Drawn: drawn("0", "0", "20000", "0"), Currency: "VND"},
		{ID: "a3", Outcome: "applied", Drawn: drawn("0", "450000", "0", "0"), Currency: "VND"},
		{ID: "a1", Outcome: "duplicate", Drawn: drawn("182000", "0", "0", "0"), Currency: "VND"},
		{ID: "r1", Outcome: "rejected", Reason: "quantity must be greater than 0"},
		{ID: "r2", Outcome: "rejected", Reason: "account is decided by the API key and must be left out"},
		{ID: "r3", Outcome: "rejected", Reason: `unknown service "nope"`},
		{ID: "r4", Outcome: "rejected", Reason: `at: "yesterday" is not an RFC 3339 instant with an offset`},
		{ID: "", Outcome: "rejected", Reason: "not a usage event: number must be a usage event"},
		{ID: "", Outcome: "rejected", Reason: `not a usage event: unknown field "colour"`},
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) && !(want[i].ID == "" && got[i].Outcome == "rejected" && got[i].Reason != "") {
			t.Errorf("result %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	lines := apiCount(t, db, `SELECT COUNT(*) FROM consumptions`)

	t.Run("the same event in a later request is a duplicate with the first result and changes nothing", func(t *testing.T) {
		got := MustResults(t, srv, key, eventsBody(`{"id":"a3","service":"storage","quantity":"1","at":"2026-03-20T09:00:00+07:00"}`))
		if want := (apiResult{ID: "a3", Outcome: "duplicate", Drawn: drawn("0", "450000", "0", "0"), Currency: "VND"}); fmt.Sprint(got[0]) != fmt.Sprint(want) {
			t.Errorf("got %+v, want %+v", got[0], want)
		}
		if n := apiCount(t, db, `SELECT COUNT(*) FROM consumptions`); n != lines {
			t.Errorf("%d lines after a duplicate, want %d", n, lines)
		}
	})

	t.Run("the lines are on the account's pages", func(t *testing.T) {
		c := MustSignIn(t, srv, historyAdmin, historyPassword)
		doc := MustGetPage(t, c, "/billing")
		// BP-1 1,092,000 − 182,000 + BP-LATE 5,200,000; SPRING 800,000 − 450,000; top-up 300,000 − 20,000.
		for id, want := range map[string]string{"balance-plans": "₫6,110,000", "balance-vouchers": "₫350,000", "balance-topup": "₫280,000"} {
			if got := testid(doc, id); got != want {
				t.Errorf("%s = %q, want %q", id, got, want)
			}
		}
	})

	t.Run("USD amounts keep their cents", func(t *testing.T) {
		got := MustResults(t, srv, MustAPIKey(t, db, "beta"),
			eventsBody(`{"id":"u1","service":"gpu-h100","quantity":"1.25","at":"2026-03-20T08:00:00Z"}`))
		if want := (apiResult{ID: "u1", Outcome: "applied", Drawn: drawn("2.50", "0.00", "0.00", "0.00"), Currency: "USD"}); fmt.Sprint(got[0]) != fmt.Sprint(want) {
			t.Errorf("got %+v, want %+v", got[0], want)
		}
	})
}

func TestUsageAPIRefusesBadRequests(t *testing.T) {
	db, srv := MustHistoryWorld(t, nil)
	key := MustAPIKey(t, db, "acme")
	event := `{"id":"x%d","service":"gpu-h100","quantity":"1","at":"2026-03-20T08:00:00+07:00"}`
	many := make([]string, maxUsageEvents+1)
	for i := range many {
		many[i] = fmt.Sprintf(event, i)
	}
	tests := []struct {
		name, body    string
		unknownLength bool
		status        int
		message       string
	}{
		{"a body that is not JSON", `events: [1, 2]`, false, 400, "invalid JSON"},
		{"a truncated body", `{"events": [` + fmt.Sprintf(event, 1), false, 400, "The body must be"},
		{"an empty body", ``, false, 400, "empty"},
		{"a JSON array", `[` + fmt.Sprintf(event, 1) + `]`, false, 400, "not an object"},
		{"no events array", `{}`, false, 400, "no events array"},
		{"events that are null", `{"events": null}`, false, 400, "no events array"},
		{"events that are not an array", `{"events": {"id": "x"}}`, false, 400, "must be an array"},
		{"a field the format does not have", `{"events": [], "account": "beta"}`, false, 400, "unknown field"},
		{"something after the object", `{"events": []} {"events": []}`, false, 400, "something follows"},
		{"more than 10,000 events", eventsBody(many...), false, 400, "at most 10000"},
		{"a body over 4 MiB", `{"events": [` + strings.Repeat(" ", 4<<20) + `]}`, false, 413, "too large"},
		{"a body over 4 MiB of unknown length", `{"events": [` + strings.Repeat(" ", 4<<20) + `]}`, true, 413, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused whole", func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, usagePath, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+key)
			if tt.unknownLength {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			srv.Echo.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %.300s", rec.Code, tt.status, rec.Body)
			}
			var e struct{ Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || !strings.Contains(e.Error, tt.message) {
				t.Errorf("error = %q (%v), want it to say %q", e.Error, err, tt.message)
			}
			if n := apiCount(t, db, `SELECT COUNT(*) FROM usage_events WHERE event_id LIKE 'x%'`); n != 0 {
				t.Errorf("%d events applied", n)
			}
		})
	}

	t.Run("exactly 10,000 events are taken", func(t *testing.T) {
		got := MustResults(t, srv, key, eventsBody(many[:maxUsageEvents]...))
		if len(got) != maxUsageEvents || got[0].Outcome != "applied" || got[maxUsageEvents-1].Outcome != "applied" {
			t.Errorf("%d results, first %+v", len(got), got[0])
		}
	})
	t.Run("an empty batch answers no results", func(t *testing.T) {
		if got := MustResults(t, srv, key, `{"events": []}`); len(got) != 0 {
			t.Errorf("results %+v", got)
		}
	})
}

func TestUsageAPIAuthentication(t *testing.T) {
	db, srv := MustHistoryWorld(t, nil)
	key := MustAPIKey(t, db, "acme")
	revoked, k, err := db.CreateAPIKey(context.Background(), "acme", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RevokeAPIKey(context.Background(), k.Prefix, "test"); err != nil {
		t.Fatal(err)
	}
	body := eventsBody(`{"id":"k1","service":"gpu-h100","quantity":"1","at":"2026-03-20T08:00:00+07:00"}`)
	tests := []struct {
		name, header, challenge string
	}{
		{"no Authorization header", "", `Bearer realm="billingplans"`},
		{"another scheme", "Basic " + key, `Bearer realm="billingplans"`},
		{"a Bearer with no key", "Bearer ", `Bearer realm="billingplans"`},
		{"a key that is not one", "Bearer nonsense", `Bearer realm="billingplans", error="invalid_token"`},
		{"a wrong secret of a real prefix", "Bearer " + key[:len(key)-4] + "aaaa", `Bearer realm="billingplans", error="invalid_token"`},
		{"a revoked key", "Bearer " + revoked, `Bearer realm="billingplans", error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" gets 401", func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, usagePath, strings.NewReader(body))
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			rec := httptest.NewRecorder()
			srv.Echo.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", rec.Code)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
				t.Errorf("Content-Type = %q", rec.Header().Get("Content-Type"))
			}
		})
	}
	t.Run("a signed-in session is not a key", func(t *testing.T) {
		c := MustSignIn(t, srv, historyAdmin, historyPassword)
		req := httptest.NewRequest(http.MethodPost, usagePath, strings.NewReader(body))
		if rec := c.Do(req); rec.Code != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", rec.Code)
		}
	})
	if n := apiCount(t, db, `SELECT COUNT(*) FROM usage_events WHERE event_id = 'k1'`); n != 0 {
		t.Errorf("an unauthenticated event was applied")
	}
	t.Run("the key's scheme is case-insensitive", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, usagePath, strings.NewReader(body))
		req.Header.Set("Authorization", "bearer "+key)
		rec := httptest.NewRecorder()
		srv.Echo.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("status %d", rec.Code)
		}
	})
}

func TestUsageAPIKeyDecidesTheAccount(t *testing.T) {
	db, srv := MustHistoryWorld(t, nil)
	betaKey := MustAPIKey(t, db, "beta")
	acmeLines := apiCount(t, db, `SELECT COUNT(*) FROM consumptions c JOIN accounts a ON a.id = c.account_id WHERE a.code = 'acme'`)
	acmeConsumed := apiCount(t, db, `SELECT SUM(consumed) FROM plans p JOIN accounts a ON a.id = p.account_id WHERE a.code = 'acme'`)
	// e4 is an id acme used; for beta it is new.
	got := MustResults(t, srv, betaKey, eventsBody(
		`{"id":"e4","service":"gpu-h100","quantity":"2","at":"2026-03-20T08:00:00Z"}`,
		`{"id":"e5","account":"acme","service":"gpu-h100","quantity":"2","at":"2026-03-20T08:00:00Z"}`,
	))
	if got[0].Outcome != "applied" || got[0].Currency != "USD" || got[0].Drawn["plan"] != "4.00" {
		t.Errorf("beta's e4 = %+v, want applied from BETA-1 (2h at 2.00)", got[0])
	}
	if got[1].Outcome != "rejected" {
		t.Errorf("an event naming acme = %+v, want rejected", got[1])
	}
	if n := apiCount(t, db, `SELECT COUNT(*) FROM consumptions c JOIN accounts a ON a.id = c.account_id WHERE a.code = 'acme'`); n != acmeLines {
		t.Errorf("acme has %d lines, want %d", n, acmeLines)
	}
	if n := apiCount(t, db, `SELECT SUM(consumed) FROM plans p JOIN accounts a ON a.id = p.account_id WHERE a.code = 'acme'`); n != acmeConsumed {
		t.Errorf("acme's plans consumed %d, want %d", n, acmeConsumed)
	}
}

// usageEventsJSON returns events as the API's JSON objects (no account).
func usageEventsJSON(events []store.UsageEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = fmt.Sprintf(`{"id":%q,"service":%q,"quantity":%q,"at":%q}`, e.ID, e.ServiceCode, e.Quantity.String(), e.At.Format(time.RFC3339Nano))
	}
	return out
}

// randomUsage returns n events of acme's services in March, reproducibly.
func randomUsage(n int, seed uint64) []store.UsageEvent {
	rng := rand.New(rand.NewPCG(seed, 7))
	services := []string{"gpu-h100", "storage", "notebook"}
	base := time.Date(2026, 2, 25, 0, 0, 0, 0, time.UTC)
	out := make([]store.UsageEvent, n)
	for i := range out {
		svc := services[rng.IntN(len(services))]
		q := fmt.Sprintf("%d.%03d", rng.IntN(3), 1+rng.IntN(999))
		out[i] = store.UsageEvent{ID: fmt.Sprintf("r%05d", i), AccountCode: "acme", ServiceCode: svc,
			Quantity: decimal.RequireFromString(q), At: base.Add(time.Duration(rng.IntN(24*24*3600)) * time.Second)}
	}
	return out
}

// ledgerOf returns acme's consumption lines, in order, with every field a
// line has, named by codes rather than row ids, and the account's totals.
func ledgerOf(t testing.TB, db *store.DB) []string {
	t.Helper()
	tx, err := db.BeginTx(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	rows, err := tx.Query(`
		SELECT u.event_id, s.code, c.source, COALESCE(p.code, ''), COALESCE(v.code, ''), c.quantity, c.unit_price, c.amount, c.at, c.day
		FROM consumptions c JOIN usage_events u ON u.id = c.event_id JOIN services s ON s.id = c.service_id
		LEFT JOIN plans p ON p.id = c.plan_id LEFT JOIN vouchers v ON v.id = c.voucher_id
		JOIN accounts a ON a.id = c.account_id WHERE a.code = 'acme' ORDER BY c.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		f := make([]string, 10)
		ptrs := make([]any, len(f))
		for i := range f {
			ptrs[i] = &f[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join(f, "|"))
	}
	var topup, owed int64
	if err := tx.QueryRow(`SELECT topup_balance, uncovered FROM accounts WHERE code = 'acme'`).Scan(&topup, &owed); err != nil {
		t.Fatal(err)
	}
	out = append(out, fmt.Sprintf("top-up %d, uncovered %d", topup, owed))
	prs, err := tx.Query(`SELECT code, consumed FROM plans ORDER BY code`)
	if err != nil {
		t.Fatal(err)
	}
	defer prs.Close()
	for prs.Next() {
		var code string
		var consumed int64
		if err := prs.Scan(&code, &consumed); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s consumed %d", code, consumed))
	}
	return out
}

func TestUsageAPIGivesTheSameLinesAsIngest(t *testing.T) {
	events := append(historyEvents(t)[:9], randomUsage(2500, 1)...)

	// One database through `billingplans ingest` (JSON lines naming the account, batches of 1,000)...
	viaIngest := MustOpenDB(t)
	MustSetClock(t, viaIngest, historyToday)
	MustImport(t, viaIngest, historyImport())
	var jsonl bytes.Buffer
	for _, js := range usageEventsJSON(events) {
		jsonl.WriteString(`{"account":"acme",` + js[1:] + "\n")
	}
	rep, err := viaIngest.Ingest(context.Background(), &jsonl)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Applied != len(events) {
		t.Fatalf("ingest applied %d of %d: %+v", rep.Applied, len(events), rep.Problems)
	}

	// ...and one through the API, in requests of 700.
	viaAPI := MustOpenDB(t)
	MustSetClock(t, viaAPI, historyToday)
	MustImport(t, viaAPI, historyImport())
	srv := MustNewServer(t, viaAPI)
	key := MustAPIKey(t, viaAPI, "acme")
	all := usageEventsJSON(events)
	for len(all) > 0 {
		n := min(700, len(all))
		for _, r := range MustResults(t, srv, key, eventsBody(all[:n]...)) {
			if r.Outcome != "applied" {
				t.Fatalf("%+v", r)
			}
		}
		all = all[n:]
	}

	a, b := ledgerOf(t, viaIngest), ledgerOf(t, viaAPI)
	if len(a) < len(events) {
		t.Fatalf("only %d lines", len(a))
	}
	if !slices.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("line %d differs:\ningest %s\n   API %s", i, a[i], b[i])
			}
		}
		t.Fatalf("ingest gave %d lines, the API %d", len(a), len(b))
	}
}

// soloPlanWorld is the world of history_test.go where acme's only credit is
// one plan far larger than any usage, covering every service: each event is
// then drawn the same whatever order events arrive in (prices are whole dong
// and quantities have 3 decimals, so no line is rounded either).
func soloPlanWorld(f *store.ImportFile) {
	big := f.Plans[1]
	big.Code, big.StartDate, big.EndDate, big.Amount = "BP-BIG", "2026-02-01", "2026-04-30", "1000000000000"
	big.Payments = []store.ImportPayment{{Amount: big.Amount, Method: "online", PaidAt: "2026-01-01T09:00:00+07:00"}}
	big.Services = []store.ImportPlanService{
		{Service: "gpu-h100", PricePerUnit: "52000"},
		{Service: "storage", PricePerUnit: "3000"},
		{Service: "notebook", PricePerUnit: "18000"},
	}
	f.Plans = []store.ImportPlan{big, f.Plans[3]}
	f.Vouchers = nil
}

func TestUsageAPITwoClientsAtOnce(t *testing.T) {
	events := randomUsage(900, 2)
	js := usageEventsJSON(events)

	// One client sending every event once is the reference.
	ref, refSrv := MustHistoryWorld(t, soloPlanWorld)
	for _, r := range MustResults(t, refSrv, MustAPIKey(t, ref, "acme"), eventsBody(js...)) {
		if r.Outcome != "applied" || r.Drawn["plan"] == "0" {
			t.Fatalf("reference: %+v", r)
		}
	}

	// Two clients at once, with overlapping batches: 0–599 and 300–899, each in
	// requests of 100, the second sending its batches in reverse order.
	db, srv := MustHistoryWorld(t, soloPlanWorld)
	key := MustAPIKey(t, db, "acme")
	var mu sync.Mutex
	results := map[string][]apiResult{}
	var wg sync.WaitGroup
	for client, span := range [][2]int{{0, 600}, {300, 900}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var batches [][]string
			for i := span[0]; i < span[1]; i += 100 {
				batches = append(batches, js[i:i+100])
			}
			if client == 1 {
				slices.Reverse(batches)
			}
			for _, batch := range batches {
				rec := postUsage(srv, key, eventsBody(batch...))
				if rec.Code != http.StatusOK {
					t.Errorf("status %d", rec.Code)
					return
				}
				var res struct{ Results []apiResult }
				if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, r := range res.Results {
					results[r.ID] = append(results[r.ID], r)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	for i, e := range events {
		rs := results[e.ID]
		want := 1
		if i >= 300 && i < 600 {
			want = 2
		}
		if len(rs) != want {
			t.Fatalf("%s has %d results, want %d", e.ID, len(rs), want)
		}
		applied := 0
		for _, r := range rs {
			switch {
			case r.Outcome == "applied":
				applied++
			case r.Outcome != "duplicate":
				t.Errorf("%s: %+v", e.ID, r)
			}
			if fmt.Sprint(r.Drawn) != fmt.Sprint(rs[0].Drawn) {
				t.Errorf("%s: a duplicate's result %+v differs from the first %+v", e.ID, r, rs[0])
			}
		}
		if applied != 1 {
			t.Errorf("%s applied %d times", e.ID, applied)
		}
	}
	// The same lines (in another order) and the same totals as one client.
	a, b := ledgerOf(t, ref), ledgerOf(t, db)
	sort.Strings(a)
	sort.Strings(b)
	if !slices.Equal(a, b) {
		t.Errorf("two clients at once gave other lines than one client (%d and %d)", len(b), len(a))
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("first difference:\n one client: %s\ntwo clients: %s", a[i], b[i])
			}
		}
	}
	if !sameTotals(t, ref, db) {
		t.Error("two clients at once gave other totals than one client")
	}
}

// sameTotals reports whether two databases hold the same totals of acme: lines
// and amount per credit source, events, plans' consumption, balances.
func sameTotals(t *testing.T, a, b *store.DB) bool {
	t.Helper()
	q := func(db *store.DB) string {
		var parts []string
		for _, src := range store.CreditSources {
			parts = append(parts, fmt.Sprintf("%s %d/%d", src,
				apiCount(t, db, `SELECT COUNT(*) FROM consumptions WHERE source = ?`, string(src)),
				apiCount(t, db, `SELECT COALESCE(SUM(amount), 0) FROM consumptions WHERE source = ?`, string(src))))
		}
		parts = append(parts,
			fmt.Sprint(apiCount(t, db, `SELECT COUNT(*) FROM usage_events`)),
			fmt.Sprint(apiCount(t, db, `SELECT SUM(consumed) FROM plans`)),
			fmt.Sprint(apiCount(t, db, `SELECT topup_balance FROM accounts WHERE code = 'acme'`)),
			fmt.Sprint(apiCount(t, db, `SELECT uncovered FROM accounts WHERE code = 'acme'`)),
			fmt.Sprint(apiCount(t, db, `SELECT COALESCE(SUM(remaining), 0) FROM vouchers`)))
		return strings.Join(parts, ", ")
	}
	ta, tb := q(a), q(b)
	if ta != tb {
		t.Logf("one client: %s\ntwo clients: %s", ta, tb)
	}
	return ta == tb
}

// openAPI is docs/api.yaml, parsed.
type openAPI map[string]any

// MustOpenAPI parses docs/api.yaml.
func MustOpenAPI(t *testing.T) openAPI {
	t.Helper()
	data, err := os.ReadFile("../docs/api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Into a plain map: yaml.v3 would make every nested map an openAPI too.
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("docs/api.yaml: %v", err)
	}
	return openAPI(doc)
}

// get walks the document along keys, failing the test where one is missing.
func (d openAPI) get(t *testing.T, keys ...string) any {
	t.Helper()
	var v any = map[string]any(d)
	for i, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("docs/api.yaml: %s is not a map", strings.Join(keys[:i], "."))
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("docs/api.yaml: no %s", strings.Join(keys[:i+1], "."))
		}
	}
	return v
}

// keysOf returns the sorted keys of a map of the document.
func keysOf(v any) []string {
	m, _ := v.(map[string]any)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// stringsOf returns a list of the document as strings, sorted.
func stringsOf(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	sort.Strings(out)
	return out
}

// schema resolves a schema of the document, following a local $ref.
func (d openAPI) schema(t *testing.T, s any) map[string]any {
	t.Helper()
	m, ok := s.(map[string]any)
	if !ok {
		t.Fatalf("docs/api.yaml: a schema is not a map: %v", s)
	}
	if ref, ok := m["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/components/schemas/")
		if !found {
			t.Fatalf("docs/api.yaml: unsupported $ref %q", ref)
		}
		return d.schema(t, d.get(t, "components", "schemas", name))
	}
	return m
}

// validate checks a JSON value against a schema of the document, for the
// keywords the document uses (type, properties, required,
// additionalProperties: false, items, maxItems, enum), and returns what does
// not match.
func (d openAPI) validate(t *testing.T, path string, s any, v any) []string {
	t.Helper()
	sc := d.schema(t, s)
	var errs []string
	if enum, ok := sc["enum"].([]any); ok && !slices.Contains(stringsOf(enum), fmt.Sprint(v)) {
		errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", path, v, enum))
	}
	switch sc["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: %v is not an object", path, v))
		}
		props, _ := sc["properties"].(map[string]any)
		for _, r := range stringsOf(sc["required"]) {
			if _, ok := m[r]; !ok {
				errs = append(errs, fmt.Sprintf("%s: no %s", path, r))
			}
		}
		for k, x := range m {
			p, ok := props[k]
			if !ok {
				if sc["additionalProperties"] == false {
					errs = append(errs, fmt.Sprintf("%s: %s is not documented", path, k))
				}
				continue
			}
			errs = append(errs, d.validate(t, path+"."+k, p, x)...)
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			return append(errs, fmt.Sprintf("%s: %v is not an array", path, v))
		}
		if maxItems, ok := sc["maxItems"].(int); ok && len(l) > maxItems {
			errs = append(errs, fmt.Sprintf("%s: %d items, at most %d", path, len(l), maxItems))
		}
		for i, x := range l {
			errs = append(errs, d.validate(t, fmt.Sprintf("%s[%d]", path, i), sc["items"], x)...)
		}
	case "string":
		if _, ok := v.(string); !ok {
			errs = append(errs, fmt.Sprintf("%s: %v is not a string", path, v))
		}
	default:
		t.Fatalf("docs/api.yaml: %s: unsupported schema type %v", path, sc["type"])
	}
	return errs
}

func TestAPIDescriptionMatchesTheHandler(t *testing.T) {
	doc := MustOpenAPI(t)
	db, srv := MustHistoryWorld(t, nil)
	key := MustAPIKey(t, db, "acme")

	t.Run("the documented paths and methods are the API's routes", func(t *testing.T) {
		base := doc.get(t, "servers").([]any)[0].(map[string]any)["url"].(string)
		var documented, routed []string
		for path, item := range doc.get(t, "paths").(map[string]any) {
			for method := range item.(map[string]any) {
				documented = append(documented, strings.ToUpper(method)+" "+base+path)
			}
		}
		for _, r := range srv.Echo.Routes() {
			// The group's own not-found routes are echo's, not the API's.
			if strings.HasPrefix(r.Path, "/api/") && r.Method != echo.RouteNotFound {
				routed = append(routed, r.Method+" "+r.Path)
			}
		}
		sort.Strings(documented)
		sort.Strings(routed)
		if !slices.Equal(documented, routed) {
			t.Errorf("documented %v, routed %v", documented, routed)
		}
	})

	op := []string{"paths", "/usage", "post"}
	responses := doc.get(t, append(op, "responses")...)

	t.Run("the result's outcomes and drawn sources are the engine's", func(t *testing.T) {
		outcomes := stringsOf(doc.get(t, "components", "schemas", "UsageResult", "properties", "outcome", "enum"))
		if want := []string{string(store.Applied), string(store.Duplicate), string(store.Rejected)}; !slices.Equal(outcomes, want) {
			t.Errorf("documented outcomes %v, want %v", outcomes, want)
		}
		var sources []string
		for _, s := range store.CreditSources {
			sources = append(sources, string(s))
		}
		sort.Strings(sources)
		drawnSchema := []string{"components", "schemas", "Drawn"}
		if got := keysOf(doc.get(t, append(drawnSchema, "properties")...)); !slices.Equal(got, sources) {
			t.Errorf("documented drawn %v, want %v", got, sources)
		}
		if got := stringsOf(doc.get(t, append(drawnSchema, "required")...)); !slices.Equal(got, sources) {
			t.Errorf("documented required drawn %v, want %v", got, sources)
		}
		if got := doc.get(t, "components", "schemas", "UsageRequest", "properties", "events", "maxItems"); got != maxUsageEvents {
			t.Errorf("documented maxItems %v, want %d", got, maxUsageEvents)
		}
	})

	t.Run("a request of the documented example, and of exactly the documented fields, is taken", func(t *testing.T) {
		example := doc.get(t, append(op, "requestBody", "content", "application/json", "example")...)
		reqSchema := doc.get(t, append(op, "requestBody", "content", "application/json", "schema")...)
		if errs := doc.validate(t, "example", reqSchema, toJSONValue(t, example)); len(errs) > 0 {
			t.Errorf("the request example does not match its schema: %v", errs)
		}
		eventSchema := doc.schema(t, doc.get(t, "components", "schemas", "UsageEvent"))
		fields := map[string]string{"id": "doc-1", "service": "gpu-h100", "quantity": "1.5", "at": "2026-03-20T08:00:00+07:00"}
		if got := keysOf(eventSchema["properties"]); !slices.Equal(got, []string{"at", "id", "quantity", "service"}) {
			t.Fatalf("documented event fields %v", got)
		}
		if got := stringsOf(eventSchema["required"]); !slices.Equal(got, keysOf(eventSchema["properties"])) {
			t.Errorf("documented required event fields %v", got)
		}
		event, _ := json.Marshal(fields)
		if r := MustResults(t, srv, key, eventsBody(string(event))); r[0].Outcome != "applied" {
			t.Errorf("an event of the documented fields: %+v", r[0])
		}
		for name := range fields {
			partial := map[string]string{}
			for k, v := range fields {
				if k != name {
					partial[k] = v
				}
			}
			if name != "id" {
				partial["id"] += "-no-" + name
			}
			ev, _ := json.Marshal(partial)
			if r := MustResults(t, srv, key, eventsBody(string(ev))); r[0].Outcome != "rejected" {
				t.Errorf("an event without the required %s: %+v", name, r[0])
			}
		}
	})

	// One real request per documented status, each answer checked against the
	// documented schema of its status.
	huge := `{"events": [` + strings.Repeat(" ", 4<<20) + `]}`
	requests := []struct {
		name, key, body string
		status          int
	}{
		{"every outcome", key, eventsBody(
			`{"id":"o1","service":"gpu-h100","quantity":"1","at":"2026-03-20T08:00:00+07:00"}`,
			`{"id":"o1","service":"gpu-h100","quantity":"1","at":"2026-03-20T08:00:00+07:00"}`,
			`{"id":"o2","service":"gpu-h100","quantity":"-1","at":"2026-03-20T08:00:00+07:00"}`), 200},
		{"bad JSON", key, `{"events": [`, 400},
		{"no key", "", `{"events": []}`, 401},
		{"too large", key, huge, 413},
	}
	var seen []string
	for _, r := range requests {
		t.Run("the answer to "+r.name+" is documented", func(t *testing.T) {
			rec := postUsage(srv, r.key, r.body)
			if rec.Code != r.status {
				t.Fatalf("status %d, want %d", rec.Code, r.status)
			}
			status := fmt.Sprint(rec.Code)
			seen = append(seen, status)
			content := doc.get(t, "paths", "/usage", "post", "responses", status, "content")
			if got := keysOf(content); !slices.Equal(got, []string{"application/json"}) || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
				t.Errorf("documented content %v, answered %q", got, rec.Header().Get("Content-Type"))
			}
			var body any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if errs := doc.validate(t, status, doc.get(t, "paths", "/usage", "post", "responses", status, "content", "application/json", "schema"), body); len(errs) > 0 {
				t.Errorf("the answer does not match docs/api.yaml: %v\n%s", errs, rec.Body)
			}
			if r.status == 200 {
				var outcomes []string
				for _, x := range body.(map[string]any)["results"].([]any) {
					outcomes = append(outcomes, x.(map[string]any)["outcome"].(string))
				}
				if !slices.Equal(outcomes, []string{"applied", "duplicate", "rejected"}) {
					t.Errorf("outcomes %v", outcomes)
				}
				example := doc.get(t, "paths", "/usage", "post", "responses", status, "content", "application/json", "example")
				if errs := doc.validate(t, "example", doc.get(t, "paths", "/usage", "post", "responses", status, "content", "application/json", "schema"), toJSONValue(t, example)); len(errs) > 0 {
					t.Errorf("the 200 example does not match its schema: %v", errs)
				}
			}
			if r.status == 401 {
				doc.get(t, "paths", "/usage", "post", "responses", "401", "headers", "WWW-Authenticate")
				if rec.Header().Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate")
				}
			}
		})
	}
	sort.Strings(seen)
	if documented := keysOf(responses); !slices.Equal(seen, documented) {
		t.Errorf("documented statuses %v, answered %v", documented, seen)
	}
	if got := doc.get(t, "components", "securitySchemes", "apiKey", "scheme"); got != "bearer" {
		t.Errorf("security scheme %v, want bearer", got)
	}
}

// toJSONValue turns a value parsed from YAML into what encoding/json would
// make of the same document, so both are checked alike.
func toJSONValue(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
