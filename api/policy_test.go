package api_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/idledger/idledger/internal/app/apptest"
)

// plCall is one request as a given token, decoded.
type plCall struct {
	status int
	raw    []byte
	body   map[string]any
}

func plDo(t *testing.T, env *apptest.Env, pat, method, path string, body any, headers ...string) plCall {
	t.Helper()
	status, raw := env.DoAs(t, pat, method, path, body, headers...)
	c := plCall{status: status, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &c.body); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return c
}

// ok fails unless the call answered 200, and returns the body.
func (c plCall) ok(t *testing.T) map[string]any {
	t.Helper()
	if c.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", c.status, c.raw)
	}
	return c.body
}

// fails asserts an error status, gRPC code and error ID ("" = none).
func (c plCall) fails(t *testing.T, status, code int, id string) {
	t.Helper()
	if c.status != status || apptest.ErrorID(c.raw) != id || int(c.body["code"].(float64)) != code {
		t.Fatalf("got %d %s, want %d code %d id %q", c.status, c.raw, status, code, id)
	}
}

// failsWith asserts a 400 InvalidArgument without ID and with message msg.
func (c plCall) failsWith(t *testing.T, msg string) {
	t.Helper()
	c.fails(t, http.StatusBadRequest, 3, "")
	if c.body["message"] != msg {
		t.Fatalf("message %q, want %q", c.body["message"], msg)
	}
}

// plKeys returns the sorted keys of m[key].
func plKeys(t *testing.T, m map[string]any, key string) string {
	t.Helper()
	inner, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("no object %q in %v", key, m)
	}
	var ks []string
	for k := range inner {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// plIDP creates an IdP of kind as the admin: of the instance (org "") or of
// org, and returns its ID.
func plIDP(t *testing.T, env *apptest.Env, org, kind, body string) string {
	t.Helper()
	prefix, headers := "/admin/v1", []string(nil)
	if org != "" {
		prefix, headers = "/management/v1", []string{"x-zitadel-orgid", org}
	}
	m := env.MustDo(t, http.StatusOK, "POST", prefix+"/idps/"+kind, body, headers...)
	return m["id"].(string)
}

const (
	googleBody = `{"clientId":"cid","clientSecret":"secret"}`
	oidcBody   = `{"name":"Corp OIDC","issuer":"https://issuer.example","clientId":"cid","clientSecret":"secret"}`
)

// seedHeaders are the headers the seeds' curl examples send (besides
// Authorization, which the harness sets).
var seedHeaders = []string{"Content-Type", "application/json", "Accept", "application/json"}

// TestSeedAdminAddIDPToLoginPolicy runs seed 002 (POST
// /admin/v1/policies/login/idps) and every error row of reference §2.
func TestSeedAdminAddIDPToLoginPolicy(t *testing.T) {
	env := apptest.New(t)
	pat := env.AdminPAT
	instIDP, oidcIDP, orgIDP := plIDP(t, env, "", "google", googleBody), plIDP(t, env, "", "generic_oidc", oidcBody),
		plIDP(t, env, env.DefaultOrgID, "google", googleBody)
	const path = "/admin/v1/policies/login/idps"

	// The seed's request: body {"idpId": …}, JSON headers.
	res := plDo(t, env, pat, "POST", path, `{"idpId": "`+instIDP+`"}`, seedHeaders...).ok(t)
	if got := plKeys(t, res, "details"); got != "creationDate,resourceOwner,sequence" {
		t.Fatalf("details keys %s: %v", got, res)
	}
	det := res["details"].(map[string]any)
	if det["resourceOwner"] != env.InstanceID || det["sequence"] != "2" {
		t.Fatalf("details = %v", det)
	}

	// Error rows, in check order.
	plDo(t, env, pat, "POST", path, `{}`).failsWith(t, "invalid AddIDPToLoginPolicyRequest.IdpId: value length must be between 1 and 200 runes, inclusive")
	plDo(t, env, pat, "POST", path, map[string]any{"idpId": strings.Repeat("9", 201)}).failsWith(t,
		"invalid AddIDPToLoginPolicyRequest.IdpId: value length must be between 1 and 200 runes, inclusive")
	nobodyID, nobody := env.CreateMachineWithPAT(t, env.DefaultOrgID)
	plDo(t, env, nobody, "POST", path, map[string]any{"idpId": instIDP}).fails(t, 404, 5, "AUTHZ-cdgFk")
	_, orgOwner := env.CreateOrgOwner(t, env.DefaultOrgID)
	plDo(t, env, orgOwner, "POST", path, map[string]any{"idpId": instIDP}).fails(t, 403, 7, "AUTH-5mWD2")
	for _, id := range []string{"0", orgIDP} {
		plDo(t, env, pat, "POST", path, map[string]any{"idpId": id}).fails(t, 400, 9, "INSTANCE-m8fsd")
	}
	plDo(t, env, pat, "POST", path, map[string]any{"idp_id": instIDP}).fails(t, 409, 6, "INSTANCE-2B0ps")
	_ = nobodyID

	// Read back: the policy and the list, with names and v1 types.
	plDo(t, env, pat, "POST", path, map[string]any{"idpId": oidcIDP}).ok(t)
	pol := plDo(t, env, pat, "GET", "/admin/v1/policies/login", nil).ok(t)["policy"].(map[string]any)
	if pol["isDefault"] != true || pol["allowUsernamePassword"] != true || pol["passwordCheckLifetime"] != "864000s" ||
		pol["details"].(map[string]any)["resourceOwner"] != env.InstanceID || len(pol["idps"].([]any)) != 2 {
		t.Fatalf("policy = %v", pol)
	}
	list := plDo(t, env, pat, "POST", path+"/_search", `{"query":{}}`).ok(t)
	want := `[{"idpId":"` + instIDP + `","idpName":"Google"},{"idpId":"` + oidcIDP + `","idpName":"Corp OIDC","idpType":"IDP_TYPE_OIDC"}]`
	if got, _ := json.Marshal(list["result"]); string(got) != want {
		t.Fatalf("result = %s, want %s", got, want)
	}
	if d := list["details"].(map[string]any); d["totalResult"] != "2" || d["viewTimestamp"] == nil {
		t.Fatalf("list details = %v", d)
	}

	// Remove: 404 when not linked; a removed link can be added again.
	rm := plDo(t, env, pat, "DELETE", path+"/"+instIDP, nil).ok(t)
	if got := plKeys(t, rm, "details"); got != "changeDate,resourceOwner,sequence" {
		t.Fatalf("remove details %s", got)
	}
	plDo(t, env, pat, "DELETE", path+"/"+instIDP, nil).fails(t, 404, 5, "INSTANCE-39fjs")
	plDo(t, env, pat, "POST", path, map[string]any{"idpId": instIDP}).ok(t)
	plDo(t, env, orgOwner, "GET", "/admin/v1/policies/login", nil).fails(t, 403, 7, "AUTH-5mWD2")
}

// TestSeedManagementAddIDPToLoginPolicy runs seed 003 (POST
// /management/v1/policies/login/idps with x-zitadel-orgid and ownerType)
// and every error row of reference §3, plus the custom policy endpoints.
func TestSeedManagementAddIDPToLoginPolicy(t *testing.T) {
	env := apptest.New(t)
	pat := env.AdminPAT
	org, other := env.CreateOrg(t, "acme"), env.CreateOrg(t, "other")
	instIDP, orgIDP, otherIDP := plIDP(t, env, "", "google", googleBody), plIDP(t, env, org, "generic_oidc", oidcBody),
		plIDP(t, env, other, "google", googleBody)
	const path = "/management/v1/policies/login/idps"
	h := append([]string{"x-zitadel-orgid", org}, seedHeaders...)
	seedBody := `{"idpId": "` + orgIDP + `", "ownerType": "IDP_OWNER_TYPE_ORG"}`

	// The org inherits the default: 404 before any IdP check.
	plDo(t, env, pat, "POST", path, seedBody, h...).fails(t, 404, 5, "Org-Ffgw2")
	plDo(t, env, pat, "POST", path, `{"idpId":"0","ownerType":"IDP_OWNER_TYPE_ORG"}`, h...).fails(t, 404, 5, "Org-Ffgw2")
	got := plDo(t, env, pat, "GET", "/management/v1/policies/login", nil, h...).ok(t)
	if got["isDefault"] != true || got["policy"].(map[string]any)["isDefault"] != true {
		t.Fatalf("inherited policy = %v", got)
	}
	plDo(t, env, pat, "DELETE", "/management/v1/policies/login", nil, h...).fails(t, 404, 5, "Org-GHB37")

	// A custom policy, then the seed's request.
	plDo(t, env, pat, "POST", "/management/v1/policies/login",
		`{"allowUsernamePassword":true,"idps":[{"idpId":"0","ownerType":"IDP_OWNER_TYPE_SYSTEM"}]}`, h...).fails(t, 400, 9, "Org-FEd32")
	add := plDo(t, env, pat, "POST", "/management/v1/policies/login", `{"allowUsernamePassword":true,"allowRegister":true,
		"passwordlessType":"PASSWORDLESS_TYPE_ALLOWED","passwordCheckLifetime":"3600s","secondFactors":["SECOND_FACTOR_TYPE_OTP"],
		"idps":[{"idpId":"`+instIDP+`","ownerType":"IDP_OWNER_TYPE_SYSTEM"}]}`, h...).ok(t)
	if add["details"].(map[string]any)["resourceOwner"] != org {
		t.Fatalf("add custom = %v", add)
	}
	plDo(t, env, pat, "POST", "/management/v1/policies/login", `{}`, h...).fails(t, 409, 6, "Org-Dgfb2")

	res := plDo(t, env, pat, "POST", path, seedBody, h...).ok(t)
	if got := plKeys(t, res, "details"); got != "creationDate,resourceOwner,sequence" {
		t.Fatalf("details keys %s", got)
	}
	if d := res["details"].(map[string]any); d["resourceOwner"] != org || d["sequence"] != "3" {
		t.Fatalf("details = %v", d)
	}

	// Error rows.
	for body, msg := range map[string]string{
		`{"idpId":"` + orgIDP + `"}`:                                          "invalid AddIDPToLoginPolicyRequest.OwnerType: value must not be in list [0]",
		`{"idpId":"` + orgIDP + `","ownerType":"IDP_OWNER_TYPE_UNSPECIFIED"}`: "invalid AddIDPToLoginPolicyRequest.OwnerType: value must not be in list [0]",
		`{"idpId":"` + orgIDP + `","ownerType":7}`:                            "invalid AddIDPToLoginPolicyRequest.OwnerType: value must be one of the defined enum values",
		`{"idpId":"","ownerType":"IDP_OWNER_TYPE_ORG"}`:                       "invalid AddIDPToLoginPolicyRequest.IdpId: value length must be between 1 and 200 runes, inclusive",
	} {
		plDo(t, env, pat, "POST", path, body, h...).failsWith(t, msg)
	}
	for _, body := range []string{
		`{"idpId":"0","ownerType":"IDP_OWNER_TYPE_ORG"}`,
		`{"idpId":"` + instIDP + `","ownerType":"IDP_OWNER_TYPE_ORG"}`,
		`{"idpId":"` + orgIDP + `","ownerType":"IDP_OWNER_TYPE_SYSTEM"}`,
		`{"idpId":"` + otherIDP + `","ownerType":"IDP_OWNER_TYPE_ORG"}`,
		`{"idpId":"` + otherIDP + `","ownerType":2}`,
	} {
		plDo(t, env, pat, "POST", path, body, h...).fails(t, 400, 9, "Org-3N9fs")
	}
	plDo(t, env, pat, "POST", path, seedBody, h...).fails(t, 409, 6, "Org-2B0ps")
	_, otherOwner := env.CreateOrgOwner(t, other)
	plDo(t, env, otherOwner, "POST", path, seedBody, "x-zitadel-orgid", org).fails(t, 403, 7, "AUTH-5mWD2")
	plDo(t, env, pat, "POST", path, seedBody, "x-zitadel-orgid", "404404").fails(t, 403, 7, "AUTH-Bs7Ds")

	// Reads: the custom policy and its links; another org falls back.
	got = plDo(t, env, pat, "GET", "/management/v1/policies/login", nil, h...).ok(t)
	pol := got["policy"].(map[string]any)
	if got["isDefault"] != nil || pol["isDefault"] != nil || pol["passwordCheckLifetime"] != "3600s" ||
		pol["passwordlessType"] != "PASSWORDLESS_TYPE_ALLOWED" || pol["allowExternalIdp"] != nil || len(pol["idps"].([]any)) != 2 {
		t.Fatalf("custom policy = %v", got)
	}
	list := plDo(t, env, pat, "POST", path+"/_search", `{}`, h...).ok(t)
	want := `[{"idpId":"` + instIDP + `","idpName":"Google"},{"idpId":"` + orgIDP + `","idpName":"Corp OIDC","idpType":"IDP_TYPE_OIDC"}]`
	if b, _ := json.Marshal(list["result"]); string(b) != want {
		t.Fatalf("result = %s, want %s", b, want)
	}
	plDo(t, env, pat, "POST", "/admin/v1/policies/login/idps", map[string]any{"idpId": instIDP}).ok(t)
	fallback := plDo(t, env, pat, "POST", path+"/_search", `{}`, "x-zitadel-orgid", other).ok(t)
	if b, _ := json.Marshal(fallback["result"]); string(b) != `[{"idpId":"`+instIDP+`","idpName":"Google"}]` {
		t.Fatalf("fallback result = %s", b)
	}

	// Remove a link, re-add it, then reset to the default.
	plDo(t, env, pat, "DELETE", path+"/"+orgIDP, nil, h...).ok(t)
	plDo(t, env, pat, "DELETE", path+"/"+orgIDP, nil, h...).fails(t, 404, 5, "Org-39fjs")
	plDo(t, env, pat, "POST", path, seedBody, h...).ok(t)
	plDo(t, env, pat, "DELETE", "/management/v1/policies/login", nil, h...).ok(t)
	plDo(t, env, pat, "DELETE", path+"/"+orgIDP, nil, h...).fails(t, 404, 5, "Org-GVDfe")
	plDo(t, env, pat, "POST", path, seedBody, h...).fails(t, 404, 5, "Org-Ffgw2")
}

// TestPolicyLinkRemovalCascades: removing an IdP from a login policy
// removes the user links to it in the same transaction: the org's users
// for management, every user for admin.
func TestPolicyLinkRemovalCascades(t *testing.T) {
	env := apptest.New(t)
	pat := env.AdminPAT
	org, other := env.CreateOrg(t, "acme"), env.CreateOrg(t, "other")
	idpID := plIDP(t, env, "", "google", googleBody)
	alice, bob := env.CreateHuman(t, org, "alice"), env.CreateHuman(t, other, "bob")
	for user, ext := range map[string]string{alice: "ext-alice", bob: "ext-bob"} {
		plDo(t, env, pat, "POST", "/v2/users/"+user+"/links",
			map[string]any{"idpLink": map[string]any{"idpId": idpID, "userId": ext, "userName": ext}}).ok(t)
	}
	plDo(t, env, pat, "POST", "/management/v1/policies/login",
		`{"idps":[{"idpId":"`+idpID+`","ownerType":"IDP_OWNER_TYPE_SYSTEM"}]}`, "x-zitadel-orgid", org).ok(t)
	plDo(t, env, pat, "POST", "/admin/v1/policies/login/idps", map[string]any{"idpId": idpID}).ok(t)

	links := func(user string) int {
		t.Helper()
		r := plDo(t, env, pat, "POST", "/v2/users/"+user+"/links/_search", `{}`).ok(t)
		res, _ := r["result"].([]any)
		return len(res)
	}
	plDo(t, env, pat, "DELETE", "/management/v1/policies/login/idps/"+idpID, nil, "x-zitadel-orgid", org).ok(t)
	if links(alice) != 0 || links(bob) != 1 {
		t.Fatalf("after management removal: alice %d, bob %d links", links(alice), links(bob))
	}
	plDo(t, env, pat, "DELETE", "/admin/v1/policies/login/idps/"+idpID, nil).ok(t)
	if links(bob) != 0 {
		t.Fatalf("after admin removal bob has %d links", links(bob))
	}
	// The accounts are free again.
	plDo(t, env, pat, "POST", "/v2/users/"+bob+"/links",
		map[string]any{"idpLink": map[string]any{"idpId": idpID, "userId": "ext-alice", "userName": "a"}}).ok(t)
}
