package web

import (
	"net/netip"
	"sync"
	"time"

	"github.com/billingplans/billingplans/store"
)

// limiter counts sign-in attempts per key (a client address, an email) in
// memory. Each key may fail max times in a window; the next attempt is refused
// for a window, and each further time the limit is hit the refusal doubles, up
// to maxBlock. A successful sign-in takes back its own attempt. One mutex guards
// a map, held for microseconds: pages of other users never wait on it.
type limiter struct {
	max      int
	window   time.Duration
	maxBlock time.Duration
	// maxKeys bounds memory: past it, keys that are not refused are forgotten.
	maxKeys int

	mu        sync.Mutex
	keys      map[string]*limitCount
	lastSweep time.Time
}

type limitCount struct {
	start   time.Time // of the current window
	count   int       // attempts in the window
	strikes int       // times the limit was hit, for the back-off
	until   time.Time // refused until then
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, maxBlock: time.Hour, maxKeys: 100_000, keys: make(map[string]*limitCount)}
}

// reserve counts an attempt against every key at now, and reports whether it
// may go ahead; when it may not, it returns how long until it may, and counts
// nothing.
func (l *limiter) reserve(now time.Time, keys ...string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	var wait time.Duration
	for _, k := range keys {
		e := l.keys[k]
		if e == nil {
			continue
		}
		if now.Sub(e.start) >= l.window && !now.Before(e.until) {
			e.start, e.count = now, 0
		}
		if now.Before(e.until) {
			wait = max(wait, e.until.Sub(now))
		} else if e.count >= l.max {
			e.strikes++
			block := l.window << min(e.strikes-1, 16)
			e.until = now.Add(min(block, l.maxBlock))
			wait = max(wait, e.until.Sub(now))
		}
	}
	if wait > 0 {
		return wait, false
	}
	for _, k := range keys {
		e := l.keys[k]
		if e == nil {
			e = &limitCount{start: now}
			l.keys[k] = e
		}
		e.count++
	}
	return 0, true
}

// succeed takes back the attempt reserve counted for keys, which succeeded.
func (l *limiter) succeed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if e := l.keys[k]; e != nil && e.count > 0 {
			e.count--
		}
	}
}

// sweep forgets keys quiet for maxBlock, once a window; and when there are
// more than maxKeys, every key that is not refused right now.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.window && len(l.keys) < l.maxKeys {
		return
	}
	l.lastSweep = now
	for k, e := range l.keys {
		if now.Sub(e.start) > l.maxBlock && now.Sub(e.until) > l.maxBlock {
			delete(l.keys, k)
		}
	}
	if len(l.keys) >= l.maxKeys {
		for k, e := range l.keys {
			if !now.Before(e.until) {
				delete(l.keys, k)
			}
		}
	}
}

// signInLimitKeys returns the keys a sign-in attempt counts against: the client
// address (an IPv6 client by its /64, which one machine usually has whole) and
// the email, cut to the longest an email may be so that a key stays small.
func signInLimitKeys(ip, email string) []string {
	if a, err := netip.ParseAddr(ip); err == nil && a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		ip = p.String()
	}
	email = store.NormalizeEmail(email)
	if len(email) > store.MaxEmailLength {
		email = email[:store.MaxEmailLength]
	}
	return []string{"ip " + ip, "email " + email}
}
