package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billingplans/billingplans/store"
)

// benchHistoryLines is how many consumption lines the credit history
// benchmarks read from: a year of a busy account.
const benchHistoryLines = 1_000_000

// MustBenchWorld builds the world of history_test.go with plans too large to
// run out and, before them, a year of quarterly plans and two vouchers, all
// Expired today, in a database file under b.TempDir(), and a server on it.
// So most of a year's lines belong to Expired plans, hidden by default, as in
// an account that has bought plans for a while.
func MustBenchWorld(b *testing.B) (*store.DB, *Server) {
	b.Helper()
	db, err := store.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return historyToday }
	f := historyImport()
	for i := range f.Plans {
		if f.Plans[i].Code == "BP-1" || f.Plans[i].Code == "BP-LATE" {
			f.Plans[i].Amount = "1000000000000"
			f.Plans[i].Payments[0].Amount = "1000000000000"
		}
	}
	for _, q := range [][3]string{
		{"BP-2025-Q1", "2025-01-01", "2025-03-31"}, {"BP-2025-Q2", "2025-04-01", "2025-06-30"},
		{"BP-2025-Q3", "2025-07-01", "2025-09-30"}, {"BP-2025-Q4", "2025-10-01", "2025-12-31"},
	} {
		p := f.Plans[1]
		p.Code, p.StartDate, p.EndDate, p.Amount = q[0], q[1], q[2], "1000000000000"
		p.Payments = []store.ImportPayment{{Amount: p.Amount, Method: "online", PaidAt: "2024-12-01T09:00:00+07:00"}}
		f.Plans = append(f.Plans, p)
	}
	f.Vouchers = append(f.Vouchers,
		store.ImportVoucher{Code: "SUMMER25", Account: "acme", Amount: "1000000000", EffectiveDate: "2025-06-01", ExpiryDate: "2025-08-31"},
		store.ImportVoucher{Code: "AUTUMN25", Account: "acme", Amount: "1000000000", EffectiveDate: "2025-09-01", ExpiryDate: "2025-11-30"})
	ctx := context.Background()
	if _, err := db.Import(ctx, f); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ApplyUsage(ctx, historyEvents(b)); err != nil {
		b.Fatal(err)
	}
	srv, err := New(db, Config{SessionKeys: []string{testSessionKey}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return db, srv
}

var csrfValue = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// MustBenchSignIn signs in through the real handlers and returns the cookies
// of the session, for requests sent straight to srv.Echo.
func MustBenchSignIn(b *testing.B, srv *Server, email, password string) []*http.Cookie {
	b.Helper()
	jar := map[string]*http.Cookie{}
	do := func(req *http.Request) *httptest.ResponseRecorder {
		req.RemoteAddr = "192.0.2.9:1234"
		for _, c := range jar {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		srv.Echo.ServeHTTP(rec, req)
		for _, c := range rec.Result().Cookies() {
			jar[c.Name] = c
		}
		return rec
	}
	m := csrfValue.FindStringSubmatch(do(httptest.NewRequest(http.MethodGet, "/login", nil)).Body.String())
	if m == nil {
		b.Fatal("no CSRF token on the sign-in page")
	}
	form := url.Values{"email": {email}, "password": {password}, "_csrf": {m[1]}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if rec := do(req); rec.Code != http.StatusSeeOther {
		b.Fatalf("sign in: %d", rec.Code)
	}
	var out []*http.Cookie
	for _, c := range jar {
		out = append(out, c)
	}
	return out
}

// reportLatency reports the 50th and 99th percentiles of the durations.
func reportLatency(b *testing.B, durations []time.Duration) {
	b.Helper()
	if len(durations) == 0 {
		return
	}
	slices.Sort(durations)
	at := func(p float64) float64 {
		i := int(p * float64(len(durations)-1))
		return float64(durations[i].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkCreditHistory reads credit history pages of an account with a
// million consumption lines over a year: the first page (the chart reads the
// daily totals, less what the hidden Expired plan and voucher drew), a page
// nearly a year back by keyset cursor, and filtered pages. Each request goes
// through the whole server: session, handler, store, rendering. It reports
// the 50th and 99th percentile latencies.
func BenchmarkCreditHistory(b *testing.B) {
	db, srv := MustBenchWorld(b)
	start := time.Now()
	if err := db.BulkHistory(context.Background(), "acme", benchHistoryLines, 365, store.NewDate(2026, 3, 20)); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d lines loaded in %s", benchHistoryLines, time.Since(start).Round(time.Millisecond))
	cookies := MustBenchSignIn(b, srv, historyAdmin, historyPassword)
	// A cursor 330 days back: keyset pages start there through the index.
	deep := store.HistoryCursor{At: historyToday.AddDate(0, 0, -330), Kind: store.HistoryConsumption, ID: 1 << 62}

	pages := []struct{ name, query string }{
		{"page 1", ""},
		{"page 1 with expired credit", "show_expired=1"},
		{"deep page", "before=" + deep.String()},
		{"deep page with expired credit", "show_expired=1&before=" + deep.String()},
		{"page 1 of one service", "service=notebook"},
		{"page 1 of one plan", "plan=BP-1"},
		{"page 1 of a month", "from=2025-11-01&to=2025-11-30"},
		{"page 1 of a month with expired credit", "show_expired=1&from=2025-11-01&to=2025-11-30"},
		{"page 1 of uncovered lines", "source=uncovered"},
		{"deep page of an Expired plan", "plan=BP-2025-Q2&before=" + deep.String()},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var durations []time.Duration
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, creditHistoryPath+"?"+p.query, nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				rec := httptest.NewRecorder()
				t0 := time.Now()
				srv.Echo.ServeHTTP(rec, req)
				durations = append(durations, time.Since(t0))
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-testid="history-row"`) {
					b.Fatalf("status %d, or no rows:\n%.500s", rec.Code, rec.Body)
				}
			}
			reportLatency(b, durations)
		})
	}
	for _, export := range []struct{ name, query string }{
		{"CSV export of a month", "from=2026-02-01&to=2026-02-28"},
		{"CSV export of a month with expired credit", "from=2026-02-01&to=2026-02-28&show_expired=1"},
	} {
		b.Run(export.name, func(b *testing.B) {
			rows := 0
			var elapsed time.Duration
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, creditHistoryCSVPath+"?"+export.query, nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				rec := httptest.NewRecorder()
				t0 := time.Now()
				srv.Echo.ServeHTTP(rec, req)
				elapsed += time.Since(t0)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
				rows += strings.Count(rec.Body.String(), "\n") - 1
			}
			b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
		})
	}
}
