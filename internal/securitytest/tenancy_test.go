package securitytest

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// tenant is what one org of one instance holds.
type tenant struct {
	org, idp, human, machine, ext string
	ownerPAT                      string
}

// tenantInstance is one instance with its host, admin token, instance IdP
// and two tenants.
type tenantInstance struct {
	id, host, pat, idp string
	a, b               tenant
}

// ids lists every ID of the instance: none may appear in answers to
// another instance.
func (ti *tenantInstance) ids() []string {
	out := []string{ti.id, ti.idp}
	for _, tn := range []tenant{ti.a, ti.b} {
		// not ext: the test links the same external account in both
		out = append(out, tn.org, tn.idp, tn.human, tn.machine)
	}
	return out
}

// setUpTenant fills one org: an org IdP linked to its custom login policy,
// a human linked to the instance IdP, a machine user and an org owner.
func setUpTenant(t *testing.T, w *world, ti *tenantInstance, org string) tenant {
	tn := tenant{org: org}
	as := func(method, path string, body any, org string) []byte {
		return w.as(t, ti.pat, ti.host, method, path, body, org)
	}
	tn.idp = field(t, as("POST", "/management/v1/idps/google", googleIDP(w.uniq("tenant-idp-")), org), "id")
	as("POST", "/management/v1/policies/login", map[string]any{"allowExternalIdp": true}, org)
	as("POST", "/management/v1/policies/login/idps", map[string]any{"idpId": tn.idp, "ownerType": "IDP_OWNER_TYPE_ORG"}, org)
	name := w.uniq("tenant-human-")
	tn.human = field(t, as("POST", "/v2/users/human", map[string]any{
		"organization": map[string]any{"orgId": org}, "username": name,
		"profile": map[string]any{"givenName": "G", "familyName": "F"},
		"email":   map[string]any{"email": name + "@example.com", "isVerified": true}}, ""), "userId")
	tn.ext = w.uniq("tenant-ext-")
	as("POST", "/v2/users/"+tn.human+"/links", map[string]any{"idpLink": map[string]any{"idpId": ti.idp, "userId": tn.ext, "userName": "x"}}, "")
	tn.machine = field(t, as("POST", "/management/v1/users/machine", map[string]any{"userName": w.uniq("tenant-m-"), "name": "M"}, org), "userId")
	owner := field(t, as("POST", "/management/v1/users/machine", map[string]any{"userName": w.uniq("tenant-owner-"), "name": "O"}, org), "userId")
	as("POST", "/management/v1/orgs/me/members", map[string]any{"userId": owner, "roles": []string{"ORG_OWNER"}}, org)
	tn.ownerPAT = field(t, as("POST", "/management/v1/users/"+owner+"/pats", map[string]any{}, org), "token")
	return tn
}

func newTenantInstance(t *testing.T, w *world, id, host, pat string, orgA, orgB string) *tenantInstance {
	ti := &tenantInstance{id: id, host: host, pat: pat}
	if orgA == "" {
		orgA = field(t, w.as(t, pat, host, "POST", "/v2/organizations", map[string]any{"name": "A"}, ""), "organizationId")
		orgB = field(t, w.as(t, pat, host, "POST", "/v2/organizations", map[string]any{"name": "B"}, ""), "organizationId")
	}
	ti.idp = field(t, w.as(t, pat, host, "POST", "/admin/v1/idps/google", googleIDP(w.uniq("tenant-inst-idp-")), ""), "id")
	w.as(t, pat, host, "POST", "/admin/v1/policies/login/idps", map[string]any{"idpId": ti.idp}, "")
	ti.a, ti.b = setUpTenant(t, w, ti, orgA), setUpTenant(t, w, ti, orgB)
	return ti
}

// expect sends a request as token on host and checks "status[ errorID]";
// it returns the body.
func expect(t *testing.T, w *world, token, host, method, path string, body any, org, want string) []byte {
	t.Helper()
	rq := request{Method: method, Path: path, Token: token, Host: host}
	if body != nil {
		rq.Body = jsonBody(t, body)
	}
	if org != "" {
		rq.Headers = []string{"x-zitadel-orgid", org}
	}
	resp := w.c.must(t, rq)
	if got := statusID(resp); got != want && !(want == "200" && resp.Status == 200) {
		t.Errorf("%s %s (host %q, org %q): got %s, want %s: %.300s", method, path, host, org, got, want, resp.Body)
	}
	return resp.Body
}

// noneOf fails when body mentions any of ids.
func noneOf(t *testing.T, what string, body []byte, ids []string) {
	t.Helper()
	for _, id := range ids {
		if id != "" && strings.Contains(string(body), id) {
			t.Errorf("%s leaks %s: %.400s", what, id, body)
		}
	}
}

// TestTenancy: two instances with two orgs each. No read, search, write,
// event query (whatever its filters name) or event stream crosses from one
// instance to the other, and an org owner reaches nothing of another org.
func TestTenancy(t *testing.T) {
	w := newWorld(t)
	env := w.env
	one := newTenantInstance(t, w, env.InstanceID, "", env.AdminPAT, w.orgA, w.orgB)
	two := newTenantInstance(t, w, w.inst2.ID, host2, w.inst2.AdminPAT, "", "")

	for _, dir := range []struct {
		name      string
		from, to  *tenantInstance
		fromHosts string
	}{{"1→2", one, two, ""}, {"2→1", two, one, host2}} {
		t.Run("instances "+dir.name, func(t *testing.T) {
			f, o := dir.from, dir.to
			pat, host := f.pat, f.host
			// reads of the other instance's objects, even by an IAM owner
			expect(t, w, pat, host, "GET", "/v2/users/"+o.a.human, nil, "", "404 QUERY-Dfbg2")
			expect(t, w, pat, host, "GET", "/v2/idps/"+o.a.idp, nil, "", "404 QUERY-SAFrt")
			expect(t, w, pat, host, "GET", "/v2/idps/"+o.idp, nil, "", "404 QUERY-SAFrt")
			expect(t, w, pat, host, "GET", "/admin/v1/idps/templates/"+o.idp, nil, "", "404 QUERY-SAFrt")
			expect(t, w, pat, host, "GET", "/management/v1/idps/templates/"+o.a.idp, nil, o.a.org, "403 AUTH-Bs7Ds")
			expect(t, w, pat, host, "GET", "/management/v1/orgs/me", nil, o.a.org, "403 AUTH-Bs7Ds")
			// the other instance's tokens do not authenticate here
			expect(t, w, o.pat, host, "GET", "/management/v1/orgs/me", nil, "", "401 AUTH-7fs1e")
			expect(t, w, o.a.ownerPAT, host, "GET", "/management/v1/orgs/me", nil, "", "401 AUTH-7fs1e")
			// searches
			b := expect(t, w, pat, host, "POST", "/admin/v1/idps/templates/_search", map[string]any{}, "", "200")
			noneOf(t, "admin IdP search", b, o.ids())
			b = expect(t, w, pat, host, "POST", "/admin/v1/idps/templates/_search",
				map[string]any{"queries": []any{map[string]any{"idpIdQuery": map[string]any{"id": o.idp}}}}, "", "200")
			noneOf(t, "admin IdP search by the other's ID", b, o.ids())
			b = expect(t, w, pat, host, "POST", "/management/v1/idps/templates/_search", map[string]any{}, "", "200")
			noneOf(t, "management IdP search", b, o.ids())
			b = expect(t, w, pat, host, "POST", "/v2/users/"+o.a.human+"/links/_search", map[string]any{}, "", "200")
			noneOf(t, "links of the other's user", b, o.ids())
			b = expect(t, w, pat, host, "POST", "/admin/v1/policies/login/idps/_search", map[string]any{}, "", "200")
			noneOf(t, "default policy IdPs", b, o.ids())
			b = expect(t, w, pat, host, "GET", "/admin/v1/policies/login", nil, "", "200")
			noneOf(t, "default policy", b, o.ids())
			// writes aimed at the other instance's objects
			expect(t, w, pat, host, "PUT", "/admin/v1/idps/google/"+o.idp, googleIDP("hijack"), "", "404 INST-Dg331")
			expect(t, w, pat, host, "DELETE", "/admin/v1/idps/templates/"+o.idp, nil, "", "404 INST-Se3tg")
			expect(t, w, pat, host, "DELETE", "/v2/users/"+o.a.human, nil, "", "404 COMMAND-uXHNj2")
			expect(t, w, pat, host, "POST", "/management/v1/users/"+o.a.machine+"/pats", map[string]any{}, "", "404 COMMAND-Dggw2")
			expect(t, w, pat, host, "POST", "/v2/users/"+f.a.human+"/links",
				map[string]any{"idpLink": map[string]any{"idpId": o.idp, "userId": w.uniq("x"), "userName": "x"}}, "", "400 COMMAND-39nf2")
			expect(t, w, pat, host, "POST", "/v2/users/"+o.a.human+"/links",
				map[string]any{"idpLink": map[string]any{"idpId": f.idp, "userId": w.uniq("x"), "userName": "x"}}, "", "400 COMMAND-vzktar7b7f")
			expect(t, w, pat, host, "DELETE", "/v2/users/"+o.a.human+"/links/"+o.idp+"/"+o.a.ext, nil, "", "404 COMMAND-1M9xR")
			expect(t, w, pat, host, "POST", "/admin/v1/policies/login/idps", map[string]any{"idpId": o.idp}, "", "400 INSTANCE-m8fsd")
			expect(t, w, pat, host, "POST", "/admin/v1/members", map[string]any{"userId": o.a.human, "roles": []string{"IAM_OWNER"}}, "", "400 COMMAND-uXHNj")
			// an external account linked in the other instance is free here
			expect(t, w, pat, host, "POST", "/v2/users/"+f.b.human+"/links",
				map[string]any{"idpLink": map[string]any{"idpId": f.idp, "userId": o.a.ext, "userName": "x"}}, "", "200")

			// the event API: unfiltered, and with filters naming the other instance
			b = expect(t, w, pat, host, "POST", "/admin/v1/events/_search", map[string]any{"limit": 1000, "asc": true}, "", "200")
			noneOf(t, "events", b, o.ids())
			if !strings.Contains(string(b), f.a.idp) {
				t.Errorf("own events missing from the search: %.300s", b)
			}
			for _, filter := range []map[string]any{
				{"aggregateId": o.idp}, {"aggregateId": o.a.human}, {"aggregateId": o.id},
				{"resourceOwner": o.a.org}, {"resourceOwner": o.id}, {"editorUserId": w.inst2.AdminUserID},
				{"aggregateTypes": []string{"instance"}, "aggregateId": o.id},
				{"eventTypes": []string{"idp.", "user.*"}, "resourceOwner": o.b.org},
				{"aggregateTypes": []string{"idp"}, "eventTypes": []string{"idp.added"}},
			} {
				filter["limit"] = 1000
				b = expect(t, w, pat, host, "POST", "/admin/v1/events/_search", filter, "", "200")
				noneOf(t, "events filtered by the other instance", b, o.ids())
			}
			// A position of the other instance's log only places the cursor.
			pos := lastPosition(t, w, o)
			b = expect(t, w, pat, host, "POST", "/admin/v1/events/_search", map[string]any{"afterPosition": pos, "asc": true}, "", "200")
			noneOf(t, "events after the other's position", b, o.ids())
		})
	}

	t.Run("orgs", func(t *testing.T) {
		a, b := one.a, one.b
		pat := a.ownerPAT
		expect(t, w, pat, "", "GET", "/management/v1/idps/templates/"+b.idp, nil, "", "404 QUERY-SAFrt")
		expect(t, w, pat, "", "GET", "/management/v1/idps/templates/"+b.idp, nil, b.org, "403 AUTH-5mWD2")
		expect(t, w, pat, "", "GET", "/v2/idps/"+b.idp, nil, "", "403 AUTHZ-HKJD33")
		expect(t, w, pat, "", "PUT", "/management/v1/idps/google/"+b.idp, googleIDP("hijack"), "", "404 ORG-Dg331")
		expect(t, w, pat, "", "DELETE", "/management/v1/idps/templates/"+b.idp, nil, "", "404 ORG-Se3tg")
		body := expect(t, w, pat, "", "POST", "/management/v1/idps/templates/_search", map[string]any{}, "", "200")
		noneOf(t, "org IdP search", body, []string{b.idp})
		if !strings.Contains(string(body), a.idp) || !strings.Contains(string(body), one.idp) {
			t.Errorf("org search misses its own or the instance's IdP: %.300s", body)
		}
		body = expect(t, w, pat, "", "POST", "/management/v1/idps/templates/_search", map[string]any{
			"queries": []any{map[string]any{"idpIdQuery": map[string]any{"id": b.idp}}}}, "", "200")
		noneOf(t, "org IdP search by B's ID", body, []string{b.idp})
		expect(t, w, pat, "", "GET", "/v2/users/"+b.human, nil, "", "403 AUTHZ-HKJD33")
		expect(t, w, pat, "", "DELETE", "/v2/users/"+b.human, nil, "", "403 AUTHZ-HKJD33")
		body = expect(t, w, pat, "", "POST", "/v2/users/"+b.human+"/links/_search", map[string]any{}, "", "200")
		noneOf(t, "links of B's user", body, []string{b.ext})
		expect(t, w, pat, "", "POST", "/v2/users/"+b.human+"/links",
			map[string]any{"idpLink": map[string]any{"idpId": one.idp, "userId": w.uniq("x"), "userName": "x"}}, "", "403 AUTHZ-HKJD33")
		expect(t, w, pat, "", "POST", "/v2/users/"+a.human+"/links",
			map[string]any{"idpLink": map[string]any{"idpId": b.idp, "userId": w.uniq("x"), "userName": "x"}}, "", "400 COMMAND-39nf2")
		expect(t, w, pat, "", "DELETE", "/v3alpha/users/"+b.human+"/idps/"+one.idp, nil, "", "403 AUTHZ-HKJD33")
		expect(t, w, pat, "", "POST", "/resources/v3alpha/users/"+b.human+"/idps?organization.orgId="+a.org,
			map[string]any{"idpId": one.idp, "userId": w.uniq("x"), "userName": "x"}, "", "400 COMMAND-vzktar7b7f")
		expect(t, w, pat, "", "POST", "/management/v1/policies/login/idps", map[string]any{"idpId": b.idp, "ownerType": "IDP_OWNER_TYPE_ORG"}, "", "400 Org-3N9fs")
		body = expect(t, w, pat, "", "POST", "/management/v1/policies/login/idps/_search", map[string]any{}, "", "200")
		noneOf(t, "org policy IdPs", body, []string{b.idp})
		body = expect(t, w, pat, "", "GET", "/management/v1/policies/login", nil, "", "200")
		noneOf(t, "org policy", body, []string{b.idp})
		expect(t, w, pat, "", "POST", "/management/v1/users/"+b.machine+"/pats", map[string]any{}, "", "404 COMMAND-Dggw2")
		expect(t, w, pat, "", "POST", "/management/v1/users/"+b.machine+"/pats", map[string]any{}, b.org, "403 AUTH-5mWD2")
		// the event API is the instance's: org owners get none of it
		expect(t, w, pat, "", "POST", "/admin/v1/events/_search", map[string]any{"resourceOwner": a.org}, "", "403 AUTH-5mWD2")
		expect(t, w, pat, "", "GET", "/admin/v1/events/_stream", nil, "", "403 AUTH-5mWD2")
	})

	t.Run("streams", func(t *testing.T) {
		lines1 := openStream(t, w, one)
		lines2 := openStream(t, w, two)
		// a write in each instance; each stream must see its own only
		mark2 := field(t, w.as(t, two.pat, two.host, "POST", "/admin/v1/idps/google", googleIDP("mark-2"), ""), "id")
		mark1 := field(t, w.as(t, one.pat, "", "POST", "/admin/v1/idps/google", googleIDP("mark-1"), ""), "id")
		mark2b := field(t, w.as(t, two.pat, two.host, "POST", "/admin/v1/idps/google", googleIDP("mark-2b"), ""), "id")
		got1 := readUntil(t, lines1, mark1)
		got2 := readUntil(t, lines2, mark2b)
		noneOf(t, "stream of instance 1", []byte(got1), append(two.ids(), mark2, mark2b))
		noneOf(t, "stream of instance 2", []byte(got2), append(one.ids(), mark1))
		if !strings.Contains(got2, mark2) || !strings.Contains(got1, one.a.idp) {
			t.Errorf("a stream misses its own events")
		}
	})
}

// lastPosition is the position of the newest event of ti, from its own
// event search.
func lastPosition(t *testing.T, w *world, ti *tenantInstance) string {
	b := w.as(t, ti.pat, ti.host, "POST", "/admin/v1/events/_search", map[string]any{"limit": 1}, "")
	var r struct {
		Events []struct {
			Position string `json:"position"`
		} `json:"events"`
	}
	if err := json.Unmarshal(b, &r); err != nil || len(r.Events) == 0 || r.Events[0].Position == "" {
		t.Fatalf("no position in %s: %v", b, err)
	}
	return r.Events[0].Position
}

// openStream opens the event stream of ti from its beginning and returns
// its lines; the stream ends with the test.
func openStream(t *testing.T, w *world, ti *tenantInstance) <-chan string {
	host := w.env.Host
	if ti.host != "" {
		host = ti.host
	}
	lines, _ := openStreamURL(t, w.env.URL, host, ti.pat)
	return lines
}

// openStreamURL opens the event stream of the server at url as token. The
// stream ends with the test, or when stop is called (a server waits for
// open streams when it closes).
func openStreamURL(t *testing.T, url, host, token string) (lines <-chan string, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/admin/v1/events/_stream", nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		cancel()
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	ch := make(chan string, 1<<16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			select {
			case ch <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); resp.Body.Close(); <-done }) }
	t.Cleanup(stop)
	return ch, stop
}

// readUntil collects stream lines until one mentions id.
func readUntil(t *testing.T, lines <-chan string, id string) string {
	var all strings.Builder
	timeout := time.After(15 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stream ended before %s", id)
			}
			all.WriteString(l + "\n")
			if strings.Contains(l, id) {
				return all.String()
			}
		case <-timeout:
			t.Fatalf("%s not streamed within 15s", id)
		}
	}
}
