package oidc_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
	"github.com/idledger/idledger/gen/zitadel/management/v1/managementv1connect"
	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
)

// h2c speaks cleartext HTTP/2 with prior knowledge (gRPC) and HTTP/1.1
// otherwise.
var h2c = func() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{
		Protocols:      &p,
		DialTLSContext: func(context.Context, string, string) (net.Conn, error) { return nil, tls.RecordHeaderError{} },
	}}
}()

var rpcProtocols = map[string][]connect.ClientOption{
	"grpc":          {connect.WithGRPC()},
	"grpc-web":      {connect.WithGRPCWeb()},
	"connect+json":  {connect.WithProtoJSON()},
	"connect+proto": nil,
}

// getMyOrg calls ManagementService.GetMyOrg over the protocol opts with
// bearer token tok.
func getMyOrg(t *testing.T, env *apptest.Env, tok string, opts ...connect.ClientOption) (*managementv1.GetMyOrgResponse, error) {
	t.Helper()
	c := managementv1connect.NewManagementServiceClient(h2c, env.URL, opts...)
	req := connect.NewRequest(&managementv1.GetMyOrgRequest{})
	req.Header().Set("Authorization", "Bearer "+tok)
	resp, err := c.GetMyOrg(context.Background(), req)
	if err != nil {
		return nil, err
	}
	return resp.Msg, nil
}

// TestOPTokenOverRPC: an OP access token (opaque or JWT) works over gRPC,
// gRPC-Web and Connect (the gen/ clients) with the zitadel audience, and
// is refused (Unauthenticated) without it and once revoked.
func TestOPTokenOverRPC(t *testing.T) {
	f := newFixture(t)
	env := f.env
	env.Grant(t, f.userID, env.DefaultOrgID, "ORG_OWNER")
	opaqueID, opaqueSecret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", nil)
	jwtID, jwtSecret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", map[string]any{"name": "jwt", "accessTokenType": "OIDC_TOKEN_TYPE_JWT"})
	opaque := f.rp(t, opaqueID, opaqueSecret, oidc.ScopeOpenID, zitadelAud)
	jwtParty := f.rp(t, jwtID, jwtSecret, oidc.ScopeOpenID, zitadelAud)
	ot, _ := f.codeFlow(t, opaque)
	jt, _ := f.codeFlow(t, jwtParty)
	noAudOpaque, _ := f.codeFlow(t, f.rp(t, opaqueID, opaqueSecret, oidc.ScopeOpenID))
	noAudJWT, _ := f.codeFlow(t, f.rp(t, jwtID, jwtSecret, oidc.ScopeOpenID))

	check := func(state string, toks map[string]string, want connect.Code) {
		t.Helper()
		for pname, opts := range rpcProtocols {
			for tname, tok := range toks {
				resp, err := getMyOrg(t, env, tok, opts...)
				if want == 0 {
					if err != nil || resp.GetOrg().GetId() != env.DefaultOrgID {
						t.Errorf("%s %s token over %s: %v %v", state, tname, pname, resp, err)
					}
				} else if connect.CodeOf(err) != want {
					t.Errorf("%s %s token over %s: %v, want %s", state, tname, pname, err, want)
				}
			}
		}
	}
	check("zitadel audience", map[string]string{"opaque": ot.AccessToken, "jwt": jt.AccessToken}, 0)
	check("no zitadel audience", map[string]string{"opaque": noAudOpaque.AccessToken, "jwt": noAudJWT.AccessToken}, connect.CodeUnauthenticated)

	ctx := context.Background()
	if err := rp.RevokeToken(ctx, opaque, ot.AccessToken, "access_token"); err != nil {
		t.Fatal(err)
	}
	if err := rp.RevokeToken(ctx, jwtParty, jt.AccessToken, "access_token"); err != nil {
		t.Fatal(err)
	}
	check("revoked", map[string]string{"opaque": ot.AccessToken, "jwt": jt.AccessToken}, connect.CodeUnauthenticated)
}

// TestOPTokenFailuresRateLimited: a failed OP access token (revoked,
// opaque or JWT, on REST or RPC) counts toward the auth rate limit as a
// failed PAT does: after the allowed failures the client gets 429
// AUTH-Rate1 (ResourceExhausted over RPC), while a token that
// authenticated before keeps working.
func TestOPTokenFailuresRateLimited(t *testing.T) {
	f := fixtureOn(t, apptest.NewWith(t, app.Options{Limits: app.Limits{AuthFailures: 3, AuthWindow: time.Hour}}))
	env := f.env
	clientID, secret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", nil)
	jwtID, jwtSecret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", map[string]any{"name": "jwt", "accessTokenType": "OIDC_TOKEN_TYPE_JWT"})
	party := f.rp(t, clientID, secret, oidc.ScopeOpenID, zitadelAud)
	jwtParty := f.rp(t, jwtID, jwtSecret, oidc.ScopeOpenID, zitadelAud)
	ot, _ := f.codeFlow(t, party)
	jt, _ := f.codeFlow(t, jwtParty)
	me := func(tok string) int {
		st, _ := env.DoAs(t, tok, "GET", "/auth/v1/users/me", nil)
		return st
	}
	if me(ot.AccessToken) != http.StatusOK || me(jt.AccessToken) != http.StatusOK {
		t.Fatal("the OP tokens do not work")
	}
	ctx := context.Background()
	if err := rp.RevokeToken(ctx, party, ot.AccessToken, "access_token"); err != nil {
		t.Fatal(err)
	}
	if err := rp.RevokeToken(ctx, jwtParty, jt.AccessToken, "access_token"); err != nil {
		t.Fatal(err)
	}
	if st := me(ot.AccessToken); st != http.StatusUnauthorized {
		t.Fatalf("failure 1 (revoked opaque, REST): %d", st)
	}
	if _, err := getMyOrg(t, env, jt.AccessToken, connect.WithGRPC()); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("failure 2 (revoked JWT, gRPC): %v", err)
	}
	if st := me(jt.AccessToken); st != http.StatusUnauthorized {
		t.Fatalf("failure 3 (revoked JWT, REST): %d", st)
	}
	// Limited now, whatever the token.
	if st, body := env.DoAs(t, "unknown-token", "GET", "/auth/v1/users/me", nil); st != http.StatusTooManyRequests || apptest.ErrorID(body) != "AUTH-Rate1" {
		t.Errorf("after three failed OP tokens: %d %s", st, body)
	}
	if _, err := getMyOrg(t, env, "another-guess", connect.WithProtoJSON()); connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Errorf("after three failed OP tokens, over Connect: %v", err)
	}
	// The admin's PAT authenticated before: not limited.
	if st, body := env.Do(t, "GET", "/auth/v1/users/me", nil); st != http.StatusOK {
		t.Errorf("a known valid token: %d %s", st, body)
	}
}
