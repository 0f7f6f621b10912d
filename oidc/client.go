package oidc

import (
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/idledger/idledger/query"
)

// ZITADEL's reserved scopes.
const (
	scopeProjectAudPrefix = "urn:zitadel:iam:org:project:id:"
	scopeAudSuffix        = ":aud"
	scopeZitadel          = "zitadel"
	scopeOrgIDPrefix      = "urn:zitadel:iam:org:id:"
	scopeOrgDomainPrefix  = "urn:zitadel:iam:org:domain:primary:"
	scopeReservedPrefix   = "urn:zitadel:iam:"
)

// The enums of events.OIDCConfig (zitadel.app.v1).
const (
	grantAuthorizationCode = 0
	grantImplicit          = 1
	grantRefreshToken      = 2
	grantDeviceCode        = 3
	grantTokenExchange     = 4

	authMethodBasic         = 0
	authMethodPost          = 1
	authMethodNone          = 2
	authMethodPrivateKeyJWT = 3
)

// client is an OIDC or API app as op.Client.
type client struct {
	app        *query.Client
	idLifetime time.Duration
	loginURL   string // base of the hosted login or --login-url ("" → default)
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string { return c.app.ClientID }
func (c *client) RedirectURIs() []string {
	if c.app.OIDC.DevMode {
		return nil
	}
	return c.app.OIDC.RedirectURIs
}

// RedirectURIGlobs: in dev mode, redirect URIs are globs (ZITADEL).
func (c *client) RedirectURIGlobs() []string {
	if c.app.OIDC.DevMode {
		return c.app.OIDC.RedirectURIs
	}
	return nil
}
func (c *client) PostLogoutRedirectURIs() []string {
	if c.app.OIDC.DevMode {
		return nil
	}
	return c.app.OIDC.PostLogoutRedirectURIs
}
func (c *client) PostLogoutRedirectURIGlobs() []string {
	if c.app.OIDC.DevMode {
		return c.app.OIDC.PostLogoutRedirectURIs
	}
	return nil
}

func (c *client) ApplicationType() op.ApplicationType {
	switch c.app.OIDC.ApplicationType {
	case 1:
		return op.ApplicationTypeUserAgent
	case 2:
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.app.Kind == "api" {
		if c.app.APIAuthMethod == 1 {
			return oidc.AuthMethodPrivateKeyJWT
		}
		return oidc.AuthMethodBasic
	}
	switch c.app.OIDC.AuthMethodType {
	case authMethodPost:
		return oidc.AuthMethodPost
	case authMethodNone:
		return oidc.AuthMethodNone
	case authMethodPrivateKeyJWT:
		return oidc.AuthMethodPrivateKeyJWT
	}
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	var out []oidc.ResponseType
	for _, t := range c.app.OIDC.ResponseTypes {
		switch t {
		case 0:
			out = append(out, oidc.ResponseTypeCode)
		case 1:
			out = append(out, oidc.ResponseTypeIDTokenOnly)
		case 2:
			out = append(out, oidc.ResponseTypeIDToken)
		}
	}
	if len(c.app.OIDC.ResponseTypes) == 0 && c.app.Kind == "oidc" {
		out = []oidc.ResponseType{oidc.ResponseTypeCode}
	}
	return out
}

func (c *client) GrantTypes() []oidc.GrantType {
	var out []oidc.GrantType
	for _, g := range c.app.OIDC.GrantTypes {
		switch g {
		case grantAuthorizationCode:
			out = append(out, oidc.GrantTypeCode)
		case grantImplicit:
			out = append(out, oidc.GrantTypeImplicit)
		case grantRefreshToken:
			out = append(out, oidc.GrantTypeRefreshToken)
		case grantDeviceCode:
			out = append(out, oidc.GrantTypeDeviceCode)
		case grantTokenExchange:
			out = append(out, oidc.GrantTypeTokenExchange)
		}
	}
	if len(c.app.OIDC.GrantTypes) == 0 && c.app.Kind == "oidc" {
		out = []oidc.GrantType{oidc.GrantTypeCode}
	}
	return out
}

// The login v2 URL: ZITADEL's LoginPath and LoginAuthRequestParam
// (internal/api/oidc/client_converter.go) under a login UI's base URI.
const (
	loginPath         = "login"
	loginRequestParam = "authRequest"
	hostedLoginBase   = "/ui/v2/login" // ZITADEL's DefaultLoginURLV2 without "/login?authRequest="
)

// LoginURL is ZITADEL's login v2 URL for the auth request id (V2_…): the
// app's loginVersion.loginV2.baseUri, else the server's --login-url (as
// ZITADEL's instance feature LoginV2.BaseURI), else the hosted login. The
// base URI's path gets /login appended (one slash between, as url.JoinPath
// does) and its query the authRequest parameter.
func (c *client) LoginURL(id string) string {
	if c.app.OIDC.LoginVersion == 2 && c.app.OIDC.LoginBaseURI != "" {
		if u, ok := loginURLUnder(c.app.OIDC.LoginBaseURI, id); ok {
			return u
		}
	}
	if c.loginURL != "" {
		if u, ok := loginURLUnder(c.loginURL, id); ok {
			return u
		}
	}
	u, _ := loginURLUnder(hostedLoginBase, id)
	return u
}

// loginURLUnder is base + "/login?authRequest=" + id; false when base does
// not parse. The config validates --login-url, but an app's baseUri is
// stored as given, so LoginURL falls back to the next choice for a bad one.
func loginURLUnder(base, id string) (string, bool) {
	u, err := url.Parse(base)
	if err != nil {
		return "", false
	}
	u = u.JoinPath(loginPath)
	q := u.Query()
	q.Set(loginRequestParam, id)
	u.RawQuery = q.Encode()
	return u.String(), true
}

func (c *client) AccessTokenType() op.AccessTokenType {
	if c.app.OIDC.AccessTokenType == 1 {
		return op.AccessTokenTypeJWT
	}
	return op.AccessTokenTypeBearer
}
func (c *client) IDTokenLifetime() time.Duration { return c.idLifetime }
func (c *client) DevMode() bool                  { return c.app.OIDC.DevMode }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed passes ZITADEL's reserved scopes (the standard ones pass
// anyway).
func (c *client) IsScopeAllowed(scope string) bool {
	return strings.HasPrefix(scope, scopeReservedPrefix)
}
func (c *client) IDTokenUserinfoClaimsAssertion() bool {
	return c.app.OIDC.IDTokenUserinfoAssertion
}
func (c *client) ClockSkew() time.Duration { return c.app.OIDC.ClockSkew }

// machineClient is a machine user as the client of client_credentials
// (ZITADEL's clientCredentialsClient): client ID = its user name; jwt is
// its access token type.
type machineClient struct {
	clientID, userID string
	jwt              bool
}

var _ op.Client = (*machineClient)(nil)

func (c *machineClient) GetID() string                       { return c.clientID }
func (c *machineClient) RedirectURIs() []string              { return nil }
func (c *machineClient) PostLogoutRedirectURIs() []string    { return nil }
func (c *machineClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *machineClient) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *machineClient) ResponseTypes() []oidc.ResponseType  { return nil }
func (c *machineClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials}
}
func (c *machineClient) LoginURL(string) string              { return "" }
func (c *machineClient) AccessTokenType() op.AccessTokenType { return machineTokenType(c.jwt) }
func (c *machineClient) IDTokenLifetime() time.Duration      { return 0 }
func (c *machineClient) DevMode() bool                       { return false }
func (c *machineClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *machineClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *machineClient) IsScopeAllowed(string) bool           { return true }
func (c *machineClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *machineClient) ClockSkew() time.Duration             { return 0 }

// machineTokenType is the access token type of a machine user that gets
// JWTs (jwt) or opaque tokens.
func machineTokenType(jwt bool) op.AccessTokenType {
	if jwt {
		return op.AccessTokenTypeJWT
	}
	return op.AccessTokenTypeBearer
}
