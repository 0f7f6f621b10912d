// Package render is the one rendering of the read models and command
// results that REST and RPC share: a login policy and its IdP list, the v1
// org, events and their types, v2 users, v2 sessions (their requests too), IdP links and the three link
// dialects (their field names and details), org creation, the v1 IdP templates (the add/update body an RPC request
// becomes as protojson, the search, the Provider rendering), management v1 projects and apps (their requests, lists and the
// OIDC compliance report), in ZITADEL's JSON
// (the REST wire shape). REST
// writes these values; RPC reads them into its response messages as
// protojson, so both transports answer alike by construction. It also holds
// the event API's caller check and request rules (ParseListEvents), which
// both transports apply. It knows no HTTP.
//
// Imports: api/gateway, audit, authz, command, errs, events, idp, internal/idpstate, query, upstream (its User type), and the standard library and third-party modules only.
//
// Start with policy.go, then events.go.
package render
