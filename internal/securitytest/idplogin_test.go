package securitytest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// The IdP login of the secrets test: a generic OAuth IdP with PKCE against
// zitadel/oidc's example OP on loopback, through start → the OP's login
// form → callback → retrieve → a session with the password and the
// intent. opTap records what the OP handed out, so that the test knows
// the values it must never find again.

// opTap wraps the OP: it keeps the PKCE verifier of each token request
// and the tokens of each token response.
type opTap struct {
	h      http.Handler
	mu     sync.Mutex
	values map[string]string // value → what it is
}

func (o *opTap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/oauth/token" {
		o.h.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	o.h.ServeHTTP(rec, r)
	var tokens map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &tokens)
	o.mu.Lock()
	if v := form.Get("code_verifier"); v != "" {
		o.values[v] = "PKCE verifier"
	}
	for k, what := range map[string]string{"access_token": "upstream access token", "id_token": "upstream ID token",
		"refresh_token": "upstream refresh token"} {
		if v, _ := tokens[k].(string); v != "" {
			o.values[v] = what
		}
	}
	o.mu.Unlock()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

var loginFormID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// idpLogin runs the whole login against the server at serverURL (the
// instance answers to localhost, so it is addressed as 127.0.0.1:port, the
// origin the OP sends the browser back to) and returns every secret value
// it saw: upstream tokens, the PKCE verifier, the intent and session
// tokens, the user's password. Retrieve and the session are asked by a
// client that records nothing: those answers carry tokens by design.
func idpLogin(t *testing.T, serverURL, admin, org string) map[string]string {
	t.Helper()
	host := strings.TrimPrefix(serverURL, "http://")
	c := newClient(serverURL, host)
	do := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		resp := c.must(t, request{Method: method, Path: path, Token: admin, Body: jsonBody(t, body)})
		var out map[string]any
		if resp.Status != want || json.Unmarshal(resp.Body, &out) != nil {
			t.Fatalf("%s %s: %d %s", method, path, resp.Status, resp.Body)
		}
		return out
	}
	callback := serverURL + "/idps/callback"
	tap := &opTap{values: map[string]string{}}
	srv := httptest.NewServer(tap)
	t.Cleanup(srv.Close)
	opSecret := secret(t, "login-idp")
	clients := map[string]*storage.Client{"sec-oauth": storage.WebClient("sec-oauth", opSecret, callback)}
	tap.h = exampleop.SetupServer(srv.URL, storage.NewStorageWithClients(storage.NewUserStore(srv.URL), clients),
		slog.New(slog.DiscardHandler), false)

	secrets := map[string]string{opSecret: "IdP client secret"}
	idpID := do("POST", "/admin/v1/idps/oauth", map[string]any{"name": "Login OAuth", "clientId": "sec-oauth",
		"clientSecret": opSecret, "authorizationEndpoint": srv.URL + "/auth", "tokenEndpoint": srv.URL + "/oauth/token",
		"userEndpoint": srv.URL + "/userinfo", "idAttribute": "sub", "usePkce": true,
		"scopes": []string{"openid", "profile", "email", "offline_access"}}, 200)["id"].(string)
	password := "Pw1!" + secret(t, "password")
	secrets[password] = "password"
	user := do("POST", "/v2/users/human", map[string]any{"organization": map[string]any{"orgId": org}, "username": "idp-login",
		"profile": map[string]any{"givenName": "I", "familyName": "L"}, "email": map[string]any{"email": "il@example.com", "isVerified": true},
		"password": map[string]any{"password": password}}, 201)["userId"].(string)
	do("POST", "/v2/users/"+user+"/links", map[string]any{"idpLink": map[string]any{"idpId": idpID, "userId": "id1", "userName": "test-user"}}, 200)

	authURL := do("POST", "/v2/idp_intents", map[string]any{"idpId": idpID,
		"urls": map[string]string{"successUrl": "https://login.example/ok", "failureUrl": "https://login.example/fail"}}, 200)["authUrl"].(string)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if r.URL.Host == "login.example" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := loginFormID.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no login form at %s: %s", resp.Request.URL, page)
	}
	resp, err = browser.PostForm(resp.Request.URL.String(), url.Values{"username": {"test-user@127.0.0.1"},
		"password": {"verysecure"}, "id": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	to, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(to.String(), "https://login.example/ok?") || to.Query().Get("user") != user {
		t.Fatalf("the login ended at %q (%d), want the success URL for user %s", to, resp.StatusCode, user)
	}
	intentID, intentToken := to.Query().Get("id"), to.Query().Get("token")
	secrets[intentToken] = "intent token"

	info := do("POST", "/v2/idp_intents/"+intentID, map[string]string{"idpIntentToken": intentToken}, 200)
	session := do("POST", "/v2/sessions", map[string]any{"checks": map[string]any{"user": map[string]any{"userId": user},
		"password": map[string]any{"password": password}, "idpIntent": map[string]any{"idpIntentId": intentID, "idpIntentToken": intentToken}}}, 201)
	sessionToken, _ := session["sessionToken"].(string)
	if sessionToken == "" {
		t.Fatalf("no session token: %v", session)
	}
	secrets[sessionToken] = "session token"
	tap.mu.Lock()
	for v, what := range tap.values {
		secrets[v] = what
	}
	tap.mu.Unlock()
	// Each needle can be found: retrieve carries the upstream tokens.
	raw, _ := json.Marshal(info)
	for v, what := range secrets {
		if strings.HasPrefix(what, "upstream") && !strings.Contains(string(raw), v) {
			t.Fatalf("retrieve does not hold the %s the OP issued: %s", what, raw)
		}
	}
	for _, what := range []string{"PKCE verifier", "upstream access token", "upstream ID token", "upstream refresh token"} {
		found := false
		for _, w := range secrets {
			found = found || w == what
		}
		if !found {
			t.Fatalf("the OP handed out no %s: %v", what, tap.values)
		}
	}
	return secrets
}
