package command

import (
	"context"
	"sync"
	"time"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/viewcache"
)

// IntentAnswers holds one transport's encoded answers to a retrieve of a
// succeeded intent (RetrieveIntentEncoded), at most one per intent, in least
// recently used order within a byte budget.
//
// An answer holds the upstream's tokens and the user's claims in clear, so
// it is kept only in this process's memory, for exactly the intent version
// (instance, intent, head sequence) the request has just read from the
// database, and only until the intent expires. It is served only to a
// request that read that version and brings the intent's token (checked
// against the stored hash, as on a miss). A consumed intent has a new head,
// so its answer is never served again. Never log an entry.
type IntentAnswers struct {
	cache *viewcache.Cache[intentAnswer] // by the intent's head
	mu    sync.Mutex
	swept time.Time
}

type intentAnswer struct {
	tokenHash string
	expiresAt time.Time
	body      []byte
}

// intentAnswerOverhead approximates the bytes an answer costs beside its
// body: the token hash and the expiry.
const intentAnswerOverhead = 96

// NewIntentAnswers returns a cache of at most maxBytes of answers. An answer
// larger than an eighth of the budget is not cached.
func NewIntentAnswers(maxBytes int) *IntentAnswers {
	return &IntentAnswers{cache: viewcache.New[intentAnswer](maxBytes)}
}

// String and GoString keep the answers (upstream tokens, claims) out of
// logs and %v.
func (c *IntentAnswers) String() string { return "command.IntentAnswers{[redacted]}" }

// GoString keeps the answers out of %#v.
func (c *IntentAnswers) GoString() string { return c.String() }

func (intentAnswer) String() string { return "command.intentAnswer{[redacted]}" }

func (a intentAnswer) GoString() string { return a.String() }

// Len is the number of intents whose answer is cached.
func (c *IntentAnswers) Len() int { return c.cache.Len() }

// get returns the answer cached for exactly head of intent id, unless it
// has expired at now (then it is dropped).
func (c *IntentAnswers) get(instance, id string, head uint64, now time.Time) (intentAnswer, bool) {
	a, ok := c.cache.Get(viewcache.Version{Instance: instance, ID: id, Sequence: head})
	if ok && !now.Before(a.expiresAt) {
		c.cache.Remove(instance, id)
		return intentAnswer{}, false
	}
	return a, ok
}

// put caches a for head of intent id and, once a minute, drops every
// expired answer, so none stays in memory long after its intent ended.
func (c *IntentAnswers) put(instance, id string, head uint64, a intentAnswer, now time.Time) {
	c.mu.Lock()
	sweep := now.Sub(c.swept) > time.Minute
	if sweep {
		c.swept = now
	}
	c.mu.Unlock()
	if sweep {
		c.cache.RemoveIf(func(a intentAnswer) bool { return !now.Before(a.expiresAt) })
	}
	c.cache.Put(viewcache.Version{Instance: instance, ID: id, Sequence: head}, a, len(a.body)+intentAnswerOverhead)
}

// RetrieveIntentEncoded is RetrieveIntent for a transport that writes the
// answer as encode renders it: the same checks in the same order, the same
// errors, the same single read of the intent's events. When answers holds
// the rendering for the head the read found, the token is checked against
// the hash the intent stored and the expiry against its time, and the
// cached bytes are returned without reducing the events, opening the
// sealed fields or encoding again. Otherwise the intent is decided as
// RetrieveIntent decides it, on the events already read, and its answer
// cached. The bytes returned are shared: do not change them.
func (c *Commands) RetrieveIntentEncoded(ctx context.Context, id, token string, answers *IntentAnswers, encode func(IntentInfo) ([]byte, error)) ([]byte, error) {
	cl, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := intentRequestLengths(retrieveIntentRequest, id, token); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errIntentTokenEmpty()
	}
	read := eventsOf(eventstore.AggregateRef{InstanceID: cl.InstanceID, Type: events.AggIDPIntent, ID: id})
	if ctx, err = c.prefetch(ctx, read); err != nil {
		return nil, err
	}
	now := c.now()
	head := lastSequence(read.load.Events)
	if a, ok := answers.get(cl.InstanceID, id, head, now); ok {
		// The events up to head are the ones the answer was decided on: the
		// intent had succeeded then, and nothing was appended since.
		if !intentTokenMatches(a.tokenHash, token) {
			return nil, errIntentToken()
		}
		return a.body, nil
	}
	m, info, err := c.retrieveIntent(ctx, cl.InstanceID, id, token)
	if err != nil {
		return nil, err
	}
	b, err := encode(info)
	if err != nil {
		return nil, err
	}
	answers.put(cl.InstanceID, id, head, intentAnswer{tokenHash: m.tokenHash, expiresAt: m.expiresAt, body: b}, now)
	return b, nil
}
