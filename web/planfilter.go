package web

// The plan list's query string: parsed leniently (a value that makes no sense
// is dropped with a message, never an error page) and written back in one
// canonical form, so that every filtered view of the list is a link that can be
// bookmarked, shared and compared.

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/billingplans/billingplans/store"
)

// The plan list's defaults: a value equal to its default is left out of a
// canonical query string.
const (
	defaultPlanSort    = store.SortByStart
	defaultPlanDesc    = true
	defaultDateField   = "start"
	defaultPlanPerPage = 25
)

// planPerPageChoices are the page sizes the plan list offers.
var planPerPageChoices = []int{25, 50, 100}

// planSortChoices are the values of the sort parameter.
var planSortChoices = []store.PlanSort{store.SortByCode, store.SortByStart, store.SortByEnd, store.SortByUsage, store.SortByAmount}

// planStatusChoices are the values of the status parameter.
var planStatusChoices = []store.Status{store.StatusActive, store.StatusExpired, store.StatusInactive}

// PlanQuery is what the plan list shows, as its query string says: the filter,
// the order and the page. The zero value is not the default list; start from
// DefaultPlanQuery or ParsePlanQuery.
type PlanQuery struct {
	// Q matches part of the plan code or plan type, case-insensitively.
	Q string
	// Services are service codes, sorted and without repeats; a plan covering
	// any of them is kept.
	Services []string
	// Status is the status kept, or "" for all.
	Status store.Status
	// DateField is "start" or "end": the date From and To (inclusive) apply to.
	DateField string
	From, To  store.Date
	Sort      store.PlanSort
	Desc      bool
	// Page counts from 1.
	Page    int
	PerPage int
}

// QueryErrors maps a query parameter to the message that says why its value
// was ignored.
type QueryErrors map[string]string

// DefaultPlanQuery returns the query of the list with no parameters: every
// plan, latest start first, the first 25.
func DefaultPlanQuery() PlanQuery {
	return PlanQuery{DateField: defaultDateField, Sort: defaultPlanSort, Desc: defaultPlanDesc, Page: 1, PerPage: defaultPlanPerPage}
}

// ParsePlanQuery reads the plan list's query string. services are the service
// codes the account's plans cover: any other service is unknown. A value that
// makes no sense (a bad date, an unknown status or service, from after to, a
// page that is not a positive number, a page size not offered, an unknown sort
// or direction) is ignored, and the returned QueryErrors say so under the
// parameter's name; it never fails. Unknown parameters are ignored silently, and
// of a parameter given twice (other than service) the first value counts.
func ParsePlanQuery(v url.Values, services []string) (PlanQuery, QueryErrors) {
	q := DefaultPlanQuery()
	errs := QueryErrors{}
	first := func(name string) string { return strings.TrimSpace(v.Get(name)) }

	q.Q = first("q")

	var unknown []string
	q.Services, unknown = pickServices(v["service"], services)
	switch len(unknown) {
	case 0:
	case 1:
		errs["service"] = fmt.Sprintf("There is no service %s among your plans; it is ignored.", quoteValue(unknown[0]))
	default:
		quoted := make([]string, len(unknown))
		for i, s := range unknown {
			quoted[i] = quoteValue(s)
		}
		errs["service"] = fmt.Sprintf("There are no services %s among your plans; they are ignored.", strings.Join(quoted, ", "))
	}

	if s := first("status"); s != "" {
		if st := store.Status(strings.ToLower(s)); slices.Contains(planStatusChoices, st) {
			q.Status = st
		} else {
			errs["status"] = fmt.Sprintf("%s is not a status (Active, Expired or Inactive); it is ignored.", quoteValue(s))
		}
	}

	if s := first("date_field"); s != "" {
		switch f := strings.ToLower(s); f {
		case "start", "end":
			q.DateField = f
		default:
			errs["date_field"] = fmt.Sprintf("%s is not a plan date (start or end); the start date is used.", quoteValue(s))
		}
	}
	for _, name := range []string{"from", "to"} {
		s := first(name)
		if s == "" {
			continue
		}
		d, err := store.ParseDate(s)
		if err != nil || d.IsZero() {
			errs[name] = fmt.Sprintf("%s is not a date (YYYY-MM-DD); it is ignored.", quoteValue(s))
			continue
		}
		if name == "from" {
			q.From = d
		} else {
			q.To = d
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To) {
		errs["to"] = fmt.Sprintf("The end of the date range (%s) is before its start (%s); it is ignored.", q.To, q.From)
		q.To = store.Date{}
	}

	if s := first("sort"); s != "" {
		if st := store.PlanSort(strings.ToLower(s)); slices.Contains(planSortChoices, st) {
			q.Sort = st
		} else {
			errs["sort"] = fmt.Sprintf("The list cannot be sorted by %s; it is sorted by start date.", quoteValue(s))
		}
	}
	if s := first("dir"); s != "" {
		switch strings.ToLower(s) {
		case "asc":
			q.Desc = false
		case "desc":
			q.Desc = true
		default:
			errs["dir"] = fmt.Sprintf("%s is not a sort direction (asc or desc); it is ignored.", quoteValue(s))
		}
	}

	if s := first("page"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 1 {
			q.Page = n
		} else {
			errs["page"] = fmt.Sprintf("%s is not a page number; the first page is shown.", quoteValue(s))
		}
	}
	if s := first("per_page"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && slices.Contains(planPerPageChoices, n) {
			q.PerPage = n
		} else {
			errs["per_page"] = fmt.Sprintf("%s plans per page is not offered (25, 50 or 100); %d are shown.", quoteValue(s), defaultPlanPerPage)
		}
	}
	return q, errs
}

// quoteValue returns a value of the query string for a message: in quotes,
// and cut short when long, so that a huge parameter does not make a huge page.
func quoteValue(s string) string {
	const limit = 40
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit]) + "…"
	}
	return "“" + s + "”"
}

// Encode returns the query string of q, without "?": only the values that are
// not defaults, in one order (q, service..., status, date_field, from, to,
// sort, dir, page, per_page). Two queries that show the same list encode the
// same, and ParsePlanQuery of the result gives q back.
func (q PlanQuery) Encode() string {
	var b strings.Builder
	add := func(name, value string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(value))
	}
	if q.Q != "" {
		add("q", q.Q)
	}
	for _, s := range q.Services {
		add("service", s)
	}
	if q.Status != "" {
		add("status", string(q.Status))
	}
	if q.DateField != "" && q.DateField != defaultDateField {
		add("date_field", q.DateField)
	}
	if !q.From.IsZero() {
		add("from", q.From.String())
	}
	if !q.To.IsZero() {
		add("to", q.To.String())
	}
	if q.Sort != "" && q.Sort != defaultPlanSort {
		add("sort", string(q.Sort))
	}
	if q.Desc != defaultPlanDesc {
		add("dir", planDir(q.Desc))
	}
	if q.Page > 1 {
		add("page", strconv.Itoa(q.Page))
	}
	if q.PerPage != 0 && q.PerPage != defaultPlanPerPage {
		add("per_page", strconv.Itoa(q.PerPage))
	}
	return b.String()
}

// planDir returns the dir parameter of a direction.
func planDir(desc bool) string {
	if desc {
		return "desc"
	}
	return "asc"
}

// path returns base with q's query string, if any.
func (q PlanQuery) path(base string) string {
	if s := q.Encode(); s != "" {
		return base + "?" + s
	}
	return base
}

// URL returns the link to the plan list showing q.
func (q PlanQuery) URL() string { return q.path(plansPath) }

// CSVURL returns the link to the CSV export of the plans q selects: every page.
func (q PlanQuery) CSVURL() string {
	q.Page, q.PerPage = 1, defaultPlanPerPage
	return q.path(plansCSVPath)
}

// WithPage returns q showing page n.
func (q PlanQuery) WithPage(n int) PlanQuery {
	q.Page = n
	return q
}

// WithSort returns q sorted by s in the given direction, from the first page.
func (q PlanQuery) WithSort(s store.PlanSort, desc bool) PlanQuery {
	q.Sort, q.Desc, q.Page = s, desc, 1
	return q
}

// Filtered reports whether q leaves any plan out: whether the list has
// anything to clear.
func (q PlanQuery) Filtered() bool {
	return q.Q != "" || len(q.Services) > 0 || q.Status != "" || !q.From.IsZero() || !q.To.IsZero()
}

// Cleared returns q without its filter, keeping its order and page size.
func (q PlanQuery) Cleared() PlanQuery {
	c := DefaultPlanQuery()
	c.Sort, c.Desc, c.PerPage = q.Sort, q.Desc, q.PerPage
	return c
}

// maxPlanOffset bounds the offset a page asks for, so that a page number near
// the largest int does not overflow when multiplied by the page size; any page
// that far is past the end of any account's list.
const maxPlanOffset = math.MaxInt32

// Filter returns the store's filter of q for the page q.Page, with statuses
// judged on today. A page too far to compute is asked as an offset past any end.
func (q PlanQuery) Filter(today store.Date) store.PlanFilter {
	perPage := max(q.PerPage, 1)
	offset := maxPlanOffset
	if page := max(q.Page, 1); page-1 <= maxPlanOffset/perPage {
		offset = (page - 1) * perPage
	}
	f := q.selection(today)
	f.Offset, f.Limit = offset, perPage
	return f
}

// selection returns the store's filter of q for every page.
func (q PlanQuery) selection(today store.Date) store.PlanFilter {
	return store.PlanFilter{
		Query: q.Q, Services: q.Services, Status: q.Status,
		DateField: q.DateField, From: q.From, To: q.To,
		Sort: q.Sort, Desc: q.Desc, Today: today,
	}
}

// lastPlanPage returns the number of the last page of total plans, at least 1.
func lastPlanPage(total, perPage int) int {
	if total <= 0 || perPage <= 0 {
		return 1
	}
	return (total + perPage - 1) / perPage
}
