package store

import (
	"fmt"

	"github.com/billingplans/billingplans/store/cache"
)

// The plan list reads the same few pages again and again (the first page, the
// bookmarked filters), and the plans behind them change only when the ledger,
// a payment, a renewal or an import writes them, which bumps the account's
// plans_version. So the pages are cached, each with the version it was read
// at. A page of an older version whose plans_list_version still holds has the
// same plans in the same order, and only their rows are read again: usage,
// the change that comes every few seconds, moves what plans consumed, which
// no filter or sort but the sort by usage reads. Otherwise the page is
// selected afresh: for a deep page of a filter over 20,000 plans, counting
// and skipping cost ten times more than the rows.
const (
	// planPageMaxLimit is the largest page that is cached: the list's pages
	// are cached, the CSV export's batches are not.
	planPageMaxLimit = 100
	// planPageCacheSize bounds the cache: 256 pages of 100 plans take about
	// 16 MB at most.
	planPageCacheSize = 256
)

// PlanPage is a page of the plans a filter selects.
type PlanPage struct {
	// Plans are the page's plans, with their services.
	Plans []Plan
	// Total is the number of plans the filter selects in all.
	Total int
	// Summary is the account's summary cards on the filter's day, whatever
	// the filter, read in the same transaction as the page.
	Summary Summary
	// Version is the account's plans_version the page was read at: any change
	// to any of the account's plans makes a new version, so pages of the same
	// filter and version are the same page.
	Version int64
	// listVersion is the account's plans_list_version the page's plans and
	// Total were selected at (migration 0010).
	listVersion int64
}

// planPageKey is a page of an account's plans: the account and the filter,
// its paging and its day included.
type planPageKey struct {
	account int64
	filter  string
}

// key returns the filter as a string that differs whenever any of its fields
// does, so that every field (one added later too) is part of the cache key.
func (f PlanFilter) key() string { return fmt.Sprintf("%#v", f) }

// newPlanPageCache returns the cache of the plan list's pages.
func newPlanPageCache() *cache.Versioned[planPageKey, PlanPage] {
	return cache.New[planPageKey, PlanPage](planPageCacheSize)
}
