package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestIntentLoginDecision: every linking rule of the IdP login, decided by
// POST /v2/idp_intents/{id}/login after a real generic-OIDC login at
// zitadel/oidc's OP on loopback, whose users hold email_verified true or
// false; each SIGNED_IN is followed by a session with the user and the
// intent, and a second use of the intent is refused.
func TestIntentLoginDecision(t *testing.T) {
	env := newIntentEnv(t, nil)
	// allowRegister off (ZITADEL's default has it on): registration is
	// offered only where the IdP allows creation.
	env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"allowExternalIdp": true})
	users := userStore{}
	for _, u := range []*storage.User{
		{ID: "x-alice", Username: "alice", FirstName: "Alice", LastName: "A", Email: "alice@example.com", EmailVerified: true},
		{ID: "x-alice2", Username: "alice-corp", FirstName: "Alice", LastName: "A", Email: "Alice@Example.com", EmailVerified: true},
		{ID: "x-dave", Username: "dave-corp", FirstName: "Dave", LastName: "D", Email: "dave@example.com"},
		{ID: "x-carol", Username: "carol-corp", FirstName: "Carol", LastName: "C", Email: "carol@example.com", EmailVerified: true},
		{ID: "x-dup", Username: "dupper", FirstName: "Dup", LastName: "D", Email: "dup@example.com", EmailVerified: true},
		{ID: "x-new", Username: "newbie", FirstName: "New", LastName: "Bie", Email: "newbie@example.com"},
	} {
		u.Password = "pw"
		users[u.ID] = u
	}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	h = kindOP(srv.URL, users, false, []*storage.Client{storage.WebClient("login", "s3cret-login", env.URL+"/idps/callback")})

	// newIDP creates an instance generic-OIDC IdP at the OP with options;
	// inPolicy adds it to the default login policy (allowExternalIdp).
	newIDP := func(name string, inPolicy bool, opts map[string]any, scopes ...string) string {
		t.Helper()
		body := map[string]any{"name": name, "issuer": srv.URL, "clientId": "login", "clientSecret": "s3cret-login",
			"providerOptions": opts}
		if scopes != nil {
			body["scopes"] = scopes
		}
		b, _ := json.Marshal(body)
		id := plIDP(t, env, "", "generic_oidc", string(b))
		if inPolicy {
			env.MustDo(t, http.StatusOK, "POST", "/admin/v1/policies/login/idps", map[string]any{"idpId": id})
		}
		return id
	}
	login := func(idpID, username string) (id, token string) {
		t.Helper()
		start := startIntent(t, env, idpID)
		to := newBrowser(t, nil).loginAtOP(start["authUrl"].(string), username, "pw", "https://login.example/")
		rq := redirectQuery(t, to, "https://login.example/idp/success")
		return rq.Get("id"), rq.Get("token")
	}
	decide := func(id, token, org string) map[string]any {
		t.Helper()
		d := env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents/"+id+"/login",
			map[string]string{"idpIntentToken": token, "organizationId": org})
		// The decision carries none of the upstream's tokens, the intent
		// token or the IdP's secret (Retrieve is where tokens are read).
		raw, _ := json.Marshal(d)
		for _, secret := range []string{"accessToken", "idToken", "refreshToken", "idpInformation", token, "s3cret-login"} {
			if strings.Contains(string(raw), secret) {
				t.Fatalf("the decision holds %q: %s", secret, raw)
			}
		}
		return d
	}
	want := func(d map[string]any, outcome, userID string) {
		t.Helper()
		if d["outcome"] != outcome || (userID != "" && d["userId"] != userID) {
			t.Fatalf("decision = %v, want %s %s", d, outcome, userID)
		}
	}
	refused := func(d map[string]any, errID string) {
		t.Helper()
		want(d, "REFUSED", "")
		if jsonPath(t, d, "refusal", "id") != errID || d["userId"] != nil {
			t.Fatalf("refusal = %v, want %s", d, errID)
		}
	}
	// signIn is what the login UI does after SIGNED_IN: a session with the
	// user and the intent; the intent's second use is refused.
	signIn := func(userID, id, token string) {
		t.Helper()
		body := map[string]any{"checks": map[string]any{"user": map[string]string{"userId": userID},
			"idpIntent": map[string]string{"idpIntentId": id, "idpIntentToken": token}}}
		env.MustDo(t, http.StatusCreated, "POST", "/v2/sessions", body)
		if st, b := env.Do(t, "POST", "/v2/sessions", body); st != http.StatusBadRequest || apptest.ErrorID(b) != "COMMAND-Df4bw" {
			t.Fatalf("second session with the intent: %d %s", st, b)
		}
		if st, b := env.Do(t, "POST", "/v2/idp_intents/"+id+"/login", map[string]string{"idpIntentToken": token}); st != http.StatusBadRequest ||
			apptest.ErrorID(b) != "IDP-nme4gszsvx" {
			t.Fatalf("decision on a consumed intent: %d %s", st, b)
		}
	}
	links := func(userID string) []any {
		t.Helper()
		r := env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+userID+"/links/_search", map[string]any{})
		l, _ := r["result"].([]any)
		return l
	}
	human := func(org, username, email string, verified bool) string {
		t.Helper()
		m := env.MustDo(t, http.StatusCreated, "POST", "/v2/users/human", map[string]any{
			"organization": map[string]any{"orgId": org}, "username": username,
			"profile": map[string]any{"givenName": "G", "familyName": "F"},
			"email":   map[string]any{"email": email, "isVerified": verified}})
		return m["userId"].(string)
	}

	org := env.CreateOrg(t, "acme")
	alice := env.CreateHuman(t, org, "alice") // alice@example.com, verified
	carol := human(org, "carol", "carol@example.com", false)
	env.CreateHuman(t, org, "dave") // dave@example.com, verified here, not at the IdP
	dup1, dup2 := human(org, "dup1@example.com", "dup@example.com", true), human(org, "dup2@example.com", "dup@example.com", true)

	t.Run("auto-link by username, manual linking off", func(t *testing.T) {
		idpID := newIDP("by-username", true, map[string]any{"autoLinking": "AUTO_LINKING_OPTION_USERNAME"})
		id, token := login(idpID, "alice")
		d := decide(id, token, org)
		want(d, "SIGNED_IN", alice)
		if d["linked"] != true || d["organizationId"] != org {
			t.Fatalf("decision = %v", d)
		}
		signIn(alice, id, token)
		// Linked now: the next login signs in without linking again.
		id, token = login(idpID, "alice")
		d = decide(id, token, org)
		want(d, "SIGNED_IN", alice)
		if d["linked"] != nil {
			t.Fatalf("second login linked again: %v", d)
		}
		signIn(alice, id, token)
		// A login that asks for another org refuses the linked user, who is
		// not in it; without an org asked for, the link signs in.
		elsewhere := env.CreateOrg(t, "elsewhere")
		id, token = login(idpID, "alice")
		refused(decide(id, token, elsewhere), "EVENT-fJe2a")
		want(decide(id, token, ""), "SIGNED_IN", alice)
		signIn(alice, id, token)
		// Another instance cannot decide on this instance's intent.
		other := env.AddInstance(t, "other.example")
		id, token = login(idpID, "alice")
		if st, b := env.DoAs(t, other.AdminPAT, "POST", "/v2/idp_intents/"+id+"/login", map[string]string{"idpIntentToken": token},
			"Host", "other.example"); st != http.StatusForbidden || apptest.ErrorID(b) != "CRYPTO-CRYPTO" {
			t.Fatalf("another instance's intent: %d %s", st, b)
		}
		if st, b := env.Do(t, "POST", "/v2/idp_intents/"+id+"/login", map[string]string{"idpIntentToken": "wrong"}); st != http.StatusForbidden ||
			apptest.ErrorID(b) != "CRYPTO-CRYPTO" {
			t.Fatalf("wrong token: %d %s", st, b)
		}
		if st, b := env.Do(t, "POST", "/v2/idp_intents/"+id+"/login", map[string]string{"idpIntentToken": token, "organizationId": "nope"}); st != http.StatusBadRequest ||
			apptest.ErrorID(b) != "COMMAND-QXPGs" {
			t.Fatalf("unknown org: %d %s", st, b)
		}
	})

	t.Run("auto-link by email", func(t *testing.T) {
		// Scopes without profile: the IdP user has no user name, so the
		// link has none either (zitadel#11421).
		idpID := newIDP("by-email", true, map[string]any{"autoLinking": "AUTO_LINKING_OPTION_EMAIL"}, "openid", "email")
		id, token := login(idpID, "alice-corp") // Alice@Example.com, verified at the IdP
		want(decide(id, token, org), "SIGNED_IN", alice)
		var link map[string]any
		for _, l := range links(alice) {
			if l.(map[string]any)["idpId"] == idpID {
				link = l.(map[string]any)
			}
		}
		if link == nil || link["userId"] != "x-alice2" || link["userName"] != nil {
			t.Fatalf("alice's links = %v", links(alice))
		}
		signIn(alice, id, token)

		// Not when the IdP's email is unverified, nor when idledger's is.
		id, token = login(idpID, "dave-corp")
		refused(decide(id, token, org), "COMMAND-LgnRf1")
		id, token = login(idpID, "carol-corp")
		refused(decide(id, token, org), "COMMAND-LgnRf1")
		if l := links(carol); len(l) != 0 {
			t.Fatalf("carol linked: %v", l)
		}
		// Several matches: the user chooses, nothing is linked.
		id, token = login(idpID, "dupper")
		d := decide(id, token, org)
		want(d, "CHOOSE", "")
		if jsonPath(t, d, "candidates", "count") != float64(2) {
			t.Fatalf("candidates = %v", d)
		}
		names, _ := json.Marshal(jsonPath(t, d, "candidates", "loginNames"))
		if string(names) != `["d***@example.com","d***@example.com"]` {
			t.Fatalf("masked names = %s", names)
		}
		if len(links(dup1)) != 0 || len(links(dup2)) != 0 {
			t.Fatal("a CHOOSE linked a user")
		}
		// The user signs in with a password and links (AddIDPLink): the
		// intent then signs that user in.
		env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+dup2+"/links",
			map[string]any{"idpLink": map[string]string{"idpId": idpID, "userId": "x-dup"}})
		want(decide(id, token, org), "SIGNED_IN", dup2)
		signIn(dup2, id, token)
	})

	t.Run("policy gates automatic linking (GHSA-j4g7)", func(t *testing.T) {
		notListed := newIDP("not-in-policy", false, map[string]any{"autoLinking": "AUTO_LINKING_OPTION_USERNAME", "isAutoCreation": true})
		id, token := login(notListed, "alice")
		refused(decide(id, token, org), "COMMAND-LgnRf2")
		// The org's custom policy lists the IdP but does not allow external
		// IdPs: it applies instead of the default, which allows them.
		orgB := env.CreateOrg(t, "beta")
		aliceB := env.CreateHuman(t, orgB, "alice")
		listed := newIDP("org-policy", true, map[string]any{"autoLinking": "AUTO_LINKING_OPTION_USERNAME", "isLinkingAllowed": true})
		env.MustDo(t, http.StatusOK, "POST", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true}, "x-zitadel-orgid", orgB)
		env.MustDo(t, http.StatusOK, "POST", "/management/v1/policies/login/idps",
			map[string]any{"idpId": listed, "ownerType": "IDP_OWNER_TYPE_SYSTEM"}, "x-zitadel-orgid", orgB)
		id, token = login(listed, "alice")
		want(decide(id, token, orgB), "OFFER_LINKING", "")
		if len(links(aliceB)) != 0 {
			t.Fatal("auto-linked despite the org's policy")
		}
		// The same intent in org acme (default policy): linked.
		want(decide(id, token, org), "SIGNED_IN", alice)
		// Once the org's policy allows external IdPs (PUT), it links.
		env.MustDo(t, http.StatusOK, "PUT", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true, "allowExternalIdp": true},
			"x-zitadel-orgid", orgB)
		carolB := env.CreateHuman(t, orgB, "carol-corp")
		id, token = login(listed, "carol-corp")
		want(decide(id, token, orgB), "SIGNED_IN", carolB)
	})

	t.Run("auto-creation and auto-update", func(t *testing.T) {
		idpID := newIDP("create", true, map[string]any{"isAutoCreation": true, "isAutoUpdate": true})
		id, token := login(idpID, "newbie")
		d := decide(id, token, "") // the instance's default org
		want(d, "SIGNED_IN", "")
		newbie, _ := d["userId"].(string)
		if d["created"] != true || newbie == "" || d["organizationId"] != env.DefaultOrgID {
			t.Fatalf("decision = %v", d)
		}
		u := env.MustDo(t, http.StatusOK, "GET", "/v2/users/"+newbie, nil)
		if jsonPath(t, u, "user", "username") != "newbie" || jsonPath(t, u, "user", "human", "profile", "givenName") != "New" ||
			jsonPath(t, u, "user", "human", "email", "email") != "newbie@example.com" ||
			jsonPath(t, u, "user", "human", "email", "isVerified") != nil {
			t.Fatalf("created user = %v", u)
		}
		if l := links(newbie); len(l) != 1 || l[0].(map[string]any)["userId"] != "x-new" {
			t.Fatalf("links = %v", l)
		}
		signIn(newbie, id, token)

		// A later login updates the profile and email from the claims.
		users["x-new"].FirstName, users["x-new"].EmailVerified = "Newer", true
		id, token = login(idpID, "newbie")
		want(decide(id, token, ""), "SIGNED_IN", newbie)
		u = env.MustDo(t, http.StatusOK, "GET", "/v2/users/"+newbie, nil)
		if jsonPath(t, u, "user", "human", "profile", "givenName") != "Newer" ||
			jsonPath(t, u, "user", "human", "profile", "familyName") != "Bie" ||
			jsonPath(t, u, "user", "human", "email", "isVerified") != true {
			t.Fatalf("updated user = %v", u)
		}
		signIn(newbie, id, token)
		// A new address: changed, then verified as the IdP says.
		users["x-new"].Email = "newbie@corp.example"
		id, token = login(idpID, "newbie")
		want(decide(id, token, ""), "SIGNED_IN", newbie)
		u = env.MustDo(t, http.StatusOK, "GET", "/v2/users/"+newbie, nil)
		if jsonPath(t, u, "user", "human", "email", "email") != "newbie@corp.example" ||
			jsonPath(t, u, "user", "human", "email", "isVerified") != true {
			t.Fatalf("user after an email change = %v", u)
		}
		var types []string
		rows, err := env.Pool.Query(context.Background(), `SELECT event_type FROM events WHERE aggregate_id = $1 ORDER BY sequence`, newbie)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var typ string
			if err := rows.Scan(&typ); err != nil {
				t.Fatal(err)
			}
			types = append(types, typ)
		}
		if got := strings.Join(types, " "); got != "user.human.added user.human.externalidp.added user.human.profile.changed "+
			"user.human.email.verified user.human.email.changed user.human.email.verified" {
			t.Fatalf("newbie's events: %s", got)
		}
		// Nothing changed: nothing is written.
		id, token = login(idpID, "newbie")
		want(decide(id, token, ""), "SIGNED_IN", newbie)
		var n int
		if err := env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE aggregate_id = $1`, newbie).Scan(&n); err != nil || n != 6 {
			t.Fatalf("%d events after a login without changes (%v)", n, err)
		}
		signIn(newbie, id, token)
	})

	t.Run("offers and refusal", func(t *testing.T) {
		id, token := login(newIDP("offer-link", true, map[string]any{"isLinkingAllowed": true, "isCreationAllowed": true}), "dupper")
		want(decide(id, token, org), "OFFER_LINKING", "")
		reg := newIDP("offer-reg", false, map[string]any{"isCreationAllowed": true})
		id, token = login(reg, "dupper")
		d := decide(id, token, org)
		want(d, "OFFER_REGISTRATION", "")
		if jsonPath(t, d, "addHumanUser", "organization", "orgId") != org || jsonPath(t, d, "addHumanUser", "username") != "dupper" ||
			jsonPath(t, d, "addHumanUser", "email", "email") != "dup@example.com" {
			t.Fatalf("prefill = %v", d)
		}
		// Auto-creation without names (no profile scope) falls through to
		// the registration form.
		id, token = login(newIDP("create-no-names", true, map[string]any{"isAutoCreation": true, "isCreationAllowed": true}, "openid", "email"), "dupper")
		want(decide(id, token, org), "OFFER_REGISTRATION", "")
		id, token = login(newIDP("nothing", true, map[string]any{}), "dupper")
		refused(decide(id, token, org), "COMMAND-LgnRf1")
	})
}
