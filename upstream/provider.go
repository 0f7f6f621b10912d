package upstream

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/idledger/idledger/idp"
)

// Login says which IdP a login goes to and how the upstream reaches us
// back. Template holds the secrets in plaintext; it is never stored here
// beyond the bounded provider cache.
type Login struct {
	IDPID    string
	Sequence uint64 // the IdP's sequence: a changed template builds a new provider
	Template idp.Template
	// RedirectURI is the OAuth family's callback: {origin}/idps/callback.
	RedirectURI string
	// Origin is the instance's origin as the client addressed it
	// (http://host or https://host); the JWT family's default audience.
	Origin string
}

// Provider is one IdP's adapter of a browser-based family (OIDC, OAuth 2,
// JWT, SAML): Begin sends the browser to the upstream, Finish turns what it
// brought back into a Result. state is the intent ID the upstream returns.
type Provider interface {
	Begin(ctx context.Context, state string) (Start, error)
	Finish(ctx context.Context, saved map[string]string, cb Callback) (Result, error)
}

// PasswordProvider is the LDAP family: a synchronous login with the
// user's credentials.
type PasswordProvider interface {
	Login(ctx context.Context, username, password string) (Result, error)
}

// ErrNotImplemented is returned for a family whose adapter has not landed.
var ErrNotImplemented = errors.New("upstream: this IdP kind has no login adapter yet")

// Builder builds a family's provider; LDAP and SAML register theirs in
// Options.Families.
type Builder func(ctx context.Context, r *Registry, l Login) (any, error)

// Options configure a Registry.
type Options struct {
	// Client makes every upstream request; nil is a client with a 10 s
	// timeout. Tests route the fixed hosts (github.com, …) to loopback
	// through its transport. Every response body is cut at MaxBody.
	Client *http.Client
	// CacheSize bounds the providers kept (discovery, key sets); 0 is 256.
	CacheSize int
	// TTL is how long a built provider is kept (discovery is refreshed,
	// Apple's client secret renewed); 0 is an hour.
	TTL time.Duration
	Now func() time.Time
	// Families adds or replaces family builders (LDAP, SAML).
	Families map[idp.Family]Builder
}

// MaxBody bounds an upstream response body.
const MaxBody = 1 << 20

// Registry builds and caches the providers of IdPs, keyed by IdP ID,
// template sequence and redirect URI. It is safe for concurrent use.
type Registry struct {
	client   *http.Client
	size     int
	ttl      time.Duration
	now      func() time.Time
	families map[idp.Family]Builder

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	p       any
	expires time.Time
}

// New returns a registry.
func New(o Options) *Registry {
	c := o.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	bounded := *c
	bounded.Transport = limitBody{next: c.Transport}
	r := &Registry{client: &bounded, size: o.CacheSize, ttl: o.TTL, now: o.Now,
		families: map[idp.Family]Builder{
			idp.FamilyOIDC:  buildOIDC,
			idp.FamilyOAuth: buildOAuth,
			idp.FamilyJWT:   buildJWT,
			idp.FamilyLDAP:  buildLDAP,
			idp.FamilySAML:  buildSAML,
		}, cache: map[string]cached{}}
	if r.size <= 0 {
		r.size = 256
	}
	if r.ttl <= 0 {
		r.ttl = time.Hour
	}
	if r.now == nil {
		r.now = time.Now
	}
	for f, b := range o.Families {
		r.families[f] = b
	}
	return r
}

// Client is the bounded upstream HTTP client, for adapters.
func (r *Registry) Client() *http.Client { return r.client }

// Provider returns the browser-based provider of l, built once per key.
//
// Errors: ErrNotImplemented for a family without an adapter; the build's
// error (discovery failed, a bad key) otherwise.
func (r *Registry) Provider(ctx context.Context, l Login) (Provider, error) {
	return providerAs[Provider](ctx, r, l, "a browser login")
}

// PasswordProvider returns the LDAP provider of l.
func (r *Registry) PasswordProvider(ctx context.Context, l Login) (PasswordProvider, error) {
	return providerAs[PasswordProvider](ctx, r, l, "a password login")
}

// providerAs is l's provider as a T, the interface of what the caller
// does with it (what names it in the error).
func providerAs[T any](ctx context.Context, r *Registry, l Login, what string) (T, error) {
	var zero T
	p, err := r.get(ctx, l)
	if err != nil {
		return zero, err
	}
	t, ok := p.(T)
	if !ok {
		return zero, fmt.Errorf("upstream: kind %s is not %s", l.Template.Kind.Path, what)
	}
	return t, nil
}

func (r *Registry) get(ctx context.Context, l Login) (any, error) {
	build, ok := r.families[l.Template.Kind.Family]
	if !ok {
		return nil, ErrNotImplemented
	}
	key := fmt.Sprintf("%s\x00%d\x00%s\x00%s", l.IDPID, l.Sequence, l.RedirectURI, l.Origin)
	now := r.now()
	r.mu.Lock()
	if c, ok := r.cache[key]; ok && now.Before(c.expires) {
		r.mu.Unlock()
		return c.p, nil
	}
	r.mu.Unlock()
	p, err := build(ctx, r, l)
	if err != nil {
		return nil, err // failures are not cached: the next login retries
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Bounded: when full, drop entries in map order (random).
	for k := range r.cache {
		if len(r.cache) < r.size {
			break
		}
		delete(r.cache, k)
	}
	r.cache[key] = cached{p: p, expires: now.Add(r.ttl)}
	return p, nil
}

// limitBody cuts every upstream response body at MaxBody.
type limitBody struct{ next http.RoundTripper }

func (l limitBody) RoundTrip(req *http.Request) (*http.Response, error) {
	next := l.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err == nil {
		resp.Body = &limitedBody{ReadCloser: resp.Body, left: MaxBody}
	}
	return resp, err
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("upstream: response body over 1 MiB")
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// random returns n random bytes, base64url.
func random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("upstream: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// scopesOf are the template's scopes, else the kind's defaults, plus the
// kind's always-scopes.
func scopesOf(k idp.Kind, configured []string) []string {
	s := configured
	if len(s) == 0 {
		s = k.Endpoints.Scopes
	}
	out := append([]string(nil), s...)
	for _, a := range k.Endpoints.Always {
		found := false
		for _, x := range out {
			found = found || x == a
		}
		if !found {
			out = append(out, a)
		}
	}
	return out
}
