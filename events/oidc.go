package events

import "time"

// The OpenID Provider's aggregates (ZITADEL's names): an auth request
// (aggregate ID "V2_<id>", resource owner = instance ID) lives from the
// authorize call to the code exchange; an OIDC session (aggregate ID
// "V2_<id>") holds the tokens issued from one grant.
const (
	AggAuthRequest = "auth_request"
	AggOIDCSession = "oidc_session"
)

// Auth request and OIDC session event types.
const (
	AuthRequestAdded         = "auth_request.added"
	AuthRequestSessionLinked = "auth_request.session.linked"
	AuthRequestCodeAdded     = "auth_request.code.added"
	AuthRequestCodeExchanged = "auth_request.code.exchanged"
	AuthRequestFailed        = "auth_request.failed"
	AuthRequestSucceeded     = "auth_request.succeeded"

	OIDCSessionAdded               = "oidc_session.added"
	OIDCSessionAccessTokenAdded    = "oidc_session.access_token.added"
	OIDCSessionAccessTokenRevoked  = "oidc_session.access_token.revoked"
	OIDCSessionRefreshTokenAdded   = "oidc_session.refresh_token.added"
	OIDCSessionRefreshTokenRenewed = "oidc_session.refresh_token.renewed"
	OIDCSessionRefreshTokenRevoked = "oidc_session.refresh_token.revoked"
)

// AuthRequestAddedPayload is an authorization request as the OP accepted
// it. The PKCE challenge is a hash of the verifier, not a secret.
type AuthRequestAddedPayload struct {
	LoginClient         string   `json:"loginClient,omitempty"`
	ClientID            string   `json:"clientId"`
	RedirectURI         string   `json:"redirectUri"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	Scope               []string `json:"scope,omitempty"`
	Audience            []string `json:"audience,omitempty"`
	ResponseType        string   `json:"responseType"`
	ResponseMode        string   `json:"responseMode,omitempty"`
	CodeChallenge       string   `json:"codeChallenge,omitempty"`
	CodeChallengeMethod string   `json:"codeChallengeMethod,omitempty"`
	Prompt              []string `json:"prompt,omitempty"`
	UILocales           []string `json:"uiLocales,omitempty"`
	MaxAge              *int64   `json:"maxAge,omitempty"` // seconds
	LoginHint           string   `json:"loginHint,omitempty"`
	HintUserID          string   `json:"hintUserId,omitempty"`
	NeedRefreshToken    bool     `json:"needRefreshToken,omitempty"`
	Issuer              string   `json:"issuer"`
}

// AuthRequestSessionLinkedPayload ties the request to the session the user
// signed in with.
type AuthRequestSessionLinkedPayload struct {
	SessionID   string    `json:"sessionId"`
	UserID      string    `json:"userId"`
	AuthTime    time.Time `json:"authTime"`
	AuthMethods []string  `json:"authMethods,omitempty"` // amr
}

// AuthRequestCodeAddedPayload holds only the SHA-256 of the code.
type AuthRequestCodeAddedPayload struct {
	CodeHash string `json:"codeHash"`
}

// AuthRequestCodeExchangedPayload names the OIDC session the code
// produced, which a second use of the code revokes.
type AuthRequestCodeExchangedPayload struct {
	OIDCSessionID string `json:"oidcSessionId"`
}

// AuthRequestFailedPayload is the error the login UI gave.
type AuthRequestFailedPayload struct {
	Reason      string `json:"reason"`
	Description string `json:"description,omitempty"`
}

// OIDCSessionAddedPayload is who a grant issued tokens to.
type OIDCSessionAddedPayload struct {
	UserID            string    `json:"userId"`
	UserResourceOwner string    `json:"userResourceOwner,omitempty"`
	SessionID         string    `json:"sessionId,omitempty"` // the login session, for the code flow
	ClientID          string    `json:"clientId"`
	Audience          []string  `json:"audience,omitempty"`
	Scope             []string  `json:"scope,omitempty"`
	AuthMethods       []string  `json:"authMethods,omitempty"`
	AuthTime          time.Time `json:"authTime,omitzero"`
	Nonce             string    `json:"nonce,omitempty"`
}

// OIDCAccessTokenAddedPayload is an issued access token: its ID only (the
// token is the ID encrypted with the master key, or a JWT naming it).
type OIDCAccessTokenAddedPayload struct {
	ID       string        `json:"id"`
	Scope    []string      `json:"scope,omitempty"`
	Lifetime time.Duration `json:"lifetime"`
}

// OIDCAccessTokenRevokedPayload revokes the access token ID ("" for all).
type OIDCAccessTokenRevokedPayload struct {
	ID string `json:"id,omitempty"`
}

// OIDCRefreshTokenPayload is an issued or renewed refresh token: its ID
// and the SHA-256 of the token, never the token.
type OIDCRefreshTokenPayload struct {
	ID           string        `json:"id"`
	TokenHash    string        `json:"tokenHash"`
	Scope        []string      `json:"scope,omitempty"`
	IdleLifetime time.Duration `json:"idleLifetime"`
	Lifetime     time.Duration `json:"lifetime,omitempty"` // absolute, from the first refresh token
}

func oidcCatalog() []EventInfo {
	return []EventInfo{
		{AuthRequestAdded, AggAuthRequest, AuthRequestAddedPayload{}, "an authorization request was accepted at /oauth/v2/authorize"},
		{AuthRequestSessionLinked, AggAuthRequest, AuthRequestSessionLinkedPayload{}, "a login UI finished an auth request with a session (CreateCallback)"},
		{AuthRequestCodeAdded, AggAuthRequest, AuthRequestCodeAddedPayload{}, "an authorization code was issued (SHA-256 only)"},
		{AuthRequestCodeExchanged, AggAuthRequest, AuthRequestCodeExchangedPayload{}, "the code was exchanged for tokens (single use)"},
		{AuthRequestFailed, AggAuthRequest, AuthRequestFailedPayload{}, "a login UI failed an auth request (CreateCallback with an error)"},
		{AuthRequestSucceeded, AggAuthRequest, nil, "the auth request is done"},
		{OIDCSessionAdded, AggOIDCSession, OIDCSessionAddedPayload{}, "a grant issued tokens to a user for a client"},
		{OIDCSessionAccessTokenAdded, AggOIDCSession, OIDCAccessTokenAddedPayload{}, "an access token was issued (its ID only)"},
		{OIDCSessionAccessTokenRevoked, AggOIDCSession, OIDCAccessTokenRevokedPayload{}, "an access token was revoked"},
		{OIDCSessionRefreshTokenAdded, AggOIDCSession, OIDCRefreshTokenPayload{}, "a refresh token was issued (SHA-256 only)"},
		{OIDCSessionRefreshTokenRenewed, AggOIDCSession, OIDCRefreshTokenPayload{}, "the refresh token was rotated: the old one is void (SHA-256 only)"},
		{OIDCSessionRefreshTokenRevoked, AggOIDCSession, nil, "the refresh token was revoked; a rotated token's reuse revokes the session's tokens"},
	}
}
