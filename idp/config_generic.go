package idp

// The generic protocol kinds: OAuth 2.0, OpenID Connect and JWT.

// oauthClient is what generic OAuth and GitHub Enterprise Server share: a
// client and the three OAuth 2.0 endpoints. Embedded, its JSON names sit at
// the top level in this order.
type oauthClient struct {
	ClientID              string   `json:"clientId,omitempty"`
	ClientSecret          string   `json:"clientSecret,omitempty"`
	AuthorizationEndpoint string   `json:"authorizationEndpoint,omitempty"`
	TokenEndpoint         string   `json:"tokenEndpoint,omitempty"`
	UserEndpoint          string   `json:"userEndpoint,omitempty"`
	Scopes                []string `json:"scopes,omitempty"`
}

// fields are the shared fields' rules; only the secret's limit differs.
func (c *oauthClient) fields(secretMax int) []field {
	return []field{
		text("clientId", &c.ClientID, 1, 200),
		secretText("clientSecret", &c.ClientSecret, 1, secretMax),
		text("authorizationEndpoint", &c.AuthorizationEndpoint, 1, 200),
		text("tokenEndpoint", &c.TokenEndpoint, 1, 200),
		text("userEndpoint", &c.UserEndpoint, 1, 200),
		scopes(&c.Scopes),
	}
}

// issuerClient is what generic OIDC and self-hosted GitLab share: an issuer
// and a client.
type issuerClient struct {
	Issuer       string   `json:"issuer,omitempty"`
	ClientID     string   `json:"clientId,omitempty"`
	ClientSecret string   `json:"clientSecret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
}

func (c *issuerClient) fields(secretMax int) []field {
	return []field{
		text("issuer", &c.Issuer, 1, 200),
		text("clientId", &c.ClientID, 1, 200),
		secretText("clientSecret", &c.ClientSecret, 1, secretMax),
		scopes(&c.Scopes),
	}
}

// OAuthConfig is a generic OAuth 2.0 provider (path oauth).
type OAuthConfig struct {
	oauthClient
	IDAttribute string `json:"idAttribute,omitempty"`
	UsePKCE     bool   `json:"usePkce,omitempty"`
}

func (c *OAuthConfig) form() form {
	return form{key: "oauth", message: "GenericOAuthProvider", fields: append(c.oauthClient.fields(1000),
		text("idAttribute", &c.IDAttribute, 1, 200))}
}

// OIDCConfig is a generic OpenID Connect provider (path generic_oidc).
type OIDCConfig struct {
	issuerClient
	IsIDTokenMapping bool `json:"isIdTokenMapping,omitempty"`
	UsePKCE          bool `json:"usePkce,omitempty"`
}

func (c *OIDCConfig) form() form {
	return form{key: "oidc", message: "GenericOIDCProvider", fields: c.issuerClient.fields(1000)}
}

// JWTConfig is a JWT provider (path generic_jwt). It has no secret.
type JWTConfig struct {
	Issuer       string `json:"issuer,omitempty"`
	JWTEndpoint  string `json:"jwtEndpoint,omitempty"`
	KeysEndpoint string `json:"keysEndpoint,omitempty"`
	HeaderName   string `json:"headerName,omitempty"`
	// Audience, when set, must be in the token's aud (GHSA-g5h5); when
	// empty, the instance's origin must be (idledger's default).
	Audience string `json:"audience,omitempty"`
}

func (c *JWTConfig) form() form {
	return form{key: "jwt", message: "JWTProvider", fields: []field{
		text("issuer", &c.Issuer, 1, 200),
		text("jwtEndpoint", &c.JWTEndpoint, 1, 200),
		text("keysEndpoint", &c.KeysEndpoint, 1, 200),
		text("headerName", &c.HeaderName, 1, 200),
		text("audience", &c.Audience, 0, 200),
	}}
}
