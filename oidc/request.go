package oidc

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/idledger/idledger/command"
)

// authRequest is a command.AuthRequest as op.AuthRequest. sessionID is
// set once the code exchange has created the OIDC session, for the ID
// token's sid.
type authRequest struct {
	*command.AuthRequest
	oidcSessionID string
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string          { return a.ID }
func (a *authRequest) GetACR() string         { return "" }
func (a *authRequest) GetAMR() []string       { return a.AMR }
func (a *authRequest) GetAudience() []string  { return a.Audience }
func (a *authRequest) GetAuthTime() time.Time { return a.AuthTime }
func (a *authRequest) GetClientID() string    { return a.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: oidc.CodeChallengeMethod(a.CodeChallengeMethod)}
}
func (a *authRequest) GetNonce() string                   { return a.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.ResponseType) }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.ResponseMode) }
func (a *authRequest) GetScopes() []string                { return a.Scope }
func (a *authRequest) GetState() string                   { return a.State }
func (a *authRequest) GetSubject() string                 { return a.UserID }
func (a *authRequest) Done() bool {
	return a.Status == command.AuthRequestLinked || a.Status == command.AuthRequestCodeIssued
}

// tokenRequest is a machine grant's (client_credentials) or a refresh
// grant's request.
type tokenRequest struct {
	subject, userOrg, clientID string
	audience, scopes, amr      []string
	authTime                   time.Time
	// refresh grant: the session and its current refresh token
	sessionID, refreshToken, nonce string
}

var (
	_ op.TokenRequest        = (*tokenRequest)(nil)
	_ op.RefreshTokenRequest = (*tokenRequest)(nil)
)

func (t *tokenRequest) GetSubject() string          { return t.subject }
func (t *tokenRequest) GetAudience() []string       { return t.audience }
func (t *tokenRequest) GetScopes() []string         { return t.scopes }
func (t *tokenRequest) GetAMR() []string            { return t.amr }
func (t *tokenRequest) GetAuthTime() time.Time      { return t.authTime }
func (t *tokenRequest) GetClientID() string         { return t.clientID }
func (t *tokenRequest) SetCurrentScopes(s []string) { t.scopes = s }
