package rpc_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"github.com/jackc/pgx/v5"

	healthv1 "github.com/idledger/idledger/gen/grpc/health/v1"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
	"github.com/idledger/idledger/rpc"
)

// check calls grpc.health.v1.Health/Check for service over p, without
// credentials (health needs none), and returns the status name.
func check(t *testing.T, env *apptest.Env, p protocol, service string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := connect.NewClient[healthv1.HealthCheckRequest, healthv1.HealthCheckResponse](h2c, env.URL+healthCheck, p.opts...)
	res, err := c.CallUnary(ctx, connect.NewRequest(&healthv1.HealthCheckRequest{Service: service}))
	if err != nil {
		return "", err
	}
	return res.Msg.GetStatus().String(), nil
}

func TestHealth(t *testing.T) {
	env := apptest.New(t)
	for _, p := range protocols {
		for _, svc := range []string{"", "zitadel.idp.v2.IdentityProviderService", "zitadel.user.v2beta.UserService"} {
			if got, err := check(t, env, p, svc); err != nil || got != "SERVING" {
				t.Errorf("%s: %q: %s %v, want SERVING", p.name, svc, got, err)
			}
		}
		if _, err := check(t, env, p, "zitadel.nope.v1.Nope"); connect.CodeOf(err) != connect.CodeNotFound {
			t.Errorf("%s: an unknown service: %v, want not_found", p.name, err)
		}
	}

	// An outage of this test's database: no new connection is allowed, and
	// the open ones are ended.
	db := env.Pool.Config().ConnConfig.Database
	admin, err := pgx.Connect(context.Background(), pgtest.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) }) // after allow(true) below
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := admin.Exec(context.Background(), sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	allow := func(on bool) {
		v := "false"
		if on {
			v = "true"
		}
		exec("ALTER DATABASE " + pgx.Identifier{db}.Sanitize() + " ALLOW_CONNECTIONS " + v)
	}
	allow(false)
	t.Cleanup(func() { allow(true) })
	exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", db)

	for _, p := range protocols {
		start := time.Now()
		if got, err := check(t, env, p, ""); err != nil || got != "NOT_SERVING" {
			t.Errorf("%s during the outage: %s %v, want NOT_SERVING", p.name, got, err)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s: NOT_SERVING took %v", p.name, took)
		}
	}
	if status, body := env.Do(t, "GET", "/readyz", nil); status != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d %s", status, body)
	}

	allow(true)
	deadline := time.Now().Add(15 * time.Second)
	for _, p := range protocols {
		for {
			got, err := check(t, env, p, "zitadel.admin.v1.AdminService")
			if err == nil && got == "SERVING" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s after the outage: %s %v, want SERVING", p.name, got, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func TestReflection(t *testing.T) {
	env := apptest.New(t)
	want := rpc.New(rpc.Deps{}).Names()
	if len(want) < 9 {
		t.Fatalf("served services %v", want)
	}
	for _, opt := range []connect.ClientOption{connect.WithGRPC(), connect.WithGRPCWeb()} {
		// ServerReflectionInfo is a bidi stream: HTTP/2 (h2c) for both.
		c := grpcreflect.NewClient(h2c, env.URL, opt)
		s := c.NewStream(context.Background())
		names, err := s.ListServices()
		if err != nil {
			t.Fatalf("ListServices: %v", err)
		}
		var got []string
		for _, n := range names {
			got = append(got, string(n))
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("reflection lists %v; %s is missing", got, w)
			}
		}
		files, err := s.FileContainingSymbol("zitadel.idp.v2.IdentityProviderService")
		if err != nil || len(files) == 0 || files[0].GetPackage() != "zitadel.idp.v2" {
			t.Errorf("FileContainingSymbol: %d files, %v", len(files), err)
		}
		if _, err := s.FileContainingSymbol("zitadel.nope.v1.Nope"); connect.CodeOf(err) != connect.CodeNotFound {
			t.Errorf("an unknown symbol: %v, want not_found", err)
		}
		if _, err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
}

// TestHealthWatchAndJSON: Watch streams the status (gRPC), and Connect's
// JSON names the status as grpc.health.v1 does ("SERVING").
func TestHealthWatchAndJSON(t *testing.T) {
	env := apptest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := connect.NewClient[healthv1.HealthCheckRequest, healthv1.HealthCheckResponse](h2c, env.URL+"/grpc.health.v1.Health/Watch", connect.WithGRPC())
	stream, err := c.CallServerStream(ctx, connect.NewRequest(&healthv1.HealthCheckRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() || stream.Msg().GetStatus() != healthv1.HealthCheckResponse_SERVING {
		t.Fatalf("Watch: %v %v", stream.Msg(), stream.Err())
	}
	_ = stream.Close()

	req, _ := http.NewRequest(http.MethodPost, env.URL+healthCheck, strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := h2c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != `{"status":"SERVING"}` {
		t.Fatalf("Connect JSON Check: %d %s", res.StatusCode, b)
	}
}
