package securitytest

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
)

// host2 is the domain of the second instance.
const host2 = "tenant2.example.com"

// world is one application with two orgs (A, B) in its first instance and
// a second instance, plus helpers that create objects as an IAM owner.
type world struct {
	env          *apptest.Env
	c            *client
	orgA, orgB   string
	inst2        *app.Instance
	n            atomic.Int64
	instanceIDPs []string // a pool of instance IdPs for links
	trustOnce    sync.Once
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := apptest.New(t)
	w := &world{env: env, c: newClient(env.URL, env.Host)}
	w.orgA, w.orgB = env.CreateOrg(t, "A"), env.CreateOrg(t, "B")
	w.inst2 = env.AddInstance(t, host2)
	return w
}

// uniq returns a unique name; the trailing "z" keeps one from being a prefix
// of another ("x-1z" is not in "x-15z").
func (w *world) uniq(prefix string) string { return fmt.Sprintf("%s%dz", prefix, w.n.Add(1)) }

// admin sends a request as the first instance's IAM owner, acting on org
// (when not ""), and fails t unless the status is 2xx.
func (w *world) admin(t testing.TB, method, path string, body any, org string) []byte {
	t.Helper()
	return w.as(t, w.env.AdminPAT, "", method, path, body, org)
}

// as is admin for another token and host.
func (w *world) as(t testing.TB, token, host, method, path string, body any, org string) []byte {
	t.Helper()
	req := request{Method: method, Path: path, Token: token, Host: host}
	if body != nil {
		req.Body = jsonBody(t, body)
	}
	if org != "" {
		req.Headers = []string{"x-zitadel-orgid", org}
	}
	resp := w.c.must(t, req)
	if resp.Status/100 != 2 {
		t.Fatalf("%s %s (org %q): %d %s", method, path, org, resp.Status, resp.Body)
	}
	return resp.Body
}

func googleIDP(name string) map[string]any {
	return map[string]any{"name": name, "clientId": "cid-" + name, "clientSecret": "secret-" + name}
}

// instanceIDP creates an IdP of the instance.
func (w *world) instanceIDP(t testing.TB) string {
	t.Helper()
	return field(t, w.admin(t, "POST", "/admin/v1/idps/google", googleIDP(w.uniq("inst-idp-")), ""), "id")
}

// orgIDP creates an IdP of org.
func (w *world) orgIDP(t testing.TB, org string) string {
	t.Helper()
	return field(t, w.admin(t, "POST", "/management/v1/idps/google", googleIDP(w.uniq("org-idp-")), org), "id")
}

// machine creates a machine user without roles in org.
func (w *world) machine(t testing.TB, org string) string {
	t.Helper()
	return field(t, w.admin(t, "POST", "/management/v1/users/machine",
		map[string]any{"userName": w.uniq("machine-"), "name": "M"}, org), "userId")
}

// machineWithPAT creates a machine user in org and a token for it,
// expiring at exp when it is not zero.
func (w *world) machineWithPAT(t testing.TB, org string, exp time.Time) (userID, tokenID, token string) {
	t.Helper()
	userID = w.machine(t, org)
	tokenID, token = w.pat(t, org, userID, exp)
	return userID, tokenID, token
}

func (w *world) pat(t testing.TB, org, userID string, exp time.Time) (tokenID, token string) {
	t.Helper()
	body := map[string]any{}
	if !exp.IsZero() {
		body["expirationDate"] = exp.UTC().Format(time.RFC3339Nano)
	}
	b := w.admin(t, "POST", "/management/v1/users/"+userID+"/pats", body, org)
	return field(t, b, "tokenId"), field(t, b, "token")
}

// human creates a human user in org.
func (w *world) human(t testing.TB, org string) string {
	t.Helper()
	name := w.uniq("human-")
	return field(t, w.admin(t, "POST", "/v2/users/human", map[string]any{
		"organization": map[string]any{"orgId": org}, "username": name,
		"profile": map[string]any{"givenName": "G", "familyName": "F"},
		"email":   map[string]any{"email": name + "@example.com", "isVerified": true},
	}, ""), "userId")
}

// link links user to an instance IdP and returns the IdP and the external
// user ID.
func (w *world) link(t testing.TB, userID string) (idpID, extID string) {
	t.Helper()
	idpID, extID = w.instanceIDP(t), w.uniq("ext-")
	w.admin(t, "POST", "/v2/users/"+userID+"/links", map[string]any{
		"idpLink": map[string]any{"idpId": idpID, "userId": extID, "userName": "u"}}, "")
	return idpID, extID
}

// customPolicy makes org have (or not have) a custom login policy.
func (w *world) customPolicy(t testing.TB, org string, present bool) {
	t.Helper()
	resp := w.c.must(t, request{Method: "GET", Path: "/management/v1/policies/login", Token: w.env.AdminPAT,
		Headers: []string{"x-zitadel-orgid", org}})
	if resp.Status != http.StatusOK {
		t.Fatalf("read policy of %s: %d %s", org, resp.Status, resp.Body)
	}
	var p struct {
		IsDefault bool `json:"isDefault"`
	}
	_ = jsonUnmarshal(resp.Body, &p)
	switch {
	case present && p.IsDefault:
		w.admin(t, "POST", "/management/v1/policies/login", map[string]any{"allowExternalIdp": true}, org)
	case !present && !p.IsDefault:
		w.admin(t, "DELETE", "/management/v1/policies/login", nil, org)
	}
}

// policyIDP links a new org IdP to org's custom policy.
func (w *world) policyIDP(t testing.TB, org string) string {
	t.Helper()
	w.customPolicy(t, org, true)
	id := w.orgIDP(t, org)
	w.admin(t, "POST", "/management/v1/policies/login/idps", map[string]any{"idpId": id, "ownerType": "IDP_OWNER_TYPE_ORG"}, org)
	return id
}

// defaultPolicyIDP links a new instance IdP to the default policy.
func (w *world) defaultPolicyIDP(t testing.TB) string {
	t.Helper()
	id := w.instanceIDP(t)
	w.admin(t, "POST", "/admin/v1/policies/login/idps", map[string]any{"idpId": id}, "")
	return id
}
