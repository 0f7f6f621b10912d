package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/client"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/idledger/idledger/idp"
)

// The OAuth 2 family: generic OAuth, GitHub, GitHub Enterprise Server and
// Azure AD. The code flow is zitadel/oidc's OAuth-only RP over
// golang.org/x/oauth2; the user comes from the kind's user endpoint. Azure
// AD with a tenant ID also has its id_token verified against the tenant's
// issuer and keys (zitadel/oidc's verifier).

type oauthProvider struct {
	kind   idp.Kind
	party  rp.RelyingParty
	client *http.Client
	pkce   bool
	// userURL and emailsURL: the user endpoint, and GitHub's addresses.
	userURL, emailsURL string
	idAttribute        string
	// emailVerified is Azure AD's template flag: Graph says nothing.
	emailVerified bool
	// idToken verifies Azure AD's id_token when the template names a
	// tenant ID: signature by the tenant's keys, its issuer, our client as
	// audience, expiry. nil otherwise.
	idToken *rp.IDTokenVerifier
}

func buildOAuth(ctx context.Context, r *Registry, l Login) (any, error) {
	k := l.Template.Kind
	e := k.Endpoints
	p := &oauthProvider{kind: k, client: r.client, userURL: e.UserURL, emailsURL: e.EmailsURL}
	cfg := &oauth2.Config{RedirectURL: l.RedirectURI, Endpoint: oauth2.Endpoint{AuthURL: e.AuthURL, TokenURL: e.TokenURL}}
	var scopes []string
	switch c := l.Template.Config.(type) {
	case *idp.OAuthConfig:
		cfg.ClientID, cfg.ClientSecret, scopes = c.ClientID, c.ClientSecret, c.Scopes
		cfg.Endpoint = oauth2.Endpoint{AuthURL: c.AuthorizationEndpoint, TokenURL: c.TokenEndpoint}
		p.userURL, p.idAttribute, p.pkce = c.UserEndpoint, c.IDAttribute, c.UsePKCE
	case *idp.GitHubESConfig:
		cfg.ClientID, cfg.ClientSecret, scopes = c.ClientID, c.ClientSecret, c.Scopes
		cfg.Endpoint = oauth2.Endpoint{AuthURL: c.AuthorizationEndpoint, TokenURL: c.TokenEndpoint}
		p.userURL = c.UserEndpoint
		p.emailsURL = strings.TrimSuffix(c.UserEndpoint, "/") + "/emails"
	case *idp.ClientConfig: // GitHub
		cfg.ClientID, cfg.ClientSecret, scopes = c.ClientID, c.ClientSecret, c.Scopes
	case *idp.AzureADConfig:
		cfg.ClientID, cfg.ClientSecret, scopes = c.ClientID, c.ClientSecret, c.Scopes
		tenant := string(c.Tenant)
		if tenant == "" {
			tenant = idp.AzureTenantCommon
		}
		cfg.Endpoint.AuthURL = strings.ReplaceAll(e.AuthURL, "{tenant}", tenant)
		cfg.Endpoint.TokenURL = strings.ReplaceAll(e.TokenURL, "{tenant}", tenant)
		p.emailVerified = c.EmailVerified
		if !azureTenantType(tenant) {
			v, err := tenantVerifier(ctx, r, strings.ReplaceAll(e.Issuer, "{tenant}", tenant), c.ClientID)
			if err != nil {
				return nil, err
			}
			p.idToken = v
		}
	default:
		return nil, fmt.Errorf("upstream: %T is not an OAuth config", c)
	}
	cfg.Scopes = scopesOf(k, scopes)
	party, err := rp.NewRelyingPartyOAuth(cfg, rp.WithHTTPClient(r.client))
	if err != nil {
		return nil, fmt.Errorf("upstream: oauth client: %w", err)
	}
	p.party = party
	return p, nil
}

// azureTenantType reports whether tenant is one of Azure AD's tenant types,
// whose tokens come from many issuers; any other value is a tenant ID.
func azureTenantType(tenant string) bool {
	switch tenant {
	case idp.AzureTenantCommon, idp.AzureTenantOrganizations, idp.AzureTenantConsumers:
		return true
	}
	return false
}

// tenantVerifier discovers Azure AD tenant issuer's keys (once per built
// provider, over the bounded client) and returns zitadel/oidc's ID token
// verifier for it. Discovery must name issuer itself.
func tenantVerifier(ctx context.Context, r *Registry, issuer, clientID string) (*rp.IDTokenVerifier, error) {
	d, err := client.Discover(ctx, issuer, r.client)
	if err != nil {
		return nil, fmt.Errorf("upstream: discovery of %s: %w", issuer, err)
	}
	if d.Issuer != issuer || d.JwksURI == "" {
		return nil, fmt.Errorf("upstream: discovery of %s names issuer %q and keys %q", issuer, d.Issuer, d.JwksURI)
	}
	return rp.NewIDTokenVerifier(issuer, clientID, rp.NewRemoteKeySet(r.client, d.JwksURI)), nil
}

// Begin builds the authorization URL, with the S256 challenge when the
// template asks for PKCE.
func (p *oauthProvider) Begin(_ context.Context, state string) (Start, error) {
	saved := map[string]string{}
	var opts []rp.AuthURLOpt
	if pr := p.kind.Endpoints.Prompt; pr != "" {
		opts = append(opts, rp.WithPrompt(pr))
	}
	if p.pkce {
		v := oauth2.GenerateVerifier()
		saved["codeVerifier"] = v
		opts = append(opts, rp.WithCodeChallenge(oauth2.S256ChallengeFromVerifier(v)))
	}
	return Start{AuthURL: rp.AuthURL(state, p.party, opts...), Saved: saved}, nil
}

// Finish exchanges the code and reads the user endpoint with the token;
// for GitHub, the verified flag of the user's email from /user/emails.
func (p *oauthProvider) Finish(ctx context.Context, saved map[string]string, cb Callback) (Result, error) {
	if cb.Code == "" {
		return Result{}, errors.New("upstream: no code in the callback")
	}
	var opts []rp.CodeExchangeOpt
	if v := saved["codeVerifier"]; v != "" {
		opts = append(opts, rp.WithCodeVerifier(v))
	}
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, cb.Code, p.party, opts...)
	if err != nil {
		return Result{}, fmt.Errorf("upstream: code exchange: %w", err)
	}
	if tokens.IDToken == "" {
		// An OAuth-only RP leaves the id_token (Azure AD's) in the extras.
		tokens.IDToken, _ = tokens.Extra("id_token").(string)
	}
	if p.idToken != nil {
		if tokens.IDToken == "" {
			return Result{}, errors.New("upstream: the tenant's token response has no id_token")
		}
		if _, err := rp.VerifyIDToken[*oidc.IDTokenClaims](ctx, tokens.IDToken, p.idToken); err != nil {
			return Result{}, fmt.Errorf("upstream: id_token: %w", err)
		}
	}
	var raw map[string]any
	if err := p.get(ctx, p.userURL, tokens.Token, &raw); err != nil {
		return Result{}, err
	}
	u := mapUser(p.kind.Mapping, raw, p.idAttribute)
	switch {
	case p.kind.Path == "oauth":
		u.Raw = map[string]any{"RawInfo": raw} // ZITADEL's shape of rawInformation
	case p.kind.Path == "azure":
		u.EmailVerified = p.emailVerified && u.Email != ""
	case p.emailsURL != "":
		if err := p.githubEmail(ctx, tokens.Token, &u); err != nil {
			return Result{}, err
		}
	}
	if u.ID == "" {
		return Result{}, errors.New("upstream: the user has no ID")
	}
	return Result{User: u, AccessToken: tokens.AccessToken, IDToken: tokens.IDToken,
		RefreshToken: tokens.RefreshToken, ExpiresAt: tokenExpiry(tokens.Token)}, nil
}

func (p *oauthProvider) get(ctx context.Context, url string, t *oauth2.Token, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("upstream: user endpoint: %w", err)
	}
	typ := t.Type()
	req.Header.Set("Authorization", typ+" "+t.AccessToken)
	return getJSON(req, p.client, v)
}

// githubEmail takes the email and its verified flag from /user/emails:
// the /user email when it is listed there, else the primary one. /user
// alone says nothing about verification.
func (p *oauthProvider) githubEmail(ctx context.Context, t *oauth2.Token, u *User) error {
	var list []struct {
		Email    string `json:"email"`
		Verified bool   `json:"verified"`
		Primary  bool   `json:"primary"`
	}
	if err := p.get(ctx, p.emailsURL, t, &list); err != nil {
		return err
	}
	u.EmailVerified = false
	for _, e := range list {
		if u.Email != "" && strings.EqualFold(e.Email, u.Email) {
			u.EmailVerified = e.Verified
			return nil
		}
	}
	for _, e := range list {
		if e.Primary {
			u.Email, u.EmailVerified = e.Email, e.Verified
		}
	}
	return nil
}
