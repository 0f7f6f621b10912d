package upstream

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/idp"
)

// The SAML family, with crewjam/saml's ServiceProvider: the IdP's metadata
// (metadataXml, or metadataUrl fetched with the registry's bounded client),
// the Redirect or POST binding, AuthnRequests signed with RSA-SHA256 when
// withSignedRequest is set (ZITADEL's samlsp default is RSA-SHA1), a signed
// Response or signed assertion required (ParseXMLResponse), InResponseTo
// checked against the request ID saved at Begin, audience and time
// conditions checked by the library.
//
// The SP of IdP {id} lives under {origin}/idps/{id}/saml/: its entity ID is
// the metadata URL (as ZITADEL's), the ACS is saml/acs (HTTP-POST only).

// SAMLPath is the SP's root under the instance origin: {origin}/idps/{id}/saml.
func SAMLPath(idpID string) string { return "/idps/" + idpID + "/saml" }

// ErrNoSPKey: the SAML IdP was stored without an SP key pair (added before
// the server generated one); updating the IdP generates it.
var ErrNoSPKey = errs.FailedPrecondition("SAML-key0", "Errors.IDP.SAML.NoKey")

// savedRequestID is the Start.Saved key of the AuthnRequest's ID.
const savedRequestID = "samlRequestId"

// ServiceProvider is a SAML IdP's SP as the metadata endpoints show it.
type ServiceProvider interface {
	// Metadata is the SP's EntityDescriptor (application/samlmetadata+xml).
	Metadata() ([]byte, error)
	// Certificate is the SP's certificate, PEM.
	Certificate() []byte
}

type samlProvider struct {
	sp        saml.ServiceProvider
	binding   string
	transient string // transientMappingAttributeName
	certPEM   []byte
}

func buildSAML(ctx context.Context, r *Registry, l Login) (any, error) {
	c, ok := l.Template.Config.(*idp.SAMLConfig)
	if !ok {
		return nil, fmt.Errorf("upstream: %T is not a SAML config", l.Template.Config)
	}
	if c.Key == "" || len(c.Certificate) == 0 {
		return nil, ErrNoSPKey
	}
	key, cert, err := spKeyPair(c.Key, c.Certificate)
	if err != nil {
		return nil, err
	}
	raw := []byte(c.MetadataXML)
	if len(raw) == 0 {
		if raw, err = fetchMetadata(ctx, r.client, c.MetadataURL); err != nil {
			return nil, err
		}
	}
	md, err := samlsp.ParseMetadata(raw)
	if err != nil {
		return nil, errs.InvalidArgument("SAML-qee09ffuq5", "Errors.Intent.IDPInvalid")
	}
	root, err := url.Parse(l.Origin + SAMLPath(l.IDPID))
	if err != nil || root.Host == "" {
		return nil, fmt.Errorf("upstream: SAML SP root %q: %v", l.Origin, err)
	}
	metadataURL, acsURL := *root, *root
	metadataURL.Path += "/metadata"
	acsURL.Path += "/acs"
	p := &samlProvider{certPEM: c.Certificate, sp: saml.ServiceProvider{
		EntityID:                         metadataURL.String(),
		Key:                              key,
		Certificate:                      cert,
		MetadataURL:                      metadataURL,
		AcsURL:                           acsURL,
		IDPMetadata:                      md,
		HTTPClient:                       r.client,
		AuthnNameIDFormat:                nameIDFormat(c.NameIDFormat),
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
	}}
	if c.WithSignedRequest {
		p.sp.SignatureMethod = dsig.RSASHA256SignatureMethod
	}
	if c.TransientMappingAttributeName != nil {
		p.transient = *c.TransientMappingAttributeName
	}
	// The template's binding, else Redirect, else POST, as ZITADEL's.
	switch b := string(c.Binding); {
	case (b == saml.HTTPRedirectBinding || b == saml.HTTPPostBinding) && p.sp.GetSSOBindingLocation(b) != "":
		p.binding = b
	case b == "" && p.sp.GetSSOBindingLocation(saml.HTTPRedirectBinding) != "":
		p.binding = saml.HTTPRedirectBinding
	case b == "" && p.sp.GetSSOBindingLocation(saml.HTTPPostBinding) != "":
		p.binding = saml.HTTPPostBinding
	default:
		return nil, errs.InvalidArgument("SAML-qee09ffuq5", "Errors.Intent.IDPInvalid")
	}
	return p, nil
}

// spKeyPair parses the stored PEM key (PKCS #1 or #8) and certificate.
func spKeyPair(keyPEM string, certPEM []byte) (*rsa.PrivateKey, *x509.Certificate, error) {
	pair, err := tls.X509KeyPair(certPEM, []byte(keyPEM))
	if err != nil {
		return nil, nil, fmt.Errorf("upstream: the SAML SP key pair: %w", err)
	}
	key, ok := pair.PrivateKey.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("upstream: the SAML SP key is not RSA")
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, fmt.Errorf("upstream: the SAML SP certificate: %w", err)
	}
	return key, cert, nil
}

func fetchMetadata(ctx context.Context, c *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("upstream: SAML metadata URL: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("upstream: SAML metadata: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("upstream: SAML metadata: %s answered %d", u, resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("upstream: SAML metadata: %w", err)
	}
	return b, nil
}

// nameIDFormat: persistent by default (ZITADEL's), unspecified when the
// template says so explicitly.
func nameIDFormat(f *idp.SAMLNameIDFormat) saml.NameIDFormat {
	if f == nil {
		return saml.PersistentNameIDFormat
	}
	switch *f {
	case idp.SAMLNameIDFormatEmailAddress:
		return saml.EmailAddressNameIDFormat
	case idp.SAMLNameIDFormatTransient:
		return saml.TransientNameIDFormat
	case idp.SAMLNameIDFormatUnspecified:
		return saml.UnspecifiedNameIDFormat
	}
	return saml.PersistentNameIDFormat
}

// Begin makes the AuthnRequest: a redirect (signed in the query with
// RSA-SHA256 when withSignedRequest is set) or a form to post (an
// enveloped signature). RelayState is the intent ID.
func (p *samlProvider) Begin(_ context.Context, state string) (Start, error) {
	dest := p.sp.GetSSOBindingLocation(p.binding)
	req, err := p.sp.MakeAuthenticationRequest(dest, p.binding, saml.HTTPPostBinding)
	if err != nil {
		return Start{}, fmt.Errorf("upstream: SAML AuthnRequest: %w", err)
	}
	saved := map[string]string{savedRequestID: req.ID}
	if p.binding == saml.HTTPRedirectBinding {
		u, err := req.Redirect(state, &p.sp)
		if err != nil {
			return Start{}, fmt.Errorf("upstream: SAML AuthnRequest: %w", err)
		}
		return Start{AuthURL: u.String(), Saved: saved}, nil
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	b, err := doc.WriteToBytes()
	if err != nil {
		return Start{}, fmt.Errorf("upstream: SAML AuthnRequest: %w", err)
	}
	return Start{Form: &Form{URL: dest, Fields: map[string]string{
		"SAMLRequest": base64.StdEncoding.EncodeToString(b), "RelayState": state,
	}}, Saved: saved}, nil
}

// errResponseInvalid is every refused SAMLResponse: the library's reason
// (a bad signature, a wrong InResponseTo, an expired assertion) stays in
// its private error, never in the failure redirect.
var errResponseInvalid = errs.InvalidArgument("SAML-nuo0vphhh9", "Errors.Intent.ResponseInvalid")

// Finish checks the SAMLResponse the ACS received and maps its assertion.
func (p *samlProvider) Finish(_ context.Context, saved map[string]string, cb Callback) (Result, error) {
	id := saved[savedRequestID]
	if id == "" || cb.SAMLResponse == "" {
		return Result{}, errResponseInvalid
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cb.SAMLResponse))
	if err != nil {
		return Result{}, errResponseInvalid
	}
	a, err := p.sp.ParseXMLResponse(raw, []string{id}, p.sp.AcsURL)
	if err != nil {
		return Result{}, errResponseInvalid
	}
	u, err := samlUser(a, p.transient)
	if err != nil {
		return Result{}, err
	}
	xmlA, err := xml.Marshal(a)
	if err != nil {
		return Result{}, fmt.Errorf("upstream: SAML assertion: %w", err)
	}
	res := Result{User: u, Assertion: xmlA}
	if a.Conditions != nil {
		res.ExpiresAt = a.Conditions.NotOnOrAfter
	}
	return res, nil
}

// The attributes of each user field, by Name or FriendlyName (compared
// without case): the common names, the URN OIDs of the LDAP schema (which
// samlidp and Shibboleth send) and the WS-Federation claim URIs (ADFS,
// Entra ID).
var (
	samlEmail = []string{"urn:oid:0.9.2342.19200300.100.1.3", "mail", "email", "emailaddress",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"}
	samlFirst = []string{"urn:oid:2.5.4.42", "givenName", "given_name", "firstName",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"}
	samlLast = []string{"urn:oid:2.5.4.4", "sn", "surname", "lastName", "family_name",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"}
	samlDisplay = []string{"urn:oid:2.16.840.1.113730.3.1.241", "displayName", "urn:oid:2.5.4.3", "cn",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "http://schemas.microsoft.com/identity/claims/displayname"}
	samlUsername = []string{"urn:oid:0.9.2342.19200300.100.1.1", "uid", "username", "preferred_username",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"}
)

// samlUser maps an assertion: the ID is the NameID, or, for a transient
// NameID or none, the single value of attribute transient (by Name, as
// ZITADEL's). Raw is ZITADEL's {"id", "attributes": {name: [values]}}.
// Email is never counted as verified: SAML does not say.
func samlUser(a *saml.Assertion, transient string) (User, error) {
	attrs := map[string][]string{}
	friendly := map[string][]string{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			for _, v := range at.Values {
				attrs[at.Name] = append(attrs[at.Name], v.Value)
				if at.FriendlyName != "" {
					friendly[at.FriendlyName] = append(friendly[at.FriendlyName], v.Value)
				}
			}
		}
	}
	var nameID *saml.NameID
	if a.Subject != nil {
		nameID = a.Subject.NameID
	}
	id := ""
	if nameID != nil && nameID.Format != string(saml.TransientNameIDFormat) {
		id = nameID.Value
	} else {
		if transient == "" {
			return User{}, errs.InvalidArgument("SAML-EFG32", "Errors.Intent.ResponseInvalid")
		}
		vs := attrs[transient]
		if len(vs) != 1 || vs[0] == "" {
			return User{}, errs.InvalidArgument("SAML-swwg2", "Errors.Intent.ResponseInvalid")
		}
		id = vs[0]
	}
	if id == "" {
		return User{}, errs.InvalidArgument("SAML-Soij4", "Errors.Intent.ResponseInvalid")
	}
	pick := func(names []string) string {
		for _, n := range names {
			for _, m := range []map[string][]string{attrs, friendly} {
				for k, vs := range m {
					if strings.EqualFold(k, n) && len(vs) > 0 && vs[0] != "" {
						return vs[0]
					}
				}
			}
		}
		return ""
	}
	rawAttrs := map[string]any{}
	for k, vs := range attrs {
		rawAttrs[k] = vs
	}
	u := User{ID: id, Email: pick(samlEmail), FirstName: pick(samlFirst), LastName: pick(samlLast),
		DisplayName: pick(samlDisplay), PreferredUsername: pick(samlUsername),
		Raw: map[string]any{"id": id, "attributes": rawAttrs}}
	if u.DisplayName == "" && (u.FirstName != "" || u.LastName != "") {
		u.DisplayName = strings.TrimSpace(u.FirstName + " " + u.LastName)
	}
	return u, nil
}

// Metadata is the SP's EntityDescriptor.
func (p *samlProvider) Metadata() ([]byte, error) {
	b, err := xml.MarshalIndent(p.sp.Metadata(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("upstream: SAML SP metadata: %w", err)
	}
	return b, nil
}

// Certificate is the SP's certificate, PEM.
func (p *samlProvider) Certificate() []byte { return p.certPEM }

// ServiceProvider returns the SAML SP of l, built once per key like
// Provider's.
//
// Errors: as Provider's; ErrNoSPKey for an IdP stored without a key pair.
func (r *Registry) ServiceProvider(ctx context.Context, l Login) (ServiceProvider, error) {
	return providerAs[ServiceProvider](ctx, r, l, "SAML")
}
