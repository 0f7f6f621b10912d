package oidc

import (
	"net/http/httptest"
	"testing"
)

// TestHostedLoginRequest: only a redirect to this host's hosted login is
// bound; an app's own login UI (loginV2.baseUri) or another host is not.
func TestHostedLoginRequest(t *testing.T) {
	r := httptest.NewRequest("GET", "http://auth.example/oauth/v2/authorize", nil)
	for loc, want := range map[string]string{
		"/ui/v2/login/login?authRequest=V2_1":                      "V2_1",
		"http://auth.example/ui/v2/login/login?authRequest=V2_2":   "V2_2",
		"https://login.example/ui/v2/login/login?authRequest=V2_3": "",
		"https://app.example/login?authRequest=V2_4":               "",
		"/ui/v2/login/login":                                       "",
		"https://app.example/cb?code=x":                            "",
		"":                                                         "",
		"/ui/v2/login/logout?authRequest=V2_5":                     "",
	} {
		if got, _ := hostedLoginRequest(r, loc); got != want {
			t.Errorf("%q: %q, want %q", loc, got, want)
		}
	}
}
