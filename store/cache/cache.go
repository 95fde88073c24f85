// Package cache keeps answers worked out from an account's data, each with
// the version of the data it was worked out at (accounts.plans_version, which
// triggers bump on every change to the account's plans). An answer is only
// given back for the version it was worked out at, so nothing is ever shown
// after the data behind it changed, and nothing has to be thrown away when
// it does: an answer of an old version is simply never asked for again.
package cache

import "sync"

// Versioned holds at most Size answers of type V under keys of type K, each
// with its version. Its zero value is not ready: use New. It is safe for
// concurrent use.
type Versioned[K comparable, V any] struct {
	size    int
	mu      sync.Mutex
	entries map[K]entry[V]
}

type entry[V any] struct {
	version int64
	value   V
}

// New returns an empty cache that holds at most size answers.
func New[K comparable, V any](size int) *Versioned[K, V] {
	return &Versioned[K, V]{size: max(size, 1), entries: make(map[K]entry[V], size)}
}

// Get returns the answer under key when it was worked out at version.
func (c *Versioned[K, V]) Get(key K, version int64) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.version != version {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Latest returns the answer under key whatever its version, with the version
// it was worked out at: for a caller that can tell whether an older answer
// still holds in part.
func (c *Versioned[K, V]) Latest(key K) (V, int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	return e.value, e.version, ok
}

// Put keeps value under key as worked out at version, unless an answer of a
// newer version is there already: a slow reader that began before a change
// must not replace the answer of a faster one that began after it. When the
// cache is full, an arbitrary answer makes room: answers of old versions are
// never asked for again, and those in use are worked out again at once.
func (c *Versioned[K, V]) Put(key K, version int64, value V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.entries[key]
	if ok && old.version > version {
		return
	}
	if !ok && len(c.entries) >= c.size {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = entry[V]{version, value}
}

// Len returns how many answers the cache holds.
func (c *Versioned[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
