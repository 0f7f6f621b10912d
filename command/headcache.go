package command

import (
	"container/list"
	"sync"
)

// headCache holds one value per aggregate (instance and ID within one
// aggregate type), for the aggregate's head sequence it was derived from,
// in least recently used order within a byte budget. A value is served only
// for the very head a request has just read from the store: events up to a
// head never change, so the value is what deciding on them again would
// give, and any append moves the head on. Values must not be changed once
// put: concurrent requests share them. Safe for concurrent use.
type headCache[V any] struct {
	mu        sync.Mutex
	max, used int
	order     *list.List // of *headEntry[V], most recently used first
	rows      map[headKey]*list.Element
}

type headKey struct{ instance, id string }

type headEntry[V any] struct {
	key   headKey
	head  uint64
	value V
	size  int
}

// headOverhead approximates the bytes an entry costs beside its value: the
// map slot, the list element and the entry.
const headOverhead = 160

func newHeadCache[V any](maxBytes int) *headCache[V] {
	return &headCache[V]{max: maxBytes, order: list.New(), rows: map[headKey]*list.Element{}}
}

// get returns the value of k cached for exactly head. When drop says the
// entry must go (e.g. it expired), it is removed and not returned.
func (c *headCache[V]) get(k headKey, head uint64, drop func(V) bool) (V, bool) {
	var zero V
	if head == 0 {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.rows[k]
	if !ok {
		return zero, false
	}
	e := el.Value.(*headEntry[V])
	if drop != nil && drop(e.value) {
		c.remove(el)
		return zero, false
	}
	if e.head != head {
		return zero, false
	}
	c.order.MoveToFront(el)
	return e.value, true
}

// put caches value, of about size bytes, for head of k, replacing any other
// head of k; it evicts the least recently used beyond the budget. A value
// over an eighth of the budget is not cached. With sweep, every entry sweep
// says must go is removed first.
func (c *headCache[V]) put(k headKey, head uint64, value V, size int, sweep func(V) bool) {
	size += headOverhead
	if size > c.max/8 || head == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.rows[k]; ok {
		c.remove(el)
	}
	if sweep != nil {
		for el := c.order.Front(); el != nil; {
			next := el.Next()
			if sweep(el.Value.(*headEntry[V]).value) {
				c.remove(el)
			}
			el = next
		}
	}
	c.rows[k] = c.order.PushFront(&headEntry[V]{key: k, head: head, value: value, size: size})
	c.used += size
	for c.used > c.max {
		c.remove(c.order.Back())
	}
}

// len is the number of aggregates cached.
func (c *headCache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.rows)
}

func (c *headCache[V]) remove(el *list.Element) {
	e := c.order.Remove(el).(*headEntry[V])
	delete(c.rows, e.key)
	c.used -= e.size
}
