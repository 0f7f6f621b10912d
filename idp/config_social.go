package idp

// The vendor kinds: Azure AD, GitHub, GitHub Enterprise Server, GitLab,
// GitLab self-hosted, Google and Apple.

// AzureADConfig is an Azure AD provider (path azure). Tenant is stored as a
// string; the request sends {"tenantType": …} or {"tenantId": …}, and no
// tenant means "common".
type AzureADConfig struct {
	ClientID      string      `json:"clientId,omitempty"`
	ClientSecret  string      `json:"clientSecret,omitempty"`
	Tenant        AzureTenant `json:"tenant,omitempty"`
	EmailVerified bool        `json:"emailVerified,omitempty"`
	Scopes        []string    `json:"scopes,omitempty"`
}

func (c *AzureADConfig) form() form {
	return form{key: "azureAd", message: "AzureADProvider", fields: []field{
		text("clientId", &c.ClientID, 1, 200),
		secretText("clientSecret", &c.ClientSecret, 1, 200),
		scopes(&c.Scopes),
	}}
}

func (c *AzureADConfig) normalizeExtra() {
	trimPtr((*string)(&c.Tenant))
	if c.Tenant == "" {
		c.Tenant = AzureTenantCommon
	}
}

// AzureADView is the response's "azureAd" object; tenant is always emitted.
type AzureADView struct {
	ClientID      string          `json:"clientId,omitempty"`
	Tenant        AzureTenantView `json:"tenant"`
	EmailVerified bool            `json:"emailVerified,omitempty"`
	Scopes        []string        `json:"scopes,omitempty"`
}

func (c *AzureADConfig) view() any {
	return AzureADView{ClientID: c.ClientID, Tenant: c.Tenant.view(), EmailVerified: c.EmailVerified, Scopes: c.Scopes}
}

// ClientConfig is the config of the kinds that need only a client ID, a
// client secret and scopes: GitHub, GitLab and Google. One type serves all
// three; key and message name the kind in responses and errors.
type ClientConfig struct {
	ClientID     string   `json:"clientId,omitempty"`
	ClientSecret string   `json:"clientSecret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`

	key, message string
}

func newClientConfig(key, message string) func() Config {
	return func() Config { return &ClientConfig{key: key, message: message} }
}

func (c *ClientConfig) form() form {
	return form{key: c.key, message: c.message, fields: []field{
		text("clientId", &c.ClientID, 1, 200),
		secretText("clientSecret", &c.ClientSecret, 1, 200),
		scopes(&c.Scopes),
	}}
}

// GitHubESConfig is a GitHub Enterprise Server provider (path github_es):
// a client and its OAuth endpoints.
type GitHubESConfig struct{ oauthClient }

func (c *GitHubESConfig) form() form {
	return form{key: "githubEs", message: "GitHubEnterpriseServerProvider", fields: c.oauthClient.fields(200)}
}

// GitLabSelfHostedConfig is a self-hosted GitLab provider (path gitlab_self_hosted).
type GitLabSelfHostedConfig struct{ issuerClient }

func (c *GitLabSelfHostedConfig) form() form {
	return form{key: "gitlabSelfHosted", message: "GitLabSelfHostedProvider", fields: c.issuerClient.fields(200)}
}

// AppleConfig is a Sign in with Apple provider (path apple). PrivateKey is
// the request's bytes field kept in its base64 form as sent (standard or
// URL-safe), so that it can be sealed like the other secrets.
type AppleConfig struct {
	ClientID   string   `json:"clientId,omitempty"`
	TeamID     string   `json:"teamId,omitempty"`
	KeyID      string   `json:"keyId,omitempty"`
	PrivateKey string   `json:"privateKey,omitempty"`
	Scopes     []string `json:"scopes,omitempty"`
}

func (c *AppleConfig) form() form {
	return form{key: "apple", message: "AppleProvider", fields: []field{
		text("clientId", &c.ClientID, 1, 200),
		exactText("teamId", &c.TeamID, 10),
		exactText("keyId", &c.KeyID, 10),
		secretBase64("privateKey", &c.PrivateKey, 1, 5000),
		scopes(&c.Scopes),
	}}
}
