package web

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"slices"
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
	slices.Sort(times)
	ms := func(q float64) float64 {
		return float64(times[min(len(times)-1, int(q*float64(len(times))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

// BenchmarkPlanSummaryCards computes the summary cards of the list page for the
// account of 20,000 plans of mustPlanBench: "cached" asks for the same day
// each time (the answer cached per account, day and plans version), "computed"
// for another day each time, so that every call reads the 20,000 plans, as
// the first request after any change to the account's plans does. It reports
// the median and the 99th percentile in milliseconds.
func BenchmarkPlanSummaryCards(b *testing.B) {
	srv, _ := mustPlanBench(b)
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+srv.DB.Path+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var accountID int64
	if err := db.QueryRowContext(ctx, `SELECT id FROM accounts WHERE code = 'BIG0'`).Scan(&accountID); err != nil {
		b.Fatal(err)
	}
	today := store.DateOf(testNow, store.LoadLocation(store.DefaultTimeZone))
	// "cached" asks for the same day again; "after usage" applies one usage
	// event to the account first (untimed), which moves the cached cards;
	// "computed" asks for a new day each time, so the cards are worked out
	// from every plan, as after a change other than usage.
	for _, name := range []string{"cached", "after usage", "computed"} {
		b.Run(name, func(b *testing.B) {
			var times []time.Duration
			n := 0
			for b.Loop() {
				n++
				day := today
				switch name {
				case "computed":
					day = today.AddDays(n)
				case "after usage":
					b.StopTimer()
					mustBenchUsage(b, srv.DB, "BIG0", fmt.Sprintf("cards-%d", n))
					b.StartTimer()
				}
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
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2])/float64(time.Millisecond), "p50-ms")
			b.ReportMetric(float64(times[min(len(times)-1, len(times)*99/100)])/float64(time.Millisecond), "p99-ms")
		})
	}
}

// mustBenchUsage applies one usage event of service gpu to the account, now.
func mustBenchUsage(b *testing.B, db *store.DB, account, id string) {
	b.Helper()
	res, err := db.ApplyUsage(context.Background(), []store.UsageEvent{{ID: id, AccountCode: account, ServiceCode: "gpu",
		Quantity: decimal.NewFromInt(1), At: testNow}})
	if err != nil {
		b.Fatal(err)
	}
	if res[0].Outcome != store.Applied {
		b.Fatalf("usage %s: %+v", id, res[0])
	}
}
