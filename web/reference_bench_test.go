package web

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/shopspring/decimal"

	"github.com/billingplans/billingplans/store"
)

// referenceTable is the bare page of the reference handler: a table of plans.
var referenceTable = template.Must(template.New("plans").Parse(`<!doctype html>
<title>Plans</title>
<table>
<tr><th>Code</th><th>Type</th><th>Start</th><th>End</th><th>Amount</th><th>Consumed</th><th>Paid</th></tr>
{{range .}}<tr><td>{{.Code}}</td><td>{{.Type}}</td><td>{{.Start}}</td><td>{{.End}}</td><td>{{.Amount}}</td><td>{{.Consumed}}</td><td>{{.Paid}}</td></tr>
{{end}}</table>
`))

// referenceRow is one plan of the reference page, as stored.
type referenceRow struct {
	Code, Type, Start, End string
	Amount, Consumed, Paid int64
}

// referenceHandler is the least a plan list can do: plain net/http and
// html/template over database/sql, one query of one account's 50 newest plans
// (ORDER BY start_date DESC LIMIT 50, the list page's default order), no
// session, no filter, no count, no summary, no formatting.
func referenceHandler(db *sql.DB, accountID int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rows, err := db.QueryContext(r.Context(), `SELECT code, type, start_date, end_date, amount, consumed, paid_total
			FROM plans WHERE account_id = ? ORDER BY start_date DESC, code LIMIT 50`, accountID)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer rows.Close()
		plans := make([]referenceRow, 0, 50)
		for rows.Next() {
			var p referenceRow
			if err := rows.Scan(&p.Code, &p.Type, &p.Start, &p.End, &p.Amount, &p.Consumed, &p.Paid); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			plans = append(plans, p)
		}
		if err := rows.Err(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := referenceTable.Execute(w, plans); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}

// BenchmarkPlanListReference serves the reference handler from the database of
// BenchmarkPlanList (mustPlanBench: 100,000 plans, 20,000 in BIG0), read
// through its own database/sql pool, so that the two compare in one run:
//
//	go test -run '^$' -bench 'PlanList(Reference)?$' -benchmem ./web/
//
// Besides ns/op it reports the median and the 99th percentile in milliseconds,
// as BenchmarkPlanList does. It checks that the page lists 50 plans.
func BenchmarkPlanListReference(b *testing.B) {
	srv, _ := mustPlanBench(b)
	db, err := sql.Open("sqlite3", "file:"+srv.DB.Path+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var accountID int64
	if err := db.QueryRowContext(context.Background(), `SELECT id FROM accounts WHERE code = 'BIG0'`).Scan(&accountID); err != nil {
		b.Fatal(err)
	}
	h := referenceHandler(db, accountID)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/plans", nil))
	if got := bytes.Count(rec.Body.Bytes(), []byte("<tr><td>")); rec.Code != http.StatusOK || got != 50 {
		b.Fatalf("status %d, %d rows, want 200 and 50:\n%.500s", rec.Code, got, rec.Body.String())
	}
	var times []time.Duration
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/plans", nil)
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		times = append(times, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	reportLatency(b, times)
}

// BenchmarkPlanSummaryCards reads the summary cards of the list page for the
// account of 20,000 plans of mustPlanBench. The cards are cached per account,
// day and plans version, and the store's own changes move them instead of
// dropping them. Before each call (untimed): "cached" changes nothing;
// "after usage" applies a usage event; "after a renewal" renews an Active
// plan by a month; "next day" asks for the next day (the cards move by the
// plans starting or ending); "after a change elsewhere" changes a plan by hand
// on another connection, as an import or another process would, so the cards
// are worked out from all 20,000 plans. It reports the median and the 99th
// percentile in milliseconds.
func BenchmarkPlanSummaryCards(b *testing.B) {
	srv, _ := mustPlanBench(b)
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+srv.DB.Path+"?_busy_timeout=10000")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var accountID int64
	if err := db.QueryRowContext(ctx, `SELECT id FROM accounts WHERE code = 'BIG0'`).Scan(&accountID); err != nil {
		b.Fatal(err)
	}
	today := store.DateOf(testNow, store.LoadLocation(store.DefaultTimeZone))
	active, err := srv.DB.FindPlans(ctx, accountID, store.PlanFilter{Status: store.StatusActive, Limit: 100, Today: today})
	if err != nil || len(active.Plans) == 0 {
		b.Fatalf("no Active plan to renew: %v", err)
	}
	for _, name := range []string{"cached", "after usage", "after a renewal", "next day", "after a change elsewhere"} {
		b.Run(name, func(b *testing.B) {
			var times []time.Duration
			n := 0
			day := today
			for b.Loop() {
				n++
				b.StopTimer()
				switch name {
				case "after usage":
					mustBenchUsage(b, srv.DB, "BIG0")
				case "after a renewal":
					mustBenchRenew(b, srv.DB, accountID, active.Plans[n%len(active.Plans)].Code)
				case "next day":
					day = day.AddDays(1)
				case "after a change elsewhere":
					if _, err := db.Exec(`UPDATE plans SET suspended = suspended WHERE id = (SELECT MIN(id) FROM plans WHERE account_id = ?)`, accountID); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				start := time.Now()
				s, err := srv.DB.PlanSummary(ctx, accountID, store.VND, day)
				times = append(times, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if n := s.Active + s.Expired + s.Inactive; n != planBenchPlans {
					b.Fatalf("the summary counts %d plans; want %d", n, planBenchPlans)
				}
			}
			reportLatency(b, times)
		})
	}
}

// mustBenchRenew renews the account's plan code by a month at no price.
func mustBenchRenew(b *testing.B, db *store.DB, accountID int64, code string) {
	b.Helper()
	key, err := store.NewIdempotencyKey()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Renew(context.Background(), store.RenewRequest{AccountID: accountID, PlanCode: code, Months: 1,
		Price: store.Money{Currency: store.VND}, IdempotencyKey: key, Actor: "bench@example.com"}); err != nil {
		b.Fatalf("renew %s: %v", code, err)
	}
}

// benchEvents numbers the usage events the benchmarks apply, so that every
// event is new however often a benchmark runs (-count).
var benchEvents atomic.Int64

// mustBenchUsage applies one new usage event of service gpu to the account, now.
func mustBenchUsage(b *testing.B, db *store.DB, account string) {
	b.Helper()
	id := fmt.Sprintf("bench-%d", benchEvents.Add(1))
	res, err := db.ApplyUsage(context.Background(), []store.UsageEvent{{ID: id, AccountCode: account, ServiceCode: "gpu",
		Quantity: decimal.NewFromInt(1), At: testNow}})
	if err != nil {
		b.Fatal(err)
	}
	if res[0].Outcome != store.Applied {
		b.Fatalf("usage %s: %+v", id, res[0])
	}
}
