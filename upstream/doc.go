// Package upstream signs users in at external identity providers, one
// adapter per protocol family (OIDC, OAuth 2, JWT, LDAP, SAML), built from
// an IdP's template; the kinds table (package idp) says which family each
// kind uses, its fixed endpoints and how its claims map to a User. The
// protocol work is done by the libraries made for it (zitadel/oidc's RP,
// golang.org/x/oauth2, go-ldap, crewjam/saml).
//
// The package is an outbound client of the domain, like the store: the
// commands that start and finish IdP intents call it; it never sees an
// idledger request, and a transport never calls it.
//
// Imports: errs, idp, and the standard library and third-party modules only.
//
// Start with provider.go (Registry, Provider), then oidc.go, oauth.go, jwt.go, ldap.go.
package upstream
