package store

import (
	"fmt"
	"sync"
)

// The plan list reads the same few pages again and again (the first page, the
// bookmarked filters), and the plans behind them change only when the ledger,
// a payment, a renewal or an import writes them, which bumps the account's
// plans_version. So the pages are cached, each with the version it was read
// at, and a page read at an older version is read again.
const (
	// planPageMaxLimit is the largest page that is cached: the list's pages
	// are cached, the CSV export's batches are not.
	planPageMaxLimit = 100
	// planPageCacheSize bounds the cache: 256 pages of 100 plans take about
	// 16 MB at most.
	planPageCacheSize = 256
)

// planPageKey is a page of an account's plans: the account and the filter,
// its paging and its day included.
type planPageKey struct {
	account int64
	filter  string
}

// key returns the filter as a string that differs whenever any of its fields
// does, so that every field (one added later too) is part of the cache key.
func (f PlanFilter) key() string { return fmt.Sprintf("%#v", f) }

// cachedPlanPage is a cached page: the plans, how many the filter selects in all,
// and the version of the account's plans they were read at.
type cachedPlanPage struct {
	version int64
	plans   []Plan
	total   int
}

// planPageCache holds at most planPageCacheSize pages. When it is full, an
// arbitrary page makes room: pages of old versions are never read again, and
// the pages in use are read again at once.
type planPageCache struct {
	mu    sync.Mutex
	pages map[planPageKey]cachedPlanPage
}

// get returns the page under key when it was read at version.
func (c *planPageCache) get(key planPageKey, version int64) (cachedPlanPage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pages[key]
	return p, ok && p.version == version
}

// put keeps page under key, unless a page of a newer version is there already
// (a slower reader that began before a change must not replace it).
func (c *planPageCache) put(key planPageKey, page cachedPlanPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.pages[key]; ok && old.version > page.version {
		return
	}
	if c.pages == nil {
		c.pages = make(map[planPageKey]cachedPlanPage)
	}
	if _, ok := c.pages[key]; !ok && len(c.pages) >= planPageCacheSize {
		for k := range c.pages {
			delete(c.pages, k)
			break
		}
	}
	c.pages[key] = page
}
