package command

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// OIDC sessions: every grant of the OP writes one, holding the tokens it
// issued. Access token IDs are "<sessionID>-at_<id>" (ZITADEL's form); the
// opaque token is that ID encrypted by the OP, a JWT names it as jti, and
// either is checked against these events on every use, so revocation is
// immediate. Refresh tokens are random (256 bits) and stored as SHA-256
// only; rotation replaces the current one, and presenting a replaced one
// revokes the whole session (RFC 9700 §4.14.2).

// Token ID parts (ZITADEL's).
const (
	tokenDelimiter     = "-"
	accessTokenPrefix  = "at_"
	refreshTokenPrefix = "rt_"
)

// OIDCSessionInput is what a grant issues tokens for.
type OIDCSessionInput struct {
	// AuthRequestID, for the code exchange: the auth request is consumed
	// in the same append, so a code is exchanged at most once.
	AuthRequestID string
	UserID        string
	UserOrg       string
	SessionID     string // the login session (code flow)
	ClientID      string
	Audience      []string
	Scope         []string
	AMR           []string
	AuthTime      time.Time
	Nonce         string

	AccessTokenLifetime time.Duration
	// RefreshToken asks for a refresh token with these lifetimes.
	RefreshToken         bool
	RefreshIdleLifetime  time.Duration
	RefreshTokenLifetime time.Duration
}

// OIDCTokens are the tokens a grant issued. RefreshToken is shown once.
type OIDCTokens struct {
	SessionID     string
	AccessTokenID string
	Expiration    time.Time
	RefreshToken  string
}

// OIDCToken is an active token and its session, as its events tell it.
type OIDCToken struct {
	SessionID string
	TokenID   string
	UserID    string
	UserOrg   string
	ClientID  string
	Audience  []string
	Scope     []string
	AMR       []string
	AuthTime  time.Time
	Nonce     string
	// Expiration of the access token (refresh tokens: the idle expiry).
	Expiration time.Time
	IssuedAt   time.Time
}

type oidcAccessToken struct {
	scope   []string
	issued  time.Time
	expires time.Time
	revoked bool
}

type oidcSessionModel struct {
	aggregate
	exists bool
	events.OIDCSessionAddedPayload
	accessTokens map[string]*oidcAccessToken
	allRevoked   bool // every access token (session terminated)

	refreshID, refreshHash string
	refreshScope           []string
	refreshIssued          map[string]bool
	refreshRenewed         time.Time
	refreshIdle            time.Duration
	refreshAbsolute        time.Time
	refreshRevoked         bool
}

func (c *Commands) loadOIDCSession(ctx context.Context, instanceID, id string) (*oidcSessionModel, error) {
	m := &oidcSessionModel{aggregate: aggregate{ref: eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggOIDCSession, ID: id}},
		accessTokens: map[string]*oidcAccessToken{}, refreshIssued: map[string]bool{}}
	if err := c.load(ctx, m, nil, loadErrs{read: "COMMAND-OS001", reduce: "COMMAND-OS002"}); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *oidcSessionModel) reduce(e *eventstore.Event) error {
	switch e.Type {
	case events.OIDCSessionAdded:
		m.exists = true
		return e.Unmarshal(&m.OIDCSessionAddedPayload)
	case events.OIDCSessionAccessTokenAdded:
		var p events.OIDCAccessTokenAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.accessTokens[p.ID] = &oidcAccessToken{scope: p.Scope, issued: e.CreatedAt, expires: e.CreatedAt.Add(p.Lifetime)}
	case events.OIDCSessionAccessTokenRevoked:
		var p events.OIDCAccessTokenRevokedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		if p.ID == "" {
			m.allRevoked = true
		} else if t := m.accessTokens[p.ID]; t != nil {
			t.revoked = true
		}
	case events.OIDCSessionRefreshTokenAdded, events.OIDCSessionRefreshTokenRenewed:
		var p events.OIDCRefreshTokenPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		if e.Type == events.OIDCSessionRefreshTokenAdded && p.Lifetime > 0 {
			m.refreshAbsolute = e.CreatedAt.Add(p.Lifetime)
		}
		m.refreshID, m.refreshHash, m.refreshScope, m.refreshIdle, m.refreshRenewed = p.ID, p.TokenHash, p.Scope, p.IdleLifetime, e.CreatedAt
		m.refreshIssued[p.ID] = true
	case events.OIDCSessionRefreshTokenRevoked:
		m.refreshRevoked = true
	}
	return nil
}

func (m *oidcSessionModel) terminated() bool {
	return m.allRevoked && (m.refreshID == "" || m.refreshRevoked)
}

func (m *oidcSessionModel) token(tokenID string, exp, issued time.Time, scope []string) *OIDCToken {
	p := m.OIDCSessionAddedPayload
	return &OIDCToken{SessionID: m.ref.ID, TokenID: tokenID, UserID: p.UserID, UserOrg: p.UserResourceOwner, ClientID: p.ClientID,
		Audience: p.Audience, Scope: scope, AMR: p.AuthMethods, AuthTime: p.AuthTime, Nonce: p.Nonce, Expiration: exp, IssuedAt: issued}
}

// ErrOIDCTokenInvalid answers every access or refresh token that does not
// work: unknown, expired, revoked, of a terminated session, of another
// instance.
var ErrOIDCTokenInvalid = errs.Unauthenticated("COMMAND-OSt01", "Errors.OIDCSession.Token.Invalid")

// ErrRefreshTokenInvalid answers a refresh token that cannot be used.
var ErrRefreshTokenInvalid = errs.InvalidArgument("COMMAND-OSr01", "Errors.OIDCSession.RefreshToken.Invalid")

func newRefreshToken(sessionID, id string) (token string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", errs.Internal("COMMAND-OS003", err)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(sessionID + tokenDelimiter + refreshTokenPrefix + id + ":" +
		base64.RawURLEncoding.EncodeToString(b))), nil
}

// parseRefreshToken returns the session and refresh token IDs a refresh
// token names (unauthenticated: its hash is the check).
func parseRefreshToken(token string) (sessionID, id string, ok bool) {
	if len(token) > 400 {
		return "", "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", "", false
	}
	ids, _, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", false
	}
	sessionID, rt, ok := strings.Cut(ids, tokenDelimiter+refreshTokenPrefix)
	if !ok || !strings.HasPrefix(sessionID, AuthRequestPrefix) || rt == "" {
		return "", "", false
	}
	return sessionID, sessionID + tokenDelimiter + refreshTokenPrefix + rt, true
}

// ParseAccessTokenID returns the session ID of access token ID tokenID.
func ParseAccessTokenID(tokenID string) (sessionID string, ok bool) {
	sessionID, at, ok := strings.Cut(tokenID, tokenDelimiter+accessTokenPrefix)
	return sessionID, ok && strings.HasPrefix(sessionID, AuthRequestPrefix) && at != ""
}

// RefreshTokenInfo returns the user and token ID of a refresh token, for
// revocation. It reads no events.
func RefreshTokenInfo(token string) (sessionID, tokenID string, ok bool) {
	return parseRefreshToken(token)
}

// CreateOIDCSession writes an OIDC session with an access token and, if
// asked, a refresh token. With an AuthRequestID, the auth request's code
// is consumed in the same append: a concurrent second exchange fails. It
// checks no caller: the OP has authenticated the client and the grant.
//
// Errors: InvalidArgument ErrCodeInvalid (the auth request's code was
// used, or is not issued); Internal on store failure.
func (c *Commands) CreateOIDCSession(ctx context.Context, instanceID string, in OIDCSessionInput) (*OIDCTokens, error) {
	ids, err := c.nextIDs(3, "COMMAND-OS004")
	if err != nil {
		return nil, err
	}
	sid := AuthRequestPrefix + ids[0]
	out := &OIDCTokens{SessionID: sid, AccessTokenID: sid + tokenDelimiter + accessTokenPrefix + ids[1]}
	ref := eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggOIDCSession, ID: sid}
	pend := []eventstore.PendingEvent{
		{Type: events.OIDCSessionAdded, Payload: events.OIDCSessionAddedPayload{UserID: in.UserID, UserResourceOwner: in.UserOrg,
			SessionID: in.SessionID, ClientID: in.ClientID, Audience: in.Audience, Scope: in.Scope, AuthMethods: in.AMR,
			AuthTime: in.AuthTime, Nonce: in.Nonce}},
		{Type: events.OIDCSessionAccessTokenAdded, Payload: events.OIDCAccessTokenAddedPayload{ID: out.AccessTokenID, Scope: in.Scope,
			Lifetime: in.AccessTokenLifetime}},
	}
	if in.RefreshToken {
		rtID := sid + tokenDelimiter + refreshTokenPrefix + ids[2]
		if out.RefreshToken, err = newRefreshToken(sid, ids[2]); err != nil {
			return nil, err
		}
		pend = append(pend, eventstore.PendingEvent{Type: events.OIDCSessionRefreshTokenAdded, Payload: events.OIDCRefreshTokenPayload{
			ID: rtID, TokenHash: events.PATHash(out.RefreshToken), Scope: in.Scope, IdleLifetime: in.RefreshIdleLifetime,
			Lifetime: in.RefreshTokenLifetime}})
	}
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		a := eventstore.Append{Aggregates: []eventstore.AggregateAppend{{Aggregate: ref, ResourceOwner: instanceID, Events: pend}}}
		if in.AuthRequestID != "" {
			ar, err := c.loadAuthRequest(ctx, instanceID, in.AuthRequestID)
			if err != nil {
				return eventstore.Append{}, err
			}
			if ar.Status != AuthRequestCodeIssued {
				return eventstore.Append{}, ErrCodeInvalid
			}
			a.Aggregates = append(a.Aggregates, ar.exchangeEvents(instanceID, sid))
		}
		return a, nil
	})
	if err != nil {
		return nil, err
	}
	d := aggregateDetails(evs, ref, time.Time{})
	out.Expiration = d.Changed.Add(in.AccessTokenLifetime)
	return out, nil
}

// OIDCAccessToken returns access token tokenID of instanceID and its
// session, if the token is active: issued, not expired, not revoked, its
// session not terminated. It reads the session's events, so a revocation
// takes effect at once. It checks no caller.
//
// Errors: Unauthenticated ErrOIDCTokenInvalid; Internal on store failure.
func (c *Commands) OIDCAccessToken(ctx context.Context, instanceID, tokenID string) (*OIDCToken, error) {
	sid, ok := ParseAccessTokenID(tokenID)
	if !ok || len(tokenID) > 200 {
		return nil, ErrOIDCTokenInvalid
	}
	m, err := c.loadOIDCSession(ctx, instanceID, sid)
	if err != nil {
		return nil, err
	}
	t := m.accessTokens[tokenID]
	if !m.exists || t == nil || t.revoked || m.allRevoked || !c.now().Before(t.expires) {
		return nil, ErrOIDCTokenInvalid
	}
	return m.token(tokenID, t.expires, t.issued, t.scope), nil
}

// OIDCRefreshToken returns the session of refresh token token of
// instanceID, if it is the session's current one and not expired. A
// refresh token that was rotated away revokes every token of its session.
//
// Errors: InvalidArgument ErrRefreshTokenInvalid; Internal on store
// failure.
func (c *Commands) OIDCRefreshToken(ctx context.Context, instanceID, token string) (*OIDCToken, error) {
	sid, rtID, ok := parseRefreshToken(token)
	if !ok {
		return nil, ErrRefreshTokenInvalid
	}
	m, err := c.loadOIDCSession(ctx, instanceID, sid)
	if err != nil {
		return nil, err
	}
	if !m.exists || !m.refreshIssued[rtID] || m.refreshRevoked {
		return nil, ErrRefreshTokenInvalid
	}
	if rtID != m.refreshID {
		// Reuse of a rotated token: someone holds a stolen copy. Revoke
		// everything the session issued.
		if err := c.terminateOIDCSession(ctx, instanceID, sid); err != nil {
			return nil, err
		}
		return nil, ErrRefreshTokenInvalid
	}
	if subtle.ConstantTimeCompare([]byte(events.PATHash(token)), []byte(m.refreshHash)) != 1 {
		return nil, ErrRefreshTokenInvalid
	}
	now := c.now()
	idle := m.refreshRenewed.Add(m.refreshIdle)
	if (m.refreshIdle > 0 && !now.Before(idle)) || (!m.refreshAbsolute.IsZero() && !now.Before(m.refreshAbsolute)) {
		return nil, ErrRefreshTokenInvalid
	}
	return m.token(rtID, idle, m.refreshRenewed, m.refreshScope), nil
}

// RenewOIDCTokens is the refresh grant: it checks refresh token token as
// OIDCRefreshToken does, then issues a new access token and a new refresh
// token for scope (which may only narrow), voiding the old one.
//
// Errors: those of OIDCRefreshToken; InvalidArgument COMMAND-OSr02 for a
// scope the session was not granted.
func (c *Commands) RenewOIDCTokens(ctx context.Context, instanceID, token string, scope []string, accessLifetime time.Duration) (*OIDCTokens, error) {
	cur, err := c.OIDCRefreshToken(ctx, instanceID, token)
	if err != nil {
		return nil, err
	}
	if len(scope) == 0 {
		scope = cur.Scope
	}
	for _, s := range scope {
		if !containsString(cur.Scope, s) {
			return nil, errs.InvalidArgument("COMMAND-OSr02", "Errors.OIDCSession.RefreshToken.ScopeNotGranted")
		}
	}
	ids, err := c.nextIDs(2, "COMMAND-OS005")
	if err != nil {
		return nil, err
	}
	out := &OIDCTokens{SessionID: cur.SessionID, AccessTokenID: cur.SessionID + tokenDelimiter + accessTokenPrefix + ids[0]}
	if out.RefreshToken, err = newRefreshToken(cur.SessionID, ids[1]); err != nil {
		return nil, err
	}
	_, evs, err := executeOn(ctx, c, c.loadOIDCSession, instanceID, cur.SessionID, func(ctx context.Context, m *oidcSessionModel) (eventstore.Append, error) {
		if m.refreshID != cur.TokenID || m.refreshRevoked {
			return eventstore.Append{}, ErrRefreshTokenInvalid
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{Aggregate: m.ref, ResourceOwner: instanceID, Expected: m.head,
			Events: []eventstore.PendingEvent{
				{Type: events.OIDCSessionAccessTokenAdded, Payload: events.OIDCAccessTokenAddedPayload{ID: out.AccessTokenID, Scope: scope,
					Lifetime: accessLifetime}},
				{Type: events.OIDCSessionRefreshTokenRenewed, Payload: events.OIDCRefreshTokenPayload{
					ID: cur.SessionID + tokenDelimiter + refreshTokenPrefix + ids[1], TokenHash: events.PATHash(out.RefreshToken),
					Scope: scope, IdleLifetime: m.refreshIdle}},
			}}}}, nil
	})
	if err != nil {
		return nil, err
	}
	d := aggregateDetails(evs, eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggOIDCSession, ID: cur.SessionID}, time.Time{})
	out.Expiration = d.Changed.Add(accessLifetime)
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// RevokeOIDCAccessToken revokes access token tokenID of instanceID when it
// was issued to clientID ("" skips that check). Unknown tokens are no
// error (RFC 7009 §2.2).
//
// Errors: Internal on store failure.
func (c *Commands) RevokeOIDCAccessToken(ctx context.Context, instanceID, tokenID, clientID string) error {
	sid, ok := ParseAccessTokenID(tokenID)
	if !ok {
		return nil
	}
	_, _, err := executeOn(ctx, c, c.loadOIDCSession, instanceID, sid, func(ctx context.Context, m *oidcSessionModel) (eventstore.Append, error) {
		t := m.accessTokens[tokenID]
		if !m.exists || t == nil || t.revoked || m.allRevoked || (clientID != "" && m.ClientID != clientID) {
			return eventstore.Append{}, eventstore.ErrNothingToDo
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{Aggregate: m.ref, ResourceOwner: instanceID, Expected: m.head,
			Events: []eventstore.PendingEvent{{Type: events.OIDCSessionAccessTokenRevoked, Payload: events.OIDCAccessTokenRevokedPayload{ID: tokenID}}}}}}, nil
	})
	return err
}

// RevokeOIDCRefreshToken revokes refresh token token of instanceID, and
// with it the session's access tokens, when it was issued to clientID (""
// skips that check). Unknown tokens are no error.
//
// Errors: Internal on store failure.
func (c *Commands) RevokeOIDCRefreshToken(ctx context.Context, instanceID, token, clientID string) error {
	sid, rtID, ok := parseRefreshToken(token)
	if !ok {
		return nil
	}
	m, err := c.loadOIDCSession(ctx, instanceID, sid)
	if err != nil {
		return err
	}
	if !m.exists || !m.refreshIssued[rtID] || (clientID != "" && m.ClientID != clientID) {
		return nil
	}
	if rtID == m.refreshID && subtle.ConstantTimeCompare([]byte(events.PATHash(token)), []byte(m.refreshHash)) != 1 {
		return nil
	}
	return c.terminateOIDCSession(ctx, instanceID, sid)
}

// TerminateOIDCSession revokes every token of OIDC session sessionID of
// instanceID issued to clientID ("" skips that check): end session.
//
// Errors: Internal on store failure.
func (c *Commands) TerminateOIDCSession(ctx context.Context, instanceID, sessionID, clientID string) error {
	if !strings.HasPrefix(sessionID, AuthRequestPrefix) || len(sessionID) > 200 {
		return nil
	}
	if clientID != "" {
		m, err := c.loadOIDCSession(ctx, instanceID, sessionID)
		if err != nil {
			return err
		}
		if m.ClientID != clientID {
			return nil
		}
	}
	return c.terminateOIDCSession(ctx, instanceID, sessionID)
}

// terminateOIDCSession revokes every access token and the refresh token
// of session sid.
func (c *Commands) terminateOIDCSession(ctx context.Context, instanceID, sid string) error {
	_, _, err := executeOn(ctx, c, c.loadOIDCSession, instanceID, sid, func(ctx context.Context, m *oidcSessionModel) (eventstore.Append, error) {
		if !m.exists || m.terminated() {
			return eventstore.Append{}, eventstore.ErrNothingToDo
		}
		var pend []eventstore.PendingEvent
		if !m.allRevoked {
			pend = append(pend, eventstore.PendingEvent{Type: events.OIDCSessionAccessTokenRevoked, Payload: events.OIDCAccessTokenRevokedPayload{}})
		}
		if m.refreshID != "" && !m.refreshRevoked {
			pend = append(pend, eventstore.PendingEvent{Type: events.OIDCSessionRefreshTokenRevoked})
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{Aggregate: m.ref, ResourceOwner: instanceID, Expected: m.head, Events: pend}}}, nil
	})
	return err
}
