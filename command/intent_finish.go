package command

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/upstream"
)

// IntentCallback is what a callback endpoint brought back: the instance
// (from the Host), the state (the intent ID), what the upstream sent, and
// the instance's origin as the browser addressed it.
type IntentCallback struct {
	InstanceID string
	State      string
	Callback   upstream.Callback
	Origin     string
	// IDPID, when set (the SAML ACS: /idps/{id}/saml/acs), must be the
	// intent's IdP.
	IDPID string
}

// errNotStartedAnymore is a callback's decision, on fresh state, that the
// intent is no longer started (a concurrent callback won).
var errNotStartedAnymore = errors.New("intent is not started")

// FinishIntent handles a callback: the upstream's error, or the code (or
// the JWT) turned into the user, the intent succeeded or failed, and the
// URL to send the browser to: successURL?id=&token=[&user=] or
// failureURL?id=&error=&error_description=.
//
// Errors (the browser gets no redirect): InvalidArgument IDP-Hk38e without
// a state; NotFound IDP-gy3ctgkqe7 for an intent that was never started in
// this instance; InvalidArgument SAML-ui9wyux0hp for an intent of another
// IdP than in.IDPID; Internal on store failure. Everything else (an intent
// already used, expired, the upstream's error) redirects to the failure URL.
func (c *Commands) FinishIntent(ctx context.Context, in IntentCallback) (string, error) {
	if in.State == "" {
		return "", errs.InvalidArgument("IDP-Hk38e", "Errors.Intent.StateMissing")
	}
	m, err := c.loadIntent(ctx, in.InstanceID, in.State)
	if err != nil {
		return "", err
	}
	if m.state == intentNone {
		return "", errs.NotFound("IDP-gy3ctgkqe7", "Errors.Intent.NotStarted")
	}
	if in.IDPID != "" && in.IDPID != m.idpID {
		return "", errs.InvalidArgument("SAML-ui9wyux0hp", "Errors.Intent.IDPInvalid")
	}
	if m.state != intentStarted {
		return failureURL(m, "IDP-Sfrgs", "Errors.Intent.NotStarted"), nil
	}
	if !c.now().Before(m.startedExpires) {
		return c.failIntent(ctx, m, "expired before the callback", "IDP-SAf42", "Errors.Intent.Expired")
	}
	if cb := in.Callback; cb.Error != "" {
		return c.failIntent(ctx, m, truncate("error: "+cb.Error+": "+cb.ErrorDescription, 500), cb.Error, cb.ErrorDescription)
	}
	res, err := c.finishUpstream(ctx, m, in)
	if err != nil {
		return c.failIntent(ctx, m, truncate(err.Error(), 500), "IDP-Fin01", truncate(err.Error(), 300))
	}
	userID, err := c.linkedUser(ctx, in.InstanceID, m.idpID, res.User.ID)
	if err != nil {
		return "", err
	}
	succeeded := c.oauthSucceeded
	if res.Assertion != nil {
		succeeded = c.samlSucceeded
	}
	ev, token, err := succeeded(in.InstanceID, m.ref.ID, userID, res)
	if err != nil {
		return failureURL(m, "IDP-JdD3g", "Errors.Intent.TokenCreationFailed"), nil
	}
	if err := c.appendIfStarted(ctx, m, ev); err != nil {
		if errors.Is(err, errNotStartedAnymore) {
			return failureURL(m, "IDP-Sfrgs", "Errors.Intent.NotStarted"), nil
		}
		return "", err
	}
	q := url.Values{"id": {m.ref.ID}, "token": {token}}
	if userID != "" {
		q.Set("user", userID)
	}
	return withQuery(m.successURL, q), nil
}

// finishUpstream rebuilds the IdP's provider and lets it finish with the
// saved arguments.
func (c *Commands) finishUpstream(ctx context.Context, m *intentModel, in IntentCallback) (upstream.Result, error) {
	login, err := c.intentLogin(ctx, in.InstanceID, m.idpID, in.Origin)
	if err != nil {
		return upstream.Result{}, errors.New("the IdP is gone")
	}
	p, err := c.upstream.Provider(ctx, login)
	if err != nil {
		return upstream.Result{}, err
	}
	saved := map[string]string{}
	if m.arguments != "" {
		plain, err := c.openIntent(in.InstanceID, m.ref.ID, "idpArguments", m.arguments)
		if err != nil {
			return upstream.Result{}, err
		}
		if err := json.Unmarshal([]byte(plain), &saved); err != nil {
			return upstream.Result{}, err
		}
	}
	return p.Finish(ctx, saved, in.Callback)
}

// IntentJWTHeader names the header in which the JWT IdP of started intent
// id sends the token, for the /idps/jwt callback to read.
//
// Errors: as FinishIntent's for a missing or unknown intent;
// InvalidArgument LOGIN-adfzz for an intent whose IdP is not a JWT IdP.
func (c *Commands) IntentJWTHeader(ctx context.Context, instanceID, id string) (string, error) {
	if id == "" {
		return "", errs.InvalidArgument("IDP-Hk38e", "Errors.Intent.StateMissing")
	}
	m, err := c.loadIntent(ctx, instanceID, id)
	if err != nil {
		return "", err
	}
	if m.state == intentNone {
		return "", errs.NotFound("IDP-gy3ctgkqe7", "Errors.Intent.NotStarted")
	}
	im, err := c.loadIDP(ctx, instanceID, m.idpID)
	if err != nil {
		return "", err
	}
	if im.Config == nil {
		return "", errs.InvalidArgument("LOGIN-adfzz", "Errors.Intent.IDPInvalid")
	}
	var cfg struct {
		HeaderName string `json:"headerName"`
	}
	b, _ := json.Marshal(im.Config)
	if im.KindPath != "generic_jwt" || json.Unmarshal(b, &cfg) != nil || cfg.HeaderName == "" {
		return "", errs.InvalidArgument("LOGIN-adfzz", "Errors.Intent.IDPInvalid")
	}
	return cfg.HeaderName, nil
}

// failIntent records the failure (when the intent is still started) and
// returns the failure URL.
func (c *Commands) failIntent(ctx context.Context, m *intentModel, reason, code, desc string) (string, error) {
	err := c.appendIfStarted(ctx, m, eventstore.PendingEvent{Type: events.IDPIntentFailed, Payload: events.IDPIntentFailedPayload{Reason: reason}})
	if err != nil && !errors.Is(err, errNotStartedAnymore) {
		return "", err
	}
	return failureURL(m, code, desc), nil
}

// appendIfStarted appends ev to the intent while it is still started. The
// upstream work was done once, outside the retry loop; each attempt only
// re-checks the state, so a concurrent callback makes this one lose.
func (c *Commands) appendIfStarted(ctx context.Context, m *intentModel, ev eventstore.PendingEvent) error {
	ref := m.ref
	_, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		cur, err := c.loadIntent(ctx, ref.InstanceID, ref.ID)
		if err != nil {
			return eventstore.Append{}, err
		}
		if cur.state != intentStarted {
			return eventstore.Append{}, errNotStartedAnymore
		}
		return intentAppend(ref.InstanceID, ref.ID, cur.head, ev), nil
	})
	if errors.Is(err, errNotStartedAnymore) {
		return errNotStartedAnymore
	}
	return err
}

func failureURL(m *intentModel, code, desc string) string {
	return withQuery(m.failureURL, url.Values{"id": {m.ref.ID}, "error": {code}, "error_description": {desc}})
}

// withQuery adds q to base's query, keeping base's own parameters.
func withQuery(base string, q url.Values) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	v := u.Query()
	for k, vs := range q {
		v[k] = vs
	}
	u.RawQuery = v.Encode()
	return u.String()
}

// IntentInfo is a succeeded intent, Retrieve's answer.
type IntentInfo struct {
	Details   Details
	IDPID     string
	Protocol  string // "oauth", "ldap" or "saml"
	User      upstream.User
	UserID    string // the idledger user linked at callback time, if any
	UserName  string // the external user name
	ExpiresAt string
	// The upstream's tokens (oauth), entry (ldap), assertion (saml).
	AccessToken, IDToken, RefreshToken string
	LDAP                               map[string][]string
	Assertion                          []byte
}

// checkIntentToken loads intent id and checks its token; an unknown intent
// fails the same way, as ZITADEL's.
func (c *Commands) checkIntentToken(ctx context.Context, instanceID, id, token string) (*intentModel, error) {
	if token == "" {
		return nil, errIntentTokenEmpty()
	}
	m, err := c.loadIntent(ctx, instanceID, id)
	if err != nil {
		return nil, err
	}
	if !intentTokenMatches(m.tokenHash, token) {
		return nil, errIntentToken()
	}
	return m, nil
}

func errIntentTokenEmpty() error {
	return errs.PermissionDenied("CRYPTO-Sfefs", "Errors.Intent.InvalidToken")
}

func errIntentToken() error {
	return errs.PermissionDenied("CRYPTO-CRYPTO", "Errors.Intent.InvalidToken")
}

func errIntentExpired() error { return errs.FailedPrecondition("IDP-SAf42", "Errors.Intent.Expired") }

// intentTokenMatches says whether token is the one whose hash the intent
// stores (none before it succeeded), in constant time.
func intentTokenMatches(hash, token string) bool {
	return hash != "" && subtle.ConstantTimeCompare([]byte(hash), []byte(events.PATHash(token))) == 1
}

// intentRequestLengths are the PGV checks of an intent ID and token, as
// fields of request.
func intentRequestLengths(request, id, token string) error {
	// The field names are built only for an error: every retrieve and
	// login decision passes here.
	if n := utf8.RuneCountInString(id); n < 1 || n > 200 {
		return pgvLength(request+".IdpIntentId", id, 1, 200)
	}
	if utf8.RuneCountInString(token) > 200 {
		return pgvLength(request+".IdpIntentToken", token, 0, 200)
	}
	return nil
}

// succeededIntent is what RetrieveIntent and DecideIntentLogin check
// first: the ID and token fields (named as fields of request), the token,
// the intent succeeded and not expired; it returns the intent and its
// IdP user, opened. It does not consume the intent.
//
// Errors, in order: InvalidArgument (PGV) for an ID or token over 200
// characters; PermissionDenied CRYPTO-Sfefs / CRYPTO-CRYPTO for an empty or
// wrong token (or an unknown intent); FailedPrecondition IDP-nme4gszsvx
// when the intent is not succeeded (started, failed or consumed);
// FailedPrecondition IDP-SAf42 when it expired; Internal.
func (c *Commands) succeededIntent(ctx context.Context, instanceID, request, id, token string) (*intentModel, upstream.User, error) {
	if err := intentRequestLengths(request, id, token); err != nil {
		return nil, upstream.User{}, err
	}
	m, err := c.checkIntentToken(ctx, instanceID, id, token)
	if err != nil {
		return nil, upstream.User{}, err
	}
	user, err := c.openSucceeded(m, instanceID, id)
	return m, user, err
}

// openSucceeded is succeededIntent's check of the state and the expiry of
// m, whose token has been checked, and the opening of its IdP user.
func (c *Commands) openSucceeded(m *intentModel, instanceID, id string) (upstream.User, error) {
	var user upstream.User
	if m.state != intentSucceeded {
		return user, errs.FailedPrecondition("IDP-nme4gszsvx", "Errors.Intent.NotSucceeded")
	}
	if !c.now().Before(m.expiresAt) {
		return user, errIntentExpired()
	}
	userJSON, err := c.openIntent(instanceID, id, "idpUser", m.idpUser)
	if err != nil {
		return user, err
	}
	if userJSON != "" {
		if err := json.Unmarshal([]byte(userJSON), &user); err != nil {
			return user, errs.Internal("COMMAND-IntR1", err)
		}
	}
	return user, nil
}

// RetrieveIntent returns succeeded intent id of the caller's instance. It
// does not consume the intent: the session check does (so a login UI may
// read it before it creates the session).
//
// Errors, in order: Unauthenticated; InvalidArgument (PGV) for an ID or
// token over 200 characters; PermissionDenied CRYPTO-Sfefs / CRYPTO-CRYPTO
// for an empty or wrong token (or an unknown intent); FailedPrecondition
// IDP-nme4gszsvx when the intent is not succeeded (started, failed or
// consumed); FailedPrecondition IDP-SAf42 when it expired; Internal.
func (c *Commands) RetrieveIntent(ctx context.Context, id, token string) (IntentInfo, error) {
	cl, err := caller(ctx)
	if err != nil {
		return IntentInfo{}, err
	}
	_, info, err := c.retrieveIntent(ctx, cl.InstanceID, id, token)
	return info, err
}

const retrieveIntentRequest = "RetrieveIdentityProviderIntentRequest"

// retrieveIntent is RetrieveIntent after the caller: the intent's checks
// and its answer, and the intent it decided on.
func (c *Commands) retrieveIntent(ctx context.Context, instanceID, id, token string) (*intentModel, IntentInfo, error) {
	m, user, err := c.succeededIntent(ctx, instanceID, retrieveIntentRequest, id, token)
	if err != nil {
		return nil, IntentInfo{}, err
	}
	info, err := c.intentInfo(m, user, instanceID, id)
	return m, info, err
}

// intentInfo is Retrieve's answer for succeeded intent m: its details and
// its sealed fields, opened.
func (c *Commands) intentInfo(m *intentModel, user upstream.User, inst, id string) (IntentInfo, error) {
	info := IntentInfo{Details: m.details(), IDPID: m.idpID, Protocol: m.protocol, UserID: m.userID, UserName: m.idpUserName, User: user}
	var err error
	for _, f := range []struct {
		dst         *string
		name, value string
	}{{&info.AccessToken, "idpAccessToken", m.access}, {&info.IDToken, "idpIdToken", m.idToken},
		{&info.RefreshToken, "idpRefreshToken", m.refresh}} {
		if *f.dst, err = c.openIntent(inst, id, f.name, f.value); err != nil {
			return IntentInfo{}, err
		}
	}
	if m.assertion != "" {
		a, err := c.openIntent(inst, id, "assertion", m.assertion)
		if err != nil {
			return IntentInfo{}, err
		}
		info.Assertion = []byte(a)
	}
	if m.ldapUser != "" {
		a, err := c.openIntent(inst, id, "user", m.ldapUser)
		if err != nil {
			return IntentInfo{}, err
		}
		if err := json.Unmarshal([]byte(a), &info.LDAP); err != nil {
			return IntentInfo{}, errs.Internal("COMMAND-IntR2", err)
		}
	}
	return info, nil
}

// IntentConsumption is a passed session check of an intent: the append that
// consumes it (idpintent.consumed, expecting the intent's head), for the
// session command to add to its own append, so the session's
// session.intent.checked and the consumption commit together or not at
// all. Call CheckIntent inside the session command's decide: a concurrent
// consumption makes the append conflict, and the re-decided check fails.
type IntentConsumption struct {
	Append    eventstore.AggregateAppend
	IDPID     string
	IDPUserID string
}

// CheckIntent is ZITADEL's session check of an intent (login-flows.md §3),
// from step 2: the token, succeeded, not expired, and the intent's user
// (linked at callback time) or, when none, an active link of sessionUserID
// to (IdP, external user) now. Step 1 (the session has a user) is the
// session command's.
//
// Errors, in order: PermissionDenied CRYPTO-Sfefs / CRYPTO-CRYPTO (token);
// FailedPrecondition COMMAND-Df4bw (not succeeded, also when consumed);
// FailedPrecondition COMMAND-SAf42 (expired); FailedPrecondition
// COMMAND-O8xk3w (another user's intent); Internal.
func (c *Commands) CheckIntent(ctx context.Context, instanceID, sessionUserID, id, token string) (IntentConsumption, error) {
	m, err := c.checkIntentToken(ctx, instanceID, id, token)
	if err != nil {
		return IntentConsumption{}, err
	}
	if m.state != intentSucceeded {
		return IntentConsumption{}, errs.FailedPrecondition("COMMAND-Df4bw", "Errors.Intent.NotSucceeded")
	}
	if !c.now().Before(m.expiresAt) {
		return IntentConsumption{}, errs.FailedPrecondition("COMMAND-SAf42", "Errors.Intent.Expired")
	}
	if m.userID != "" {
		if m.userID != sessionUserID {
			return IntentConsumption{}, errs.FailedPrecondition("COMMAND-O8xk3w", "Errors.Intent.OtherUser")
		}
	} else {
		u, err := c.loadLinkUser(ctx, instanceID, sessionUserID, true)
		if err != nil {
			return IntentConsumption{}, err
		}
		if !u.exists || len(u.linksTo(m.idpID, m.idpUserID)) == 0 {
			return IntentConsumption{}, errs.FailedPrecondition("COMMAND-O8xk3w", "Errors.Intent.OtherUser")
		}
	}
	a := intentAppend(instanceID, id, m.head, eventstore.PendingEvent{Type: events.IDPIntentConsumed})
	return IntentConsumption{Append: a.Aggregates[0], IDPID: m.idpID, IDPUserID: m.idpUserID}, nil
}

// ConsumeIntent is CheckIntent on its own: it appends the consumption. A
// second consumption of the same intent fails with COMMAND-Df4bw.
//
// Errors: as CheckIntent; Aborted when concurrent writes keep winning.
func (c *Commands) ConsumeIntent(ctx context.Context, instanceID, sessionUserID, id, token string) (Details, error) {
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		chk, err := c.CheckIntent(ctx, instanceID, sessionUserID, id, token)
		if err != nil {
			return eventstore.Append{}, err
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{chk.Append}}, nil
	})
	if err != nil {
		return Details{}, err
	}
	return aggregateDetails(evs, intentRef(instanceID, id), time.Time{}), nil
}
