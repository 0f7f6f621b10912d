package render

import (
	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/query"
)

// PasswordlessTypeEnum is zitadel.policy.v1.PasswordlessType.
var PasswordlessTypeEnum = gateway.NewEnum("PASSWORDLESS_TYPE_NOT_ALLOWED", "PASSWORDLESS_TYPE_ALLOWED")

// LoginPolicyJSON is zitadel.policy.v1.LoginPolicy, in field-number order:
// the one rendering of a login policy, which REST writes and RPC reads into
// its message.
type LoginPolicyJSON struct {
	Details                    gateway.DetailsV1 `json:"details"`
	AllowUsernamePassword      bool              `json:"allowUsernamePassword,omitempty"`
	AllowRegister              bool              `json:"allowRegister,omitempty"`
	AllowExternalIDP           bool              `json:"allowExternalIdp,omitempty"`
	ForceMFA                   bool              `json:"forceMfa,omitempty"`
	PasswordlessType           string            `json:"passwordlessType,omitempty"`
	IsDefault                  bool              `json:"isDefault,omitempty"`
	HidePasswordReset          bool              `json:"hidePasswordReset,omitempty"`
	IgnoreUnknownUsernames     bool              `json:"ignoreUnknownUsernames,omitempty"`
	DefaultRedirectURI         string            `json:"defaultRedirectUri,omitempty"`
	PasswordCheckLifetime      string            `json:"passwordCheckLifetime,omitempty"`
	ExternalLoginCheckLifetime string            `json:"externalLoginCheckLifetime,omitempty"`
	MFAInitSkipLifetime        string            `json:"mfaInitSkipLifetime,omitempty"`
	SecondFactorCheckLifetime  string            `json:"secondFactorCheckLifetime,omitempty"`
	MultiFactorCheckLifetime   string            `json:"multiFactorCheckLifetime,omitempty"`
	SecondFactors              []string          `json:"secondFactors,omitempty"`
	MultiFactors               []string          `json:"multiFactors,omitempty"`
	IDPs                       []PolicyIDPJSON   `json:"idps,omitempty"`
	AllowDomainDiscovery       bool              `json:"allowDomainDiscovery,omitempty"`
	DisableLoginWithEmail      bool              `json:"disableLoginWithEmail,omitempty"`
	DisableLoginWithPhone      bool              `json:"disableLoginWithPhone,omitempty"`
	ForceMFALocalOnly          bool              `json:"forceMfaLocalOnly,omitempty"`
}

// PolicyIDPJSON is zitadel.idp.v1.IDPLoginPolicyLink.
type PolicyIDPJSON struct {
	IDPID   string `json:"idpId,omitempty"`
	IDPName string `json:"idpName,omitempty"`
	IDPType string `json:"idpType,omitempty"`
}

// v1IDPType is the v1 zitadel.idp.v1.IDPType of an IdP type number: it
// knows OIDC and JWT only; every other kind is unspecified (left out).
func v1IDPType(t int) string {
	switch t {
	case idp.TypeOIDC:
		return "IDP_TYPE_OIDC"
	case idp.TypeJWT:
		return "IDP_TYPE_JWT"
	}
	return ""
}

func policyIDPsJSON(in []query.PolicyIDP) []PolicyIDPJSON {
	out := make([]PolicyIDPJSON, 0, len(in))
	for _, l := range in {
		out = append(out, PolicyIDPJSON{IDPID: l.IDPID, IDPName: l.Name, IDPType: v1IDPType(l.Type)})
	}
	return out
}

// LoginPolicy renders p.
func LoginPolicy(p *query.LoginPolicy) LoginPolicyJSON {
	s := p.Settings
	passwordless := s.PasswordlessType
	if passwordless == PasswordlessTypeEnum.Name(0) {
		passwordless = "" // enum value 0 is left out
	}
	return LoginPolicyJSON{
		Details: gateway.V1Read(gateway.ObjectDetails{Sequence: p.Sequence, Created: p.Created,
			Changed: p.Changed, ResourceOwner: p.ID}),
		AllowUsernamePassword: s.AllowUsernamePassword, AllowRegister: s.AllowRegister,
		AllowExternalIDP: s.AllowExternalIDP, ForceMFA: s.ForceMFA, PasswordlessType: passwordless,
		IsDefault: p.IsDefault, HidePasswordReset: s.HidePasswordReset, IgnoreUnknownUsernames: s.IgnoreUnknownUsernames,
		DefaultRedirectURI: s.DefaultRedirectURI, PasswordCheckLifetime: s.PasswordCheckLifetime,
		ExternalLoginCheckLifetime: s.ExternalLoginCheckLifetime, MFAInitSkipLifetime: s.MFAInitSkipLifetime,
		SecondFactorCheckLifetime: s.SecondFactorCheckLifetime, MultiFactorCheckLifetime: s.MultiFactorCheckLifetime,
		SecondFactors: s.SecondFactors, MultiFactors: s.MultiFactors, IDPs: policyIDPsJSON(p.IDPs),
		AllowDomainDiscovery: s.AllowDomainDiscovery, DisableLoginWithEmail: s.DisableLoginWithEmail,
		DisableLoginWithPhone: s.DisableLoginWithPhone, ForceMFALocalOnly: s.ForceMFALocalOnly,
	}
}

// PolicyIDPListJSON is ListLoginPolicyIDPsResponse (admin and management).
type PolicyIDPListJSON struct {
	Details gateway.ListDetailsV1 `json:"details"`
	Result  []PolicyIDPJSON       `json:"result,omitempty"`
}

// PolicyIDPList renders a page of a login policy's IdP links.
func PolicyIDPList(list *query.PolicyIDPList) PolicyIDPListJSON {
	return PolicyIDPListJSON{
		Details: gateway.ListDetailsV1{TotalResult: gateway.Uint64(list.Total),
			ProcessedSequence: gateway.Uint64(list.Sequence), ViewTimestamp: gateway.Timestamp(list.Timestamp)},
		Result: policyIDPsJSON(list.IDPs),
	}
}
