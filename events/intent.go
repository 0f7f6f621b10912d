package events

import "time"

// AggIDPIntent is an IdP login in progress: one aggregate per intent, owned
// by the instance (ZITADEL's idpintent, v1).
const AggIDPIntent = "idpintent"

// IdP intent events, ZITADEL's names.
const (
	IDPIntentStarted       = "idpintent.started"
	IDPIntentSucceeded     = "idpintent.succeeded"
	IDPIntentSAMLRequested = "idpintent.saml.requested"
	IDPIntentSAMLSucceeded = "idpintent.saml.succeeded"
	IDPIntentLDAPSucceeded = "idpintent.ldap.succeeded"
	IDPIntentFailed        = "idpintent.failed"
	IDPIntentConsumed      = "idpintent.consumed"
)

// IDPIntentStartedPayload: the intent ID is the upstream's state.
// IDPArguments is sealed text (secretbox, bound to instance, intent,
// "idpArguments") of what the callback needs back and no browser may see:
// the PKCE verifier, the nonce, the SAML request ID. ExpiresAt ends the
// started intent (10 minutes; ZITADEL's never end).
type IDPIntentStartedPayload struct {
	IDPID        string    `json:"idpId"`
	SuccessURL   string    `json:"successURL,omitempty"`
	FailureURL   string    `json:"failureURL,omitempty"`
	IDPArguments string    `json:"idpArguments,omitempty"`
	ExpiresAt    time.Time `json:"expiresAt"`
}

// IDPIntentSucceededPayload ends an OAuth-family login. IDPUser (the
// mapped user with its raw claims: PII) and the upstream's tokens are
// sealed text; TokenHash is the hex SHA-256 of the intent token, which is
// never stored. UserID is the idledger user linked to the external one at
// callback time, if exactly one is.
type IDPIntentSucceededPayload struct {
	IDPUser         string    `json:"idpUser"`
	IDPUserID       string    `json:"idpUserId"`
	IDPUserName     string    `json:"idpUserName,omitempty"`
	UserID          string    `json:"userId,omitempty"`
	IDPAccessToken  string    `json:"idpAccessToken,omitempty"`
	IDPIDToken      string    `json:"idpIdToken,omitempty"`
	IDPRefreshToken string    `json:"idpRefreshToken,omitempty"`
	ExpiresAt       time.Time `json:"expiresAt"`
	TokenHash       string    `json:"tokenHash"`
}

// IDPIntentSAMLRequestedPayload records the AuthnRequest's ID, which the
// response's InResponseTo must match.
type IDPIntentSAMLRequestedPayload struct {
	RequestID string `json:"requestId"`
}

// IDPIntentSAMLSucceededPayload ends a SAML login; Assertion is sealed.
type IDPIntentSAMLSucceededPayload struct {
	IDPUser     string    `json:"idpUser"`
	IDPUserID   string    `json:"idpUserId"`
	IDPUserName string    `json:"idpUserName,omitempty"`
	UserID      string    `json:"userId,omitempty"`
	Assertion   string    `json:"assertion"`
	ExpiresAt   time.Time `json:"expiresAt"`
	TokenHash   string    `json:"tokenHash"`
}

// IDPIntentLDAPSucceededPayload ends an LDAP login; User (the entry's
// attributes) is sealed.
type IDPIntentLDAPSucceededPayload struct {
	IDPUser     string    `json:"idpUser"`
	IDPUserID   string    `json:"idpUserId"`
	IDPUserName string    `json:"idpUserName,omitempty"`
	UserID      string    `json:"userId,omitempty"`
	User        string    `json:"user"`
	ExpiresAt   time.Time `json:"expiresAt"`
	TokenHash   string    `json:"tokenHash"`
}

// IDPIntentFailedPayload: the reason names the upstream's error or ours.
type IDPIntentFailedPayload struct {
	Reason string `json:"reason"`
}

var intentCatalog = []EventInfo{
	{IDPIntentStarted, AggIDPIntent, IDPIntentStartedPayload{}, "an IdP login was started (PKCE verifier and nonce sealed)"},
	{IDPIntentSucceeded, AggIDPIntent, IDPIntentSucceededPayload{}, "an OAuth-family IdP login succeeded (user and upstream tokens sealed, intent token hashed)"},
	{IDPIntentSAMLRequested, AggIDPIntent, IDPIntentSAMLRequestedPayload{}, "a SAML AuthnRequest was sent for the intent"},
	{IDPIntentSAMLSucceeded, AggIDPIntent, IDPIntentSAMLSucceededPayload{}, "a SAML IdP login succeeded (user and assertion sealed, intent token hashed)"},
	{IDPIntentLDAPSucceeded, AggIDPIntent, IDPIntentLDAPSucceededPayload{}, "an LDAP IdP login succeeded (user and entry sealed, intent token hashed)"},
	{IDPIntentFailed, AggIDPIntent, IDPIntentFailedPayload{}, "an IdP login failed"},
	{IDPIntentConsumed, AggIDPIntent, nil, "a succeeded IdP login was used by a session check (single use)"},
}
