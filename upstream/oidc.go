package upstream

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/idledger/idledger/idp"
)

// The OIDC family: generic OIDC, GitLab (and self-hosted), Google, Apple.
// zitadel/oidc's RP does discovery, the code exchange, the ID token's
// verification (signature, issuer, audience, expiry, nonce) and userinfo.

// oidcProvider is one IdP's relying party. The RP (discovery done) is
// cached by the registry; the nonce it checks comes from the context of
// each exchange, so one RP serves every login.
type oidcProvider struct {
	kind           idp.Kind
	party          rp.RelyingParty
	pkce           bool
	idTokenMapping bool
}

type nonceKey struct{}

// expectedNonce is the ID token verifier's nonce: the one saved at Begin.
func expectedNonce(ctx context.Context) string {
	n, _ := ctx.Value(nonceKey{}).(string)
	return n
}

func buildOIDC(ctx context.Context, r *Registry, l Login) (any, error) {
	k := l.Template.Kind
	var issuer, clientID, secret string
	var scopes []string
	p := &oidcProvider{kind: k, idTokenMapping: k.Endpoints.IDTokenMapping}
	opts := []rp.Option{rp.WithHTTPClient(r.client), rp.WithVerifierOpts(rp.WithNonce(expectedNonce))}
	switch c := l.Template.Config.(type) {
	case *idp.OIDCConfig:
		issuer, clientID, secret, scopes = c.Issuer, c.ClientID, c.ClientSecret, c.Scopes
		p.pkce, p.idTokenMapping = c.UsePKCE, c.IsIDTokenMapping
	case *idp.GitLabSelfHostedConfig:
		issuer, clientID, secret, scopes = c.Issuer, c.ClientID, c.ClientSecret, c.Scopes
	case *idp.ClientConfig:
		clientID, secret, scopes = c.ClientID, c.ClientSecret, c.Scopes
	case *idp.AppleConfig:
		clientID, scopes = c.ClientID, c.Scopes
		s, err := appleClientSecret(c, k.Endpoints.Issuer, r.now())
		if err != nil {
			return nil, err
		}
		secret = s
		opts = append(opts, rp.WithAuthStyle(oauth2.AuthStyleInParams))
	default:
		return nil, fmt.Errorf("upstream: %T is not an OIDC config", c)
	}
	if k.Endpoints.Issuer != "" {
		issuer = k.Endpoints.Issuer
	}
	party, err := rp.NewRelyingPartyOIDC(ctx, issuer, clientID, secret, l.RedirectURI, scopesOf(k, scopes), opts...)
	if err != nil {
		return nil, fmt.Errorf("upstream: discovery of %s: %w", issuer, err)
	}
	p.party = party
	return p, nil
}

// Begin builds the authorization URL: state, a fresh nonce (always), the
// S256 challenge when the template asks for PKCE, the kind's prompt and
// response mode.
func (p *oidcProvider) Begin(_ context.Context, state string) (Start, error) {
	nonce, err := random(32)
	if err != nil {
		return Start{}, err
	}
	saved := map[string]string{"nonce": nonce}
	opts := []rp.AuthURLOpt{rp.AuthURLOpt(rp.WithURLParam("nonce", nonce))}
	if p.kind.Endpoints.Prompt != "" {
		opts = append(opts, rp.WithPrompt(p.kind.Endpoints.Prompt))
	}
	if m := p.kind.Endpoints.ResponseMode; m != "" {
		opts = append(opts, rp.AuthURLOpt(rp.WithResponseModeURLParam(oidc.ResponseMode(m))))
	}
	if p.pkce {
		v := oauth2.GenerateVerifier()
		saved["codeVerifier"] = v
		opts = append(opts, rp.WithCodeChallenge(oauth2.S256ChallengeFromVerifier(v)))
	}
	return Start{AuthURL: rp.AuthURL(state, p.party, opts...), Saved: saved}, nil
}

// Finish exchanges the code (with the verifier), verifies the ID token
// against the saved nonce, and maps the user from the ID token's claims or
// from userinfo (whose subject must be the ID token's).
func (p *oidcProvider) Finish(ctx context.Context, saved map[string]string, cb Callback) (Result, error) {
	if cb.Code == "" {
		return Result{}, errors.New("upstream: no code in the callback")
	}
	nonce := saved["nonce"]
	if nonce == "" {
		return Result{}, errors.New("upstream: no nonce saved for this login")
	}
	ctx = context.WithValue(ctx, nonceKey{}, nonce)
	var opts []rp.CodeExchangeOpt
	if v := saved["codeVerifier"]; v != "" {
		opts = append(opts, rp.WithCodeVerifier(v))
	}
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, cb.Code, p.party, opts...)
	if err != nil {
		return Result{}, fmt.Errorf("upstream: code exchange: %w", err)
	}
	// The verifier checked the nonce already; checking again here keeps the
	// guarantee independent of the library's option.
	if subtle.ConstantTimeCompare([]byte(tokens.IDTokenClaims.Nonce), []byte(nonce)) != 1 {
		return Result{}, errors.New("upstream: ID token nonce does not match")
	}
	var raw map[string]any
	if p.idTokenMapping {
		raw, err = toMap(tokens.IDTokenClaims)
	} else {
		var info *oidc.UserInfo
		info, err = rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, tokens.TokenType, tokens.IDTokenClaims.GetSubject(), p.party)
		if err == nil {
			raw, err = toMap(info)
		}
	}
	if err != nil {
		return Result{}, fmt.Errorf("upstream: user info: %w", err)
	}
	u := mapUser(p.kind.Mapping, raw, "")
	// Only Apple sends the name this way; from any other upstream a "user"
	// field is the browser's own and says nothing.
	if cb.AppleUser != "" && p.kind.Endpoints.ResponseMode == "form_post" {
		appleName(&u, cb.AppleUser)
	}
	if u.ID == "" {
		return Result{}, errors.New("upstream: the user has no ID")
	}
	return Result{User: u, AccessToken: tokens.AccessToken, IDToken: tokens.IDToken,
		RefreshToken: tokens.RefreshToken, ExpiresAt: tokenExpiry(tokens.Token)}, nil
}

func tokenExpiry(t *oauth2.Token) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Expiry
}

// appleName applies Apple's first-login form field
// {"name":{"firstName","lastName"},"email"}: the only time Apple sends the
// name.
func appleName(u *User, form string) {
	var v struct {
		Name struct {
			FirstName string `json:"firstName"`
			LastName  string `json:"lastName"`
		} `json:"name"`
	}
	if json.Unmarshal([]byte(form), &v) != nil {
		return
	}
	if v.Name.FirstName != "" {
		u.FirstName = v.Name.FirstName
	}
	if v.Name.LastName != "" {
		u.LastName = v.Name.LastName
	}
	if u.DisplayName == "" && (u.FirstName != "" || u.LastName != "") {
		u.DisplayName = u.FirstName + " " + u.LastName
	}
}
