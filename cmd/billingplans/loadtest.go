package main

// The load test: `billingplans loadtest` seeds a database at a scale (once,
// kept as a template beside --db), serves a copy of it with `billingplans
// serve` in a child process on a loopback port, signs in as the demo admin,
// and sends each page, the Pay now and Renew forms and the usage API bounded
// bursts of requests at several concurrencies. It prints the median and 99th
// percentile latency, the throughput and the errors of each, and the server's
// peak memory (VmHWM). Traffic only ever goes to 127.0.0.1.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/billingplans/billingplans/store"
)

// loadTest is one run's settings and state.
type loadTest struct {
	base     string // http://127.0.0.1:PORT
	duration time.Duration
	maxReqs  int
	client   *http.Client
	// cookies are the signed-in session's, working in the big account.
	cookies string
	csrf    string
	apiKey  string
}

// runLoadTest is `billingplans loadtest`.
func runLoadTest(args []string, stdout io.Writer) error {
	fs, dbPath := newFlagSet("loadtest")
	scale := fs.String("scale", "medium", "the scale of the database to seed when --db does not exist: small, medium or large")
	duration := fs.Duration("duration", 4*time.Second, "how long each burst of requests lasts at most")
	maxReqs := fs.Int("requests", 20000, "how many requests each burst sends at most")
	conns := fs.String("conns", "8,32,128", "the concurrent connections of each burst, comma-separated")
	writers := fs.String("writers", "8,64", "the concurrent connections of the Pay now and Renew bursts")
	apiConns := fs.String("api-conns", "1,4,8", "the concurrent connections of the usage API bursts (1,000 events a request)")
	only := fs.String("only", "", "run only the bursts whose name contains this")
	cpuProfile := fs.String("cpuprofile", "", "have the server write a CPU profile of the run to this file (for `go tool pprof`)")
	generator := fs.String("generator", "auto", "what sends the page requests: wrk (Debian's wrk), go (the generator built in), or auto (wrk when it is on PATH); the forms and the usage API always use the built-in one")
	fs.Lookup("db").DefValue = "/tmp/billingplans-loadtest-<scale>.db"
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !isFlagSet(fs, "db") {
		*dbPath = fmt.Sprintf("%s/billingplans-loadtest-%s.db", os.TempDir(), *scale)
	}
	levels, err := parseInts(*conns)
	if err != nil {
		return err
	}
	writeLevels, err := parseInts(*writers)
	if err != nil {
		return err
	}
	apiLevels, err := parseInts(*apiConns)
	if err != nil {
		return err
	}
	wrk, err := pickGenerator(*generator)
	if err != nil {
		return err
	}
	ctx := context.Background()

	// The template database, seeded once; each run serves a fresh copy.
	if _, err := os.Stat(*dbPath); errors.Is(err, os.ErrNotExist) {
		o, err := store.ScalePreset(*scale)
		if err != nil {
			return errors.New(store.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "seeding %s at scale %s (once)\n", *dbPath, *scale)
		db, err := openDB(*dbPath)
		if err != nil {
			return err
		}
		err = seedScale(db, o, stdout)
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(*dbPath)
			return err
		}
	}
	work := *dbPath + ".run"
	for _, suffix := range []string{"", "-wal", "-shm", ".keys"} {
		os.Remove(work + suffix)
	}
	if err := copyFile(*dbPath, work); err != nil {
		return err
	}
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm", ".keys"} {
			os.Remove(work + suffix)
		}
	}()
	db, err := openDB(work)
	if err != nil {
		return err
	}
	apiKey, _, err := db.CreateAPIKey(ctx, "acme", "loadtest")
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}

	// The server, in a child process of its own, so that its memory is its own.
	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	key := make([]byte, 32)
	rand.Read(key)
	serveArgs := []string{"serve", "--db", work, "--addr", addr, "--session-keys", hex.EncodeToString(key)}
	if *cpuProfile != "" {
		serveArgs = append(serveArgs, "--cpuprofile", *cpuProfile)
	}
	server := exec.Command(exe, serveArgs...)
	server.Stdout, server.Stderr = io.Discard, os.Stderr
	if err := server.Start(); err != nil {
		return err
	}
	defer func() {
		server.Process.Signal(syscall.SIGTERM)
		server.Wait()
	}()

	lt := &loadTest{
		base: "http://" + addr, duration: *duration, maxReqs: *maxReqs, apiKey: apiKey,
		client: &http.Client{
			Timeout:       30 * time.Second,
			Transport:     &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256, DisableCompression: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	if err := lt.waitHealthy(); err != nil {
		return err
	}
	if err := lt.signIn(); err != nil {
		return err
	}
	bursts, err := lt.bursts(levels, writeLevels, apiLevels)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "server pid %d on %s, database %s; bursts of at most %s or %d requests\n", server.Process.Pid, addr, work, *duration, *maxReqs)
	if wrk != "" {
		fmt.Fprintf(stdout, "pages driven by %s (%s); forms and the usage API by the built-in generator\n", wrk, wrkVersion(wrk))
	} else {
		fmt.Fprintln(stdout, "every burst driven by the built-in generator")
	}
	row := "%-15s %6s %9s %7s %8s %8s %8s %8s  %s\n"
	fmt.Fprintf(stdout, row, "burst", "conns", "requests", "errors", "req/s", "p50 ms", "p99 ms", "max ms", "")
	for _, b := range bursts {
		if *only != "" && !strings.Contains(b.name, *only) {
			continue
		}
		var s summary
		if wrk != "" && b.path != "" {
			if s, err = lt.runWrk(wrk, lt.base+b.path, b.conns); err != nil {
				return err
			}
		} else {
			r := lt.run(b)
			s = r.summary()
		}
		extra := ""
		if b.events > 0 {
			extra = fmt.Sprintf("%.0f events/s", s.perSecond*float64(b.events))
		}
		fmt.Fprintf(stdout, row, b.name, fmt.Sprint(b.conns), fmt.Sprint(s.requests), fmt.Sprint(s.errors),
			fmt.Sprintf("%.0f", s.perSecond), fmt.Sprintf("%.2f", ms(s.p50)), fmt.Sprintf("%.2f", ms(s.p99)), fmt.Sprintf("%.2f", ms(s.max)), extra)
		for _, e := range s.samples {
			fmt.Fprintf(stdout, "    error: %s\n", e)
		}
	}
	hwm, rss := procMemory(server.Process.Pid)
	fmt.Fprintf(stdout, "server memory: peak (VmHWM) %s, now (VmRSS) %s\n", hwm, rss)
	return nil
}

// pickGenerator returns the path of wrk when the page requests are to go
// through it, or "" for the built-in generator.
func pickGenerator(name string) (string, error) {
	switch name {
	case "go":
		return "", nil
	case "wrk", "auto":
		path, err := exec.LookPath("wrk")
		if err != nil && name == "wrk" {
			return "", errors.New("loadtest: wrk is not on PATH (apt-get install wrk), or use --generator go")
		}
		return path, nil
	}
	return "", fmt.Errorf("loadtest: --generator %q: want wrk, go or auto", name)
}

// burst is one kind of request at one concurrency.
type burst struct {
	name   string
	conns  int
	events int // usage events per request, for the API
	// path is the page a GET burst reads; "" for the forms and the API.
	path string
	// do sends one request (or a form and its POST, timing the POST) and
	// returns how long the timed request took.
	do func(worker, i int) (time.Duration, error)
}

// summary is what a burst measured, whichever generator sent it: the
// requests sent and how many failed, the throughput, and the median, 99th
// percentile and longest latency of the requests that succeeded.
type summary struct {
	requests, errors int
	perSecond        float64
	p50, p99, max    time.Duration
	samples          []string // the first few errors
}

// summary returns what r measured.
func (r *result) summary() summary {
	return summary{
		requests: r.ok + r.errors, errors: r.errors,
		perSecond: float64(r.ok+r.errors) / r.elapsed.Seconds(),
		p50:       r.quantile(0.50), p99: r.quantile(0.99), max: r.quantile(1),
		samples: r.samples,
	}
}

// result is what the built-in generator measured of a burst.
type result struct {
	times      []time.Duration
	ok, errors int
	elapsed    time.Duration
	samples    []string // the first few errors
}

func (r *result) quantile(q float64) time.Duration {
	if len(r.times) == 0 {
		return 0
	}
	return r.times[min(len(r.times)-1, int(q*float64(len(r.times))))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// run sends b's requests from b.conns workers until the duration is over or the
// request budget spent.
func (lt *loadTest) run(b burst) result {
	var (
		mu   sync.Mutex
		res  result
		next atomic.Int64
		wg   sync.WaitGroup
	)
	deadline := time.Now().Add(lt.duration)
	start := time.Now()
	for w := range b.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var times []time.Duration
			var errs []string
			for time.Now().Before(deadline) {
				i := int(next.Add(1))
				if i > lt.maxReqs {
					break
				}
				d, err := b.do(w, i)
				if err != nil {
					errs = append(errs, err.Error())
					continue
				}
				times = append(times, d)
			}
			mu.Lock()
			res.times = append(res.times, times...)
			res.ok += len(times)
			res.errors += len(errs)
			for _, e := range errs {
				if len(res.samples) < 3 {
					res.samples = append(res.samples, e)
				}
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.times)
	return res
}

// bursts lists the bursts of the run, finding the plans they need first.
func (lt *loadTest) bursts(levels, writeLevels, apiLevels []int) ([]burst, error) {
	first, err := lt.get("/billing/plans")
	if err != nil {
		return nil, err
	}
	codes := planCodes(first)
	if len(codes) == 0 {
		return nil, errors.New("loadtest: the plan list shows no plan")
	}
	// A deep page of the credit history: follow the older-lines link 20 times.
	history := "/billing/credit-history"
	for range 20 {
		page, err := lt.get(history)
		if err != nil {
			return nil, err
		}
		m := regexp.MustCompile(`href="(/billing/credit-history\?[^"]*before=[^"]*)"`).FindStringSubmatch(page)
		if m == nil {
			break
		}
		history = html.UnescapeString(m[1])
	}
	// Active plans to pay (a little of what is left) and renew.
	var payable, renewable []string
	for page := 1; page <= 8 && len(payable) < 200; page++ {
		path, err := lt.canonical(fmt.Sprintf("/billing/plans?status=active&page=%d", page))
		if err != nil {
			return nil, err
		}
		body, err := lt.get(path)
		if err != nil {
			return nil, err
		}
		codes := planCodes(body)
		if len(codes) == 0 || slices.Contains(renewable, codes[0]) {
			break // past the last page
		}
		for _, code := range codes {
			renewable = append(renewable, code)
			form, err := lt.get("/billing/plans/" + code + "/pay")
			if err != nil {
				return nil, err
			}
			if left, err := strconv.ParseFloat(strings.ReplaceAll(inputValue(form, "amount"), ",", ""), 64); err == nil && left >= 500 {
				payable = append(payable, code)
			}
		}
	}
	if len(payable) == 0 || len(renewable) == 0 {
		return nil, fmt.Errorf("loadtest: no active plan with enough left to pay (%d) or to renew (%d)", len(payable), len(renewable))
	}

	page := func(path string) func(int, int) (time.Duration, error) {
		return func(int, int) (time.Duration, error) { return lt.timedGet(path) }
	}
	pages := []struct{ name, path string }{
		{"list page 1", "/billing/plans"},
		{"list page 400", "/billing/plans?page=400"},
		{"list filtered", "/billing/plans?status=active&q=gpu"},
		{"detail", "/billing/plans/" + codes[0]},
		{"history page 1", "/billing/credit-history"},
		{"history deep", history},
		{"overview", "/billing"},
	}
	var out []burst
	for _, p := range pages {
		if p.path, err = lt.canonical(p.path); err != nil {
			return nil, err
		}
		for _, c := range levels {
			out = append(out, burst{name: p.name, conns: c, path: p.path, do: page(p.path)})
		}
	}
	for _, c := range writeLevels {
		out = append(out, burst{name: "pay POST", conns: c, do: func(_, i int) (time.Duration, error) {
			return lt.pay(payable[i%len(payable)])
		}})
	}
	for _, c := range writeLevels {
		out = append(out, burst{name: "renew POST", conns: c, do: func(_, i int) (time.Duration, error) {
			return lt.renew(renewable[i%len(renewable)])
		}})
	}
	var batch atomic.Int64
	for _, c := range apiLevels {
		out = append(out, burst{name: "usage API", conns: c, events: 1000, do: func(_, i int) (time.Duration, error) {
			return lt.usage(int(batch.Add(1)))
		}})
	}
	return out, nil
}

// pay opens the Pay now form of a plan and pays 1.00 online with the sandbox
// card; it times the POST.
func (lt *loadTest) pay(code string) (time.Duration, error) {
	form, err := lt.get("/billing/plans/" + code + "/pay")
	if err != nil {
		return 0, err
	}
	v := url.Values{"amount": {"1"}, "method": {"online"}, "card": {"4242 4242 4242 4242"},
		"idempotency_key": {inputValue(form, "idempotency_key")}}
	return lt.timedPost("/billing/plans/"+code+"/pay", v)
}

// renew opens the Renew form of a plan for a month and sends it at its price.
func (lt *loadTest) renew(code string) (time.Duration, error) {
	form, err := lt.get("/billing/plans/" + code + "/renew?term=1")
	if err != nil {
		return 0, err
	}
	v := url.Values{"term": {"1"}, "price": {inputValue(form, "price")}, "idempotency_key": {inputValue(form, "idempotency_key")}}
	return lt.timedPost("/billing/plans/"+code+"/renew", v)
}

// usage posts 1,000 new events of acme, at instants of the last hour, to the API.
func (lt *loadTest) usage(n int) (time.Duration, error) {
	services := []string{"gpu-h100-container", "inference-llama-3-70b", "object-storage", "notebook-standard"}
	rng := mrand.New(mrand.NewPCG(uint64(n), 7))
	now := time.Now().UTC()
	var sb strings.Builder
	sb.WriteString(`{"events":[`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		at := now.Add(-time.Duration(1+rng.IntN(3600)) * time.Second).Format(time.RFC3339)
		fmt.Fprintf(&sb, `{"id":"load-%d-%d-%d","service":%q,"quantity":"%d","at":%q}`, now.UnixNano(), n, i, services[i%len(services)], 1+rng.IntN(9), at)
	}
	sb.WriteString(`]}`)
	req, err := http.NewRequest(http.MethodPost, lt.base+"/api/v1/usage", strings.NewReader(sb.String()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+lt.apiKey)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	res, err := lt.client.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK || strings.Count(string(body), `"outcome":"applied"`) != 1000 {
		return 0, fmt.Errorf("POST /api/v1/usage: status %d: %.200s", res.StatusCode, body)
	}
	return d, nil
}

// signIn signs in as the demo admin and switches to the big account.
func (lt *loadTest) signIn() error {
	res, err := lt.client.Get(lt.base + "/login")
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	jar := map[string]string{}
	keep := func(res *http.Response) {
		for _, c := range res.Cookies() {
			jar[c.Name] = c.Value
		}
		var parts []string
		for name, value := range jar {
			parts = append(parts, name+"="+value)
		}
		slices.Sort(parts)
		lt.cookies = strings.Join(parts, "; ")
		lt.csrf = jar["_csrf"]
	}
	keep(res)
	for _, step := range []struct {
		path string
		form url.Values
	}{
		{"/login", url.Values{"email": {store.DemoLogins[0].Email}, "password": {store.DemoLogins[0].Password}}},
		{"/account", url.Values{"account": {store.ScaleBigAccount}}},
	} {
		step.form.Set("_csrf", lt.csrf)
		req, _ := http.NewRequest(http.MethodPost, lt.base+step.path, strings.NewReader(step.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", lt.cookies)
		res, err := lt.client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("loadtest: POST %s: status %d", step.path, res.StatusCode)
		}
		keep(res)
	}
	return nil
}

// canonical returns the address the list page leads a path to (its canonical
// query string), or the path itself, so that a burst measures one request.
func (lt *loadTest) canonical(path string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, lt.base+path, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Cookie", lt.cookies)
	res, err := lt.client.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode == http.StatusSeeOther && strings.HasPrefix(loc, "/billing") {
		return loc, nil
	}
	return path, nil
}

// get returns the body of a page, which must answer 200.
func (lt *loadTest) get(path string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, lt.base+path, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Cookie", lt.cookies)
	res, err := lt.client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: status %d", path, res.StatusCode)
	}
	return string(body), nil
}

// timedGet reads a page and returns how long it took, to the last byte.
func (lt *loadTest) timedGet(path string) (time.Duration, error) {
	start := time.Now()
	_, err := lt.get(path)
	return time.Since(start), err
}

// timedPost sends a form, which must lead on with 303, and returns how long it took.
func (lt *loadTest) timedPost(path string, form url.Values) (time.Duration, error) {
	form.Set("_csrf", lt.csrf)
	req, err := http.NewRequest(http.MethodPost, lt.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", lt.cookies)
	start := time.Now()
	res, err := lt.client.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusSeeOther {
		msg := regexp.MustCompile(`(?s)<p[^>]*class="[^"]*error[^"]*"[^>]*>(.*?)</p>`).FindStringSubmatch(string(body))
		detail := ""
		if msg != nil {
			detail = strings.TrimSpace(msg[1])
		}
		return 0, fmt.Errorf("POST %s: status %d %s", path, res.StatusCode, detail)
	}
	return d, nil
}

// waitHealthy waits up to a minute for the server to answer /healthz.
func (lt *loadTest) waitHealthy() error {
	for range 600 {
		res, err := lt.client.Get(lt.base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("loadtest: the server did not answer /healthz within a minute")
}

var (
	planLink = regexp.MustCompile(`href="/billing/plans/([A-Za-z0-9._-]+)["?]`)
	inputTag = regexp.MustCompile(`<input[^>]*>`)
	valueAtt = regexp.MustCompile(`value="([^"]*)"`)
)

// planCodes returns the codes of the plans a page links to, in order, once each.
func planCodes(page string) []string {
	var codes []string
	for _, m := range planLink.FindAllStringSubmatch(page, -1) {
		if !slices.Contains(codes, m[1]) {
			codes = append(codes, m[1])
		}
	}
	return codes
}

// inputValue returns the value of the first input named name on a page.
func inputValue(page, name string) string {
	for _, tag := range inputTag.FindAllString(page, -1) {
		if strings.Contains(tag, `name="`+name+`"`) {
			if m := valueAtt.FindStringSubmatch(tag); m != nil {
				return html.UnescapeString(m[1])
			}
		}
	}
	return ""
}

// procMemory returns the peak and current resident memory of a process.
func procMemory(pid int) (hwm, rss string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown", "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			hwm = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rss = strings.TrimSpace(v)
		}
	}
	return hwm, rss
}

// freeLoopbackAddr returns a loopback address with a port free right now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// copyFile copies the file src to dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// parseInts parses a comma-separated list of positive numbers.
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// isFlagSet reports whether the flag name was given on the command line.
func isFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
