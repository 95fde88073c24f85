package views

import (
	"github.com/shopspring/decimal"

	"github.com/billingplans/billingplans/store"
)

// PlanListPage is the billing plans list: the account's summary cards, the
// filter bar, and one page of the plans the filter selects. The handler builds
// every link in it; the components only write them out.
type PlanListPage struct {
	Page  Page
	Cards PlanCards
	// HasPlans says the account has any plan at all. Without one the page
	// shows its empty state instead of the filter bar and the table.
	HasPlans bool
	Filter   PlanFilterForm
	// Rows are the page's rows, PlanRows prerendered.
	Rows Prerendered
	// Total is the number of plans the filter selects, on every page.
	Total int
	// First and Last are the positions (from 1) of the first and last row
	// shown among Total; both 0 when no row is shown.
	First, Last int
	// PageError says why the page asked for was not shown, or "".
	PageError  string
	Pagination PlanPagination
	Sort       PlanSortLinks
	// CSVURL exports every plan the filter selects.
	CSVURL string
}

// PlanCards are the four summary cards, for the whole account whatever the filter.
type PlanCards struct {
	Active  int
	Expired int
	// TotalSpent is what every plan consumed.
	TotalSpent store.Money
	// SpentChange is this month's spend against the same span of last month,
	// in percent; HasSpentChange is false when last month had no spend.
	SpentChange    decimal.Decimal
	HasSpentChange bool
	// TotalAmount is the sum of the plan amounts; RemainingActive is what the
	// Active plans have left.
	TotalAmount     store.Money
	RemainingActive store.Money
}

// SpentTrend returns "up", "down" or "flat" for the spend change, or "none"
// when there is no figure.
func (c PlanCards) SpentTrend() string {
	switch {
	case !c.HasSpentChange:
		return "none"
	case c.SpentChange.IsPositive():
		return "up"
	case c.SpentChange.IsNegative():
		return "down"
	}
	return "flat"
}

// PlanFilterForm is the filter bar: a GET form whose fields are the list's
// query string, each set to the value the list shows.
type PlanFilterForm struct {
	// Action is the path the form is sent to.
	Action   string
	Q        string
	Services []PlanServiceChoice
	// Status is "", "active", "expired" or "inactive".
	Status string
	// DateField is "start" or "end"; From and To are YYYY-MM-DD or "".
	DateField string
	From, To  string
	// Sort is a store.PlanSort; Dir is "asc" or "desc".
	Sort    string
	Dir     string
	PerPage int
	// PerPageChoices are the page sizes offered.
	PerPageChoices []int
	// Errors holds, by parameter name, why a value of the query string was ignored.
	Errors map[string]string
	// Filtered says some filter is set, so there is something to clear.
	Filtered bool
	// ClearURL is the list without any filter, in the same order.
	ClearURL string
}

// SelectedServices returns how many services the filter keeps.
func (f PlanFilterForm) SelectedServices() int {
	n := 0
	for _, s := range f.Services {
		if s.Selected {
			n++
		}
	}
	return n
}

// PlanServiceChoice is a service of the filter's multi-select.
type PlanServiceChoice struct {
	Code     string
	Name     string
	Selected bool
}

// PlanRow is one plan of the list, its figures computed by the store's rules.
type PlanRow struct {
	Code string
	Type string
	// URL is the plan's detail page, with the list's query to come back to.
	URL string
	// PayURL is the plan's Pay now page, or "" when the plan shows no Pay now
	// (it is paid, or the user may not pay).
	PayURL string
	// Services are the names of the services the plan covers, in name order.
	Services  []string
	StartDate store.Date
	EndDate   store.Date
	// DaysRemaining is store.Plan.DaysRemaining; NotStarted says the plan
	// starts after today, on StartDate.
	DaysRemaining int
	NotStarted    bool
	Status        store.Status
	Consumed      store.Money
	Amount        store.Money
	UsagePercent  decimal.Decimal
	PaymentStatus store.PaymentStatus
}

// PlanShownServices is how many services a row lists before "+N more".
const PlanShownServices = 2

// FirstServices returns the services a row shows at once.
func (r PlanRow) FirstServices() []string {
	return r.Services[:min(len(r.Services), PlanShownServices)]
}

// MoreServices returns the services behind "+N more".
func (r PlanRow) MoreServices() []string {
	return r.Services[min(len(r.Services), PlanShownServices):]
}

// PlanPagination is the links between the pages of the list; Prev and Next are
// "" on the first and last page.
type PlanPagination struct {
	Prev, Next string
	Pages      []PlanPageLink
}

// PlanPageLink is a page number in the pagination, or a gap ("…") between numbers.
type PlanPageLink struct {
	Number  int
	URL     string
	Current bool
	Gap     bool
}

// PlanSortLinks are the sort links of the table's headers, one per column the
// list sorts by.
type PlanSortLinks struct {
	Code, Start, End, Usage, Amount PlanSortLink
}

// PlanSortLink is a header link that sorts the list by a column.
type PlanSortLink struct {
	URL string
	// Active says the list is sorted by this column now, Desc in which direction.
	Active bool
	Desc   bool
}

// AriaSort returns the header's aria-sort value: "ascending", "descending" or "none".
func (s PlanSortLink) AriaSort() string {
	switch {
	case !s.Active:
		return "none"
	case s.Desc:
		return "descending"
	}
	return "ascending"
}

// planStatusOptions are the choices of the status filter.
var planStatusOptions = []planOption{
	{"", "All statuses"},
	{string(store.StatusActive), store.StatusActive.Label()},
	{string(store.StatusExpired), store.StatusExpired.Label()},
	{string(store.StatusInactive), store.StatusInactive.Label()},
}

// planSortOptions are the choices of the sort field.
var planSortOptions = []planOption{
	{string(store.SortByStart), "Start date"},
	{string(store.SortByEnd), "End date"},
	{string(store.SortByCode), "Plan code"},
	{string(store.SortByUsage), "Usage"},
	{string(store.SortByAmount), "Plan amount"},
}

// planOption is a choice of a select: its value and what it says.
type planOption struct {
	Value, Label string
}

// durationAriaSort returns the aria-sort of the Duration header, sorted by
// either of its dates.
func durationAriaSort(s PlanSortLinks) string {
	if s.End.Active {
		return s.End.AriaSort()
	}
	return s.Start.AriaSort()
}

// usageAriaSort returns the aria-sort of the Usage header, sorted by usage or
// by plan amount.
func usageAriaSort(s PlanSortLinks) string {
	if s.Amount.Active {
		return s.Amount.AriaSort()
	}
	return s.Usage.AriaSort()
}
