package api

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/errs"
)

// FuzzRequestHost: any Host header gives a host without port or brackets,
// in lower case, and never panics.
func FuzzRequestHost(f *testing.F) {
	for _, s := range []string{"localhost", "LOCALHOST:8080", "[::1]:80", "::1", "[::1", "127.0.0.1:", ":80", "",
		"a.b.c:99999", "xn--nxasmq6b.example", "tenant2.example.com.", "[fe80::1%25eth0]:443", "\xff\xfe", "h\x00st"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		got := RequestHost(r)
		if got != strings.ToLower(got) {
			t.Fatalf("RequestHost(%q) = %q is not lower case", host, got)
		}
		if strings.HasPrefix(got, "[") && strings.HasSuffix(got, "]") && len(got) > 1 {
			t.Fatalf("RequestHost(%q) = %q keeps the brackets", host, got)
		}
		if h, _, err := net.SplitHostPort(host); err == nil && !strings.Contains(h, ":") && strings.Contains(got, ":") {
			t.Fatalf("RequestHost(%q) = %q keeps the port", host, got)
		}
	})
}

// FuzzBearerToken: any Authorization header gives a token that is
// non-empty, at most 2048 bytes and trimmed, or Unauthenticated AUTH-7fs1e.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer abc", "BEARER  abc  ", "Bearer", "Bearer ", "Basic YWI6Y2Q=", "",
		"Bearer a b c", "Token abc", "Bearer " + strings.Repeat("t", 2049), "Bearer\tabc", " Bearer abc", "Bearer \x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/", nil)
		if header != "" {
			r.Header["Authorization"] = []string{header}
		}
		tok, err := bearerToken(r)
		if err != nil {
			if e, ok := errs.As(err); !ok || e.Kind != errs.KindUnauthenticated || e.ID != "AUTH-7fs1e" {
				t.Fatalf("bearerToken(%q): %v", header, err)
			}
			return
		}
		if tok == "" || len(tok) > 2048 || tok != strings.TrimSpace(tok) {
			t.Fatalf("bearerToken(%q) = %q", header, tok)
		}
		if scheme, _, _ := strings.Cut(header, " "); !strings.EqualFold(scheme, "bearer") {
			t.Fatalf("bearerToken(%q) accepted scheme %q", header, scheme)
		}
	})
}

// FuzzPathParams: a path parameter is refused (InvalidArgument) exactly
// when PostgreSQL could not take it as text: invalid UTF-8 or a NUL.
func FuzzPathParams(f *testing.F) {
	for _, s := range []string{"123", "..%2F..%2Fetc%2Fpasswd", "\x00", "a\x00b", "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "名前", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		rctx := chi.NewRouteContext()
		rctx.URLParams.Add("id", v)
		r := httptest.NewRequest("GET", "/", nil).WithContext(context.WithValue(context.Background(), chi.RouteCtxKey, rctx))
		err := pathParamsText(r)
		bad := !utf8.ValidString(v) || strings.ContainsRune(v, 0)
		if (err != nil) != bad {
			t.Fatalf("pathParamsText(%q) = %v, want refused %v", v, err, bad)
		}
		if err != nil && errs.KindOf(err) != errs.KindInvalidArgument {
			t.Fatalf("pathParamsText(%q): kind %v", v, errs.KindOf(err))
		}
	})
}
