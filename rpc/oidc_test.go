package rpc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"
	"google.golang.org/protobuf/proto"

	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
	oidcv2 "github.com/idledger/idledger/gen/zitadel/oidc/v2"
	userv1 "github.com/idledger/idledger/gen/zitadel/user/v1"
	"github.com/idledger/idledger/internal/app/apptest"
)

const oidcSvc = "/zitadel.oidc.v2.OIDCService/"

// oidcEnv is an instance with an OIDC app, a human "alice" with a
// password, a login client (IAM_LOGIN_CLIENT) and a machine without
// roles.
type oidcEnv struct {
	*apptest.Env
	clientID, secret string
	login, nobody    string // tokens
	noRedirect       *http.Client
}

const (
	oidcRedirect = "https://app.example/cb"
	oidcPW       = "Secr3t!pass"
)

func newOIDCEnv(t *testing.T) oidcEnv {
	env := apptest.New(t)
	e := oidcEnv{Env: env, noRedirect: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	p := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects", map[string]any{"name": "shop"})
	a := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+p["id"].(string)+"/apps/oidc", map[string]any{
		"name": "web", "redirectUris": []string{oidcRedirect}, "grantTypes": []string{"OIDC_GRANT_TYPE_AUTHORIZATION_CODE"},
		"authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC"})
	e.clientID, e.secret = a["clientId"].(string), a["clientSecret"].(string)
	env.MustDo(t, http.StatusCreated, "POST", "/v2/users/human", map[string]any{
		"organization": map[string]any{"orgId": env.DefaultOrgID}, "username": "alice",
		"profile": map[string]any{"givenName": "Alice", "familyName": "L"}, "email": map[string]any{"email": "alice@example.com", "isVerified": true},
		"password": map[string]any{"password": oidcPW, "changeRequired": false}})
	lc, login := env.CreateMachineWithPAT(t, env.DefaultOrgID)
	env.Grant(t, lc, "", "IAM_LOGIN_CLIENT")
	_, e.nobody = env.CreateMachineWithPAT(t, env.DefaultOrgID)
	e.login = login
	return e
}

// authorize starts a code flow with PKCE (prompt select_account, not
// login, which makes the library's max_age 0) at the authorize endpoint and
// returns the auth request's ID and the PKCE verifier.
func (e oidcEnv) authorize(t *testing.T, extra ...string) (string, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := url.Values{"client_id": {e.clientID}, "redirect_uri": {oidcRedirect}, "response_type": {"code"},
		"scope": {"openid profile"}, "state": {"st4te"}, "nonce": {"n0nce"}, "login_hint": {"alice"}, "prompt": {"select_account"},
		"max_age": {"600"}, "ui_locales": {"de en"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	resp, err := e.noRedirect.Get(e.URL + "/oauth/v2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.Query().Get("authRequest"), "V2_") {
		t.Fatalf("authorize: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("authRequest"), verifier
}

// session is a password session of alice: its ID and token.
func (e oidcEnv) session(t *testing.T) (string, string) {
	s := e.MustDoAs(t, e.login, http.StatusCreated, "POST", "/v2/sessions", map[string]any{"checks": map[string]any{
		"user": map[string]any{"loginName": "alice"}, "password": map[string]any{"password": oidcPW}}})
	return s["sessionId"].(string), s["sessionToken"].(string)
}

// TestGetAuthRequest: the same auth request read over REST and RPC, and
// the errors (unknown ID, a caller without session.read, no caller).
func TestGetAuthRequest(t *testing.T) {
	e := newOIDCEnv(t)
	id, _ := e.authorize(t)
	for _, p := range protocols {
		for _, tc := range []struct {
			name, id string
			headers  []string
			code     connect.Code
		}{
			{"found", id, nil, 0},
			{"login client", id, as(e.login), 0},
			{"unknown id", "V2_unknown", nil, connect.CodeNotFound},
			{"no session.read", id, as(e.nobody), connect.CodePermissionDenied},
			{"unauthenticated", id, []string{"Authorization", ""}, connect.CodeUnauthenticated},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				got, err := both[oidcv2.GetAuthRequestRequest, oidcv2.GetAuthRequestResponse](t, e.Env, p, oidcSvc+"GetAuthRequest",
					"GET", "/v2/oidc/auth_requests/"+tc.id, nil, &oidcv2.GetAuthRequestRequest{AuthRequestId: tc.id}, nil, tc.headers...)
				if tc.code != 0 {
					if connect.CodeOf(err) != tc.code {
						t.Fatalf("code %v, want %v", connect.CodeOf(err), tc.code)
					}
					return
				}
				ar := got.GetAuthRequest()
				if ar.GetId() != id || ar.GetClientId() != e.clientID || ar.GetRedirectUri() != oidcRedirect ||
					ar.GetLoginHint() != "alice" || ar.GetMaxAge().AsDuration().Seconds() != 600 ||
					len(ar.GetPrompt()) != 1 || ar.GetPrompt()[0] != oidcv2.Prompt_PROMPT_SELECT_ACCOUNT ||
					strings.Join(ar.GetUiLocales(), " ") != "de en" || strings.Join(ar.GetScope(), " ") != "openid profile" {
					t.Fatalf("auth request %v", ar)
				}
			})
		}
	}
}

// callbackVolatile are the fields in which two callbacks of two auth
// requests differ: the URL (its code) and the write's details.
var callbackVolatile = []string{"callback_url", "sequence", "change_date", "creation_date"}

// TestCreateCallbackSession: REST and RPC each finish an auth request of
// their own with a session of alice; the answers agree but for the code
// and the write's details, the RPC's code is exchanged for tokens of
// alice, and a second callback fails alike on both.
func TestCreateCallbackSession(t *testing.T) {
	e := newOIDCEnv(t)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			restID, _ := e.authorize(t)
			rpcID, verifier := e.authorize(t)
			rs, rt := e.session(t)
			ps, pt := e.session(t)
			body := map[string]any{"session": map[string]any{"sessionId": rs, "sessionToken": rt}}
			req := &oidcv2.CreateCallbackRequest{AuthRequestId: rpcID,
				CallbackKind: &oidcv2.CreateCallbackRequest_Session{Session: &oidcv2.Session{SessionId: ps, SessionToken: pt}}}
			status, raw := e.Do(t, "POST", "/v2/oidc/auth_requests/"+restID, body, as(e.login)...)
			got, err := call[oidcv2.CreateCallbackRequest, oidcv2.CreateCallbackResponse](t, e.Env, p, oidcSvc+"CreateCallback", req, as(e.login)...)
			sameAsRESTBut(t, p, status, raw, answer(got), err, callbackVolatile)
			if err != nil {
				t.Fatal(err)
			}
			u, perr := url.Parse(got.GetCallbackUrl())
			if perr != nil || !strings.HasPrefix(got.GetCallbackUrl(), oidcRedirect+"?") || u.Query().Get("state") != "st4te" || u.Query().Get("code") == "" {
				t.Fatalf("callback URL %q", got.GetCallbackUrl())
			}
			// The code is the OP's: it buys alice's tokens.
			party, rerr := rp.NewRelyingPartyOIDC(context.Background(), e.URL, e.clientID, e.secret, oidcRedirect, []string{"openid"},
				rp.WithVerifierOpts(rp.WithNonce(func(context.Context) string { return "n0nce" })))
			if rerr != nil {
				t.Fatal(rerr)
			}
			tokens, xerr := rp.CodeExchange[*zoidc.IDTokenClaims](context.Background(), u.Query().Get("code"), party, rp.WithCodeVerifier(verifier))
			if xerr != nil || tokens.IDTokenClaims.Nonce != "n0nce" || tokens.AccessToken == "" {
				t.Fatalf("code exchange: %v %v", tokens, xerr)
			}
			// Twice: FailedPrecondition on both.
			again := proto.Clone(req).(*oidcv2.CreateCallbackRequest)
			again.AuthRequestId = restID
			both[oidcv2.CreateCallbackRequest, oidcv2.CreateCallbackResponse](t, e.Env, p, oidcSvc+"CreateCallback",
				"POST", "/v2/oidc/auth_requests/"+restID, body, again, nil, as(e.login)...)
		})
	}
}

// TestCreateCallbackError: an auth request failed with an OAuth error
// over REST and over RPC: the same error response URL; and the errors of
// a callback (unknown ID, no session.link, no caller, neither a session
// nor an error, a wrong session token).
func TestCreateCallbackError(t *testing.T) {
	e := newOIDCEnv(t)
	desc := "the user cancelled"
	for _, p := range protocols {
		t.Run(p.name+"/access denied", func(t *testing.T) {
			restID, _ := e.authorize(t)
			rpcID, _ := e.authorize(t)
			body := map[string]any{"error": map[string]any{"error": "ERROR_REASON_ACCESS_DENIED", "errorDescription": desc}}
			req := &oidcv2.CreateCallbackRequest{AuthRequestId: rpcID, CallbackKind: &oidcv2.CreateCallbackRequest_Error{
				Error: &oidcv2.AuthorizationError{Error: oidcv2.ErrorReason_ERROR_REASON_ACCESS_DENIED, ErrorDescription: proto.String(desc)}}}
			got, err := both[oidcv2.CreateCallbackRequest, oidcv2.CreateCallbackResponse](t, e.Env, p, oidcSvc+"CreateCallback",
				"POST", "/v2/oidc/auth_requests/"+restID, body, req, writeVolatile, as(e.login)...)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(got.GetCallbackUrl())
			if q := u.Query(); q.Get("error") != "access_denied" || q.Get("error_description") != desc || q.Get("state") != "st4te" {
				t.Fatalf("callback URL %q", got.GetCallbackUrl())
			}
			// The failed request is no longer pending.
			both[oidcv2.GetAuthRequestRequest, oidcv2.GetAuthRequestResponse](t, e.Env, p, oidcSvc+"GetAuthRequest",
				"GET", "/v2/oidc/auth_requests/"+rpcID, nil, &oidcv2.GetAuthRequestRequest{AuthRequestId: rpcID}, nil)
		})
	}
	id, _ := e.authorize(t)
	sid, stok := e.session(t)
	fail := func(id string) *oidcv2.CreateCallbackRequest {
		return &oidcv2.CreateCallbackRequest{AuthRequestId: id, CallbackKind: &oidcv2.CreateCallbackRequest_Error{
			Error: &oidcv2.AuthorizationError{Error: oidcv2.ErrorReason_ERROR_REASON_LOGIN_REQUIRED}}}
	}
	failBody := map[string]any{"error": map[string]any{"error": "ERROR_REASON_LOGIN_REQUIRED"}}
	for _, p := range protocols {
		for _, tc := range []struct {
			name    string
			id      string
			body    any
			req     *oidcv2.CreateCallbackRequest
			headers []string
			code    connect.Code
		}{
			{"unknown id", "V2_unknown", failBody, fail("V2_unknown"), as(e.login), connect.CodeNotFound},
			{"admin lacks session.link", id, failBody, fail(id), nil, connect.CodePermissionDenied},
			{"no session.link", id, failBody, fail(id), as(e.nobody), connect.CodePermissionDenied},
			{"unauthenticated", id, failBody, fail(id), []string{"Authorization", ""}, connect.CodeUnauthenticated},
			{"no callback kind", id, map[string]any{}, &oidcv2.CreateCallbackRequest{AuthRequestId: id}, as(e.login), connect.CodeInvalidArgument},
			{"wrong session token", id, map[string]any{"session": map[string]any{"sessionId": sid, "sessionToken": "x" + stok}},
				&oidcv2.CreateCallbackRequest{AuthRequestId: id, CallbackKind: &oidcv2.CreateCallbackRequest_Session{
					Session: &oidcv2.Session{SessionId: sid, SessionToken: "x" + stok}}}, as(e.login), connect.CodePermissionDenied},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				_, err := both[oidcv2.CreateCallbackRequest, oidcv2.CreateCallbackResponse](t, e.Env, p, oidcSvc+"CreateCallback",
					"POST", "/v2/oidc/auth_requests/"+tc.id, tc.body, tc.req, nil, tc.headers...)
				if connect.CodeOf(err) != tc.code {
					t.Fatalf("code %v, want %v", connect.CodeOf(err), tc.code)
				}
			})
		}
	}
	// None of the refused callbacks touched the request: it is still
	// pending.
	if _, err := call[oidcv2.GetAuthRequestRequest, oidcv2.GetAuthRequestResponse](t, e.Env, protocols[0], oidcSvc+"GetAuthRequest",
		&oidcv2.GetAuthRequestRequest{AuthRequestId: id}); err != nil {
		t.Fatalf("the auth request after refused callbacks: %v", err)
	}
}

// TestAddMachineUserAccessTokenType: AddMachineUser keeps
// access_token_type over RPC as over REST; GetUserByID (v2 and v2beta)
// answers it as REST does; an undefined value is refused alike.
func TestAddMachineUserAccessTokenType(t *testing.T) {
	e := newIdentityEnv(t)
	jwt := userv1.AccessTokenType_ACCESS_TOKEN_TYPE_JWT
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			got, err := both[managementv1.AddMachineUserRequest, managementv1.AddMachineUserResponse](t, e.Env, p, mgmtSvc+"AddMachineUser",
				"POST", "/management/v1/users/machine", map[string]any{"userName": "rest-jwt-" + p.name, "name": "M", "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"},
				&managementv1.AddMachineUserRequest{UserName: "rpc-jwt-" + p.name, Name: "M", AccessTokenType: jwt}, append([]string{"user_id"}, writeVolatile...))
			if err != nil {
				t.Fatal(err)
			}
			for _, svc := range userServices {
				status, raw := e.Do(t, "GET", "/v2/users/"+got.GetUserId(), nil)
				res, err := getUser(t, e.Env, p, svc, got.GetUserId())
				sameAsREST(t, p, status, raw, res, err)
				if !strings.Contains(string(raw), `"accessTokenType":"ACCESS_TOKEN_TYPE_JWT"`) {
					t.Fatalf("%s: GetUserByID %s", svcName(svc), raw)
				}
			}
			// An undefined number: REST's decoding refuses it (400) before
			// the command's check, which answers it over RPC.
			if st, _ := e.Do(t, "POST", "/management/v1/users/machine", map[string]any{"userName": "x", "name": "M", "accessTokenType": 7}); st != http.StatusBadRequest {
				t.Fatalf("REST with an undefined access token type: %d", st)
			}
			bad, err := call[managementv1.AddMachineUserRequest, managementv1.AddMachineUserResponse](t, e.Env, p, mgmtSvc+"AddMachineUser",
				&managementv1.AddMachineUserRequest{UserName: "x", Name: "M", AccessTokenType: 7})
			status, raw := restError("invalid AddMachineUserRequest.AccessTokenType: value must be one of the defined enum values")
			sameAsREST(t, p, status, raw, answer(bad), err)
		})
	}
}
