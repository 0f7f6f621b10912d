package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/idledger/idledger/internal/config"
	"github.com/idledger/idledger/internal/pgtest"
)

// TestExternalSecureCallback: with --external-secure, serve's wiring makes
// the IdP callback https://<host>/idps/callback (the redirect_uri of
// StartIntent's authUrl); without it, http://.
func TestExternalSecureCallback(t *testing.T) {
	for _, secure := range []bool{true, false} {
		pool := pgtest.Pool(t)
		a, err := buildApp(context.Background(), deps{Config: config.Config{ExternalSecure: secure, RecordClientIP: true}, Log: zerolog.Nop(), Pool: pool})
		if err != nil {
			t.Fatal(err)
		}
		inst, err := a.Bootstrap(context.Background(), "auth.example.com", nil, "")
		if err != nil || inst == nil {
			t.Fatalf("bootstrap: %v", err)
		}
		h := a.Handler()
		call := func(path, body string) map[string]any {
			t.Helper()
			r := httptest.NewRequest("POST", path, strings.NewReader(body))
			r.Host = "auth.example.com"
			r.Header.Set("Authorization", "Bearer "+inst.AdminPAT)
			r.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			var out map[string]any
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
				t.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
			}
			return out
		}
		id := call("/admin/v1/idps/github", `{"name":"GitHub","clientId":"c","clientSecret":"s"}`)["id"].(string)
		start := call("/v2/idp_intents", `{"idpId":"`+id+`","urls":{"successUrl":"https://app.example.com/ok","failureUrl":"https://app.example.com/fail"}}`)
		au, err := url.Parse(start["authUrl"].(string))
		if err != nil {
			t.Fatal(err)
		}
		want := "http://auth.example.com/idps/callback"
		if secure {
			want = "https://auth.example.com/idps/callback"
		}
		if got := au.Query().Get("redirect_uri"); got != want {
			t.Errorf("external-secure=%v: redirect_uri %q, want %q", secure, got, want)
		}
	}
}
