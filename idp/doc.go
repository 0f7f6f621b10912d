// Package idp is the table of the 12 IdP kinds (generic OAuth, OIDC, JWT,
// LDAP, Azure AD, GitHub, GitHub Enterprise Server, GitLab, GitLab
// self-hosted, Google, Apple, SAML) and their typed configs.
//
// Each kind is one row in Kinds() and one Config type. A config struct's
// JSON names are the wire names of the kind's add/update request and its
// JSON is the event payload; View gives the v2 response object, without
// secrets. A Template (kind, name, options, config) is the typed input of
// the add and update commands; transports decode their wire into it, and
// its Normalize and Validate hold every rule. Commands, events, projections,
// queries and the API read this table instead of repeating code per kind:
// adding a kind is one row plus one config type.
//
// Imports: errs and internal/pbjson (the protobuf-JSON value leaf, for
// Duration) only; no api, no command, no decoder.
//
// Start reading at kind.go (the table), then template.go, then config.go
// (Config and the declarative field rules).
package idp
