package openapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

func TestValidateResponse(t *testing.T) {
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	const idpOK = `{"idp":{"id":"286432164857315331","details":{"sequence":"3","changeDate":"2024-11-05T10:32:11.412346Z",
		"resourceOwner":"286432002239987715","creationDate":"2024-11-05T10:30:01Z"},"state":"IDP_STATE_ACTIVE",
		"name":"Google","type":"IDP_TYPE_GOOGLE","config":{"options":{"isLinkingAllowed":true,
		"autoLinking":"AUTO_LINKING_OPTION_EMAIL"},"google":{"clientId":"client-id","scopes":["openid"]}}}}`
	const errBody = `{"code":5,"message":"Identity Provider Configuration doesn't exist (QUERY-SAFrt)","details":[
		{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"QUERY-SAFrt","message":"Identity Provider Configuration doesn't exist"}]}`
	cases := []struct {
		name           string
		method, target string
		status         int
		header         http.Header
		body           string
		wantErr        string // "" means valid
	}{
		{"idp ok", "GET", "http://localhost:8080/v2/idps/1", 200, jsonHeader(), idpOK, ""},
		{"idp 404", "GET", "/v2/idps/1", 404, jsonHeader(), errBody, ""},
		{"sequence as number", "GET", "/v2/idps/1", 200, jsonHeader(),
			`{"idp":{"details":{"sequence":3}}}`, "sequence"},
		{"bad enum", "GET", "/v2/idps/1", 200, jsonHeader(),
			`{"idp":{"state":"ACTIVE"}}`, "state"},
		{"bad timestamp", "GET", "/v2/idps/1", 200, jsonHeader(),
			`{"idp":{"details":{"changeDate":"yesterday"}}}`, "changeDate"},
		{"missing idp", "GET", "/v2/idps/1", 200, jsonHeader(), `{}`, "idp"},
		{"201 declared", "POST", "/v2/users/human", 201, jsonHeader(),
			`{"userId":"1","details":{"sequence":"1","changeDate":"2024-01-01T00:00:00Z","resourceOwner":"2"}}`, ""},
		{"200 where 201 is declared", "POST", "/v2/users/human", 200, jsonHeader(), `{"userId":"1"}`, "code"},
		{"error without code", "DELETE", "/v2/users/1/links/2/3", 400, jsonHeader(), `{"message":"x"}`, "code"},
		{"kind path", "POST", "/admin/v1/idps/google", 200, jsonHeader(),
			`{"id":"1","details":{"sequence":"1","creationDate":"2024-01-01T00:00:00.123Z","resourceOwner":"9"}}`, ""},
		{"templates search is not a kind", "POST", "/admin/v1/idps/templates/_search", 200, jsonHeader(),
			`{"details":{"totalResult":"1"},"result":[{"id":"1","type":"PROVIDER_TYPE_GOOGLE","owner":"IDP_OWNER_TYPE_SYSTEM"}]}`, ""},
		{"resources details", "POST", "/resources/v3alpha/users/1/idps", 200, jsonHeader(),
			`{"details":{"id":"1","changed":"2024-09-01T12:00:00.123Z","owner":{"type":"OWNER_TYPE_ORG","id":"2"}}}`, ""},
		{"unknown route 404", "GET", "/nope", 404, jsonHeader(), `{"code":5,"message":"Not Found"}`, ""},
		{"unknown route 200", "GET", "/nope", 200, jsonHeader(), `{}`, "want 404"},
		{"wrong method 405", "PATCH", "/v2/idps/1", 405, jsonHeader(), `{"code":12,"message":"Method Not Allowed"}`, ""},
		{"metrics text", "GET", "/metrics", 200, http.Header{"Content-Type": {"text/plain; version=0.0.4; charset=utf-8"}},
			"# HELP x\n", ""},
		{"openapi yaml", "GET", "/openapi.yaml", 200, http.Header{"Content-Type": {"application/yaml"}}, "openapi: 3.0.3\n", ""},
		{"undeclared content type", "GET", "/v2/idps/1", 200, http.Header{"Content-Type": {"text/html"}}, "<p>", "content type"},
		{"stream ok", "GET", "/admin/v1/events/_stream?afterPosition=5", 200,
			http.Header{"Content-Type": {"application/x-ndjson"}},
			"{\"sequence\":\"1\",\"position\":\"6\",\"type\":{\"type\":\"idp.added\"}}\n{}\n", ""},
		{"stream unread (nil body)", "GET", "/admin/v1/events/_stream", 200,
			http.Header{"Content-Type": {"application/x-ndjson"}}, "", ""},
		{"stream bad line", "GET", "/admin/v1/events/_stream", 200,
			http.Header{"Content-Type": {"application/x-ndjson"}}, "{\"sequence\":1}\n", "line 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.target, nil)
			err := v.ValidateResponse(req, c.status, c.header, []byte(c.body))
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("want valid, got %v", err)
			case c.wantErr != "" && err == nil:
				t.Errorf("want an error mentioning %q, got none", c.wantErr)
			case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
				t.Errorf("want an error mentioning %q, got %v", c.wantErr, err)
			}
		})
	}
}

func TestTransport(t *testing.T) {
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/openapi.yaml":
			Handler().ServeHTTP(w, r)
		case "/healthz":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"wrong":true}`)) // not an Error body for an unknown route
		}
	}))
	t.Cleanup(srv.Close)

	good := &fakeTB{}
	client := &http.Client{Transport: v.Transport(good, nil)}
	for _, p := range []string{"/openapi.yaml", "/healthz"} {
		resp, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(b) == 0 {
			t.Errorf("%s: body was not handed back", p)
		}
	}
	if len(good.errors) != 0 {
		t.Errorf("valid responses reported: %v", good.errors)
	}

	bad := &fakeTB{}
	client = &http.Client{Transport: v.Transport(bad, nil)}
	resp, err := client.Get(srv.URL + "/unknown")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(bad.errors) != 1 {
		t.Errorf("invalid response: %d reports, want 1", len(bad.errors))
	}
}
