package oidc

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
)

func errAPIToken() error { return errs.Unauthenticated("AUTH-7fs1e", "Errors.Token.Invalid") }

// errAPIAudience is ZITADEL's answer to an OP token without the instance's
// project in its audience.
func errAPIAudience() error { return errs.Unauthenticated("APP-Zxfako", "invalid audience") }

// APICaller authenticates an access token the OP issued (opaque or JWT) for
// the API of instanceID, as ZITADEL's API does: the token must
// be active (its OIDC session's events say so, so revocation and a
// terminated session take effect at once, JWTs included: their jti is
// looked up), and its audience must hold the instance's own project.
//
// A JWT's issuer must be an origin of the instance.
//
// Errors: Unauthenticated AUTH-7fs1e (not an active OP token of this
// instance) or APP-Zxfako (audience); Internal on store failure.
func (o *OP) APICaller(ctx context.Context, instanceID, token string) (*authz.Caller, error) {
	tokenID := ""
	if strings.Count(token, ".") == 2 {
		id, err := o.verifyJWT(ctx, instanceID, token)
		if err != nil {
			return nil, err
		}
		tokenID = id
	} else {
		plain, err := o.storage.crypto.Decrypt(token)
		if err != nil {
			return nil, errAPIToken()
		}
		id, _, ok := strings.Cut(plain, ":")
		if !ok {
			return nil, errAPIToken()
		}
		tokenID = id
	}
	t, err := o.storage.cmds.OIDCAccessToken(ctx, instanceID, tokenID)
	if err != nil {
		if errs.KindOf(err) == errs.KindUnauthenticated {
			return nil, errAPIToken()
		}
		return nil, err
	}
	project, err := o.q.InstanceProjectID(ctx, instanceID)
	if err != nil {
		return nil, err
	}
	if project == "" || !slices.Contains(t.Audience, project) {
		return nil, errAPIAudience()
	}
	return o.q.CallerOfUser(ctx, instanceID, t.UserID)
}

// verifyJWT checks a JWT access token's signature against the instance's
// published keys and its issuer, and returns its jti.
func (o *OP) verifyJWT(ctx context.Context, instanceID, token string) (string, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		return "", errAPIToken()
	}
	keys, err := o.storage.cmds.KeySet(ctx, instanceID)
	if err != nil {
		return "", err
	}
	kid := tok.Headers[0].KeyID
	for _, k := range keys {
		if k.ID != kid {
			continue
		}
		var c jwt.Claims
		if err := tok.Claims(k.Key, &c); err != nil {
			return "", errAPIToken()
		}
		// An expired (or not yet valid) JWT fails on its own claims, before
		// its jti is looked up.
		if c.Expiry == nil || c.ValidateWithLeeway(jwt.Expected{Time: time.Now()}, 0) != nil {
			return "", errAPIToken()
		}
		if c.ID == "" || !o.sameInstance(ctx, c.Issuer, instanceID) {
			return "", errAPIToken()
		}
		if _, ok := command.ParseAccessTokenID(c.ID); !ok {
			return "", errAPIToken()
		}
		return c.ID, nil
	}
	return "", errAPIToken()
}

// sameInstance reports whether issuer is an origin of instanceID (an
// instance answers to several domains, each its own issuer).
func (o *OP) sameInstance(ctx context.Context, issuer, instanceID string) bool {
	u, err := url.Parse(issuer)
	if err != nil || u.Path != "" || (u.Scheme == "http") == o.secure {
		return false
	}
	id, err := o.q.InstanceByHost(ctx, strings.ToLower(u.Hostname()))
	return err == nil && id == instanceID
}
