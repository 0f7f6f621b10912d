package oidc

import (
	"sync"
	"time"
)

// maxReplayEntries bounds the replay cache. Only verified assertions enter
// it, so filling it takes a key; when it is full of unexpired entries, a
// new assertion is accepted without being remembered.
const maxReplayEntries = 100_000

// replayCache makes client assertions single-use within this process: it
// remembers the jti of each accepted assertion (per instance and client)
// until the assertion expires. Replicas do not share it.
type replayCache struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// firstUse reports whether jti of client iss in instance is new, and
// remembers it until exp under the key it returns (forget releases it).
// An assertion without a jti cannot be tracked and counts as new.
func (c *replayCache) firstUse(instance, iss, jti string, exp time.Time) (string, bool) {
	if jti == "" {
		return "", true
	}
	key := instance + "\x00" + iss + "\x00" + jti
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]time.Time{}
	}
	if t, ok := c.seen[key]; ok && t.After(now) {
		return "", false
	}
	if len(c.seen) >= maxReplayEntries {
		for k, t := range c.seen {
			if !t.After(now) {
				delete(c.seen, k)
			}
		}
		if len(c.seen) >= maxReplayEntries {
			return "", true
		}
	}
	// The library accepts an exp up to a second in the past.
	c.seen[key] = exp.Add(time.Second)
	return key, true
}

// forget releases key (a no-op for ""): the assertion may be used again.
func (c *replayCache) forget(key string) {
	if key == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.seen, key)
}
