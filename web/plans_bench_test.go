package web

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/billingplans/billingplans/store"
)

// planBenchPlans is the size of the benchmark's account; planBenchAccounts
// accounts of that size make the database.
const (
	planBenchPlans    = 20_000
	planBenchAccounts = 5
)

// mustPlanBench returns a server on a database of 100,000 plans, 20,000 of
// them in account BIG0, and the cookies of an admin of BIG0 signed in. The
// helpers of helpers_test.go take a *testing.T, so this one signs in by hand.
func mustPlanBench(b *testing.B) (*Server, []*http.Cookie) {
	b.Helper()
	db, err := store.Open(filepath.Join(b.TempDir(), "billing.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return testNow }
	ctx := context.Background()
	f := store.ImportFile{
		Users: []store.ImportUser{{Email: "bench@example.com", Name: "Bench", Password: planListPassword,
			Memberships: []store.ImportMembership{{Account: "BIG0", Role: "admin"}}}},
	}
	for i := range planBenchAccounts {
		f.Accounts = append(f.Accounts, store.ImportAccount{Code: fmt.Sprintf("BIG%d", i), Name: fmt.Sprintf("Big %d", i), Currency: "VND"})
	}
	for _, s := range []string{"gpu", "llm", "storage", "notebook"} {
		f.Services = append(f.Services, store.ImportService{Code: s, Name: "Service " + s, Unit: "hour", ListPrices: map[string]string{"VND": "1000"}})
	}
	if _, err := db.Import(ctx, f); err != nil {
		b.Fatal(err)
	}
	for i := range planBenchAccounts {
		if err := db.BulkPlans(ctx, fmt.Sprintf("BIG%d", i), planBenchPlans); err != nil {
			b.Fatal(err)
		}
	}
	srv, err := New(db, Config{SessionKeys: []string{testSessionKey}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return srv, MustBenchSignIn(b, srv, "bench@example.com", planListPassword)
}

// BenchmarkPlanList serves the plan list, 50 rows a page, from an account of
// 20,000 plans in a database of 100,000, through the real Echo instance, on
// the first page and on page 400 (the last of the whole list; a filtered list
// has fewer pages, so page 400 shows its last page after finding it is past
// the end), unfiltered and with each kind of filter: status, search, service,
// dates, and a sort other than the default. Pages are cached until a plan of the account changes, so the same
// page asked again is a cache hit. Before each request (untimed), the
// "changed" runs change a plan of the account by hand, so that every request
// reads the page, the count and the summary cards afresh; the "usage" runs
// apply a usage event, after which the page is read afresh and the cards
// have moved with the event. Besides ns/op it reports the
// median and the 99th percentile of the requests, in milliseconds.
func BenchmarkPlanList(b *testing.B) {
	srv, cookies := mustPlanBench(b)
	writer, err := sql.Open("sqlite3", "file:"+srv.DB.Path+"?_busy_timeout=10000")
	if err != nil {
		b.Fatal(err)
	}
	defer writer.Close()
	filters := []string{"", "status=active&", "q=gpu&", "service=gpu&", "from=2026-01-01&to=2026-06-30&", "sort=usage&"}
	for _, filter := range filters {
		for _, page := range []int{1, 400} {
			for _, change := range []string{"", "changed", "usage"} {
				if change == "changed" && filter != "" {
					continue
				}
				name := fmt.Sprintf("%spage=%d", filter, page)
				if change != "" {
					name += "," + change
				}
				path := "/billing/plans?" + filter + "per_page=50"
				if page > 1 {
					path = fmt.Sprintf("/billing/plans?%spage=%d&per_page=50", filter, page)
				}
				b.Run(name, func(b *testing.B) {
					var times []time.Duration
					for b.Loop() {
						switch change {
						case "changed":
							b.StopTimer()
							if _, err := writer.Exec(`UPDATE plans SET suspended = suspended
								WHERE id = (SELECT MIN(id) FROM plans WHERE account_id = (SELECT id FROM accounts WHERE code = 'BIG0'))`); err != nil {
								b.Fatal(err)
							}
							b.StartTimer()
						case "usage":
							b.StopTimer()
							mustBenchUsage(b, srv.DB, "BIG0")
							b.StartTimer()
						}
						req := httptest.NewRequest(http.MethodGet, path, nil)
						for _, c := range cookies {
							req.AddCookie(c)
						}
						rec := httptest.NewRecorder()
						start := time.Now()
						srv.Echo.ServeHTTP(rec, req)
						times = append(times, time.Since(start))
						if rec.Code != http.StatusOK {
							b.Fatalf("%s: status %d", path, rec.Code)
						}
					}
					reportLatency(b, times)
				})
			}
		}
	}
}
