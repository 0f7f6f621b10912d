// Package samltest runs crewjam/saml's samlidp, a real SAML IdP, in process
// on loopback for tests (login-flows.md §6): its own key and certificate,
// an in-memory store, a service provider registered from its metadata
// (PUT /services/{id}) and users (PUT /users/{name}); Login runs the
// browser's part of a login, from the SP's start to the auto-submit form
// the IdP answers (the ACS URL, SAMLResponse and RelayState), which the
// test posts to the SP's ACS. The server is closed in t.Cleanup.
//
// Imports: the standard library and third-party modules only.
package samltest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"html"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/crewjam/saml/samlidp"
)

// IdP is a running samlidp.
type IdP struct {
	URL    string
	Server *samlidp.Server // its IDP's fields may be changed between logins
}

// New starts samlidp with a new RSA key and self-signed certificate.
func New(t testing.TB) *IdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "samlidp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	var h http.Handler
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(hs.Close)
	u, _ := url.Parse(hs.URL)
	srv, err := samlidp.New(samlidp.Options{URL: *u, Key: key, Certificate: cert, Store: &samlidp.MemoryStore{},
		Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	h = srv
	return &IdP{URL: hs.URL, Server: srv}
}

// Do calls the IdP (its admin API, its metadata) and fails on a non-2xx.
func (s *IdP) Do(t testing.TB, method, path string, body []byte) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("samlidp %s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return b
}

// Metadata is the IdP's metadata XML.
func (s *IdP) Metadata(t testing.TB) []byte { return s.Do(t, "GET", "/metadata", nil) }

// AddUser adds a user whose password is "pw-" + name.
func (s *IdP) AddUser(t testing.TB, name, email, given, surname string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"name": name, "password": "pw-" + name, "email": email, "given_name": given, "surname": surname})
	s.Do(t, "PUT", "/users/"+name, b)
}

var encryptionKeyRe = regexp.MustCompile(`(?s)<KeyDescriptor use="encryption">.*?</KeyDescriptor>`)

// AddService registers an SP from its metadata. With plain set, its
// encryption key is left out, so the IdP sends assertions unencrypted.
func (s *IdP) AddService(t testing.TB, id string, metadata []byte, plain bool) {
	t.Helper()
	if plain {
		metadata = encryptionKeyRe.ReplaceAll(metadata, nil)
	}
	s.Do(t, "PUT", "/services/"+id, metadata)
}

// RegisterSP fetches an SP's metadata from its URL (which must answer 200
// with application/samlmetadata+xml) and registers it as service id.
func (s *IdP) RegisterSP(t testing.TB, metadataURL, id string, plain bool) {
	t.Helper()
	resp, err := http.Get(metadataURL)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Fatalf("SP metadata at %s: %d %s %s", metadataURL, resp.StatusCode, resp.Header.Get("Content-Type"), md)
	}
	s.AddService(t, id, md, plain)
}

var (
	formActionRe = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenRe     = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
)

// form reads the first form of an HTML page: its action and hidden fields.
func form(t testing.TB, page []byte) (string, url.Values) {
	t.Helper()
	m := formActionRe.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no form in %s", page)
	}
	fields := url.Values{}
	for _, h := range hiddenRe.FindAllSubmatch(page, -1) {
		fields.Set(string(h[1]), html.UnescapeString(string(h[2])))
	}
	return html.UnescapeString(string(m[1])), fields
}

// Start is how the SP sends the browser to the IdP: a redirect (AuthURL)
// or the POST binding's form.
type Start struct {
	AuthURL  string
	FormURL  string
	FormData url.Values
}

// Login runs the browser from start through the IdP's login form (user,
// password "pw-" + user) and returns the auto-submit form the IdP answers:
// the ACS URL and its fields (SAMLResponse, RelayState).
//
// With session set, the browser signs in at the IdP first (POST /login)
// and the IdP answers at once, without its login form: that is how a
// signed Redirect-binding request is tested, since samlidp's login form
// re-posts the SAMLRequest without the query's signature.
func (s *IdP) Login(t testing.TB, start Start, user string, session bool) (string, url.Values) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(u string, f url.Values) []byte {
		t.Helper()
		resp, err := c.PostForm(u, f)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("samlidp POST %s: %d %s", u, resp.StatusCode, b)
		}
		return b
	}
	if session {
		post(s.URL+"/login", url.Values{"user": {user}, "password": {"pw-" + user}})
	}
	var page []byte
	if start.AuthURL != "" {
		resp, err := c.Get(start.AuthURL)
		if err != nil {
			t.Fatal(err)
		}
		page, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("samlidp GET %s: %d %s", start.AuthURL, resp.StatusCode, page)
		}
	} else {
		page = post(start.FormURL, start.FormData)
	}
	if !bytes.Contains(page, []byte("SAMLResponse")) {
		if !bytes.Contains(page, []byte(`name="password"`)) {
			t.Fatalf("neither a login form nor a response at the IdP: %s", page)
		}
		action, fields := form(t, page)
		fields.Set("user", user)
		fields.Set("password", "pw-"+user)
		page = post(action, fields)
		if !bytes.Contains(page, []byte("SAMLResponse")) {
			t.Fatalf("no SAMLResponse form after the login: %s", page)
		}
	}
	return form(t, page)
}
