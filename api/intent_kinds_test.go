package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/idledger/idledger/internal/app/apptest"
)

// The fixed-endpoint kinds (GitHub, GitHub ES, GitLab, GitLab
// self-hosted, Google, Apple, Azure AD) end to end against loopback
// upstreams. The public hosts are routed to httptest TLS servers by the
// test's transport (hostRouter): production code is unchanged.

// hostRouter sends requests for the routed public hosts to loopback TLS
// servers; loopback requests pass; any other host fails, so no test
// reaches the network.
type hostRouter struct {
	mu     sync.Mutex
	routes map[string]string // hostname → 127.0.0.1:port
	pool   *x509.CertPool
	base   *http.Transport
}

func newHostRouter() *hostRouter {
	r := &hostRouter{routes: map[string]string{}, pool: x509.NewCertPool()}
	// The test CA is trusted by this transport only.
	r.base = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.pool}}
	return r
}

// serve starts a TLS server with h and routes hosts to it; it returns the
// server's own URL.
func (r *hostRouter) serve(t *testing.T, h http.Handler, hosts ...string) string {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pool.AddCert(srv.Certificate())
	for _, host := range hosts {
		r.routes[host] = strings.TrimPrefix(srv.URL, "https://")
	}
	return srv.URL
}

func (r *hostRouter) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	r.mu.Lock()
	to, ok := r.routes[host]
	r.mu.Unlock()
	switch {
	case ok:
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host = "https", to
	case host == "127.0.0.1" || host == "localhost":
	default:
		return nil, fmt.Errorf("hostRouter: %s is not routed", host)
	}
	return r.base.RoundTrip(req)
}

// lateHandler serves h once it is set: an OP whose issuer is its own URL.
type lateHandler struct{ h http.Handler }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { l.h.ServeHTTP(w, r) }

// claimsInIDToken makes the example OP assert the scopes' userinfo claims
// in the ID token (Apple has no userinfo endpoint).
type claimsInIDToken struct{ *storage.Storage }

type idTokenClaimsClient struct{ op.Client }

func (idTokenClaimsClient) IDTokenUserinfoClaimsAssertion() bool { return true }

func (s claimsInIDToken) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return idTokenClaimsClient{c}, nil
}

// kindOP is the example OP at issuer with users and clients.
func kindOP(issuer string, users storage.UserStore, idTokenClaims bool, clients []*storage.Client, opts ...op.Option) http.Handler {
	m := map[string]*storage.Client{}
	for _, c := range clients {
		m[c.GetID()] = c
	}
	var st exampleop.Storage = storage.NewStorageWithClients(users, m)
	if idTokenClaims {
		st = claimsInIDToken{st.(*storage.Storage)}
	}
	return exampleop.SetupServer(issuer, st, slog.New(slog.DiscardHandler), false, opts...)
}

// userStore is an example-OP user store of our own.
type userStore map[string]*storage.User

func (s userStore) GetUserByID(id string) *storage.User { return s[id] }
func (s userStore) GetUserByUsername(name string) *storage.User {
	for _, u := range s {
		if u.Username == name {
			return u
		}
	}
	return nil
}
func (userStore) ExampleClientID() string { return "service" }

// wantUser asserts Retrieve's mapped user.
func wantUser(t *testing.T, got map[string]any, id, username, email string, verified bool) {
	t.Helper()
	var want any
	if verified {
		want = true
	}
	if jsonPath(t, got, "idpInformation", "userId") != id || jsonPath(t, got, "idpInformation", "userName") != username ||
		jsonPath(t, got, "addHumanUser", "username") != username ||
		jsonPath(t, got, "addHumanUser", "email", "email") != email ||
		jsonPath(t, got, "addHumanUser", "email", "isVerified") != want {
		t.Fatalf("retrieve: want user %s %q <%s> verified %v, got %v", id, username, email, verified, got)
	}
	if !verified && jsonPath(t, got, "addHumanUser", "email", "sendCode") == nil {
		t.Fatalf("an unverified email without sendCode: %v", got)
	}
}

// finish runs the login to the success redirect and retrieves the intent.
func retrieveFrom(t *testing.T, env *apptest.Env, to string) map[string]any {
	t.Helper()
	rq := redirectQuery(t, to, "https://login.example/idp/success")
	return env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents/"+rq.Get("id"), map[string]string{"idpIntentToken": rq.Get("token")})
}

func TestIntentFixedKinds(t *testing.T) {
	router := newHostRouter()
	env := newIntentEnv(t, router)
	callback := env.URL + "/idps/callback"
	const stop = "https://login.example/"

	t.Run("gitlab", func(t *testing.T) {
		router.serve(t, kindOP("https://gitlab.com", storage.NewUserStore("https://gitlab.com"), false,
			[]*storage.Client{storage.WebClient("gitlab-c", "s3cret-gitlab", callback)}), "gitlab.com")
		idpID := plIDP(t, env, "", "gitlab", `{"name":"GitLab","clientId":"gitlab-c","clientSecret":"s3cret-gitlab"}`)
		au := startIntent(t, env, idpID)["authUrl"].(string)
		q := redirectQuery(t, au, "https://gitlab.com/auth?")
		if q.Get("scope") != "openid profile email" || q.Get("nonce") == "" {
			t.Fatalf("authUrl %s", au)
		}
		to := newBrowser(t, router).loginAtOP(au, "test-user@gitlab.com", "verysecure", stop)
		wantUser(t, retrieveFrom(t, env, to), "id1", "test-user@gitlab.com", "test-user@zitadel.ch", true)
		idp := signInIDP(t, env, "gitlab", `{"name":"GitLab auto","clientId":"gitlab-c","clientSecret":"s3cret-gitlab"}`)
		signInTwice(t, env, idp, true, atOP(env, router, idp, "test-user@gitlab.com", "verysecure"))
	})

	t.Run("gitlab_self_hosted", func(t *testing.T) {
		// Its own issuer on loopback, and a user whose email is unverified.
		lh := &lateHandler{}
		issuer := router.serve(t, lh)
		lh.h = kindOP(issuer, userStore{"gl-42": {ID: "gl-42", Username: "gl-user", Password: "pw-gl", FirstName: "Gil",
			LastName: "Lab", Email: "gil@gitlab.example", EmailVerified: false, PreferredLanguage: language.English}}, false,
			[]*storage.Client{storage.WebClient("glsh-c", "s3cret-glsh", callback)})
		body := fmt.Sprintf(`{"name":"GitLab SH","issuer":%q,"clientId":"glsh-c","clientSecret":"s3cret-glsh"}`, issuer)
		idpID := plIDP(t, env, "", "gitlab_self_hosted", body)
		au := startIntent(t, env, idpID)["authUrl"].(string)
		redirectQuery(t, au, issuer+"/auth?")
		to := newBrowser(t, router).loginAtOP(au, "gl-user", "pw-gl", stop)
		got := retrieveFrom(t, env, to)
		wantUser(t, got, "gl-42", "gl-user", "gil@gitlab.example", false)
		if jsonPath(t, got, "addHumanUser", "profile", "givenName") != "Gil" {
			t.Fatalf("profile: %v", got)
		}
		idp := signInIDP(t, env, "gitlab_self_hosted", body)
		signInTwice(t, env, idp, true, atOP(env, router, idp, "gl-user", "pw-gl"))
	})

	t.Run("google", func(t *testing.T) {
		router.serve(t, kindOP("https://accounts.google.com", storage.NewUserStore("https://accounts.google.com"), false,
			[]*storage.Client{storage.WebClient("google-c", "s3cret-google", callback)}), "accounts.google.com")
		idpID := plIDP(t, env, "", "google", `{"name":"Google","clientId":"google-c","clientSecret":"s3cret-google"}`)
		au := startIntent(t, env, idpID)["authUrl"].(string)
		if q := redirectQuery(t, au, "https://accounts.google.com/auth?"); q.Get("prompt") != "select_account" {
			t.Fatalf("no select_account: %s", au)
		}
		b := newBrowser(t, router)
		cb := b.loginAtOP(au, "test-user@accounts.google.com", "verysecure", callback)
		// A "user" field is Apple's alone: from the browser of a Google
		// login it names nobody.
		_, to := b.follow(http.MethodGet, cb+"&user="+url.QueryEscape(`{"name":{"firstName":"Mallory","lastName":"M"}}`), nil, stop)
		got := retrieveFrom(t, env, to)
		// Google's username is the email.
		wantUser(t, got, "id1", "test-user@zitadel.ch", "test-user@zitadel.ch", true)
		if jsonPath(t, got, "addHumanUser", "profile", "givenName") != "Test" {
			t.Fatalf("the browser's user field was taken: %v", got)
		}
		idp := signInIDP(t, env, "google", `{"name":"Google auto","clientId":"google-c","clientSecret":"s3cret-google"}`)
		signInTwice(t, env, idp, true, atOP(env, router, idp, "test-user@accounts.google.com", "verysecure"))
	})

	t.Run("apple", func(t *testing.T) { testApple(t, env, router, callback) })
	t.Run("azure", func(t *testing.T) { testAzure(t, env, router, callback) })
	t.Run("github", func(t *testing.T) { testGitHub(t, env, router) })
}

// appleKey is a P-256 key as the template takes it: base64 of the .p8 PEM.
func appleKey(t *testing.T) (*ecdsa.PrivateKey, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

var (
	formActionRe = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	formInputRe  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

// testApple: the client secret is an ES256 JWT, checked with the test key
// by a token endpoint in front of the OP; the OP answers by form_post, and
// the browser posts it with the first-login user JSON.
func testApple(t *testing.T, env *apptest.Env, router *hostRouter, callback string) {
	const issuer, clientID, teamID, keyID = "https://appleid.apple.com", "com.example.app", "TEAM123456", "KEY1234567"
	key, keyB64 := appleKey(t)
	_, otherB64 := appleKey(t)
	opH := kindOP(issuer, storage.NewUserStore(issuer), true, []*storage.Client{storage.WebClient(clientID, "op-side-secret", callback)})
	var checked atomic.Int32
	router.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" {
			opH.ServeHTTP(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		deny := func(why string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, `{"error":"invalid_client","error_description":%q}`, why)
		}
		tok, err := jwt.ParseSigned(r.PostForm.Get("client_secret"), []jose.SignatureAlgorithm{jose.ES256})
		if err != nil || len(tok.Headers) != 1 || tok.Headers[0].KeyID != keyID {
			deny(fmt.Sprintf("client secret: %v", err))
			return
		}
		var c jwt.Claims
		if err := tok.Claims(&key.PublicKey, &c); err != nil {
			deny("signature: " + err.Error())
			return
		}
		if err := c.ValidateWithLeeway(jwt.Expected{Issuer: teamID, Subject: clientID, AnyAudience: jwt.Audience{issuer}, Time: time.Now()}, 0); err != nil ||
			r.PostForm.Get("client_id") != clientID || c.Expiry.Time().After(time.Now().Add(6*31*24*time.Hour)) {
			deny(fmt.Sprintf("claims: %v", err))
			return
		}
		checked.Add(1)
		r.PostForm.Set("client_secret", "op-side-secret")
		body := r.PostForm.Encode()
		r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
		r.Form = nil
		opH.ServeHTTP(w, r)
	}), "appleid.apple.com")

	body := func(privateKey string) string {
		return fmt.Sprintf(`{"name":"Apple","clientId":%q,"teamId":%q,"keyId":%q,"privateKey":%q}`, clientID, teamID, keyID, privateKey)
	}
	login := func(t *testing.T, idpID, user string) (string, url.Values) {
		au := startIntent(t, env, idpID)["authUrl"].(string)
		q := redirectQuery(t, au, issuer+"/auth?")
		if q.Get("response_mode") != "form_post" || q.Get("scope") != "openid name email" {
			t.Fatalf("authUrl %s", au)
		}
		b := newBrowser(t, router)
		resp, at := b.follow(http.MethodGet, au, nil, "https://login.example/")
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := authRequestIDRe.FindSubmatch(page)
		if m == nil {
			t.Fatalf("no login form at %s: %s", at, page)
		}
		resp, at = b.follow(http.MethodPost, at, url.Values{"username": {"test-user@appleid.apple.com"}, "password": {"verysecure"}, "id": {string(m[1])}}, "https://login.example/")
		if resp == nil {
			t.Fatalf("no form_post page, sent to %s", at)
		}
		page, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		action := formActionRe.FindSubmatch(page)
		if action == nil || html.UnescapeString(string(action[1])) != callback {
			t.Fatalf("form_post page at %s: %s", at, page)
		}
		form := url.Values{}
		for _, in := range formInputRe.FindAllSubmatch(page, -1) {
			form.Set(string(in[1]), html.UnescapeString(string(in[2])))
		}
		if user != "" {
			form.Set("user", user)
		}
		_, to := b.follow(http.MethodPost, callback, form, "https://login.example/")
		return to, q
	}

	t.Run("first login", func(t *testing.T) {
		to, _ := login(t, plIDP(t, env, "", "apple", body(keyB64)), `{"name":{"firstName":"Ann","lastName":"Apple"},"email":"test-user@zitadel.ch"}`)
		got := retrieveFrom(t, env, to)
		wantUser(t, got, "id1", "test-user@zitadel.ch", "test-user@zitadel.ch", true)
		if jsonPath(t, got, "addHumanUser", "profile", "givenName") != "Ann" || jsonPath(t, got, "addHumanUser", "profile", "familyName") != "Apple" {
			t.Fatalf("the first-login name: %v", got)
		}
		if checked.Load() == 0 {
			t.Fatal("the token endpoint never checked a client secret")
		}
	})
	t.Run("later login", func(t *testing.T) {
		to, _ := login(t, plIDP(t, env, "", "apple", body(keyB64)), "")
		got := retrieveFrom(t, env, to)
		wantUser(t, got, "id1", "test-user@zitadel.ch", "test-user@zitadel.ch", true)
		if gn := jsonPath(t, got, "addHumanUser", "profile", "givenName"); gn != nil && gn != "" {
			t.Fatalf("a name without the user field: %v", got)
		}
	})
	t.Run("client secret signed with another key", func(t *testing.T) {
		before := checked.Load()
		to, _ := login(t, plIDP(t, env, "", "apple", body(otherB64)), "")
		redirectQuery(t, to, "https://login.example/idp/failure")
		if checked.Load() != before {
			t.Fatal("the token endpoint accepted a secret signed with another key")
		}
		t.Logf("failure: %s", to)
	})
	t.Run("created", func(t *testing.T) {
		idp := signInIDP(t, env, "apple", body(keyB64))
		signInTwice(t, env, idp, true, viaRedirect(func(t *testing.T) string {
			to, _ := login(t, idp, `{"name":{"firstName":"Ann","lastName":"Apple"},"email":"test-user@zitadel.ch"}`)
			return to
		}))
	})
}

// testAzure: the OP serves the tenant's authorize and token endpoints; a
// Graph /v1.0/me of our own serves the user; the email is verified only
// by the template's flag. With a tenant ID the OP's issuer is the tenant's
// (https://login.microsoftonline.com/{tenant}/v2.0, discovery and keys
// there) and the id_token must verify against it: a token re-signed by a
// key outside the tenant's keys, or naming another issuer, fails the
// login. The common tenant checks no id_token (its tokens come from every
// tenant's issuer).
func testAzure(t *testing.T, env *apptest.Env, router *hostRouter, callback string) {
	var graphToken atomic.Value
	router.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if r.URL.Path != "/v1.0/me" || !ok || tok == "" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		graphToken.Store(tok)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"6f1e2d3c-0000-4000-8000-00000000a2ad","userPrincipalName":"ann@contoso.onmicrosoft.com",
			"displayName":"Ann Azure","givenName":"Ann","surname":"Azure","mail":null,"mobilePhone":null,"preferredLanguage":"en-US"}`)
	}), "graph.microsoft.com")

	// login runs one Azure login for tenant against an OP with issuer
	// (re-routing login.microsoftonline.com to it) and returns where the
	// browser ended.
	body := func(tenant string, verified bool) string {
		tenantJSON := fmt.Sprintf(`{"tenantId":%q}`, tenant)
		if tenant == "common" {
			tenantJSON = `{"tenantType":"AZURE_AD_TENANT_TYPE_COMMON"}`
		}
		return fmt.Sprintf(`{"name":"Azure","clientId":"azure-c","clientSecret":"s3cret-azure","tenant":%s,"emailVerified":%v}`, tenantJSON, verified)
	}
	// at runs the login at an IdP made by add with the body for tenant.
	at := func(t *testing.T, tenant, issuer string, tamper *azureTamper, verified bool, add func(body string) string) string {
		t.Helper()
		base := "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/"
		opH := kindOP(issuer, storage.NewUserStore("https://login.microsoftonline.com"), false,
			[]*storage.Client{storage.WebClient("azure-c", "s3cret-azure", callback)},
			op.WithCustomAuthEndpoint(op.NewEndpointWithURL("/"+tenant+"/oauth2/v2.0/authorize", base+"authorize")),
			op.WithCustomTokenEndpoint(op.NewEndpointWithURL("/"+tenant+"/oauth2/v2.0/token", base+"token")))
		tamper.op, tamper.prefix, tamper.tokenPath = opH, "/"+tenant+"/v2.0", "/"+tenant+"/oauth2/v2.0/token"
		router.serve(t, tamper, "login.microsoftonline.com")
		idpID := add(body(tenant, verified))
		au := startIntent(t, env, idpID)["authUrl"].(string)
		q := redirectQuery(t, au, base+"authorize?")
		if !strings.Contains(" "+q.Get("scope")+" ", " User.Read ") || !strings.Contains(" "+q.Get("scope")+" ", " openid ") ||
			q.Get("prompt") != "select_account" {
			t.Fatalf("authUrl %s", au)
		}
		return newBrowser(t, router).loginAtOP(au, "test-user@login.microsoftonline.com", "verysecure", "https://login.example/")
	}
	login := func(t *testing.T, tenant, issuer string, tamper *azureTamper, verified bool) string {
		t.Helper()
		return at(t, tenant, issuer, tamper, verified, func(body string) string { return plIDP(t, env, "", "azure", body) })
	}
	const tenant = "0b2f-tenant"
	tenantIssuer := "https://login.microsoftonline.com/" + tenant + "/v2.0"
	for _, verified := range []bool{true, false} {
		t.Run(fmt.Sprintf("emailVerified=%v", verified), func(t *testing.T) {
			to := login(t, tenant, tenantIssuer, newAzureTamper(t, ""), verified)
			got := retrieveFrom(t, env, to)
			// mail is null: the email is the userPrincipalName.
			wantUser(t, got, "6f1e2d3c-0000-4000-8000-00000000a2ad", "ann@contoso.onmicrosoft.com", "ann@contoso.onmicrosoft.com", verified)
			if jsonPath(t, got, "addHumanUser", "profile", "familyName") != "Azure" ||
				jsonPath(t, got, "idpInformation", "oauth", "accessToken") != graphToken.Load() ||
				jsonPath(t, got, "idpInformation", "oauth", "idToken") == nil {
				t.Fatalf("profile or tokens: %v (Graph saw %v)", got, graphToken.Load())
			}
		})
	}
	t.Run("tenant/re-signed by a tenant key", func(t *testing.T) {
		retrieveFrom(t, env, login(t, tenant, tenantIssuer, newAzureTamper(t, "resign"), true))
	})
	t.Run("tenant/bad signature", func(t *testing.T) {
		q := redirectQuery(t, login(t, tenant, tenantIssuer, newAzureTamper(t, "rogue"), true), "https://login.example/idp/failure")
		if d := q.Get("error_description"); !strings.Contains(d, "signature") {
			t.Errorf("failure %q, want it to name the signature", d)
		}
	})
	t.Run("tenant/another issuer", func(t *testing.T) {
		q := redirectQuery(t, login(t, tenant, tenantIssuer, newAzureTamper(t, "issuer"), true), "https://login.example/idp/failure")
		if d := q.Get("error_description"); !strings.Contains(d, "issuer") {
			t.Errorf("failure %q, want it to name the issuer", d)
		}
	})
	t.Run("tenant/no id_token", func(t *testing.T) {
		q := redirectQuery(t, login(t, tenant, tenantIssuer, newAzureTamper(t, "drop"), true), "https://login.example/idp/failure")
		if d := q.Get("error_description"); !strings.Contains(d, "no id_token") {
			t.Errorf("failure %q, want it to name the no id_token", d)
		}
	})
	t.Run("common/not verified", func(t *testing.T) {
		// The OP's issuer is no tenant's, and its tokens are re-signed by a
		// stranger: the common tenant, as before, does not look.
		to := login(t, "common", "https://login.microsoftonline.com", newAzureTamper(t, "rogue"), false)
		wantUser(t, retrieveFrom(t, env, to), "6f1e2d3c-0000-4000-8000-00000000a2ad", "ann@contoso.onmicrosoft.com", "ann@contoso.onmicrosoft.com", false)
	})
	t.Run("created", func(t *testing.T) {
		idp := signInIDP(t, env, "azure", body(tenant, true))
		signInTwice(t, env, idp, true, viaRedirect(func(t *testing.T) string {
			return at(t, tenant, tenantIssuer, newAzureTamper(t, ""), true, func(string) string { return idp })
		}))
	})
}

// azureTamper is login.microsoftonline.com for one tenant: the OP, with
// the tenant issuer's path prefix stripped (discovery, keys), the keys
// endpoint also publishing key, and the token endpoint's id_token
// rewritten by mode: "" as issued, "resign" re-signed by key, "rogue"
// re-signed by a key nobody publishes, "issuer" naming another issuer
// (signed by key), "drop" left out.
type azureTamper struct {
	op                      http.Handler
	prefix, tokenPath, mode string
	key, rogue              *rsa.PrivateKey
}

func newAzureTamper(t *testing.T, mode string) *azureTamper {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &azureTamper{mode: mode, key: key, rogue: rogue}
}

func (a *azureTamper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p, ok := strings.CutPrefix(r.URL.Path, a.prefix); ok && a.prefix != "" && strings.HasPrefix(p, "/") {
		r = r.Clone(r.Context())
		r.URL.Path = p
	}
	if r.URL.Path != "/keys" && r.URL.Path != a.tokenPath {
		a.op.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	a.op.ServeHTTP(rec, r)
	var body map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	if r.URL.Path == "/keys" {
		keys, _ := body["keys"].([]any)
		b, _ := json.Marshal(jose.JSONWebKey{Key: &a.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"})
		var k any
		_ = json.Unmarshal(b, &k)
		body["keys"] = append(keys, k)
	} else if idt, _ := body["id_token"].(string); idt != "" && a.mode != "" {
		var claims map[string]any
		parts := strings.Split(idt, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		_ = json.Unmarshal(payload, &claims)
		key := a.key
		switch a.mode {
		case "rogue":
			key = a.rogue
		case "issuer":
			claims["iss"] = "https://login.microsoftonline.com/another-tenant/v2.0"
		case "drop":
			delete(body, "id_token")
		}
		if a.mode != "drop" {
			s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("JWT"))
			body["id_token"], _ = jwt.Signed(s).Claims(claims).Serialize()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// gitHub is GitHub's OAuth app endpoints and REST API, on loopback: the
// authorization endpoint consents at once; /user's email says nothing of
// verification, /user/emails does.
type gitHub struct {
	clientID, secret string
	mu               sync.Mutex
	codes            map[string]string // code → redirect_uri
	user             string            // /user JSON
	emails           string            // /user/emails JSON
	n                int
}

func (g *gitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/api/v3") // GitHub ES's REST prefix
	switch path {
	case "/login/oauth/authorize":
		q := r.URL.Query()
		if q.Get("client_id") != g.clientID || q.Get("state") == "" || q.Get("response_type") != "code" {
			http.Error(w, "bad authorize request", http.StatusBadRequest)
			return
		}
		g.n++
		code := fmt.Sprintf("gh-code-%d", g.n)
		g.codes[code] = q.Get("redirect_uri")
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	case "/login/oauth/access_token":
		_ = r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		code := r.PostForm.Get("code")
		redirect, known := g.codes[code]
		delete(g.codes, code)
		// GitHub answers 200 even to a bad code, form-encoded unless the
		// client accepts JSON.
		answer := url.Values{"access_token": {"gho_" + code}, "token_type": {"bearer"}, "scope": {"read:user,user:email"}}
		if id != g.clientID || secret != g.secret || !known || redirect != r.PostForm.Get("redirect_uri") {
			answer = url.Values{"error": {"bad_verification_code"}}
		}
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			m := map[string]string{}
			for k := range answer {
				m[k] = answer.Get(k)
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(m)
			return
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		_, _ = io.WriteString(w, answer.Encode())
	case "/user", "/user/emails":
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer gho_gh-code-") {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if path == "/user" {
			_, _ = io.WriteString(w, g.user)
		} else {
			_, _ = io.WriteString(w, g.emails)
		}
	default:
		http.NotFound(w, r)
	}
}

func (g *gitHub) set(user, emails string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.user, g.emails = user, emails
}

// testGitHub: github.com and GitHub ES; the email is verified only when
// /user/emails lists it verified.
func testGitHub(t *testing.T, env *apptest.Env, router *hostRouter) {
	gh := &gitHub{clientID: "gh-c", secret: "s3cret-gh", codes: map[string]string{}}
	router.serve(t, gh, "github.com", "api.github.com")
	ghes := &gitHub{clientID: "ghes-c", secret: "s3cret-ghes", codes: map[string]string{}}
	es := router.serve(t, ghes)
	githubID := plIDP(t, env, "", "github", `{"name":"GitHub","clientId":"gh-c","clientSecret":"s3cret-gh"}`)
	esID := plIDP(t, env, "", "github_es", fmt.Sprintf(`{"name":"GHES","clientId":"ghes-c","clientSecret":"s3cret-ghes",
		"authorizationEndpoint":%q,"tokenEndpoint":%q,"userEndpoint":%q}`, es+"/login/oauth/authorize", es+"/login/oauth/access_token", es+"/api/v3/user"))
	const user = `{"id":123456789,"login":"octocat","name":"The Octocat","email":%s,"avatar_url":"https://avatars.example/u/1","html_url":"https://github.com/octocat"}`
	for _, kind := range []struct {
		name, idpID, authPrefix string
		srv                     *gitHub
	}{
		{"github", githubID, "https://github.com/login/oauth/authorize?", gh},
		{"github_es", esID, es + "/login/oauth/authorize?", ghes},
	} {
		for _, tc := range []struct {
			name, email, emails, wantEmail string
			verified                       bool
		}{
			{"verified", `"octo@example.com"`, `[{"email":"octo@example.com","verified":true,"primary":true}]`, "octo@example.com", true},
			{"unverified", `"octo@example.com"`, `[{"email":"old@example.com","verified":true,"primary":false},{"email":"octo@example.com","verified":false,"primary":true}]`, "octo@example.com", false},
			{"private email", `null`, `[{"email":"other@example.com","verified":true,"primary":false},{"email":"primary@example.com","verified":true,"primary":true}]`, "primary@example.com", true},
		} {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				kind.srv.set(fmt.Sprintf(user, tc.email), tc.emails)
				au := startIntent(t, env, kind.idpID)["authUrl"].(string)
				if q := redirectQuery(t, au, kind.authPrefix); q.Get("scope") != "read:user user:email" {
					t.Fatalf("authUrl %s", au)
				}
				_, to := newBrowser(t, router).follow(http.MethodGet, au, nil, "https://login.example/")
				got := retrieveFrom(t, env, to)
				wantUser(t, got, "123456789", "octocat", tc.wantEmail, tc.verified)
				if jsonPath(t, got, "addHumanUser", "profile", "nickName") != "octocat" ||
					jsonPath(t, got, "idpInformation", "rawInformation", "html_url") != "https://github.com/octocat" {
					t.Fatalf("profile or raw: %v", got)
				}
				if raw, _ := json.Marshal(jsonPath(t, got, "idpInformation", "rawInformation", "id")); string(raw) != "123456789" {
					t.Fatalf("raw id %s", raw)
				}
			})
		}
	}
	for _, kind := range []struct {
		kind, body string
		srv        *gitHub
	}{
		{"github", `{"name":"GitHub auto","clientId":"gh-c","clientSecret":"s3cret-gh"}`, gh},
		{"github_es", fmt.Sprintf(`{"name":"GHES auto","clientId":"ghes-c","clientSecret":"s3cret-ghes",
		"authorizationEndpoint":%q,"tokenEndpoint":%q,"userEndpoint":%q}`, es+"/login/oauth/authorize", es+"/login/oauth/access_token", es+"/api/v3/user"), ghes},
	} {
		t.Run(kind.kind+"/registered", func(t *testing.T) {
			kind.srv.set(fmt.Sprintf(user, `"octo@example.com"`), `[{"email":"octo@example.com","verified":true,"primary":true}]`)
			// GitHub's user has a display name only: no user to create,
			// the UI registers one.
			idp := signInIDP(t, env, kind.kind, kind.body)
			signInTwice(t, env, idp, false, viaRedirect(func(t *testing.T) string {
				_, to := newBrowser(t, router).follow(http.MethodGet, startIntent(t, env, idp)["authUrl"].(string), nil, "https://login.example/")
				return to
			}))
		})
	}
	t.Run("github/wrong code", func(t *testing.T) {
		gh.set(fmt.Sprintf(user, `"octo@example.com"`), `[]`)
		au := startIntent(t, env, githubID)["authUrl"].(string)
		state := redirectQuery(t, au, "https://github.com/").Get("state")
		_, to := newBrowser(t, router).follow(http.MethodGet, env.URL+"/idps/callback?state="+state+"&code=forged", nil, "https://login.example/")
		redirectQuery(t, to, "https://login.example/idp/failure")
	})
}
