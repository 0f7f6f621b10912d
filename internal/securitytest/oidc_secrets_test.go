package securitytest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	neturl "net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
)

// TestOPSecretsNeverLeak runs a whole code flow with a refresh and a
// client_credentials grant, then greps every response, the server log,
// the event API's answer and a pg_dump: no code, access token, refresh
// token, ID token, client secret, machine secret, session token, password
// or key file is anywhere but in the one response that issues it. Then the
// master key is rotated: the opaque access token still works.
func TestOPSecretsNeverLeak(t *testing.T) {
	url := pgtest.URL(t)
	pool := pgtest.Connect(t, url, 0)
	log := &apptest.LogBuffer{}
	keyA, keyB := randomKey(t), randomKey(t)
	s1 := startServer(t, pool, log, keyA)
	inst, err := s1.app.Bootstrap(context.Background(), "localhost", nil, "")
	if err != nil || inst == nil {
		t.Fatalf("bootstrap: %v", err)
	}
	var mu sync.Mutex
	var responses []string
	s1.c.record = func(_ request, resp response) {
		mu.Lock()
		responses = append(responses, string(resp.Body))
		mu.Unlock()
	}
	admin, org, c := inst.AdminPAT, inst.OrgID, s1.c
	do := func(token, method, path string, body any, want int) []byte {
		t.Helper()
		var b []byte
		if body != nil {
			b = js(body)
		}
		r := c.must(t, request{Method: method, Path: path, Body: b, Token: token, Headers: []string{"x-zitadel-orgid", org}})
		if r.Status != want {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
		}
		return r.Body
	}
	// needle → the index of the response that issued it
	issued := map[string]int{}
	issue := func(v string) {
		mu.Lock()
		issued[v] = len(responses) - 1
		mu.Unlock()
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := func(path string, f neturl.Values, user, pass string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, c.url+path, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		mu.Lock()
		responses = append(responses, string(b))
		mu.Unlock()
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return m
	}

	project := field(t, do(admin, "POST", "/management/v1/projects", map[string]any{"name": "op"}, 200), "id")
	appBody := do(admin, "POST", "/management/v1/projects/"+project+"/apps/oidc", map[string]any{"name": "web",
		"redirectUris": []string{"https://app.example/cb"}, "grantTypes": []string{"OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"}}, 200)
	clientID, clientSecret := field(t, appBody, "clientId"), field(t, appBody, "clientSecret")
	issue(clientSecret)
	const password = "Secr3t!pass-OP"
	do(admin, "POST", "/v2/users/human", map[string]any{"organization": map[string]any{"orgId": org}, "username": "alice",
		"profile": map[string]any{"givenName": "A", "familyName": "L"}, "email": map[string]any{"email": "a@example.com", "isVerified": true},
		"password": map[string]any{"password": password, "changeRequired": false}}, 201)
	lc := field(t, do(admin, "POST", "/management/v1/users/machine", map[string]any{"userName": "login", "name": "L"}, 200), "userId")
	loginPAT := field(t, do(admin, "POST", "/management/v1/users/"+lc+"/pats", map[string]any{}, 200), "token")
	issue(loginPAT)
	do(admin, "POST", "/admin/v1/members", map[string]any{"userId": lc, "roles": []string{"IAM_LOGIN_CLIENT"}}, 200)
	svc := field(t, do(admin, "POST", "/management/v1/users/machine", map[string]any{"userName": "svc", "name": "S"}, 200), "userId")
	machineSecret := field(t, do(admin, "PUT", "/management/v1/users/"+svc+"/secret", map[string]any{}, 200), "clientSecret")
	issue(machineSecret)
	keyFile := field(t, do(admin, "POST", "/management/v1/users/"+svc+"/keys", map[string]any{"type": "KEY_TYPE_JSON"}, 200), "keyDetails")
	issue(keyFile)

	// The code flow, as a login UI finishes it.
	verifier := oauth2.GenerateVerifier()
	q := neturl.Values{"client_id": {clientID}, "redirect_uri": {"https://app.example/cb"}, "response_type": {"code"},
		"scope": {"openid offline_access urn:zitadel:iam:org:project:id:zitadel:aud"}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	resp, err := noRedirect.Get(c.url + "/oauth/v2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := neturl.Parse(resp.Header.Get("Location"))
	arID := loc.Query().Get("authRequest")
	sess := do(loginPAT, "POST", "/v2/sessions", map[string]any{"checks": map[string]any{
		"user": map[string]any{"loginName": "alice"}, "password": map[string]any{"password": password}}}, 201)
	sessionToken := field(t, sess, "sessionToken")
	issue(sessionToken)
	cb := do(loginPAT, "POST", "/v2/oidc/auth_requests/"+arID, map[string]any{"session": map[string]any{
		"sessionId": field(t, sess, "sessionId"), "sessionToken": sessionToken}}, 200)
	cbURL, _ := neturl.Parse(field(t, cb, "callbackUrl"))
	code := cbURL.Query().Get("code")
	issue(code)
	tok := form("/oauth/v2/token", neturl.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"https://app.example/cb"}, "code_verifier": {verifier}}, clientID, clientSecret)
	at1, rt1, idt := tok["access_token"].(string), tok["refresh_token"].(string), tok["id_token"].(string)
	issue(at1)
	issue(rt1)
	issue(idt)
	ref := form("/oauth/v2/token", neturl.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}}, clientID, clientSecret)
	at2, rt2 := ref["access_token"].(string), ref["refresh_token"].(string)
	issue(at2)
	issue(rt2)
	cc := form("/oauth/v2/token", neturl.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, "svc", machineSecret)
	at3 := cc["access_token"].(string)
	issue(at3)
	do(at2, "GET", "/auth/v1/users/me", nil, 200)
	do(admin, "POST", "/admin/v1/events/_search", map[string]any{"limit": 1000}, 200)
	s1.stop()

	// A master-key rotation keeps the opaque access token valid.
	s2 := startServer(t, pool, log, keyB, keyA)
	if r := s2.c.must(t, request{Method: "GET", Path: "/auth/v1/users/me", Token: at2}); r.Status != 200 {
		t.Fatalf("opaque token after a master-key rotation: %d %s", r.Status, r.Body)
	}
	s2.stop()

	dump := pgDump(t, url)
	if !strings.Contains(dump, "oidc_session.refresh_token.renewed") {
		t.Fatal("the dump lacks the OIDC session's events")
	}
	logText := log.String()
	keyJSON, _ := base64.StdEncoding.DecodeString(keyFile)
	var kf struct{ Key string }
	_ = json.Unmarshal(keyJSON, &kf)
	lines := strings.Split(strings.TrimSpace(kf.Key), "\n")
	needles := map[string]string{clientSecret: "client secret", machineSecret: "machine secret", keyFile: "key file",
		code: "code", at1: "access token", rt1: "refresh token", idt: "ID token", at2: "access token", rt2: "refresh token",
		at3: "access token", sessionToken: "session token", password: "password", loginPAT: "PAT", lines[len(lines)/2]: "private key"}
	for needle, what := range needles {
		if strings.Contains(dump, needle) {
			t.Errorf("pg_dump holds a %s", what)
		}
		if strings.Contains(logText, needle) {
			t.Errorf("the server log holds a %s", what)
		}
		for i, r := range responses {
			if j, ok := issued[needle]; strings.Contains(r, needle) && (!ok || j != i) {
				t.Errorf("response %d holds a %s (issued in %d): %.200s", i, what, issued[needle], r)
			}
		}
		if i, ok := issued[needle]; ok && !strings.Contains(responses[i], needle) {
			t.Fatalf("response %d does not hold the %s it issued", i, what)
		}
	}
}
