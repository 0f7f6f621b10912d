package rpc_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	userv2 "github.com/idledger/idledger/gen/zitadel/user/v2"
	"github.com/idledger/idledger/internal/samltest"
)

// TestSAMLIntentRPC: a SAML IdP with the POST binding (crewjam samlidp on
// loopback), started over RPC: the answer carries formData (url, fields:
// SAMLRequest and RelayState), as ZITADEL's; the login then runs at the
// IdP and our ACS, and Retrieve answers idpInformation.saml.assertion over
// REST and RPC alike.
func TestSAMLIntentRPC(t *testing.T) {
	e := newIntentEnv(t)
	s := samltest.New(t)
	s.AddUser(t, "alice", "alice@example.com", "Alice", "Smith")
	id := e.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/saml", map[string]any{"name": "SAML",
		"metadataXml": base64.StdEncoding.EncodeToString(s.Metadata(t)), "binding": "SAML_BINDING_POST",
		"withSignedRequest": true})["id"].(string)
	s.RegisterSP(t, e.URL+"/idps/"+id+"/saml/metadata", id, false)

	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			got, err := call[userv2.StartIdentityProviderIntentRequest, userv2.StartIdentityProviderIntentResponse](t, e.Env, p,
				userV2+"StartIdentityProviderIntent", &userv2.StartIdentityProviderIntentRequest{IdpId: id,
					Content: &userv2.StartIdentityProviderIntentRequest_Urls{Urls: &userv2.RedirectURLs{SuccessUrl: intentSuccess, FailureUrl: intentFailure}}})
			fd := got.GetFormData()
			if err != nil || fd.GetUrl() != s.URL+"/sso" || fd.GetFields()["RelayState"] == "" || got.GetAuthUrl() != "" {
				t.Fatalf("Start over RPC: %v %v", got, err)
			}
			req, _ := base64.StdEncoding.DecodeString(fd.GetFields()["SAMLRequest"])
			if !bytes.Contains(req, []byte("xmldsig-more#rsa-sha256")) {
				t.Fatalf("the AuthnRequest is not signed with RSA-SHA256: %s", req)
			}
			fields := url.Values{}
			for k, v := range fd.GetFields() {
				fields.Set(k, v)
			}
			acs, form := s.Login(t, samltest.Start{FormURL: fd.GetUrl(), FormData: fields}, "alice", false)
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := c.PostForm(acs, form)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			to, _ := url.Parse(res.Header.Get("Location"))
			if res.StatusCode != http.StatusFound || !strings.HasPrefix(to.String(), intentSuccess) {
				t.Fatalf("ACS: %d to %s", res.StatusCode, to)
			}
			intent, token := to.Query().Get("id"), to.Query().Get("token")
			r, err := both[userv2.RetrieveIdentityProviderIntentRequest, userv2.RetrieveIdentityProviderIntentResponse](t, e.Env, p,
				userV2+"RetrieveIdentityProviderIntent", "POST", "/v2/idp_intents/"+intent, map[string]string{"idpIntentToken": token},
				&userv2.RetrieveIdentityProviderIntentRequest{IdpIntentId: intent, IdpIntentToken: token}, nil)
			info := r.GetIdpInformation()
			if err != nil || info.GetUserId() != "alice@example.com" || !bytes.Contains(info.GetSaml().GetAssertion(), []byte("alice@example.com")) {
				t.Fatalf("Retrieve over RPC: %v %v", r, err)
			}
		})
	}
}
