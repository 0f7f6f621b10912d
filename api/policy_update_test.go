package api_test

import (
	"net/http"
	"testing"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestUpdateLoginPolicies: PUT /admin/v1/policies/login and PUT
// /management/v1/policies/login replace every switch and lifetime, keep the
// factors and IdPs, and answer ZITADEL's errors.
func TestUpdateLoginPolicies(t *testing.T) {
	env := apptest.New(t)
	pat := env.AdminPAT
	const admin, mgmt = "/admin/v1/policies/login", "/management/v1/policies/login"
	full := map[string]any{"allowUsernamePassword": true, "allowRegister": false, "allowExternalIdp": true,
		"forceMfa": true, "forceMfaLocalOnly": true, "passwordlessType": "PASSWORDLESS_TYPE_NOT_ALLOWED",
		"hidePasswordReset": true, "ignoreUnknownUsernames": true, "defaultRedirectUri": "https://app.example/home",
		"passwordCheckLifetime": "3600s", "externalLoginCheckLifetime": "7200s", "mfaInitSkipLifetime": "0s",
		"secondFactorCheckLifetime": "1.500s", "multiFactorCheckLifetime": "60s",
		"allowDomainDiscovery": true, "disableLoginWithEmail": true, "disableLoginWithPhone": true}

	res := plDo(t, env, pat, "PUT", admin, full).ok(t)
	if got := plKeys(t, res, "details"); got != "changeDate,resourceOwner,sequence" {
		t.Fatalf("details keys %s: %v", got, res)
	}
	det := res["details"].(map[string]any)
	pol := plDo(t, env, pat, "GET", admin, nil).ok(t)["policy"].(map[string]any)
	pd := pol["details"].(map[string]any)
	if pd["sequence"] != det["sequence"] || pd["changeDate"] != det["changeDate"] || det["resourceOwner"] != env.InstanceID {
		t.Fatalf("details %v, read %v", det, pd)
	}
	for k, v := range full {
		want := v
		if v == false || k == "passwordlessType" { // the zero values are left out
			want = nil
		}
		if pol[k] != want {
			t.Errorf("%s = %v, want %v", k, pol[k], want)
		}
	}
	if f, ok := pol["secondFactors"].([]any); !ok || len(f) != 2 {
		t.Errorf("second factors not kept: %v", pol["secondFactors"])
	}

	// Errors, in check order: permission, PGV, redirect URI, unchanged.
	_, orgOwner := env.CreateOrgOwner(t, env.DefaultOrgID)
	plDo(t, env, orgOwner, "PUT", admin, full).fails(t, 403, 7, "AUTH-5mWD2")
	_, nobody := env.CreateMachineWithPAT(t, env.DefaultOrgID)
	plDo(t, env, nobody, "PUT", admin, full).fails(t, 404, 5, "AUTHZ-cdgFk")
	plDo(t, env, pat, "PUT", admin, map[string]any{"passwordlessType": 7}).fails(t, 400, 3, "")
	plDo(t, env, pat, "PUT", admin, map[string]any{"passwordlessType": "PASSWORDLESS_TYPE_SOMETIMES"}).fails(t, 400, 3, "")
	plDo(t, env, pat, "PUT", admin, map[string]any{"passwordCheckLifetime": "ten days"}).fails(t, 400, 3, "")
	plDo(t, env, pat, "PUT", admin, map[string]any{"defaultRedirectUri": "https://"}).fails(t, 400, 3, "IAM-SFdqd")
	c := plDo(t, env, pat, "PUT", admin, full)
	c.fails(t, 400, 9, "INSTANCE-5M9vdd")
	if c.body["message"] != "Default Login Policy has not been changed (INSTANCE-5M9vdd)" {
		t.Fatalf("message %v", c.body["message"])
	}

	// Management: the org's custom policy only.
	org := env.CreateOrg(t, "custom")
	hdr := []string{"x-zitadel-orgid", org}
	plDo(t, env, pat, "PUT", mgmt, full, hdr...).fails(t, 404, 5, "Org-M0sif")
	plDo(t, env, pat, "POST", mgmt, map[string]any{"allowExternalIdp": true, "secondFactors": []string{"SECOND_FACTOR_TYPE_U2F"}}, hdr...).ok(t)
	_, otherOwner := env.CreateOrgOwner(t, env.DefaultOrgID)
	plDo(t, env, otherOwner, "PUT", mgmt, full, hdr...).fails(t, 403, 7, "AUTH-5mWD2")
	plDo(t, env, pat, "PUT", mgmt, map[string]any{"defaultRedirectUri": "relative"}, hdr...).fails(t, 400, 3, "Org-Sfd21")
	plDo(t, env, pat, "PUT", mgmt, map[string]any{"allowExternalIdp": true}, hdr...).fails(t, 400, 9, "Org-5M9vdd")
	plDo(t, env, pat, "PUT", mgmt, map[string]any{"allowRegister": true}, hdr...).ok(t)
	got := plDo(t, env, pat, "GET", mgmt, nil, hdr...).ok(t)
	p := got["policy"].(map[string]any)
	if got["isDefault"] != nil || p["allowRegister"] != true || p["allowExternalIdp"] != nil || p["secondFactors"].([]any)[0] != "SECOND_FACTOR_TYPE_U2F" {
		t.Fatalf("custom policy = %v", got)
	}
	// The default is untouched by the org's update.
	if pol := plDo(t, env, pat, "GET", admin, nil).ok(t)["policy"].(map[string]any); pol["allowRegister"] != nil {
		t.Fatalf("default changed: %v", pol)
	}
	// AddCustomLoginPolicy takes the same switches and the same enum rule.
	plDo(t, env, pat, "DELETE", mgmt, nil, hdr...).ok(t)
	plDo(t, env, pat, "POST", mgmt, map[string]any{"passwordlessType": 3}, hdr...).fails(t, 400, 3, "")
	plDo(t, env, pat, "POST", mgmt, full, hdr...).ok(t)
	if p := plDo(t, env, pat, "GET", mgmt, nil, hdr...).ok(t)["policy"].(map[string]any); p["disableLoginWithPhone"] != true ||
		p["secondFactorCheckLifetime"] != "1.500s" {
		t.Fatalf("added policy = %v", p)
	}
	if st, _ := env.Do(t, "PUT", mgmt, full, hdr...); st != http.StatusBadRequest {
		t.Fatalf("same policy again: %d", st)
	}
}
