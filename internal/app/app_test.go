package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newApp wires an app on its own pool, as a separate process would.
func newApp(t *testing.T, url string) *app.App {
	t.Helper()
	return apptest.Wire(t, app.Options{Pool: pgtest.Connect(t, url, 0), Log: zerolog.Nop()})
}

func count(t *testing.T, a *app.App, sql string) int {
	t.Helper()
	var n int
	if err := a.Pool().QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestConcurrentBootstrap: processes bootstrapping one empty database at
// the same moment create exactly one instance, and only the winner writes
// its token file.
func TestConcurrentBootstrap(t *testing.T) {
	for round := 0; round < 3; round++ {
		url := pgtest.URL(t)
		dir := t.TempDir()
		const n = 4
		apps := make([]*app.App, n)
		for i := range apps {
			apps[i] = newApp(t, url)
		}
		files := make([]string, n)
		results := make([]*app.Instance, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range apps {
			files[i] = filepath.Join(dir, "admin"+string(rune('a'+i))+".pat")
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = apps[i].Bootstrap(context.Background(), "id.example.com", nil, files[i])
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		for i := range apps {
			if errs[i] != nil {
				t.Fatalf("round %d: bootstrap %d: %v", round, i, errs[i])
			}
			_, statErr := os.Stat(files[i])
			if results[i] == nil {
				if statErr == nil {
					t.Errorf("round %d: loser %d wrote a token file", round, i)
				}
				continue
			}
			winners++
			fi, err := os.Stat(files[i])
			if err != nil {
				t.Fatalf("winner's token file: %v", err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
			}
			b, _ := os.ReadFile(files[i])
			if string(b) != results[i].AdminPAT+"\n" {
				t.Errorf("token file = %q, want the token and a newline", b)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d winners, want 1", round, winners)
		}
		for _, q := range []string{"SELECT count(*) FROM instances", "SELECT count(*) FROM events WHERE event_type = 'instance.added'",
			"SELECT count(*) FROM orgs", "SELECT count(*) FROM users"} {
			if got := count(t, apps[0], q); got != 1 {
				t.Errorf("round %d: %s = %d, want 1", round, q, got)
			}
		}
		if got := count(t, apps[0], "SELECT count(*) FROM instance_domains"); got != 4 {
			t.Errorf("domains = %d, want 4 (external, localhost, 127.0.0.1, ::1)", got)
		}
		// the login policy engineer's projection reads this event
		if got := count(t, apps[0], "SELECT count(*) FROM events WHERE event_type = 'login_policy.added' AND payload->>'isDefault' = 'true'"); got != 1 {
			t.Errorf("default login policy events = %d, want 1", got)
		}
	}
}

// TestBootstrapOnce: a second start leaves the store and an existing token
// file alone, and the first start's token authenticates on every local
// domain with the roles DESIGN.md §1 lists.
func TestBootstrapOnce(t *testing.T) {
	url := pgtest.URL(t)
	a := newApp(t, url)
	file := filepath.Join(t.TempDir(), "sub", "admin.pat")
	inst, err := a.Bootstrap(context.Background(), "ID.Example.com", []string{"localhost"}, file)
	if err != nil || inst == nil {
		t.Fatalf("bootstrap: %v %v", inst, err)
	}
	want := []string{"id.example.com", "localhost", "127.0.0.1", "::1"}
	if strings.Join(inst.Domains, ",") != strings.Join(want, ",") {
		t.Errorf("domains = %v, want %v", inst.Domains, want)
	}
	again, err := newApp(t, url).Bootstrap(context.Background(), "other.example.com", nil, file)
	if err != nil || again != nil {
		t.Fatalf("second bootstrap: %v %v", again, err)
	}
	b, _ := os.ReadFile(file)
	if string(b) != inst.AdminPAT+"\n" {
		t.Fatalf("token file changed: %q", b)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	for _, host := range []string{"id.example.com", "localhost:8080", "127.0.0.1", "[::1]:1"} {
		for _, path := range []string{"/admin/v1/members", "/management/v1/orgs/me"} {
			method := "GET"
			if strings.HasPrefix(path, "/admin") {
				method = "POST" // IAM_OWNER: passes the permission check, then 400 for the empty body
			}
			req, _ := http.NewRequest(method, srv.URL+path, nil)
			req.Host = host
			req.Header.Set("Authorization", "Bearer "+inst.AdminPAT)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if want := map[string]int{"GET": 200, "POST": 400}[method]; resp.StatusCode != want {
				t.Errorf("%s %s on %s: %d, want %d", method, path, host, resp.StatusCode, want)
			}
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// TestInvalidationAcrossReplicas: a token used (and cached) on replica B
// stops working on B as soon as replica A revokes it, long before the
// cache TTL, through B's event subscription.
func TestInvalidationAcrossReplicas(t *testing.T) {
	env := apptest.New(t)
	b := apptest.Wire(t, app.Options{Pool: env.Pool, Log: zerolog.Nop()})
	envB := *env
	envB.URL, _ = apptest.Serve(t, b)

	org := env.CreateOrg(t, "replicas")
	user, pat := env.CreateOrgOwner(t, org)
	user2, pat2 := env.CreateOrgOwner(t, org)
	envB.MustDoAs(t, pat, 200, "GET", "/management/v1/orgs/me", nil)
	envB.MustDoAs(t, pat2, 200, "GET", "/management/v1/orgs/me", nil)

	// revoke pat on A; B must refuse it well within the TTL
	var tokenID string
	if err := env.Pool.QueryRow(context.Background(),
		"SELECT token_id FROM pats WHERE user_id = $1 ORDER BY token_id LIMIT 1", user).Scan(&tokenID); err != nil {
		t.Fatal(err)
	}
	env.MustDo(t, 200, "DELETE", "/management/v1/users/"+user+"/pats/"+tokenID, nil, "x-zitadel-orgid", org)
	env.RemoveUser(t, user2)
	for _, tok := range []string{pat, pat2} {
		deadline := time.Now().Add(3 * time.Second)
		for {
			st, _ := envB.DoAs(t, tok, "GET", "/management/v1/orgs/me", nil)
			if st == 401 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica B still accepts a revoked token after 3 s (status %d)", st)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
