package query

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// AuthCacheTTL bounds how long a token lookup is served from memory. Events
// invalidate entries at once (InvalidateAuth); the TTL is the safety net for
// a replica whose subscription lags or dropped.
const AuthCacheTTL = 10 * time.Second

// errTokenInvalid is the answer for every token that does not authenticate:
// unknown, expired, revoked, of a removed user or of another instance.
func errTokenInvalid() error { return errs.Unauthenticated("AUTH-7fs1e", "Errors.Token.Invalid") }

// authEntry is a cached token lookup: the caller without a context org.
type authEntry struct {
	caller     authz.Caller
	tokenID    string
	expiration time.Time // zero: never
	fetched    time.Time
}

// authCache maps token hash (SHA-256, the bytes of events.PATHash's hex)
// → caller snapshot, and domain → instance ID.
type authCache struct {
	mu        sync.Mutex
	tokens    map[[sha256.Size]byte]*authEntry
	instances map[string]string
	// orgs holds orgs found to exist ("instance\x00org" → when): only
	// positive answers, so a new org is seen at once; an org.removed event
	// clears them all, and the TTL bounds a lagging subscription.
	orgs map[string]time.Time
	// gen counts invalidations, so that a lookup that raced with one does
	// not put a stale snapshot back.
	gen uint64
}

func (q *Queries) auth() *authCache { return q.cache }

func newAuthCache() *authCache {
	return &authCache{tokens: map[[sha256.Size]byte]*authEntry{}, instances: map[string]string{}, orgs: map[string]time.Time{}}
}

// InstanceByHost returns the ID of the instance answering to host (port and
// IPv6 brackets already stripped, any case).
//
// Errors: NotFound QUERY-InstNF "Instance not found".
func (q *Queries) InstanceByHost(ctx context.Context, host string) (string, error) {
	c := q.auth()
	c.mu.Lock()
	id, ok := c.instances[host]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	if !storableText(host) {
		return "", errs.NotFound("QUERY-InstNF", "Instance not found")
	}
	err := q.pool.QueryRow(ctx, `SELECT instance_id FROM instance_domains WHERE domain = $1`, host).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errs.NotFound("QUERY-InstNF", "Instance not found")
	}
	if err != nil {
		return "", errs.Internal("QUERY-Inst01", fmt.Errorf("instance by host: %w", err))
	}
	// Domains are never released, so a found one may be cached for good.
	c.mu.Lock()
	c.instances[host] = id
	c.mu.Unlock()
	return id, nil
}

// CallerByToken authenticates a personal access token in an instance and
// returns its caller, with the memberships of the token's user and OrgID
// set to the user's org. The token is looked up by its SHA-256, so no
// comparison of secret bytes can leak timing.
//
// Errors: Unauthenticated AUTH-7fs1e "Errors.Token.Invalid" for an unknown,
// expired or revoked token, a removed user, or a token of another instance.
func (q *Queries) CallerByToken(ctx context.Context, instanceID, token string) (*authz.Caller, error) {
	// The cache is keyed by the hash's bytes: every authenticated request
	// passes here, and the hex form is needed only to look the token up.
	hash := patHashKey(token)
	c := q.auth()
	now := time.Now()
	c.mu.Lock()
	e, ok := c.tokens[hash]
	gen := c.gen
	c.mu.Unlock()
	if !ok || now.Sub(e.fetched) > AuthCacheTTL {
		var err error
		if e, err = q.loadToken(ctx, events.PATHash(token)); err != nil {
			if ok && errs.KindOf(err) == errs.KindUnauthenticated {
				c.mu.Lock()
				delete(c.tokens, hash)
				c.mu.Unlock()
			}
			return nil, err
		}
		e.fetched = now
		c.mu.Lock()
		if c.gen == gen {
			c.tokens[hash] = e
		}
		c.mu.Unlock()
	}
	if e.caller.InstanceID != instanceID || (!e.expiration.IsZero() && !now.Before(e.expiration)) {
		return nil, errTokenInvalid()
	}
	cl := e.caller
	cl.Memberships = append([]authz.Membership(nil), e.caller.Memberships...)
	return &cl, nil
}

// patHashKey is the SHA-256 of token, whose hex is events.PATHash(token).
// Tokens up to 256 bytes are hashed from a buffer on the stack.
func patHashKey(token string) [sha256.Size]byte {
	var buf [256]byte
	if len(token) > len(buf) {
		return sha256.Sum256([]byte(token))
	}
	return sha256.Sum256(append(buf[:0], token...))
}

// loadToken reads a token's user and memberships. Unknown tokens are not
// cached: random guesses must not grow memory.
func (q *Queries) loadToken(ctx context.Context, hash string) (*authEntry, error) {
	var e authEntry
	var exp *time.Time
	err := q.pool.QueryRow(ctx, `SELECT p.instance_id, p.user_id, p.token_id, p.expiration, u.org_id
        FROM pats p JOIN users u ON u.instance_id = p.instance_id AND u.id = p.user_id
        WHERE p.token_hash = $1`, hash).Scan(&e.caller.InstanceID, &e.caller.UserID, &e.tokenID, &exp, &e.caller.UserOrgID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errTokenInvalid()
	}
	if err != nil {
		return nil, errs.Internal("QUERY-Tok01", fmt.Errorf("token lookup: %w", err))
	}
	if exp != nil {
		e.expiration = *exp
	}
	e.caller.OrgID = e.caller.UserOrgID
	if e.caller.Memberships, err = q.memberships(ctx, e.caller.InstanceID, e.caller.UserID); err != nil {
		return nil, err
	}
	return &e, nil
}

func (q *Queries) memberships(ctx context.Context, instanceID, userID string) ([]authz.Membership, error) {
	rows, err := q.pool.Query(ctx, `SELECT org_id, roles FROM members WHERE instance_id = $1 AND user_id = $2 ORDER BY org_id`,
		instanceID, userID)
	if err != nil {
		return nil, errs.Internal("QUERY-Tok02", fmt.Errorf("memberships: %w", err))
	}
	defer rows.Close()
	var out []authz.Membership
	for rows.Next() {
		var m authz.Membership
		if err := rows.Scan(&m.OrgID, &m.Roles); err != nil {
			return nil, errs.Internal("QUERY-Tok03", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal("QUERY-Tok04", err)
	}
	return out, nil
}

// CallerOfUser returns the caller that user userID of instanceID is, with
// its memberships and OrgID set to its org: the caller of an OpenID
// Provider access token, which the OP has verified. A removed user is no
// caller.
//
// Errors: Unauthenticated AUTH-7fs1e for an unknown or removed user;
// Internal on a database error.
func (q *Queries) CallerOfUser(ctx context.Context, instanceID, userID string) (*authz.Caller, error) {
	if !storableText(userID) {
		return nil, errTokenInvalid()
	}
	cl := &authz.Caller{InstanceID: instanceID, UserID: userID}
	err := q.pool.QueryRow(ctx, `SELECT org_id FROM users WHERE instance_id = $1 AND id = $2`, instanceID, userID).Scan(&cl.UserOrgID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errTokenInvalid()
	}
	if err != nil {
		return nil, errs.Internal("QUERY-Tok05", fmt.Errorf("token user: %w", err))
	}
	cl.OrgID = cl.UserOrgID
	if cl.Memberships, err = q.memberships(ctx, instanceID, userID); err != nil {
		return nil, err
	}
	return cl, nil
}

// maxCachedOrgs bounds the org cache; past it the cache starts over.
const maxCachedOrgs = 100_000

// OrgExists reports whether org orgID exists in the instance. Every
// org-scoped request asks (x-zitadel-orgid), so an org found is remembered
// for AuthCacheTTL, or until an org.removed event (InvalidateAuth); an org
// not found is asked again next time, so one created a moment ago, on any
// replica, is found at once.
//
// Errors: Internal only.
func (q *Queries) OrgExists(ctx context.Context, instanceID, orgID string) (bool, error) {
	if !storableText(orgID) {
		return false, nil
	}
	c, key, now := q.auth(), instanceID+"\x00"+orgID, time.Now()
	c.mu.Lock()
	at, hit := c.orgs[key]
	gen := c.gen
	c.mu.Unlock()
	if hit && now.Sub(at) <= AuthCacheTTL {
		return true, nil
	}
	var ok bool
	err := q.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orgs WHERE instance_id = $1 AND id = $2)`,
		instanceID, orgID).Scan(&ok)
	if err != nil {
		return false, errs.Internal("QUERY-Org01", fmt.Errorf("org exists: %w", err))
	}
	c.mu.Lock()
	switch {
	case !ok:
		delete(c.orgs, key)
	case c.gen == gen:
		if len(c.orgs) >= maxCachedOrgs {
			clear(c.orgs)
		}
		c.orgs[key] = now
	}
	c.mu.Unlock()
	return ok, nil
}

// HasInstance reports whether any instance exists.
//
// Errors: Internal only.
func (q *Queries) HasInstance(ctx context.Context) (bool, error) {
	var ok bool
	if err := q.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM instances)`).Scan(&ok); err != nil {
		return false, errs.Internal("QUERY-Inst02", fmt.Errorf("any instance: %w", err))
	}
	return ok, nil
}

// AuthEventTypes are the event type prefixes that change who a token
// authenticates as, or with which roles. The app subscribes to them and
// passes each to InvalidateAuth.
var AuthEventTypes = []string{events.UserRemoved, events.UserPATRemoved,
	events.AggInstance + ".member.", events.AggOrg + ".member.", events.OrgRemoved}

// InvalidateAuth drops the cached lookups that e may have made stale, so a
// removed user, revoked token or changed membership takes effect at once.
// Every replica calls it from its event subscription; the replica that
// wrote the event also calls it right after the write.
func (q *Queries) InvalidateAuth(e *eventstore.Event) {
	c := q.auth()
	userID := ""
	switch {
	case e.Type == events.UserRemoved || e.Type == events.UserPATRemoved:
		userID = e.AggregateID
	case e.Type == events.OrgRemoved:
	default:
		var p events.MemberPayload
		if err := e.Unmarshal(&p); err == nil {
			userID = p.UserID
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if e.Type == events.OrgRemoved {
		clear(c.orgs)
	}
	if userID == "" {
		clear(c.tokens) // rare and broad: start over
		return
	}
	for h, t := range c.tokens {
		if t == nil || (t.caller.InstanceID == e.InstanceID && t.caller.UserID == userID) {
			delete(c.tokens, h)
		}
	}
}

// InvalidateUser drops the cached lookups of one user's tokens; the handler
// that removed the user or changed its roles calls it.
func (q *Queries) InvalidateUser(instanceID, userID string) {
	q.InvalidateAuth(&eventstore.Event{Type: events.UserRemoved, InstanceID: instanceID, AggregateID: userID})
}

// storableText reports whether s can be a PostgreSQL text value: valid
// UTF-8 without NUL. Other text names nothing stored, and sending it would
// fail the query (a 500 for what is bad input).
func storableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// MembershipOrgs returns where user userID is a member, from the inline
// members table: org IDs, and "" for the instance.
//
// Errors: Internal.
func (q *Queries) MembershipOrgs(ctx context.Context, instanceID, userID string) ([]string, error) {
	rows, err := q.pool.Query(ctx, `SELECT org_id FROM members WHERE instance_id = $1 AND user_id = $2 ORDER BY org_id`,
		instanceID, userID)
	if err != nil {
		return nil, errs.Internal("QUERY-Mem01", fmt.Errorf("memberships of %s: %w", userID, err))
	}
	orgs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, errs.Internal("QUERY-Mem02", err)
	}
	return orgs, nil
}
