package main

// The load test's pages can be driven by wrk (Debian's wrk) instead of the Go
// load generator. Both share the machine's cores with the server; wrk, written
// in C, spends far less of them per request than Go's HTTP client, so more of
// the machine is left to the server being measured. A Lua script counts every
// answer that is not 200: wrk itself counts only 4xx and 5xx as errors, and a
// lost session would answer 303 to the sign-in page.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkScript counts the answers that are not 200, over every wrk thread.
const wrkScript = `local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not200 = 0 end
function response(status, headers, body)
  if status ~= 200 then not200 = not200 + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("not200") end
  io.write(string.format("not 200: %d\n", n))
end
`

// runWrk sends GET requests to url from conns connections for the duration,
// with the session's cookie, and returns what wrk measured.
func (lt *loadTest) runWrk(wrk, url string, conns int) (summary, error) {
	script, err := os.CreateTemp("", "billingplans-wrk-*.lua")
	if err != nil {
		return summary{}, err
	}
	defer os.Remove(script.Name())
	if _, err := script.WriteString(wrkScript); err != nil {
		script.Close()
		return summary{}, err
	}
	if err := script.Close(); err != nil {
		return summary{}, err
	}
	threads := min(conns, 2)
	secs := max(1, int(lt.duration.Round(time.Second).Seconds()))
	cmd := exec.Command(wrk, "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%ds", secs),
		"--latency", "--timeout", "30s", "-s", script.Name(), "-H", "Cookie: "+lt.cookies, url)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return summary{}, fmt.Errorf("loadtest: wrk: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return parseWrk(out.String())
}

var (
	wrkRequests  = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m)`)
	wrkPercent   = regexp.MustCompile(`(?m)^\s*(50|99)%\s+([0-9.]+)(us|ms|s|m)\s*$`)
	wrkMax       = regexp.MustCompile(`(?m)^\s*Latency\s+\S+\s+\S+\s+([0-9.]+)(us|ms|s|m)`)
	wrkSocket    = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNot200    = regexp.MustCompile(`(?m)^not 200: (\d+)`)
	wrkReqPerSec = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
)

// parseWrk reads wrk's report (with --latency and wrkScript): requests,
// errors (socket errors and answers other than 200), requests per second, the
// median, 99th percentile and longest latency. It returns an error when a
// figure is missing.
func parseWrk(report string) (summary, error) {
	var s summary
	m := wrkRequests.FindStringSubmatch(report)
	if m == nil {
		return s, fmt.Errorf("loadtest: no request count in wrk's report:\n%s", report)
	}
	s.requests, _ = strconv.Atoi(m[1])
	elapsed, err := wrkDuration(m[2], m[3])
	if err != nil {
		return s, err
	}
	if m := wrkReqPerSec.FindStringSubmatch(report); m != nil {
		s.perSecond, _ = strconv.ParseFloat(m[1], 64)
	} else if elapsed > 0 {
		s.perSecond = float64(s.requests) / elapsed.Seconds()
	}
	for _, m := range wrkPercent.FindAllStringSubmatch(report, -1) {
		d, err := wrkDuration(m[2], m[3])
		if err != nil {
			return s, err
		}
		if m[1] == "50" {
			s.p50 = d
		} else {
			s.p99 = d
		}
	}
	if s.p50 == 0 || s.p99 == 0 {
		return s, fmt.Errorf("loadtest: no latency distribution in wrk's report:\n%s", report)
	}
	if m := wrkMax.FindStringSubmatch(report); m != nil {
		if s.max, err = wrkDuration(m[1], m[2]); err != nil {
			return s, err
		}
	}
	if m := wrkSocket.FindStringSubmatch(report); m != nil {
		n := 0
		for _, count := range m[1:] {
			k, _ := strconv.Atoi(count)
			n += k
		}
		if n > 0 {
			s.errors += n
			s.samples = append(s.samples, strings.TrimSpace(m[0]))
		}
	}
	m = wrkNot200.FindStringSubmatch(report)
	if m == nil {
		return s, fmt.Errorf("loadtest: wrk's report lacks the count of answers other than 200:\n%s", report)
	}
	if n, _ := strconv.Atoi(m[1]); n > 0 {
		s.errors += n
		s.samples = append(s.samples, fmt.Sprintf("%d answers other than 200", n))
	}
	return s, nil
}

// wrkDuration reads one of wrk's durations: a number and us, ms, s or m.
func wrkDuration(number, unit string) (time.Duration, error) {
	f, err := strconv.ParseFloat(number, 64)
	if err != nil {
		return 0, fmt.Errorf("loadtest: wrk duration %q: %w", number+unit, err)
	}
	scale := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute}[unit]
	return time.Duration(f * float64(scale)), nil
}

// wrkVersion returns the first line wrk prints of itself, for the report.
func wrkVersion(wrk string) string {
	out, _ := exec.Command(wrk, "-v").CombinedOutput()
	line, _, _ := bufio.NewReader(bytes.NewReader(out)).ReadLine()
	return strings.TrimSpace(string(line))
}
