package ui

import (
	"context"
	"time"
)

// AuthRequestInfo is what the pages need of an OpenID Provider's auth
// request (V2_<id>).
type AuthRequestInfo struct {
	ClientID string
	AppName  string // optional
	Scopes   []string
	// LoginHint prefills the login name; Prompt is the request's prompt
	// values (none, login, select_account, create).
	LoginHint string
	Prompt    []string
	// OrgID is the scope urn:zitadel:iam:org:id:{id}: that org's login
	// policy applies. IDPID is urn:zitadel:iam:org:idp:id:{id}: the login
	// goes straight to that IdP.
	OrgID string
	IDPID string
	// RedirectURI is where the app gets the code; its origin is allowed as
	// a form target.
	RedirectURI string
	// HintUserID is the user the app named (id_token_hint), if any.
	HintUserID string
	// MaxAge is the request's max_age: a session whose user last proved a
	// factor longer ago than that before Created is not reused.
	MaxAge  *time.Duration
	Created time.Time
}

// AuthRequests is the OpenID Provider's side of the hosted login. Get
// fails (any error) for an unknown, expired or finished request; the pages
// then show the "invalid link" error.
type AuthRequests interface {
	Get(ctx context.Context, instanceID, id string) (AuthRequestInfo, error)
	// LinkSession finishes the request with a checked session and answers
	// the app's callback URL (code and state).
	LinkSession(ctx context.Context, instanceID, id, sessionID, sessionToken string) (callbackURL string, err error)
	// Fail finishes the request with an OAuth error (reason is the error
	// code, e.g. access_denied) and answers the callback URL that says so.
	Fail(ctx context.Context, instanceID, id, reason, description string) (callbackURL string, err error)
}
