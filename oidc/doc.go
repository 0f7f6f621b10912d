// Package oidc is the OpenID Provider transport: zitadel/oidc's op.Provider
// on ZITADEL's endpoint paths (/oauth/v2/..., /oidc/v1/...,
// /.well-known/openid-configuration), one issuer per instance host, with
// an op.Storage that is a thin adapter over commands and queries. Auth
// requests, codes and OIDC sessions are aggregates (command/authrequest.go,
// command/oidcsession.go); this package only maps them to the library's
// interfaces. Start with provider.go, then storage.go.
//
// Imports: api/gateway, authz, command, errs, events, query, secretbox, ui/authbind, and the standard library and third-party modules only.
package oidc
