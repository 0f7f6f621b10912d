package securitytest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// floodTarget is the number of requests of TestMalformedFlood; the long
// variant (IDLEDGER_LONG_TESTS=1) sends floodTargetLong.
const (
	floodTarget     = 12000
	floodTargetLong = 100000
	floodWorkers    = 8
)

// documented5xx are the 5xx answers the contract defines for valid but
// unsupported input (501 Unimplemented): any other 5xx fails the flood.
var documented5xx = map[string]bool{"501 ORG-Hum01": true, "501 USERv3-OrgDom": true}

// floodFixtures are the objects the templates and the foreign IDs name.
type floodFixtures struct {
	foreign []string // IDs of objects of the second instance, and IDs of the wrong kind
	// objects of the first instance (Default org), for the templates
	human, machine, policyIDP, orgPolicyIDP string
	instIDPs, orgIDPs                       map[string]string // kind → IdP
	linkIDP                                 string
	ownerPAT                                string // ORG_OWNER of Default
	org                                     string // Default
}

func newFloodFixtures(t *testing.T, w *world) *floodFixtures {
	env := w.env
	f := &floodFixtures{instIDPs: map[string]string{}, orgIDPs: map[string]string{}}
	// the second instance: its admin creates an IdP and a user there
	idp2 := field(t, w.as(t, w.inst2.AdminPAT, host2, "POST", "/admin/v1/idps/google", googleIDP("i2"), ""), "id")
	user2 := field(t, w.as(t, w.inst2.AdminPAT, host2, "POST", "/management/v1/users/machine",
		map[string]any{"userName": "m2", "name": "M"}, ""), "userId")
	f.foreign = []string{idp2, user2, w.inst2.ID, w.inst2.OrgID, w.inst2.AdminUserID, env.DefaultOrgID, env.InstanceID}

	org := env.DefaultOrgID
	f.org = org
	f.human = w.human(t, org)
	f.machine = w.machine(t, org)
	for kind, body := range idpBodies {
		f.instIDPs[kind] = field(t, w.admin(t, "POST", "/admin/v1/idps/"+kind, body, ""), "id")
		f.orgIDPs[kind] = field(t, w.admin(t, "POST", "/management/v1/idps/"+kind, body, org), "id")
	}
	f.policyIDP = w.instanceIDP(t)
	f.orgPolicyIDP = w.orgIDP(t, org)
	f.linkIDP = w.instanceIDP(t)
	var owner string
	owner, _, f.ownerPAT = w.machineWithPAT(t, org, time.Time{})
	env.Grant(t, owner, org, "ORG_OWNER")
	return f
}

// templates are the near-valid write requests, in the order their
// self-test sends them.
func (f *floodFixtures) templates() []template {
	userBreaks := []mutation{
		{key: "username", val: huge}, {key: "username", val: 5}, {key: "profile", val: "x"},
		{key: "profile.givenName", val: huge}, {key: "profile.familyName", val: ""}, {key: "profile.gender", val: "GENDER_BOGUS"},
		{key: "profile.gender", val: 99}, {key: "profile.gender", val: -1}, {key: "profile.preferredLanguage", val: strings.Repeat("x", 11)},
		{key: "email.email", val: "not-an-email"}, {key: "email.email", val: huge}, {key: "email.isVerified", val: "yes"},
		{key: "organization.orgId", val: f.foreign[3]}, {key: "organization", val: []any{}}, {key: "userId", val: huge},
		{key: "idpLinks", val: []any{map[string]any{"idpId": f.foreign[0], "userId": "e", "userName": "n"}}},
		{key: "idpLinks", val: "x"},
	}
	linkBreaks := func(prefix string) []mutation {
		p := prefix
		if p != "" {
			p += "."
		}
		out := []mutation{{key: p + "idpId", val: f.foreign[0]}, {key: p + "idpId", val: ""}, {key: p + "userName", val: strings.Repeat("n", 201)}, // an empty one is valid (zitadel#11421)
			{key: p + "userId", val: strings.Repeat("u", 201)}}
		out = append(out, universal(p+"idpId")...)
		if prefix != "" {
			out = append(out, mutation{key: prefix, val: "x"}, mutation{key: prefix, val: []any{}})
		}
		return out
	}
	link := map[string]any{"idpId": f.linkIDP, "userId": "flood-ext", "userName": "n"}
	roleBreaks := func(valid string) []mutation {
		return append(universal("userId"), mutation{key: "roles", val: []any{"BOGUS_ROLE"}}, mutation{key: "roles", val: []any{}},
			mutation{key: "roles", val: valid}, mutation{key: "roles", val: []any{valid, 5}},
			mutation{key: "userId", val: f.foreign[1]}, mutation{key: "roles", val: []any{"IAM_OWNER", "ORG_OWNER"}})
	}
	policy := map[string]any{"allowExternalIdp": true, "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED",
		"passwordCheckLifetime": "864000s", "secondFactors": []any{"SECOND_FACTOR_TYPE_OTP"}}
	out := []template{
		{name: "v2 org", method: "POST", path: "/v2/organizations", body: map[string]any{"name": "flood-org"},
			breaks: append(universal("name"), mutation{key: "name", val: ""}, mutation{key: "admins", val: "x"},
				mutation{key: "admins", val: []any{map[string]any{"userId": f.foreign[1]}}},
				mutation{key: "admins", val: []any{map[string]any{"userId": f.human, "roles": []any{"BOGUS"}}}}), selfTest: true},
		{name: "v1 org", method: "POST", path: "/management/v1/orgs", body: map[string]any{"name": "flood-org-1"},
			breaks: append(universal("name"), mutation{key: "name", val: "  "}), selfTest: true},
		{name: "human", method: "POST", path: "/v2/users/human", body: map[string]any{
			"organization": map[string]any{"orgId": f.org}, "username": "flood-human",
			"profile": map[string]any{"givenName": "G", "familyName": "F", "gender": "GENDER_FEMALE"},
			"email":   map[string]any{"email": "flood@example.com", "isVerified": true}}, breaks: userBreaks, selfTest: true},
		{name: "machine", method: "POST", path: "/management/v1/users/machine", body: map[string]any{"userName": "flood-m", "name": "M"},
			breaks: append(universal("userName"), mutation{key: "name", val: huge}, mutation{key: "description", val: 1}), selfTest: true},
		{name: "pat", method: "POST", path: "/management/v1/users/" + f.machine + "/pats",
			body: map[string]any{"expirationDate": "2099-01-01T00:00:00Z"},
			breaks: []mutation{{key: "expirationDate", val: "not a date"}, {key: "expirationDate", val: "1999-01-01T00:00:00Z"},
				{key: "expirationDate", val: 12345}, {key: "expirationDate", val: "2024-13-45T99:99:99Z"},
				{key: "expirationDate", val: "10000-01-01T00:00:00Z"}, {key: "expirationDate", val: "@@RAW@@", raw: rawUTF8.raw},
				{key: "expirationDate", val: huge}}, selfTest: true},
		{name: "org member", method: "POST", path: "/management/v1/orgs/me/members",
			body: map[string]any{"userId": f.human, "roles": []any{"ORG_USER_MANAGER"}}, breaks: roleBreaks("ORG_OWNER"), selfTest: true},
		{name: "instance member", method: "POST", path: "/admin/v1/members",
			body: map[string]any{"userId": f.human, "roles": []any{"IAM_OWNER_VIEWER"}}, breaks: roleBreaks("IAM_OWNER"), selfTest: true},
		{name: "default policy idp", method: "POST", path: "/admin/v1/policies/login/idps", body: map[string]any{"idpId": f.policyIDP},
			breaks: append(universal("idpId"), mutation{key: "idpId", val: f.foreign[0]}, mutation{key: "idpId", val: ""},
				mutation{key: "idpId", val: f.orgIDPs["google"]}), selfTest: true},
		{name: "custom policy", method: "POST", path: "/management/v1/policies/login", body: policy, breaks: []mutation{
			{key: "passwordlessType", val: "PASSWORDLESS_TYPE_BOGUS"}, {key: "passwordlessType", val: 99}, {key: "passwordlessType", val: -1},
			{key: "secondFactors", val: []any{"NOPE"}}, {key: "secondFactors", val: "SECOND_FACTOR_TYPE_OTP"}, {key: "multiFactors", val: []any{7}},
			{key: "passwordCheckLifetime", val: "forever"}, {key: "passwordCheckLifetime", val: "1e400s"},
			{key: "passwordCheckLifetime", val: 12345}, {key: "mfaInitSkipLifetime", val: "999999999999999999999s"},
			{key: "idps", val: []any{map[string]any{"idpId": f.foreign[0], "ownerType": "IDP_OWNER_TYPE_SYSTEM"}}},
			{key: "idps", val: []any{map[string]any{"idpId": f.orgPolicyIDP, "ownerType": "IDP_OWNER_TYPE_BOGUS"}}},
			{key: "idps", val: []any{map[string]any{"idpId": f.orgPolicyIDP}}}, {key: "idps", val: "x"},
			{key: "allowRegister", val: "yes"}, {key: "forceMfa", val: 1}, {key: "defaultRedirectUri", val: 5},
		}, selfTest: true},
		{name: "org policy idp", method: "POST", path: "/management/v1/policies/login/idps",
			body: map[string]any{"idpId": f.orgPolicyIDP, "ownerType": "IDP_OWNER_TYPE_ORG"},
			breaks: append(universal("idpId"), mutation{key: "ownerType", val: "IDP_OWNER_TYPE_BOGUS"}, mutation{key: "ownerType", val: 0},
				mutation{key: "ownerType", val: 99}, mutation{key: "ownerType", val: "IDP_OWNER_TYPE_UNSPECIFIED"},
				mutation{key: "idpId", val: f.foreign[0]}, mutation{key: "idpId", val: f.policyIDP}), selfTest: true},
		{name: "v2 link", method: "POST", path: "/v2/users/" + f.human + "/links", body: map[string]any{"idpLink": link},
			breaks: linkBreaks("idpLink"), selfTest: true},
		{name: "v3alpha link", method: "POST", path: "/v3alpha/users/" + f.machine + "/idps",
			body:   map[string]any{"idpAuthenticator": map[string]any{"idpId": f.linkIDP, "userId": "flood-ext-3", "userName": "n"}},
			breaks: linkBreaks("idpAuthenticator"), selfTest: true},
		{name: "resources link", method: "POST", path: "/resources/v3alpha/users/" + f.human + "/idps",
			body: map[string]any{"idpId": f.linkIDP, "userId": "flood-ext-r", "userName": "n"}, breaks: linkBreaks(""), selfTest: true},
	}
	kinds := make([]string, 0, len(idpBodies))
	for k := range idpBodies {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		body := idpBodies[kind]
		out = append(out,
			template{name: "admin add " + kind, method: "POST", path: "/admin/v1/idps/" + kind, body: body, breaks: idpMutations(kind), selfTest: true},
			template{name: "org add " + kind, method: "POST", path: "/management/v1/idps/" + kind, body: body, breaks: idpMutations(kind), selfTest: true},
			template{name: "admin update " + kind, method: "PUT", path: "/admin/v1/idps/" + kind + "/" + f.instIDPs[kind],
				body: withName(body, "flood renamed"), breaks: idpMutations(kind), selfTest: true},
			template{name: "org update " + kind, method: "PUT", path: "/management/v1/idps/" + kind + "/" + f.orgIDPs[kind],
				body: withName(body, "flood renamed"), breaks: idpMutations(kind), selfTest: true})
		if kind == "gitlab" || kind == "gitlab_self_hosted" {
			out = append(out, template{name: "admin post update " + kind, method: "POST", path: "/admin/v1/idps/" + kind + "/" + f.instIDPs[kind],
				body: withName(body, "flood renamed again"), breaks: idpMutations(kind), selfTest: true})
		}
	}
	return out
}

func withName(body map[string]any, name string) map[string]any {
	c := deepCopy(body)
	c["name"] = name
	return c
}

// floodRequests builds the corpus: templates with one field broken, then
// generic malformed requests over every route, spread evenly, until total.
func floodRequests(t *testing.T, w *world, f *floodFixtures, total int) []request {
	rng := rand.New(rand.NewPCG(10, 2024))
	var reqs []request
	ctype := func() string { return contentTypes[rng.IntN(len(contentTypes))] }
	for _, tp := range f.templates() {
		for _, m := range tp.breaks {
			b := m.apply(tp.body)
			for _, ct := range []string{"application/json", ctype()} {
				reqs = append(reqs, request{Method: tp.method, Path: tp.path, Body: b, ContentType: ct, Token: w.env.AdminPAT})
			}
		}
	}
	rs := append([]route(nil), routes(t, w.env.App.Handler())...)
	generic, lists, junk := genericBodies(), listBodies(), junkParams()
	ids := append(append([]string{}, junk...), f.foreign...)
	for i := 0; len(reqs) < total; i++ {
		r := rs[i%len(rs)]
		vals := map[string]string{}
		for _, p := range params(r.Pattern) {
			if p == "kind" {
				vals[p] = junkKinds()[rng.IntN(len(junkKinds()))]
			} else {
				vals[p] = ids[rng.IntN(len(ids))]
			}
		}
		path := fill(r.Pattern, vals) + queryJunk[rng.IntN(len(queryJunk))]
		var body []byte
		switch {
		case strings.HasSuffix(r.Pattern, "_search") && rng.IntN(2) == 0:
			body = lists[rng.IntN(len(lists))]
		case r.Method == "GET" && rng.IntN(3) > 0:
			// mostly without a body
		default:
			// the 1 MiB body is costly: one request in forty
			b := generic[rng.IntN(len(generic))]
			for len(b) > 1<<20 && rng.IntN(40) > 0 {
				b = generic[rng.IntN(len(generic))]
			}
			body = b
		}
		rq := request{Method: r.Method, Path: path, Body: body, ContentType: ctype(), Token: w.env.AdminPAT}
		if publicRoutes[r.Pattern] {
			// the public routes take no parameters: vary the request instead
			rq.Method = []string{"GET", "HEAD", "POST", "DELETE"}[rng.IntN(4)]
		}
		switch rng.IntN(10) {
		case 0: // a broken Authorization header
			rq.Token, rq.Auth = "", []string{"Bearer " + strings.Repeat("t", 5000), "Bearer", "bearer  a b", "Bearer \x7f",
				"Basic Zm9vOmJhcg==", "Bearer " + w.env.AdminPAT + "x", "Bearer%20" + w.env.AdminPAT}[rng.IntN(7)]
		case 1: // a junk context org
			rq.Headers = []string{"x-zitadel-orgid", []string{"..%2F..", strings.Repeat("o", 300), "%00", f.foreign[3], "' OR 1=1", "", "\xff\xfe", "\u00e9t\u00e9"}[rng.IntN(8)]}
		case 2: // duplicated headers
			rq.Headers = []string{"x-zitadel-orgid", w.env.DefaultOrgID, "x-zitadel-orgid", f.foreign[3], "Authorization", "Bearer other"}
		case 3: // an org owner of Default instead of the IAM owner
			rq.Token = f.ownerPAT
		case 4: // a junk host
			rq.Host = []string{"LOCALHOST.", "localhost:99999", "[::1]:80", "127.0.0.1:1", "xn--nxasmq6b", host2 + ":1", "a..b"}[rng.IntN(7)]
		}
		reqs = append(reqs, rq)
	}
	return reqs
}

// TestMalformedFlood sends at least 10,000 malformed requests over every
// route of the router (100,000 with IDLEDGER_LONG_TESTS=1) from eight
// workers. None may get a 5xx (other than the contract's documented 501s)
// or a body that is not the standard error body, none may write an event
// or unique constraint, and the server stays healthy. Afterwards each
// template is sent unbroken and must succeed: the one broken field is what
// made its mutations fail.
func TestMalformedFlood(t *testing.T) {
	total := floodTarget
	if os.Getenv("IDLEDGER_LONG_TESTS") != "" {
		total = floodTargetLong
	}
	w := newWorld(t)
	f := newFloodFixtures(t, w)
	built := time.Now()
	reqs := floodRequests(t, w, f, total)
	// The OP's signing keys are made on first use (a JWKS read writes
	// them): make them before counting.
	for _, inst := range []string{w.env.InstanceID, w.inst2.ID} {
		if err := w.env.App.Commands().EnsureSigningKeys(context.Background(), inst); err != nil {
			t.Fatal(err)
		}
	}
	before := eventCount(t, w.env.Pool)

	var (
		mu       sync.Mutex
		failures []string
		statuses = map[int]int{}
		sent     atomic.Int64
	)
	perKind := map[string]int{}
	fail := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		kind, _, _ := strings.Cut(s, ":")
		if strings.HasPrefix(s, "5xx") {
			// one example per route and error
			_, rest, _ := strings.Cut(s, " ")
			method, rest, _ := strings.Cut(rest, " ")
			kind += method + routeOf(rest) + strings.Join(strings.Fields(rest[strings.LastIndex(rest, "): ")+1:])[:2], " ")
		}
		if perKind[kind]++; perKind[kind] <= 10 {
			failures = append(failures, s)
		}
	}
	nearValid := 0
	for _, tp := range f.templates() {
		nearValid += 2 * len(tp.breaks)
	}
	t.Logf("corpus of %d requests (%d near-valid) over %d routes built in %v", len(reqs), nearValid,
		len(routes(t, w.env.App.Handler())), time.Since(built).Round(time.Millisecond))
	start := time.Now()
	ch := make(chan request)
	var wg sync.WaitGroup
	for range floodWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rq := range ch {
				resp, err := w.c.send(rq)
				if err != nil {
					// The client refused to send it (an invalid header value):
					// not a request the server saw.
					if !strings.Contains(err.Error(), "invalid") {
						fail(fmt.Sprintf("%s %.120s: transport error %v", rq.Method, rq.Path, err))
					}
					continue
				}
				sent.Add(1)
				mu.Lock()
				statuses[resp.Status]++
				mu.Unlock()
				desc := fmt.Sprintf("%s %.120s (body %.80q, auth %.20q host %q): %d %.300s", rq.Method, rq.Path, rq.Body, rq.Auth, rq.Host, resp.Status, resp.Body)
				switch {
				case resp.Status >= 500 && !documented5xx[statusID(resp)]:
					fail("5xx: " + desc)
				case resp.Status >= 400 && rq.Method != "HEAD" && !isErrorBody(resp.Body) && !(oauthPath(rq.Path) && isOAuthErrorBody(resp.Body)):
					fail("not the error body: " + desc)
				case resp.Status/100 == 2 && rq.Method != "GET" && rq.Method != "HEAD" && !isSearch(rq.Path) && !publicPath(rq.Path) && !oauthPath(rq.Path):
					fail("a malformed write succeeded: " + desc)
				}
			}
		}()
	}
	for _, rq := range reqs {
		ch <- rq
	}
	close(ch)
	wg.Wait()
	elapsed := time.Since(start)

	if after := eventCount(t, w.env.Pool); after != before {
		t.Errorf("malformed requests wrote: before %s, after %s", before, after)
	}
	for _, s := range failures {
		t.Error(s)
	}
	if n := sent.Load(); n < int64(total)*9/10 || n < 10000 {
		t.Errorf("only %d of %d requests reached the server", n, total)
	}
	if resp := w.c.must(t, request{Method: "GET", Path: "/healthz"}); resp.Status != 200 {
		t.Errorf("healthz after the flood: %d", resp.Status)
	}
	w.as(t, w.env.AdminPAT, "", "GET", "/management/v1/orgs/me", nil, "")
	t.Logf("%d requests in %v (%.0f/s), statuses %v", sent.Load(), elapsed.Round(time.Millisecond),
		float64(sent.Load())/elapsed.Seconds(), statuses)

	// Each template unbroken is a valid request.
	for _, tp := range f.templates() {
		if !tp.selfTest {
			continue
		}
		resp := w.c.must(t, request{Method: tp.method, Path: tp.path, Body: js(tp.body), Token: w.env.AdminPAT})
		if resp.Status/100 != 2 {
			t.Errorf("template %q is not valid unbroken: %d %s", tp.name, resp.Status, resp.Body)
		}
	}
}

func isSearch(path string) bool {
	p, _, _ := strings.Cut(path, "?")
	return strings.HasSuffix(p, "_search")
}

// oauthPath: the OpenID Provider's endpoints answer RFC error bodies, and
// userinfo by POST is a read.
func oauthPath(path string) bool {
	p, _, _ := strings.Cut(path, "?")
	return strings.HasPrefix(p, "/oauth/v2/") || strings.HasPrefix(p, "/oidc/v1/") || p == "/.well-known/openid-configuration"
}

// isOAuthErrorBody reports an RFC 6749 §5.2 error body.
func isOAuthErrorBody(body []byte) bool {
	var b struct {
		Error *string `json:"error"`
	}
	return json.Unmarshal(body, &b) == nil && b.Error != nil && *b.Error != ""
}

func publicPath(path string) bool {
	p, _, _ := strings.Cut(path, "?")
	return publicRoutes[p]
}

// routeOf shortens a request path to its first two segments, to group
// failures.
func routeOf(path string) string {
	segs := strings.SplitN(path, "/", 4)
	if len(segs) > 3 {
		segs = segs[:3]
	}
	return strings.Join(segs, "/")
}
