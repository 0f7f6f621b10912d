package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestMain of package api_test lives in idp_test.go (pgtest.Main).

var (
	reTimestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$`)
	reID        = regexp.MustCompile(`^[1-9][0-9]{5,19}$`)
	reSequence  = regexp.MustCompile(`^[1-9][0-9]*$`)
)

func decode(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return m
}

// keys asserts that m has exactly the given keys.
func keys(t *testing.T, what string, v any, want ...string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: not an object: %#v", what, v)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s: keys %v, want %v (%v)", what, got, want, m)
	}
	return m
}

// details asserts a details object: the given date fields are timestamps,
// sequence is a decimal string, resourceOwner is owner.
func details(t *testing.T, what string, v any, owner string, dates ...string) {
	t.Helper()
	m := keys(t, what, v, append([]string{"sequence", "resourceOwner"}, dates...)...)
	if s, ok := m["sequence"].(string); !ok || !reSequence.MatchString(s) {
		t.Errorf("%s.sequence = %#v, want a decimal string", what, m["sequence"])
	}
	if m["resourceOwner"] != owner {
		t.Errorf("%s.resourceOwner = %v, want %s", what, m["resourceOwner"], owner)
	}
	for _, d := range dates {
		if s, ok := m[d].(string); !ok || !reTimestamp.MatchString(s) {
			t.Errorf("%s.%s = %#v, want an RFC 3339 Z timestamp", what, d, m[d])
		}
	}
}

func id(t *testing.T, what string, v any) string {
	t.Helper()
	s, ok := v.(string)
	if !ok || !reID.MatchString(s) {
		t.Fatalf("%s = %#v, want a snowflake ID string", what, v)
	}
	return s
}

// TestIdentityShapes is the acceptance walk: with the bootstrapped admin
// token, create an org, an org owner (machine user, PAT, ORG_OWNER) and a
// human user, checking every response field by field.
func TestIdentityShapes(t *testing.T) {
	env := apptest.New(t)

	// org v2
	st, raw := env.Do(t, "POST", "/v2/organizations", map[string]any{"name": "ACME"})
	if st != http.StatusCreated {
		t.Fatalf("add org: %d %s", st, raw)
	}
	m := keys(t, "AddOrganizationResponse", decode(t, raw), "details", "organizationId")
	org := id(t, "organizationId", m["organizationId"])
	details(t, "AddOrganizationResponse.details", m["details"], org, "changeDate", "creationDate")

	// org v1
	st, raw = env.Do(t, "POST", "/management/v1/orgs", map[string]any{"name": "Other"})
	if st != http.StatusOK {
		t.Fatalf("add org v1: %d %s", st, raw)
	}
	m = keys(t, "AddOrgResponse", decode(t, raw), "id", "details")
	org2 := id(t, "id", m["id"])
	details(t, "AddOrgResponse.details", m["details"], org2, "creationDate")

	// GetMyOrg in the new org's context
	st, raw = env.Do(t, "GET", "/management/v1/orgs/me", nil, "x-zitadel-orgid", org)
	if st != http.StatusOK {
		t.Fatalf("get my org: %d %s", st, raw)
	}
	o := keys(t, "GetMyOrgResponse.org", keys(t, "GetMyOrgResponse", decode(t, raw), "org")["org"],
		"id", "details", "state", "name")
	if o["id"] != org || o["state"] != "ORG_STATE_ACTIVE" || o["name"] != "ACME" {
		t.Errorf("org = %v", o)
	}
	details(t, "org.details", o["details"], org, "creationDate", "changeDate")

	// machine user, PAT, ORG_OWNER membership
	st, raw = env.Do(t, "POST", "/management/v1/users/machine",
		map[string]any{"userName": "owner", "name": "Owner", "description": "org owner"}, "x-zitadel-orgid", org)
	if st != http.StatusOK {
		t.Fatalf("add machine: %d %s", st, raw)
	}
	m = keys(t, "AddMachineUserResponse", decode(t, raw), "userId", "details")
	owner := id(t, "userId", m["userId"])
	details(t, "AddMachineUserResponse.details", m["details"], org, "creationDate")

	st, raw = env.Do(t, "POST", "/management/v1/users/"+owner+"/pats",
		map[string]any{"expiration_date": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, "x-zitadel-orgid", org)
	if st != http.StatusOK {
		t.Fatalf("add pat: %d %s", st, raw)
	}
	m = keys(t, "AddPersonalAccessTokenResponse", decode(t, raw), "tokenId", "token", "details")
	id(t, "tokenId", m["tokenId"])
	pat, _ := m["token"].(string)
	if len(pat) < 40 {
		t.Fatalf("token = %q", pat)
	}
	details(t, "AddPersonalAccessTokenResponse.details", m["details"], org, "creationDate")
	if s := m["details"].(map[string]any)["sequence"]; s != "2" {
		t.Errorf("PAT details sequence = %v, want 2 (the user's second event)", s)
	}

	st, raw = env.Do(t, "POST", "/management/v1/orgs/me/members",
		map[string]any{"userId": owner, "roles": []string{"ORG_OWNER"}}, "x-zitadel-orgid", org)
	if st != http.StatusOK {
		t.Fatalf("add org member: %d %s", st, raw)
	}
	details(t, "AddOrgMemberResponse.details", keys(t, "AddOrgMemberResponse", decode(t, raw), "details")["details"], org, "creationDate")

	// the new owner works on its org without a header
	st, raw = env.DoAs(t, pat, "GET", "/management/v1/orgs/me", nil)
	if st != http.StatusOK {
		t.Fatalf("owner get my org: %d %s", st, raw)
	}

	// human user, created by the org owner; snake_case input
	st, raw = env.DoAs(t, pat, "POST", "/v2/users/human", map[string]any{
		"organization": map[string]any{"org_id": org},
		"profile":      map[string]any{"given_name": "Minnie", "family_name": "Mouse", "gender": "GENDER_FEMALE"},
		"email":        map[string]any{"email": "minnie@example.com", "is_verified": true},
	})
	if st != http.StatusCreated {
		t.Fatalf("add human: %d %s", st, raw)
	}
	m = keys(t, "AddHumanUserResponse", decode(t, raw), "userId", "details")
	human := id(t, "userId", m["userId"])
	details(t, "AddHumanUserResponse.details", m["details"], org, "changeDate", "creationDate")

	st, raw = env.DoAs(t, pat, "GET", "/v2/users/"+human, nil)
	if st != http.StatusOK {
		t.Fatalf("get user: %d %s", st, raw)
	}
	m = keys(t, "GetUserByIDResponse", decode(t, raw), "details", "user")
	details(t, "GetUserByIDResponse.details", m["details"], org, "changeDate", "creationDate")
	u := keys(t, "user", m["user"], "userId", "details", "state", "username", "loginNames", "preferredLoginName", "human")
	if u["userId"] != human || u["state"] != "USER_STATE_ACTIVE" || u["username"] != "minnie@example.com" ||
		u["preferredLoginName"] != "minnie@example.com" {
		t.Errorf("user = %v", u)
	}
	h := keys(t, "user.human", u["human"], "profile", "email", "phone")
	p := keys(t, "user.human.profile", h["profile"], "givenName", "familyName", "displayName", "gender")
	if p["givenName"] != "Minnie" || p["familyName"] != "Mouse" || p["displayName"] != "Minnie Mouse" || p["gender"] != "GENDER_FEMALE" {
		t.Errorf("profile = %v", p)
	}
	e := keys(t, "user.human.email", h["email"], "email", "isVerified")
	if e["email"] != "minnie@example.com" || e["isVerified"] != true {
		t.Errorf("email = %v", e)
	}

	// an unverified email omits isVerified (a default value)
	st, raw = env.Do(t, "POST", "/v2/users/human", map[string]any{
		"organization": map[string]any{"orgId": org}, "username": "goofy",
		"profile": map[string]any{"givenName": "G", "familyName": "F"},
		"email":   map[string]any{"email": "goofy@example.com"},
	})
	if st != http.StatusCreated {
		t.Fatalf("add human 2: %d %s", st, raw)
	}
	goofy := decode(t, raw)["userId"].(string)
	st, raw = env.Do(t, "GET", "/v2/users/"+goofy, nil)
	if st != http.StatusOK {
		t.Fatalf("get human 2: %d %s", st, raw)
	}
	u = decode(t, raw)["user"].(map[string]any)
	keys(t, "goofy.email", u["human"].(map[string]any)["email"], "email")
	if u["username"] != "goofy" {
		t.Errorf("username = %v", u["username"])
	}

	// machine view
	st, raw = env.Do(t, "GET", "/v2/users/"+owner, nil)
	if st != http.StatusOK {
		t.Fatalf("get machine: %d %s", st, raw)
	}
	u = decode(t, raw)["user"].(map[string]any)
	mm := keys(t, "user.machine", u["machine"], "name", "description")
	if mm["name"] != "Owner" || mm["description"] != "org owner" {
		t.Errorf("machine = %v", mm)
	}
	// PAT add moved the user's sequence; details come from the events
	details(t, "machine.details", u["details"], org, "changeDate", "creationDate")
	if u["details"].(map[string]any)["sequence"] != "2" {
		t.Errorf("machine sequence = %v, want 2", u["details"])
	}

	// admin member
	st, raw = env.Do(t, "POST", "/admin/v1/members", map[string]any{"userId": human, "roles": []string{"IAM_OWNER_VIEWER"}})
	if st != http.StatusOK {
		t.Fatalf("add iam member: %d %s", st, raw)
	}
	details(t, "AddIAMMemberResponse.details", decode(t, raw)["details"], env.InstanceID, "creationDate")

	// user name unique within the org, not across orgs
	body := map[string]any{"organization": map[string]any{"orgId": org}, "username": "GOOFY",
		"profile": map[string]any{"givenName": "G", "familyName": "F"}, "email": map[string]any{"email": "g@example.com"}}
	st, raw = env.Do(t, "POST", "/v2/users/human", body)
	if st != http.StatusConflict || apptest.ErrorID(raw) != "COMMAND-UsrDup" {
		t.Errorf("duplicate username: %d %s", st, raw)
	}
	body["organization"] = map[string]any{"orgId": org2}
	if st, raw = env.Do(t, "POST", "/v2/users/human", body); st != http.StatusCreated {
		t.Errorf("same username in another org: %d %s", st, raw)
	}
}

// errorShape asserts ZITADEL's error body.
func errorShape(t *testing.T, raw []byte, code int, id string) {
	t.Helper()
	m := decode(t, raw)
	if int(m["code"].(float64)) != code {
		t.Errorf("code = %v, want %d (%s)", m["code"], code, raw)
	}
	msg, _ := m["message"].(string)
	if id == "" {
		return
	}
	if !strings.HasSuffix(msg, " ("+id+")") {
		t.Errorf("message %q does not end with (%s)", msg, id)
	}
	d := m["details"].([]any)[0].(map[string]any)
	if d["@type"] != "type.googleapis.com/zitadel.v1.ErrorDetail" || d["id"] != id {
		t.Errorf("details = %v", d)
	}
}

func TestAuthenticationErrors(t *testing.T) {
	env := apptest.New(t)
	cases := []struct {
		name    string
		headers []string
		status  int
		id, msg string
	}{
		{"missing", []string{"Authorization", ""}, 401, "AUTH-7fs1e", "auth header missing"},
		{"not bearer", []string{"Authorization", "Basic abc"}, 401, "AUTH-7fs1e", "invalid auth header"},
		{"empty bearer", []string{"Authorization", "Bearer "}, 401, "AUTH-7fs1e", "invalid auth header"},
		{"unknown", []string{"Authorization", "Bearer nope"}, 401, "AUTH-7fs1e", "Token is invalid"},
		{"unknown host", []string{"Host", "unknown.example.com"}, 404, "QUERY-InstNF", "Instance not found"},
		{"unknown org", []string{"x-zitadel-orgid", "123456789"}, 403, "AUTH-Bs7Ds", "Organisation doesn't exist"},
		{"host with port", []string{"Host", "LOCALHOST:8080"}, 200, "", ""},
		{"ipv6 host", []string{"Host", "[::1]:8080"}, 200, "", ""},
		{"ipv4 host", []string{"Host", "127.0.0.1"}, 200, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, raw := env.Do(t, "GET", "/management/v1/orgs/me", nil, c.headers...)
			if st != c.status {
				t.Fatalf("status %d, want %d: %s", st, c.status, raw)
			}
			if c.id != "" {
				errorShape(t, raw, map[int]int{401: 16, 403: 7, 404: 5}[c.status], c.id)
				if !strings.HasPrefix(decode(t, raw)["message"].(string), c.msg+" (") {
					t.Errorf("message %s, want %q", raw, c.msg)
				}
			}
		})
	}
}

// TestValidation: malformed JSON, wrong types and oversized fields get 400
// naming the field; nothing gets 500.
func TestValidation(t *testing.T) {
	env := apptest.New(t)
	org := env.DefaultOrgID
	long := strings.Repeat("x", 201)
	okHuman := func(mut func(m map[string]any)) map[string]any {
		m := map[string]any{"organization": map[string]any{"orgId": org},
			"profile": map[string]any{"givenName": "G", "familyName": "F"},
			"email":   map[string]any{"email": "v@example.com"}}
		mut(m)
		return m
	}
	cases := []struct {
		name, method, path string
		body               any
		status             int
		field              string // must appear in the message
	}{
		{"org malformed", "POST", "/v2/organizations", `{"name":`, 400, ""},
		{"org wrong type", "POST", "/v2/organizations", `{"name": 5}`, 400, `"name"`},
		{"org empty name", "POST", "/v2/organizations", `{}`, 400, "AddOrganizationRequest.Name"},
		{"org long name", "POST", "/v2/organizations", map[string]any{"name": long}, 400, "AddOrganizationRequest.Name"},
		{"org admins wrong type", "POST", "/v2/organizations", `{"name":"x","admins":{}}`, 400, `"admins"`},
		{"org v1 long name", "POST", "/management/v1/orgs", map[string]any{"name": long}, 400, "AddOrgRequest.Name"},
		{"org NUL name", "POST", "/management/v1/orgs", `{"name":"a\u0000b"}`, 400, "NUL character"},
		{"human no profile", "POST", "/v2/users/human", okHuman(func(m map[string]any) { delete(m, "profile") }), 400, "AddHumanUserRequest.Profile"},
		{"human no org", "POST", "/v2/users/human", okHuman(func(m map[string]any) { delete(m, "organization") }), 400, "AddHumanUserRequest.Organization"},
		{"human long given name", "POST", "/v2/users/human", okHuman(func(m map[string]any) {
			m["profile"] = map[string]any{"givenName": long, "familyName": "F"}
		}), 400, "SetHumanProfile.GivenName"},
		{"human bad email", "POST", "/v2/users/human", okHuman(func(m map[string]any) {
			m["email"] = map[string]any{"email": "not an email"}
		}), 400, "SetHumanEmail.Email"},
		{"human no email", "POST", "/v2/users/human", okHuman(func(m map[string]any) { delete(m, "email") }), 400, "AddHumanUserRequest.Email"},
		{"human bad gender", "POST", "/v2/users/human", okHuman(func(m map[string]any) {
			m["profile"] = map[string]any{"givenName": "G", "familyName": "F", "gender": "GENDER_ROBOT"}
		}), 400, `"profile.gender"`},
		{"human verified wrong type", "POST", "/v2/users/human", okHuman(func(m map[string]any) {
			m["email"] = map[string]any{"email": "v@example.com", "isVerified": "yes"}
		}), 400, `"email.isVerified"`},
		{"human unknown org", "POST", "/v2/users/human", okHuman(func(m map[string]any) {
			m["organization"] = map[string]any{"orgId": "42424242"}
		}), 400, "COMMAND-QXPGs"},
		{"machine no username", "POST", "/management/v1/users/machine", map[string]any{"name": "n"}, 400, "AddMachineUserRequest.UserName"},
		{"machine long description", "POST", "/management/v1/users/machine",
			map[string]any{"userName": "u", "name": "n", "description": strings.Repeat("d", 501)}, 400, "AddMachineUserRequest.Description"},
		{"pat bad date", "POST", "/management/v1/users/1/pats", `{"expirationDate":"tomorrow"}`, 400, `"expirationDate"`},
		{"pat past date", "POST", "/management/v1/users/" + "USER" + "/pats", `{"expirationDate":"2001-01-01T00:00:00Z"}`, 400, "COMMAND-dv3t5"},
		{"pat unknown user", "POST", "/management/v1/users/4242/pats", `{}`, 404, "COMMAND-Dggw2"},
		{"member no user", "POST", "/admin/v1/members", map[string]any{"roles": []string{"IAM_OWNER"}}, 400, "AddIAMMemberRequest.UserId"},
		{"member org role on instance", "POST", "/admin/v1/members", map[string]any{"userId": "USER", "roles": []string{"ORG_OWNER"}}, 400, "COMMAND-4m0fS"},
		{"member instance role on org", "POST", "/management/v1/orgs/me/members", map[string]any{"userId": "USER", "roles": []string{"IAM_OWNER"}}, 400, "COMMAND-4m0fS"},
		{"member no roles", "POST", "/management/v1/orgs/me/members", map[string]any{"userId": "USER"}, 400, "COMMAND-4m0fR"},
		{"member unknown user", "POST", "/management/v1/orgs/me/members", map[string]any{"userId": "4242", "roles": []string{"ORG_OWNER"}}, 400, "COMMAND-uXHNj"},
		{"member already", "POST", "/management/v1/orgs/me/members", map[string]any{"userId": "USER", "roles": []string{"ORG_OWNER"}}, 409, "COMMAND-MemDup"},
		{"roles wrong type", "POST", "/admin/v1/members", `{"userId":"1","roles":"IAM_OWNER"}`, 400, `"roles"`},
		{"body too large", "POST", "/v2/organizations", `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, 413, ""},
		{"get unknown user", "GET", "/v2/users/4242", nil, 404, "QUERY-Dfbg2"},
		{"delete unknown user", "DELETE", "/v2/users/4242", nil, 404, "COMMAND-uXHNj2"},
		{"revoke unknown token", "DELETE", "/management/v1/users/USER/pats/4242", nil, 404, "COMMAND-S3tGd"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := strings.ReplaceAll(c.path, "USER", env.AdminUserID)
			body := c.body
			if s, ok := body.(string); ok {
				body = strings.ReplaceAll(s, "USER", env.AdminUserID)
			} else if m, ok := body.(map[string]any); ok && m["userId"] == "USER" {
				m["userId"] = env.AdminUserID
			}
			st, raw := env.Do(t, c.method, path, body)
			if st != c.status {
				t.Fatalf("status %d, want %d: %s", st, c.status, raw)
			}
			msg, _ := decode(t, raw)["message"].(string)
			if !strings.Contains(msg, c.field) {
				t.Errorf("message %q does not name %s", msg, c.field)
			}
		})
	}
}

// TestAuthCacheDropsRevokedTokens: a used (cached) token stops working at
// once when revoked, and when its user is removed.
func TestAuthCacheDropsRevokedTokens(t *testing.T) {
	env := apptest.New(t)
	org := env.CreateOrg(t, "cache")
	user, pat := env.CreateOrgOwner(t, org)
	env.MustDoAs(t, pat, 200, "GET", "/management/v1/orgs/me", nil)
	st, raw := env.Do(t, "POST", "/management/v1/users/"+user+"/pats", map[string]any{}, "x-zitadel-orgid", org)
	if st != 200 {
		t.Fatalf("second pat: %d %s", st, raw)
	}
	second := decode(t, raw)
	pat2, tok2 := second["token"].(string), second["tokenId"].(string)
	env.MustDoAs(t, pat2, 200, "GET", "/management/v1/orgs/me", nil)
	env.MustDo(t, 200, "DELETE", "/management/v1/users/"+user+"/pats/"+tok2, nil, "x-zitadel-orgid", org)
	if st, raw := env.DoAs(t, pat2, "GET", "/management/v1/orgs/me", nil); st != 401 || apptest.ErrorID(raw) != "AUTH-7fs1e" {
		t.Fatalf("revoked token: %d %s", st, raw)
	}
	env.MustDoAs(t, pat, 200, "GET", "/management/v1/orgs/me", nil)
	env.RemoveUser(t, user)
	if st, raw := env.DoAs(t, pat, "GET", "/management/v1/orgs/me", nil); st != 401 {
		t.Fatalf("removed user's token: %d %s", st, raw)
	}
	// a grant takes effect at once too
	u2, pat3 := env.CreateMachineWithPAT(t, org)
	if st, _ := env.DoAs(t, pat3, "GET", "/management/v1/orgs/me", nil); st != 404 {
		t.Fatalf("no membership: %d", st)
	}
	// a user may always read itself
	env.MustDoAs(t, pat3, 200, "GET", "/v2/users/"+u2, nil)
	env.Grant(t, u2, org, "ORG_USER_MANAGER")
	if st, raw := env.DoAs(t, pat3, "GET", "/management/v1/orgs/me", nil); st != 403 || apptest.ErrorID(raw) != "AUTH-5mWD2" {
		t.Fatalf("user manager reading org: %d %s", st, raw)
	}
}

// TestAddOrganizationChosenID: v2 AddOrganization honours organizationId
// (and the deprecated orgId) with ZITADEL's length rules, answers 409 when
// the ID is taken, and never silently generates another.
func TestAddOrganizationChosenID(t *testing.T) {
	env := apptest.New(t)
	m := env.MustDo(t, 201, "POST", "/v2/organizations", map[string]any{"name": "Chosen", "organizationId": "acme"})
	if m["organizationId"] != "acme" {
		t.Fatalf("organizationId = %v", m["organizationId"])
	}
	env.MustDo(t, 200, "GET", "/management/v1/orgs/me", nil, "x-zitadel-orgid", "acme")
	m = env.MustDo(t, 201, "POST", "/v2/organizations", map[string]any{"name": "Old field", "org_id": "beta"})
	if m["organizationId"] != "beta" {
		t.Fatalf("orgId: organizationId = %v", m["organizationId"])
	}
	m = env.MustDo(t, 201, "POST", "/v2/organizations", map[string]any{"name": "Both", "orgId": "x1", "organizationId": "x2"})
	if m["organizationId"] != "x2" {
		t.Fatalf("both: organizationId = %v", m["organizationId"])
	}
	for _, c := range []struct {
		name string
		body map[string]any
		want int
		id   string
	}{
		{"taken", map[string]any{"name": "Again", "organizationId": "acme"}, 409, "COMMAND-OrgID"},
		{"taken through orgId", map[string]any{"name": "Again", "orgId": "beta"}, 409, "COMMAND-OrgID"},
		{"the default org's ID", map[string]any{"name": "Again", "organizationId": env.DefaultOrgID}, 409, "COMMAND-OrgID"},
		{"empty", map[string]any{"name": "Empty", "organizationId": ""}, 400, ""},
		{"too long", map[string]any{"name": "Long", "organizationId": strings.Repeat("a", 201)}, 400, ""},
	} {
		st, raw := env.Do(t, "POST", "/v2/organizations", c.body)
		if st != c.want || apptest.ErrorID(raw) != c.id {
			t.Errorf("%s: %d %s", c.name, st, raw)
		}
	}
	// two requests racing for one ID: one org
	res := make(chan int, 2)
	for range 2 {
		go func() {
			st, _ := env.Do(t, "POST", "/v2/organizations", map[string]any{"name": "Race", "organizationId": "race"})
			res <- st
		}()
	}
	if a, b := <-res, <-res; a+b != 201+409 {
		t.Errorf("race: %d and %d", a, b)
	}
	var n int
	if err := env.Pool.QueryRow(t.Context(), `SELECT count(*) FROM orgs WHERE id = 'race'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("orgs with the raced ID: %d %v", n, err)
	}
}

// TestTwoAuthorizationHeaders: a request with two Authorization headers is
// ambiguous and refused with 401, whichever of them is valid.
func TestTwoAuthorizationHeaders(t *testing.T) {
	env := apptest.New(t)
	for _, pair := range [][2]string{
		{"Bearer " + env.AdminPAT, "Bearer nope"},
		{"Bearer nope", "Bearer " + env.AdminPAT},
		{"Bearer " + env.AdminPAT, "Bearer " + env.AdminPAT},
	} {
		req, err := http.NewRequestWithContext(t.Context(), "GET", env.URL+"/management/v1/orgs/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "localhost"
		req.Header.Add("Authorization", pair[0])
		req.Header.Add("Authorization", pair[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || apptest.ErrorID(raw) != "AUTH-7fs1e" || !strings.Contains(string(raw), "more than one auth header") {
			t.Errorf("two headers: %d %s", resp.StatusCode, raw)
		}
	}
}

// TestGetMyUser: every authenticated caller finds its own user ID and shape
// at GET /auth/v1/users/me (auth GetMyUser), with no role needed.
func TestGetMyUser(t *testing.T) {
	env := apptest.New(t)
	m := env.MustDo(t, 200, "GET", "/auth/v1/users/me", nil)
	u := m["user"].(map[string]any)
	if u["id"] != env.AdminUserID || u["state"] != "USER_STATE_ACTIVE" || u["userName"] == "" || u["machine"] == nil {
		t.Fatalf("admin: %v", m)
	}
	d := u["details"].(map[string]any)
	if d["resourceOwner"] != env.DefaultOrgID || !reSequence.MatchString(d["sequence"].(string)) {
		t.Errorf("details: %v", d)
	}
	plain, pat := env.CreateMachineWithPAT(t, env.CreateOrg(t, "Other"))
	m = env.MustDoAs(t, pat, 200, "GET", "/auth/v1/users/me", nil)
	if m["user"].(map[string]any)["id"] != plain {
		t.Errorf("plain user: %v", m)
	}
	if st, raw := env.DoAs(t, "", "GET", "/auth/v1/users/me", nil, "Authorization", ""); st != 401 {
		t.Errorf("anonymous: %d %s", st, raw)
	}
}
