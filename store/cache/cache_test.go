package cache

import (
	"fmt"
	"sync"
	"testing"
)

func TestGetGivesAnAnswerOnlyForItsVersion(t *testing.T) {
	c := New[string, string](4)
	if _, ok := c.Get("acme", 1); ok {
		t.Fatal("an empty cache gave an answer")
	}
	c.Put("acme", 1, "cards at 1")
	if got, ok := c.Get("acme", 1); !ok || got != "cards at 1" {
		t.Errorf("Get(acme, 1) = %q, %v; want the answer put", got, ok)
	}
	if got, ok := c.Get("acme", 2); ok {
		t.Errorf("Get(acme, 2) = %q: an answer of version 1 given for version 2", got)
	}
	if got, ok := c.Get("globex", 1); ok {
		t.Errorf("Get(globex, 1) = %q: another key's answer", got)
	}
}

func TestPutNeverReplacesANewerAnswer(t *testing.T) {
	c := New[string, string](4)
	c.Put("acme", 5, "new")
	c.Put("acme", 4, "old, from a slow reader")
	if got, ok := c.Get("acme", 5); !ok || got != "new" {
		t.Errorf("Get(acme, 5) = %q, %v; want new", got, ok)
	}
	if _, ok := c.Get("acme", 4); ok {
		t.Error("the older answer replaced the newer one")
	}
	c.Put("acme", 6, "newer")
	if got, ok := c.Get("acme", 6); !ok || got != "newer" {
		t.Errorf("Get(acme, 6) = %q, %v; want newer", got, ok)
	}
}

func TestTheCacheNeverHoldsMoreThanItsSize(t *testing.T) {
	c := New[int, int](3)
	for i := range 10 {
		c.Put(i, 1, i)
		if c.Len() > 3 {
			t.Fatalf("after %d answers the cache holds %d, more than its size 3", i+1, c.Len())
		}
	}
	if _, ok := c.Get(9, 1); !ok {
		t.Error("the answer put last was let go")
	}
}

// TestConcurrentUse is for the race detector: readers and writers at once.
func TestConcurrentUse(t *testing.T) {
	c := New[string, int](8)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				key := fmt.Sprint(i % 16)
				c.Put(key, int64(i), w)
				c.Get(key, int64(i))
			}
		}()
	}
	wg.Wait()
	if c.Len() > 8 {
		t.Errorf("the cache holds %d, more than its size 8", c.Len())
	}
}

func TestLatestGivesTheAnswerOfAnyVersion(t *testing.T) {
	c := New[string, string](4)
	if _, _, ok := c.Latest("acme"); ok {
		t.Fatal("an empty cache gave an answer")
	}
	c.Put("acme", 3, "page at 3")
	if got, v, ok := c.Latest("acme"); !ok || got != "page at 3" || v != 3 {
		t.Errorf("Latest(acme) = %q, %d, %v; want the page at 3", got, v, ok)
	}
}
