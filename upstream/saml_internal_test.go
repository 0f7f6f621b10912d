package upstream

import (
	"testing"

	"github.com/crewjam/saml"

	"github.com/idledger/idledger/errs"
)

func samlAttrs(nameID *saml.NameID, attrs ...saml.Attribute) *saml.Assertion {
	return &saml.Assertion{Subject: &saml.Subject{NameID: nameID},
		AttributeStatements: []saml.AttributeStatement{{Attributes: attrs}}}
}

func attr(name, friendly string, values ...string) saml.Attribute {
	a := saml.Attribute{Name: name, FriendlyName: friendly}
	for _, v := range values {
		a.Values = append(a.Values, saml.AttributeValue{Value: v})
	}
	return a
}

// TestSAMLUser: the ID from the NameID or, when transient, the mapping
// attribute (by Name); the profile from OIDs, friendly names and the
// WS-Federation claims, case-insensitive.
func TestSAMLUser(t *testing.T) {
	persistent := &saml.NameID{Format: string(saml.PersistentNameIDFormat), Value: "p-1"}
	transient := &saml.NameID{Format: string(saml.TransientNameIDFormat), Value: "_random"}
	adfs := samlAttrs(persistent,
		attr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "", "a@example.com"),
		attr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "", "Ann"),
		attr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "", "Lee"),
		attr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", "", "ann@corp"))
	u, err := samlUser(adfs, "")
	if err != nil || u.ID != "p-1" || u.Email != "a@example.com" || u.FirstName != "Ann" || u.LastName != "Lee" ||
		u.PreferredUsername != "ann@corp" || u.DisplayName != "Ann Lee" || u.EmailVerified {
		t.Fatalf("ADFS claims: %+v %v", u, err)
	}
	oids := samlAttrs(transient, attr("urn:oid:0.9.2342.19200300.100.1.1", "uid", "bob"),
		attr("urn:oid:2.16.840.1.113730.3.1.241", "displayName", "Bobby"), attr("Mail", "", "b@example.com"))
	if u, err := samlUser(oids, "urn:oid:0.9.2342.19200300.100.1.1"); err != nil || u.ID != "bob" || u.DisplayName != "Bobby" ||
		u.Email != "b@example.com" || u.Raw["id"] != "bob" {
		t.Fatalf("transient with uid: %+v %v", u, err)
	}
	for _, tc := range []struct {
		name, mapping, id string
		a                 *saml.Assertion
	}{
		{"transient without mapping", "", "SAML-EFG32", oids},
		{"mapping by friendly name only", "uid", "SAML-swwg2", oids},
		{"two values", "m", "SAML-swwg2", samlAttrs(transient, attr("m", "", "x", "y"))},
		{"no NameID, no attribute", "m", "SAML-swwg2", samlAttrs(nil)},
		{"empty persistent NameID", "", "SAML-Soij4", samlAttrs(&saml.NameID{Format: string(saml.PersistentNameIDFormat)})},
	} {
		if _, err := samlUser(tc.a, tc.mapping); err == nil {
			t.Errorf("%s: accepted", tc.name)
		} else if e, ok := errs.As(err); !ok || e.ID != tc.id {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.id)
		}
	}
}
