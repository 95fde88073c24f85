package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// The reports under testdata/wrk are wrk 4.1's own, run with --latency and
// wrkScript against the plan list: signed in, and with no session cookie (every
// answer a 303 to the sign-in page).
func TestParseWrk(t *testing.T) {
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile("testdata/wrk/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Run("a signed-in burst gives its figures and no error", func(t *testing.T) {
		s, err := parseWrk(read("signed-in.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if s.requests != 1144 || s.errors != 0 || s.perSecond != 1038.66 {
			t.Errorf("requests %d, errors %d, %.2f/s; want 1144, 0, 1038.66/s", s.requests, s.errors, s.perSecond)
		}
		if s.p50 != 6710*time.Microsecond || s.p99 != 57400*time.Microsecond || s.max != 112130*time.Microsecond {
			t.Errorf("p50 %s, p99 %s, max %s; want 6.71ms, 57.4ms, 112.13ms", s.p50, s.p99, s.max)
		}
	})
	t.Run("answers other than 200 are errors, though wrk counts 3xx as fine", func(t *testing.T) {
		s, err := parseWrk(read("signed-out.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if s.requests != 10540 || s.errors != 10540 || s.p50 != 539*time.Microsecond {
			t.Errorf("requests %d, errors %d, p50 %s; want 10540, 10540, 539µs", s.requests, s.errors, s.p50)
		}
		if len(s.samples) != 1 || !strings.Contains(s.samples[0], "10540 answers other than 200") {
			t.Errorf("samples %q", s.samples)
		}
	})
	t.Run("socket errors count", func(t *testing.T) {
		report := strings.Replace(read("signed-in.txt"), "Requests/sec:", "  Socket errors: connect 0, read 2, write 0, timeout 3\nRequests/sec:", 1)
		s, err := parseWrk(report)
		if err != nil {
			t.Fatal(err)
		}
		if s.errors != 5 {
			t.Errorf("errors %d, want 5", s.errors)
		}
	})
	t.Run("a report without the script's count is refused", func(t *testing.T) {
		report := strings.Replace(read("signed-in.txt"), "not 200: 0", "", 1)
		if _, err := parseWrk(report); err == nil {
			t.Error("no error for a report that cannot tell a lost session")
		}
	})
}
