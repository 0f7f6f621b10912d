package rpc_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"

	"github.com/idledger/idledger/api/gateway"
	idpv2 "github.com/idledger/idledger/gen/zitadel/idp/v2"
	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
)

// Write methods that bad input must not reach: whatever they are served
// as, a request they cannot decode writes nothing.
const (
	addIDPLink  = "/zitadel.user.v2.UserService/AddIDPLink"
	addOIDCIDP  = "/zitadel.admin.v1.AdminService/AddGenericOIDCProvider"
	addIDPToLP  = "/zitadel.management.v1.ManagementService/AddIDPToLoginPolicy"
	healthCheck = "/grpc.health.v1.Health/Check"
)

// http1 is a client that speaks only HTTP/1.1.
var http1 = func() *http.Client {
	var p http.Protocols
	p.SetHTTP1(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p}}
}()

// rawReply is a raw answer: status, headers, trailers and body, and the HTTP
// version it came over.
type rawReply struct {
	status  int
	header  http.Header
	trailer http.Header
	body    []byte
	proto   int
}

// raw posts body to path with content type ct, as the admin unless headers
// set "Authorization" ("" sends none), over HTTP/2 (h2c) or, with http1,
// HTTP/1.1.
func raw(t *testing.T, env *apptest.Env, h1 bool, path, ct string, body []byte, headers ...string) rawReply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = env.Host
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if strings.HasPrefix(ct, "application/grpc") && !strings.HasPrefix(ct, "application/grpc-web") {
		req.Header.Set("TE", "trailers")
	}
	req.Header.Set("Authorization", "Bearer "+env.AdminPAT)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	c := h2c
	if h1 {
		c = http1
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: read: %v", path, err)
	}
	return rawReply{status: resp.StatusCode, header: resp.Header, trailer: resp.Trailer, body: out, proto: resp.ProtoMajor}
}

// frame is one gRPC (or gRPC-Web) length-prefixed message: flags, a
// big-endian length that says n, and msg.
func frame(flags byte, n int, msg []byte) []byte {
	b := make([]byte, 5, 5+len(msg))
	b[0] = flags
	binary.BigEndian.PutUint32(b[1:], uint32(n))
	return append(b, msg...)
}

func frameOf(msg []byte) []byte { return frame(0, len(msg), msg) }

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// grpcStatus is the gRPC status of a gRPC answer (trailers, or headers for
// a trailers-only answer) or of a gRPC-Web answer (the trailer frame in the
// body, or headers).
func grpcStatus(t *testing.T, r rawReply, web bool) (int, string) {
	t.Helper()
	get := func(h http.Header) (string, string) { return h.Get("Grpc-Status"), h.Get("Grpc-Message") }
	code, msg := get(r.trailer)
	if code == "" {
		code, msg = get(r.header)
	}
	if code == "" && web {
		for b := r.body; len(b) >= 5; {
			n := int(binary.BigEndian.Uint32(b[1:5]))
			if len(b) < 5+n {
				break
			}
			if b[0]&0x80 != 0 {
				tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(append([]byte{}, b[5:5+n]...), "\r\n"...))))
				h, _ := tp.ReadMIMEHeader()
				code, msg = h.Get("Grpc-Status"), h.Get("Grpc-Message")
			}
			b = b[5+n:]
		}
	}
	if code == "" {
		t.Fatalf("no grpc-status: %d %v %v %q", r.status, r.header, r.trailer, r.body)
	}
	n, err := strconv.Atoi(code)
	if err != nil {
		t.Fatalf("grpc-status %q", code)
	}
	return n, msg
}

// connectError is a Connect error body.
func connectError(t *testing.T, r rawReply) (string, string) {
	t.Helper()
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Code == "" {
		t.Fatalf("no Connect error body: %d %q (%v)", r.status, r.body, err)
	}
	return e.Code, e.Message
}

// restErrorBody is a REST (google.rpc.Status JSON) error body.
func restErrorBody(t *testing.T, r rawReply) (int, string) {
	t.Helper()
	var e struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Code == nil {
		t.Fatalf("no REST error body: %d %q (%v)", r.status, r.body, err)
	}
	return *e.Code, e.Message
}

func eventCount(t *testing.T, env *apptest.Env) int64 {
	t.Helper()
	var n int64
	if err := env.Pool.QueryRow(context.Background(), "SELECT count(*) FROM events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// badGRPC are the codes a bad request may never get: OK, Unknown,
// Internal.
var badGRPC = map[int]bool{0: true, 2: true, 13: true}

func TestBadInput(t *testing.T) {
	env := apptest.New(t)
	idpID := addOIDC(t, env)
	link := mustMarshal(t, &idpv2.GetIDPByIDRequest{Id: idpID}) // any well-formed message
	before := eventCount(t, env)

	garbage := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	badUTF8 := []byte{0x0a, 0x02, 0xff, 0xfe} // field 1 (a string) holding invalid UTF-8
	big := mustMarshal(t, &idpv2.GetIDPByIDRequest{Id: strings.Repeat("x", 2*gateway.MaxBodyBytes)})
	// A message under the limit whose frame (5 bytes more) is over it.
	edge := mustMarshal(t, &idpv2.GetIDPByIDRequest{Id: strings.Repeat("x", gateway.MaxBodyBytes-6)})

	type tc struct {
		name    string
		h1      bool
		path    string
		ct      string
		body    []byte
		headers []string
		// want is the gRPC code (for grpc and grpc-web), the Connect code
		// name, or the REST code; status the HTTP status (0: any but 200
		// and 5xx for Connect and REST, 200 for gRPC).
		want   any
		status int
	}
	cases := []tc{
		// Malformed protobuf.
		{name: "connect garbage", path: addIDPLink, ct: "application/proto", body: garbage, want: "invalid_argument"},
		{name: "connect bad utf-8", path: addOIDCIDP, ct: "application/proto", body: badUTF8, want: "invalid_argument"},
		{name: "connect bad json", path: addIDPToLP, ct: "application/json", body: []byte(`{"idpId":`), want: "invalid_argument"},
		{name: "connect json of the wrong type", path: addIDPLink, ct: "application/json", body: []byte(`{"userId":5}`), want: "invalid_argument"},
		{name: "grpc garbage", path: addIDPLink, ct: "application/grpc", body: frameOf(garbage), want: 3},
		{name: "grpc bad utf-8", path: addOIDCIDP, ct: "application/grpc+proto", body: frameOf(badUTF8), want: 3},
		{name: "grpc-web garbage", path: addIDPToLP, ct: "application/grpc-web+proto", body: frameOf(garbage), want: 3},
		{name: "grpc-web over http/1.1 garbage", h1: true, path: addIDPLink, ct: "application/grpc-web+proto", body: frameOf(garbage), want: 3},
		// Wrong content types.
		{name: "text/plain", path: addIDPLink, ct: "text/plain", body: link, status: http.StatusUnsupportedMediaType},
		{name: "application/xml", path: getIDPByID, ct: "application/xml", body: []byte(`<id>x</id>`), status: http.StatusUnsupportedMediaType},
		{name: "no content type", path: addIDPLink, ct: "", body: link, status: http.StatusUnsupportedMediaType},
		{name: "grpc with an unknown codec", path: addIDPLink, ct: "application/grpc+xml", body: frameOf(link), status: http.StatusUnsupportedMediaType},
		// Oversized messages.
		{name: "connect oversized", path: getIDPByID, ct: "application/proto", body: big, want: "resource_exhausted"},
		{name: "connect oversized json", path: addIDPLink, ct: "application/json", body: []byte(`{"userId":"` + strings.Repeat("x", 2*gateway.MaxBodyBytes) + `"}`), want: "resource_exhausted"},
		{name: "grpc oversized", path: getIDPByID, ct: "application/grpc", body: frameOf(big), want: 8},
		{name: "grpc frame over the body limit", path: getIDPByID, ct: "application/grpc", body: frameOf(edge), want: 8},
		{name: "grpc-web oversized", path: addIDPLink, ct: "application/grpc-web+proto", body: frameOf(big), want: 8},
		{name: "grpc length prefix over the limit", path: addIDPLink, ct: "application/grpc", body: frame(0, 64<<20, link), want: 8},
		{name: "REST oversized", path: "/admin/v1/idps/generic_oidc", ct: "application/json", body: []byte(`{"name":"` + strings.Repeat("x", 2*gateway.MaxBodyBytes) + `"}`), want: 8, status: http.StatusRequestEntityTooLarge},
		// Truncated frames.
		{name: "grpc truncated frame", path: addIDPLink, ct: "application/grpc", body: frame(0, 100, garbage[:10]), want: 3},
		{name: "grpc truncated prefix", path: addIDPLink, ct: "application/grpc", body: []byte{0, 0, 0}, want: 3},
		{name: "grpc-web truncated frame", path: addOIDCIDP, ct: "application/grpc-web+proto", body: frame(0, 100, garbage[:10]), want: 3},
		{name: "grpc compressed flag without compression", path: addIDPLink, ct: "application/grpc", body: frame(1, len(link), link), want: 3},
		{name: "grpc end-stream flag", path: addIDPLink, ct: "application/grpc", body: frame(0x80, len(link), link), want: 3},
		{name: "grpc reserved flag", path: addIDPLink, ct: "application/grpc", body: frame(0x02, len(link), link), want: 3},
		{name: "grpc-web trailer frame", path: addIDPLink, ct: "application/grpc-web+proto", body: frame(0x80, 3, []byte("a:b")), want: 3},
		{name: "grpc two messages", path: getIDPByID, ct: "application/grpc", body: append(frameOf(link), frameOf(link)...), want: 12},
		{name: "grpc no message", path: getIDPByID, ct: "application/grpc", body: nil, want: 12},
		{name: "grpc gzip flag with gzip garbage", path: addIDPLink, ct: "application/grpc", body: frame(1, len(garbage), garbage), headers: []string{"Grpc-Encoding", "gzip"}, want: 3},
		{name: "grpc unknown encoding", path: addIDPLink, ct: "application/grpc", body: frame(1, len(garbage), garbage), headers: []string{"Grpc-Encoding", "br"}, want: 12},
		// RPC bodies on REST paths.
		{name: "grpc-web on a REST write", path: "/admin/v1/idps/oauth", ct: "application/grpc-web+proto", body: frameOf(link), want: 3, status: http.StatusBadRequest},
		{name: "grpc-web on a REST read", path: "/v2/idps/" + idpID, ct: "application/grpc-web+proto", body: frameOf(link), want: 12, status: http.StatusMethodNotAllowed},
		{name: "grpc on a REST write", path: "/v2/users/" + env.AdminUserID + "/links", ct: "application/grpc", body: frameOf(link), want: 3, status: http.StatusBadRequest},
		// Credentials.
		{name: "grpc without credentials", path: addIDPLink, ct: "application/grpc", body: frameOf(link), headers: []string{"Authorization", ""}, want: 16},
		{name: "grpc-web with a bad token", path: addOIDCIDP, ct: "application/grpc-web+proto", body: frameOf(link), headers: []string{"Authorization", "Bearer nope"}, want: 16},
		{name: "connect without credentials", path: addIDPToLP, ct: "application/proto", body: link, headers: []string{"Authorization", ""}, want: "unauthenticated"},
		// Transport.
		{name: "grpc over http/1.1", h1: true, path: getIDPByID, ct: "application/grpc", body: frameOf(link), want: 9},
		{name: "grpc over http/1.1 to a write", h1: true, path: addIDPLink, ct: "application/grpc+proto", body: frameOf(garbage), want: 9},
		{name: "grpc over http/1.1 without credentials", h1: true, path: getIDPByID, ct: "application/grpc", body: frameOf(link), headers: []string{"Authorization", ""}, want: 16},
		{name: "grpc health over http/1.1", h1: true, path: healthCheck, ct: "application/grpc", body: frameOf(nil), want: 9},
		{name: "grpc health truncated", path: healthCheck, ct: "application/grpc", body: frame(0, 100, garbage[:10]), want: 3},
		{name: "grpc unknown method", path: "/zitadel.user.v2.UserService/Nope", ct: "application/grpc", body: frameOf(link), want: 12},
		{name: "grpc unknown service", path: "/zitadel.nope.v1.Nope/Nope", ct: "application/grpc", body: frameOf(link), want: 12},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := raw(t, env, c.h1, c.path, c.ct, c.body, c.headers...)
			if c.h1 != (r.proto == 1) {
				t.Fatalf("answered over HTTP/%d", r.proto)
			}
			rpcPath := strings.HasPrefix(c.path, "/zitadel.") || strings.HasPrefix(c.path, "/grpc.")
			switch want := c.want.(type) {
			case nil: // neither protocol: connect's 415 with Accept-Post
				if r.status != c.status || r.header.Get("Accept-Post") == "" {
					t.Fatalf("%d %v %q, want %d with Accept-Post", r.status, r.header, r.body, c.status)
				}
			case string: // Connect
				code, msg := connectError(t, r)
				if code != want || code == "unknown" || code == "internal" || msg == "" || r.status == http.StatusOK || r.status >= 500 && r.status != http.StatusNotImplemented {
					t.Fatalf("%d %s %q, want %s", r.status, code, msg, want)
				}
			case int:
				if !rpcPath { // a REST route
					code, msg := restErrorBody(t, r)
					if r.status != c.status || code != want || msg == "" {
						t.Fatalf("%d %d %q, want %d %d", r.status, code, msg, c.status, want)
					}
					return
				}
				code, msg := grpcStatus(t, r, strings.HasPrefix(c.ct, "application/grpc-web"))
				if r.status != http.StatusOK || code != want || badGRPC[code] || msg == "" {
					t.Fatalf("%d grpc-status %d %q, want %d", r.status, code, msg, want)
				}
			}
		})
	}
	if after := eventCount(t, env); after != before {
		t.Errorf("bad input wrote %d events", after-before)
	}
}

// TestRPCIsLoggedAndMeasured checks that an RPC request goes through the
// router's access log and metrics, as a REST request does: one access log
// line and one counted request, under the service's route.
func TestRPCIsLoggedAndMeasured(t *testing.T) {
	env, logs := apptest.NewLogged(t)
	const route = "/zitadel.idp.v2.IdentityProviderService/*"
	for _, p := range protocols {
		_, err := call[idpv2.GetIDPByIDRequest, idpv2.GetIDPByIDResponse](t, env, p, getIDPByID, &idpv2.GetIDPByIDRequest{Id: "nope"})
		if connect.CodeOf(err) != connect.CodeNotFound {
			t.Fatalf("%s: %v", p.name, err)
		}
	}
	var lines int
	for _, l := range strings.Split(logs.String(), "\n") {
		var e struct {
			Message, Route, Method, Caller string
			Status                         int
		}
		if json.Unmarshal([]byte(l), &e) == nil && e.Message == "request" && e.Route == route {
			if e.Method != "POST" || e.Status != http.StatusOK && e.Status != http.StatusNotFound || e.Caller != env.AdminUserID {
				t.Errorf("access log line %s", l)
			}
			lines++
		}
	}
	if lines != len(protocols) {
		t.Errorf("%d access log lines for route %s, want %d:\n%s", lines, route, len(protocols), logs.String())
	}
	resp, err := http.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	// gRPC and gRPC-Web answer errors with HTTP 200 (the code is in the
	// trailers); Connect with the code's HTTP status.
	for _, series := range []string{
		`idledger_http_requests_total{code="200",method="POST",route="` + route + `"} 2`,
		`idledger_http_requests_total{code="404",method="POST",route="` + route + `"} 2`,
	} {
		if !strings.Contains(string(body), series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}

// TestRPCAuthRateLimit checks that the failed-authentication limit applies
// to RPC callers and answers in their protocol.
func TestRPCAuthRateLimit(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	mid := uint16(950)
	a, err := app.New(ctx, app.Options{Pool: pool, Log: zerolog.Nop(), MachineID: &mid, Limits: app.Limits{AuthFailures: 2}})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := a.Bootstrap(ctx, "localhost", nil, "")
	if err != nil || inst == nil {
		t.Fatalf("bootstrap: %v", err)
	}
	srv := httptest.NewUnstartedServer(a.Handler())
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	env := &apptest.Env{URL: srv.URL, AdminPAT: inst.AdminPAT, Host: "localhost"}
	bad := []string{"Authorization", "Bearer nope"}
	for i, want := range []int{16, 16, 8} {
		r := raw(t, env, false, getIDPByID, "application/grpc", frameOf(nil), bad...)
		code, msg := grpcStatus(t, r, false)
		if code != want {
			t.Fatalf("attempt %d: grpc-status %d %q, want %d", i+1, code, msg, want)
		}
		if want == 8 && !strings.Contains(msg, "too many failed authentication attempts") {
			t.Errorf("rate limited with %q", msg)
		}
	}
	p := protocols[2] // Connect JSON: 429 with the code's name
	_, err = call[idpv2.GetIDPByIDRequest, idpv2.GetIDPByIDResponse](t, env, p, getIDPByID, &idpv2.GetIDPByIDRequest{Id: "x"}, bad...)
	if connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Errorf("%s: %v, want resource_exhausted", p.name, err)
	}
}
