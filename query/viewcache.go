package query

import (
	"container/list"
	"sync"
	"time"
)

// Version names one version of a read-table row: the row's instance and ID,
// and the aggregate sequence and change date the request has just read from
// the database. A rendering cached under a Version is served only to a
// request that read that very version, so a view is never served after a
// newer write was acknowledged (read-your-writes, DESIGN.md §3): the cache
// is keyed by what the database answered, never by time.
type Version struct {
	Instance, ID string
	Sequence     uint64
	Changed      time.Time
}

// ViewCache holds renderings of read-table rows (a REST body, a protobuf
// message) by the row's Version, at most one version per row, in least
// recently used order, within a byte budget. Values must never hold a
// secret (the read tables hold none) and must not be changed once put:
// they are shared by concurrent requests. Safe for concurrent use.
type ViewCache[V any] struct {
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

// NewViewCache returns a cache that holds at most maxBytes of values (as
// their sizes are given to Put, plus a fixed overhead per entry). A value
// larger than an eighth of the budget is not cached.
func NewViewCache[V any](maxBytes int) *ViewCache[V] {
	return &ViewCache[V]{max: maxBytes, order: list.New(), rows: map[rowKey]*list.Element{}}
}

// Get returns the value cached for exactly version v.
func (c *ViewCache[V]) Get(v Version) (V, bool) {
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
func (c *ViewCache[V]) Put(v Version, value V, size int) {
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

// Len is the number of rows cached.
func (c *ViewCache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.rows)
}

func (c *ViewCache[V]) remove(el *list.Element) {
	e := c.order.Remove(el).(*viewEntry[V])
	delete(c.rows, e.key)
	c.used -= e.size
}
