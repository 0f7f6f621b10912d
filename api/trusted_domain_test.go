package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestTrustedDomainsAllowlist: trusted domains are added, listed and
// removed (admin API, ZITADEL's shapes and error IDs); while there is one,
// StartIntent accepts only success and failure URLs whose host is the
// instance's own (localhost here) or trusted, compared without case and
// port; without any, every URL, as in ZITADEL.
func TestTrustedDomainsAllowlist(t *testing.T) {
	env := apptest.New(t)
	idpID := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/github", `{"name":"GitHub","clientId":"c","clientSecret":"s"}`)["id"].(string)
	start := func(success, failure string) (int, string) {
		t.Helper()
		status, body := env.Do(t, "POST", "/v2/idp_intents", map[string]any{"idpId": idpID,
			"urls": map[string]string{"successUrl": success, "failureUrl": failure}})
		return status, string(body)
	}
	wantErr := func(what string, status int, body string, wantStatus int, id string) {
		t.Helper()
		if status != wantStatus || !strings.Contains(body, "("+id+")") {
			t.Errorf("%s: %d %s, want %d with %s", what, status, body, wantStatus, id)
		}
	}
	list := func() []string {
		t.Helper()
		r := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/trusted_domains/_search", `{}`)
		var out []string
		for _, d := range r["result"].([]any) {
			out = append(out, d.(map[string]any)["domain"].(string))
		}
		return out
	}

	// Off: any URL.
	if s, b := start("https://anything.test/ok", "https://evil.test/fail"); s != 200 {
		t.Fatalf("without trusted domains: %d %s", s, b)
	}
	if got := list(); len(got) != 0 {
		t.Fatalf("list %v, want none", got)
	}

	// Adding: ZITADEL's validation, stored lower-cased.
	for _, c := range []struct{ domain, id string }{{"", "COMMA-Stk21"}, {"  ", "COMMA-Stk21"}, {strings.Repeat("a", 254), "COMMA-Stk21"},
		{"https://login.example.com/", "COMMA-S3v3w"}, {"login.example.com:8443", "COMMA-S3v3w"}, {"*.example.com", "COMMA-S3v3w"}} {
		s, b := env.Do(t, "POST", "/admin/v1/trusted_domains", map[string]string{"domain": c.domain})
		wantErr("add "+c.domain, s, string(b), 400, c.id)
	}
	add := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/trusted_domains", `{"domain":" Login.Example.com "}`)
	if d := add["details"].(map[string]any); d["sequence"] == nil || d["resourceOwner"] != env.InstanceID {
		t.Errorf("add details %v", d)
	}
	s, b := env.Do(t, "POST", "/admin/v1/trusted_domains", `{"domain":"login.example.com"}`)
	wantErr("add twice", s, string(b), 400, "COMMA-hg42a")
	env.MustDo(t, http.StatusOK, "POST", "/admin/v1/trusted_domains", `{"domain":"other.example.org"}`)
	if got := list(); len(got) != 2 || got[0] != "other.example.org" || got[1] != "login.example.com" {
		t.Fatalf("list %v, want newest first", got)
	}
	r := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/trusted_domains/_search",
		`{"query":{"asc":true},"queries":[{"domainQuery":{"domain":"LOGIN","method":"TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]}`)
	if raw, _ := json.Marshal(r); !strings.Contains(string(raw), `"totalResult":"1"`) || !strings.Contains(string(raw), `"domain":"login.example.com"`) {
		t.Errorf("filtered list %s", raw)
	}

	// On: the instance's own host and the trusted ones, any case and port.
	for _, u := range []string{"https://login.example.com/ok", "https://LOGIN.example.COM:8443/ok?x=1", "http://localhost:3000/cb",
		"https://other.example.org/done"} {
		if s, b := start(u, "https://login.example.com/fail"); s != 200 {
			t.Errorf("success URL %s refused: %d %s", u, s, b)
		}
	}
	for _, u := range []string{"https://login.example.com.evil.test/ok", "https://evil.test/ok", "https://sub.login.example.com/ok",
		"https://login.example.com@evil.test/ok", "https://evil-login.example.com/ok", "https://login.example.co/ok"} {
		s, b := start(u, "https://login.example.com/fail")
		wantErr("success URL "+u, s, b, 400, "COMMAND-TrD03")
		if !strings.Contains(b, "trusted domains") {
			t.Errorf("message of %s: %s", u, b)
		}
		s, b = start("https://login.example.com/ok", u)
		wantErr("failure URL "+u, s, b, 400, "COMMAND-TrD04")
	}

	// Another instance keeps its own (empty) list.
	other := env.AddInstance(t, "tenant2.example.com")
	id2 := env.MustDoAs(t, other.AdminPAT, http.StatusOK, "POST", "/admin/v1/idps/github", `{"name":"G","clientId":"c","clientSecret":"s"}`, "Host", "tenant2.example.com")["id"].(string)
	env.MustDoAs(t, other.AdminPAT, http.StatusOK, "POST", "/v2/idp_intents", map[string]any{"idpId": id2,
		"urls": map[string]string{"successUrl": "https://evil.test/ok", "failureUrl": "https://evil.test/fail"}}, "Host", "tenant2.example.com")

	// Removing: any case; a domain that is not trusted is NotFound.
	env.MustDo(t, http.StatusOK, "DELETE", "/admin/v1/trusted_domains/LOGIN.example.com", nil)
	s, b = env.Do(t, "DELETE", "/admin/v1/trusted_domains/login.example.com", nil)
	wantErr("remove twice", s, string(b), 404, "COMMA-de3z9")
	s, b = env.Do(t, "DELETE", "/admin/v1/trusted_domains/bad:name", nil)
	wantErr("remove bad", s, string(b), 400, "COMMA-lfs3Te")
	s, b2 := start("https://login.example.com/ok", "https://login.example.com/fail")
	wantErr("after removal", s, b2, 400, "COMMAND-TrD03")
	env.MustDo(t, http.StatusOK, "DELETE", "/admin/v1/trusted_domains/other.example.org", nil)
	if s, b := start("https://anything.test/ok", "https://evil.test/fail"); s != 200 {
		t.Fatalf("after removing every trusted domain: %d %s", s, b)
	}
}
