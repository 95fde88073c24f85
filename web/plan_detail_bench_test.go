package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/shopspring/decimal"

	"github.com/billingplans/billingplans/store"
)

// BenchmarkPlanDetail serves the detail page of a plan with 10 services and two
// years of daily usage (1 to 3 events a service a day, applied through the
// ledger engine), through the whole Echo stack with a signed-in session, and
// reports the median and 99th percentile time of one page. The chart is kept
// written out until a plan of the account changes: "cached" asks for the same
// page again, "after usage" applies a usage event to the plan first
// (untimed), so every page is read and drawn afresh.
func BenchmarkPlanDetail(b *testing.B) {
	srv, cookies := mustBenchPlanDetail(b)
	const path = "/billing/plans/BP-BENCH"
	get := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		srv.Echo.ServeHTTP(rec, req)
		return rec
	}
	rec := get()
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d; body:\n%.800s", rec.Code, rec.Body)
	}
	bytes := rec.Body.Len()
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil {
		b.Fatal(err)
	}
	// The page must be the realistic one: two years of days, ten services.
	if days, rows := doc.Find(`[data-testid="usage-chart"] tbody tr`).Length(), doc.Find(`[data-testid="breakdown-row"]`).Length(); days < 730 || rows != 10 {
		b.Fatalf("chart of %d days and %d services, want at least 730 and 10", days, rows)
	}

	for _, name := range []string{"cached", "after usage"} {
		b.Run(name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				if name == "after usage" {
					b.StopTimer()
					res, err := srv.DB.ApplyUsage(context.Background(), []store.UsageEvent{{ID: fmt.Sprintf("bench-later-%d", benchEvents.Add(1)),
						AccountCode: "bench", ServiceCode: "gpu-h100", Quantity: decimal.NewFromInt(1), At: srv.DB.Now().Add(-time.Hour)}})
					if err != nil || res[0].Outcome != store.Applied {
						b.Fatalf("usage: %v %+v", err, res)
					}
					b.StartTimer()
				}
				start := time.Now()
				rec := get()
				times = append(times, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
			reportLatency(b, times)
			b.ReportMetric(float64(bytes), "page-bytes")
		})
	}
}

// mustBenchPlanDetail builds the benchmark's database and server, and returns
// the cookies of a signed-in admin.
func mustBenchPlanDetail(b *testing.B) (*Server, []*http.Cookie) {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(filepath.Join(b.TempDir(), "billing.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	now := time.Date(2026, 12, 20, 8, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }

	f := store.ImportFile{
		Accounts: []store.ImportAccount{{Code: "bench", Name: "Bench AI", Currency: "VND", Timezone: "Asia/Ho_Chi_Minh"}},
		Users: []store.ImportUser{{Email: "admin@bench.test", Name: "Admin", Password: planDetailPassword,
			Memberships: []store.ImportMembership{{Account: "bench", Role: "admin"}}}},
	}
	plan := store.ImportPlan{Code: "BP-BENCH", Account: "bench", Type: "AI Platform Enterprise",
		StartDate: "2025-01-01", EndDate: "2026-12-31", Amount: "90000000000", Region: "Hanoi",
		PaymentOption: "partial_upfront", UpfrontAmount: "30000000000", PaymentMethod: "bank_transfer",
		CreatedAt: "2024-12-20T10:00:00+07:00", CreatedBy: "admin@bench.test"}
	type svc struct {
		code, unit, price string
		perDay            int64 // a typical day's quantity
	}
	services := []svc{
		{"gpu-h100", "hour", "52000", 40}, {"gpu-h200", "hour", "72000", 20}, {"vm-h100", "hour", "56000", 24},
		{"vm-h200", "hour", "76000", 12}, {"llama-70b", "token", "0.018", 40_000_000}, {"deepseek-r1", "token", "0.044", 10_000_000},
		{"qwen-32b", "token", "0.01", 30_000_000}, {"fine-tune", "hour", "66000", 6}, {"notebook", "hour", "9600", 50},
		{"storage", "GB-month", "450.5", 300},
	}
	for _, s := range services {
		f.Services = append(f.Services, store.ImportService{Code: s.code, Name: "Service " + s.code, Unit: s.unit,
			ListPrices: map[string]string{"VND": s.price},
			Packages:   []store.ImportPackage{{Code: s.code + "-pack", Name: "Package " + s.code, Prices: map[string]string{"VND": s.price}}}})
		plan.Services = append(plan.Services, store.ImportPlanService{Service: s.code, Package: s.code + "-pack"})
	}
	for i := range 8 {
		plan.Payments = append(plan.Payments, store.ImportPayment{Amount: "5000000000", Method: "bank_transfer",
			PaidAt: fmt.Sprintf("2024-12-%02dT09:00:00+07:00", 20+i)})
	}
	f.Plans = []store.ImportPlan{plan}
	if _, err := db.Import(ctx, f); err != nil {
		b.Fatal(err)
	}

	loc := store.LoadLocation("Asia/Ho_Chi_Minh")
	rng := rand.New(rand.NewPCG(7, 11))
	var events []store.UsageEvent
	flush := func() {
		res, err := db.ApplyUsage(ctx, events)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Outcome != store.Applied {
				b.Fatalf("event %s: %s %s", r.ID, r.Outcome, r.Reason)
			}
		}
		events = events[:0]
	}
	for day := store.NewDate(2025, 1, 1); !day.After(store.NewDate(2026, 12, 20)); day = day.AddDays(1) {
		for _, s := range services {
			for n := range 1 + rng.IntN(3) {
				// Quantities vary around the day's typical use, with fractions as metering reports them.
				q := decimal.New(s.perDay*int64(100+rng.IntN(500)), -3)
				at := day.Start(loc).Add(time.Duration(1+rng.IntN(22)) * time.Hour)
				events = append(events, store.UsageEvent{ID: fmt.Sprintf("%s-%s-%d", s.code, day, n), AccountCode: "bench",
					ServiceCode: s.code, Quantity: q, At: at})
			}
		}
		if len(events) >= 2000 {
			flush()
		}
	}
	flush()

	srv, err := New(db, Config{SessionKeys: []string{testSessionKey}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return srv, MustBenchSignIn(b, srv, "admin@bench.test", planDetailPassword)
}
