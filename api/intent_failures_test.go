package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/idledger/idledger/internal/app/apptest"
)

// callback is an upstream login run up to our callback: calling it makes
// the browser's request to our endpoint (on host, when not "") and
// answers the status and the redirect.
type callback func(t *testing.T, host string) (int, string)

// TestIntentFailurePaths: the failure paths of the IdP login for one kind
// of each redirect family against real upstreams: generic OIDC and
// generic OAuth at zitadel/oidc's example OP, the JWT IdP with a JWKS of
// our own. The upstream's error, an intent started more than 10 minutes
// ago, a wrong token, another instance's intent; another user's intent is
// refused for every kind by signInTwice (sessionsWithIntent).
func TestIntentFailurePaths(t *testing.T) {
	env, offset := newClockedIntentEnv(t)
	other := env.AddInstance(t, "other.example")
	org := env.CreateOrg(t, "acme")
	alice := env.CreateHuman(t, org, "alice")
	op := newTestOP(t, storage.WebClient("fail", "s3cret-fail", env.URL+"/idps/callback"))
	keys := newJWKS(t)
	const issuer = "https://jwt-issuer.example"

	// atOPCallback runs the login at the OP and stops at our callback.
	atOPCallback := func(t *testing.T, start map[string]any) callback {
		b := newBrowser(t, nil)
		cb := b.loginAtOP(start["authUrl"].(string), "test-user@127.0.0.1", "verysecure", env.URL+"/idps/callback")
		return func(t *testing.T, host string) (int, string) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, cb, nil)
			if host != "" {
				req.Host = host
			}
			resp, err := b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode, resp.Header.Get("Location")
		}
	}
	// upstreamError is the OP's error answer at our callback.
	upstreamError := func(t *testing.T, start map[string]any) callback {
		state := redirectQuery(t, start["authUrl"].(string), op.URL).Get("state")
		return func(t *testing.T, host string) (int, string) {
			resp, to := newBrowser(t, nil).follow(http.MethodGet, env.URL+"/idps/callback?state="+state+
				"&error=access_denied&error_description=the+user+said+no", nil, "https://login.example/")
			if resp != nil {
				t.Fatalf("upstream error: %d at %s", resp.StatusCode, to)
			}
			return http.StatusFound, to
		}
	}
	jwtCallback := func(key bool) func(t *testing.T, start map[string]any) callback {
		return func(t *testing.T, start map[string]any) callback {
			signer := keys.key
			if !key {
				signer = newJWKS(t).key // a key the JWKS does not publish
			}
			tok := signJWT(t, signer, jwt.Claims{Issuer: issuer, Subject: "jwt-user-1", Audience: jwt.Audience{env.URL},
				IssuedAt: jwt.NewNumericDate(time.Now()), Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour))}, nil)
			q := strings.SplitN(start["authUrl"].(string), "?", 2)[1]
			return func(t *testing.T, host string) (int, string) {
				return atJWTEndpointOf(t, env, host, q, tok)
			}
		}
	}

	for _, kind := range []struct {
		kind, body string
		// login runs the upstream login; upstreamErr the upstream's
		// refusal, with the error and its description.
		login, upstreamErr   func(t *testing.T, start map[string]any) callback
		wantErr, wantErrDesc string
	}{
		{"generic_oidc", fmt.Sprintf(`{"name":"OP","issuer":%q,"clientId":"fail","clientSecret":"s3cret-fail"}`, op.URL),
			atOPCallback, upstreamError, "access_denied", "the user said no"},
		{"oauth", fmt.Sprintf(`{"name":"OAuth","clientId":"fail","clientSecret":"s3cret-fail","authorizationEndpoint":%q,
			"tokenEndpoint":%q,"userEndpoint":%q,"scopes":["openid","email","profile"],"idAttribute":"sub"}`,
			op.URL+"/auth", op.URL+"/oauth/token", op.URL+"/userinfo"),
			atOPCallback, upstreamError, "access_denied", "the user said no"},
		// The JWT IdP's upstream error is a token the keys do not verify.
		{"generic_jwt", fmt.Sprintf(`{"name":"JWT","issuer":%q,"jwtEndpoint":"https://proxy.example/jwt","keysEndpoint":%q,"headerName":"x-auth-jwt"}`,
			issuer, keys.URL), jwtCallback(true), jwtCallback(false), "", ""},
	} {
		idpID := plIDP(t, env, "", kind.kind, kind.body)
		failed := func(t *testing.T, st int, to, wantErr, wantDesc string) {
			t.Helper()
			rq := redirectQuery(t, to, "https://login.example/idp/failure")
			if st != http.StatusFound || rq.Get("id") == "" || rq.Get("error") == "" || rq.Get("error_description") == "" ||
				(wantErr != "" && rq.Get("error") != wantErr) || (wantDesc != "" && rq.Get("error_description") != wantDesc) {
				t.Fatalf("failure redirect %d %s, want error %q %q", st, to, wantErr, wantDesc)
			}
			// The intent failed: nothing to retrieve.
			if st, b := env.Do(t, "POST", "/v2/idp_intents/"+rq.Get("id"), map[string]string{"idpIntentToken": "any"}); st < 400 || st >= 500 {
				t.Fatalf("retrieve of a failed intent: %d %s", st, b)
			}
		}
		t.Run(kind.kind+"/upstream error", func(t *testing.T) {
			st, to := kind.upstreamErr(t, startIntent(t, env, idpID))(t, "")
			failed(t, st, to, kind.wantErr, kind.wantErrDesc)
		})
		t.Run(kind.kind+"/expired intent", func(t *testing.T) {
			cb := kind.login(t, startIntent(t, env, idpID))
			offset.Store(int64(11 * time.Minute))
			defer offset.Store(0)
			st, to := cb(t, "")
			failed(t, st, to, "IDP-SAf42", "")
		})
		t.Run(kind.kind+"/wrong token", func(t *testing.T) {
			st, to := kind.login(t, startIntent(t, env, idpID))(t, "")
			if st != http.StatusFound {
				t.Fatalf("callback: %d", st)
			}
			id, token, _ := success(t, to)
			if st, b := env.Do(t, "POST", "/v2/idp_intents/"+id, map[string]string{"idpIntentToken": token + "x"}); st != http.StatusForbidden ||
				apptest.ErrorID(b) != "CRYPTO-CRYPTO" {
				t.Fatalf("retrieve with a wrong token: %d %s", st, b)
			}
			if st, b := env.Do(t, "POST", "/v2/sessions", map[string]any{"checks": map[string]any{"user": map[string]string{"userId": alice},
				"idpIntent": map[string]string{"idpIntentId": id, "idpIntentToken": "wrong"}}}); st != http.StatusForbidden ||
				apptest.ErrorID(b) != "CRYPTO-CRYPTO" {
				t.Fatalf("session with a wrong token: %d %s", st, b)
			}
			// The right token still reads it.
			env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents/"+id, map[string]string{"idpIntentToken": token})
		})
		t.Run(kind.kind+"/another instance's intent", func(t *testing.T) {
			cb := kind.login(t, startIntent(t, env, idpID))
			// Unknown there: 400 IDP-gy3ctgkqe7 as ZITADEL answers an
			// intent never started (login-flows.md, callback outcomes).
			if st, to := cb(t, "other.example"); st != http.StatusBadRequest || to != "" {
				t.Fatalf("callback at another instance: %d %s", st, to)
			}
			st, to := cb(t, "")
			if st != http.StatusFound {
				t.Fatalf("callback: %d", st)
			}
			id, token, _ := success(t, to)
			if st, b := env.DoAs(t, other.AdminPAT, "POST", "/v2/idp_intents/"+id, map[string]string{"idpIntentToken": token},
				"Host", "other.example"); st != http.StatusForbidden || apptest.ErrorID(b) != "CRYPTO-CRYPTO" {
				t.Fatalf("retrieve at another instance: %d %s", st, b)
			}
			env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents/"+id, map[string]string{"idpIntentToken": token})
		})
	}
}
