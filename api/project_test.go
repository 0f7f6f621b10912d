package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestProjectsAPI: every project route, with ZITADEL's shapes, error IDs
// and permission answers.
func TestProjectsAPI(t *testing.T) {
	env := apptest.New(t)
	pat, org := env.AdminPAT, env.DefaultOrgID
	other := env.CreateOrg(t, "other")
	_, nobody := env.CreateMachineWithPAT(t, org)
	umID, um := env.CreateMachineWithPAT(t, org)
	env.Grant(t, umID, org, "ORG_USER_MANAGER")
	_, owner := env.CreateOrgOwner(t, org)
	const base = "/management/v1/projects"

	res := plDo(t, env, owner, "POST", base, `{"name":"Shop","projectRoleCheck":true,"privateLabelingSetting":"PRIVATE_LABELING_SETTING_ENFORCE_PROJECT_RESOURCE_OWNER_POLICY"}`).ok(t)
	if got := plKeys(t, res, "details"); got != "creationDate,resourceOwner,sequence" {
		t.Fatalf("details %s", got)
	}
	id := res["id"].(string)
	if res["details"].(map[string]any)["resourceOwner"] != org {
		t.Fatalf("add = %v", res)
	}
	plDo(t, env, owner, "POST", base, `{"name":""}`).failsWith(t, "invalid AddProjectRequest.Name: value length must be between 1 and 200 runes, inclusive")
	plDo(t, env, owner, "POST", base, `{"name":`).fails(t, 400, 3, "")
	plDo(t, env, owner, "POST", base, `{"name":"Shop"}`).fails(t, 409, 6, "PROJECT-nmTkn")
	plDo(t, env, nobody, "POST", base, `{"name":"x"}`).fails(t, 404, 5, "AUTHZ-cdgFk")
	plDo(t, env, um, "POST", base, `{"name":"x"}`).fails(t, 403, 7, "AUTH-5mWD2")
	// Permission comes before the body's validation.
	plDo(t, env, um, "POST", base, `{"name":""}`).fails(t, 403, 7, "AUTH-5mWD2")
	otherID := plDo(t, env, pat, "POST", base, `{"name":"Shop"}`, "x-zitadel-orgid", other).ok(t)["id"].(string)

	p := plDo(t, env, owner, "GET", base+"/"+id, nil).ok(t)["project"].(map[string]any)
	if p["name"] != "Shop" || p["state"] != "PROJECT_STATE_ACTIVE" || p["projectRoleCheck"] != true || p["projectRoleAssertion"] != nil ||
		p["privateLabelingSetting"] != "PRIVATE_LABELING_SETTING_ENFORCE_PROJECT_RESOURCE_OWNER_POLICY" {
		t.Fatalf("project = %v", p)
	}
	plDo(t, env, owner, "GET", base+"/"+otherID, nil).fails(t, 404, 5, "QUERY-PrjNF")
	plDo(t, env, um, "GET", base+"/"+id, nil).fails(t, 403, 7, "AUTH-5mWD2")
	plDo(t, env, owner, "PUT", base+"/"+id, `{"name":"Shop 2","hasProjectCheck":true}`).ok(t)
	plDo(t, env, owner, "PUT", base+"/"+id, `{"name":"Shop 2","hasProjectCheck":true}`).fails(t, 400, 9, "COMMAND-2M0fs")
	plDo(t, env, owner, "PUT", base+"/"+otherID, `{"name":"x"}`).fails(t, 404, 5, "COMMAND-3M9sd")
	plDo(t, env, owner, "PUT", base+"/"+id, `{"name":" "}`).failsWith(t, "invalid UpdateProjectRequest.Name: value length must be between 1 and 200 runes, inclusive")
	list := plDo(t, env, owner, "POST", base+"/_search", `{"queries":[{"nameQuery":{"name":"shop","method":"TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]}`).ok(t)
	if list["details"].(map[string]any)["totalResult"] != "1" || len(list["result"].([]any)) != 1 {
		t.Fatalf("list = %v", list)
	}

	// Apps.
	apps := base + "/" + id + "/apps"
	web := plDo(t, env, owner, "POST", apps+"/oidc", map[string]any{"name": "web", "redirectUris": []string{"https://shop.example/cb"},
		"responseTypes": []string{"OIDC_RESPONSE_TYPE_CODE"}, "grantTypes": []string{"OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"},
		"appType": "OIDC_APP_TYPE_WEB", "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC", "clockSkew": "2s", "devMode": true,
		"additionalOrigins": []string{"https://other.example"}, "loginVersion": map[string]any{"loginV2": map[string]any{"baseUri": "https://login.example"}}}).ok(t)
	appID, clientID, secret := web["appId"].(string), web["clientId"].(string), web["clientSecret"].(string)
	if appID == "" || clientID == "" || len(secret) != 64 || web["noneCompliant"] != nil || web["complianceProblems"] != nil {
		t.Fatalf("added = %v", web)
	}
	if err := env.App.Commands().CheckClientSecret(context.Background(), env.InstanceID, clientID, secret); err != nil {
		t.Fatalf("the shown secret fails: %v", err)
	}
	if err := env.App.Commands().CheckClientSecret(context.Background(), env.InstanceID, clientID, "wrong"); err == nil {
		t.Fatal("a wrong secret passed")
	}
	got := plDo(t, env, owner, "GET", apps+"/"+appID, nil)
	if strings.Contains(string(got.raw), secret) || strings.Contains(string(got.raw), "argon2") {
		t.Fatalf("GetAppByID shows the secret: %s", got.raw)
	}
	app := got.ok(t)["app"].(map[string]any)
	oc := app["oidcConfig"].(map[string]any)
	if app["state"] != "APP_STATE_ACTIVE" || app["name"] != "web" || oc["clientId"] != clientID || oc["clockSkew"] != "2s" ||
		oc["devMode"] != true || oc["authMethodType"] != nil || oc["appType"] != nil ||
		!slices.Equal(anyStrings(oc["grantTypes"]), []string{"OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"}) ||
		!slices.Equal(anyStrings(oc["allowedOrigins"]), []string{"https://shop.example", "https://other.example"}) ||
		oc["loginVersion"].(map[string]any)["loginV2"].(map[string]any)["baseUri"] != "https://login.example" {
		t.Fatalf("app = %v", app)
	}
	if got := plKeys(t, app, "details"); got != "changeDate,creationDate,resourceOwner,sequence" {
		t.Fatalf("app details %s", got)
	}

	// Defaults: no response or grant types mean code and authorization_code.
	def := plDo(t, env, owner, "POST", apps+"/oidc", `{"name":"native","appType":"OIDC_APP_TYPE_NATIVE","authMethodType":"OIDC_AUTH_METHOD_TYPE_NONE","redirectUris":["myapp://cb","http://localhost:3000/cb"]}`).ok(t)
	if def["clientSecret"] != nil || def["noneCompliant"] != nil {
		t.Fatalf("native = %v", def)
	}
	oc = plDo(t, env, owner, "GET", apps+"/"+def["appId"].(string), nil).ok(t)["app"].(map[string]any)["oidcConfig"].(map[string]any)
	if !slices.Equal(anyStrings(oc["responseTypes"]), []string{"OIDC_RESPONSE_TYPE_CODE"}) || oc["clockSkew"] != "0s" {
		t.Fatalf("defaults = %v", oc)
	}

	// Compliance problems are reported, never refused.
	for _, tc := range []struct {
		body string
		want string
	}{
		{`{"name":"a"}`, "Application.OIDC.V1.NoRedirectUris"},
		{`{"name":"a","redirectUris":["http://spa.example"],"appType":"OIDC_APP_TYPE_USER_AGENT","authMethodType":"OIDC_AUTH_METHOD_TYPE_NONE"}`, "Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb"},
		{`{"name":"a","redirectUris":["https://spa.example"],"appType":"OIDC_APP_TYPE_USER_AGENT"}`, "Application.OIDC.V1.UserAgent.AuthMethodType.NotNone"},
		{`{"name":"a","redirectUris":["myapp://cb"],"appType":"OIDC_APP_TYPE_NATIVE"}`, "Application.OIDC.V1.Native.AuthMethodType.NotNone"},
		{`{"name":"a","redirectUris":["http://app.example/cb"],"appType":"OIDC_APP_TYPE_NATIVE","authMethodType":"OIDC_AUTH_METHOD_TYPE_NONE"}`, "Application.OIDC.V1.Native.RedirectUris.MustBeHttpLocalhost"},
		{`{"name":"a","redirectUris":["myapp://cb"]}`, "Application.OIDC.V1.Code.RedirectUris.CustomOnlyForNative"},
		{`{"name":"a","redirectUris":["myapp://cb"],"responseTypes":["OIDC_RESPONSE_TYPE_ID_TOKEN"],"grantTypes":["OIDC_GRANT_TYPE_IMPLICIT"],"appType":"OIDC_APP_TYPE_USER_AGENT","authMethodType":"OIDC_AUTH_METHOD_TYPE_NONE"}`, "Application.OIDC.V1.Implicit.RedirectUris.CustomNotAllowed"},
		{`{"name":"a","redirectUris":["http://a.example"],"responseTypes":["OIDC_RESPONSE_TYPE_ID_TOKEN_TOKEN"],"grantTypes":["OIDC_GRANT_TYPE_IMPLICIT"],"appType":"OIDC_APP_TYPE_USER_AGENT","authMethodType":"OIDC_AUTH_METHOD_TYPE_NONE"}`, "Application.OIDC.V1.Implicit.RedirectUris.HttpNotAllowed"},
		{`{"name":"a","redirectUris":["https://a.example"],"responseTypes":["OIDC_RESPONSE_TYPE_ID_TOKEN"],"grantTypes":["OIDC_GRANT_TYPE_IMPLICIT","OIDC_GRANT_TYPE_REFRESH_TOKEN"]}`, "Application.OIDC.V1.GrantType.Refresh.NoAuthCode"},
	} {
		res := plDo(t, env, owner, "POST", apps+"/oidc", tc.body).ok(t)
		var keys []string
		for _, p := range res["complianceProblems"].([]any) {
			m := p.(map[string]any)
			if m["localizedMessage"] == "" || m["localizedMessage"] == m["key"] {
				t.Errorf("%s: no text for %v", tc.want, m)
			}
			keys = append(keys, m["key"].(string))
		}
		if res["noneCompliant"] != true || keys[0] != "Application.OIDC.V1.NotCompliant" || !slices.Contains(keys, tc.want) {
			t.Errorf("%s: got %v", tc.want, res)
		}
		// The read shows the same report.
		oc := plDo(t, env, owner, "GET", apps+"/"+res["appId"].(string), nil).ok(t)["app"].(map[string]any)["oidcConfig"].(map[string]any)
		if oc["noneCompliant"] != true || len(oc["complianceProblems"].([]any)) != len(keys) {
			t.Errorf("%s: read %v", tc.want, oc)
		}
	}

	// Invalid configs are refused, in ZITADEL's order.
	plDo(t, env, owner, "POST", apps+"/oidc", `{"name":"a","clockSkew":"6s"}`).failsWith(t, "invalid AddOIDCAppRequest.ClockSkew: value must be inside range [0s, 5s]")
	plDo(t, env, owner, "POST", apps+"/oidc", `{"name":""}`).failsWith(t, "invalid AddOIDCAppRequest.Name: value length must be between 1 and 200 runes, inclusive")
	plDo(t, env, owner, "POST", apps+"/oidc", `{"name":"a","responseTypes":["OIDC_RESPONSE_TYPE_ID_TOKEN"]}`).fails(t, 400, 3, "PROJECT-1n8df")
	plDo(t, env, owner, "POST", apps+"/oidc", `{"name":"a","additionalOrigins":["not an origin"]}`).fails(t, 400, 3, "PROJECT-1n8df")
	plDo(t, env, owner, "POST", apps+"/oidc", `{"name":"a","appType":"NOPE"}`).fails(t, 400, 3, "")
	plDo(t, env, owner, "POST", base+"/"+otherID+"/apps/oidc", `{"name":"a"}`).fails(t, 400, 9, "COMMA-VCnwD")
	plDo(t, env, um, "POST", apps+"/oidc", `{"name":"a"}`).fails(t, 403, 7, "AUTH-5mWD2")
	plDo(t, env, nobody, "POST", apps+"/oidc", `{"name":"a"}`).fails(t, 404, 5, "AUTHZ-cdgFk")

	// API apps.
	api := plDo(t, env, owner, "POST", apps+"/api", `{"name":"backend"}`).ok(t)
	if len(api["clientSecret"].(string)) != 64 || api["clientId"] == "" {
		t.Fatalf("api app = %v", api)
	}
	jwtAPI := plDo(t, env, owner, "POST", apps+"/api", `{"name":"backend2","authMethodType":"API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}`).ok(t)
	if jwtAPI["clientSecret"] != nil {
		t.Fatalf("private_key_jwt app has a secret: %v", jwtAPI)
	}
	ac := plDo(t, env, owner, "GET", apps+"/"+jwtAPI["appId"].(string), nil).ok(t)["app"].(map[string]any)["apiConfig"].(map[string]any)
	if ac["authMethodType"] != "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT" || ac["clientId"] != jwtAPI["clientId"] {
		t.Fatalf("api config = %v", ac)
	}
	plDo(t, env, owner, "POST", apps+"/api", `{"name":""}`).failsWith(t, "invalid AddAPIAppRequest.Name: value length must be between 1 and 200 runes, inclusive")

	// Update, regenerate.
	cfg := apps + "/" + appID + "/oidc_config"
	plDo(t, env, owner, "PUT", cfg, `{"redirectUris":["https://shop.example/cb2"],"grantTypes":["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"]}`).ok(t)
	plDo(t, env, owner, "PUT", cfg, `{"redirectUris":["https://shop.example/cb2"],"grantTypes":["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"]}`).fails(t, 400, 9, "COMMAND-1m88i")
	plDo(t, env, owner, "PUT", cfg, `{"responseTypes":["OIDC_RESPONSE_TYPE_ID_TOKEN"]}`).fails(t, 400, 3, "COMMAND-5m9fs")
	plDo(t, env, owner, "PUT", apps+"/"+api["appId"].(string)+"/oidc_config", `{"redirectUris":["https://x.example"]}`).fails(t, 400, 3, "COMMAND-GBr34")
	plDo(t, env, owner, "PUT", apps+"/nope/oidc_config", `{}`).fails(t, 404, 5, "COMMAND-2n8uU")
	plDo(t, env, um, "PUT", cfg, `{}`).fails(t, 403, 7, "AUTH-5mWD2")
	oc = plDo(t, env, owner, "GET", apps+"/"+appID, nil).ok(t)["app"].(map[string]any)["oidcConfig"].(map[string]any)
	if !slices.Equal(anyStrings(oc["redirectUris"]), []string{"https://shop.example/cb2"}) || oc["devMode"] != nil {
		t.Fatalf("updated = %v", oc)
	}
	// The secret survived the update.
	if err := env.App.Commands().CheckClientSecret(context.Background(), env.InstanceID, clientID, secret); err != nil {
		t.Fatalf("the secret after an update: %v", err)
	}
	regen := plDo(t, env, owner, "POST", cfg+"/_generate_client_secret", `{}`).ok(t)
	newSecret := regen["clientSecret"].(string)
	if len(newSecret) != 64 || newSecret == secret || plKeys(t, regen, "details") != "changeDate,resourceOwner,sequence" {
		t.Fatalf("regenerated = %v", regen)
	}
	if env.App.Commands().CheckClientSecret(context.Background(), env.InstanceID, clientID, secret) == nil {
		t.Fatal("the old secret still works")
	}
	if err := env.App.Commands().CheckClientSecret(context.Background(), env.InstanceID, clientID, newSecret); err != nil {
		t.Fatalf("the new secret: %v", err)
	}
	plDo(t, env, owner, "POST", apps+"/"+api["appId"].(string)+"/oidc_config/_generate_client_secret", `{}`).fails(t, 400, 3, "COMMAND-Ghrh3")
	plDo(t, env, owner, "POST", base+"/"+otherID+"/apps/"+appID+"/oidc_config/_generate_client_secret", `{}`).fails(t, 404, 5, "COMMAND-2g66f")

	// Neither list nor read shows any secret.
	all := plDo(t, env, owner, "POST", apps+"/_search", `{"query":{"limit":100}}`)
	for _, s := range []string{secret, newSecret, api["clientSecret"].(string), "argon2"} {
		if strings.Contains(string(all.raw), s) {
			t.Fatalf("ListApps shows a secret")
		}
	}
	if n := all.ok(t)["details"].(map[string]any)["totalResult"]; n != "13" {
		t.Fatalf("%v apps listed", n)
	}
	byName := plDo(t, env, owner, "POST", apps+"/_search", `{"queries":[{"nameQuery":{"name":"backend","method":"TEXT_QUERY_METHOD_STARTS_WITH"}}]}`).ok(t)
	if byName["details"].(map[string]any)["totalResult"] != "2" {
		t.Fatalf("by name = %v", byName)
	}
	plDo(t, env, um, "POST", apps+"/_search", `{}`).fails(t, 403, 7, "AUTH-5mWD2")
	// Another org's context sees none of them.
	if n := plDo(t, env, pat, "POST", apps+"/_search", `{}`, "x-zitadel-orgid", other).ok(t)["details"].(map[string]any)["totalResult"]; n != nil {
		t.Fatalf("another org lists %v apps", n)
	}
	plDo(t, env, pat, "GET", apps+"/"+appID, nil, "x-zitadel-orgid", other).fails(t, 404, 5, "QUERY-AppNF")

	// Removal.
	plDo(t, env, um, "DELETE", apps+"/"+appID, nil).fails(t, 403, 7, "AUTH-5mWD2")
	plDo(t, env, owner, "DELETE", apps+"/"+appID, nil).ok(t)
	plDo(t, env, owner, "DELETE", apps+"/"+appID, nil).fails(t, 404, 5, "COMMAND-0po9s")
	plDo(t, env, owner, "GET", apps+"/"+appID, nil).fails(t, 404, 5, "QUERY-AppNF")
	if env.App.Commands().CheckClientSecret(context.Background(), env.InstanceID, clientID, newSecret) == nil {
		t.Fatal("a removed app's secret works")
	}
	plDo(t, env, owner, "DELETE", base+"/"+otherID, nil).fails(t, 404, 5, "COMMAND-3M9sd")
	plDo(t, env, um, "DELETE", base+"/"+id, nil).fails(t, 403, 7, "AUTH-5mWD2")
	plDo(t, env, owner, "DELETE", base+"/"+id, nil).ok(t)
	plDo(t, env, owner, "GET", base+"/"+id, nil).fails(t, 404, 5, "QUERY-PrjNF")
	if n := plDo(t, env, owner, "POST", apps+"/_search", `{}`).ok(t)["details"].(map[string]any)["totalResult"]; n != nil {
		t.Fatalf("a removed project lists %v apps", n)
	}
	if status, _ := env.Do(t, "GET", base+"/"+id+"/apps/x/y", nil); status != http.StatusNotFound {
		t.Fatalf("unknown route: %d", status)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
