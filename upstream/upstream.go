package upstream

import "time"

// User is what an IdP says about the person who signed in, mapped to
// ZITADEL's idp.User getters for the IdP's kind.
type User struct {
	ID                string // the external user ID: the link's key with the IdP ID
	PreferredUsername string
	DisplayName       string
	FirstName         string
	LastName          string
	NickName          string
	Email             string
	EmailVerified     bool // only what the IdP asserts (GitHub: /user/emails; Azure: the template flag)
	Phone             string
	PhoneVerified     bool
	PreferredLanguage string
	AvatarURL         string
	ProfileURL        string
	// Raw is the IdP's own view of the user, Retrieve's rawInformation:
	// the claims, the userinfo JSON, the SAML attributes, the LDAP entry.
	Raw map[string]any
}

// Result is a finished upstream login.
type Result struct {
	User User
	// The upstream's tokens (OAuth family); sealed before they are stored.
	AccessToken  string
	IDToken      string
	RefreshToken string
	// LDAP is the entry's attributes (LDAP only).
	LDAP map[string][]string
	// Assertion is the SAML assertion's XML (SAML only); sealed before it
	// is stored.
	Assertion []byte
	// ExpiresAt is when the upstream session ends (token expiry, SAML
	// NotOnOrAfter); zero when the upstream says nothing.
	ExpiresAt time.Time
}

// Start is how a login that goes through the browser continues: a redirect
// to AuthURL, or (SAML's POST binding) a form posted to Form.URL.
type Start struct {
	AuthURL string
	Form    *Form
	// Saved is what the callback needs back and no browser may see: the PKCE
	// verifier, the nonce, the SAML request ID. The intent keeps it sealed.
	Saved map[string]string
}

// Form is an HTML form to post: SAML's POST binding.
type Form struct {
	URL    string
	Fields map[string]string
}

// Callback is what the browser brought back to the callback endpoint,
// decoded by the transport.
type Callback struct {
	Code             string // OAuth family: the authorization code
	Error            string // OAuth family: the upstream's error
	ErrorDescription string
	AppleUser        string // Apple's form_post "user": first-login name JSON
	SAMLResponse     string // SAML ACS: the base64 SAMLResponse
	JWT              string // JWT IdP: the token from the configured header
	UserAgentID      string // JWT IdP: the userAgentID the proxy sent back
}
