package viewcache

import (
	"testing"
	"time"
)

func TestViewCacheServesOnlyTheVersionRead(t *testing.T) {
	c := New[string](1 << 20)
	t0 := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	v1 := Version{Instance: "i", ID: "a", Sequence: 1, Changed: t0}
	if _, ok := c.Get(v1); ok {
		t.Fatal("hit in an empty cache")
	}
	c.Put(v1, "one", 3)
	if got, ok := c.Get(v1); !ok || got != "one" {
		t.Fatalf("Get(v1) = %q, %v", got, ok)
	}
	// A newer write: the sequence or the change date the request read differ.
	for _, v := range []Version{
		{Instance: "i", ID: "a", Sequence: 2, Changed: t0},
		{Instance: "i", ID: "a", Sequence: 1, Changed: t0.Add(time.Microsecond)},
		{Instance: "other", ID: "a", Sequence: 1, Changed: t0},
		{Instance: "i", ID: "b", Sequence: 1, Changed: t0},
	} {
		if got, ok := c.Get(v); ok {
			t.Fatalf("Get(%+v) served %q, cached for %+v", v, got, v1)
		}
	}
	// The same instant in another location is the same version.
	if _, ok := c.Get(Version{Instance: "i", ID: "a", Sequence: 1, Changed: t0.In(time.FixedZone("x", 3600))}); !ok {
		t.Fatal("miss for the same change date in another zone")
	}
	// A new version replaces the old one: one entry per row.
	v2 := Version{Instance: "i", ID: "a", Sequence: 2, Changed: t0.Add(time.Second)}
	c.Put(v2, "two", 3)
	if _, ok := c.Get(v1); ok {
		t.Fatal("the old version is still served")
	}
	if got, ok := c.Get(v2); !ok || got != "two" || c.Len() != 1 {
		t.Fatalf("Get(v2) = %q, %v with %d rows", got, ok, c.Len())
	}
}

func TestViewCacheBudget(t *testing.T) {
	const size = 1000
	c := New[[]byte](10 * (size + viewOverhead))
	v := func(id string) Version { return Version{Instance: "i", ID: id, Sequence: 1} }
	for i := range 10 {
		c.Put(v(string(rune('a'+i))), make([]byte, size), size)
	}
	if c.Len() != 10 {
		t.Fatalf("%d rows cached, want 10", c.Len())
	}
	c.Get(v("a")) // a is now the most recently used; b the least
	c.Put(v("k"), make([]byte, size), size)
	if _, ok := c.Get(v("b")); ok {
		t.Fatal("the least recently used row was kept beyond the budget")
	}
	for _, id := range []string{"a", "c", "k"} {
		if _, ok := c.Get(v(id)); !ok {
			t.Fatalf("%s evicted", id)
		}
	}
	if c.used > c.max {
		t.Fatalf("used %d of %d", c.used, c.max)
	}
	// A value larger than an eighth of the budget is not cached at all.
	c.Put(v("big"), nil, c.max/8)
	if _, ok := c.Get(v("big")); ok || c.Len() != 10 {
		t.Fatalf("an oversized value was cached (%d rows)", c.Len())
	}
}
