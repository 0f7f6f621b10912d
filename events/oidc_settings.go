package events

import "time"

// Instance events of the OpenID Provider: ZITADEL's names. They are on the
// instance aggregate (aggregate ID = resource owner = instance ID).
const (
	// InstanceOIDCSettingsAdded and InstanceOIDCSettingsChanged set the
	// instance's token lifetimes (admin API /admin/v1/settings/oidc).
	InstanceOIDCSettingsAdded   = "instance.oidc.settings.added"
	InstanceOIDCSettingsChanged = "instance.oidc.settings.changed"
	// InstanceIAMProjectSet names the instance's own API project (project
	// "ZITADEL"): the scope urn:zitadel:iam:org:project:id:zitadel:aud
	// stands for its ID.
	InstanceIAMProjectSet = "instance.iam.project.set"
)

// ZITADEL's token lifetimes (cmd/defaults.yaml OIDC:), in force on an
// instance until its own are set.
const (
	DefaultAccessTokenLifetime        = 12 * time.Hour
	DefaultIDTokenLifetime            = 12 * time.Hour
	DefaultRefreshTokenIdleExpiration = 720 * time.Hour
	DefaultRefreshTokenExpiration     = 2160 * time.Hour
)

// OIDCSettingsPayload is the instance's token lifetimes, as ZITADEL
// records them (time.Duration in nanoseconds): all four in .added; in
// .changed, only those that changed.
type OIDCSettingsPayload struct {
	AccessTokenLifetime        *time.Duration `json:"accessTokenLifetime,omitempty"`
	IDTokenLifetime            *time.Duration `json:"idTokenLifetime,omitempty"`
	RefreshTokenIdleExpiration *time.Duration `json:"refreshTokenIdleExpiration,omitempty"`
	RefreshTokenExpiration     *time.Duration `json:"refreshTokenExpiration,omitempty"`
}

// IAMProjectSetPayload names the instance's own project.
type IAMProjectSetPayload struct {
	IAMProjectID string `json:"iamProjectId"`
}
