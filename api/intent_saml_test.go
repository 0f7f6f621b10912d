package api_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/crewjam/saml"

	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/samltest"
)

// The SAML family end to end against crewjam/saml's samlidp, a real SAML
// IdP in process on loopback (login-flows.md §6): our SP metadata is
// registered at the IdP (PUT /services/{id}), a user is added (PUT
// /users/{name}), the browser runs the IdP's login form and posts the
// auto-submit form (SAMLResponse, RelayState) to our ACS.

// addSAMLIdP adds a SAML IdP with the IdP's metadata and extra template
// fields, and registers our SP metadata at the IdP (plain: without our
// encryption key, so that the tests can edit the assertion).
func addSAMLIdP(t *testing.T, env *apptest.Env, s *samltest.IdP, extra map[string]any, plain bool) string {
	t.Helper()
	body := map[string]any{"name": "SAML", "metadataXml": base64.StdEncoding.EncodeToString(s.Metadata(t))}
	for k, v := range extra {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	id := plIDP(t, env, "", "saml", string(b))
	s.RegisterSP(t, env.URL+"/idps/"+id+"/saml/metadata", id, plain)
	return id
}

// samlStart is a StartIdentityProviderIntent answer as samltest takes it.
func samlStart(t *testing.T, start map[string]any) samltest.Start {
	t.Helper()
	if au, ok := start["authUrl"].(string); ok {
		return samltest.Start{AuthURL: au}
	}
	fd, _ := start["formData"].(map[string]any)
	if fd == nil {
		t.Fatalf("neither authUrl nor formData: %v", start)
	}
	fields := url.Values{}
	for k, v := range fd["fields"].(map[string]any) {
		fields.Set(k, v.(string))
	}
	return samltest.Start{FormURL: fd["url"].(string), FormData: fields}
}

// samlLoginForm starts an intent's upstream part and returns the IdP's
// auto-submit form.
func samlLoginForm(t *testing.T, s *samltest.IdP, start map[string]any, user string, session bool) (string, url.Values) {
	t.Helper()
	return s.Login(t, samlStart(t, start), user, session)
}

// postACS posts the form to our ACS like the browser and returns the 302's
// Location, or fails on any other status.
func postACS(t *testing.T, acs string, fields url.Values) string {
	t.Helper()
	st, to, body := postACSRaw(t, acs, fields)
	if st != http.StatusFound {
		t.Fatalf("ACS answered %d %s", st, body)
	}
	return to
}

func postACSRaw(t *testing.T, acs string, fields url.Values) (int, string, []byte) {
	t.Helper()
	b := newBrowser(t, nil)
	resp, err := b.c.PostForm(acs, fields)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), body
}

// samlLogin is a whole login to the success redirect: intent ID and token.
func samlLogin(t *testing.T, env *apptest.Env, s *samltest.IdP, idpID, user string) (id, token string, acs string) {
	t.Helper()
	acs, fields := samlLoginForm(t, s, startIntent(t, env, idpID), user, false)
	rq := redirectQuery(t, postACS(t, acs, fields), "https://login.example/idp/success")
	return rq.Get("id"), rq.Get("token"), acs
}

// editResponse decodes a SAMLResponse, applies f and encodes it again.
func editResponse(t *testing.T, fields url.Values, f func(string) string) url.Values {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(fields.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	edited := f(string(raw))
	if edited == string(raw) {
		t.Fatalf("the edit changed nothing in %s", raw)
	}
	out := url.Values{"RelayState": {fields.Get("RelayState")}, "SAMLResponse": {base64.StdEncoding.EncodeToString([]byte(edited))}}
	return out
}

func TestIntentSAML(t *testing.T) {
	env := newIntentEnv(t, nil)
	s := samltest.New(t)
	s.AddUser(t, "alice", "alice@example.com", "Alice", "Smith")

	for _, tc := range []struct {
		name   string
		extra  map[string]any
		signed bool
	}{
		{"redirect", map[string]any{"binding": "SAML_BINDING_REDIRECT"}, false},
		{"redirect signed", map[string]any{"binding": "SAML_BINDING_REDIRECT", "withSignedRequest": true}, true},
		{"post", map[string]any{"binding": "SAML_BINDING_POST"}, false},
		{"post signed", map[string]any{"binding": "SAML_BINDING_POST", "withSignedRequest": true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Signed requests: the IdP refuses unsigned ones and SHA-1.
			s.Server.IDP.WantAuthnRequestsSigned, s.Server.IDP.RejectSHA1Signatures = tc.signed, tc.signed
			idpID := addSAMLIdP(t, env, s, tc.extra, false)
			start := startIntent(t, env, idpID)
			if strings.Contains(tc.name, "post") {
				fd, _ := start["formData"].(map[string]any)
				if fd == nil || fd["url"] != s.URL+"/sso" || start["authUrl"] != nil {
					t.Fatalf("POST binding start: %v", start)
				}
				req, _ := base64.StdEncoding.DecodeString(fmt.Sprint(jsonPath(t, start, "formData", "fields", "SAMLRequest")))
				if f, _ := jsonPath(t, start, "formData", "fields", "RelayState").(string); f == "" ||
					tc.signed != bytes.Contains(req, []byte("xmldsig-more#rsa-sha256")) {
					t.Fatalf("POST binding fields: %v", start)
				}
			} else {
				au, _ := start["authUrl"].(string)
				if !strings.HasPrefix(au, s.URL+"/sso?") || tc.signed != strings.Contains(au, "SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256") {
					t.Fatalf("Redirect binding authUrl: %v", start)
				}
			}
			acs, fields := samlLoginForm(t, s, start, "alice", tc.signed && !strings.Contains(tc.name, "post"))
			if acs != env.URL+"/idps/"+idpID+"/saml/acs" {
				t.Fatalf("the IdP posts to %s", acs)
			}
			got := retrieveFrom(t, env, postACS(t, acs, fields))
			wantUser(t, got, "alice@example.com", "alice", "alice@example.com", false)
			if jsonPath(t, got, "idpInformation", "rawInformation", "id") != "alice@example.com" ||
				jsonPath(t, got, "addHumanUser", "profile", "givenName") != "Alice" ||
				jsonPath(t, got, "addHumanUser", "profile", "familyName") != "Smith" {
				t.Fatalf("the mapped user: %v", got)
			}
			a, _ := base64.StdEncoding.DecodeString(fmt.Sprint(jsonPath(t, got, "idpInformation", "saml", "assertion")))
			if !bytes.Contains(a, []byte("alice@example.com")) || !bytes.Contains(a, []byte("Assertion")) {
				t.Fatalf("idpInformation.saml.assertion: %s", a)
			}
		})
	}
	s.Server.IDP.WantAuthnRequestsSigned, s.Server.IDP.RejectSHA1Signatures = false, false

	idpID := addSAMLIdP(t, env, s, nil, true)
	other := addSAMLIdP(t, env, s, nil, false)
	failed := func(t *testing.T, to string) {
		t.Helper()
		rq := redirectQuery(t, to, "https://login.example/idp/failure")
		if rq.Get("error") == "" {
			t.Fatalf("failure redirect without error: %s", to)
		}
	}

	t.Run("certificate", func(t *testing.T) {
		resp, err := http.Get(env.URL + "/idps/" + idpID + "/saml/certificate")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(b, []byte("-----BEGIN CERTIFICATE-----")) {
			t.Fatalf("certificate: %d %s", resp.StatusCode, b)
		}
		if st, body := env.Do(t, "GET", "/idps/999999/saml/metadata", nil); st != http.StatusNotFound {
			t.Fatalf("metadata of an unknown IdP: %d %s", st, body)
		}
	})

	t.Run("tampered attribute", func(t *testing.T) {
		acs, fields := samlLoginForm(t, s, startIntent(t, env, idpID), "alice", false)
		failed(t, postACS(t, acs, editResponse(t, fields, func(x string) string { return strings.Replace(x, ">Alice<", ">Mallory<", 1) })))
	})

	t.Run("unsigned assertion", func(t *testing.T) {
		sig := regexp.MustCompile(`(?s)<ds:Signature.*?</ds:Signature>`)
		acs, fields := samlLoginForm(t, s, startIntent(t, env, idpID), "alice", false)
		failed(t, postACS(t, acs, editResponse(t, fields, func(x string) string { return sig.ReplaceAllString(x, "") })))
	})

	t.Run("wrong InResponseTo and replay", func(t *testing.T) {
		acs, fields := samlLoginForm(t, s, startIntent(t, env, idpID), "alice", false)
		// Another intent's RelayState with this response: its request ID
		// is not the response's InResponseTo.
		second := startIntent(t, env, idpID)
		au, _ := url.Parse(second["authUrl"].(string))
		cross := url.Values{"SAMLResponse": fields["SAMLResponse"], "RelayState": {au.Query().Get("RelayState")}}
		failed(t, postACS(t, acs, cross))
		// The right intent succeeds once; the replay fails.
		redirectQuery(t, postACS(t, acs, fields), "https://login.example/idp/success")
		rq := redirectQuery(t, postACS(t, acs, fields), "https://login.example/idp/failure")
		if rq.Get("error") != "IDP-Sfrgs" {
			t.Fatalf("replay: %v", rq)
		}
	})

	t.Run("another IdP's ACS", func(t *testing.T) {
		_, fields := samlLoginForm(t, s, startIntent(t, env, idpID), "alice", false)
		st, _, body := postACSRaw(t, env.URL+"/idps/"+other+"/saml/acs", fields)
		if st != http.StatusBadRequest || apptest.ErrorID(body) != "SAML-ui9wyux0hp" {
			t.Fatalf("an intent posted to another IdP's ACS: %d %s", st, body)
		}
	})

	t.Run("session with the intent", func(t *testing.T) {
		org := env.CreateOrg(t, "acme")
		alice, bob := env.CreateHuman(t, org, "alice"), env.CreateHuman(t, org, "bob")
		env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+alice+"/links",
			map[string]any{"idpLink": map[string]string{"idpId": idpID, "userId": "alice@example.com", "userName": "alice"}})
		id, token, _ := samlLogin(t, env, s, idpID, "alice")
		got := env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents/"+id, map[string]string{"idpIntentToken": token})
		if got["userId"] != alice {
			t.Fatalf("retrieve of a linked user: %v", got)
		}
		sessionsWithIntent(t, env, id, token, alice, bob)
	})

	t.Run("created", func(t *testing.T) {
		s.AddUser(t, "carol", "carol@example.com", "Carol", "Jones")
		idp := inLoginPolicy(t, env, addSAMLIdP(t, env, s, map[string]any{"providerOptions": signInOptions}, false))
		signInTwice(t, env, idp, true, viaRedirect(func(t *testing.T) string {
			acs, fields := samlLoginForm(t, s, startIntent(t, env, idp), "carol", false)
			return postACS(t, acs, fields)
		}))
	})

	t.Run("metadata URL", func(t *testing.T) {
		body, _ := json.Marshal(map[string]any{"name": "SAML by URL", "metadataUrl": s.URL + "/metadata"})
		byURL := plIDP(t, env, "", "saml", string(body))
		s.RegisterSP(t, env.URL+"/idps/"+byURL+"/saml/metadata", byURL, false)
		start := startIntent(t, env, byURL)
		if au, _ := start["authUrl"].(string); !strings.HasPrefix(au, s.URL+"/sso?") {
			t.Fatalf("no binding given: Redirect, from the fetched metadata: %v", start)
		}
		acs, fields := samlLoginForm(t, s, start, "alice", false)
		got := retrieveFrom(t, env, postACS(t, acs, fields))
		if jsonPath(t, got, "idpInformation", "idpId") != byURL || jsonPath(t, got, "idpInformation", "userId") != "alice@example.com" {
			t.Fatalf("retrieve: %v", got)
		}
	})

	t.Run("transient NameID", func(t *testing.T) {
		s.Server.IDP.AssertionMaker = transientNameIDs{}
		t.Cleanup(func() { s.Server.IDP.AssertionMaker = nil })
		mapped := addSAMLIdP(t, env, s, map[string]any{"transientMappingAttributeName": "urn:oid:0.9.2342.19200300.100.1.1"}, false)
		_, fields := samlLoginForm(t, s, startIntent(t, env, mapped), "alice", false)
		got := retrieveFrom(t, env, postACS(t, env.URL+"/idps/"+mapped+"/saml/acs", fields))
		if jsonPath(t, got, "idpInformation", "userId") != "alice" {
			t.Fatalf("transient NameID mapped by uid: %v", got)
		}
		// Without the mapping attribute a transient NameID is refused.
		acs, fields := samlLoginForm(t, s, startIntent(t, env, idpID), "alice", false)
		failed(t, postACS(t, acs, fields))
	})
}

// transientNameIDs is samlidp's assertion maker with a random transient
// NameID, as IdPs that hide the user's identifier send.
type transientNameIDs struct{}

func (transientNameIDs) MakeAssertion(req *saml.IdpAuthnRequest, session *saml.Session) error {
	s := *session
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	s.NameID, s.NameIDFormat = fmt.Sprintf("_%x", b), string(saml.TransientNameIDFormat)
	return saml.DefaultAssertionMaker{}.MakeAssertion(req, &s)
}
