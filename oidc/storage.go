package oidc

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/query"
)

// storage is op.Storage over commands and queries. Every method finds its
// instance in the context (instanceMiddleware).
type storage struct {
	cmds     *command.Commands
	q        *query.Queries
	crypto   keyringCrypto
	loginURL string
	// projects: instance ID → the ID of its own API project. An instance's
	// project is recorded once (instance.iam.project.set, at set-up or by
	// EnsureInstanceProjects when it has none) and never changes, so a
	// known one is kept; an instance without one yet is read again.
	projects sync.Map
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.ClientCredentialsStorage       = (*storage)(nil)
	_ op.JWTProfileTokenStorage         = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

type ctxKey struct{}

// opRequest is an OP request's instance and what the request has read
// already: the library calls the storage several times for one request
// (the client twice on the way to a token, the settings for each token),
// and each read is the same within the request.
type opRequest struct {
	instanceID string

	mu       sync.Mutex
	settings *query.OIDCSettings
	machines map[string]command.MachineClient // client ID → authenticated machine user
	tokenJWT map[string]bool                  // machine user ID → its tokens are JWTs (key check)
	orgs     map[string]string                // machine user ID → its org (key check)
	users    map[string]*query.User           // user ID → read-table row
}

// keepLifetimes makes the instance's token lifetimes that a machine grant's
// command read with the user (in the same round trip) the request's
// settings, unless the request has read them already.
func (r *opRequest) keepLifetimes(l command.OIDCSettings) {
	r.mu.Lock()
	if r.settings == nil {
		r.settings = &query.OIDCSettings{AccessTokenLifetime: l.AccessTokenLifetime, IDTokenLifetime: l.IDTokenLifetime,
			RefreshTokenIdleExpiration: l.RefreshTokenIdleExpiration, RefreshTokenExpiration: l.RefreshTokenExpiration}
	}
	r.mu.Unlock()
}

// userOrg is the org of user userID: the one its machine key was read
// with in this request, else its read-table row's.
func (s *storage) userOrg(ctx context.Context, userID string) (string, error) {
	if r := requestFrom(ctx); r != nil {
		r.mu.Lock()
		org, ok := r.orgs[userID]
		r.mu.Unlock()
		if ok {
			return org, nil
		}
	}
	u, err := s.user(ctx, userID)
	if err != nil {
		return "", err
	}
	return u.OrgID, nil
}

// user is UserOfInstance, read once per request and user.
func (s *storage) user(ctx context.Context, userID string) (*query.User, error) {
	r := requestFrom(ctx)
	if r == nil {
		return s.q.UserOfInstance(ctx, instanceFrom(ctx), userID)
	}
	r.mu.Lock()
	u := r.users[userID]
	r.mu.Unlock()
	if u != nil {
		return u, nil
	}
	u, err := s.q.UserOfInstance(ctx, r.instanceID, userID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.users == nil {
		r.users = map[string]*query.User{}
	}
	r.users[userID] = u
	r.mu.Unlock()
	return u, nil
}

func withInstance(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, &opRequest{instanceID: id})
}

func requestFrom(ctx context.Context) *opRequest {
	r, _ := ctx.Value(ctxKey{}).(*opRequest)
	return r
}

func instanceFrom(ctx context.Context) string {
	if r := requestFrom(ctx); r != nil {
		return r.instanceID
	}
	return ""
}

// opErr maps a domain error to the library's: Internal (and unknown)
// errors are server_error, whose cause is logged by the library's caller
// only; everything else is the given OAuth error.
func opErr(err error, as *oidc.Error) error {
	if err == nil {
		return nil
	}
	if k := errs.KindOf(err); k == errs.KindInternal || k == errs.KindUnavailable {
		return oidc.ErrServerError().WithParent(err)
	}
	return as.WithParent(err)
}

// --- clients ---

func (s *storage) client(ctx context.Context, clientID string) (*client, error) {
	inst := instanceFrom(ctx)
	if clientID == "" || len(clientID) > 200 {
		return nil, errs.NotFound("QUERY-CliNF", "Errors.Project.App.NotExisting")
	}
	app, err := s.q.ClientByID(ctx, inst, clientID)
	if err != nil {
		return nil, err
	}
	set, err := s.settings(ctx)
	if err != nil {
		return nil, err
	}
	return &client{app: app, idLifetime: set.IDTokenLifetime, loginURL: s.loginURL}, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.client(ctx, clientID)
	if err != nil {
		return nil, opErr(err, oidc.ErrInvalidClient())
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	return opErr(s.cmds.CheckClientSecret(ctx, instanceFrom(ctx), clientID, secret), oidc.ErrInvalidClient())
}

// keyKind says which keys verify the assertion of a request: a machine
// user's (the JWT-profile grant) or an app's (private_key_jwt client
// authentication). The OP's middleware sets it from the form.
type keyKind int

const (
	keysNone keyKind = iota
	keysMachine
	keysApp
)

type keyKindKey struct{}

func withKeyKind(ctx context.Context, k keyKind) context.Context {
	return context.WithValue(ctx, keyKindKey{}, k)
}

// GetKeyByIDAndClientID returns the public key that verifies an assertion
// of the request: for the JWT-profile grant, key keyID of the machine user
// clientID (the assertion's issuer); for private_key_jwt client
// authentication, key keyID of the app whose client ID is clientID, when
// that app authenticates with private_key_jwt. A machine key never
// authenticates a client, an app key never a JWT-profile grant.
func (s *storage) GetKeyByIDAndClientID(ctx context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	kind, _ := ctx.Value(keyKindKey{}).(keyKind)
	switch kind {
	case keysMachine:
		k, err := s.cmds.MachineKeyByID(ctx, instanceFrom(ctx), keyID, clientID)
		if err != nil {
			return nil, opErr(err, oidc.ErrInvalidClient())
		}
		if r := requestFrom(ctx); r != nil {
			r.mu.Lock()
			if r.tokenJWT == nil {
				r.tokenJWT, r.orgs = map[string]bool{}, map[string]string{}
			}
			r.tokenJWT[k.UserID], r.orgs[k.UserID] = k.AccessTokenJWT, k.Details.ResourceOwner
			r.mu.Unlock()
			r.keepLifetimes(k.Lifetimes)
		}
		return &jose.JSONWebKey{Key: k.PublicKey, KeyID: k.KeyID, Use: "sig"}, nil
	case keysApp:
		k, err := s.cmds.AppKeyByID(ctx, instanceFrom(ctx), keyID, clientID)
		if err != nil {
			return nil, opErr(err, oidc.ErrInvalidClient())
		}
		return &jose.JSONWebKey{Key: k.PublicKey, KeyID: k.KeyID, Use: "sig"}, nil
	}
	return nil, oidc.ErrInvalidClient()
}

// --- auth requests ---

func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	// prompt=none goes to the login UI too: it owns the browser's
	// sessions, reuses one that fits or fails the request with
	// login_required (OIDC Core §3.1.2.6).
	c, err := s.client(ctx, req.ClientID)
	if err != nil {
		return nil, opErr(err, oidc.ErrInvalidClient())
	}
	if c.AuthMethod() == oidc.AuthMethodNone && req.CodeChallenge == "" {
		// A public client proves the code's possession with PKCE only; ask
		// for it up front rather than at the exchange.
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge required for clients without a secret")
	}
	aud, err := s.appAudience(ctx, c, req.Scopes)
	if err != nil {
		return nil, opErr(err, oidc.ErrInvalidRequest())
	}
	p := events.AuthRequestAddedPayload{ClientID: req.ClientID, RedirectURI: req.RedirectURI, State: req.State, Nonce: req.Nonce,
		Scope: req.Scopes, Audience: aud, ResponseType: string(req.ResponseType), ResponseMode: string(req.ResponseMode),
		CodeChallenge: req.CodeChallenge, CodeChallengeMethod: string(req.CodeChallengeMethod), Prompt: req.Prompt,
		LoginHint: req.LoginHint, HintUserID: userID, Issuer: op.IssuerFromContext(ctx),
		NeedRefreshToken: slices.Contains(req.Scopes, oidc.ScopeOfflineAccess)}
	for _, l := range req.UILocales {
		p.UILocales = append(p.UILocales, l.String())
	}
	if req.MaxAge != nil {
		v := int64(*req.MaxAge)
		p.MaxAge = &v
	}
	ar, err := s.cmds.AddAuthRequest(ctx, instanceFrom(ctx), p)
	if err != nil {
		return nil, opErr(err, oidc.ErrServerError())
	}
	return &authRequest{AuthRequest: ar}, nil
}

// appAudience is ZITADEL's audience of a token issued to an app: every
// client ID of its project, the project ID, and the …:aud scopes.
func (s *storage) appAudience(ctx context.Context, c *client, scopes []string) ([]string, error) {
	ids, err := s.q.ProjectClientIDs(ctx, instanceFrom(ctx), c.app.ProjectID)
	if err != nil {
		return nil, err
	}
	aud := append(ids, c.app.ProjectID)
	extra, err := s.scopeAudience(ctx, scopes)
	if err != nil {
		return nil, err
	}
	for _, a := range extra {
		if !slices.Contains(aud, a) {
			aud = append(aud, a)
		}
	}
	return aud, nil
}

// scopeAudience maps urn:zitadel:iam:org:project:id:{id}:aud scopes to
// audiences, "zitadel" standing for the instance's own project.
func (s *storage) scopeAudience(ctx context.Context, scopes []string) ([]string, error) {
	var aud []string
	for _, sc := range scopes {
		id, ok := strings.CutPrefix(sc, scopeProjectAudPrefix)
		if !ok {
			continue
		}
		id, ok = strings.CutSuffix(id, scopeAudSuffix)
		if !ok || id == "" {
			continue
		}
		if id == scopeZitadel {
			p, err := s.instanceProject(ctx)
			if err != nil {
				return nil, err
			}
			if p == "" {
				continue
			}
			id = p
		}
		if !slices.Contains(aud, id) {
			aud = append(aud, id)
		}
	}
	return aud, nil
}

// instanceProject is the ID of the request's instance's own API project
// ("" when it has none yet).
func (s *storage) instanceProject(ctx context.Context) (string, error) {
	inst := instanceFrom(ctx)
	if p, ok := s.projects.Load(inst); ok {
		return p.(string), nil
	}
	p, err := s.q.InstanceProjectID(ctx, inst)
	if err == nil && p != "" {
		s.projects.Store(inst, p)
	}
	return p, err
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	ar, err := s.cmds.AuthRequestByID(ctx, instanceFrom(ctx), id)
	if err != nil {
		return nil, opErr(err, oidc.ErrInvalidRequest())
	}
	return &authRequest{AuthRequest: ar}, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	id, err := s.crypto.Decrypt(code)
	if err != nil || !strings.HasPrefix(id, command.AuthRequestPrefix) {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid code")
	}
	ar, err := s.cmds.AuthRequestByCode(ctx, instanceFrom(ctx), id, code)
	if err != nil {
		return nil, opErr(err, oidc.ErrInvalidGrant().WithDescription("invalid code"))
	}
	return &authRequest{AuthRequest: ar}, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return opErr(s.cmds.AddAuthRequestCode(ctx, instanceFrom(ctx), id, code), oidc.ErrInvalidRequest())
}

// DeleteAuthRequest does nothing: the code exchange consumed the request
// (auth_request.code.exchanged, .succeeded) in the append that created the
// tokens.
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

// --- tokens ---

// settings are the instance's OIDC settings, read once per request.
func (s *storage) settings(ctx context.Context) (*query.OIDCSettings, error) {
	r := requestFrom(ctx)
	if r == nil {
		return s.q.OIDCSettings(ctx, instanceFrom(ctx))
	}
	r.mu.Lock()
	set := r.settings
	r.mu.Unlock()
	if set != nil {
		return set, nil
	}
	set, err := s.q.OIDCSettings(ctx, r.instanceID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.settings = set
	r.mu.Unlock()
	return set, nil
}

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	t, err := s.createTokens(ctx, req, false)
	if err != nil {
		return "", time.Time{}, err
	}
	return t.AccessTokenID, t.Expiration, nil
}

func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	set, err := s.settings(ctx)
	if err != nil {
		return "", "", time.Time{}, oidc.ErrServerError().WithParent(err)
	}
	if current != "" {
		t, err := s.cmds.RenewOIDCTokens(ctx, instanceFrom(ctx), current, req.GetScopes(), set.AccessTokenLifetime)
		if err != nil {
			return "", "", time.Time{}, opErr(err, oidc.ErrInvalidGrant())
		}
		if tr, ok := req.(*tokenRequest); ok {
			tr.sessionID = t.SessionID
		}
		return t.AccessTokenID, t.RefreshToken, t.Expiration, nil
	}
	t, err := s.createTokens(ctx, req, true)
	if err != nil {
		return "", "", time.Time{}, err
	}
	return t.AccessTokenID, t.RefreshToken, t.Expiration, nil
}

func (s *storage) createTokens(ctx context.Context, req op.TokenRequest, refresh bool) (*command.OIDCTokens, error) {
	inst := instanceFrom(ctx)
	set, err := s.settings(ctx)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	in := command.OIDCSessionInput{Scope: req.GetScopes(), AccessTokenLifetime: set.AccessTokenLifetime, RefreshToken: refresh,
		RefreshIdleLifetime: set.RefreshTokenIdleExpiration, RefreshTokenLifetime: set.RefreshTokenExpiration}
	var ar *authRequest
	switch r := req.(type) {
	case *authRequest:
		ar = r
		in.AuthRequestID, in.UserID, in.SessionID, in.ClientID = r.ID, r.UserID, r.SessionID, r.ClientID
		in.Audience, in.AMR, in.AuthTime, in.Nonce = r.Audience, r.AMR, r.AuthTime, r.Nonce
		if u, err := s.user(ctx, r.UserID); err == nil {
			in.UserOrg = u.OrgID
		}
	case *tokenRequest:
		in.UserID, in.UserOrg, in.ClientID, in.Audience, in.AMR, in.AuthTime = r.subject, r.userOrg, r.clientID, r.audience, r.amr, time.Now()
	case *oidc.JWTTokenRequest:
		// The assertion's aud names the issuer; the token's audience comes
		// from the …:aud scopes only (ZITADEL).
		aud, err := s.scopeAudience(ctx, r.Scopes)
		if err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		org, err := s.userOrg(ctx, r.Subject)
		if err != nil {
			return nil, opErr(err, oidc.ErrInvalidGrant())
		}
		r.Audience = aud
		in.UserID, in.UserOrg, in.ClientID, in.Audience, in.AMR, in.AuthTime = r.Subject, org, r.Subject, aud, []string{"private_key"}, time.Now()
	default:
		return nil, oidc.ErrUnsupportedGrantType()
	}
	t, err := s.cmds.CreateOIDCSession(ctx, inst, in)
	if err != nil {
		return nil, opErr(err, oidc.ErrInvalidGrant().WithDescription("invalid code"))
	}
	if ar != nil {
		ar.oidcSessionID = t.SessionID
	}
	if tr, ok := req.(*tokenRequest); ok {
		tr.sessionID = t.SessionID
	}
	return t, nil
}

func (s *storage) TokenRequestByRefreshToken(ctx context.Context, rt string) (op.RefreshTokenRequest, error) {
	t, err := s.cmds.OIDCRefreshToken(ctx, instanceFrom(ctx), rt)
	if err != nil {
		return nil, opErr(err, oidc.ErrInvalidGrant())
	}
	return &tokenRequest{subject: t.UserID, userOrg: t.UserOrg, clientID: t.ClientID, audience: t.Audience, scopes: t.Scope,
		amr: t.AMR, authTime: t.AuthTime, sessionID: t.SessionID, refreshToken: rt, nonce: t.Nonce}, nil
}

func (s *storage) TerminateSession(ctx context.Context, _, _ string) error { return nil }

// TerminateSessionFromRequest ends the OIDC session the id_token_hint
// names (its sid), for the hint's client.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if req.IDTokenHintClaims != nil && req.IDTokenHintClaims.SessionID != "" {
		if err := s.cmds.TerminateOIDCSession(ctx, instanceFrom(ctx), req.IDTokenHintClaims.SessionID, req.ClientID); err != nil {
			return "", opErr(err, oidc.ErrServerError())
		}
	}
	return req.RedirectURI, nil
}

func (s *storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	if tokenOrID == "" {
		// RFC 7009 §2.1: the token is required.
		return oidc.ErrInvalidRequest().WithDescription("token missing")
	}
	inst := instanceFrom(ctx)
	var err error
	if _, _, ok := command.RefreshTokenInfo(tokenOrID); ok && userID == "" {
		err = s.cmds.RevokeOIDCRefreshToken(ctx, inst, tokenOrID, clientID)
	} else {
		err = s.cmds.RevokeOIDCAccessToken(ctx, inst, tokenOrID, clientID)
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// GetRefreshTokenInfo hands the refresh token itself on as its "ID", with
// no user: RevokeToken tells it from an access token ID by that.
func (s *storage) GetRefreshTokenInfo(_ context.Context, _, token string) (string, string, error) {
	if _, _, ok := command.RefreshTokenInfo(token); ok {
		return "", token, nil
	}
	return "", "", op.ErrInvalidRefreshToken
}

// --- keys ---

type signingKey struct{ k *command.SigningKey }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.k.Algorithm)
}
func (k signingKey) Key() any   { return k.k.Key }
func (k signingKey) ID() string { return k.k.ID }

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, err := s.cmds.SigningKey(ctx, instanceFrom(ctx))
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return signingKey{k}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

type publicKey struct{ k command.PublicSigningKey }

func (k publicKey) ID() string                         { return k.k.ID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(k.k.Algorithm) }
func (k publicKey) Use() string                        { return k.k.Use }
func (k publicKey) Key() any                           { return k.k.Key }

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := s.cmds.KeySet(ctx, instanceFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{k}
	}
	return out, nil
}

// --- user info and introspection ---

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's user claims and its sid.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.userinfo(ctx, ui, req.GetSubject(), scopes); err != nil {
		return err
	}
	switch r := req.(type) {
	case *authRequest:
		if r.oidcSessionID != "" {
			ui.AppendClaims("sid", r.oidcSessionID)
		}
	case *tokenRequest:
		if r.sessionID != "" {
			ui.AppendClaims("sid", r.sessionID)
		}
		if r.nonce != "" {
			// The library takes the nonce from auth requests only; a
			// refreshed ID token repeats the session's (OIDC Core §12.2).
			ui.AppendClaims("nonce", r.nonce)
		}
	}
	return nil
}

func (s *storage) userinfo(ctx context.Context, ui *oidc.UserInfo, userID string, scopes []string) error {
	u, err := s.user(ctx, userID)
	if err != nil {
		return opErr(err, oidc.ErrAccessDenied())
	}
	ui.Subject = u.ID
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			ui.PreferredUsername = u.Username
			ui.UpdatedAt = oidc.FromTime(u.Changed)
			if h := u.Human; h != nil {
				ui.Name, ui.GivenName, ui.FamilyName, ui.Nickname = h.DisplayName, h.GivenName, h.FamilyName, h.NickName
			} else if u.Machine != nil {
				ui.Name = u.Machine.Name
			}
		case oidc.ScopeEmail:
			if h := u.Human; h != nil {
				ui.Email, ui.EmailVerified = h.Email, oidc.Bool(h.EmailVerified)
			}
		case oidc.ScopePhone:
			if h := u.Human; h != nil && h.Phone != "" {
				ui.PhoneNumber, ui.PhoneNumberVerified = h.Phone, oidc.Bool(h.PhoneVerified)
			}
		}
	}
	return nil
}

// activeToken checks that access token tokenID of subject is active.
func (s *storage) activeToken(ctx context.Context, tokenID, subject string) (*command.OIDCToken, error) {
	t, err := s.cmds.OIDCAccessToken(ctx, instanceFrom(ctx), tokenID)
	if err != nil {
		return nil, opErr(err, oidc.ErrAccessDenied().WithDescription("access token invalid"))
	}
	if t.UserID != subject {
		return nil, oidc.ErrAccessDenied().WithDescription("access token invalid")
	}
	return t, nil
}

func (s *storage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.activeToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	return s.userinfo(ctx, ui, t.UserID, t.Scope)
}

var errAudience = errors.New("token audience does not hold the caller")

// SetIntrospectionFromToken applies ZITADEL's audience rule: the token's
// audience must hold the calling client's ID or its project's; otherwise
// the answer is {"active":false}. Nothing is filled before every check
// passed (the library answers the response as it is on an error).
func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.activeToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	c, err := s.client(ctx, clientID)
	if err != nil {
		return err
	}
	if !slices.Contains(t.Audience, clientID) && !slices.Contains(t.Audience, c.app.ProjectID) {
		return errAudience
	}
	ui := new(oidc.UserInfo)
	if err := s.userinfo(ctx, ui, t.UserID, t.Scope); err != nil {
		return err
	}
	resp.SetUserInfo(ui)
	resp.Scope = t.Scope
	resp.ClientID = t.ClientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(t.Expiration)
	resp.IssuedAt = oidc.FromTime(t.IssuedAt)
	resp.AuthTime = oidc.FromTime(t.AuthTime)
	resp.NotBefore = oidc.FromTime(t.IssuedAt)
	resp.Audience = t.Audience
	resp.Issuer = op.IssuerFromContext(ctx)
	resp.JWTID = t.TokenID
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// ValidateJWTProfileScopes keeps the org scopes of the machine's own org
// only (ZITADEL's checkOrgScopes).
func (s *storage) ValidateJWTProfileScopes(ctx context.Context, userID string, scopes []string) ([]string, error) {
	org, err := s.userOrg(ctx, userID)
	if err != nil {
		return nil, opErr(err, oidc.ErrInvalidGrant())
	}
	return filterOrgScopes(scopes, org), nil
}

func filterOrgScopes(scopes []string, orgID string) []string {
	out := scopes[:0:0]
	for _, sc := range scopes {
		if id, ok := strings.CutPrefix(sc, scopeOrgIDPrefix); ok && id != orgID {
			continue
		}
		if strings.HasPrefix(sc, scopeOrgDomainPrefix) {
			// The primary domain is not known here; ZITADEL keeps it only
			// for the machine's own org. Dropped (see CHANGELOG).
			continue
		}
		out = append(out, sc)
	}
	return out
}

func (s *storage) Health(context.Context) error { return nil }

// --- machine grants ---

func (s *storage) ClientCredentials(ctx context.Context, clientID, secret string) (op.Client, error) {
	m, err := s.cmds.CheckMachineClient(ctx, instanceFrom(ctx), clientID, secret)
	if err != nil {
		return nil, opErr(err, oidc.ErrInvalidClient())
	}
	// The token request that follows in the same request needs the user.
	if r := requestFrom(ctx); r != nil {
		r.mu.Lock()
		if r.machines == nil {
			r.machines = map[string]command.MachineClient{}
		}
		r.machines[clientID] = m
		r.mu.Unlock()
		r.keepLifetimes(m.Lifetimes)
	}
	return &machineClient{clientID: clientID, userID: m.UserID, jwt: m.JWT}, nil
}

func (s *storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	m, ok := command.MachineClient{}, false
	if r := requestFrom(ctx); r != nil {
		r.mu.Lock()
		m, ok = r.machines[clientID]
		r.mu.Unlock()
	}
	if !ok {
		// The library authenticates the client first (ClientCredentials);
		// without that in this request, the client is not authenticated.
		return nil, oidc.ErrInvalidClient()
	}
	scopes = filterOrgScopes(scopes, m.OrgID)
	aud, err := s.scopeAudience(ctx, scopes)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return &tokenRequest{subject: m.UserID, userOrg: m.OrgID, clientID: clientID, audience: aud, scopes: scopes, amr: []string{"pwd"}}, nil
}

// JWTProfileTokenType is the access token type of the assertion's
// machine user (the request's subject), read when the token is minted, so
// that UpdateMachine applies to the next token.
func (s *storage) JWTProfileTokenType(ctx context.Context, req op.TokenRequest) (op.AccessTokenType, error) {
	// The assertion's key was read with the user in this request.
	if r := requestFrom(ctx); r != nil {
		r.mu.Lock()
		jwt, ok := r.tokenJWT[req.GetSubject()]
		r.mu.Unlock()
		if ok {
			return machineTokenType(jwt), nil
		}
	}
	jwt, err := s.cmds.MachineTokenJWT(ctx, instanceFrom(ctx), req.GetSubject())
	if err != nil {
		return op.AccessTokenTypeBearer, oidc.ErrServerError().WithParent(err)
	}
	return machineTokenType(jwt), nil
}
