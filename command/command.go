package command

import (
	"context"
	"errors"
	"time"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/viewcache"
	"github.com/idledger/idledger/secretbox"
	"github.com/idledger/idledger/upstream"
)

// IDGenerator hands out new object IDs (decimal snowflakes).
type IDGenerator interface {
	Next() (string, error)
}

// Deps are the collaborators of Commands.
type Deps struct {
	Store eventstore.Store
	IDs   IDGenerator
	Keys  *secretbox.Keyring
	Now   func() time.Time
	// Links finds, in the read tables, the aggregates that link an IdP; the
	// cascades of removing an IdP or a policy link confirm each one against
	// its own events before writing.
	Links LinkIndex
	// Members finds, in the read tables, where a user is a member; the
	// "credentials follow power" checks confirm each one against its own
	// events.
	Members MemberIndex
	// Upstream builds the IdP login adapters (package upstream); IdP
	// intents need it.
	Upstream *upstream.Registry
	// ExternalUsers finds the users linked to an external account (the
	// intent callback's "linked" answer).
	ExternalUsers ExternalUserIndex
	// LoginUsers finds the IdP login's auto-linking candidates and the
	// instance's default org (DecideIntentLogin).
	LoginUsers LoginUserIndex
	// Users finds users by login name in the read tables; the session's
	// user check confirms the one found against its own events.
	Users UserIndex
	// Clients finds the app of an OIDC or API client ID in the read tables
	// (CheckClientSecret).
	Clients ClientIndex
	// MaxPasswordAttempts is the lockout policy: a user is locked when this
	// many password checks in a row failed. 0, ZITADEL's default, never
	// locks (the rate limit on checks still applies).
	MaxPasswordAttempts uint64
	// SigningKeyRetention is how long a retired signing key stays in the
	// JWKS: the longest token lifetime. 0 is DefaultSigningKeyRetention.
	SigningKeyRetention time.Duration
	// Observe, when set, sees the outcome of every command that appended or
	// gave up (metrics count the Aborted ones).
	Observe func(error)
}

// Commands is the write side.
type Commands struct {
	store   eventstore.Store
	ids     IDGenerator
	keys    *secretbox.Keyring
	now     func() time.Time
	observe func(error)
	links   LinkIndex
	members MemberIndex
	// upstream and externalUsers serve IdP intents (intent.go).
	upstream      *upstream.Registry
	externalUsers ExternalUserIndex
	users         UserIndex
	clients       ClientIndex
	loginUsers    LoginUserIndex

	maxPasswordAttempts uint64
	signingKeyRetention time.Duration

	// idpLogins caches the IdP login templates of intents by IdP head
	// (intent.go).
	idpLogins *viewcache.Cache[idpLogin]
	policies  *policyModels // the login policies' write models (policy_model.go)
}

// New returns the write side.
func New(d Deps) *Commands {
	if d.SigningKeyRetention <= 0 {
		d.SigningKeyRetention = DefaultSigningKeyRetention
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Commands{store: d.Store, ids: d.IDs, keys: d.Keys, now: d.Now, observe: d.Observe, links: d.Links,
		members: d.Members, upstream: d.Upstream, externalUsers: d.ExternalUsers, users: d.Users, clients: d.Clients, loginUsers: d.LoginUsers,
		maxPasswordAttempts: d.MaxPasswordAttempts, signingKeyRetention: d.SigningKeyRetention,
		idpLogins: viewcache.New[idpLogin](idpLoginBudget), policies: &policyModels{}}
}

// Details describe the state of an object after a command, from its events:
// the sequence and time of its last event, the time of its first event, and
// its resource owner.
type Details struct {
	ID            string
	Sequence      uint64
	Created       time.Time
	Changed       time.Time
	ResourceOwner string
}

type metaKey struct{}

// Metadata is what a request tells about itself, recorded on every event
// it causes: who (Creator, a user ID; the caller's when empty), which
// request, and from where. Transports fill it; the client IP rule (trusted
// proxies) is theirs.
type Metadata struct {
	Creator   string
	RequestID string
	ClientIP  string
	UserAgent string
}

// WithMetadata returns ctx carrying the request metadata recorded on events.
func WithMetadata(ctx context.Context, m Metadata) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

func metadata(ctx context.Context) eventstore.Metadata {
	rm, _ := ctx.Value(metaKey{}).(Metadata)
	m := eventstore.Metadata{Creator: rm.Creator, RequestID: rm.RequestID, ClientIP: rm.ClientIP, UserAgent: rm.UserAgent}
	if m.Creator == "" {
		if c := authz.CallerFrom(ctx); c != nil {
			m.Creator = c.UserID
		}
	}
	if m.Creator == "" {
		m.Creator = "system"
	}
	return m
}

// executeOn is execute for a command decided on one write model: each
// attempt loads the model id of instanceID afresh with load and decides on
// it. It returns the model of the attempt that committed (or decided
// nothing), which the command's details are taken from.
func executeOn[M any](ctx context.Context, c *Commands, load func(ctx context.Context, instanceID, id string) (M, error),
	instanceID, id string, decide func(context.Context, M) (eventstore.Append, error)) (M, []eventstore.Event, error) {
	return executeOnPrefetched(ctx, c, nil, load, instanceID, id, decide)
}

// executeOnPrefetched is executeOn whose attempts first load reads in one
// round trip (Commands.prefetch): the model's own read and the others its
// decision makes, so loading what the decision needs is one round trip.
func executeOnPrefetched[M any](ctx context.Context, c *Commands, reads []read, load func(ctx context.Context, instanceID, id string) (M, error),
	instanceID, id string, decide func(context.Context, M) (eventstore.Append, error)) (M, []eventstore.Event, error) {
	var m M
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		var err error
		if len(reads) > 0 {
			if ctx, err = c.prefetch(ctx, reads...); err != nil {
				return eventstore.Append{}, err
			}
		}
		if m, err = load(ctx, instanceID, id); err != nil {
			return eventstore.Append{}, err
		}
		return decide(ctx, m)
	})
	return m, evs, err
}

// execute runs decide through the command runner, stamps the request
// metadata on the append, and maps store errors to domain errors.
func (c *Commands) execute(ctx context.Context, decide eventstore.Decide) ([]eventstore.Event, error) {
	meta := metadata(ctx)
	events, err := eventstore.Execute(ctx, c.store, eventstore.DefaultAttempts, func(ctx context.Context) (eventstore.Append, error) {
		a, err := decide(ctx)
		a.Meta = meta
		return a, err
	})
	if c.observe != nil {
		c.observe(err)
	}
	var ce *eventstore.ConstraintError
	if errors.As(err, &ce) {
		id, msg := ce.Constraint.ErrorID, ce.Constraint.Message
		if msg == "" {
			msg = "Errors.AlreadyExists"
		}
		return nil, errs.AlreadyExists(id, msg)
	}
	if err != nil {
		if _, ok := errs.As(err); ok {
			return nil, err
		}
		return nil, errs.Internal("COMMAND-Push1", err)
	}
	return events, nil
}

// caller returns the authenticated caller or Unauthenticated.
func caller(ctx context.Context) (*authz.Caller, error) {
	c := authz.CallerFrom(ctx)
	if c == nil {
		return nil, errs.Unauthenticated("AUTH-7fs1e", "auth header missing")
	}
	return c, nil
}
