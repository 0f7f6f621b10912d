// Package idpstate is the one typed read model of an IdP and its renderers:
// State folds an IdP aggregate's events (the write model of command and
// the replay of audit both fold with it), and V2 and Config render an IdP
// once per wire shape (GET /v2/idps/{id}, the v1 Provider's config), from
// a State or from the projection's public view.
//
// Imports: events, eventstore, idp, internal/pbjson.
// Start with state.go, then render.go.
package idpstate
