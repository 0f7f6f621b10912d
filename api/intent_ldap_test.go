package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/slapdtest"
)

const ldapSeed = `dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: cn=reader,dc=example,dc=org
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: reader-secret

dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice Smith
givenName: Alice
sn: Smith
mail: alice@example.org
userPassword: alice-pw

dn: uid=bob,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: bob
cn: Bob Jones
givenName: Bob
sn: Jones
mail: bob@example.org
userPassword: bob-pw
`

// TestIntentLDAP is the LDAP login through the intent API against a real
// OpenLDAP slapd: StartIdentityProviderIntent with credentials answers the
// intent at once (linked user included), Retrieve gives the entry's
// attributes, and a session takes the intent once. A wrong password and a
// filter-injection username fail alike, and the failed intent records no
// cause (which step failed).
func TestIntentLDAP(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{LDIF: ldapSeed})
	env := newIntentEnv(t, nil)
	body := fmt.Sprintf(`{"name":"Directory","servers":[%q],"baseDn":"ou=people,%s",
		"bindDn":"cn=reader,%s","bindPassword":"reader-secret","userBase":"dn","userObjectClasses":["inetOrgPerson"],
		"userFilters":["uid","mail"],"timeout":"5s","attributes":{"idAttribute":"uid","firstNameAttribute":"givenName",
		"lastNameAttribute":"sn","emailAttribute":"mail","preferredUsernameAttribute":"uid"}}`, s.URL, s.Suffix, s.Suffix)
	idpID := plIDP(t, env, "", "ldap", body)
	org := env.CreateOrg(t, "acme")
	alice := env.CreateHuman(t, org, "alice")
	env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+alice+"/links",
		map[string]any{"idpLink": map[string]string{"idpId": idpID, "userId": "alice", "userName": "alice"}})

	start := func(idpID, username, password string) (int, []byte) {
		return env.Do(t, "POST", "/v2/idp_intents", map[string]any{"idpId": idpID,
			"ldap": map[string]string{"username": username, "password": password}})
	}
	// login is an intentLogin as username: the start answers the intent.
	login := func(idpID, username, password string) intentLogin {
		return func(t *testing.T) (string, string, string) {
			t.Helper()
			st, body := start(idpID, username, password)
			if st != http.StatusOK {
				t.Fatalf("LDAP start: %d %s", st, body)
			}
			var started struct {
				IDPIntent struct{ IDPIntentID, IDPIntentToken, UserID string } `json:"idpIntent"`
			}
			if err := json.Unmarshal(body, &started); err != nil {
				t.Fatal(err)
			}
			in := started.IDPIntent
			if in.IDPIntentID == "" || in.IDPIntentToken == "" {
				t.Fatalf("LDAP start answered %s", body)
			}
			return in.IDPIntentID, in.IDPIntentToken, in.UserID
		}
	}
	var in struct{ IDPIntentID, IDPIntentToken, UserID string }
	in.IDPIntentID, in.IDPIntentToken, in.UserID = login(idpID, "alice", "alice-pw")(t)
	if in.UserID != alice {
		t.Fatalf("LDAP start named user %q, want %s", in.UserID, alice)
	}
	got := env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents/"+in.IDPIntentID, map[string]string{"idpIntentToken": in.IDPIntentToken})
	if jsonPath(t, got, "idpInformation", "userId") != "alice" || got["userId"] != alice {
		t.Fatalf("retrieve: %v", got)
	}
	if mail, _ := jsonPath(t, got, "idpInformation", "ldap", "attributes", "mail").([]any); len(mail) != 1 || mail[0] != "alice@example.org" {
		t.Fatalf("retrieve's LDAP attributes: %v", got)
	}
	env.MustDo(t, http.StatusCreated, "POST", "/v2/sessions", map[string]any{"checks": map[string]any{
		"user": map[string]string{"userId": alice}, "idpIntent": map[string]string{"idpIntentId": in.IDPIntentID, "idpIntentToken": in.IDPIntentToken}}})

	for _, bad := range [][2]string{{"alice", "wrong"}, {"*", "alice-pw"}, {"alice)(uid=*", "alice-pw"}, {"nobody", "x"}} {
		if st, body := start(idpID, bad[0], bad[1]); st != http.StatusBadRequest || apptest.ErrorID(body) != "COMMAND-nzun2i" {
			t.Errorf("LDAP start as %q: %d %s", bad[0], st, body)
		}
	}
	evs := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/events/_search", map[string]any{"event_types": []string{"idpintent.failed"}})
	raw, _ := json.Marshal(evs)
	if strings.Count(string(raw), "COMMAND-nzun2i") < 4 || strings.Contains(string(raw), "ldap:") || strings.Contains(string(raw), "entr") {
		t.Fatalf("failed intents record %s", raw)
	}

	t.Run("created", func(t *testing.T) {
		idp := signInIDP(t, env, "ldap", body)
		signInTwice(t, env, idp, true, login(idp, "bob", "bob-pw"))
	})
}
