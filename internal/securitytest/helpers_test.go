package securitytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idledger/idledger/api/openapi"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// route is one registered method and chi pattern.
type route struct{ Method, Pattern string }

func (r route) String() string { return r.Method + " " + r.Pattern }

// routes walks the application's router: every route it serves, sorted.
func routes(t testing.TB, h http.Handler) []route {
	t.Helper()
	rs, ok := h.(chi.Routes)
	if !ok {
		t.Fatalf("handler %T is not a chi router", h)
	}
	var out []route
	err := chi.Walk(rs, func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		// The RPC mounts answer in their protocols; package rpc's tests
		// compare each method with its REST route, errors included. The
		// hosted login's pages answer HTML (package ui's tests).
		if !openapi.RPCMount(pattern) && !openapi.PageRoute(pattern) {
			out = append(out, route{method, pattern})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// publicRoutes are served without authentication.
var publicRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/openapi.yaml": true,
	"/idps/callback": true, "/idps/jwt": true, "/idps/{idpId}/saml/acs": true, "/idps/{idpId}/saml/metadata": true,
	"/idps/{idpId}/saml/certificate":    true,
	"/.well-known/openid-configuration": true, "/oauth/v2/keys": true, "/oauth/v2/authorize": true, "/oauth/v2/token": true,
	"/oauth/v2/introspect": true, "/oauth/v2/revoke": true, "/oidc/v1/end_session": true}

// oauthRoutes authenticate with an OAuth bearer token (RFC 6750 errors).
var oauthRoutes = map[string]bool{"/oidc/v1/userinfo": true}

// params lists the {name} or {name:regexp} parameters of a chi pattern.
func params(pattern string) []string {
	var out []string
	for _, seg := range strings.Split(pattern, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name, _, _ := strings.Cut(seg[1:len(seg)-1], ":")
			out = append(out, name)
		}
	}
	return out
}

// fill substitutes each parameter of pattern with vals[name], which is put
// in the path as it is (already escaped, or deliberately not).
func fill(pattern string, vals map[string]string) string {
	segs := strings.Split(pattern, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name, _, _ := strings.Cut(seg[1:len(seg)-1], ":")
			segs[i] = vals[name]
		}
	}
	return strings.Join(segs, "/")
}

// request is one HTTP request of a test. Token "" sends no Authorization
// header; Auth, when set, is sent as the whole header instead.
type request struct {
	Method, Path string
	Body         []byte // nil: no body
	ContentType  string // "": application/json when there is a body
	Token, Auth  string
	Host         string // "": the client's host
	Headers      []string
}

// response is what came back. Streams (NDJSON) are closed after the
// headers: Body is empty for them.
type response struct {
	Status int
	Body   []byte
	Stream bool
}

// client sends requests to one server.
type client struct {
	url, host string
	hc        *http.Client
	timeout   time.Duration
	// record, when set, sees every response body.
	record func(req request, resp response)
}

func newClient(url, host string) *client {
	tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	return &client{url: url, host: host, hc: &http.Client{Transport: tr}, timeout: 30 * time.Second}
}

func (c *client) send(req request) (response, error) {
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, req.Method, c.url+req.Path, body)
	if err != nil {
		return response{}, err
	}
	if req.Body != nil {
		ct := req.ContentType
		switch ct {
		case "":
			hr.Header.Set("Content-Type", "application/json")
		case "-":
		default:
			hr.Header.Set("Content-Type", ct)
		}
	}
	hr.Host = c.host
	if req.Host != "" {
		hr.Host = req.Host
	}
	switch {
	case req.Auth != "":
		hr.Header.Set("Authorization", req.Auth)
	case req.Token != "":
		hr.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for i := 0; i+1 < len(req.Headers); i += 2 {
		hr.Header.Add(req.Headers[i], req.Headers[i+1])
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	out := response{Status: resp.StatusCode}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-ndjson") {
		out.Stream = true // an endless stream: the status is what counts
	} else if out.Body, err = io.ReadAll(resp.Body); err != nil {
		return out, err
	}
	if c.record != nil {
		c.record(req, out)
	}
	return out, nil
}

// must sends req and fails t on a transport error.
func (c *client) must(t testing.TB, req request) response {
	t.Helper()
	resp, err := c.send(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	return resp
}

// jsonBody encodes v for a request.
func jsonBody(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// field returns a string field of a JSON object body.
func field(t testing.TB, body []byte, key string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	s, ok := m[key].(string)
	if !ok || s == "" {
		t.Fatalf("no %q in %s", key, body)
	}
	return s
}

// eventCount counts every event and unique constraint of the database.
func eventCount(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	var events, uniques int64
	if err := pool.QueryRow(context.Background(),
		`SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM unique_constraints)`).Scan(&events, &uniques); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d events, %d unique constraints", events, uniques)
}

// isErrorBody reports whether body is ZITADEL's error body: a JSON object
// with a numeric code and a message.
func isErrorBody(body []byte) bool {
	var b struct {
		Code    *int    `json:"code"`
		Message *string `json:"message"`
	}
	return json.Unmarshal(body, &b) == nil && b.Code != nil && b.Message != nil
}

// statusID is "status" or "status errorID" for a matrix cell.
func statusID(resp response) string {
	s := fmt.Sprint(resp.Status)
	if id := apptest.ErrorID(resp.Body); id != "" {
		s += " " + id
	}
	return s
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
