package upstream

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/idledger/idledger/idp"
)

// The JWT family: the browser goes to the template's JWT endpoint, a proxy
// there puts the user's JWT in a header and sends the browser back to
// /idps/jwt. The token is verified with zitadel/oidc's verifier: signature
// against the keys endpoint (a remote key set over the bounded client,
// cached with the provider), issuer, expiry, issued-at, and the audience
// (GHSA-g5h5): the template's, else the instance's origin.

type jwtProvider struct {
	kind     idp.Kind
	endpoint string
	verifier *rp.IDTokenVerifier
}

// jwtMaxAge bounds how old a token's iat may be.
const jwtMaxAge = time.Hour

func buildJWT(_ context.Context, r *Registry, l Login) (any, error) {
	c, ok := l.Template.Config.(*idp.JWTConfig)
	if !ok {
		return nil, fmt.Errorf("upstream: %T is not a JWT config", l.Template.Config)
	}
	aud := c.Audience
	if aud == "" {
		aud = l.Origin
	}
	if aud == "" {
		return nil, errors.New("upstream: JWT IdP without an audience")
	}
	keys := rp.NewRemoteKeySet(r.client, c.KeysEndpoint)
	v := rp.NewIDTokenVerifier(c.Issuer, aud, keys,
		rp.WithIssuedAtMaxAge(jwtMaxAge), rp.WithIssuedAtOffset(3*time.Second),
		// The audience is what binds the token to us; azp names whichever
		// client asked for it, which is not ours to judge.
		rp.WithAZPVerifier(func(string) error { return nil }))
	v.Offset = 3 * time.Second
	return &jwtProvider{kind: l.Template.Kind, endpoint: c.JWTEndpoint, verifier: v}, nil
}

// Begin redirects to the JWT endpoint with authRequestID = the intent and
// userAgentID = a random value that the callback must bring back.
func (p *jwtProvider) Begin(_ context.Context, state string) (Start, error) {
	ua, err := random(24)
	if err != nil {
		return Start{}, err
	}
	u, err := url.Parse(p.endpoint)
	if err != nil {
		return Start{}, fmt.Errorf("upstream: jwt endpoint: %w", err)
	}
	q := u.Query()
	q.Set("authRequestID", state)
	q.Set("userAgentID", ua)
	u.RawQuery = q.Encode()
	return Start{AuthURL: u.String(), Saved: map[string]string{"userAgentID": ua}}, nil
}

// Finish checks the userAgentID, verifies the JWT and maps its claims.
func (p *jwtProvider) Finish(ctx context.Context, saved map[string]string, cb Callback) (Result, error) {
	want := saved["userAgentID"]
	if want == "" || subtle.ConstantTimeCompare([]byte(cb.UserAgentID), []byte(want)) != 1 {
		return Result{}, errors.New("upstream: userAgentID does not match")
	}
	tok := strings.TrimSpace(cb.JWT)
	if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
		tok = strings.TrimSpace(tok[7:])
	}
	if tok == "" {
		return Result{}, errors.New("upstream: no JWT in the header")
	}
	claims, err := rp.VerifyIDToken[*oidc.IDTokenClaims](ctx, tok, p.verifier)
	if err != nil {
		return Result{}, fmt.Errorf("upstream: jwt: %w", err)
	}
	if !slices.Contains(claims.Audience, p.verifier.ClientID) {
		return Result{}, errors.New("upstream: jwt: audience does not match")
	}
	raw, err := toMap(claims)
	if err != nil {
		return Result{}, err
	}
	u := mapUser(p.kind.Mapping, raw, "")
	if u.ID == "" {
		return Result{}, errors.New("upstream: the user has no ID")
	}
	return Result{User: u, IDToken: tok, ExpiresAt: claims.GetExpiration()}, nil
}
