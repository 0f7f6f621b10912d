package viewcache

import (
	"container/list"
	"sync"
	"time"
)

// Version names one version of a read-table row or of an aggregate: its
// instance and ID, and the sequence (and, for a row, the change date) the
// request has just read from the database. A value cached under a Version is
// served only to a request that read that very version, so it is never
// served after a newer write was acknowledged (read-your-writes, DESIGN.md
// §3): the cache is keyed by what the database answered, never by time.
type Version struct {
	Instance, ID string
	Sequence     uint64
	Changed      time.Time
}

// Cache holds values derived from one version of a row or an aggregate (a
// REST body, a protobuf message, a command's derived IdP login) by that
// Version, at most one version per row, in least recently used order,
// within a byte budget. Values must not be changed once put: they are
// shared by concurrent requests. A value that holds a secret (an opened IdP
// secret, an upstream's token) is the holder's to keep out of logs, with
// String and GoString of its own. Safe for concurrent use.
type Cache[V any] struct {
	mu    sync.Mutex
	max   int // byte budget
	used  int
	order *list.List // of *viewEntry[V], most recently used first
	rows  map[rowKey]*list.Element
}

type rowKey struct{ instance, id string }

type viewEntry[V any] struct {
	key      rowKey
	sequence uint64
	changed  time.Time
	value    V
	size     int
}

// viewOverhead approximates the bytes an entry costs beside its value: the
// map slot, the list element and the entry.
const viewOverhead = 160

// New returns a cache that holds at most maxBytes of values (as
// their sizes are given to Put, plus a fixed overhead per entry). A value
// larger than an eighth of the budget is not cached.
func New[V any](maxBytes int) *Cache[V] {
	return &Cache[V]{max: maxBytes, order: list.New(), rows: map[rowKey]*list.Element{}}
}

// Get returns the value cached for exactly version v.
func (c *Cache[V]) Get(v Version) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.rows[rowKey{v.Instance, v.ID}]; ok {
		e := el.Value.(*viewEntry[V])
		if e.sequence == v.Sequence && e.changed.Equal(v.Changed) {
			c.order.MoveToFront(el)
			return e.value, true
		}
	}
	var zero V
	return zero, false
}

// Put caches value, of about size bytes, for version v, replacing any other
// version of the row, and evicts the least recently used rows beyond the
// budget.
func (c *Cache[V]) Put(v Version, value V, size int) {
	size += viewOverhead
	if size > c.max/8 {
		return
	}
	k := rowKey{v.Instance, v.ID}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.rows[k]; ok {
		c.remove(el)
	}
	c.rows[k] = c.order.PushFront(&viewEntry[V]{key: k, sequence: v.Sequence, changed: v.Changed, value: value, size: size})
	c.used += size
	for c.used > c.max {
		c.remove(c.order.Back())
	}
}

// Remove drops the value cached for the row, whatever its version.
func (c *Cache[V]) Remove(instance, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.rows[rowKey{instance, id}]; ok {
		c.remove(el)
	}
}

// RemoveIf drops every value drop says must go.
func (c *Cache[V]) RemoveIf(drop func(V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		if drop(el.Value.(*viewEntry[V]).value) {
			c.remove(el)
		}
		el = next
	}
}

// Len is the number of rows cached.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.rows)
}

func (c *Cache[V]) remove(el *list.Element) {
	e := c.order.Remove(el).(*viewEntry[V])
	delete(c.rows, e.key)
	c.used -= e.size
}
