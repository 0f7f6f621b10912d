// Package idp is the table of the 12 IdP kinds (generic OAuth, OIDC, JWT,
// LDAP, Azure AD, GitHub, GitHub Enterprise Server, GitLab, GitLab
// self-hosted, Google, Apple, SAML) and their typed configs.
//
// Each kind is one row in Kinds() and one Config type. A config struct is the
// JSON shape of the kind's add/update request body and is also the event
// payload; View gives the v2 response object, without secrets. Commands,
// events, projections, queries and the API read this table instead of
// repeating code per kind: adding a kind is one row plus one config type.
//
// Imports: errs, internal/pbjson, and the standard library and third-party modules only.
//
// Start reading at kind.go (the table), then config.go (Config and the
// declarative field rules), then request.go (ParseRequest).
package idp
