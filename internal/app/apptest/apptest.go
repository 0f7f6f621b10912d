// Package apptest is the end-to-end harness: a fresh database, the whole
// application wired by app.New and bootstrapped for "localhost", served by
// httptest, plus helpers that create orgs, users, tokens and memberships
// through the public HTTP API. Use it from any package's tests:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	env := apptest.New(t)
//	org := env.CreateOrg(t, "acme")
//	status, body := env.Do(t, "GET", "/management/v1/orgs/me", nil, "x-zitadel-orgid", org)
//
// Tests that wire an application of their own (a master key, limits, a
// second replica on one database) use Wire and Serve, the two halves of New.
//
// Imports: api/openapi, internal/app, internal/pgtest, and the standard library and third-party modules only.
package apptest

import (
	"sync"

	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idledger/idledger/api/openapi"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/pgtest"
)

// Env is one running application on its own database.
type Env struct {
	URL          string // base URL of the server, e.g. http://127.0.0.1:39123
	AdminPAT     string // token of the bootstrapped "admin" (IAM_OWNER, ORG_OWNER of Default)
	InstanceID   string
	DefaultOrgID string
	AdminUserID  string
	App          *app.App
	Pool         *pgxpool.Pool
	// Host is sent as the Host header when a request sets none; it selects
	// the instance. New sets "localhost".
	Host string
}

var seq atomic.Int64

// New starts a fresh application for t: a new migrated database, app.New,
// Bootstrap for "localhost" (and 127.0.0.1, ::1), app.Start and an httptest
// server. Everything is stopped by t.Cleanup.
func New(t testing.TB) *Env {
	t.Helper()
	return start(t, zerolog.Nop())
}

// NewLogged is New with the server's log kept at debug level, for tests
// that search it (for secrets, say).
func NewLogged(t testing.TB) (*Env, *LogBuffer) {
	t.Helper()
	logs := &LogBuffer{}
	return start(t, zerolog.New(logs).Level(zerolog.DebugLevel)), logs
}

// LogBuffer is a log or output sink that goroutines may share: the
// server's, a follower's, a child process's pipes.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// NewWith is New with options of the caller's (an upstream HTTP client,
// say); set o.Log (zerolog.Nop() for none).
func NewWith(t testing.TB, o app.Options) *Env {
	t.Helper()
	return startWith(t, o)
}

func start(t testing.TB, log zerolog.Logger) *Env {
	t.Helper()
	return startWith(t, app.Options{Log: log})
}

func startWith(t testing.TB, o app.Options) *Env {
	t.Helper()
	a := Wire(t, o)
	inst, err := a.Bootstrap(context.Background(), "localhost", nil, "")
	if err != nil || inst == nil {
		t.Fatalf("apptest: bootstrap: %v (instance %v)", err, inst)
	}
	url, _ := Serve(t, a)
	return &Env{
		URL: url, AdminPAT: inst.AdminPAT, InstanceID: inst.ID, DefaultOrgID: inst.OrgID,
		AdminUserID: inst.AdminUserID, App: a, Pool: a.Pool(), Host: "localhost",
	}
}

// Wire wires an application for t as a process would, with app.New: on a
// fresh migrated database unless o.Pool is set, and with a machine ID of
// its own in this test process unless o.MachineID is set. o.Log is used as
// given: pass zerolog.Nop() for no log.
func Wire(t testing.TB, o app.Options) *app.App {
	t.Helper()
	if o.Pool == nil {
		o.Pool = pgtest.Pool(t)
	}
	if o.MachineID == nil {
		mid := uint16(seq.Add(1))
		o.MachineID = &mid
	}
	a, err := app.New(context.Background(), o)
	if err != nil {
		t.Fatalf("apptest: app.New: %v", err)
	}
	return a
}

// Serve runs a's background work (app.Start) and serves its handler with
// httptest at url. stop ends both and waits for the background work; it
// may be called more than once, and is called when t ends.
func Serve(t testing.TB, a *app.App) (url string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done, err := a.Start(ctx)
	if err != nil {
		cancel()
		t.Fatalf("apptest: start: %v", err)
	}
	srv := httptest.NewUnstartedServer(a.Handler())
	// HTTP/1.1 and h2c, as serve listens: gRPC clients need HTTP/2.
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	stop = sync.OnceFunc(func() {
		srv.Close()
		cancel()
		<-done
	})
	t.Cleanup(stop)
	return srv.URL, stop
}

// Do sends a request as the admin and returns the status and body. body is
// sent as JSON unless it is nil, a string or []byte (sent as they are).
// headers are name, value pairs that override the defaults: pass
// "Authorization", "" to send no Authorization header, "Host", "x" to
// address another instance, "x-zitadel-orgid", id for a context org.
func (e *Env) Do(t testing.TB, method, path string, body any, headers ...string) (int, []byte) {
	t.Helper()
	return e.DoAs(t, e.AdminPAT, method, path, body, headers...)
}

// DoAs is Do with another token ("" sends no Authorization header).
func (e *Env) DoAs(t testing.TB, pat, method, path string, body any, headers ...string) (int, []byte) {
	t.Helper()
	if len(headers)%2 != 0 {
		t.Fatalf("apptest: headers must be name, value pairs: %q", headers)
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("apptest: encode body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, e.URL+path, rd)
	if err != nil {
		t.Fatalf("apptest: request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Host = e.Host
	if pat != "" {
		req.Header.Set("Authorization", "Bearer "+pat)
	}
	for i := 0; i < len(headers); i += 2 {
		name, value := headers[i], headers[i+1]
		switch {
		case strings.EqualFold(name, "Host"):
			req.Host = value
		case value == "":
			req.Header.Del(name)
		default:
			req.Header.Set(name, value)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("apptest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("apptest: read response: %v", err)
	}
	// Every response an end-to-end test receives must match the OpenAPI
	// document: status, and body schema.
	v, err := validator()
	if err != nil {
		t.Fatalf("apptest: openapi: %v", err)
	}
	if err := v.ValidateResponse(req, resp.StatusCode, resp.Header, out); err != nil {
		t.Errorf("apptest: %s %s: response does not match openapi.yaml: %v", method, path, err)
	}
	return resp.StatusCode, out
}

// validator loads the OpenAPI document once per test binary.
var validator = sync.OnceValues(openapi.NewValidator)

// MustDo is Do that fails t unless the status is want; it returns the body
// decoded into a map.
func (e *Env) MustDo(t testing.TB, want int, method, path string, body any, headers ...string) map[string]any {
	t.Helper()
	return e.MustDoAs(t, e.AdminPAT, want, method, path, body, headers...)
}

// MustDoAs is MustDo with another token.
func (e *Env) MustDoAs(t testing.TB, pat string, want int, method, path string, body any, headers ...string) map[string]any {
	t.Helper()
	status, raw := e.DoAs(t, pat, method, path, body, headers...)
	if status != want {
		t.Fatalf("apptest: %s %s: status %d, want %d; body %s", method, path, status, want, raw)
	}
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("apptest: %s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return m
}

// CreateOrg creates an org as the admin and returns its ID.
func (e *Env) CreateOrg(t testing.TB, name string) string {
	t.Helper()
	m := e.MustDo(t, http.StatusCreated, "POST", "/v2/organizations", map[string]any{"name": name})
	return str(t, m, "organizationId")
}

// CreateMachineWithPAT creates a machine user in org orgID and a token for
// it, as the admin; the user holds no roles.
func (e *Env) CreateMachineWithPAT(t testing.TB, orgID string) (userID, pat string) {
	t.Helper()
	n := seq.Add(1)
	m := e.MustDo(t, http.StatusOK, "POST", "/management/v1/users/machine", map[string]any{
		"userName": "machine-" + itoa(n), "name": "Machine " + itoa(n)}, "x-zitadel-orgid", orgID)
	userID = str(t, m, "userId")
	p := e.MustDo(t, http.StatusOK, "POST", "/management/v1/users/"+userID+"/pats", map[string]any{},
		"x-zitadel-orgid", orgID)
	return userID, str(t, p, "token")
}

// CreateOrgOwner creates a machine user in orgID holding ORG_OWNER on it,
// with a token.
func (e *Env) CreateOrgOwner(t testing.TB, orgID string) (userID, pat string) {
	t.Helper()
	userID, pat = e.CreateMachineWithPAT(t, orgID)
	e.Grant(t, userID, orgID, "ORG_OWNER")
	return userID, pat
}

// CreateHuman creates a human user in orgID with a verified email
// <username>@example.com and returns its ID.
func (e *Env) CreateHuman(t testing.TB, orgID, username string) string {
	t.Helper()
	m := e.MustDo(t, http.StatusCreated, "POST", "/v2/users/human", map[string]any{
		"organization": map[string]any{"orgId": orgID},
		"username":     username,
		"profile":      map[string]any{"givenName": "Given", "familyName": "Family"},
		"email":        map[string]any{"email": username + "@example.com", "isVerified": true},
	})
	return str(t, m, "userId")
}

// Grant makes userID a member with roles: of the instance when orgID is ""
// (IAM_OWNER, IAM_OWNER_VIEWER), otherwise of org orgID (ORG_OWNER,
// ORG_USER_MANAGER). Call it once per user and org: a second grant is 409.
func (e *Env) Grant(t testing.TB, userID, orgID string, roles ...string) {
	t.Helper()
	body := map[string]any{"userId": userID, "roles": roles}
	if orgID == "" {
		e.MustDo(t, http.StatusOK, "POST", "/admin/v1/members", body)
		return
	}
	e.MustDo(t, http.StatusOK, "POST", "/management/v1/orgs/me/members", body, "x-zitadel-orgid", orgID)
}

// RemoveUser removes a user as the admin.
func (e *Env) RemoveUser(t testing.TB, userID string) {
	t.Helper()
	e.MustDo(t, http.StatusOK, "DELETE", "/v2/users/"+userID, nil)
}

// AddInstance creates a further instance answering to domain and returns
// it. Address it with the header pair "Host", domain.
func (e *Env) AddInstance(t testing.TB, domain string) *app.Instance {
	t.Helper()
	inst, err := e.App.AddInstance(context.Background(), domain, "")
	if err != nil {
		t.Fatalf("apptest: add instance %s: %v", domain, err)
	}
	return inst
}

// ErrorID returns the error ID of a ZITADEL error body ("" when none).
func ErrorID(body []byte) string {
	var b struct {
		Details []struct {
			ID string `json:"id"`
		} `json:"details"`
	}
	if json.Unmarshal(body, &b) != nil || len(b.Details) == 0 {
		return ""
	}
	return b.Details[0].ID
}

func str(t testing.TB, m map[string]any, key string) string {
	t.Helper()
	s, ok := m[key].(string)
	if !ok || s == "" {
		t.Fatalf("apptest: response has no %q: %v", key, m)
	}
	return s
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
