package rpc_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	userv2 "github.com/idledger/idledger/gen/zitadel/user/v2"
	"github.com/idledger/idledger/internal/app/apptest"
)

const (
	intentSuccess = "https://login.example/idp/success"
	intentFailure = "https://login.example/idp/failure"
)

// intentEnv is an instance addressed by its listener's address (so that
// the callback URL, the origin the client addressed, is the same for REST
// and RPC and reaches the server), a generic OAuth IdP on a tiny upstream
// of the test's own, and an OIDC IdP whose issuer does not answer.
type intentEnv struct {
	*apptest.Env
	oauth, dead string
}

func newIntentEnv(t *testing.T) intentEnv {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/token":
			fmt.Fprint(w, `{"access_token":"at-1","token_type":"Bearer","expires_in":3600}`)
		case "/user":
			fmt.Fprint(w, `{"sub":"ext-1","email":"ext@example.com","name":"Ext User"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(up.Close)
	env := apptest.New(t)
	env.Host = strings.TrimPrefix(env.URL, "http://")
	oauth := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/oauth", map[string]any{"name": "OAuth", "clientId": "cid",
		"clientSecret": "sec", "authorizationEndpoint": up.URL + "/auth", "tokenEndpoint": up.URL + "/token",
		"userEndpoint": up.URL + "/user", "scopes": []string{"openid"}, "idAttribute": "sub"})["id"].(string)
	dead := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/generic_oidc", map[string]any{"name": "Dead",
		"issuer": "http://127.0.0.1:1", "clientId": "c", "clientSecret": "s", "scopes": []string{"openid"}})["id"].(string)
	return intentEnv{Env: env, oauth: oauth, dead: dead}
}

// withoutState is authUrl with its state (the intent's ID) and PKCE
// challenge, which differ per intent, removed.
func withoutState(t *testing.T, authURL string) string {
	u, err := url.Parse(authURL)
	if err != nil || authURL == "" {
		t.Fatalf("authUrl %q: %v", authURL, err)
	}
	q := u.Query()
	q.Del("state")
	q.Del("code_challenge")
	u.RawQuery = q.Encode()
	return u.String()
}

// TestStartIdentityProviderIntent: the same start over REST and RPC; the
// authUrls agree but for the state, and the RPC's callback is the origin
// the client addressed.
func TestStartIdentityProviderIntent(t *testing.T) {
	e := newIntentEnv(t)
	for _, p := range protocols {
		for _, tc := range []struct{ name, idp string }{
			{"oauth", e.oauth},
			{"issuer does not answer", e.dead},
			{"unknown idp", "nope"},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				status, raw := e.Do(t, "POST", "/v2/idp_intents", map[string]any{"idpId": tc.idp,
					"urls": map[string]string{"successUrl": intentSuccess, "failureUrl": intentFailure}})
				got, err := call[userv2.StartIdentityProviderIntentRequest, userv2.StartIdentityProviderIntentResponse](t, e.Env, p,
					userV2+"StartIdentityProviderIntent", &userv2.StartIdentityProviderIntentRequest{IdpId: tc.idp,
						Content: &userv2.StartIdentityProviderIntentRequest_Urls{Urls: &userv2.RedirectURLs{SuccessUrl: intentSuccess, FailureUrl: intentFailure}}})
				if err == nil && status == http.StatusOK {
					var rest map[string]any
					if json.Unmarshal(raw, &rest) != nil {
						t.Fatalf("REST %s", raw)
					}
					rest["authUrl"] = withoutState(t, fmt.Sprint(rest["authUrl"]))
					raw, _ = json.Marshal(rest)
					if !strings.Contains(got.GetAuthUrl(), url.QueryEscape(e.URL+"/idps/callback")) {
						t.Fatalf("the RPC's authUrl %s has not the callback at %s", got.GetAuthUrl(), e.URL)
					}
					got.NextStep = &userv2.StartIdentityProviderIntentResponse_AuthUrl{AuthUrl: withoutState(t, got.GetAuthUrl())}
				}
				sameAsRESTBut(t, p, status, raw, answer(got), err, []string{"sequence", "change_date"})
			})
		}
	}
}

// TestRetrieveIdentityProviderIntent: an OAuth intent run to success
// through the callback, then retrieved over REST and RPC alike, and with a
// wrong token.
func TestRetrieveIdentityProviderIntent(t *testing.T) {
	e := newIntentEnv(t)
	start := e.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents", map[string]any{"idpId": e.oauth,
		"urls": map[string]string{"successUrl": intentSuccess, "failureUrl": intentFailure}})
	au, _ := url.Parse(start["authUrl"].(string))
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(e.URL + "/idps/callback?code=c0de&state=" + url.QueryEscape(au.Query().Get("state")))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	to, _ := url.Parse(res.Header.Get("Location"))
	id, token := to.Query().Get("id"), to.Query().Get("token")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(to.String(), intentSuccess) || token == "" {
		t.Fatalf("callback: %d to %s", res.StatusCode, to)
	}
	for _, p := range protocols {
		for _, tc := range []struct{ name, id, token string }{
			{"succeeded", id, token},
			{"wrong token", id, token + "x"},
			{"unknown intent", "nope", token},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				got, err := both[userv2.RetrieveIdentityProviderIntentRequest, userv2.RetrieveIdentityProviderIntentResponse](t, e.Env, p,
					userV2+"RetrieveIdentityProviderIntent", "POST", "/v2/idp_intents/"+tc.id, map[string]string{"idpIntentToken": tc.token},
					&userv2.RetrieveIdentityProviderIntentRequest{IdpIntentId: tc.id, IdpIntentToken: tc.token}, nil)
				if tc.name == "succeeded" && (err != nil || got.GetIdpInformation().GetUserId() != "ext-1") {
					t.Fatalf("Retrieve: %v %v", got, err)
				}
			})
		}
	}
}
