package main

// Fault tests of issue 10 against the real binary: SIGKILL under write load
// (crash safety), a PostgreSQL outage under load, and a slowloris client.
// IDLEDGER_LONG_TESTS=1 runs longer variants (README.md, "Long tests").

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/pgembed"
	"github.com/idledger/idledger/internal/pgtest"
	"github.com/idledger/idledger/projection"
)

const faultsMasterKey = "faults-test-master-key-32-bytes!"

// longTests reports whether the long variants run.
func longTests() bool { return os.Getenv("IDLEDGER_LONG_TESTS") == "1" }

// apiClient talks to one running server as the admin.
type apiClient struct {
	base, token, orgID string
	http               *http.Client
}

func newAPIClient(t *testing.T, base, dataDir string) *apiClient {
	t.Helper()
	pat, err := os.ReadFile(filepath.Join(dataDir, "admin.pat"))
	if err != nil {
		t.Fatalf("admin PAT: %v", err)
	}
	c := &apiClient{base: base, token: strings.TrimSpace(string(pat)), http: &http.Client{Timeout: 15 * time.Second}}
	st, b, err := c.do("GET", "/management/v1/orgs/me", nil)
	var me struct{ Org struct{ ID string } }
	if err != nil || st != 200 || json.Unmarshal(b, &me) != nil || me.Org.ID == "" {
		t.Fatalf("GET /management/v1/orgs/me: %d %s %v", st, b, err)
	}
	c.orgID = me.Org.ID
	return c
}

// do sends a request; err is a transport error (the server is gone, or did
// not answer within the client timeout).
func (c *apiClient) do(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// acked records every write that got a 2xx, with the ID it created.
type acked struct {
	mu       sync.Mutex
	idps     []string
	policy   []string          // IdP IDs added to the default login policy
	users    []string          // human users
	links    map[string]string // user ID → IdP ID
	statuses map[int]int       // every status seen, for the log
	bad      []string          // responses that must never happen
}

func newAcked() *acked { return &acked{links: map[string]string{}, statuses: map[int]int{}} }

func (a *acked) note(status int, body []byte, what string, acceptable ...int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.statuses[status]++
	if status/100 == 2 {
		return true
	}
	if !slices.Contains(acceptable, status) {
		a.bad = append(a.bad, fmt.Sprintf("%s: %d %s", what, status, body))
	}
	return false
}

func (a *acked) add(f func()) { a.mu.Lock(); f(); a.mu.Unlock() }

// writeCycle creates an IdP, adds it to the default login policy, creates a
// user and links it to the IdP, recording each acknowledged write. It
// returns false when the server stopped answering. acceptable statuses are
// not reported as bad (409: a concurrent policy change lost its retries;
// 503 during an outage).
func writeCycle(c *apiClient, ack *acked, tag string, acceptable ...int) bool {
	acceptable = append(acceptable, http.StatusConflict)
	st, b, err := c.do("POST", "/admin/v1/idps/google", map[string]any{"name": "g-" + tag, "clientId": "cid-" + tag, "clientSecret": "secret-" + tag})
	if err != nil {
		return false
	}
	if !ack.note(st, b, "create IdP", acceptable...) {
		return true
	}
	var idp struct{ ID string }
	if json.Unmarshal(b, &idp) != nil || idp.ID == "" {
		ack.add(func() { ack.bad = append(ack.bad, "create IdP: no id in "+string(b)) })
		return true
	}
	ack.add(func() { ack.idps = append(ack.idps, idp.ID) })

	st, b, err = c.do("POST", "/admin/v1/policies/login/idps", map[string]any{"idpId": idp.ID})
	if err != nil {
		return false
	}
	if ack.note(st, b, "add IdP to policy", acceptable...) {
		ack.add(func() { ack.policy = append(ack.policy, idp.ID) })
	}

	st, b, err = c.do("POST", "/v2/users/human", map[string]any{"username": "u-" + tag, "organization": map[string]any{"orgId": c.orgID},
		"profile": map[string]any{"givenName": "G", "familyName": "F"}, "email": map[string]any{"email": tag + "@example.com"}})
	if err != nil {
		return false
	}
	if !ack.note(st, b, "create user", acceptable...) {
		return true
	}
	var user struct {
		UserID string `json:"userId"`
	}
	if json.Unmarshal(b, &user) != nil || user.UserID == "" {
		ack.add(func() { ack.bad = append(ack.bad, "create user: no userId in "+string(b)) })
		return true
	}
	ack.add(func() { ack.users = append(ack.users, user.UserID) })

	st, b, err = c.do("POST", "/v2/users/"+user.UserID+"/links", map[string]any{
		"idpLink": map[string]any{"idpId": idp.ID, "userId": "ext-" + tag, "userName": tag}})
	if err != nil {
		return false
	}
	if ack.note(st, b, "link user", acceptable...) {
		ack.add(func() { ack.links[user.UserID] = idp.ID })
	}
	return true
}

// eventSet returns the values of column expr of the events of type typ.
// startLoad runs workers goroutines that do write cycles (tagged with the
// round) through c until perRound cycles in all were started or one fails
// (the server went away). running tells how many still write; wait waits
// for them all.
func startLoad(c *apiClient, ack *acked, round, workers, perRound int) (running func() int32, wait func()) {
	var started atomic.Int64
	var live atomic.Int32
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		live.Add(1)
		go func() {
			defer wg.Done()
			defer live.Add(-1)
			for i := 0; started.Add(1) <= int64(perRound); i++ {
				if !writeCycle(c, ack, fmt.Sprintf("r%dw%di%d", round, w, i)) {
					return
				}
			}
		}()
	}
	return live.Load, wg.Wait
}

func eventSet(t *testing.T, conn *pgx.Conn, expr, typ string) map[string]bool {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT "+expr+" FROM events WHERE event_type = $1", typ)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, v := range vals {
		set[v] = true
	}
	return set
}

// assertAcked checks that every acknowledged write is in the event log and,
// through the API, in the read tables.
func assertAcked(t *testing.T, dbURL string, c *apiClient, ack *acked) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ack.mu.Lock()
	defer ack.mu.Unlock()

	idpEvents := eventSet(t, conn, "aggregate_id", "idp.added")
	policyEvents := eventSet(t, conn, "payload->>'idpId'", "login_policy.idp.added")
	userEvents := eventSet(t, conn, "aggregate_id", "user.human.added")
	linkEvents := eventSet(t, conn, "aggregate_id || '/' || (payload->>'idpId')", "user.human.externalidp.added")
	missing := 0
	miss := func(format string, args ...any) {
		if missing++; missing <= 20 {
			t.Errorf(format, args...)
		}
	}
	for _, id := range ack.idps {
		if !idpEvents[id] {
			miss("acknowledged IdP %s has no idp.added event", id)
		}
		if st, b, err := c.do("GET", "/admin/v1/idps/templates/"+id, nil); err != nil || st != 200 {
			miss("GET acknowledged IdP %s: %d %s %v", id, st, b, err)
		}
	}
	for _, id := range ack.policy {
		if !policyEvents[id] {
			miss("acknowledged policy IdP %s has no login_policy.idp.added event", id)
		}
	}
	inPolicy := defaultPolicyIDPs(t, c)
	for _, id := range ack.policy {
		if !inPolicy[id] {
			miss("acknowledged policy IdP %s is not listed by the default login policy", id)
		}
	}
	for _, id := range ack.users {
		if !userEvents[id] {
			miss("acknowledged user %s has no user.human.added event", id)
		}
		if st, b, err := c.do("GET", "/v2/users/"+id, nil); err != nil || st != 200 {
			miss("GET acknowledged user %s: %d %s %v", id, st, b, err)
		}
	}
	for user, idp := range ack.links {
		if !linkEvents[user+"/"+idp] {
			miss("acknowledged link %s→%s has no event", user, idp)
		}
		st, b, err := c.do("POST", "/v2/users/"+user+"/links/_search", map[string]any{})
		if err != nil || st != 200 || !strings.Contains(string(b), `"`+idp+`"`) {
			miss("acknowledged link %s→%s not listed: %d %s %v", user, idp, st, b, err)
		}
	}
	if missing > 0 {
		t.Errorf("%d acknowledged writes missing", missing)
	}
}

// defaultPolicyIDPs lists every IdP of the default login policy, page by page.
func defaultPolicyIDPs(t *testing.T, c *apiClient) map[string]bool {
	t.Helper()
	set := map[string]bool{}
	for offset := 0; ; offset += 1000 {
		st, b, err := c.do("POST", "/admin/v1/policies/login/idps/_search",
			map[string]any{"query": map[string]any{"offset": fmt.Sprint(offset), "limit": 1000}})
		if err != nil || st != 200 {
			t.Fatalf("list policy IdPs: %d %s %v", st, b, err)
		}
		var page struct {
			Result []struct {
				IDPID string `json:"idpId"`
			} `json:"result"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Result {
			set[r.IDPID] = true
		}
		if len(page.Result) < 1000 {
			return set
		}
	}
}

// readTables are the read tables whose content a rebuild must reproduce.
var readTables = []string{"idps", "login_policy_idps", "user_idp_links", "users"}

func tableChecksums(t *testing.T, dbURL string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	sums := map[string]string{}
	for _, table := range readTables {
		var sum *string
		var n int
		q := fmt.Sprintf("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)), count(*) FROM %s t", pgx.Identifier{table}.Sanitize())
		if err := conn.QueryRow(ctx, q).Scan(&sum, &n); err != nil {
			t.Fatalf("checksum %s: %v", table, err)
		}
		sums[table] = fmt.Sprintf("%d rows, md5 %v", n, deref(sum))
	}
	return sums
}

func deref(s *string) string {
	if s == nil {
		return "(empty)"
	}
	return *s
}

// rebuildAll runs `idledger projections rebuild --all`, or, while that
// command is not wired yet, projection.Rebuild in this process.
func rebuildAll(t *testing.T, dbURL, dataDir string) {
	t.Helper()
	code, out, errOut := runIdledger(t, "projections", "rebuild", "--all", "--database-url", dbURL,
		"--data-dir", dataDir, "--log-format", "json", "--masterkey", faultsMasterKey)
	if code == 0 {
		return
	}
	if code != 2 || !strings.Contains(errOut, "not available yet") {
		t.Fatalf("projections rebuild --all: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Log("projections rebuild is not wired in the CLI yet: rebuilding in-process")
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	reg := projection.NewRegistry(projection.All()...)
	if err := projection.Rebuild(ctx, pool, eventstore.NewPostgres(pool, reg), reg, nil, nil); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
}

// TestCrashSafety runs serve under a write load from several clients and
// SIGKILLs it at several points. After each restart every acknowledged
// write is in the events and the read tables; at the end `events verify`
// passes and a full rebuild reproduces the read tables exactly.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	dataDir := t.TempDir()
	args := []string{"serve", "--database-url", dbURL, "--listen", "127.0.0.1:0", "--data-dir", dataDir,
		"--log-format", "json", "--masterkey", faultsMasterKey}
	killPoints := []time.Duration{150 * time.Millisecond, 450 * time.Millisecond, 900 * time.Millisecond}
	const workers = 4
	perRound := int64(250) // IdPs per round at most: the load is bounded
	if longTests() {
		killPoints = []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
			700 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2 * time.Second, 3 * time.Second}
		perRound = 2000
	}
	ack := newAcked()
	p := startIdledger(t, args...)
	base, _ := p.waitHealthy(t, 20*time.Second)
	c := newAPIClient(t, base, dataDir)
	for round, killAfter := range killPoints {
		running, wait := startLoad(c, ack, round, workers, int(perRound))
		time.Sleep(killAfter)
		stillRunning := running()
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
		wait()
		ack.mu.Lock()
		t.Logf("round %d: SIGKILL after %v with %d of %d writers running; acknowledged so far: %d IdPs, %d policy IdPs, %d users, %d links",
			round, killAfter, stillRunning, workers, len(ack.idps), len(ack.policy), len(ack.users), len(ack.links))
		ack.mu.Unlock()

		p = startIdledger(t, args...)
		base, took := p.waitHealthy(t, 20*time.Second)
		t.Logf("round %d: restarted, healthy after %v", round, took.Round(time.Millisecond))
		c = newAPIClient(t, base, dataDir)
		assertAcked(t, dbURL, c, ack)
		if t.Failed() {
			t.FailNow()
		}
	}
	ack.mu.Lock()
	if len(ack.bad) > 0 {
		t.Errorf("unexpected answers under load:\n%s", strings.Join(ack.bad, "\n"))
	}
	t.Logf("statuses seen: %v", ack.statuses)
	if len(ack.links) == 0 {
		t.Error("no write completed a whole cycle: the load did not run")
	}
	ack.mu.Unlock()
	if code := p.signalAndWait(t, syscall.SIGTERM, 15*time.Second); code != 0 {
		t.Fatalf("serve exit %d after SIGTERM", code)
	}

	code, out, errOut := runIdledger(t, "events", "verify", "--database-url", dbURL, "--data-dir", dataDir, "--log-format", "json")
	if code != 0 {
		t.Fatalf("events verify: exit %d\n%s\n%s", code, out, errOut)
	}
	before := tableChecksums(t, dbURL)
	rebuildAll(t, dbURL, dataDir)
	after := tableChecksums(t, dbURL)
	for _, table := range readTables {
		if before[table] != after[table] {
			t.Errorf("%s differs after a rebuild: before %s, after %s", table, before[table], after[table])
		} else {
			t.Logf("%s: %s, identical after the rebuild", table, before[table])
		}
	}
}

// startOwnPostgres starts a PostgreSQL cluster that the test can stop and
// start again on the same port (so the server's connection string stays
// valid).
func startOwnPostgres(t *testing.T) (dir string, opts pgembed.Options, cluster *pgembed.Cluster) {
	t.Helper()
	if _, err := pgembed.FindBinaries(); err != nil {
		t.Skip(err)
	}
	dir = traversableTempDir(t)
	t.Cleanup(func() { stopLeftoverPostmaster(t, dir) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	opts = pgembed.Options{DataDir: dir, Fast: true, Port: port}
	cluster, err = pgembed.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return dir, opts, cluster
}

// outageReply is one answer seen during the outage test.
type outageReply struct {
	what   string
	status int
	body   string
	took   time.Duration
	err    error
}

func timedGet(client *http.Client, url, token string) outageReply {
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return outageReply{what: "GET " + url, err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return outageReply{what: "GET " + url, status: resp.StatusCode, body: string(b), took: time.Since(start)}
}

// assertStandard503 checks a 503 with the standard error body and no cause.
func assertStandard503(t *testing.T, r outageReply, within time.Duration) {
	t.Helper()
	var body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Type string `json:"@type"`
			ID   string `json:"id"`
		} `json:"details"`
	}
	if r.err != nil {
		t.Errorf("%s: %v after %v (a hang or a dropped connection)", r.what, r.err, r.took)
		return
	}
	if r.status != http.StatusServiceUnavailable || json.Unmarshal([]byte(r.body), &body) != nil || body.Code != 14 ||
		body.Message == "" || len(body.Details) != 1 || body.Details[0].ID == "" {
		t.Errorf("%s during the outage: %d %s; want 503 with the standard body", r.what, r.status, r.body)
	}
	for _, leak := range []string{"goroutine", "panic", ".go:", "dial", "socket", "pgx", "SQLSTATE"} {
		if strings.Contains(r.body, leak) {
			t.Errorf("%s: the body leaks %q: %s", r.what, leak, r.body)
		}
	}
	if r.took > within {
		t.Errorf("%s took %v; want under %v", r.what, r.took, within)
	}
}

// TestDatabaseOutage stops PostgreSQL under load for a few seconds: while it
// is down /readyz and the API answer 503 with the standard body, quickly;
// once it is back the same server process recovers, and no acknowledged
// write is lost.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	_, pgOpts, cluster := startOwnPostgres(t)
	t.Cleanup(func() { _ = cluster.Stop() })
	dbURL := cluster.URL()
	dataDir := t.TempDir()
	const requestTimeout = 2 * time.Second
	p := startServe(t, dbURL, dataDir, "--masterkey", faultsMasterKey, "--request-timeout", requestTimeout.String())
	base, _ := p.waitHealthy(t, 20*time.Second)
	c := newAPIClient(t, base, dataDir)
	c.http.Timeout = 10 * requestTimeout // a hang shows as a transport error
	ack := newAcked()
	if !writeCycle(c, ack, "warmup") || len(ack.links) != 1 {
		t.Fatalf("warm-up cycle: %v", ack.bad)
	}
	userURL := base + "/v2/users/" + ack.users[0]

	outage := 3 * time.Second
	if longTests() {
		outage = 15 * time.Second
	}
	// Light load through the outage: two writers, a cycle every 50ms.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if !writeCycle(c, ack, fmt.Sprintf("w%di%d", w, i), http.StatusServiceUnavailable) {
					ack.add(func() { ack.bad = append(ack.bad, "a request got no answer within the client timeout") })
					return
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	downAt := time.Now()
	t.Log("PostgreSQL stopped")
	probe := &http.Client{Timeout: 10 * time.Second}
	var probes int
	var slowestReady, slowestAPI time.Duration
	var sample string
	for time.Since(downAt) < outage {
		r := timedGet(probe, base+"/readyz", "")
		assertStandard503(t, r, 2*time.Second)
		slowestReady = max(slowestReady, r.took)
		r = timedGet(probe, userURL, c.token)
		assertStandard503(t, r, requestTimeout+time.Second)
		slowestAPI, sample = max(slowestAPI, r.took), r.body
		probes++
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("slowest 503: /readyz %v, API %v; API body: %s", slowestReady, slowestAPI, sample)
	if r := timedGet(probe, base+"/healthz", ""); r.status != 200 {
		t.Errorf("/healthz during the outage: %d %s", r.status, r.body)
	}
	t.Logf("%d probe pairs answered during the %v outage", probes, outage)

	cluster, err := pgembed.Start(context.Background(), pgOpts)
	if err != nil {
		t.Fatalf("restart PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	upAt := time.Now()
	for {
		r := timedGet(probe, base+"/readyz", "")
		if r.status == 200 {
			t.Logf("/readyz 200 again %v after PostgreSQL came back", time.Since(upAt).Round(time.Millisecond))
			break
		}
		if time.Since(upAt) > 20*time.Second {
			t.Fatalf("not ready 20s after PostgreSQL came back: %d %s %v", r.status, r.body, r.err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ack.mu.Lock()
	linksBefore := len(ack.links)
	ack.mu.Unlock()
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	select {
	case <-p.done:
		t.Fatalf("serve exited during the outage: %v", p.waitErr)
	default:
	}
	ack.mu.Lock()
	if len(ack.bad) > 0 {
		t.Errorf("unexpected answers around the outage:\n%s", strings.Join(ack.bad, "\n"))
	}
	t.Logf("statuses seen by the writers: %v", ack.statuses)
	if ack.statuses[http.StatusServiceUnavailable] == 0 {
		t.Error("no writer saw a 503: the load did not run through the outage")
	}
	recovered := len(ack.links) > linksBefore
	ack.mu.Unlock()
	if !recovered {
		if !writeCycle(c, ack, "after") || len(ack.bad) > 0 {
			t.Errorf("writes fail after the recovery: %v", ack.bad)
		}
	}
	assertAcked(t, dbURL, c, ack)
	logs := p.stdout.String() + p.stderr.String()
	if strings.Contains(logs, `"status":500`) {
		t.Error("the server answered 500 during the outage (see its log)")
	}
	if code := p.signalAndWait(t, syscall.SIGTERM, 15*time.Second); code != 0 {
		t.Fatalf("serve exit %d after SIGTERM", code)
	}
}

// TestSlowloris: clients that send a request header a byte at a time cannot
// hold connections: the server closes each after ReadHeaderTimeout, counted
// from the first byte, however slowly they keep trickling.
func TestSlowloris(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }), zerolog.Nop())
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	const clients = 20
	type result struct {
		closedAfter time.Duration
		err         error
	}
	results := make(chan result, clients)
	for i := 0; i < clients; i++ {
		go func() {
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				results <- result{err: err}
				return
			}
			defer conn.Close()
			start := time.Now()
			if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
				results <- result{err: err}
				return
			}
			// Trickle a header line every 500ms, and watch for the close.
			closed := make(chan struct{})
			go func() {
				_, _ = io.Copy(io.Discard, conn)
				close(closed)
			}()
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			deadline := time.After(readHeaderTimeout + 5*time.Second)
			for n := 0; ; n++ {
				select {
				case <-closed:
					results <- result{closedAfter: time.Since(start)}
					return
				case <-deadline:
					results <- result{err: errors.New("still open")}
					return
				case <-tick.C:
					_, _ = fmt.Fprintf(conn, "X-Slow-%d: a\r\n", n)
				}
			}
		}()
	}
	for i := 0; i < clients; i++ {
		r := <-results
		if r.err != nil {
			t.Errorf("slow client: %v after ReadHeaderTimeout %v", r.err, readHeaderTimeout)
			continue
		}
		if r.closedAfter < readHeaderTimeout-time.Second || r.closedAfter > readHeaderTimeout+2*time.Second {
			t.Errorf("slow client closed after %v; ReadHeaderTimeout is %v", r.closedAfter, readHeaderTimeout)
		}
	}
	// A normal request is still served.
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("normal request after the slow clients: %v %v", resp, err)
	}
	resp.Body.Close()
}
