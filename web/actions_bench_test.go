package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/billingplans/billingplans/store"
)

// loadFixture is a server on a database with plans big enough to be paid and
// renewed many thousand times, and a signed-in admin's cookies and CSRF token.
type loadFixture struct {
	srv     *Server
	db      *store.DB
	cookies []*http.Cookie
	csrf    string
}

// mustLoadFixture works for tests and benchmarks alike: the helpers of
// helpers_test.go take a *testing.T.
func mustLoadFixture(tb testing.TB, plans int) *loadFixture {
	tb.Helper()
	db, err := store.Open(filepath.Join(tb.TempDir(), "billing.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return testNow }
	f := store.ImportFile{
		Accounts: []store.ImportAccount{{Code: "ACME", Name: "Acme AI", Currency: "VND"}},
		Users: []store.ImportUser{{Email: "ana@acme.test", Name: "Ana", Password: actionsPassword,
			Memberships: []store.ImportMembership{{Account: "ACME", Role: "admin"}}}},
		Services: []store.ImportService{{Code: "gpu", Name: "GPU", Unit: "hour", ListPrices: map[string]string{"VND": "65000"}}},
	}
	for i := range plans {
		// ₫10^15 each: a billion payments of ₫1,000,000 fit.
		f.Plans = append(f.Plans, store.ImportPlan{Code: fmt.Sprintf("BP-%03d", i), Account: "ACME", Type: "GPU Commitment",
			StartDate: "2026-01-01", EndDate: "2026-12-31", Amount: "1000000000000000", Region: "Hanoi",
			PaymentOption: "postpaid", PaymentMethod: "online", CreatedAt: "2025-12-01T00:00:00Z",
			Services: []store.ImportPlanService{{Service: "gpu", PricePerUnit: "50000"}}})
	}
	if _, err := db.Import(context.Background(), f); err != nil {
		tb.Fatal(err)
	}
	srv, err := New(db, Config{SessionKeys: []string{testSessionKey}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	lf := &loadFixture{srv: srv, db: db}
	rec := lf.do(httptest.NewRequest(http.MethodGet, "/login", nil))
	lf.keep(rec)
	rec = lf.post("/login", url.Values{"email": {"ana@acme.test"}, "password": {actionsPassword}})
	if rec.Code != http.StatusSeeOther {
		tb.Fatalf("sign in: %d", rec.Code)
	}
	lf.keep(rec)
	rec = lf.do(httptest.NewRequest(http.MethodGet, "/billing/plans/BP-000/pay", nil))
	lf.keep(rec)
	if lf.csrf == "" {
		tb.Fatalf("no CSRF token on the pay page: %d", rec.Code)
	}
	return lf
}

func (f *loadFixture) keep(rec *httptest.ResponseRecorder) {
	for _, c := range rec.Result().Cookies() {
		f.cookies = slices.DeleteFunc(f.cookies, func(o *http.Cookie) bool { return o.Name == c.Name })
		f.cookies = append(f.cookies, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	if doc, err := goquery.NewDocumentFromReader(rec.Body); err == nil {
		if v, ok := doc.Find(`input[name="_csrf"]`).First().Attr("value"); ok {
			f.csrf = v
		}
	}
}

// do sends req with the admin's cookies through the real Echo instance. It is
// safe for goroutines once the fixture is built.
func (f *loadFixture) do(req *http.Request) *httptest.ResponseRecorder {
	for _, c := range f.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	f.srv.Echo.ServeHTTP(rec, req)
	return rec
}

func (f *loadFixture) post(path string, form url.Values) *httptest.ResponseRecorder {
	form.Set("_csrf", f.csrf)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.do(req)
}

// pay pays ₫1,000,000 online on plan i; renew renews plan i for a month at ₫1.
func (f *loadFixture) pay(i int) *httptest.ResponseRecorder {
	key, _ := store.NewIdempotencyKey()
	return f.post(fmt.Sprintf("/billing/plans/BP-%03d/pay", i), payForm(key, "1000000", "online", store.SandboxCardSucceeds))
}

func (f *loadFixture) renew(i int) *httptest.ResponseRecorder {
	key, _ := store.NewIdempotencyKey()
	return f.post(fmt.Sprintf("/billing/plans/BP-%03d/renew", i), renewForm(key, "1", "1"))
}

// latencies collects request durations from goroutines and reports their
// median and 99th percentile.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	slices.Sort(l.d)
	at := func(q float64) float64 {
		return float64(l.d[int(q*float64(len(l.d)-1))].Microseconds())
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkPayAndRenew measures the pay and renew POSTs through e.ServeHTTP,
// with middleware, session, CSRF and the sandbox gateway: one request at a time,
// then from 64 goroutines at once (all writers share SQLite's one write lock).
// It reports the median and 99th percentile latency.
func BenchmarkPayAndRenew(b *testing.B) {
	for _, action := range []string{"pay", "renew"} {
		send := func(f *loadFixture, i int) *httptest.ResponseRecorder {
			if action == "pay" {
				return f.pay(i)
			}
			return f.renew(i)
		}
		b.Run(action, func(b *testing.B) {
			f := mustLoadFixture(b, 1)
			var l latencies
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if rec := send(f, 0); rec.Code != http.StatusSeeOther {
					b.Fatalf("status %d: %.300s", rec.Code, rec.Body)
				}
				l.add(time.Since(start))
			}
			l.report(b)
		})
		b.Run(action+"-64-at-once", func(b *testing.B) {
			f := mustLoadFixture(b, 8)
			var l latencies
			// RunParallel runs parallelism × GOMAXPROCS goroutines.
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			var n sync.Mutex
			next := 0
			b.RunParallel(func(pb *testing.PB) {
				n.Lock()
				plan := next % 8
				next++
				n.Unlock()
				for pb.Next() {
					start := time.Now()
					if rec := send(f, plan); rec.Code != http.StatusSeeOther {
						b.Errorf("status %d: %.300s", rec.Code, rec.Body)
						return
					}
					l.add(time.Since(start))
				}
			})
			l.report(b)
		})
	}
}

// TestActionsUnderLoad sends pay and renew forms from 64 goroutines at once,
// on 8 plans: every one of them succeeds (no "database is locked", no
// time-out), and every payment and renewal is counted once.
func TestActionsUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("64 writers at once")
	}
	f := mustLoadFixture(t, 8)
	const goroutines, each = 64, 5
	var wg sync.WaitGroup
	failures := make(chan string, goroutines*each*2)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				for _, rec := range []*httptest.ResponseRecorder{f.pay(g % 8), f.renew(g % 8)} {
					if rec.Code != http.StatusSeeOther {
						failures <- fmt.Sprintf("goroutine %d: status %d: %.200s", g, rec.Code, rec.Body)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(failures)
	for msg := range failures {
		t.Error(msg)
	}
	payments := mustCount(t, f.db, `SELECT COUNT(*) FROM payments`)
	renewals := mustCount(t, f.db, `SELECT COUNT(*) FROM renewals`)
	paid := mustCount(t, f.db, `SELECT SUM(paid_total) FROM plans`)
	if payments != goroutines*each || renewals != goroutines*each || paid != goroutines*each*1_000_000 {
		t.Errorf("%d payments, %d renewals, ₫%d paid; want %d, %d, ₫%d", payments, renewals, paid,
			goroutines*each, goroutines*each, goroutines*each*1_000_000)
	}
}
