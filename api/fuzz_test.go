package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/openapi"
	"github.com/idledger/idledger/internal/app/apptest"
)

// FuzzRoutes drives every JSON request decoder through the real router: the
// fuzzer picks a route by index from the router's own list, a body, a value
// for every path parameter and a query string, and the request is sent as
// the IAM owner (who passes every permission check, so the body reaches the
// decoder and the command). No input may panic or get a 5xx other than the
// contract's documented 501s. Valid inputs may write: this target checks
// robustness, internal/securitytest checks that malformed input writes
// nothing.
func FuzzRoutes(f *testing.F) {
	env := apptest.New(f)
	h := env.App.Handler()
	type route struct{ method, pattern string }
	var routes []route
	err := chi.Walk(h.(chi.Routes), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if !openapi.RPCMount(pattern) { // rpc/badinput_test.go covers those
			routes = append(routes, route{method, pattern})
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].method+routes[i].pattern < routes[j].method+routes[j].pattern })

	bodies := []string{`{}`, `{"name":"x","query":{"limit":5}}`, `{"name":`, `[]`, `{"name":"\u0000"}`, "{\"name\":\"\xff\"}",
		strings.Repeat("[", 100) + strings.Repeat("]", 100), `{"query":{"limit":-1,"offset":"-1"},"limit":-1}`,
		`{"idpId":"1","ownerType":"IDP_OWNER_TYPE_BOGUS","roles":["X"],"userId":1}`}
	for i := range routes {
		for j, b := range bodies {
			param := []string{"1", env.DefaultOrgID, "%00", "..%2F..", "\xff"}[j%5]
			f.Add(uint8(i), []byte(b), param, []string{"", "afterPosition=-1", "afterPosition=1&afterPosition=x"}[j%3])
		}
	}
	f.Fuzz(func(t *testing.T, idx uint8, body []byte, param, query string) {
		r := routes[int(idx)%len(routes)]
		segs := strings.Split(r.pattern, "/")
		for k, s := range segs {
			if strings.HasPrefix(s, "{") {
				segs[k] = param
			}
		}
		req := httptest.NewRequest(r.method, "/", bytes.NewReader(body))
		req.URL.Path, req.URL.RawPath, req.URL.RawQuery = strings.Join(segs, "/"), "", query
		req.Host = "localhost"
		req.Header.Set("Authorization", "Bearer "+env.AdminPAT)
		req.Header.Set("Content-Type", "application/json")
		// The event stream answers forever: a short deadline ends it.
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if !strings.HasSuffix(r.pattern, "_stream") {
			ctx = context.Background()
		}
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { defer close(done); h.ServeHTTP(rec, req.WithContext(ctx)) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s %s (path %q, query %q, body %q) takes over 5 s", r.method, r.pattern, req.URL.Path, query, body)
		}
		if rec.Code >= 500 {
			id := apptest.ErrorID(rec.Body.Bytes())
			if rec.Code != 501 || (id != "ORG-Hum01" && id != "USERv3-OrgDom" && id != "USERv2-S2g21") {
				t.Fatalf("%s %s (path %q, query %q, body %q): %d %s", r.method, r.pattern, req.URL.Path, query, body, rec.Code, rec.Body)
			}
		}
	})
}
