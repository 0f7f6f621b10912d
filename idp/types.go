package idp

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// enum is a protobuf enum as JSON sees it: names by number.
type enum struct {
	name  string // proto enum name, for error messages
	names []string
}

func (e enum) nameOf(n int) string {
	if n < 0 || n >= len(e.names) {
		return ""
	}
	return e.names[n]
}

// parse reads an enum value as grpc-gateway accepts it: the name as a JSON
// string, or the number as a JSON number. null is the zero value. An
// undefined name or number is an error.
func (e enum) parse(data []byte) (int, error) {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return 0, nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return 0, err
		}
		for i, n := range e.names {
			if n == s {
				return i, nil
			}
		}
		return 0, fmt.Errorf("%q is not a %s value", s, e.name)
	}
	n, err := strconv.Atoi(string(data))
	if err != nil {
		return 0, fmt.Errorf("expected a %s name or number, got %s", e.name, data)
	}
	if e.nameOf(n) == "" {
		return 0, fmt.Errorf("%d is not a %s value", n, e.name)
	}
	return n, nil
}

// AutoLinking is the v2 AutoLinkingOption enum.
type AutoLinking int

const (
	AutoLinkingUnspecified AutoLinking = 0 // no auto-linking prompt
	AutoLinkingUsername    AutoLinking = 1
	AutoLinkingEmail       AutoLinking = 2
)

var autoLinkingEnum = enum{"AutoLinkingOption", []string{
	"AUTO_LINKING_OPTION_UNSPECIFIED", "AUTO_LINKING_OPTION_USERNAME", "AUTO_LINKING_OPTION_EMAIL",
}}

func (a AutoLinking) String() string { return autoLinkingEnum.nameOf(int(a)) }

// MarshalJSON writes the enum name.
func (a AutoLinking) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

// UnmarshalJSON accepts the name or the number.
func (a *AutoLinking) UnmarshalJSON(data []byte) error {
	n, err := autoLinkingEnum.parse(data)
	*a = AutoLinking(n)
	return err
}

// Options are the provider options common to every kind: the request's
// providerOptions and the response's config.options. Default values are
// omitted from JSON, so all-false options are {}.
type Options struct {
	IsLinkingAllowed  bool        `json:"isLinkingAllowed,omitempty"`
	IsCreationAllowed bool        `json:"isCreationAllowed,omitempty"`
	IsAutoCreation    bool        `json:"isAutoCreation,omitempty"`
	IsAutoUpdate      bool        `json:"isAutoUpdate,omitempty"`
	AutoLinking       AutoLinking `json:"autoLinking,omitempty"`
}

// Bytes is a protobuf bytes field: standard base64 with padding on output;
// standard or URL-safe base64, padded or not, on input.
type Bytes []byte

func (b Bytes) MarshalJSON() ([]byte, error) {
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

func (b *Bytes) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		*b = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return errors.New("expected a base64 string")
	}
	d, err := decodeBase64(s)
	if err != nil {
		return err
	}
	*b = d
	return nil
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding,
	} {
		if d, err := enc.DecodeString(s); err == nil {
			return d, nil
		}
	}
	return nil, errors.New("invalid base64 data")
}

// Azure AD tenants that have a tenant type; any other value is a tenant ID.
const (
	AzureTenantCommon        = "common"
	AzureTenantOrganizations = "organizations"
	AzureTenantConsumers     = "consumers"
)

var azureTenantTypeEnum = enum{"AzureADTenantType", []string{
	"AZURE_AD_TENANT_TYPE_COMMON", "AZURE_AD_TENANT_TYPE_ORGANISATIONS", "AZURE_AD_TENANT_TYPE_CONSUMERS",
}}

var azureTenantByType = []string{AzureTenantCommon, AzureTenantOrganizations, AzureTenantConsumers}

// AzureTenant is the stored form of an Azure AD tenant: "common",
// "organizations", "consumers" or a tenant ID. In JSON it is a string; as
// input it is also accepted in the request form {"tenantType": enum} or
// {"tenantId": "…"}.
type AzureTenant string

func (t *AzureTenant) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case string(data) == "null":
		*t = ""
		return nil
	case len(data) > 0 && data[0] == '"':
		return json.Unmarshal(data, (*string)(t))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return errors.New(`expected {"tenantType": …} or {"tenantId": …}`)
	}
	typ, hasType := obj["tenantType"]
	id, hasID := obj["tenantId"]
	if hasType && hasID {
		return errors.New("only one of tenantType and tenantId may be set")
	}
	*t = ""
	if hasID {
		var s string
		if err := json.Unmarshal(id, &s); err != nil {
			return errors.New("tenantId: expected a string")
		}
		*t = AzureTenant(s)
	}
	if hasType {
		n, err := azureTenantTypeEnum.parse(typ)
		if err != nil {
			return fmt.Errorf("tenantType: %w", err)
		}
		*t = AzureTenant(azureTenantByType[n])
	}
	return nil
}

// AzureTenantView is the v2 AzureADTenant oneof: exactly one member is
// emitted, even when it holds the enum's zero value.
type AzureTenantView struct {
	TenantType string  `json:"tenantType,omitempty"`
	TenantID   *string `json:"tenantId,omitempty"`
}

func (t AzureTenant) view() AzureTenantView {
	if t == "" {
		t = AzureTenantCommon // the default, should Normalize not have run
	}
	for i, s := range azureTenantByType {
		if string(t) == s {
			return AzureTenantView{TenantType: azureTenantTypeEnum.names[i]}
		}
	}
	id := string(t)
	return AzureTenantView{TenantID: &id}
}

// SAMLBinding is stored as the SAML binding URN; "" is unspecified. As input
// it also accepts the SAMLBinding enum name or number.
type SAMLBinding string

const (
	SAMLBindingPost     SAMLBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	SAMLBindingRedirect SAMLBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	SAMLBindingArtifact SAMLBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"
)

var samlBindingEnum = enum{"SAMLBinding", []string{
	"SAML_BINDING_UNSPECIFIED", "SAML_BINDING_POST", "SAML_BINDING_REDIRECT", "SAML_BINDING_ARTIFACT",
}}

var samlBindingURNs = []SAMLBinding{"", SAMLBindingPost, SAMLBindingRedirect, SAMLBindingArtifact}

func (b *SAMLBinding) UnmarshalJSON(data []byte) error {
	var urn string
	if json.Unmarshal(data, &urn) == nil {
		for _, u := range samlBindingURNs[1:] {
			if urn == string(u) {
				*b = u
				return nil
			}
		}
	}
	n, err := samlBindingEnum.parse(data)
	if err != nil {
		return err
	}
	*b = samlBindingURNs[n]
	return nil
}

// EnumName is the v2 SAMLBinding name; "" for unspecified or an unknown URN,
// which the response omits.
func (b SAMLBinding) EnumName() string {
	for i, u := range samlBindingURNs[1:] {
		if b == u {
			return samlBindingEnum.names[i+1]
		}
	}
	return ""
}

// SAMLNameIDFormat is the SAMLNameIDFormat enum.
type SAMLNameIDFormat int

const (
	SAMLNameIDFormatUnspecified  SAMLNameIDFormat = 0
	SAMLNameIDFormatEmailAddress SAMLNameIDFormat = 1
	SAMLNameIDFormatPersistent   SAMLNameIDFormat = 2
	SAMLNameIDFormatTransient    SAMLNameIDFormat = 3
)

var samlNameIDFormatEnum = enum{"SAMLNameIDFormat", []string{
	"SAML_NAME_ID_FORMAT_UNSPECIFIED", "SAML_NAME_ID_FORMAT_EMAIL_ADDRESS",
	"SAML_NAME_ID_FORMAT_PERSISTENT", "SAML_NAME_ID_FORMAT_TRANSIENT",
}}

func (f SAMLNameIDFormat) String() string { return samlNameIDFormatEnum.nameOf(int(f)) }

func (f SAMLNameIDFormat) MarshalJSON() ([]byte, error) { return json.Marshal(f.String()) }

func (f *SAMLNameIDFormat) UnmarshalJSON(data []byte) error {
	n, err := samlNameIDFormatEnum.parse(data)
	*f = SAMLNameIDFormat(n)
	return err
}
