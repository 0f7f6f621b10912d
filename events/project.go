package events

import "time"

// AggProject is the aggregate of a project and its apps (ZITADEL's
// "project"): aggregate ID = project ID, resource owner = the org ID.
const AggProject = "project"

// Project and app event types: ZITADEL's names.
const (
	ProjectAdded   = "project.added"
	ProjectChanged = "project.changed"
	ProjectRemoved = "project.removed"

	AppAdded   = "project.application.added"
	AppRemoved = "project.application.removed"
	// OIDCConfigAdded and OIDCConfigChanged carry an OIDC app's config;
	// only the hash of its client secret (hashedSecret), which events list
	// redacts.
	OIDCConfigAdded         = "project.application.config.oidc.added"
	OIDCConfigChanged       = "project.application.config.oidc.changed"
	OIDCConfigSecretChanged = "project.application.config.oidc.secret.changed"
	APIConfigAdded          = "project.application.config.api.added"
	// AppKeyAdded registers an app key's public key (apps with
	// private_key_jwt); the generated private key is never stored.
	AppKeyAdded   = "project.application.key.added"
	AppKeyRemoved = "project.application.key.removed"
)

// ProjectPayload is a project's settings: the whole of them in
// project.added and after a project.changed.
type ProjectPayload struct {
	Name                 string `json:"name"`
	ProjectRoleAssertion bool   `json:"projectRoleAssertion,omitempty"`
	ProjectRoleCheck     bool   `json:"projectRoleCheck,omitempty"`
	HasProjectCheck      bool   `json:"hasProjectCheck,omitempty"`
	// PrivateLabelingSetting is ZITADEL's PrivateLabelingSetting number:
	// 0 unspecified, 1 enforce the project's owner policy, 2 allow the
	// login user's owner policy.
	PrivateLabelingSetting int `json:"privateLabelingSetting,omitempty"`
}

// AppPayload names an app of the project: project.application.added
// (with its name) and .removed.
type AppPayload struct {
	AppID string `json:"appId"`
	Name  string `json:"name,omitempty"`
}

// OIDCConfig is an OIDC app's configuration, with ZITADEL's domain enum
// numbers (which equal its API's): response types 0 code, 1 id_token, 2
// id_token token; grant types 0 authorization_code, 1 implicit, 2
// refresh_token, 3 device_code, 4 token_exchange; application types 0
// web, 1 user agent, 2 native; auth methods 0 basic, 1 post, 2 none, 3
// private_key_jwt; access token types 0 bearer, 1 JWT; login versions 0
// unspecified, 1 v1, 2 v2 (LoginBaseURI then names the login UI).
type OIDCConfig struct {
	Version                  int           `json:"oidcVersion,omitempty"`
	RedirectURIs             []string      `json:"redirectUris,omitempty"`
	ResponseTypes            []int         `json:"responseTypes,omitempty"`
	GrantTypes               []int         `json:"grantTypes,omitempty"`
	ApplicationType          int           `json:"applicationType,omitempty"`
	AuthMethodType           int           `json:"authMethodType,omitempty"`
	PostLogoutRedirectURIs   []string      `json:"postLogoutRedirectUris,omitempty"`
	DevMode                  bool          `json:"devMode,omitempty"`
	AccessTokenType          int           `json:"accessTokenType,omitempty"`
	AccessTokenRoleAssertion bool          `json:"accessTokenRoleAssertion,omitempty"`
	IDTokenRoleAssertion     bool          `json:"idTokenRoleAssertion,omitempty"`
	IDTokenUserinfoAssertion bool          `json:"idTokenUserinfoAssertion,omitempty"`
	ClockSkew                time.Duration `json:"clockSkew,omitempty"`
	AdditionalOrigins        []string      `json:"additionalOrigins,omitempty"`
	SkipNativeAppSuccessPage bool          `json:"skipNativeAppSuccessPage,omitempty"`
	BackChannelLogoutURI     string        `json:"backChannelLogoutURI,omitempty"`
	LoginVersion             int           `json:"loginVersion,omitempty"`
	LoginBaseURI             string        `json:"loginBaseURI,omitempty"`
}

// OIDCConfigAddedPayload is a new OIDC app's config, its client ID and,
// for the auth methods basic and post, the argon2id hash of its client
// secret, never the secret.
type OIDCConfigAddedPayload struct {
	AppID        string `json:"appId"`
	ClientID     string `json:"clientId"`
	HashedSecret string `json:"hashedSecret,omitempty"`
	OIDCConfig
}

// OIDCConfigChangedPayload is an OIDC app's whole config after a change
// (ZITADEL's event lists only the changed fields). The secret is kept: an
// app whose new auth method needs one gets it from
// RegenerateOIDCClientSecret, as in ZITADEL.
type OIDCConfigChangedPayload struct {
	AppID string `json:"appId"`
	OIDCConfig
}

// SecretChangedPayload replaces an app's client secret: its hash only.
type SecretChangedPayload struct {
	AppID        string `json:"appId"`
	HashedSecret string `json:"hashedSecret"`
}

// APIConfigAddedPayload is a new API app: its client ID, its auth method
// (0 basic, 1 private_key_jwt) and, for basic, the hash of its secret.
type APIConfigAddedPayload struct {
	AppID          string `json:"appId"`
	ClientID       string `json:"clientId"`
	HashedSecret   string `json:"hashedSecret,omitempty"`
	AuthMethodType int    `json:"authMethodType,omitempty"`
}

// AppKeyAddedPayload is an app key: its app and client, its type (1 =
// KEY_TYPE_JSON), its expiry and its public key as a PKIX PEM ("RSA
// PUBLIC KEY" label, as ZITADEL).
type AppKeyAddedPayload struct {
	AppID      string    `json:"applicationId"`
	ClientID   string    `json:"clientId"`
	KeyID      string    `json:"keyId"`
	Type       int       `json:"type"`
	Expiration time.Time `json:"expirationDate"`
	PublicKey  string    `json:"publicKey"`
}

// AppKeyRemovedPayload names the removed app key.
type AppKeyRemovedPayload struct {
	KeyID string `json:"keyId"`
}

func projectCatalog() []EventInfo {
	return []EventInfo{
		{ProjectAdded, AggProject, ProjectPayload{}, "a project was created in an org"},
		{ProjectChanged, AggProject, ProjectPayload{}, "a project's name or settings were changed (the whole settings)"},
		{ProjectRemoved, AggProject, nil, "a project and its apps were removed"},
		{AppAdded, AggProject, AppPayload{}, "an app was added to the project"},
		{AppRemoved, AggProject, AppPayload{}, "an app was removed from the project"},
		{OIDCConfigAdded, AggProject, OIDCConfigAddedPayload{}, "an app's OIDC config was set (client secret as an argon2id hash, redacted in events list)"},
		{OIDCConfigChanged, AggProject, OIDCConfigChangedPayload{}, "an OIDC app's config was replaced (the whole config)"},
		{OIDCConfigSecretChanged, AggProject, SecretChangedPayload{}, "an OIDC app's client secret was regenerated (hash only)"},
		{APIConfigAdded, AggProject, APIConfigAddedPayload{}, "an app's API config was set (client secret as a hash, for basic)"},
		{AppKeyAdded, AggProject, AppKeyAddedPayload{}, "an app key was added (public key only)"},
		{AppKeyRemoved, AggProject, AppKeyRemovedPayload{}, "an app key was removed"},
	}
}
