package openapi

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
)

// TB is the part of testing.TB that CheckRoutes uses; it is declared here so
// that the server binary, which imports this package for Handler, does not
// link the testing package.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// ignoredMethods are answered by net/http or chi on their own and are not
// part of the API.
var ignoredMethods = []string{http.MethodHead, http.MethodOptions, http.MethodConnect, http.MethodTrace}

// chiRegexp strips a chi parameter's regular expression: {id:[0-9]+} → {id}.
var chiRegexp = regexp.MustCompile(`\{([^{}:]+):[^{}]*\}`)

// RPCMount reports whether route is the mount of an RPC service
// (/<package>.<Service>/*): proto/ describes those, not this document, and
// package rpc's tests, not the REST route walks, cover them.
func RPCMount(route string) bool {
	return strings.HasSuffix(route, "/*") && (strings.HasPrefix(route, "/zitadel.") || strings.HasPrefix(route, "/grpc."))
}

// PageRoute reports whether route is one of the hosted login's HTML pages
// (/ui/...): they are not the REST API, answer HTML error pages rather than
// ZITADEL's error body, and package ui's tests cover them.
func PageRoute(route string) bool { return strings.HasPrefix(route, "/ui/") }

// RouterRoutes lists the routes registered on r (via chi.Walk), normalised
// to the document's form: regular expressions dropped from parameters, a
// trailing slash dropped (chi reports r.Route("/x").Get("/") as "/x/"), HEAD/OPTIONS/CONNECT/TRACE
// the RPC mounts and the hosted login's pages left out. Errors: chi.Walk's.
func RouterRoutes(r chi.Routes) ([]Route, error) {
	seen := map[Route]bool{}
	err := chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if slices.Contains(ignoredMethods, method) || RPCMount(route) || PageRoute(route) {
			return nil
		}
		route = chiRegexp.ReplaceAllString(route, "{$1}")
		if len(route) > 1 {
			route = strings.TrimSuffix(route, "/")
		}
		seen[Route{Method: method, Path: route}] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk router: %w", err)
	}
	out := make([]Route, 0, len(seen))
	for rt := range seen {
		out = append(out, rt)
	}
	slices.SortFunc(out, func(a, b Route) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

// DiffRoutes compares the router's routes with the document's: missing are
// registered but undocumented, extra are documented but not registered.
// Errors: as Load and RouterRoutes.
func DiffRoutes(r chi.Routes) (missing, extra []Route, err error) {
	documented, err := Routes()
	if err != nil {
		return nil, nil, err
	}
	registered, err := RouterRoutes(r)
	if err != nil {
		return nil, nil, err
	}
	for _, rt := range registered {
		if !slices.Contains(documented, rt) {
			missing = append(missing, rt)
		}
	}
	for _, rt := range documented {
		if !slices.Contains(registered, rt) {
			extra = append(extra, rt)
		}
	}
	return missing, extra, nil
}

// CheckRoutes fails t when a route registered on r is missing from the
// document, or a documented route is not registered. Pass the fully wired
// router (the one the server serves), so health, metrics and the document
// route are included.
func CheckRoutes(t TB, r chi.Routes) {
	t.Helper()
	missing, extra, err := DiffRoutes(r)
	if err != nil {
		t.Fatalf("openapi: %v", err)
		return
	}
	for _, rt := range missing {
		t.Errorf("route %s is registered but missing from api/openapi/openapi.yaml", rt)
	}
	for _, rt := range extra {
		t.Errorf("route %s is in api/openapi/openapi.yaml but not registered on the router", rt)
	}
}
