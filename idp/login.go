package idp

// The login half of the kinds table: which protocol family's adapter
// serves each kind, the kind's fixed upstream endpoints, and how the
// upstream's claims map onto the IdP user (package upstream reads these).

// Family names a protocol family; package upstream has one adapter each.
type Family string

const (
	FamilyOIDC  Family = "oidc"  // discovery, code flow, ID token (generic OIDC, GitLab, Google, Apple)
	FamilyOAuth Family = "oauth" // code flow and a user endpoint (generic OAuth, GitHub, GitHub ES, Azure AD)
	FamilyJWT   Family = "jwt"   // a JWT in a header, from a proxy in front of the JWT endpoint
	FamilyLDAP  Family = "ldap"  // a synchronous bind
	FamilySAML  Family = "saml"
)

// Endpoints are a kind's fixed upstream endpoints and request shape. An
// empty field is taken from the IdP's config. "{tenant}" in Azure AD's
// URLs is replaced by the template's tenant.
type Endpoints struct {
	Issuer    string // OIDC: the discovery issuer
	AuthURL   string // OAuth: the authorization endpoint
	TokenURL  string
	UserURL   string // the user endpoint (GitHub /user, Graph /me)
	EmailsURL string // GitHub: the user's addresses with their verified flag ("/emails" after the user endpoint when empty for GitHub ES)
	// Scopes are the default scopes when the template names none; Always
	// are added in any case.
	Scopes, Always []string
	Prompt         string // sent as prompt=
	ResponseMode   string // "form_post": the upstream POSTs the callback (Apple)
	// IDTokenMapping maps the user from the ID token's claims, never from
	// the userinfo endpoint (Apple has none).
	IDTokenMapping bool
}

// Mapping names, for each field of the IdP user, the upstream claim or
// JSON member that holds it; "" leaves the field empty.
type Mapping struct {
	ID, PreferredUsername, DisplayName, FirstName, LastName, NickName string
	Email, EmailVerified, Phone, PhoneVerified, PreferredLanguage     string
	AvatarURL, ProfileURL                                             string
	// EmailFallback is read when Email is empty (Azure AD: userPrincipalName).
	EmailFallback string
}

// oidcClaims is the standard OpenID Connect claims mapping.
var oidcClaims = Mapping{
	ID: "sub", PreferredUsername: "preferred_username", DisplayName: "name", FirstName: "given_name",
	LastName: "family_name", NickName: "nickname", Email: "email", EmailVerified: "email_verified",
	Phone: "phone_number", PhoneVerified: "phone_number_verified", PreferredLanguage: "locale",
	AvatarURL: "picture", ProfileURL: "profile",
}

// emailAsUsername is oidcClaims with the email as the username (Google, Apple).
var emailAsUsername = func() Mapping { m := oidcClaims; m.PreferredUsername = "email"; return m }()

// login is each kind's family, endpoints and mapping, by path.
type login struct {
	family    Family
	endpoints Endpoints
	mapping   Mapping
}

var loginTable = map[string]login{
	"generic_oidc": {FamilyOIDC, Endpoints{Scopes: []string{"openid", "profile", "email", "phone"}, Always: []string{"openid"}, Prompt: "select_account"}, oidcClaims},
	// Generic OAuth maps nothing but the ID (its idAttribute), as ZITADEL.
	"oauth":       {FamilyOAuth, Endpoints{}, Mapping{}},
	"generic_jwt": {FamilyJWT, Endpoints{}, oidcClaims},
	"ldap":        {family: FamilyLDAP},
	"azure": {FamilyOAuth, Endpoints{
		Issuer:   "https://login.microsoftonline.com/{tenant}/v2.0",
		AuthURL:  "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
		TokenURL: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
		UserURL:  "https://graph.microsoft.com/v1.0/me",
		Always:   []string{"openid", "User.Read"}, Prompt: "select_account",
	}, Mapping{
		ID: "id", PreferredUsername: "userPrincipalName", DisplayName: "displayName", FirstName: "givenName",
		LastName: "surname", Email: "mail", EmailFallback: "userPrincipalName", Phone: "mobilePhone",
		PreferredLanguage: "preferredLanguage",
	}},
	"github": {FamilyOAuth, Endpoints{
		AuthURL: "https://github.com/login/oauth/authorize", TokenURL: "https://github.com/login/oauth/access_token",
		UserURL: "https://api.github.com/user", EmailsURL: "https://api.github.com/user/emails",
		Scopes: []string{"read:user", "user:email"},
	}, githubClaims},
	"github_es":          {FamilyOAuth, Endpoints{Scopes: []string{"read:user", "user:email"}}, githubClaims},
	"gitlab":             {FamilyOIDC, Endpoints{Issuer: "https://gitlab.com", Scopes: []string{"openid", "profile", "email"}, Always: []string{"openid"}}, oidcClaims},
	"gitlab_self_hosted": {FamilyOIDC, Endpoints{Scopes: []string{"openid", "profile", "email"}, Always: []string{"openid"}}, oidcClaims},
	"google":             {FamilyOIDC, Endpoints{Issuer: "https://accounts.google.com", Scopes: []string{"openid", "profile", "email"}, Always: []string{"openid"}, Prompt: "select_account"}, emailAsUsername},
	"apple": {FamilyOIDC, Endpoints{Issuer: "https://appleid.apple.com", Scopes: []string{"openid", "name", "email"},
		Always: []string{"openid"}, ResponseMode: "form_post", IDTokenMapping: true}, emailAsUsername},
	"saml": {family: FamilySAML},
}

// githubClaims maps GitHub's /user; the verified email comes from
// /user/emails, never from /user.
var githubClaims = Mapping{
	ID: "id", PreferredUsername: "login", DisplayName: "name", NickName: "login", Email: "email",
	AvatarURL: "avatar_url", ProfileURL: "html_url",
}
