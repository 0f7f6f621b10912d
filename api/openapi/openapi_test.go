package openapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

func TestDocumentLoadsAndValidates(t *testing.T) {
	doc, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if doc.Components.SecuritySchemes["bearerAuth"] == nil {
		t.Error("bearerAuth security scheme is missing")
	}
	routes, err := Routes()
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 40 {
		t.Errorf("only %d routes documented", len(routes))
	}
	// Every operation answers errors with the Error body.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Responses.Default() == nil {
				t.Errorf("%s %s has no default (Error) response", method, path)
			}
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId", method, path)
			}
		}
	}
}

// TestDocumentedRoutes pins the contract of DESIGN.md §2 and the extra
// routes agreed for issue 11, so a route cannot drop out of the document
// unnoticed even before the router test runs.
func TestDocumentedRoutes(t *testing.T) {
	want := []string{
		"GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.yaml",
		"GET /v2/idps/{id}",
		"POST /admin/v1/idps/{kind}", "PUT /admin/v1/idps/{kind}/{id}", "POST /admin/v1/idps/{kind}/{id}",
		"GET /admin/v1/idps/templates/{id}", "DELETE /admin/v1/idps/templates/{id}", "POST /admin/v1/idps/templates/_search",
		"POST /management/v1/idps/{kind}", "PUT /management/v1/idps/{kind}/{id}",
		"GET /management/v1/idps/templates/{id}", "DELETE /management/v1/idps/templates/{id}",
		"POST /management/v1/idps/templates/_search",
		"GET /admin/v1/policies/login", "PUT /admin/v1/policies/login", "POST /admin/v1/policies/login/idps",
		"POST /admin/v1/policies/login/idps/_search", "DELETE /admin/v1/policies/login/idps/{idpId}",
		"GET /management/v1/policies/login", "POST /management/v1/policies/login", "PUT /management/v1/policies/login", "DELETE /management/v1/policies/login",
		"POST /management/v1/policies/login/idps", "POST /management/v1/policies/login/idps/_search",
		"DELETE /management/v1/policies/login/idps/{idpId}",
		"POST /admin/v1/trusted_domains", "POST /admin/v1/trusted_domains/_search", "DELETE /admin/v1/trusted_domains/{domain}",
		"GET /admin/v1/settings/oidc", "POST /admin/v1/settings/oidc", "PUT /admin/v1/settings/oidc",
		"POST /v3alpha/users/{userId}/idps", "DELETE /v3alpha/users/{userId}/idps/{idpId}",
		"POST /resources/v3alpha/users/{id}/idps", "DELETE /resources/v3alpha/users/{id}/idps/{idpId}",
		"POST /v2/users/{userId}/links", "POST /v2/users/{userId}/links/_search",
		"DELETE /v2/users/{userId}/links/{idpId}/{linkedUserId}",
		"POST /v2/organizations", "POST /management/v1/orgs", "GET /management/v1/orgs/me",
		"POST /v2/users/human", "GET /v2/users/{userId}", "DELETE /v2/users/{userId}",
		"POST /v2/users", "POST /v2/users/{userId}/password", "POST /v2/organizations/_search",
		"POST /v2/sessions", "POST /v2/sessions/search", "GET /v2/sessions/{sessionId}", "PATCH /v2/sessions/{sessionId}", "DELETE /v2/sessions/{sessionId}",
		"POST /management/v1/users/machine", "POST /management/v1/users/{userId}/pats",
		"DELETE /management/v1/users/{userId}/pats/{tokenId}",
		"PUT /management/v1/users/{userId}/machine",
		"PUT /management/v1/users/{userId}/secret", "DELETE /management/v1/users/{userId}/secret",
		"POST /management/v1/users/{userId}/keys", "POST /management/v1/users/{userId}/keys/_search",
		"DELETE /management/v1/users/{userId}/keys/{keyId}",
		"POST /admin/v1/members", "POST /management/v1/orgs/me/members",
		"POST /admin/v1/events/_search", "GET /admin/v1/events/_stream", "GET /admin/v1/events/types",
		"GET /admin/v1/aggregates/types", "POST /admin/v1/events/types/_search",
		"POST /admin/v1/aggregates/types/_search", "GET /auth/v1/users/me",
		"POST /v2/idp_intents", "POST /v2/idp_intents/{idpIntentId}", "POST /v2/idp_intents/{idpIntentId}/login", "GET /idps/callback", "POST /idps/callback", "GET /idps/jwt",
		"POST /idps/{idpId}/saml/acs", "GET /idps/{idpId}/saml/metadata", "GET /idps/{idpId}/saml/certificate",
		"POST /management/v1/projects", "POST /management/v1/projects/_search", "GET /management/v1/projects/{projectId}",
		"PUT /management/v1/projects/{projectId}", "DELETE /management/v1/projects/{projectId}",
		"POST /management/v1/projects/{projectId}/apps/oidc", "POST /management/v1/projects/{projectId}/apps/api",
		"POST /management/v1/projects/{projectId}/apps/_search", "GET /management/v1/projects/{projectId}/apps/{appId}",
		"DELETE /management/v1/projects/{projectId}/apps/{appId}", "PUT /management/v1/projects/{projectId}/apps/{appId}/oidc_config",
		"POST /management/v1/projects/{projectId}/apps/{appId}/oidc_config/_generate_client_secret",
		"POST /management/v1/projects/{projectId}/apps/{appId}/keys", "POST /management/v1/projects/{projectId}/apps/{appId}/keys/_search",
		"GET /management/v1/projects/{projectId}/apps/{appId}/keys/{keyId}", "DELETE /management/v1/projects/{projectId}/apps/{appId}/keys/{keyId}",
		"GET /.well-known/openid-configuration", "GET /oauth/v2/authorize", "POST /oauth/v2/authorize", "POST /oauth/v2/token",
		"POST /oauth/v2/introspect", "POST /oauth/v2/revoke", "GET /oauth/v2/keys", "GET /oidc/v1/userinfo", "POST /oidc/v1/userinfo",
		"GET /oidc/v1/end_session", "POST /oidc/v1/end_session",
		"GET /v2/oidc/auth_requests/{authRequestId}", "POST /v2/oidc/auth_requests/{authRequestId}",
	}
	routes, err := Routes()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range routes {
		got[r.String()] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("%s is not documented", w)
		}
		delete(got, w)
	}
	for r := range got {
		t.Errorf("%s is documented but not in this test's list", r)
	}
}

func TestHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("content type %q", ct)
	}
	body, _ := io.ReadAll(rec.Body)
	if !strings.HasPrefix(string(body), "openapi: 3.") {
		t.Errorf("body starts %q", string(body[:min(40, len(body))]))
	}
}

// fakeTB records CheckRoutes' complaints.
type fakeTB struct{ errors []string }

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Errorf(format string, _ ...any) { f.errors = append(f.errors, format) }
func (f *fakeTB) Fatalf(format string, _ ...any) { f.errors = append(f.errors, format) }

func TestCheckRoutes(t *testing.T) {
	h := func(http.ResponseWriter, *http.Request) {}
	full := chi.NewRouter()
	routes, err := Routes()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		full.Method(r.Method, r.Path, http.HandlerFunc(h))
	}
	CheckRoutes(t, full) // the document against itself: no complaints

	// Nested routers, regexps and trailing slashes normalise to the document's form.
	nested := chi.NewRouter()
	nested.Route("/v2", func(r chi.Router) {
		r.Get("/idps/{id:[0-9]+}", h)
		r.Route("/organizations", func(r chi.Router) { r.Post("/", h) })
		r.Post("/undocumented", h)
	})
	missing, extra, err := DiffRoutes(nested)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 1 || missing[0].String() != "POST /v2/undocumented" {
		t.Errorf("missing = %v", missing)
	}
	if len(extra) != len(routes)-2 {
		t.Errorf("extra has %d routes, want %d", len(extra), len(routes)-2)
	}
	f := &fakeTB{}
	CheckRoutes(f, nested)
	if len(f.errors) != 1+len(routes)-2 {
		t.Errorf("CheckRoutes reported %d problems, want %d", len(f.errors), 1+len(routes)-2)
	}
}
