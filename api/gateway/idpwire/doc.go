// Package idpwire holds the v1 IdP template wire shapes that REST (api) and
// RPC (rpc) share: an RPC request rendered as protojson is a REST body, so
// both transports decode an add or update body (IDPTemplate) and a search
// (ProviderSearch) here, and render zitadel.idp.v1.Provider and
// ListProvidersResponse here (ToProviderV1, ToProviderListV1).
//
// Imports: api/gateway, errs, events, idp, internal/idpstate, query, and the standard library and third-party modules only.
package idpwire
