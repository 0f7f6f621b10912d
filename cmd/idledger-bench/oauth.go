package main

// The OpenID Provider's token paths (issue 19): client_credentials and
// JWT-profile grants of seeded machine users, a full code flow with PKCE
// driven through the API as a login client drives it, and the token
// endpoint beside zitadel/oidc's in-memory example OP.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	// zitadelAud puts the instance's own project in the token's audience:
	// what a service account asks for to call the API.
	zitadelAud     = "urn:zitadel:iam:org:project:id:zitadel:aud"
	tokenScope     = "openid " + zitadelAud
	jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	codeRedirect   = "https://app.bench.example/cb"
	// assertionsPerKey is how many distinct JWT-profile assertions are
	// signed per machine key before each run (signing inside the loop
	// would put the load generator's RSA signing on the server's cores).
	assertionsPerKey = 8
)

// oauthFixture is the seeded data of the OP scenarios.
type oauthFixture struct {
	machines []machineCred
	// login is the login client: a machine user holding IAM_LOGIN_CLIENT.
	login     *client
	projectID string
	clientID  string // OIDC app, auth method none: PKCE only
	issuer    string
	example   *exampleOP
}

// machineCred is a seeded machine user with a client secret and a key.
type machineCred struct {
	name, userID, secret string
	keyID                string
	signer               jose.Signer
}

// isOAuthScenario reports whether name needs the OAuth fixture.
func isOAuthScenario(name string) bool {
	return slices.Contains([]string{"client_credentials", "jwt_profile", "code_flow", "token_vs_example_op", "code_flow_hosted"}, name)
}

// seedOAuth creates n machine users, each with a secret and a JSON key, a
// login client, a project and a public OIDC app, and starts the example OP.
func seedOAuth(ctx context.Context, c *client, n int, log io.Writer) (*oauthFixture, error) {
	const workers = 16
	step := seedStep(ctx, workers, log)
	of := &oauthFixture{issuer: "http://" + c.host, machines: make([]machineCred, n)}
	if err := step("machine users with a secret and a key", n, func(ctx context.Context, i int) error {
		m, err := addMachine(ctx, c, fmt.Sprintf("bench-svc-%04d", i))
		of.machines[i] = m
		return err
	}); err != nil {
		return nil, err
	}
	var lc struct {
		UserID string `json:"userId"`
	}
	if err := c.doJSON(ctx, "POST", "/management/v1/users/machine", "", map[string]any{"userName": "bench-login-client", "name": "bench login client"}, &lc); err != nil {
		return nil, err
	}
	var pat struct {
		Token string `json:"token"`
	}
	if err := c.doJSON(ctx, "POST", "/management/v1/users/"+lc.UserID+"/pats", "", map[string]any{}, &pat); err != nil {
		return nil, err
	}
	if err := c.doJSON(ctx, "POST", "/admin/v1/members", "", map[string]any{"userId": lc.UserID, "roles": []string{"IAM_LOGIN_CLIENT"}}, nil); err != nil {
		return nil, err
	}
	if pat.Token == "" {
		return nil, errors.New("seed login client: no PAT in the answer")
	}
	of.login = &client{base: c.base, host: c.host, token: pat.Token, http: c.http}
	var p struct {
		ID string `json:"id"`
	}
	if err := c.doJSON(ctx, "POST", "/management/v1/projects", "", map[string]any{"name": "bench-shop"}, &p); err != nil {
		return nil, err
	}
	of.projectID = p.ID
	var a struct {
		ClientID string `json:"clientId"`
	}
	if err := c.doJSON(ctx, "POST", "/management/v1/projects/"+p.ID+"/apps/oidc", "", map[string]any{
		"name": "bench-web", "redirectUris": []string{codeRedirect}, "responseTypes": []string{"OIDC_RESPONSE_TYPE_CODE"},
		"grantTypes": []string{"OIDC_GRANT_TYPE_AUTHORIZATION_CODE"}, "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE",
	}, &a); err != nil {
		return nil, err
	}
	if a.ClientID == "" {
		return nil, errors.New("seed OIDC app: no clientId in the answer")
	}
	of.clientID = a.ClientID
	ex, err := startExampleOP()
	if err != nil {
		return nil, fmt.Errorf("example OP: %w", err)
	}
	of.example = ex
	return of, nil
}

// addMachine creates a machine user named name with a client secret and a
// generated JSON key.
func addMachine(ctx context.Context, c *client, name string) (machineCred, error) {
	m := machineCred{name: name}
	var u struct {
		UserID string `json:"userId"`
	}
	if err := c.doJSON(ctx, "POST", "/management/v1/users/machine", "", map[string]any{"userName": name, "name": name}, &u); err != nil {
		return m, err
	}
	m.userID = u.UserID
	var s struct {
		ClientSecret string `json:"clientSecret"`
	}
	if err := c.doJSON(ctx, "PUT", "/management/v1/users/"+u.UserID+"/secret", "", map[string]any{}, &s); err != nil {
		return m, err
	}
	m.secret = s.ClientSecret
	var k struct {
		KeyDetails []byte `json:"keyDetails"`
	}
	if err := c.doJSON(ctx, "POST", "/management/v1/users/"+u.UserID+"/keys", "", map[string]any{"type": "KEY_TYPE_JSON"}, &k); err != nil {
		return m, err
	}
	var kf struct {
		KeyID  string `json:"keyId"`
		Key    string `json:"key"`
		UserID string `json:"userId"`
	}
	if err := json.Unmarshal(k.KeyDetails, &kf); err != nil || kf.Key == "" || kf.UserID != u.UserID || m.secret == "" {
		return m, fmt.Errorf("machine %s: key file %q (%v) or secret missing", name, truncate(k.KeyDetails, 80), err)
	}
	key, err := parseRSAPrivateKey([]byte(kf.Key))
	if err != nil {
		return m, fmt.Errorf("machine %s: key file: %w", name, err)
	}
	m.keyID = kf.KeyID
	m.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kf.KeyID))
	return m, err
}

// assertion signs a JWT-profile assertion of m for aud, valid for an hour.
func (m machineCred) assertion(aud string, n int) (string, error) {
	now := time.Now()
	return jwt.Signed(m.signer).Claims(jwt.Claims{Issuer: m.userID, Subject: m.userID, Audience: jwt.Audience{aud},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour)),
		ID: fmt.Sprintf("bench-%d-%d", now.UnixNano(), n)}).Serialize()
}

// tokenClient is an OAuth client of the server at base (the Host header
// selects the instance when host is set).
type tokenClient struct {
	base, host string
	http       *http.Client
}

// token posts form to the token endpoint path, with HTTP Basic client
// authentication when user is set, and returns the answer; an answer
// without an access token is an error.
func (t tokenClient) token(ctx context.Context, path string, form url.Values, user, pass string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	if t.host != "" {
		req.Host = t.host
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		// RFC 6749 §2.3.1: both parts form-encoded.
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(out, []byte(`"access_token"`)) {
		return out, &statusError{Method: "POST", Path: path, Status: resp.StatusCode, Body: truncate(out, 300)}
	}
	return out, nil
}

func (b *bench) tokens() tokenClient {
	return tokenClient{base: b.c.base, host: b.c.host, http: b.c.http}
}

func ccForm() url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {tokenScope}}
}

// machineFor spreads the machines over the workers.
func machineFor(b *bench, w *worker) machineCred {
	ms := b.fx.oauth.machines
	return ms[(w.id+w.iter*b.cfg.maxConc())%len(ms)]
}

func clientCredentials(b *bench) op {
	t := b.tokens()
	form := ccForm()
	return func(ctx context.Context, w *worker) error {
		m := machineFor(b, w)
		return w.timed(func() error {
			_, err := t.token(ctx, "/oauth/v2/token", form, m.name, m.secret)
			return err
		})
	}
}

// signAssertions signs assertionsPerKey assertions per machine.
func signAssertions(b *bench) ([][]string, error) {
	of := b.fx.oauth
	out := make([][]string, len(of.machines))
	for i, m := range of.machines {
		for n := range assertionsPerKey {
			a, err := m.assertion(of.issuer, n)
			if err != nil {
				return nil, err
			}
			out[i] = append(out[i], a)
		}
	}
	return out, nil
}

func jwtForm(assertion string) url.Values {
	return url.Values{"grant_type": {jwtBearerGrant}, "assertion": {assertion}, "scope": {tokenScope}}
}

func jwtProfile(b *bench) op {
	t := b.tokens()
	signed, err := signAssertions(b)
	return func(ctx context.Context, w *worker) error {
		if err != nil {
			return w.timed(func() error { return err })
		}
		i := (w.id + w.iter*b.cfg.maxConc()) % len(signed)
		form := jwtForm(signed[i][w.iter%assertionsPerKey])
		return w.timed(func() error {
			_, err := t.token(ctx, "/oauth/v2/token", form, "", "")
			return err
		})
	}
}

// flowStep is one captured request of a baseline: the reads it ran and
// how many events it appended (in one transaction).
type flowStep struct {
	reads  []stmt
	events int
}

// captureStep runs do with the tracer recording and keeps every read it
// ran (the token endpoint authenticates no API caller: all its statements
// are the request's own) and how many events it appended. The scenarios
// run one at a time, so nothing else appends meanwhile.
func captureStep(ctx context.Context, b *bench, do func() error) (flowStep, []stmt, error) {
	before, err := countEvents(ctx, b.base)
	if err != nil {
		return flowStep{}, nil, err
	}
	all, err := b.tracer.capture(do)
	if err != nil {
		return flowStep{}, all, err
	}
	after, err := countEvents(ctx, b.base)
	if err != nil {
		return flowStep{}, all, err
	}
	st := flowStep{events: int(after - before)}
	for _, s := range all {
		if replayable(s.SQL) {
			st.reads = append(st.reads, s)
		}
	}
	return st, all, nil
}

// replayable reports whether sql is a read of the request the baseline
// can run on its own: a SELECT or WITH that changes no rows and takes no
// lock. Left out too are the statements that only share the capture
// window: the store's notifier (pg_notify, sent from its own goroutine
// after a commit; replayed, it would wake the server's subscriptions
// during the baseline) and the subscriptions' catch-up it triggers (the
// snapshot horizon and the reads below it), which run off the request's
// path.
func replayable(sql string) bool {
	q := strings.ToLower(strings.TrimSpace(sql))
	if !strings.HasPrefix(q, "select") && !strings.HasPrefix(q, "with") {
		return false
	}
	for _, not := range []string{"for update", "advisory", "pg_notify(", "pg_current_snapshot()"} {
		if strings.Contains(q, not) {
			return false
		}
	}
	return !writes(q)
}

// flowBaseline is a baseline op: cycle over captured flows, replay each
// step's reads, insert as many event rows as each writing step appended
// (one statement per step: one transaction each, as on the server), and
// run verify (the argon2id checks the server ran, on the stored hash).
func flowBaseline(b *bench, flows [][]flowStep, verify func(w *worker) error) op {
	return func(ctx context.Context, w *worker) error {
		flow := flows[w.iter%len(flows)]
		return w.timed(func() error {
			for _, st := range flow {
				for _, s := range st.reads {
					if err := drain(b.base.Query(ctx, s.SQL, s.Args...)); err != nil {
						return err
					}
				}
				if st.events > 0 {
					if err := insertEvents(ctx, b, st.events); err != nil {
						return err
					}
				}
			}
			if verify != nil {
				return verify(w)
			}
			return nil
		})
	}
}

// flowSQL describes a captured flow for the report.
func flowSQL(flow []flowStep, extra ...string) []string {
	var out []string
	for _, st := range flow {
		out = append(out, sqlTexts(st.reads)...)
		if st.events > 0 {
			out = append(out, fmt.Sprintf("INSERT INTO %s … (%d rows in one statement, autocommit, synchronous_commit=on)", baselineTable, st.events))
		}
	}
	return append(out, extra...)
}

// captureFlows runs flow n times with the tracer on, each step captured
// on its own.
func captureFlows(ctx context.Context, b *bench, name string, n int, flow func(i int) []func() error) ([][]flowStep, error) {
	var out [][]flowStep
	for i := range n {
		var steps []flowStep
		for k, do := range flow(i) {
			st, all, err := captureStep(ctx, b, do)
			if err != nil {
				return nil, fmt.Errorf("%s baseline: step %d: %w", name, k+1, err)
			}
			if len(st.reads) == 0 && len(all) > 0 {
				return nil, fmt.Errorf("%s baseline: step %d ran no replayable read; captured: %s", name, k+1, sqlList(all))
			}
			steps = append(steps, st)
		}
		out = append(out, steps)
	}
	return out, nil
}

func argonLine(p *phc) string {
	return fmt.Sprintf("argon2id verify (m=%d KiB, t=%d, p=%d, %d-byte key) of the stored hash, in Go", p.memory, p.time, p.threads, len(p.key))
}

// clientCredentialsBaseline replays 16 captured token requests of
// different machines and verifies the machine's stored secret hash, as
// CheckMachineSecret does.
func clientCredentialsBaseline(ctx context.Context, b *bench) (op, []string, error) {
	of := b.fx.oauth
	t := b.tokens()
	flows, err := captureFlows(ctx, b, "client_credentials", 16, func(i int) []func() error {
		m := of.machines[(i*7919)%len(of.machines)]
		return []func() error{func() error { _, err := t.token(ctx, "/oauth/v2/token", ccForm(), m.name, m.secret); return err }}
	})
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, len(of.machines))
	for i, m := range of.machines {
		ids[i] = m.userID
	}
	digests, err := storedSecretDigests(ctx, b, ids)
	if err != nil {
		return nil, nil, err
	}
	verify := func(w *worker) error {
		i := (w.id + w.iter*b.cfg.maxConc()) % len(of.machines)
		sum := sha256.Sum256([]byte(of.machines[i].secret))
		if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(digests[i])) != 1 {
			return errors.New("baseline: the machine secret does not match its stored digest")
		}
		return nil
	}
	return flowBaseline(b, flows, verify), flowSQL(flows[0], "SHA-256 of the secret against its stored digest, in Go"), nil
}

// storedSecretDigests reads each machine user's current client secret
// digest from its events (the hex SHA-256 after "$sha256$", the form
// idledger stores a generated secret in).
func storedSecretDigests(ctx context.Context, b *bench, userIDs []string) ([]string, error) {
	rows, err := b.base.Query(ctx, `SELECT aggregate_id, payload->>'hashedSecret' FROM events
        WHERE aggregate_type = 'user' AND aggregate_id = ANY($1) AND event_type = 'user.machine.secret.set' ORDER BY sequence`, userIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byUser := map[string]string{}
	for rows.Next() {
		var id, h string
		if err := rows.Scan(&id, &h); err != nil {
			return nil, err
		}
		byUser[id] = h
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]string, len(userIDs))
	for i, id := range userIDs {
		d, ok := strings.CutPrefix(byUser[id], "$sha256$")
		if !ok {
			return nil, fmt.Errorf("client_credentials baseline: no secret digest in machine user %s's events", id)
		}
		out[i] = d
	}
	return out, nil
}

// jwtProfileBaseline replays 16 captured JWT-profile requests. The RS256
// verification of the assertion is the server's own cost.
func jwtProfileBaseline(ctx context.Context, b *bench) (op, []string, error) {
	of := b.fx.oauth
	t := b.tokens()
	flows, err := captureFlows(ctx, b, "jwt_profile", 16, func(i int) []func() error {
		m := of.machines[(i*7919)%len(of.machines)]
		return []func() error{func() error {
			a, err := m.assertion(of.issuer, i)
			if err != nil {
				return err
			}
			_, err = t.token(ctx, "/oauth/v2/token", jwtForm(a), "", "")
			return err
		}}
	})
	if err != nil {
		return nil, nil, err
	}
	return flowBaseline(b, flows, nil), flowSQL(flows[0]), nil
}

// --- the code flow through the API ---

// pkce returns a verifier and its S256 challenge.
func pkce(n int64) (verifier, challenge string) {
	verifier = fmt.Sprintf("bench-verifier-%043d", n)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// codeFlowClient is everything one code flow needs.
type codeFlowClient struct {
	b          *bench
	noRedirect *http.Client
}

func newCodeFlowClient(b *bench) *codeFlowClient {
	return &codeFlowClient{b: b, noRedirect: &http.Client{Transport: b.c.http.Transport, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (f *codeFlowClient) authorizeURL(state, challenge string) string {
	q := url.Values{"client_id": {f.b.fx.oauth.clientID}, "redirect_uri": {codeRedirect}, "response_type": {"code"},
		"scope": {"openid profile email"}, "state": {state}, "nonce": {"n-" + state},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	return "/oauth/v2/authorize?" + q.Encode()
}

// authorize sends the browser to the authorize endpoint and returns the
// auth request ID of the login redirect.
func (f *codeFlowClient) authorize(ctx context.Context, state, challenge string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.b.c.base+f.authorizeURL(state, challenge), nil)
	if err != nil {
		return "", err
	}
	req.Host = f.b.c.host
	resp, err := f.noRedirect.Do(req)
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.Query().Get("authRequest"), "V2_") {
		return "", fmt.Errorf("authorize: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("authRequest"), nil
}

// steps returns the flow's requests for user i, one func each: authorize,
// GetAuthRequest, CreateSession (password), CreateCallback, token.
func (f *codeFlowClient) steps(ctx context.Context, i int) []func() error {
	lf, of, lc := f.b.fx.login, f.b.fx.oauth, f.b.fx.oauth.login
	n := uniq.Add(1)
	state := fmt.Sprintf("s%d", n)
	verifier, challenge := pkce(n)
	var arID, code string
	var sess struct {
		SessionID    string `json:"sessionId"`
		SessionToken string `json:"sessionToken"`
	}
	return []func() error{
		func() (err error) { arID, err = f.authorize(ctx, state, challenge); return err },
		func() error { _, err := lc.do(ctx, "GET", "/v2/oidc/auth_requests/"+arID, "", nil); return err },
		func() error {
			return lc.doJSON(ctx, "POST", "/v2/sessions", "", json.RawMessage(sessionBody(lf.names[i], lf.password)), &sess)
		},
		func() error {
			var cb struct {
				CallbackURL string `json:"callbackUrl"`
			}
			body, _ := json.Marshal(map[string]any{"session": map[string]string{"sessionId": sess.SessionID, "sessionToken": sess.SessionToken}})
			if err := lc.doJSON(ctx, "POST", "/v2/oidc/auth_requests/"+arID, "", json.RawMessage(body), &cb); err != nil {
				return err
			}
			u, err := url.Parse(cb.CallbackURL)
			if err != nil || !strings.HasPrefix(cb.CallbackURL, codeRedirect+"?") || u.Query().Get("state") != state || u.Query().Get("code") == "" {
				return fmt.Errorf("CreateCallback: callbackUrl %q", cb.CallbackURL)
			}
			code = u.Query().Get("code")
			return nil
		},
		func() error {
			_, err := f.b.tokens().token(ctx, "/oauth/v2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {codeRedirect}, "client_id": {of.clientID}, "code_verifier": {verifier}}, "", "")
			return err
		},
	}
}

// codeFlow is one whole flow per sample; each worker logs in its own users.
func codeFlow(b *bench) op {
	f := newCodeFlowClient(b)
	return func(ctx context.Context, w *worker) error {
		steps := f.steps(ctx, loginUser(b, w))
		return w.timed(func() error {
			for _, s := range steps {
				if err := s(); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// codeFlowBaseline replays 4 captured flows step by step, and the
// password check's argon2id verification of the user's stored hash.
func codeFlowBaseline(ctx context.Context, b *bench) (op, []string, error) {
	f := newCodeFlowClient(b)
	lf := b.fx.login
	flows, err := captureFlows(ctx, b, "code_flow", 4, func(i int) []func() error { return f.steps(ctx, len(lf.names)-1-i) })
	if err != nil {
		return nil, nil, err
	}
	hashes, err := storedHashes(ctx, b, lf.userIDs)
	if err != nil {
		return nil, nil, err
	}
	verify := func(w *worker) error {
		if !hashes[loginUser(b, w)].verify(lf.password) {
			return errors.New("baseline: argon2id verification failed")
		}
		return nil
	}
	return flowBaseline(b, flows, verify), flowSQL(flows[0], argonLine(hashes[0])), nil
}
