package main

// End-to-end tests in a real browser: the real billingplans binary serves a
// database loaded through `billingplans import` and `ingest`, and Debian's
// Chromium, driven by chromedp, uses the console as a billing admin would.
// Without Chromium they skip, except in CI (CI=true), where they must run.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/billingplans/billingplans/store"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// mustBinary builds the billingplans binary once per test run.
func mustBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "billingplans-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "billingplans")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// mustChromium skips the test when Chromium is missing, unless in CI.
func mustChromium(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are skipped in -short mode")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI needs Chromium at %s (apt-get install chromium)", chromiumPath)
		}
		t.Skipf("no Chromium at %s: install it with 'apt-get install chromium' to run the browser tests", chromiumPath)
	}
}

// e2eToday is today in the fixture account's zone: the server runs on the real clock.
func e2eToday() store.Date { return store.DateOf(time.Now(), store.LoadLocation("Asia/Ho_Chi_Minh")) }

// e2eFixture is a small world with hand-picked plans: its figures are checked in the tests.
func e2eFixture() (store.ImportFile, []map[string]string) {
	today := e2eToday()
	d := func(n int) string { return today.AddDays(n).String() }
	at := func(n int) string {
		return today.AddDays(n).Start(store.LoadLocation("Asia/Ho_Chi_Minh")).Add(10 * time.Hour).Format(time.RFC3339)
	}
	f := store.ImportFile{
		Accounts: []store.ImportAccount{
			{Code: "acme", Name: "Acme AI", Currency: "VND", Timezone: "Asia/Ho_Chi_Minh"},
			{Code: "globex", Name: "Globex", Currency: "USD", Timezone: "America/Los_Angeles"},
		},
		Users: []store.ImportUser{
			{Email: "admin@e2e.test", Name: "Ada Admin", Password: "admin-password-1", Memberships: []store.ImportMembership{{Account: "acme", Role: "admin"}, {Account: "globex", Role: "admin"}}},
			{Email: "viewer@e2e.test", Name: "Vic Viewer", Password: "viewer-password-1", Memberships: []store.ImportMembership{{Account: "acme", Role: "viewer"}}},
		},
		Services: []store.ImportService{
			{Code: "gpu-h100", Name: "GPU Container H100", Unit: "hour", ListPrices: map[string]string{"VND": "65000", "USD": "2.54"},
				Packages: []store.ImportPackage{{Code: "h100-3m", Name: "H100 3-month", Prices: map[string]string{"VND": "50000", "USD": "2"}}}},
			{Code: "llm", Name: "Model inference", Unit: "token", ListPrices: map[string]string{"VND": "0.05", "USD": "0.000002"},
				Packages: []store.ImportPackage{{Code: "llm-pack", Name: "Token pack", Prices: map[string]string{"VND": "0.04", "USD": "0.0000016"}}}},
			{Code: "storage", Name: "Object Storage", Unit: "GB-month", ListPrices: map[string]string{"VND": "550", "USD": "0.02"},
				Packages: []store.ImportPackage{{Code: "storage-tb", Name: "TB pack", Prices: map[string]string{"VND": "450", "USD": "0.018"}}}},
		},
		Plans: []store.ImportPlan{
			{Code: "BP-E2E-000001", Account: "acme", Type: "GPU Commitment", StartDate: d(-30), EndDate: d(60), Amount: "10000000",
				Region: "Hanoi", PaymentOption: "all_upfront", PaymentMethod: "online", CreatedAt: at(-32), CreatedBy: "admin@e2e.test",
				Services: []store.ImportPlanService{{Service: "gpu-h100", Package: "h100-3m"}, {Service: "llm", Package: "llm-pack"}, {Service: "storage", Package: "storage-tb"}},
				Payments: []store.ImportPayment{{Amount: "10000000", Method: "online", PaidAt: at(-31)}}},
			{Code: "BP-E2E-000002", Account: "acme", Type: "Inference Token Pack", StartDate: d(-10), EndDate: d(80), Amount: "6000000",
				Region: "Ho Chi Minh City", PaymentOption: "postpaid", PaymentMethod: "bank_transfer", CreatedAt: at(-11), CreatedBy: "admin@e2e.test",
				Services: []store.ImportPlanService{{Service: "llm", Package: "llm-pack"}}},
			{Code: "BP-E2E-000003", Account: "acme", Type: "GPU Commitment", StartDate: d(-120), EndDate: d(-30), Amount: "3000000",
				Region: "Hanoi", PaymentOption: "all_upfront", PaymentMethod: "online", CreatedAt: at(-121), CreatedBy: "admin@e2e.test",
				Services: []store.ImportPlanService{{Service: "gpu-h100", Package: "h100-3m"}},
				Payments: []store.ImportPayment{{Amount: "3000000", Method: "online", PaidAt: at(-121)}}},
			{Code: "BP-E2E-000004", Account: "acme", Type: "Storage Reserve", StartDate: d(10), EndDate: d(100), Amount: "2000000",
				Region: "Hanoi", PaymentOption: "partial_upfront", UpfrontAmount: "500000", PaymentMethod: "online", CreatedAt: at(-2), CreatedBy: "admin@e2e.test",
				Services: []store.ImportPlanService{{Service: "storage", Package: "storage-tb"}}},
			{Code: "BP-E2E-000100", Account: "globex", Type: "GPU Commitment", StartDate: d(-5), EndDate: d(85), Amount: "5000",
				Region: "Oregon", PaymentOption: "all_upfront", PaymentMethod: "online", CreatedAt: at(-6), CreatedBy: "admin@e2e.test",
				Services: []store.ImportPlanService{{Service: "gpu-h100", Package: "h100-3m"}},
				Payments: []store.ImportPayment{{Amount: "5000", Method: "online", PaidAt: at(-6)}}},
		},
		Vouchers: []store.ImportVoucher{{Code: "WELCOME", Account: "acme", Amount: "500000", EffectiveDate: d(-60), ExpiryDate: d(20)}},
		Topups:   []store.ImportTopup{{Account: "acme", Amount: "1000000", At: at(-60)}},
	}
	// Usage: 4 GPU hours a day for the last 20 days on acme (50,000 a hour on BP-E2E-000001).
	var events []map[string]string
	for n := 20; n >= 1; n-- {
		events = append(events, map[string]string{"id": fmt.Sprintf("e2e-%d", n), "account": "acme", "service": "gpu-h100", "quantity": "4", "at": at(-n)})
	}
	return f, events
}

// e2eServer is the real server, started on a free loopback port.
type e2eServer struct {
	URL string
	DB  string
}

// mustStartServer imports the fixture into a new database with the real
// binary, ingests its usage, and serves it until the test ends.
func mustStartServer(t *testing.T) *e2eServer {
	t.Helper()
	bin := mustBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "billing.db")
	f, events := e2eFixture()
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	importFile := filepath.Join(dir, "fixture.json")
	if err := os.WriteFile(importFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var usage strings.Builder
	for _, e := range events {
		line, _ := json.Marshal(e)
		usage.Write(line)
		usage.WriteByte('\n')
	}
	usageFile := filepath.Join(dir, "usage.jsonl")
	if err := os.WriteFile(usageFile, []byte(usage.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"import", "--db", db, importFile}, {"ingest", "--db", db, usageFile}} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("billingplans %s: %v\n%s", args[0], err, out)
		}
	}
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if _, rest, ok := strings.Cut(lines.Text(), "serving on "); ok {
			url, _, _ := strings.Cut(rest, " ")
			go io.Copy(io.Discard, stdout)
			return &e2eServer{URL: url, DB: db}
		}
	}
	t.Fatal("the server did not say where it serves")
	return nil
}

// mustBrowser starts a headless Chromium with a fresh profile and returns a
// browser context that ends with the test.
func mustBrowser(t *testing.T, width, height int64) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(width), int(height)),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// tid selects the first element with a data-testid.
func tid(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }

// mustDo runs browser steps, failing the test with what was being done.
func mustDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// mustGet runs one browser action that returns a value. Reads are tried again
// for a while when they fail: a page that is still being replaced (a form
// that submits itself as well as by its button) loses its context mid-read.
func mustGet[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	var err error
	for range 20 {
		var v T
		if v, err = chromedp.Run(ctx, a); err == nil {
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
	panic("unreachable")
}

// signIn signs in through the login form.
func signIn(srv *e2eServer, email, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(tid("login-email")),
		chromedp.SendKeys(tid("login-email"), email),
		chromedp.SendKeys(tid("login-password"), password),
		chromedp.Click(tid("login-submit")),
		chromedp.WaitVisible(tid("user-name")),
	)
}

// texts returns the trimmed text of every element with the data-testid.
func texts(t *testing.T, ctx context.Context, id string) []string {
	t.Helper()
	js := `Array.from(document.querySelectorAll('[data-testid="` + id + `"]')).map(e => e.textContent.trim().replace(/\s+/g, " "))`
	return mustGet(t, ctx, "read "+id, chromedp.Evaluate[[]string](js))
}

func TestBrowserSignInAndSeeThePlanList(t *testing.T) {
	mustChromium(t)
	srv := mustStartServer(t)
	ctx := mustBrowser(t, 1440, 900)
	mustDo(t, ctx, "sign in", signIn(srv, "admin@e2e.test", "admin-password-1"))
	title := mustGet(t, ctx, "title", chromedp.Text(tid("page-title")))
	location := mustGet(t, ctx, "location", chromedp.Location())
	if title != "Billing plans" || !strings.HasSuffix(location, "/billing/plans") {
		t.Errorf("after sign-in: title %q at %s, want Billing plans at /billing/plans", title, location)
	}
	if got := texts(t, ctx, "plan-code"); len(got) != 4 {
		t.Errorf("plan codes: got %v, want acme's 4 plans", got)
	}
}

// mustWaitURL waits until the tab's URL contains part (a form's navigation
// has landed) and returns it.
func mustWaitURL(t *testing.T, ctx context.Context, part string) string {
	t.Helper()
	var url string
	for range 100 {
		url = mustGet(t, ctx, "location", chromedp.Location())
		if strings.Contains(url, part) && mustGet(t, ctx, "ready", chromedp.Evaluate[bool](`document.readyState === "complete"`)) {
			return url
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the URL never contained %q: %s", part, url)
	return ""
}

// newTab opens a second tab of the same browser (same cookies).
func newTab(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	return tab
}

func TestBrowserFiltersSurviveAReloadInANewTab(t *testing.T) {
	mustChromium(t)
	srv := mustStartServer(t)
	ctx := mustBrowser(t, 1440, 900)
	mustDo(t, ctx, "sign in", signIn(srv, "admin@e2e.test", "admin-password-1"))
	mustDo(t, ctx, "set the filters with the controls",
		chromedp.SendKeys(chromedp.CSS("#filter-q"), "gpu"),
		chromedp.SetValue(chromedp.CSS("#filter-status"), "active"),
		chromedp.Click(tid("apply-filters")),
	)
	url := mustWaitURL(t, ctx, "status=active")
	if !strings.Contains(url, "q=gpu") || !strings.Contains(url, "status=active") {
		t.Fatalf("the filters are not in the URL: %s", url)
	}
	rows := texts(t, ctx, "plan-code")
	if fmt.Sprint(rows) != "[BP-E2E-000001]" {
		t.Errorf("filtered rows: got %v, want the one active GPU plan", rows)
	}

	tab := newTab(t, ctx)
	mustDo(t, tab, "open the bookmarked URL in a new tab", chromedp.Navigate(url), chromedp.WaitVisible(tid("plan-filters")))
	if got := texts(t, tab, "plan-code"); fmt.Sprint(got) != fmt.Sprint(rows) {
		t.Errorf("new tab rows: got %v, want %v", got, rows)
	}
	q := mustGet(t, tab, "q", chromedp.Value(chromedp.CSS("#filter-q")))
	status := mustGet(t, tab, "status", chromedp.Value(chromedp.CSS("#filter-status")))
	if q != "gpu" || status != "active" {
		t.Errorf("new tab controls: q=%q status=%q, want gpu and active", q, status)
	}
}

func TestBrowserExpandsAPlansServicesWithoutJavaScript(t *testing.T) {
	mustChromium(t)
	srv := mustStartServer(t)
	ctx := mustBrowser(t, 1440, 900)
	mustDo(t, ctx, "sign in", signIn(srv, "admin@e2e.test", "admin-password-1"))
	visible := `Array.from(document.querySelectorAll('[data-testid="plan-service"]')).filter(e => e.checkVisibility()).length`
	before := mustGet(t, ctx, "visible services", chromedp.Evaluate[int](visible))
	mustDo(t, ctx, "expand +1 more", chromedp.Click(chromedp.CSS(`[data-testid="plan-services-more"] summary`)))
	after := mustGet(t, ctx, "visible services", chromedp.Evaluate[int](visible))
	if after != before+1 {
		t.Errorf("visible services: %d before, %d after expanding; want one more", before, after)
	}
}

func TestBrowserViewerSeesNoButtons(t *testing.T) {
	mustChromium(t)
	srv := mustStartServer(t)
	ctx := mustBrowser(t, 1440, 900)
	mustDo(t, ctx, "sign in as viewer", signIn(srv, "viewer@e2e.test", "viewer-password-1"))
	if got := texts(t, ctx, "plan-row"); len(got) != 4 {
		t.Fatalf("the viewer sees %d plans, want 4", len(got))
	}
	if got := texts(t, ctx, "pay-now"); len(got) != 0 {
		t.Errorf("the viewer sees %d Pay now buttons on the list", len(got))
	}
	mustDo(t, ctx, "open a plan that owes money", chromedp.Navigate(srv.URL+"/billing/plans/BP-E2E-000002"), chromedp.WaitVisible(tid("pill-status")))
	if got := append(texts(t, ctx, "pay-now"), texts(t, ctx, "renew-button")...); len(got) != 0 {
		t.Errorf("the viewer sees buttons on the plan page: %v", got)
	}
}

func TestBrowserSignOutThenBackShowsNoData(t *testing.T) {
	mustChromium(t)
	srv := mustStartServer(t)
	ctx := mustBrowser(t, 1440, 900)
	mustDo(t, ctx, "sign in", signIn(srv, "admin@e2e.test", "admin-password-1"))
	mustDo(t, ctx, "sign out", chromedp.Click(tid("sign-out")), chromedp.WaitVisible(tid("login-form")))
	mustDo(t, ctx, "go back", chromedp.NavigateBack(), chromedp.WaitVisible(tid("login-form")))
	if got := texts(t, ctx, "plan-row"); len(got) != 0 {
		t.Errorf("after sign-out the back button shows %d plans", len(got))
	}
}

// TestBrowserKeyboardOnly signs in and opens a plan with the keyboard alone.
func TestBrowserKeyboardOnly(t *testing.T) {
	mustChromium(t)
	srv := mustStartServer(t)
	ctx := mustBrowser(t, 1440, 900)
	active := `(document.activeElement && document.activeElement.getAttribute('data-testid')) || ''`
	mustDo(t, ctx, "open the sign-in page", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(tid("login-email")))
	if got := mustGet(t, ctx, "focus", chromedp.Evaluate[string](active)); got != "login-email" {
		t.Fatalf("the email field has no focus on arrival (focus on %q)", got)
	}
	mustDo(t, ctx, "type the credentials and press Enter",
		chromedp.KeyEvent("admin@e2e.test"), chromedp.KeyEvent("\t"), chromedp.KeyEvent("admin-password-1"), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(tid("plan-table")))
	found := false
	for range 80 {
		mustDo(t, ctx, "tab", chromedp.KeyEvent("\t"))
		if mustGet(t, ctx, "focus", chromedp.Evaluate[string](active)) == "plan-code" {
			found = true
			break
		}
	}
	if !found {
		t.Fatal("no plan link can be reached with Tab")
	}
	mustDo(t, ctx, "open the plan with Enter", chromedp.KeyEvent("\r"), chromedp.WaitVisible(tid("pill-status")))
}

// screenshotPages are the pages the README and reviewers look at.
var screenshotPages = []struct{ name, path string }{
	{"list", "/billing/plans"},
	{"detail", "/billing/plans/BP-E2E-000001"},
	{"pay", "/billing/plans/BP-E2E-000002/pay"},
	{"renew", "/billing/plans/BP-E2E-000001/renew"},
	{"credit-history", "/billing/credit-history"},
	{"overview", "/billing"},
}

// TestBrowserScreenshotsAndAccessibility takes a screenshot of every page at a
// desktop and a phone size into testartifacts/screenshots (ignored by git), and
// fails on any serious or critical axe-core violation.
func TestBrowserScreenshotsAndAccessibility(t *testing.T) {
	mustChromium(t)
	srv := mustStartServer(t)
	axe, err := os.ReadFile("testdata/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join("..", "..", "testartifacts", "screenshots")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int64{{1440, 900}, {390, 844}} {
		ctx := mustBrowser(t, size[0], size[1])
		mustDo(t, ctx, "sign in", signIn(srv, "admin@e2e.test", "admin-password-1"))
		for _, p := range screenshotPages {
			what := fmt.Sprintf("%s at %dx%d", p.name, size[0], size[1])
			mustDo(t, ctx, "open "+what, chromedp.Navigate(srv.URL+p.path), chromedp.WaitVisible(tid("page-title")))
			// Nothing may widen the page past a phone's screen.
			if wide := mustGet(t, ctx, "page width", chromedp.Evaluate[[]string](`document.documentElement.scrollWidth <= innerWidth ? [] :
				Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > innerWidth + 1)
					.slice(0, 5).map(e => e.tagName + '.' + e.className + ' right=' + Math.round(e.getBoundingClientRect().right))`)); len(wide) > 0 {
				t.Errorf("%s: the page is wider than the window: %v", what, wide)
			}
			png := mustGet(t, ctx, "screenshot "+what, chromedp.FullScreenshot(100))
			if err := os.WriteFile(filepath.Join(out, fmt.Sprintf("%s-%dx%d.png", p.name, size[0], size[1])), png, 0o644); err != nil {
				t.Fatal(err)
			}
			// DevTools evaluation is not bound by the page's CSP, so axe runs
			// on the page exactly as served.
			mustGet(t, ctx, "inject axe-core", chromedp.Evaluate[bool](string(axe)+";true"))
			violations := mustGet(t, ctx, "run axe-core on "+what, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ['violations']}).then(r =>
				r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
					.map(v => v.impact + ' ' + v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))`, chromedp.EvalAwaitPromise))
			for _, v := range violations {
				t.Errorf("%s: %s", what, v)
			}
		}
	}
}

func TestBrowserPayInPartThenTheRest(t *testing.T) {
	mustChromium(t)
	srv := mustStartServer(t)
	ctx := mustBrowser(t, 1440, 900)
	mustDo(t, ctx, "sign in", signIn(srv, "admin@e2e.test", "admin-password-1"))
	mustDo(t, ctx, "open the unpaid plan from the list",
		chromedp.Click(chromedp.CSS(`a[data-testid="plan-code"][href*="BP-E2E-000002"]`)), chromedp.WaitVisible(tid("pill-status")))
	if got := mustGet(t, ctx, "payment status", chromedp.Text(tid("payment-status"))); got != "Unpaid" {
		t.Fatalf("payment status before paying: %q, want Unpaid", got)
	}
	mustDo(t, ctx, "pay 2,000,000 of 6,000,000 online",
		chromedp.Click(tid("pay-now")), chromedp.WaitVisible(tid("pay-form")),
		chromedp.Clear(tid("pay-amount")), chromedp.SendKeys(tid("pay-amount"), "2000000"),
		chromedp.SetValue(tid("pay-method"), "online"),
		chromedp.SendKeys(tid("pay-card"), "4242 4242 4242 4242"),
		chromedp.Click(tid("pay-submit")), chromedp.WaitVisible(tid("pill-status")))
	flash := mustGet(t, ctx, "flash", chromedp.Text(tid("flash")))
	status := mustGet(t, ctx, "payment status", chromedp.Text(tid("payment-status")))
	if !strings.Contains(flash, "₫2,000,000") || status != "Partially paid" {
		t.Errorf("after paying part: flash %q, payment status %q; want the amount named and Partially paid", flash, status)
	}
	if due := mustGet(t, ctx, "amount due", chromedp.Text(tid("amount-due"))); due != "₫4,000,000" {
		t.Errorf("amount due after paying part: %q, want ₫4,000,000", due)
	}
	mustDo(t, ctx, "pay the rest, the form's default",
		chromedp.Click(tid("pay-now")), chromedp.WaitVisible(tid("pay-form")),
		chromedp.SetValue(tid("pay-method"), "online"),
		chromedp.SendKeys(tid("pay-card"), "4242 4242 4242 4242"),
		chromedp.Click(tid("pay-submit")), chromedp.WaitVisible(tid("pill-status")))
	if status := mustGet(t, ctx, "payment status", chromedp.Text(tid("payment-status"))); status != "Paid" {
		t.Errorf("after paying the rest: payment status %q, want Paid", status)
	}
	if got := texts(t, ctx, "pay-now"); len(got) != 0 {
		t.Error("a paid plan still offers Pay now")
	}
}

func TestBrowserRenewMovesTheEndDate(t *testing.T) {
	mustChromium(t)
	srv := mustStartServer(t)
	ctx := mustBrowser(t, 1440, 900)
	mustDo(t, ctx, "sign in", signIn(srv, "admin@e2e.test", "admin-password-1"))
	mustDo(t, ctx, "open the plan", chromedp.Navigate(srv.URL+"/billing/plans/BP-E2E-000001"), chromedp.WaitVisible(tid("pill-status")))
	oldEnd := mustGet(t, ctx, "end date", chromedp.Text(tid("detail-end")))
	mustDo(t, ctx, "choose a 3-month renewal",
		chromedp.Click(tid("renew-button")), chromedp.WaitVisible(tid("renew-form")),
		chromedp.SetValue(tid("renew-term"), "3"))
	// The select may send its form itself (static/app.js); without that, the
	// button does, as it would with JavaScript off.
	time.Sleep(300 * time.Millisecond)
	if !strings.Contains(mustGet(t, ctx, "location", chromedp.Location()), "term=3") {
		mustDo(t, ctx, "show the 3-month term", chromedp.Click(tid("renew-preview")))
	}
	mustWaitURL(t, ctx, "term=3")
	newEnd := mustGet(t, ctx, "new end", chromedp.Text(tid("renew-new-end")))
	want := store.MustParseDate(e2eToday().AddDays(60).String()).AddDays(1).AddMonths(3).AddDays(-1)
	if newEnd != want.Time().Format("2 Jan 2006") {
		t.Errorf("the renewal page says the plan will end %q, want %s", newEnd, want.Time().Format("2 Jan 2006"))
	}
	mustDo(t, ctx, "confirm", chromedp.Click(tid("renew-submit")), chromedp.WaitVisible(tid("pill-status")))
	if got := mustGet(t, ctx, "end date", chromedp.Text(tid("detail-end"))); got != newEnd || got == oldEnd {
		t.Errorf("after renewing the end date is %q (was %q), want %q", got, oldEnd, newEnd)
	}
}

// TestBrowserREADMEScreenshots renews the README's screenshots from the demo
// data that `make run` loads. It runs only when asked:
//
//	BILLINGPLANS_README_SHOTS=1 go test -run READMEScreenshots ./cmd/billingplans/
func TestBrowserREADMEScreenshots(t *testing.T) {
	if os.Getenv("BILLINGPLANS_README_SHOTS") == "" {
		t.Skip("set BILLINGPLANS_README_SHOTS=1 to renew docs/screenshots")
	}
	mustChromium(t)
	bin := mustBinary(t)
	cmd := exec.Command(bin, "serve", "--db", filepath.Join(t.TempDir(), "demo.db"), "--addr", "127.0.0.1:0", "--seed-if-empty")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	var url string
	for lines := bufio.NewScanner(stdout); lines.Scan(); {
		if _, rest, ok := strings.Cut(lines.Text(), "serving on "); ok {
			url, _, _ = strings.Cut(rest, " ")
			go io.Copy(io.Discard, stdout)
			break
		}
	}
	srv := &e2eServer{URL: url}
	ctx := mustBrowser(t, 1440, 900)
	mustDo(t, ctx, "sign in", signIn(srv, store.DemoLogins[0].Email, store.DemoLogins[0].Password))
	mustDo(t, ctx, "find an active plan", chromedp.Navigate(url+"/billing/plans?status=active&sort=usage"), chromedp.WaitVisible(tid("plan-code")))
	active := mustGet(t, ctx, "first plan", chromedp.Text(tid("plan-code")))
	for _, shot := range []struct{ name, path string }{
		{"plan-list.png", "/billing/plans"},
		{"plan-detail.png", "/billing/plans/" + active},
	} {
		mustDo(t, ctx, "open "+shot.path, chromedp.Navigate(url+shot.path), chromedp.WaitVisible(tid("page-title")))
		png := mustGet(t, ctx, "screenshot", chromedp.CaptureScreenshot())
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", shot.name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
