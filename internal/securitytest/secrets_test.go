package securitytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
	"github.com/idledger/idledger/internal/samltest"
	"github.com/idledger/idledger/projection"
	"github.com/idledger/idledger/secretbox"
)

// server is an application of the secrets test, wired as apptest wires
// one, but with a master key of the test's choice and a debug log kept.
type server struct {
	app  *app.App
	c    *client
	stop func()
}

func startServer(t *testing.T, pool *pgxpool.Pool, log *apptest.LogBuffer, key []byte, old ...[]byte) *server {
	t.Helper()
	a := apptest.Wire(t, app.Options{Pool: pool, Log: zerolog.New(log).Level(zerolog.DebugLevel),
		MasterKey: key, OldMasterKeys: old})
	url, stop := apptest.Serve(t, a)
	return &server{app: a, c: newClient(url, "localhost"), stop: stop}
}

func randomKey(t *testing.T) []byte {
	k := make([]byte, secretbox.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// secret returns a unique secret value that is easy to find.
func secret(t *testing.T, label string) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "SeCrEt-" + label + "-" + hex.EncodeToString(b)
}

// secretBodies returns an add request per kind whose secrets are new
// unique values, and those values as they must never be seen again (for
// apple both the base64 the API takes and the key bytes it stands for).
func secretBodies(t *testing.T, label string) (map[string]map[string]any, []string) {
	var plain []string
	out := map[string]map[string]any{}
	for kind, body := range idpBodies {
		b := deepCopy(body)
		s := secret(t, label+"-"+kind)
		switch kind {
		case "ldap":
			b["bindPassword"] = s
			plain = append(plain, s)
		case "apple":
			b["privateKey"] = base64.StdEncoding.EncodeToString([]byte(s))
			plain = append(plain, s, b["privateKey"].(string))
		case "generic_jwt", "saml": // no secret fields
		default:
			b["clientSecret"] = s
			plain = append(plain, s)
		}
		out[kind] = b
	}
	return out, plain
}

// TestSecretsNeverLeak runs a full scenario (IdPs of every kind with
// secrets at instance and org level, secret updates, PATs used, revoked and
// misused, links, policies, a whole IdP login (idplogin_test.go), event
// search and stream, failing requests that
// carry secrets), rotates the master key, and then greps a pg_dump of the
// database, the server's debug log and every API response body: no IdP
// secret, no PAT (outside the one response that issues it) and no master
// key appears. After the rotation the old key is gone: updates, a
// projection rebuild and reads work with the new key alone.
func TestSecretsNeverLeak(t *testing.T) {
	url := pgtest.URL(t)
	pool := pgtest.Connect(t, url, 0)
	log := &apptest.LogBuffer{}
	keyA, keyB := randomKey(t), randomKey(t)

	var (
		mu        sync.Mutex
		responses []string
		issued    = map[string]int{} // PAT → index of the response that issued it
	)
	record := func(_ request, resp response) {
		mu.Lock()
		defer mu.Unlock()
		responses = append(responses, string(resp.Body))
	}

	s1 := startServer(t, pool, log, keyA)
	inst, err := s1.app.Bootstrap(context.Background(), "localhost", nil, "")
	if err != nil || inst == nil {
		t.Fatalf("bootstrap: %v", err)
	}
	s1.c.record = record
	admin := inst.AdminPAT
	do := func(c *client, token, method, path string, body any, org string, want int) []byte {
		t.Helper()
		rq := request{Method: method, Path: path, Token: token}
		if body != nil {
			rq.Body = jsonBody(t, body)
		}
		if org != "" {
			rq.Headers = []string{"x-zitadel-orgid", org}
		}
		resp := c.must(t, rq)
		if want != 0 && resp.Status != want {
			t.Fatalf("%s %s: %d %s", method, path, resp.Status, resp.Body)
		}
		return resp.Body
	}
	c := s1.c
	org := field(t, do(c, admin, "POST", "/v2/organizations", map[string]any{"name": "secrets"}, "", 201), "organizationId")

	// IdPs of every kind, instance and org, then new secrets on update
	var secrets []string
	type idpRef struct{ kind, id, org string }
	var idps []idpRef
	bodies, plain := secretBodies(t, "add")
	secrets = append(secrets, plain...)
	for kind, body := range bodies {
		id := field(t, do(c, admin, "POST", "/admin/v1/idps/"+kind, body, "", 200), "id")
		idps = append(idps, idpRef{kind, id, ""})
		id = field(t, do(c, admin, "POST", "/management/v1/idps/"+kind, body, org, 200), "id")
		idps = append(idps, idpRef{kind, id, org})
	}
	sort.Slice(idps, func(i, j int) bool { return idps[i].id < idps[j].id })
	updated, plain := secretBodies(t, "update")
	secrets = append(secrets, plain...)
	for _, ref := range idps {
		prefix := "/admin/v1"
		if ref.org != "" {
			prefix = "/management/v1"
		}
		do(c, admin, "PUT", prefix+"/idps/"+ref.kind+"/"+ref.id, withName(updated[ref.kind], "updated"), ref.org, 200)
		do(c, admin, "GET", prefix+"/idps/templates/"+ref.id, nil, ref.org, 200)
		do(c, admin, "GET", "/v2/idps/"+ref.id, nil, "", 200)
	}
	do(c, admin, "POST", "/admin/v1/idps/templates/_search", map[string]any{}, "", 200)
	do(c, admin, "POST", "/management/v1/idps/templates/_search", map[string]any{}, org, 200)
	// failing requests that carry secrets must not echo them
	tooLong := secret(t, "toolong")
	secrets = append(secrets, tooLong)
	do(c, admin, "POST", "/admin/v1/idps/google", map[string]any{"clientId": "c", "clientSecret": strings.Repeat(tooLong, 20)}, "", 400)
	missing := secret(t, "missing")
	secrets = append(secrets, missing)
	do(c, admin, "POST", "/admin/v1/idps/oauth", map[string]any{"name": "x", "clientSecret": missing}, "", 400)
	do(c, "", "POST", "/admin/v1/idps/google", map[string]any{"clientId": "c", "clientSecret": missing}, "", 401)

	// PATs: issued, used, revoked, misused
	var pats []string
	var patUser string
	for i := range 3 {
		u := field(t, do(c, admin, "POST", "/management/v1/users/machine", map[string]any{"userName": "m" + string(rune('a'+i)), "name": "M"}, org, 200), "userId")
		body := do(c, admin, "POST", "/management/v1/users/"+u+"/pats", map[string]any{}, org, 200)
		tok := field(t, body, "token")
		mu.Lock()
		issued[tok] = len(responses) - 1
		mu.Unlock()
		pats = append(pats, tok)
		do(c, admin, "POST", "/management/v1/orgs/me/members", map[string]any{"userId": u, "roles": []string{"ORG_OWNER"}}, org, 200)
		do(c, tok, "GET", "/management/v1/orgs/me", nil, "", 200)
		patUser = u
	}
	tokenID := field(t, do(c, admin, "POST", "/management/v1/users/"+patUser+"/pats", map[string]any{}, org, 200), "tokenId")
	do(c, admin, "DELETE", "/management/v1/users/"+patUser+"/pats/"+tokenID, nil, org, 200)
	do(c, pats[0]+"x", "GET", "/management/v1/orgs/me", nil, "", 401)
	do(c, "", "GET", "/management/v1/orgs/me", nil, "", 401)
	c.must(t, request{Method: "GET", Path: "/management/v1/orgs/me", Auth: "Basic " + pats[1]})
	c.must(t, request{Method: "GET", Path: "/management/v1/orgs/me?token=" + pats[1]})

	// Projects and apps: each client secret is shown once, in the answer
	// that issues it, and stored only as a hash.
	var clientSecrets []string
	issuedSecret := map[string]int{}
	keep := func(body []byte) {
		sec := field(t, body, "clientSecret")
		mu.Lock()
		issuedSecret[sec] = len(responses) - 1
		mu.Unlock()
		clientSecrets = append(clientSecrets, sec)
	}
	apps := "/management/v1/projects/" + field(t, do(c, admin, "POST", "/management/v1/projects", map[string]any{"name": "secrets"}, org, 200), "id") + "/apps"
	for _, m := range []string{"OIDC_AUTH_METHOD_TYPE_BASIC", "OIDC_AUTH_METHOD_TYPE_POST"} {
		body := do(c, admin, "POST", apps+"/oidc", map[string]any{"name": m, "redirectUris": []string{"https://a.example/cb"}, "authMethodType": m}, org, 200)
		keep(body)
		app := apps + "/" + field(t, body, "appId")
		keep(do(c, admin, "POST", app+"/oidc_config/_generate_client_secret", map[string]any{}, org, 200))
		do(c, admin, "PUT", app+"/oidc_config", map[string]any{"redirectUris": []string{"https://b.example/cb"}, "authMethodType": m}, org, 200)
		do(c, admin, "GET", app, nil, org, 200)
	}
	keep(do(c, admin, "POST", apps+"/api", map[string]any{"name": "api"}, org, 200))
	do(c, admin, "POST", apps+"/_search", map[string]any{}, org, 200)
	for _, sec := range clientSecrets {
		do(c, admin, "POST", apps+"/_search", map[string]any{"queries": []any{map[string]any{"nameQuery": map[string]any{"name": sec}}}}, org, 200)
	}

	// Machine credentials: each client secret and generated private key is
	// shown once, in the answer that issues it; only the secret's hash and
	// the public key are stored.
	robot := "/management/v1/users/" + field(t, do(c, admin, "POST", "/management/v1/users/machine", map[string]any{"userName": "robot", "name": "R"}, org, 200), "userId")
	keep(do(c, admin, "PUT", robot+"/secret", map[string]any{}, org, 200))
	keep(do(c, admin, "PUT", robot+"/secret", map[string]any{}, org, 200))
	issuedKey := map[string]int{}
	var privateKeyLines []string
	var robotKey string
	for range 2 {
		body := do(c, admin, "POST", robot+"/keys", map[string]any{"type": "KEY_TYPE_JSON"}, org, 200)
		details := field(t, body, "keyDetails")
		mu.Lock()
		issuedKey[details] = len(responses) - 1
		mu.Unlock()
		raw, err := base64.StdEncoding.DecodeString(details)
		if err != nil {
			t.Fatal(err)
		}
		var file struct{ Key string }
		if err := json.Unmarshal(raw, &file); err != nil || !strings.Contains(file.Key, "RSA PRIVATE KEY") {
			t.Fatalf("key file: %v %s", err, raw)
		}
		lines := strings.Split(strings.TrimSpace(file.Key), "\n")
		privateKeyLines = append(privateKeyLines, lines[1:len(lines)-1]...)
		robotKey = field(t, body, "keyId")
	}
	// App keys (private_key_jwt): the same rule for the application key file.
	keyApp := apps + "/" + field(t, do(c, admin, "POST", apps+"/api", map[string]any{"name": "keys",
		"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}, org, 200), "appId") + "/keys"
	var appKey string
	for range 2 {
		body := do(c, admin, "POST", keyApp, map[string]any{"type": "KEY_TYPE_JSON"}, org, 200)
		details := field(t, body, "keyDetails")
		mu.Lock()
		issuedKey[details] = len(responses) - 1
		mu.Unlock()
		raw, err := base64.StdEncoding.DecodeString(details)
		if err != nil {
			t.Fatal(err)
		}
		var file struct{ Type, Key string }
		if err := json.Unmarshal(raw, &file); err != nil || file.Type != "application" || !strings.Contains(file.Key, "RSA PRIVATE KEY") {
			t.Fatalf("app key file: %v %s", err, raw)
		}
		lines := strings.Split(strings.TrimSpace(file.Key), "\n")
		privateKeyLines = append(privateKeyLines, lines[1:len(lines)-1]...)
		appKey = field(t, body, "id")
	}
	do(c, admin, "POST", keyApp+"/_search", map[string]any{}, org, 200)
	do(c, admin, "GET", keyApp+"/"+appKey, nil, org, 200)
	do(c, admin, "DELETE", keyApp+"/"+appKey, nil, org, 200)
	do(c, admin, "POST", robot+"/keys/_search", map[string]any{}, org, 200)
	do(c, admin, "DELETE", robot+"/keys/"+robotKey, nil, org, 200)
	do(c, admin, "DELETE", robot+"/secret", nil, org, 200)
	keep(do(c, admin, "PUT", robot+"/secret", map[string]any{}, org, 200))

	// links and policies
	human := field(t, do(c, admin, "POST", "/v2/users/human", map[string]any{"organization": map[string]any{"orgId": org},
		"username": "h", "profile": map[string]any{"givenName": "G", "familyName": "F"},
		"email": map[string]any{"email": "h@example.com", "isVerified": true}}, "", 201), "userId")
	for i, ref := range idps[:4] {
		do(c, admin, "POST", "/v2/users/"+human+"/links", map[string]any{"idpLink": map[string]any{
			"idpId": ref.id, "userId": "ext" + string(rune('0'+i)), "userName": "x"}}, "", 200)
	}
	do(c, admin, "POST", "/v2/users/"+human+"/links/_search", map[string]any{}, "", 200)
	do(c, admin, "POST", "/management/v1/policies/login", map[string]any{"allowExternalIdp": true}, org, 200)
	for _, ref := range idps {
		if ref.org == "" {
			do(c, admin, "POST", "/admin/v1/policies/login/idps", map[string]any{"idpId": ref.id}, "", 200)
		} else {
			do(c, admin, "POST", "/management/v1/policies/login/idps", map[string]any{"idpId": ref.id, "ownerType": "IDP_OWNER_TYPE_ORG"}, org, 200)
		}
	}
	do(c, admin, "GET", "/admin/v1/policies/login", nil, "", 200)
	do(c, admin, "GET", "/management/v1/policies/login", nil, org, 200)
	// a whole IdP login: its tokens, verifier and password join the needles
	loginSecrets := idpLogin(t, s1.c.url, admin, org)
	// A SAML login at samlidp: the SP key (generated by the server) and
	// the assertion never leak; the assertion is in Retrieve's answer only.
	samlIdP := samltest.New(t)
	samlIdP.AddUser(t, "sam", "sam@example.com", "Sam", "Spade")
	samlID := field(t, do(c, admin, "POST", "/admin/v1/idps/saml", map[string]any{"name": "samlidp",
		"metadataXml": base64.StdEncoding.EncodeToString(samlIdP.Metadata(t))}, "", 200), "id")
	samlIdP.AddService(t, samlID, do(c, "", "GET", "/idps/"+samlID+"/saml/metadata", nil, "", 200), false)
	do(c, "", "GET", "/idps/"+samlID+"/saml/certificate", nil, "", 200)
	start := do(c, admin, "POST", "/v2/idp_intents", map[string]any{"idpId": samlID,
		"urls": map[string]string{"successUrl": "https://login.example/ok", "failureUrl": "https://login.example/fail"}}, "", 200)
	acs, form := samlIdP.Login(t, samltest.Start{AuthURL: field(t, start, "authUrl")}, "sam", false)
	rq := samlACS(t, c, acs, form, record)
	retrieved := do(c, admin, "POST", "/v2/idp_intents/"+rq.Get("id"), map[string]any{"idpIntentToken": rq.Get("token")}, "", 200)
	mu.Lock()
	assertionAt := len(responses) - 1
	mu.Unlock()
	var ri struct {
		IDPInformation struct {
			SAML struct {
				Assertion []byte `json:"assertion"`
			} `json:"saml"`
		} `json:"idpInformation"`
	}
	if err := json.Unmarshal(retrieved, &ri); err != nil || len(ri.IDPInformation.SAML.Assertion) == 0 {
		t.Fatalf("Retrieve of the SAML intent: %v %s", err, retrieved)
	}
	assertion := ri.IDPInformation.SAML.Assertion
	sigValue := regexp.MustCompile(`<ds:SignatureValue>([^<]+)</ds:SignatureValue>`).FindSubmatch(assertion)
	if sigValue == nil {
		t.Fatalf("the assertion is not signed: %s", assertion)
	}
	// the event API, the metrics and the OpenAPI document
	do(c, admin, "POST", "/admin/v1/events/_search", map[string]any{"limit": 1000}, "", 200)
	do(c, admin, "GET", "/metrics", nil, "", 200)
	do(c, admin, "GET", "/openapi.yaml", nil, "", 200)
	streamed := streamAll(t, s1.c.url, admin)
	mu.Lock()
	responses = append(responses, streamed)
	mu.Unlock()

	// Rotate to key B: the rotation process holds both keys.
	s1.stop()
	rot := apptest.Wire(t, app.Options{Pool: pool, Log: zerolog.New(log), MasterKey: keyB, OldMasterKeys: [][]byte{keyA}})
	n, err := rot.Commands().RotateAllKeys(context.Background(), nil, nil)
	if err != nil || n[inst.ID] != 24 {
		t.Fatalf("rotation: %v, %v (want 24 IdPs of the instance: every kind but jwt, twice, the login's and samlidp's)", n, err)
	}
	// From now on the old key is gone.
	s2 := startServer(t, pool, log, keyB)
	s2.c.record = record
	c = s2.c
	before := map[string][]byte{}
	for _, ref := range idps {
		before[ref.id] = do(c, admin, "GET", "/v2/idps/"+ref.id, nil, "", 200)
	}
	for _, ref := range idps[:6] {
		prefix := "/admin/v1"
		if ref.org != "" {
			prefix = "/management/v1"
		}
		// the stored secret opens under key B: the same secret again is no change
		do(c, admin, "PUT", prefix+"/idps/"+ref.kind+"/"+ref.id, withName(updated[ref.kind], "updated"), ref.org, 200)
		// an update without the secret keeps it
		noSecret := withName(updated[ref.kind], "renamed after rotation")
		delete(noSecret, "clientSecret")
		delete(noSecret, "bindPassword")
		delete(noSecret, "privateKey")
		do(c, admin, "PUT", prefix+"/idps/"+ref.kind+"/"+ref.id, noSecret, ref.org, 200)
		before[ref.id] = do(c, admin, "GET", "/v2/idps/"+ref.id, nil, "", 200)
	}
	if err := projection.Rebuild(context.Background(), pool, s2.app.Store(), s2.app.Registry(), nil, nil); err != nil {
		t.Fatalf("rebuild after rotation: %v", err)
	}
	for _, ref := range idps {
		if after := do(c, admin, "GET", "/v2/idps/"+ref.id, nil, "", 200); !bytes.Equal(after, before[ref.id]) {
			t.Errorf("idp %s changed by the rebuild:\nbefore %s\nafter  %s", ref.id, before[ref.id], after)
		}
	}
	do(c, admin, "POST", "/admin/v1/events/_search", map[string]any{"limit": 1000, "eventTypes": []string{"idp.secrets.resealed"}}, "", 200)
	s2.stop()

	// Grep everything.
	dump := pgDump(t, url)
	if !strings.Contains(dump, "idp.secrets.resealed") || !strings.Contains(dump, secretbox.KeyID(keyB)) {
		t.Fatalf("the dump does not hold the rotated events: is it the test database?")
	}
	for _, typ := range []string{"idpintent.succeeded", "idpintent.consumed", "session.intent.checked", "session.password.checked"} {
		if !strings.Contains(dump, typ) || !strings.Contains(streamed, typ) {
			t.Fatalf("the dump or the event stream lacks %s: did the IdP login run?", typ)
		}
	}
	logText := log.String()
	if !strings.Contains(logText, "/v2/idps/") {
		t.Fatalf("the server log holds no access lines: %.300s", logText)
	}
	keys := []string{base64.StdEncoding.EncodeToString(keyA), base64.StdEncoding.EncodeToString(keyB),
		hex.EncodeToString(keyA), hex.EncodeToString(keyB), string(keyA), string(keyB)}
	needles := map[string]string{}
	for _, s := range secrets {
		needles[s] = "IdP secret"
		needles[base64.StdEncoding.EncodeToString([]byte(s))] = "base64 of an IdP secret"
	}
	for _, k := range keys {
		needles[k] = "master key"
	}
	for _, p := range append(pats, inst.AdminPAT) {
		needles[p] = "PAT"
	}
	for v, what := range loginSecrets {
		needles[v] = what
	}
	for _, ref := range append(idps, idpRef{"saml", samlID, ""}) {
		if ref.kind == "saml" {
			for _, n := range spKeyNeedles(t, s2.app, inst.ID, ref.id) {
				needles[n] = "SAML SP key"
			}
		}
	}
	needles[string(sigValue[1])] = "SAML assertion's signature"
	needles[base64.StdEncoding.EncodeToString(assertion)] = "SAML assertion"
	for _, sec := range clientSecrets {
		needles[sec] = "client secret"
	}
	for details := range issuedKey {
		needles[details] = "machine key file"
	}
	for _, l := range privateKeyLines {
		needles[l] = "machine private key"
	}
	// The hashes of machine secrets are in the events only, and events
	// list redacts them.
	var machineHashes []string
	if err := pool.QueryRow(context.Background(), `SELECT coalesce(array_agg(payload->>'hashedSecret'), '{}') FROM events WHERE event_type = 'user.machine.secret.set'`).Scan(&machineHashes); err != nil {
		t.Fatal(err)
	}
	if len(machineHashes) != 3 {
		t.Fatalf("%d machine secret hashes, want 3", len(machineHashes))
	}
	for _, h := range machineHashes {
		for i, r := range responses {
			if strings.Contains(r, h) {
				t.Errorf("API response %d holds a machine secret's hash: %.200s", i, r)
			}
		}
		if strings.Contains(logText, h) {
			t.Errorf("the server log holds a machine secret's hash")
		}
	}
	// The hashes of client secrets are in the store (events and the apps
	// table) but never in a response (the event API redacts them) or a log.
	rows, err := pool.Query(context.Background(), `SELECT secret_hash FROM apps WHERE secret_hash <> ''`)
	if err != nil {
		t.Fatal(err)
	}
	hashes := 0
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			t.Fatal(err)
		}
		hashes++
		for i, r := range responses {
			if strings.Contains(r, h) {
				t.Errorf("API response %d holds a client secret's hash: %.200s", i, r)
			}
		}
		if strings.Contains(logText, h) {
			t.Errorf("the server log holds a client secret's hash")
		}
	}
	rows.Close()
	if hashes != 3 {
		t.Fatalf("%d client secret hashes in the apps table, want 3", hashes)
	}
	for sec, i := range issuedSecret {
		if !strings.Contains(responses[i], sec) {
			t.Fatalf("response %d does not hold the client secret it issued", i)
		}
	}
	// The grep can find a needle: each PAT is in the response that issued it.
	for _, p := range pats {
		if !strings.Contains(responses[issued[p]], p) {
			t.Fatalf("response %d does not hold the PAT it issued: %.200s", issued[p], responses[issued[p]])
		}
	}
	if !strings.Contains(responses[assertionAt], base64.StdEncoding.EncodeToString(assertion)) {
		t.Fatalf("response %d does not hold the assertion", assertionAt)
	}
	for needle, what := range needles {
		if strings.Contains(dump, needle) {
			t.Errorf("pg_dump holds a %s in plaintext (%.12s…)", what, needle)
		}
		if strings.Contains(logText, needle) {
			t.Errorf("the server log holds a %s in plaintext (%.12s…)", what, needle)
		}
		for i, r := range responses {
			if strings.Contains(r, needle) && !(what == "PAT" && issued[needle] == i) && !(what == "SAML assertion" && i == assertionAt) && !(what == "client secret" && issuedSecret[needle] == i) &&
				!(what == "machine key file" && issuedKey[needle] == i) {
				t.Errorf("API response %d holds a %s (%.12s…): %.200s", i, what, needle, r)
			}
		}
	}
	t.Logf("grepped %d needles in a %d-byte dump, a %d-byte log and %d responses", len(needles), len(dump), len(logText), len(responses))
}

// streamAll reads the event stream of the instance from its start until it
// has been quiet for a moment.
func streamAll(t *testing.T, url, token string) string {
	lines, stop := openStreamURL(t, url, "localhost", token)
	defer stop()
	var out strings.Builder
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return out.String()
			}
			out.WriteString(l + "\n")
		case <-time.After(700 * time.Millisecond):
			return out.String()
		}
	}
}

// pgDump dumps the database at url with pg_dump (the one on PATH, or the
// newest under /usr/lib/postgresql).
func pgDump(t *testing.T, url string) string {
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
		if len(found) == 0 {
			t.Fatalf("pg_dump not found on PATH or under /usr/lib/postgresql: install the PostgreSQL client")
		}
		sort.Strings(found)
		bin = found[len(found)-1]
	}
	cmd := exec.Command(bin, "--no-owner", "--dbname="+url)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_dump: %v: %s", err, stderr.String())
	}
	return string(out)
}

// samlACS posts the IdP's form to our ACS as the browser does (the ACS URL
// is on the instance's host) and returns the success redirect's query.
func samlACS(t *testing.T, c *client, acs string, form url.Values, record func(request, response)) url.Values {
	t.Helper()
	u, err := url.Parse(acs)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(form.Encode())
	hr, _ := http.NewRequest("POST", c.url+u.Path, bytes.NewReader(body))
	hr.Host = u.Host
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	loc := resp.Header.Get("Location")
	record(request{Method: "POST", Path: u.Path}, response{Status: resp.StatusCode, Body: append(b, loc...)})
	to, err := url.Parse(loc)
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc, "https://login.example/ok") {
		t.Fatalf("ACS: %d %s %s", resp.StatusCode, loc, b)
	}
	return to.Query()
}

// spKeyNeedles are the SP private key of SAML IdP id, opened with the
// app's keyring: each base64 line of its PEM and the whole DER in base64.
func spKeyNeedles(t *testing.T, a *app.App, instanceID, id string) []string {
	t.Helper()
	evs, err := a.Store().Aggregate(context.Background(), eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggIDP, ID: id}, 0)
	if err != nil || len(evs) == 0 {
		t.Fatalf("idp %s events: %v", id, err)
	}
	var key string
	var certPEM []byte
	for _, e := range evs {
		var p struct {
			Config struct {
				SPKey         string `json:"spKey"`
				SPCertificate []byte `json:"spCertificate"`
			} `json:"config"`
		}
		if err := e.Unmarshal(&p); err == nil && p.Config.SPKey != "" {
			key, certPEM = p.Config.SPKey, p.Config.SPCertificate
		}
	}
	sealed, err := secretbox.ParseSealed(key)
	if err != nil {
		t.Fatalf("idp %s: spKey %.20q is not sealed: %v", id, key, err)
	}
	pemText, err := a.Keys().Open(sealed, secretbox.AAD{InstanceID: instanceID, IDPID: id, Field: "spKey"})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		t.Fatalf("idp %s: spKey is not PEM", id)
	}
	// The key's lines that encode its public part (the modulus) may also be
	// in the certificate's base64, which is public: those are left out.
	cert, _ := pem.Decode(certPEM)
	if cert == nil {
		t.Fatalf("idp %s: spCertificate is not PEM", id)
	}
	var public string
	for i := range 3 {
		public += base64.StdEncoding.EncodeToString(cert.Bytes[i:]) + " "
	}
	out := []string{base64.StdEncoding.EncodeToString(block.Bytes)}
	for _, line := range strings.Split(pemText, "\n") {
		if len(line) == 64 && !strings.Contains(public, line) {
			out = append(out, line)
		}
	}
	if len(out) < 10 {
		t.Fatalf("idp %s: only %d needles from the SP key", id, len(out))
	}
	return out
}
