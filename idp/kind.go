package idp

import "slices"

// IdP type numbers: the v2 IDPType enum and, with the same numbering, the v1
// ProviderType enum.
const (
	TypeUnspecified      = 0
	TypeOIDC             = 1
	TypeJWT              = 2
	TypeLDAP             = 3
	TypeOAuth            = 4
	TypeAzureAD          = 5
	TypeGitHub           = 6
	TypeGitHubES         = 7
	TypeGitLab           = 8
	TypeGitLabSelfHosted = 9
	TypeGoogle           = 10
	TypeApple            = 11
	TypeSAML             = 12
)

// typeSuffixes are the enum name suffixes by type number; IDPTypeName and
// ProviderTypeName add their enum's prefix.
var typeSuffixes = [...]string{
	"UNSPECIFIED", "OIDC", "JWT", "LDAP", "OAUTH", "AZURE_AD", "GITHUB",
	"GITHUB_ES", "GITLAB", "GITLAB_SELF_HOSTED", "GOOGLE", "APPLE", "SAML",
}

// IDPTypeName returns the v2 IDPType enum name of t, e.g. "IDP_TYPE_GOOGLE".
// An unknown number gives "IDP_TYPE_UNSPECIFIED".
func IDPTypeName(t int) string { return "IDP_TYPE_" + typeSuffix(t) }

// ProviderTypeName returns the v1 ProviderType enum name of t, e.g.
// "PROVIDER_TYPE_GOOGLE". An unknown number gives "PROVIDER_TYPE_UNSPECIFIED".
func ProviderTypeName(t int) string { return "PROVIDER_TYPE_" + typeSuffix(t) }

func typeSuffix(t int) string {
	if t < 0 || t >= len(typeSuffixes) {
		return typeSuffixes[0]
	}
	return typeSuffixes[t]
}

// ParseIDPType reads a v2 IDPType or v1 ProviderType enum name (either
// prefix) and returns its number; ok is false for an unknown name.
func ParseIDPType(name string) (t int, ok bool) {
	for i, s := range typeSuffixes {
		if name == "IDP_TYPE_"+s || name == "PROVIDER_TYPE_"+s {
			return i, true
		}
	}
	return 0, false
}

// Kind is one row of the IdP kinds table.
type Kind struct {
	Path        string        // URL segment: /idps/{Path}
	Type        int           // v2 IDPType / v1 ProviderType number
	TypeName    string        // v2 IDPType name, e.g. "IDP_TYPE_GOOGLE"
	ConfigKey   string        // JSON key of the config oneof in v1 and v2 responses, e.g. "azureAd"
	DefaultName string        // used when the request's name is empty; "" means name is required
	New         func() Config // a new, empty config of this kind
	// Family, Endpoints and Mapping are the login half of the row
	// (login.go): the adapter, the fixed endpoints, the claims mapping.
	Family    Family
	Endpoints Endpoints
	Mapping   Mapping

	message string // proto message stem, e.g. "GoogleProvider" in AddGoogleProviderRequest
}

// AddRequest and UpdateRequest name the kind's request messages, as the
// validation messages do ("invalid AddGoogleProviderRequest.ClientId: …").
func (k Kind) AddRequest() string    { return "Add" + k.message + "Request" }
func (k Kind) UpdateRequest() string { return "Update" + k.message + "Request" }

// kindTable is built once and never changed; Kinds hands out copies.
var kindTable = []Kind{
	row("generic_oidc", TypeOIDC, "", func() Config { return new(OIDCConfig) }),
	row("generic_jwt", TypeJWT, "", func() Config { return new(JWTConfig) }),
	row("ldap", TypeLDAP, "", func() Config { return new(LDAPConfig) }),
	row("oauth", TypeOAuth, "", func() Config { return new(OAuthConfig) }),
	row("azure", TypeAzureAD, "", func() Config { return new(AzureADConfig) }),
	row("github", TypeGitHub, "GitHub", newClientConfig("github", "GitHubProvider")),
	row("github_es", TypeGitHubES, "", func() Config { return new(GitHubESConfig) }),
	row("gitlab", TypeGitLab, "GitLab", newClientConfig("gitlab", "GitLabProvider")),
	row("gitlab_self_hosted", TypeGitLabSelfHosted, "", func() Config { return new(GitLabSelfHostedConfig) }),
	row("google", TypeGoogle, "Google", newClientConfig("google", "GoogleProvider")),
	row("apple", TypeApple, "Apple", func() Config { return new(AppleConfig) }),
	row("saml", TypeSAML, "", func() Config { return new(SAMLConfig) }),
}

// row completes a table row from its config type, so that the config key
// and message names are written once, in the config's form.
func row(path string, typ int, defaultName string, newConfig func() Config) Kind {
	f := newConfig().(former).form()
	l := loginTable[path]
	return Kind{
		Family:      l.family,
		Endpoints:   l.endpoints,
		Mapping:     l.mapping,
		Path:        path,
		Type:        typ,
		TypeName:    IDPTypeName(typ),
		ConfigKey:   f.key,
		DefaultName: defaultName,
		New:         newConfig,
		message:     f.message,
	}
}

// Kinds returns every kind, ordered by Type. The slice is a copy.
func Kinds() []Kind { return slices.Clone(kindTable) }

// ByPath returns the kind whose URL segment is path.
func ByPath(path string) (Kind, bool) {
	i := slices.IndexFunc(kindTable, func(k Kind) bool { return k.Path == path })
	if i < 0 {
		return Kind{}, false
	}
	return kindTable[i], true
}

// ByType returns the kind with the given IDPType number.
func ByType(t int) (Kind, bool) {
	i := slices.IndexFunc(kindTable, func(k Kind) bool { return k.Type == t })
	if i < 0 {
		return Kind{}, false
	}
	return kindTable[i], true
}
