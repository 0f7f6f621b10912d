package command

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/internal/viewcache"
	"github.com/idledger/idledger/secretbox"
	"github.com/idledger/idledger/upstream"
)

// IdP intents: an IdP login in progress (ZITADEL's StartIdentityProviderIntent,
// its callbacks and RetrieveIdentityProviderIntent). Better than ZITADEL:
// a started intent ends after StartedIntentLifetime; the intent token is
// random and stored only as its hash; the PKCE verifier, the nonce, the
// upstream's tokens and the mapped user are sealed in the events; the
// session check consumes an intent once, atomically (optimistic
// concurrency on the intent's stream).

const (
	// StartedIntentLifetime ends a started intent whose callback never came.
	StartedIntentLifetime = 10 * time.Minute
	// MaxIntentLifetime ends a succeeded intent (ZITADEL's
	// MaxIdPIntentLifetime), or earlier when the upstream's session ends.
	MaxIntentLifetime = time.Hour
	// CallbackPath is where the OAuth family's upstreams send the browser.
	CallbackPath = "/idps/callback"
)

// ExternalUserIndex finds, in the read tables, the users linked to an
// external account; the callback counts the user as linked only when
// exactly one is.
type ExternalUserIndex interface {
	UsersByIDPLink(ctx context.Context, instanceID, idpID, externalUserID string) ([]string, error)
}

// IntentURLs are where the browser goes after the upstream login.
type IntentURLs struct{ Success, Failure string }

// LDAPCredentials are an LDAP login's username and password.
type LDAPCredentials struct{ Username, Password string }

// StartIntentInput is StartIdentityProviderIntent's typed input: the IdP
// and either the redirect URLs or LDAP credentials. Origin is the
// instance's origin as the client addressed it (http://host or, with
// --external-secure, https://host): the callback URL's base.
type StartIntentInput struct {
	IDPID  string
	URLs   *IntentURLs
	LDAP   *LDAPCredentials
	Origin string
}

// IntentStart is how a login continues: a redirect (AuthURL), a form to
// post (Form, SAML's POST binding), or, for LDAP, done at once (Token and
// UserID).
type IntentStart struct {
	Details Details // ID is the intent ID; ResourceOwner the instance
	AuthURL string
	Form    *upstream.Form
	Token   string
	UserID  string
}

// errIntentNotExisting is the message of an unknown IdP at Start.
const errIntentIDPNotExisting = "Errors.IDPConfig.NotExisting"

// StartIntent starts an IdP login for the caller's instance. The intent
// ID is the upstream's state.
//
// Errors, in order: Unauthenticated; InvalidArgument (PGV message) for an
// IdP ID that is empty or over 200 runes; Unimplemented USERv2-S2g21
// without URLs or LDAP credentials; InvalidArgument COMMAND-x8j3bk /
// COMMAND-x8j4bk for a success / failure URL that is not an absolute http
// or https URL of at most 2048 characters; InvalidArgument COMMAND-TrD03 /
// COMMAND-TrD04 for a success / failure URL whose host is neither the
// instance's (in.Origin's) nor one of its trusted domains, when it has
// any (trusted_domain.go); FailedPrecondition
// COMMAND-as02jin for an unknown IdP; InvalidArgument IDP-9a02j2n2bh for
// LDAP credentials to a non-LDAP IdP (or URLs to an LDAP one);
// Unimplemented IDP-7rPBbls4Zn for a kind without an adapter; InvalidArgument
// COMMAND-nzun2i when the LDAP login fails; Internal IDP-Up1 when the
// upstream cannot be reached (discovery).
func (c *Commands) StartIntent(ctx context.Context, in StartIntentInput) (IntentStart, error) {
	cl, err := caller(ctx)
	if err != nil {
		return IntentStart{}, err
	}
	if err := pgvLength("StartIdentityProviderIntentRequest.IdpId", in.IDPID, 1, 200); err != nil {
		return IntentStart{}, err
	}
	if in.URLs == nil && in.LDAP == nil {
		return IntentStart{}, errs.Unimplemented("USERv2-S2g21", "auth type not implemented")
	}
	if in.URLs != nil {
		if !redirectURL(in.URLs.Success) {
			return IntentStart{}, errs.InvalidArgument("COMMAND-x8j3bk", "Errors.Intent.SuccessURLMissing")
		}
		if !redirectURL(in.URLs.Failure) {
			return IntentStart{}, errs.InvalidArgument("COMMAND-x8j4bk", "Errors.Intent.FailureURLMissing")
		}
	}
	// The IdP and the instance's trusted domains load in one round trip.
	reads := []read{eventsOf(eventstore.AggregateRef{InstanceID: cl.InstanceID, Type: events.AggIDP, ID: in.IDPID})}
	if in.URLs != nil {
		reads = append(reads, typesOf(eventstore.AggregateRef{InstanceID: cl.InstanceID, Type: events.AggInstance, ID: cl.InstanceID}, trustedDomainTypes))
	}
	if ctx, err = c.prefetch(ctx, reads...); err != nil {
		return IntentStart{}, err
	}
	if in.URLs != nil {
		if err := c.checkIntentURLs(ctx, cl.InstanceID, in.Origin, *in.URLs); err != nil {
			return IntentStart{}, err
		}
	}
	login, err := c.intentLogin(ctx, cl.InstanceID, in.IDPID, in.Origin)
	if err != nil {
		return IntentStart{}, err
	}
	isLDAP := login.Template.Kind.Family == idp.FamilyLDAP
	if (in.LDAP != nil) != isLDAP {
		return IntentStart{}, errs.InvalidArgument("IDP-9a02j2n2bh", "Errors.Intent.IDPInvalid")
	}
	id, err := c.ids.Next()
	if err != nil {
		return IntentStart{}, errs.Internal("COMMAND-Int01", fmt.Errorf("new intent id: %w", err))
	}
	if isLDAP {
		return c.startLDAP(ctx, cl.InstanceID, id, login, *in.LDAP)
	}
	p, err := c.upstream.Provider(ctx, login)
	if err != nil {
		return IntentStart{}, upstreamErr(err)
	}
	st, err := p.Begin(ctx, id)
	if err != nil {
		return IntentStart{}, upstreamErr(err)
	}
	started, err := c.startedEvent(cl.InstanceID, id, in.IDPID, in.URLs, st.Saved)
	if err != nil {
		return IntentStart{}, err
	}
	evs, err := c.execute(ctx, func(context.Context) (eventstore.Append, error) {
		return intentAppend(cl.InstanceID, id, 0, started), nil
	})
	if err != nil {
		return IntentStart{}, err
	}
	return IntentStart{Details: aggregateDetails(evs, intentRef(cl.InstanceID, id), time.Time{}), AuthURL: st.AuthURL, Form: st.Form}, nil
}

// startLDAP runs LDAP's synchronous login: started and, at once, succeeded
// or failed, in one append.
func (c *Commands) startLDAP(ctx context.Context, instanceID, id string, login upstream.Login, cred LDAPCredentials) (IntentStart, error) {
	if err := pgvLength("LDAPCredentials.Username", cred.Username, 1, 200); err != nil {
		return IntentStart{}, err
	}
	if err := pgvLength("LDAPCredentials.Password", cred.Password, 1, 200); err != nil {
		return IntentStart{}, err
	}
	p, err := c.upstream.PasswordProvider(ctx, login)
	if err != nil {
		return IntentStart{}, upstreamErr(err)
	}
	started, err := c.startedEvent(instanceID, id, login.IDPID, nil, nil)
	if err != nil {
		return IntentStart{}, err
	}
	res, loginErr := p.Login(ctx, cred.Username, cred.Password)
	var second eventstore.PendingEvent
	token := ""
	if loginErr != nil {
		// The reason names the error, never its cause: which step failed
		// (no entry, two entries, a refused bind) is for the server log.
		second = eventstore.PendingEvent{Type: events.IDPIntentFailed, Payload: events.IDPIntentFailedPayload{Reason: truncate(publicReason(loginErr), 500)}}
	} else {
		userID, err := c.linkedUser(ctx, instanceID, login.IDPID, res.User.ID)
		if err != nil {
			return IntentStart{}, err
		}
		if second, token, err = c.ldapSucceeded(instanceID, id, userID, res); err != nil {
			return IntentStart{}, err
		}
	}
	evs, err := c.execute(ctx, func(context.Context) (eventstore.Append, error) {
		return intentAppend(instanceID, id, 0, started, second), nil
	})
	if err != nil {
		return IntentStart{}, err
	}
	if loginErr != nil {
		return IntentStart{}, errs.InvalidArgument("COMMAND-nzun2i", "Errors.User.ExternalIDP.LoginFailed")
	}
	d := aggregateDetails(evs, intentRef(instanceID, id), time.Time{})
	p2, _ := second.Payload.(events.IDPIntentLDAPSucceededPayload)
	return IntentStart{Details: d, Token: token, UserID: p2.UserID}, nil
}

// intentLogin loads IdP idpID of the instance and opens its secrets: the
// upstream login's input.
func (c *Commands) intentLogin(ctx context.Context, instanceID, idpID, origin string) (upstream.Login, error) {
	ref := eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggIDP, ID: idpID}
	evs, head, err := c.events(ctx, ref, nil)
	if err != nil {
		return upstream.Login{}, internalErr("COMMAND-IdpL1", fmt.Errorf("load %s: %w", ref, err))
	}
	ver := viewcache.Version{Instance: instanceID, ID: idpID, Sequence: head}
	l, ok := c.idpLogins.Get(ver)
	if !ok {
		m := &idpModel{aggregate: aggregate{ref: ref}}
		if err := fold(m, evs, head, loadErrs{read: "COMMAND-IdpL1", reduce: "COMMAND-IdpL2"}); err != nil {
			return upstream.Login{}, err
		}
		if !m.Exists || m.Kind.New == nil || m.Config == nil {
			return upstream.Login{}, errs.FailedPrecondition("COMMAND-as02jin", errIntentIDPNotExisting)
		}
		cfg := idp.Clone(m.Config)
		for _, sec := range idp.Secrets(cfg) {
			if *sec.Value == "" {
				continue
			}
			sealed, err := secretbox.ParseSealed(*sec.Value)
			if err == nil && c.keys != nil {
				*sec.Value, err = c.keys.Open(sealed, secretbox.AAD{InstanceID: instanceID, IDPID: idpID, Field: sec.Field})
			}
			if err != nil {
				return upstream.Login{}, errs.Internal("COMMAND-Int02", fmt.Errorf("open idp secret %s: %w", sec.Field, err))
			}
		}
		l = idpLogin{sequence: m.Sequence, template: idp.Template{Kind: m.Kind, Name: m.Name, Options: m.Options, Config: cfg}}
		size := 0
		for i := range evs {
			size += len(evs[i].Payload) // the config and options as stored: about their size in memory
		}
		c.idpLogins.Put(ver, l, size)
	}
	if c.upstream == nil {
		return upstream.Login{}, errs.Internal("COMMAND-Int03", errors.New("no upstream registry configured (command.Deps.Upstream)"))
	}
	origin = strings.TrimSuffix(origin, "/")
	tpl := l.template
	tpl.Config = idp.Clone(tpl.Config) // each login its own copy: the cached one is shared
	return upstream.Login{IDPID: idpID, Sequence: l.sequence, Origin: origin, RedirectURI: origin + CallbackPath, Template: tpl}, nil
}

// idpLogin is what intentLogin derives from an IdP's events, cached by the
// IdP's head (Commands.idpLogins): its template with the secrets opened,
// as the upstream registry holds them in the providers it builds. Kept in
// this process's memory only; never log it.
type idpLogin struct {
	sequence uint64
	template idp.Template
}

func (idpLogin) String() string { return "command.idpLogin{[redacted]}" }

func (l idpLogin) GoString() string { return l.String() }

// idpLoginBudget bounds the IdP logins cached (a few hundred bytes to a
// few KiB each, SAML's key pair and metadata the most).
const idpLoginBudget = 8 << 20

// publicReason is err as a failed intent records it: its message and ID,
// without a cause.
func publicReason(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Message + " (" + e.ID + ")"
	}
	return "upstream login failed"
}

func upstreamErr(err error) error {
	if errors.Is(err, upstream.ErrNotImplemented) {
		return errs.Unimplemented("IDP-7rPBbls4Zn", "Errors.ExternalIDP.IDPTypeNotImplemented")
	}
	if _, ok := errs.As(err); ok {
		return err
	}
	return errs.Internal("IDP-Up1", err)
}

// redirectURL: an absolute http(s) URL of at most 2048 characters (ZITADEL
// takes any uri_ref; a relative or javascript: URL has no use here).
func redirectURL(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 2048 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func intentRef(instanceID, id string) eventstore.AggregateRef {
	return eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggIDPIntent, ID: id}
}

func intentAppend(instanceID, id string, expected uint64, evs ...eventstore.PendingEvent) eventstore.Append {
	return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
		Aggregate: intentRef(instanceID, id), ResourceOwner: instanceID, Expected: expected, Events: evs,
	}}}
}

// sealIntent seals one field of intent id; "" stays "".
func (c *Commands) sealIntent(instanceID, id, field, plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	if c.keys == nil {
		return "", errs.Internal("COMMAND-IntK0", errors.New("no keyring to seal intent data"))
	}
	s, err := c.keys.Seal(plaintext, secretbox.AAD{InstanceID: instanceID, IDPID: id, Field: "idpintent." + field})
	if err != nil {
		return "", errs.Internal("COMMAND-IntK1", fmt.Errorf("seal intent %s: %w", field, err))
	}
	return s.Text(), nil
}

func (c *Commands) openIntent(instanceID, id, field, text string) (string, error) {
	if text == "" {
		return "", nil
	}
	s, err := secretbox.ParseSealed(text)
	if err == nil && c.keys == nil {
		err = errors.New("no keyring")
	}
	var pt string
	if err == nil {
		pt, err = c.keys.Open(s, secretbox.AAD{InstanceID: instanceID, IDPID: id, Field: "idpintent." + field})
	}
	if err != nil {
		return "", errs.Internal("COMMAND-IntK2", fmt.Errorf("open intent %s: %w", field, err))
	}
	return pt, nil
}

func (c *Commands) startedEvent(instanceID, id, idpID string, urls *IntentURLs, saved map[string]string) (eventstore.PendingEvent, error) {
	p := events.IDPIntentStartedPayload{IDPID: idpID, ExpiresAt: c.now().Add(StartedIntentLifetime).UTC()}
	if urls != nil {
		p.SuccessURL, p.FailureURL = urls.Success, urls.Failure
	}
	if len(saved) > 0 {
		b, err := json.Marshal(saved)
		if err != nil {
			return eventstore.PendingEvent{}, errs.Internal("COMMAND-Int04", err)
		}
		if p.IDPArguments, err = c.sealIntent(instanceID, id, "idpArguments", string(b)); err != nil {
			return eventstore.PendingEvent{}, err
		}
	}
	return eventstore.PendingEvent{Type: events.IDPIntentStarted, Payload: p}, nil
}

// newIntentToken returns a random intent token and its stored hash.
func newIntentToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", errs.Internal("COMMAND-IntT1", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, events.PATHash(token), nil
}

// linkedUser is the idledger user linked to the external account, when
// exactly one is.
func (c *Commands) linkedUser(ctx context.Context, instanceID, idpID, externalID string) (string, error) {
	if c.externalUsers == nil {
		return "", nil
	}
	ids, err := c.externalUsers.UsersByIDPLink(ctx, instanceID, idpID, externalID)
	if err != nil {
		return "", err
	}
	if len(ids) != 1 {
		return "", nil
	}
	return ids[0], nil
}

// succeededExpiry: MaxIntentLifetime after now, or the upstream's end when
// that comes first.
func (c *Commands) succeededExpiry(upstreamEnd time.Time) time.Time {
	exp := c.now().Add(MaxIntentLifetime)
	if !upstreamEnd.IsZero() && upstreamEnd.Before(exp) {
		exp = upstreamEnd
	}
	return exp.UTC()
}

func (c *Commands) sealedUser(instanceID, id string, u upstream.User) (string, error) {
	b, err := json.Marshal(u)
	if err != nil {
		return "", errs.Internal("COMMAND-Int05", err)
	}
	return c.sealIntent(instanceID, id, "idpUser", string(b))
}

// succeeded is what every succeeded event holds: a new intent token (and
// its stored hash) and the sealed user.
func (c *Commands) succeeded(instanceID, id string, res upstream.Result) (token, hash, user string, err error) {
	if token, hash, err = newIntentToken(); err != nil {
		return "", "", "", err
	}
	if user, err = c.sealedUser(instanceID, id, res.User); err != nil {
		return "", "", "", err
	}
	return token, hash, user, nil
}

func (c *Commands) ldapSucceeded(instanceID, id, userID string, res upstream.Result) (eventstore.PendingEvent, string, error) {
	token, hash, user, err := c.succeeded(instanceID, id, res)
	if err != nil {
		return eventstore.PendingEvent{}, "", err
	}
	attrs, _ := json.Marshal(res.LDAP)
	entry, err := c.sealIntent(instanceID, id, "user", string(attrs))
	if err != nil {
		return eventstore.PendingEvent{}, "", err
	}
	return eventstore.PendingEvent{Type: events.IDPIntentLDAPSucceeded, Payload: events.IDPIntentLDAPSucceededPayload{
		IDPUser: user, IDPUserID: res.User.ID, IDPUserName: res.User.PreferredUsername, UserID: userID,
		User: entry, ExpiresAt: c.succeededExpiry(res.ExpiresAt), TokenHash: hash,
	}}, token, nil
}

func (c *Commands) oauthSucceeded(instanceID, id, userID string, res upstream.Result) (eventstore.PendingEvent, string, error) {
	token, hash, user, err := c.succeeded(instanceID, id, res)
	if err != nil {
		return eventstore.PendingEvent{}, "", err
	}
	p := events.IDPIntentSucceededPayload{IDPUser: user, IDPUserID: res.User.ID, IDPUserName: res.User.PreferredUsername,
		UserID: userID, ExpiresAt: c.succeededExpiry(res.ExpiresAt), TokenHash: hash}
	for _, f := range []struct {
		dst   *string
		name  string
		value string
	}{{&p.IDPAccessToken, "idpAccessToken", res.AccessToken}, {&p.IDPIDToken, "idpIdToken", res.IDToken},
		{&p.IDPRefreshToken, "idpRefreshToken", res.RefreshToken}} {
		if *f.dst, err = c.sealIntent(instanceID, id, f.name, f.value); err != nil {
			return eventstore.PendingEvent{}, "", err
		}
	}
	return eventstore.PendingEvent{Type: events.IDPIntentSucceeded, Payload: p}, token, nil
}

// samlSucceeded is idpintent.saml.succeeded: the user and the assertion
// sealed, the token hashed.
func (c *Commands) samlSucceeded(instanceID, id, userID string, res upstream.Result) (eventstore.PendingEvent, string, error) {
	token, hash, user, err := c.succeeded(instanceID, id, res)
	if err != nil {
		return eventstore.PendingEvent{}, "", err
	}
	p := events.IDPIntentSAMLSucceededPayload{IDPUser: user, IDPUserID: res.User.ID, IDPUserName: res.User.PreferredUsername,
		UserID: userID, ExpiresAt: c.succeededExpiry(res.ExpiresAt), TokenHash: hash}
	if p.Assertion, err = c.sealIntent(instanceID, id, "assertion", string(res.Assertion)); err != nil {
		return eventstore.PendingEvent{}, "", err
	}
	return eventstore.PendingEvent{Type: events.IDPIntentSAMLSucceeded, Payload: p}, token, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
