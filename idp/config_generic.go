package idp

// The generic protocol kinds: OAuth 2.0, OpenID Connect and JWT.

// OAuthConfig is a generic OAuth 2.0 provider (path oauth).
type OAuthConfig struct {
	ClientID              string   `json:"clientId,omitempty"`
	ClientSecret          string   `json:"clientSecret,omitempty"`
	AuthorizationEndpoint string   `json:"authorizationEndpoint,omitempty"`
	TokenEndpoint         string   `json:"tokenEndpoint,omitempty"`
	UserEndpoint          string   `json:"userEndpoint,omitempty"`
	Scopes                []string `json:"scopes,omitempty"`
	IDAttribute           string   `json:"idAttribute,omitempty"`
	UsePKCE               bool     `json:"usePkce,omitempty"`
}

func (c *OAuthConfig) form() form {
	return form{key: "oauth", message: "GenericOAuthProvider", fields: []field{
		text("clientId", &c.ClientID, 1, 200),
		secretText("clientSecret", &c.ClientSecret, 1, 1000),
		text("authorizationEndpoint", &c.AuthorizationEndpoint, 1, 200),
		text("tokenEndpoint", &c.TokenEndpoint, 1, 200),
		text("userEndpoint", &c.UserEndpoint, 1, 200),
		scopes(&c.Scopes),
		text("idAttribute", &c.IDAttribute, 1, 200),
	}}
}

// OIDCConfig is a generic OpenID Connect provider (path generic_oidc).
type OIDCConfig struct {
	Issuer           string   `json:"issuer,omitempty"`
	ClientID         string   `json:"clientId,omitempty"`
	ClientSecret     string   `json:"clientSecret,omitempty"`
	Scopes           []string `json:"scopes,omitempty"`
	IsIDTokenMapping bool     `json:"isIdTokenMapping,omitempty"`
	UsePKCE          bool     `json:"usePkce,omitempty"`
}

func (c *OIDCConfig) form() form {
	return form{key: "oidc", message: "GenericOIDCProvider", fields: []field{
		text("issuer", &c.Issuer, 1, 200),
		text("clientId", &c.ClientID, 1, 200),
		secretText("clientSecret", &c.ClientSecret, 1, 1000),
		scopes(&c.Scopes),
	}}
}

// JWTConfig is a JWT provider (path generic_jwt). It has no secret.
type JWTConfig struct {
	Issuer       string `json:"issuer,omitempty"`
	JWTEndpoint  string `json:"jwtEndpoint,omitempty"`
	KeysEndpoint string `json:"keysEndpoint,omitempty"`
	HeaderName   string `json:"headerName,omitempty"`
}

func (c *JWTConfig) form() form {
	return form{key: "jwt", message: "JWTProvider", fields: []field{
		text("issuer", &c.Issuer, 1, 200),
		text("jwtEndpoint", &c.JWTEndpoint, 1, 200),
		text("keysEndpoint", &c.KeysEndpoint, 1, 200),
		text("headerName", &c.HeaderName, 1, 200),
	}}
}
