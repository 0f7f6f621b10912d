package main

// The login path (issue 18): a session with a password check, an intent
// started at a generic OIDC IdP whose upstream is the bench's own OP on
// loopback, and the retrieve of intents that succeeded through a real JWT
// callback signed by the bench's own key.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/crypto/argon2"
)

// loginFixture is the seeded data of the login-path scenarios.
type loginFixture struct {
	names    []string // login names of the users with a password
	userIDs  []string
	password string
	oidcIDP  string // generic OIDC, issuer = the bench's OP
	jwtIDP   string // generic JWT, keys = the bench's JWKS
	intents  []seededIntent
	up       *benchOP
}

// seededIntent is a succeeded intent and its token.
type seededIntent struct{ id, token string }

// loginPassword satisfies the default complexity policy.
const loginPassword = "Bench-Passw0rd!"

const (
	loginSuccessURL = "https://login.example/idp/success?requestId=bench"
	loginFailureURL = "https://login.example/idp/failure?requestId=bench"
	jwtIssuer       = "https://bench-jwt-issuer.example"
	jwtHeader       = "x-auth-jwt"
)

// isLoginScenario reports whether name needs the login fixture.
func isLoginScenario(name string) bool {
	return slices.Contains([]string{"create_session_password", "start_intent", "retrieve_intent", "code_flow", "code_flow_hosted"}, name)
}

// benchOP is a minimal OpenID provider on loopback: discovery and a JWKS,
// which is all that starting an OIDC intent and verifying a JWT need. It
// counts what it serves, so the report can say how often the server went
// upstream.
type benchOP struct {
	url       string
	key       *rsa.PrivateKey
	discovery atomic.Int64
	keys      atomic.Int64
	srv       *http.Server
}

func startBenchOP() (*benchOP, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	op := &benchOP{url: "http://" + ln.Addr().String(), key: key}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "bench-1", Algorithm: "RS256", Use: "sig"}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		op.discovery.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": op.url, "authorization_endpoint": op.url + "/authorize", "token_endpoint": op.url + "/token",
			"userinfo_endpoint": op.url + "/userinfo", "jwks_uri": op.url + "/keys",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, _ *http.Request) {
		op.keys.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	})
	op.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = op.srv.Serve(ln) }()
	return op, nil
}

func (op *benchOP) close() { _ = op.srv.Close() }

// sign returns a JWT for subject, valid for two hours, for audience aud.
func (op *benchOP) sign(aud, subject string) (string, error) {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: op.key},
		(&jose.SignerOptions{}).WithHeader("kid", "bench-1").WithType("JWT"))
	if err != nil {
		return "", err
	}
	now := time.Now()
	c := jwt.Claims{Issuer: jwtIssuer, Subject: subject, Audience: jwt.Audience{aud},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(2 * time.Hour))}
	return jwt.Signed(s).Claims(c).Claims(map[string]any{
		"email": subject + "@jwt.bench.example", "email_verified": true, "preferred_username": subject,
	}).Serialize()
}

// seedLogin creates, through the API and the real callback, n users with a
// password (the argon2id hash is paid here, once each), the two IdPs, and
// n intents that succeeded through a JWT callback. Succeeded intents
// expire after an hour (command.MaxIntentLifetime): the scenario phase
// must start within it.
func seedLogin(ctx context.Context, c *client, fx *fixture, n int, log io.Writer) (*loginFixture, error) {
	const workers = 16
	op, err := startBenchOP()
	if err != nil {
		return nil, fmt.Errorf("seed login: start the bench OP: %w", err)
	}
	lf := &loginFixture{names: make([]string, n), userIDs: make([]string, n), password: loginPassword, up: op}
	fail := func(err error) (*loginFixture, error) { op.close(); return nil, err }
	step := seedStep(ctx, workers, log)
	if err := step("users with a password", n, func(ctx context.Context, i int) error {
		name := fmt.Sprintf("bench-login-%05d", i)
		body := humanBody(fx.orgs[i%len(fx.orgs)], name)
		body["password"] = map[string]any{"password": loginPassword, "changeRequired": false}
		var out struct {
			UserID string `json:"userId"`
		}
		if err := c.doJSON(ctx, "POST", "/v2/users/human", "", body, &out); err != nil {
			return err
		}
		if out.UserID == "" {
			return errors.New("POST /v2/users/human: answer has no userId")
		}
		lf.names[i], lf.userIDs[i] = name, out.UserID
		return nil
	}); err != nil {
		return fail(err)
	}
	if lf.oidcIDP, err = addIDPBody(ctx, c, "/admin/v1", "", "generic_oidc", map[string]any{
		"name": "bench-login-oidc", "issuer": op.url, "clientId": "bench-client",
		"clientSecret": "bench-secret-0123456789abcdef", "scopes": []string{"openid", "profile", "email"},
	}); err != nil {
		return fail(err)
	}
	if lf.jwtIDP, err = addIDPBody(ctx, c, "/admin/v1", "", "generic_jwt", map[string]any{
		"name": "bench-login-jwt", "issuer": jwtIssuer, "jwtEndpoint": "https://proxy.bench.example/jwt",
		"keysEndpoint": op.url + "/keys", "headerName": jwtHeader,
	}); err != nil {
		return fail(err)
	}
	// The callback answers 302 to the login UI: the browser side does not
	// follow it.
	browser := &http.Client{Transport: c.http.Transport, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	lf.intents = make([]seededIntent, n)
	if err := step("succeeded JWT intents", n, func(ctx context.Context, i int) error {
		in, err := jwtLogin(ctx, c, browser, op, lf.jwtIDP, fmt.Sprintf("bench-ext-%05d", i))
		lf.intents[i] = in
		return err
	}); err != nil {
		return fail(err)
	}
	return lf, nil
}

func intentBody(idpID string) []byte {
	b, _ := json.Marshal(map[string]any{"idpId": idpID, "urls": map[string]string{"successUrl": loginSuccessURL, "failureUrl": loginFailureURL}})
	return b
}

// jwtLogin runs a JWT-family login as a login UI and a proxy would: start
// the intent, then GET /idps/jwt with the intent and userAgentID of the
// auth URL and a JWT signed by the bench's key in the IdP's header; the
// success redirect carries the intent's ID and token.
func jwtLogin(ctx context.Context, c *client, browser *http.Client, op *benchOP, idpID, subject string) (seededIntent, error) {
	var start struct {
		AuthURL string `json:"authUrl"`
	}
	if err := c.doJSON(ctx, "POST", "/v2/idp_intents", "", json.RawMessage(intentBody(idpID)), &start); err != nil {
		return seededIntent{}, err
	}
	au, err := url.Parse(start.AuthURL)
	if err != nil || au.Query().Get("authRequestID") == "" {
		return seededIntent{}, fmt.Errorf("start JWT intent: authUrl %q", start.AuthURL)
	}
	tok, err := op.sign("http://"+c.host, subject)
	if err != nil {
		return seededIntent{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/idps/jwt?"+au.RawQuery, nil)
	if err != nil {
		return seededIntent{}, err
	}
	req.Host = c.host
	req.Header.Set(jwtHeader, "Bearer "+tok)
	resp, err := browser.Do(req)
	if err != nil {
		return seededIntent{}, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	to := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(to, "https://login.example/idp/success") {
		return seededIntent{}, fmt.Errorf("JWT callback: %d to %q", resp.StatusCode, to)
	}
	u, err := url.Parse(to)
	if err != nil {
		return seededIntent{}, err
	}
	in := seededIntent{id: u.Query().Get("id"), token: u.Query().Get("token")}
	if in.id == "" || in.token == "" {
		return seededIntent{}, fmt.Errorf("JWT callback: success redirect %q has no id or token", to)
	}
	return in, nil
}

// loginUser is the user a worker logs in as: the users are split among the
// workers of the highest concurrency (n is a multiple of it), so two
// workers never check the same user at once and a session's append never
// conflicts on the user's aggregate.
func loginUser(b *bench, w *worker) int {
	lf, m := b.fx.login, b.cfg.maxConc()
	per := len(lf.names) / m
	return (w.iter%per)*m + w.id%m
}

func sessionBody(name, password string) []byte {
	b, _ := json.Marshal(map[string]any{"checks": map[string]any{
		"user": map[string]any{"loginName": name}, "password": map[string]any{"password": password}}})
	return b
}

func createSessionPassword(b *bench) op {
	return func(ctx context.Context, w *worker) error {
		lf := b.fx.login
		body := sessionBody(lf.names[loginUser(b, w)], lf.password)
		return w.timed(func() error {
			_, err := b.c.do(ctx, "POST", "/v2/sessions", "", body)
			return err
		})
	}
}

func startIntent(b *bench) op {
	body := intentBody(b.fx.login.oidcIDP)
	return func(ctx context.Context, w *worker) error {
		return w.timed(func() error {
			_, err := b.c.do(ctx, "POST", "/v2/idp_intents", "", body)
			return err
		})
	}
}

func retrieveBody(token string) []byte {
	b, _ := json.Marshal(map[string]string{"idpIntentToken": token})
	return b
}

func retrieveIntent(b *bench) op {
	return func(ctx context.Context, w *worker) error {
		in := b.fx.login.intents[w.intn(len(b.fx.login.intents))]
		body := retrieveBody(in.token)
		return w.timed(func() error {
			_, err := b.c.do(ctx, "POST", "/v2/idp_intents/"+in.id, "", body)
			return err
		})
	}
}

// retrieveIntentBaseline replays the reads of 16 captured retrieves (the
// intent's events), each keyed by its intent ID.
func retrieveIntentBaseline(ctx context.Context, b *bench) (op, []string, error) {
	lf := b.fx.login
	return captureSets(ctx, b, "retrieve_intent", 16, func(i int) (string, error) {
		in := lf.intents[(i*7919)%len(lf.intents)]
		_, err := b.c.do(ctx, "POST", "/v2/idp_intents/"+in.id, "", retrieveBody(in.token))
		return in.id, err
	})
}

// writeCapture is one captured write request: the reads that carry its
// keys, and how many events it appended.
type writeCapture struct {
	reads  []stmt
	events int
}

// captureWrite runs do once with the tracer recording, keeps the reads
// that carry one of needles (the request's own keys: the authentication
// around it is left out, as in the read baselines), and counts the events
// the request appended (nothing else writes meanwhile: the scenarios run
// one at a time).
func captureWrite(ctx context.Context, b *bench, name string, do func() ([]byte, error), needles func(answer []byte) []string) (writeCapture, error) {
	before, err := countEvents(ctx, b.base)
	if err != nil {
		return writeCapture{}, err
	}
	var answer []byte
	all, err := b.tracer.capture(func() error { var err error; answer, err = do(); return err })
	if err != nil {
		return writeCapture{}, fmt.Errorf("%s baseline: capture: %w", name, err)
	}
	after, err := countEvents(ctx, b.base)
	if err != nil {
		return writeCapture{}, err
	}
	var wc writeCapture
	for _, n := range needles(answer) {
		for _, s := range carrying(all, n) {
			if writes(s.SQL) {
				continue // the appends: the baseline inserts its own rows
			}
			if !slices.ContainsFunc(wc.reads, func(r stmt) bool { return r.SQL == s.SQL && fmt.Sprint(r.Args) == fmt.Sprint(s.Args) }) {
				wc.reads = append(wc.reads, s)
			}
		}
	}
	wc.events = int(after - before)
	if len(wc.reads) == 0 || wc.events < 1 {
		return writeCapture{}, fmt.Errorf("%s baseline: %d reads carry the request's keys, %d events appended; captured: %s",
			name, len(wc.reads), wc.events, sqlList(all))
	}
	return wc, nil
}

// writes reports whether sql changes rows (the store's appends are
// WITH … INSERT statements, which carrying keeps as reads).
func writes(sql string) bool {
	q := strings.ToLower(sql)
	return strings.Contains(q, "insert into") || strings.Contains(q, "update ") || strings.Contains(q, "delete from")
}

// insertEvents is the write of a write baseline: one autocommitted
// multi-row INSERT of n event-sized rows (one transaction, one WAL flush,
// as the server's append is one transaction).
func insertEvents(ctx context.Context, b *bench, n int) error {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO ` + baselineTable + ` (instance_id, aggregate_type, aggregate_id, sequence, event_type, payload, creator, resource_owner) VALUES `)
	args := []any{"bench-instance", fmt.Sprintf("%s-%d", b.tag, uniq.Add(1)),
		[]byte(`{"userId":"312345678901234567","userResourceOwner":"312345678901234568","checkedAt":"2026-12-03T14:00:00.000000Z"}`)}
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "($1, 'session', $2, %d, 'session.event', $3, 'bench', 'bench-org')", i+1)
	}
	_, err := b.base.Exec(ctx, sb.String(), args...)
	return err
}

func writeBaselineSQL(wc writeCapture, extra ...string) []string {
	out := sqlTexts(wc.reads)
	out = append(out, fmt.Sprintf("INSERT INTO %s … (%d rows in one statement, autocommit, synchronous_commit=on)", baselineTable, wc.events))
	return append(out, extra...)
}

// createSessionPasswordBaseline captures one session creation and replays
// its reads (the login-name lookup, the user's events, the new session's
// events) with another user's name and ID and a new session ID, inserts as
// many event rows as it appended in one statement, and runs the same
// argon2id verification the password check runs, with the parameters and
// salt of the stored hash: the hash is the request's real cost, and a
// baseline without it would measure the hash, not idledger.
func createSessionPasswordBaseline(ctx context.Context, b *bench) (op, []string, error) {
	lf := b.fx.login
	u0 := len(lf.names) - 1
	var session0 string
	wc, err := captureWrite(ctx, b, "create_session_password", func() ([]byte, error) {
		return b.c.do(ctx, "POST", "/v2/sessions", "", sessionBody(lf.names[u0], lf.password))
	}, func(answer []byte) []string {
		var out struct {
			SessionID string `json:"sessionId"`
		}
		_ = json.Unmarshal(answer, &out)
		session0 = out.SessionID
		return []string{lf.names[u0], lf.userIDs[u0], out.SessionID}
	})
	if err != nil {
		return nil, nil, err
	}
	hashes, err := storedHashes(ctx, b, lf.userIDs)
	if err != nil {
		return nil, nil, err
	}
	v := hashes[0]
	o := func(ctx context.Context, w *worker) error {
		i := loginUser(b, w)
		other, hash := lf.userIDs[i], hashes[i]
		session := fmt.Sprintf("%s-s%d", b.tag, uniq.Add(1))
		return w.timed(func() error {
			for _, s := range wc.reads {
				args := substitute(substitute(substitute(s.Args, lf.names[u0], lf.names[i]), lf.userIDs[u0], other), session0, session)
				if err := drain(b.base.Query(ctx, s.SQL, args...)); err != nil {
					return err
				}
			}
			if !hash.verify(lf.password) {
				return errors.New("baseline: argon2id verification failed")
			}
			return insertEvents(ctx, b, wc.events)
		})
	}
	return o, writeBaselineSQL(wc, fmt.Sprintf("argon2id verify (m=%d KiB, t=%d, p=%d, %d-byte key) of the stored hash, in Go", v.memory, v.time, v.threads, len(v.key))), nil
}

// startIntentBaseline captures one start and replays its reads (the IdP's
// events) and inserts as many event rows as it appended (the started
// event). The sealing of the saved nonce and the building of the auth URL
// are the server's own cost: the baseline has no equivalent.
func startIntentBaseline(ctx context.Context, b *bench) (op, []string, error) {
	idpID := b.fx.login.oidcIDP
	wc, err := captureWrite(ctx, b, "start_intent", func() ([]byte, error) {
		return b.c.do(ctx, "POST", "/v2/idp_intents", "", intentBody(idpID))
	}, func([]byte) []string { return []string{idpID} })
	if err != nil {
		return nil, nil, err
	}
	o := func(ctx context.Context, w *worker) error {
		return w.timed(func() error {
			for _, s := range wc.reads {
				if err := drain(b.base.Query(ctx, s.SQL, s.Args...)); err != nil {
					return err
				}
			}
			return insertEvents(ctx, b, wc.events)
		})
	}
	return o, writeBaselineSQL(wc), nil
}

// storedHashes reads each user's current password hash from its events.
func storedHashes(ctx context.Context, b *bench, userIDs []string) ([]*phc, error) {
	rows, err := b.base.Query(ctx, `SELECT aggregate_id, payload::text FROM events WHERE aggregate_type = 'user' AND aggregate_id = ANY($1) ORDER BY sequence`, userIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byUser := map[string]string{}
	for rows.Next() {
		var id, payload string
		if err := rows.Scan(&id, &payload); err != nil {
			return nil, err
		}
		if m := phcRe.FindString(payload); m != "" {
			byUser[id] = m
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]*phc, len(userIDs))
	for i, id := range userIDs {
		h, ok := byUser[id]
		if !ok {
			return nil, fmt.Errorf("create_session_password baseline: no argon2id hash in user %s's events", id)
		}
		if out[i], err = parsePHC(h); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var phcRe = regexp.MustCompile(`\$argon2id\$v=[0-9]+\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+`)

// phc is a parsed argon2id PHC string.
type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func parsePHC(s string) (*phc, error) {
	parts := strings.Split(s, "$")
	var p phc
	var threads uint32
	if len(parts) != 6 {
		return nil, fmt.Errorf("not an argon2id PHC string: %q", s)
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads); err != nil {
		return nil, fmt.Errorf("argon2id parameters %q: %w", parts[3], err)
	}
	p.threads = uint8(threads)
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return nil, err
	}
	if p.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil {
		return nil, err
	}
	return &p, nil
}

// baselineHashSlots bounds the baselines' hashes at once to the CPUs Go
// runs on, as the server's password hashing is bounded (command's hash
// slots): more at once finish no sooner and only grow the memory, so an
// unbounded baseline would be slower than a sensible raw program.
var baselineHashSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

// verify is the password check's work: derive the key, compare in
// constant time.
func (p *phc) verify(password string) bool {
	baselineHashSlots <- struct{}{}
	defer func() { <-baselineHashSlots }()
	k := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(k, p.key) == 1
}

// measureArgon2 times n verifications one after the other: the hash's own
// cost, to set against create_session_password's latency at concurrency 1.
func measureArgon2(p *phc, password string, n int) time.Duration {
	start := time.Now()
	for range n {
		p.verify(password)
	}
	return time.Since(start) / time.Duration(n)
}

// measureLogin times the argon2id verification of a seeded user's stored
// hash, alone, one at a time, before the load: the floor under
// create_session_password's latency at concurrency 1.
func measureLogin(ctx context.Context, b *bench, stdout io.Writer) (*LoginInfo, error) {
	lf := b.fx.login
	hashes, err := storedHashes(ctx, b, lf.userIDs[:1])
	if err != nil {
		return nil, err
	}
	p := hashes[0]
	p.verify(lf.password) // warm the allocator
	d := measureArgon2(p, lf.password, 10)
	li := &LoginInfo{Argon2VerifyMs: msf(d), Argon2Params: fmt.Sprintf("m=%d,t=%d,p=%d", p.memory, p.time, p.threads)}
	fmt.Fprintf(stdout, "BENCH name=argon2id verify_ms=%.2f params=%s\n", li.Argon2VerifyMs, li.Argon2Params)
	return li, nil
}
