package events

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Aggregate types.
const (
	AggInstance    = "instance"
	AggOrg         = "org"
	AggUser        = "user"
	AggIDP         = "idp"
	AggLoginPolicy = "login_policy"
)

// Event types, dotted <aggregate>.<thing>.<verb>, following ZITADEL's names
// where the concept matches.
const (
	InstanceAdded         = "instance.added"
	InstanceDomainAdded   = "instance.domain.added"
	InstanceMemberAdded   = "instance.member.added"
	InstanceMemberRemoved = "instance.member.removed"
	// Trusted domains (ZITADEL's names): hosts besides the instance's own
	// that StartIntent accepts in success and failure URLs.
	InstanceTrustedDomainAdded   = "instance.trusted_domain.added"
	InstanceTrustedDomainRemoved = "instance.trusted_domain.removed"

	OrgAdded         = "org.added"
	OrgRemoved       = "org.removed"
	OrgMemberAdded   = "org.member.added"
	OrgMemberRemoved = "org.member.removed"

	UserHumanAdded   = "user.human.added"
	UserMachineAdded = "user.machine.added"
	UserRemoved      = "user.removed"
	UserPATAdded     = "user.pat.added"
	UserPATRemoved   = "user.pat.removed"
	// A user's link to an external IdP account.
	UserIDPLinkAdded          = "user.human.externalidp.added"
	UserIDPLinkRemoved        = "user.human.externalidp.removed"
	UserIDPLinkCascadeRemoved = "user.human.externalidp.cascade.removed"
	// A human's profile and email, changed (the IdP login's auto-update).
	UserHumanProfileChanged = "user.human.profile.changed"
	UserHumanEmailChanged   = "user.human.email.changed"
	UserHumanEmailVerified  = "user.human.email.verified"

	IDPAdded   = "idp.added"
	IDPChanged = "idp.changed"
	IDPRemoved = "idp.removed"
	// IDPSecretsResealed records a master-key rotation of an IdP's secrets.
	IDPSecretsResealed = "idp.secrets.resealed"

	LoginPolicyAdded             = "login_policy.added"
	LoginPolicyChanged           = "login_policy.changed"
	LoginPolicyRemoved           = "login_policy.removed"
	LoginPolicyIDPAdded          = "login_policy.idp.added"
	LoginPolicyIDPRemoved        = "login_policy.idp.removed"
	LoginPolicyIDPCascadeRemoved = "login_policy.idp.cascade.removed"
)

// Owner types of IdPs and of login-policy IdP links (ZITADEL's IDPOwnerType).
const (
	OwnerSystem = "system" // the instance
	OwnerOrg    = "org"
)

// InstanceAddedPayload: the aggregate ID is the instance ID.
type InstanceAddedPayload struct {
	Name string `json:"name"`
}

// DomainPayload names an instance domain.
type DomainPayload struct {
	Domain string `json:"domain"`
}

// MemberPayload grants roles to a user on the instance or an org.
type MemberPayload struct {
	UserID string   `json:"userId"`
	Roles  []string `json:"roles,omitempty"`
}

// OrgAddedPayload: the aggregate ID is the org ID; resource owner = org ID.
type OrgAddedPayload struct {
	Name string `json:"name"`
}

// HumanAddedPayload: aggregate ID = user ID, resource owner = org ID.
type HumanAddedPayload struct {
	Username          string `json:"username"`
	GivenName         string `json:"givenName"`
	FamilyName        string `json:"familyName"`
	NickName          string `json:"nickName,omitempty"`
	DisplayName       string `json:"displayName,omitempty"`
	PreferredLanguage string `json:"preferredLanguage,omitempty"`
	Gender            int    `json:"gender,omitempty"`
	Email             string `json:"email"`
	EmailVerified     bool   `json:"emailVerified,omitempty"`
	Phone             string `json:"phone,omitempty"`
	PhoneVerified     bool   `json:"phoneVerified,omitempty"`
}

// HumanProfileChangedPayload holds the changed profile fields only; a
// field left out is unchanged.
type HumanProfileChangedPayload struct {
	GivenName         string `json:"givenName,omitempty"`
	FamilyName        string `json:"familyName,omitempty"`
	NickName          string `json:"nickName,omitempty"`
	DisplayName       string `json:"displayName,omitempty"`
	PreferredLanguage string `json:"preferredLanguage,omitempty"`
}

// HumanEmailChangedPayload is a human's new email address, not verified
// (user.human.email.verified follows when it is).
type HumanEmailChangedPayload struct {
	Email string `json:"email"`
}

// MachineAddedPayload: aggregate ID = user ID, resource owner = org ID.
type MachineAddedPayload struct {
	Username    string `json:"username"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// AccessTokenType is AccessTokenBearer (left out) or AccessTokenJWT.
	AccessTokenType int `json:"accessTokenType,omitempty"`
}

// PATAddedPayload stores only the SHA-256 of the token, never the token.
type PATAddedPayload struct {
	TokenID    string    `json:"tokenId"`
	TokenHash  string    `json:"tokenHash"` // hex SHA-256
	Expiration time.Time `json:"expiration,omitzero"`
}

// PATHash is the form in which a token is stored and looked up: hex
// SHA-256. Lookups by hash compare no secret bytes in process memory, so
// they leak no timing about the token.
func PATHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// PATRemovedPayload revokes a token.
type PATRemovedPayload struct {
	TokenID string `json:"tokenId"`
}

// IDPLinkPayload is a user's link to an account at an IdP.
type IDPLinkPayload struct {
	IDPID          string `json:"idpId"`
	ExternalUserID string `json:"userId"`
	DisplayName    string `json:"displayName,omitempty"` // the userName at the IdP
}

// IDPAddedPayload: aggregate ID = IdP ID; resource owner = instance ID for
// OwnerSystem, org ID for OwnerOrg. Config is the kind's idp.Config as JSON,
// with every secret field replaced by sealed text (secretbox).
type IDPAddedPayload struct {
	Kind      string          `json:"kind"` // idp.Kind.Path
	OwnerType string          `json:"ownerType"`
	Name      string          `json:"name"`
	Options   json.RawMessage `json:"options,omitempty"` // idp.Options
	Config    json.RawMessage `json:"config"`
}

// IDPChangedPayload is a full replacement of name, options and config.
type IDPChangedPayload struct {
	Kind    string          `json:"kind,omitempty"` // idp.Kind.Path; never changes
	Name    string          `json:"name"`
	Options json.RawMessage `json:"options,omitempty"`
	Config  json.RawMessage `json:"config"`
}

// LoginPolicyAddedPayload: aggregate ID = instance ID (the default policy)
// or org ID (a custom policy); resource owner likewise. Settings holds the
// AddCustomLoginPolicyRequest fields other than idps, as sent.
type LoginPolicyAddedPayload struct {
	IsDefault bool            `json:"isDefault,omitempty"`
	Settings  json.RawMessage `json:"settings,omitempty"`
}

// LoginPolicyChangedPayload replaces a policy's settings: Settings holds
// every setting after the change (the switches UpdateLoginPolicy or
// UpdateCustomLoginPolicy sent, the factors kept), as LoginPolicySettings.
type LoginPolicyChangedPayload struct {
	Settings json.RawMessage `json:"settings"`
}

// LoginPolicySettings is the Settings of LoginPolicyAddedPayload: the
// AddCustomLoginPolicyRequest fields other than idps, in protobuf JSON form
// (enums by name, durations as "864000s"); unset fields are left out.
type LoginPolicySettings struct {
	AllowUsernamePassword      bool     `json:"allowUsernamePassword,omitempty"`
	AllowRegister              bool     `json:"allowRegister,omitempty"`
	AllowExternalIDP           bool     `json:"allowExternalIdp,omitempty"`
	ForceMFA                   bool     `json:"forceMfa,omitempty"`
	ForceMFALocalOnly          bool     `json:"forceMfaLocalOnly,omitempty"`
	PasswordlessType           string   `json:"passwordlessType,omitempty"`
	HidePasswordReset          bool     `json:"hidePasswordReset,omitempty"`
	IgnoreUnknownUsernames     bool     `json:"ignoreUnknownUsernames,omitempty"`
	AllowDomainDiscovery       bool     `json:"allowDomainDiscovery,omitempty"`
	DisableLoginWithEmail      bool     `json:"disableLoginWithEmail,omitempty"`
	DisableLoginWithPhone      bool     `json:"disableLoginWithPhone,omitempty"`
	DefaultRedirectURI         string   `json:"defaultRedirectUri,omitempty"`
	PasswordCheckLifetime      string   `json:"passwordCheckLifetime,omitempty"`
	ExternalLoginCheckLifetime string   `json:"externalLoginCheckLifetime,omitempty"`
	MFAInitSkipLifetime        string   `json:"mfaInitSkipLifetime,omitempty"`
	SecondFactorCheckLifetime  string   `json:"secondFactorCheckLifetime,omitempty"`
	MultiFactorCheckLifetime   string   `json:"multiFactorCheckLifetime,omitempty"`
	SecondFactors              []string `json:"secondFactors,omitempty"`
	MultiFactors               []string `json:"multiFactors,omitempty"`
}

// LoginPolicyIDPPayload links an IdP to a login policy.
type LoginPolicyIDPPayload struct {
	IDPID     string `json:"idpId"`
	OwnerType string `json:"ownerType,omitempty"`
}

// EventInfo describes one event type for docs/events.md and the event API.
type EventInfo struct {
	Type      string
	Aggregate string
	Payload   any // a zero payload value, or nil for none
	Doc       string
}

// Catalog lists every event type.
func Catalog() []EventInfo {
	return append([]EventInfo{
		{InstanceAdded, AggInstance, InstanceAddedPayload{}, "an instance was created"},
		{InstanceDomainAdded, AggInstance, DomainPayload{}, "the instance answers to another domain"},
		{InstanceMemberAdded, AggInstance, MemberPayload{}, "a user was granted instance roles"},
		{InstanceMemberRemoved, AggInstance, MemberPayload{}, "a user's instance roles were revoked"},
		{InstanceTrustedDomainAdded, AggInstance, DomainPayload{}, "a trusted domain was added: intents may redirect to it"},
		{InstanceTrustedDomainRemoved, AggInstance, DomainPayload{}, "a trusted domain was removed"},
		{InstanceOIDCSettingsAdded, AggInstance, OIDCSettingsPayload{}, "the instance's OIDC token lifetimes were set"},
		{InstanceOIDCSettingsChanged, AggInstance, OIDCSettingsPayload{}, "the instance's OIDC token lifetimes were changed"},
		{InstanceIAMProjectSet, AggInstance, IAMProjectSetPayload{}, "the instance's own API project (\"ZITADEL\") was recorded"},
		{OrgAdded, AggOrg, OrgAddedPayload{}, "an organisation was created"},
		{OrgRemoved, AggOrg, nil, "an organisation was removed"},
		{OrgMemberAdded, AggOrg, MemberPayload{}, "a user was granted org roles"},
		{OrgMemberRemoved, AggOrg, MemberPayload{}, "a user's org roles were revoked"},
		{UserHumanAdded, AggUser, HumanAddedPayload{}, "a human user was created"},
		{UserMachineAdded, AggUser, MachineAddedPayload{}, "a machine user was created"},
		{UserRemoved, AggUser, nil, "a user was removed"},
		{UserPATAdded, AggUser, PATAddedPayload{}, "a personal access token was issued (hash only)"},
		{UserPATRemoved, AggUser, PATRemovedPayload{}, "a personal access token was revoked"},
		{UserIDPLinkAdded, AggUser, IDPLinkPayload{}, "a user was linked to an external IdP account"},
		{UserIDPLinkRemoved, AggUser, IDPLinkPayload{}, "a user's IdP link was removed"},
		{UserIDPLinkCascadeRemoved, AggUser, IDPLinkPayload{}, "a user's IdP link was removed because its IdP or policy link went away"},
		{UserHumanProfileChanged, AggUser, HumanProfileChangedPayload{}, "a human's profile changed (the fields sent)"},
		{UserHumanEmailChanged, AggUser, HumanEmailChangedPayload{}, "a human's email address changed; it is not verified"},
		{UserHumanEmailVerified, AggUser, nil, "a human's email address was verified"},
		{IDPAdded, AggIDP, IDPAddedPayload{}, "an IdP template was created (secrets sealed)"},
		{IDPChanged, AggIDP, IDPChangedPayload{}, "an IdP template was replaced (secrets sealed)"},
		{IDPRemoved, AggIDP, nil, "an IdP template was removed"},
		{IDPSecretsResealed, AggIDP, IDPChangedPayload{}, "an IdP's secrets were re-encrypted under a new master key"},
		{LoginPolicyAdded, AggLoginPolicy, LoginPolicyAddedPayload{}, "a login policy was created (instance default or org custom)"},
		{LoginPolicyChanged, AggLoginPolicy, LoginPolicyChangedPayload{}, "a login policy's switches and lifetimes were changed (instance default or org custom)"},
		{LoginPolicyRemoved, AggLoginPolicy, nil, "an org's custom login policy was removed (reset to the default)"},
		{LoginPolicyIDPAdded, AggLoginPolicy, LoginPolicyIDPPayload{}, "an IdP was added to a login policy"},
		{LoginPolicyIDPRemoved, AggLoginPolicy, LoginPolicyIDPPayload{}, "an IdP was removed from a login policy"},
		{LoginPolicyIDPCascadeRemoved, AggLoginPolicy, LoginPolicyIDPPayload{}, "an IdP was removed from a login policy because the IdP was removed"},
	}, append(append(append(append(append(intentCatalog, sessionCatalog()...), projectCatalog()...), machineCatalog()...), keyPairCatalog()...), oidcCatalog()...)...)
}
