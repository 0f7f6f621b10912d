package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestIDPScope: the app's urn:zitadel:iam:org:idp:id:{id} scope goes
// straight to that IdP only when the applicable policy allows external
// IdPs and lists it; otherwise the login page is shown.
func TestIDPScope(t *testing.T) {
	env := apptest.New(t)
	gh := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/github", map[string]any{"name": "GitHub", "clientId": "c", "clientSecret": "s"})["id"].(string)
	gl := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/gitlab", map[string]any{"name": "GitLab", "clientId": "c", "clientSecret": "s"})["id"].(string)
	setPolicy := func(external bool) {
		env.MustDo(t, http.StatusOK, "PUT", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true,
			"allowExternalIdp": external}, "x-zitadel-orgid", env.DefaultOrgID)
	}
	env.MustDo(t, http.StatusOK, "POST", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"allowExternalIdp": true, "idps": []map[string]any{{"idpId": gh, "ownerType": "IDP_OWNER_TYPE_SYSTEM"}}},
		"x-zitadel-orgid", env.DefaultOrgID)
	app := newRPApp(t, env)
	scoped := func(idp string) answer {
		return newBrowser(t, env).authorize(app.start([]string{"urn:zitadel:iam:org:id:" + env.DefaultOrgID, "urn:zitadel:iam:org:idp:id:" + idp}))
	}
	// Listed and allowed: straight to the IdP.
	wantText(t, scoped(gh), http.StatusOK, `http-equiv="refresh"`, "https://github.com/login/oauth/authorize", "Continue to GitHub")
	// Not listed, or unknown: the login page, without a hand-off.
	for _, id := range []string{gl, "123"} {
		a := scoped(id)
		wantText(t, a, http.StatusOK, `id="loginName"`, ">GitHub</button>")
		if strings.Contains(a.body, "oauth/authorize") || strings.Contains(a.body, "GitLab") {
			t.Fatalf("IdP %s not in the policy was used: %s", id, a.body)
		}
	}
	// External IdPs off: the login page, no IdP at all.
	setPolicy(false)
	a := scoped(gh)
	wantText(t, a, http.StatusOK, `id="loginName"`)
	if strings.Contains(a.body, "GitHub") || strings.Contains(a.body, "oauth/authorize") {
		t.Fatalf("allowExternalIdp off, yet the IdP is used: %s", a.body)
	}
}

// TestIDPRegisterByPolicy: an IdP that allows neither linking nor creation
// refuses a user without an account, unless the applicable policy allows
// registration: then the registration form prefilled from the claims is
// offered, and it creates the user and signs it in.
func TestIDPRegisterByPolicy(t *testing.T) {
	env := apptest.New(t)
	_, _, _, closed := idpSetup(t, env)
	b := newBrowser(t, env)
	off := b.idpLogin(env.DefaultOrgID, closed, "newbie")
	wantText(t, off, http.StatusForbidden, "Ask your administrator to allow it")
	if strings.Contains(off.body, "Create your account") {
		t.Fatal("registration offered with allowRegister off")
	}
	env.MustDo(t, http.StatusOK, "PUT", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"allowExternalIdp": true, "allowRegister": true}, "x-zitadel-orgid", env.DefaultOrgID)
	reg := b.idpLogin(env.DefaultOrgID, closed, "newbie")
	wantText(t, reg, http.StatusOK, "Create your account", `value="newbie"`, `value="New"`, `value="newbie@example.com"`)
	done := b.do("POST", "/ui/v2/login/idp/register", url.Values{"csrf": {csrf(t, reg)}, "username": {"newbie"},
		"givenName": {"New"}, "familyName": {"Bie"}, "email": {"newbie@example.com"}})
	wantText(t, done, http.StatusOK, "You are signed in", `class="who">newbie<`)
	wantText(t, b.idpLogin(env.DefaultOrgID, closed, "newbie"), http.StatusOK, "You are signed in", `class="who">newbie<`)
}
