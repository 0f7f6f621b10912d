// Package ui is the hosted login (DESIGN.md §2 "The hosted login"): server-
// rendered pages under /ui/v2/login for apps that name no login UI of their
// own. It is a transport like api and rpc: each page decodes a form, calls
// the same typed commands and queries as the API (sessions, IdP intents,
// the linking decision, the login policy) in-process as a login client
// (IAM_LOGIN_CLIENT on the instance), and renders the outcome. It writes no
// events of its own kind and keeps no state on the server: the login flow
// lives in a sealed, HttpOnly cookie that also carries the CSRF token.
//
// The OpenID Provider's auth requests reach it through the AuthRequests
// interface (authrequest.go); without one, a link with ?authRequest= is the
// "invalid link" error page.
//
// Start with ui.go (New, Handler), then flow.go (the cookie and CSRF),
// pages.go (the handlers) and render.go (templates and the catalogue).
//
// Imports: api, api/gateway, authz, command, errs, query, secretbox, ui/authbind, ui/sealed, upstream, and the standard library and third-party modules only.
package ui
