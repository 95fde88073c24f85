package web

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkUsageAPI sends usage in requests of 1,000 events to a real HTTP
// server on loopback (httptest.NewServer and net/http's client, keep-alive),
// as a metering producer would, into the world of history_test.go with plans
// too large to run out. Each event is a new id of one of three services at a
// random instant of the hour the request reports (requests go through March
// hour by hour), drawn from plans, a voucher, top-up credit or uncovered. It
// reports events per second, and the 50th and 99th percentile latency of a
// request.
func BenchmarkUsageAPI(b *testing.B) {
	const perRequest = 1000
	db, srv := MustBenchWorld(b)
	key, _, err := db.CreateAPIKey(context.Background(), "acme", "bench")
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Echo)
	defer ts.Close()
	client := ts.Client()

	rng := rand.New(rand.NewPCG(5, 6))
	services := []string{"gpu-h100", "storage", "notebook"}
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	n, requests := 0, 0
	body := func() string {
		// A request is one metering flush: the usage of the last hour. The
		// hours run through 1–19 March and start over.
		hour := base.Add(time.Duration(requests%(19*24)) * time.Hour)
		requests++
		var sb strings.Builder
		sb.WriteString(`{"events":[`)
		for i := range perRequest {
			if i > 0 {
				sb.WriteByte(',')
			}
			n++
			at := hour.Add(time.Duration(rng.IntN(3600)) * time.Second).Format(time.RFC3339)
			fmt.Fprintf(&sb, `{"id":"bench-%d","service":%q,"quantity":"%d.%d","at":%q}`, n, services[rng.IntN(3)], 1+rng.IntN(9), rng.IntN(10), at)
		}
		sb.WriteString(`]}`)
		return sb.String()
	}

	var durations []time.Duration
	var elapsed time.Duration
	events := 0
	for b.Loop() {
		b.StopTimer()
		payload := body()
		b.StartTimer()
		t0 := time.Now()
		req, err := http.NewRequest(http.MethodPost, ts.URL+usagePath, strings.NewReader(payload))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, err := io.ReadAll(res.Body)
		res.Body.Close()
		d := time.Since(t0)
		if err != nil || res.StatusCode != http.StatusOK || strings.Count(string(out), `"outcome":"applied"`) != perRequest {
			b.Fatalf("status %d, %v:\n%.500s", res.StatusCode, err, out)
		}
		durations = append(durations, d)
		elapsed += d
		events += perRequest
	}
	b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
	reportLatency(b, durations)
}
