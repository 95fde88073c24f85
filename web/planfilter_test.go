package web

import (
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/billingplans/billingplans/store"
)

// planFilterServices are the service codes the parser tests know.
var planFilterServices = []string{"gpu", "llm", "storage"}

// MustParsePlanQueryString parses a raw query string as Echo does, then as
// the plan list does.
func MustParsePlanQueryString(t testing.TB, raw string) (PlanQuery, QueryErrors) {
	t.Helper()
	v, _ := url.ParseQuery(raw)
	return ParsePlanQuery(v, planFilterServices)
}

func TestPlanQueryCanonicalForm(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"no parameters is the default list", "", ""},
		{"defaults are left out", "sort=start&dir=desc&page=1&per_page=25&date_field=start", ""},
		{"the empty fields the filter form sends are left out", "q=&status=&date_field=start&from=&to=&sort=start&dir=desc&per_page=25", ""},
		{"parameters come in one order whatever the order asked",
			"per_page=50&page=3&dir=asc&sort=usage&to=2026-03-31&from=2026-01-01&date_field=end&status=active&service=llm&q=gpu",
			"q=gpu&service=llm&status=active&date_field=end&from=2026-01-01&to=2026-03-31&sort=usage&dir=asc&page=3&per_page=50"},
		{"services are sorted and repeats dropped", "service=storage&service=gpu&service=storage", "service=gpu&service=storage"},
		{"the search is trimmed and escaped", "q=+%3Cscript%3E+a%26b+", "q=%3Cscript%3E+a%26b"},
		{"names of statuses, sorts and directions are read in any case", "status=Expired&sort=CODE&dir=ASC", "status=expired&sort=code&dir=asc"},
		{"a page number with a sign or leading zeros is written plainly", "page=%2B007", "page=7"},
		{"the first of a repeated parameter counts", "status=active&status=expired&q=a&q=b", "q=a&status=active"},
		{"unknown parameters are dropped", "utm_source=mail&status=inactive", "status=inactive"},
		{"an end date field is kept without dates", "date_field=end", "date_field=end"},
		{"the default sort in ascending order keeps only dir", "sort=start&dir=asc", "dir=asc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, errs := MustParsePlanQueryString(t, tt.raw)
			if len(errs) != 0 {
				t.Fatalf("errors %v", errs)
			}
			if got := q.Encode(); got != tt.want {
				t.Errorf("Encode() = %q, want %q", got, tt.want)
			}
			again, errs := MustParsePlanQueryString(t, tt.want)
			if len(errs) != 0 || !reflect.DeepEqual(normalizePlanQuery(again), normalizePlanQuery(q)) {
				t.Errorf("the canonical form reads back as %+v (errors %v), want %+v", again, errs, q)
			}
		})
	}
}

// normalizePlanQuery makes a query comparable with reflect.DeepEqual: no
// services is nil.
func normalizePlanQuery(q PlanQuery) PlanQuery {
	if len(q.Services) == 0 {
		q.Services = nil
	}
	return q
}

func TestPlanQueryValues(t *testing.T) {
	q, errs := MustParsePlanQueryString(t, "q=GPU&service=gpu&service=llm&status=active&date_field=end&from=2026-01-01&to=2026-03-31&sort=amount&dir=asc&page=2&per_page=100")
	if len(errs) != 0 {
		t.Fatalf("errors %v", errs)
	}
	want := PlanQuery{
		Q: "GPU", Services: []string{"gpu", "llm"}, Status: store.StatusActive,
		DateField: "end", From: store.NewDate(2026, 1, 1), To: store.NewDate(2026, 3, 31),
		Sort: store.SortByAmount, Desc: false, Page: 2, PerPage: 100,
	}
	if !reflect.DeepEqual(q, want) {
		t.Fatalf("got %+v\nwant %+v", q, want)
	}
	today := store.NewDate(2026, 3, 2)
	f := q.Filter(today)
	wantFilter := store.PlanFilter{
		Query: "GPU", Services: []string{"gpu", "llm"}, Status: store.StatusActive,
		DateField: "end", From: store.NewDate(2026, 1, 1), To: store.NewDate(2026, 3, 31),
		Sort: store.SortByAmount, Desc: false, Offset: 100, Limit: 100, Today: today,
	}
	if !reflect.DeepEqual(f, wantFilter) {
		t.Errorf("Filter() = %+v\nwant %+v", f, wantFilter)
	}
	if d := DefaultPlanQuery(); d.Sort != store.SortByStart || !d.Desc || d.PerPage != 25 || d.Page != 1 {
		t.Errorf("the default list is %+v, want latest start first, 25 a page", d)
	}
}

func TestPlanQueryIgnoresWhatMakesNoSense(t *testing.T) {
	tests := []struct {
		name, raw, param string
		// want is the canonical query once the value is ignored.
		want string
	}{
		{"a date that does not exist", "from=2026-02-30&status=active", "from", "status=active"},
		{"a date in another format", "to=02/03/2026", "to", ""},
		{"a start after the end keeps the start", "from=2026-03-01&to=2026-02-01", "to", "from=2026-03-01"},
		{"an unknown status", "status=pending", "status", ""},
		{"an unknown service, keeping the known ones", "service=gpu&service=vm", "service", "service=gpu"},
		{"an unknown plan date", "date_field=created&from=2026-01-01", "date_field", "from=2026-01-01"},
		{"an unknown sort", "sort=status", "sort", ""},
		{"an unknown direction", "sort=code&dir=up", "dir", "sort=code"},
		{"a page of zero", "page=0", "page", ""},
		{"a negative page", "page=-2", "page", ""},
		{"a page that is not a number", "page=two", "page", ""},
		{"a page too large for an int", "page=99999999999999999999999", "page", ""},
		{"a page size not offered", "per_page=30", "per_page", ""},
		{"a page size that is not a number", "per_page=all", "per_page", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is ignored with a message", func(t *testing.T) {
			q, errs := MustParsePlanQueryString(t, tt.raw)
			if errs[tt.param] == "" {
				t.Errorf("no message for %s; errors %v", tt.param, errs)
			}
			if len(errs) != 1 {
				t.Errorf("errors %v, want one for %s", errs, tt.param)
			}
			if got := q.Encode(); got != tt.want {
				t.Errorf("Encode() = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("several unknown services are named in one message", func(t *testing.T) {
		_, errs := MustParsePlanQueryString(t, "service=vm&service=tpu&service=vm")
		if msg := errs["service"]; !strings.Contains(msg, "“vm”, “tpu”") {
			t.Errorf("message %q", msg)
		}
	})
	t.Run("a huge value is cut short in its message", func(t *testing.T) {
		_, errs := MustParsePlanQueryString(t, "status="+strings.Repeat("x", 5000))
		if n := len(errs["status"]); n == 0 || n > 200 {
			t.Errorf("message of %d bytes", n)
		}
	})
}

func TestPlanQueryFilterPages(t *testing.T) {
	today := store.NewDate(2026, 3, 2)
	tests := []struct {
		name               string
		page, perPage      int
		wantOffset, wantLn int
	}{
		{"the first page starts at the first plan", 1, 25, 0, 25},
		{"page 3 of 50 starts at the 101st plan", 3, 50, 100, 50},
		{"a page too far to count asks past any end", math.MaxInt, 100, maxPlanOffset, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := DefaultPlanQuery()
			q.Page, q.PerPage = tt.page, tt.perPage
			f := q.Filter(today)
			if f.Offset != tt.wantOffset || f.Limit != tt.wantLn {
				t.Errorf("offset %d limit %d, want %d and %d", f.Offset, f.Limit, tt.wantOffset, tt.wantLn)
			}
		})
	}
}

func TestPlanQueryLinks(t *testing.T) {
	q, _ := MustParsePlanQueryString(t, "q=gpu&status=active&sort=code&dir=asc&page=3&per_page=50")
	tests := []struct {
		name, got, want string
	}{
		{"a page link changes only the page", q.WithPage(4).URL(), "/billing/plans?q=gpu&status=active&sort=code&dir=asc&page=4&per_page=50"},
		{"the first page leaves the page out", q.WithPage(1).URL(), "/billing/plans?q=gpu&status=active&sort=code&dir=asc&per_page=50"},
		{"a sort link starts again at the first page", q.WithSort(store.SortByEnd, true).URL(), "/billing/plans?q=gpu&status=active&sort=end&per_page=50"},
		{"clearing keeps the order and the page size", q.Cleared().URL(), "/billing/plans?sort=code&dir=asc&per_page=50"},
		{"the export leaves paging out", q.CSVURL(), "/billing/plans.csv?q=gpu&status=active&sort=code&dir=asc"},
		{"the default list is the bare path", DefaultPlanQuery().URL(), "/billing/plans"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestCSVCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+1", "'+1"},
		{"-GPU", "'-GPU"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"GPU = fast", "GPU = fast"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run("cell "+strconv.Quote(tt.in), func(t *testing.T) {
			if got := csvCell(tt.in); got != tt.want {
				t.Errorf("csvCell(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzParsePlanQuery checks, for any query string, that the parser never
// panics, that what it keeps is valid, and that its canonical form reads back
// as the same query without errors and encodes the same again.
func FuzzParsePlanQuery(f *testing.F) {
	for _, s := range []string{
		"",
		"q=gpu&service=gpu&service=llm&status=active&date_field=end&from=2026-01-01&to=2026-03-31&sort=usage&dir=asc&page=3&per_page=50",
		"from=2026-03-01&to=2026-02-01",
		"page=99999999999999999999&per_page=-1",
		"q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
		"q=%ff%fe&service=%00",
		"status=ACTIVE&sort=Code&dir=DESC&page=%2B1",
		"q=+&service=+gpu+",
		"from=0001-01-01&to=9999-12-31",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := MustParsePlanQueryString(t, raw)
		if q.Page < 1 || (q.PerPage != 25 && q.PerPage != 50 && q.PerPage != 100) {
			t.Fatalf("page %d of %d kept from %q", q.Page, q.PerPage, raw)
		}
		if !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To) {
			t.Fatalf("from %s after to %s kept from %q", q.From, q.To, raw)
		}
		if f := q.Filter(store.NewDate(2026, 3, 2)); f.Offset < 0 || f.Limit <= 0 {
			t.Fatalf("offset %d limit %d from %q", f.Offset, f.Limit, raw)
		}
		enc := q.Encode()
		again, errs := MustParsePlanQueryString(t, enc)
		if len(errs) != 0 {
			t.Fatalf("the canonical form %q of %q has errors %v", enc, raw, errs)
		}
		if !reflect.DeepEqual(normalizePlanQuery(again), normalizePlanQuery(q)) {
			t.Fatalf("%q reads back as %+v, want %+v", enc, again, q)
		}
		if got := again.Encode(); got != enc {
			t.Fatalf("encoded again as %q, want %q", got, enc)
		}
	})
}
