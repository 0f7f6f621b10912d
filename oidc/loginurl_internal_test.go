package oidc

import (
	"testing"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/query"
)

// TestLoginURLShape: ZITADEL's login v2 URL, <base>/login?authRequest=V2_…
// (client_converter.go: the base URI joined with LoginPath, the id set as
// LoginAuthRequestParam), for the app's base URI, --login-url and the
// hosted login, in that order.
func TestLoginURLShape(t *testing.T) {
	const id = "V2_334455667788990011"
	cases := []struct {
		name, baseURI, flag string
		version             int
		want                string
	}{
		{"hosted login", "", "", 0, "/ui/v2/login/login?authRequest=" + id},
		{"v2 without a base URI", "", "", 2, "/ui/v2/login/login?authRequest=" + id},
		{"v1 has no login of its own here", "", "", 1, "/ui/v2/login/login?authRequest=" + id},
		{"app base URI", "https://login.example.com/ui/v2/login", "", 2, "https://login.example.com/ui/v2/login/login?authRequest=" + id},
		{"app base URI, trailing slash", "https://login.example.com/ui/v2/login/", "", 2, "https://login.example.com/ui/v2/login/login?authRequest=" + id},
		{"app base URI, origin only", "https://login.example.com", "", 2, "https://login.example.com/login?authRequest=" + id},
		{"app base URI keeps its query", "https://login.example.com/?tenant=acme", "", 2, "https://login.example.com/login?authRequest=" + id + "&tenant=acme"},
		{"app base URI wins over the flag", "https://app-login.example.com", "https://login.example.com/ui", 2, "https://app-login.example.com/login?authRequest=" + id},
		{"a base URI of a v1 app is not used", "https://app-login.example.com", "https://login.example.com/ui", 1, "https://login.example.com/ui/login?authRequest=" + id},
		{"flag", "", "http://127.0.0.1:3000", 0, "http://127.0.0.1:3000/login?authRequest=" + id},
		{"flag with a path", "", "https://login.example.com/ui/v2/login/", 2, "https://login.example.com/ui/v2/login/login?authRequest=" + id},
		{"unparsable app base URI falls back", "https://bad host/%zz", "", 2, "/ui/v2/login/login?authRequest=" + id},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &client{app: &query.Client{App: query.App{Kind: "oidc", ClientID: "1@shop",
				OIDC: events.OIDCConfig{LoginVersion: tc.version, LoginBaseURI: tc.baseURI}}}, loginURL: tc.flag}
			if got := c.LoginURL(id); got != tc.want {
				t.Errorf("LoginURL = %q, want %q", got, tc.want)
			}
		})
	}
}
