package command

import (
	"context"
	"crypto/subtle"
	"slices"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// Auth requests (ZITADEL's login v2 model): the OP writes one at
// /oauth/v2/authorize, a login UI finishes it with a session
// (LinkSessionToAuthRequest) or an error (FailAuthRequest), the OP adds a
// code, and the code exchange consumes it, once.

// AuthRequestPrefix starts every auth request ID (ZITADEL's "V2_").
const AuthRequestPrefix = "V2_"

// AuthCodeLifetime is how long an authorization code may be exchanged.
const AuthCodeLifetime = 10 * time.Minute

// AuthRequestState is where an auth request is in its life.
type AuthRequestState int

// The states of an auth request.
const (
	AuthRequestUnknown AuthRequestState = iota
	AuthRequestAddedState
	AuthRequestLinked
	AuthRequestCodeIssued
	AuthRequestExchanged
	AuthRequestFailedState
)

// AuthRequest is an auth request as its events tell it.
type AuthRequest struct {
	ID string
	events.AuthRequestAddedPayload
	Status        AuthRequestState
	SessionID     string
	UserID        string
	AuthTime      time.Time
	AMR           []string
	OIDCSessionID string
	Created       time.Time
	Details       Details
}

type authRequestModel struct {
	aggregate
	AuthRequest
	codeHash  string
	codeAdded time.Time
}

func (c *Commands) loadAuthRequest(ctx context.Context, instanceID, id string) (*authRequestModel, error) {
	m := &authRequestModel{aggregate: aggregate{ref: eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggAuthRequest, ID: id}}}
	if err := c.load(ctx, m, nil, loadErrs{read: "COMMAND-AR001", reduce: "COMMAND-AR002"}); err != nil {
		return nil, err
	}
	m.ID, m.Created = id, m.created
	m.Details = Details{ID: id, Sequence: m.head, Created: m.created, Changed: m.created, ResourceOwner: instanceID}
	return m, nil
}

func (m *authRequestModel) reduce(e *eventstore.Event) error {
	m.Details.Changed = e.CreatedAt
	switch e.Type {
	case events.AuthRequestAdded:
		if err := e.Unmarshal(&m.AuthRequestAddedPayload); err != nil {
			return err
		}
		m.Status = AuthRequestAddedState
	case events.AuthRequestSessionLinked:
		var p events.AuthRequestSessionLinkedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.Status, m.SessionID, m.UserID, m.AuthTime, m.AMR = AuthRequestLinked, p.SessionID, p.UserID, p.AuthTime, p.AuthMethods
	case events.AuthRequestCodeAdded:
		var p events.AuthRequestCodeAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.Status, m.codeHash, m.codeAdded = AuthRequestCodeIssued, p.CodeHash, e.CreatedAt
	case events.AuthRequestCodeExchanged:
		var p events.AuthRequestCodeExchangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.Status, m.OIDCSessionID = AuthRequestExchanged, p.OIDCSessionID
	case events.AuthRequestFailed:
		m.Status = AuthRequestFailedState
	}
	return nil
}

var errAuthRequestNotFound = errs.NotFound("COMMAND-Bsf3g", "Errors.AuthRequest.NotExisting")

// errAuthRequestHandled is ZITADEL's AlreadyHandled answer.
var errAuthRequestHandled = errs.FailedPrecondition("COMMAND-Sx208nt", "Errors.AuthRequest.AlreadyHandled")

// AddAuthRequest writes a new auth request of instanceID, as the OP
// accepted it at /oauth/v2/authorize. It checks no caller: the relying
// party's browser is the caller and the OP has validated the request.
//
// Errors: Internal on store failure.
func (c *Commands) AddAuthRequest(ctx context.Context, instanceID string, in events.AuthRequestAddedPayload) (*AuthRequest, error) {
	id, err := c.ids.Next()
	if err != nil {
		return nil, errs.Internal("COMMAND-AR003", err)
	}
	id = AuthRequestPrefix + id
	ref := eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggAuthRequest, ID: id}
	evs, err := c.execute(ctx, func(context.Context) (eventstore.Append, error) {
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{Aggregate: ref, ResourceOwner: instanceID,
			Expected: 0, Events: []eventstore.PendingEvent{{Type: events.AuthRequestAdded, Payload: in}}}}}, nil
	})
	if err != nil {
		return nil, err
	}
	d := aggregateDetails(evs, ref, time.Time{})
	return &AuthRequest{ID: id, AuthRequestAddedPayload: in, Status: AuthRequestAddedState, Created: d.Created, Details: d}, nil
}

// AuthRequestByID returns auth request id of instanceID, for the OP. It
// checks no caller.
//
// Errors: NotFound COMMAND-Bsf3g; Internal on store failure.
func (c *Commands) AuthRequestByID(ctx context.Context, instanceID, id string) (*AuthRequest, error) {
	m, err := c.loadAuthRequest(ctx, instanceID, id)
	if err != nil {
		return nil, err
	}
	if m.Status == AuthRequestUnknown {
		return nil, errAuthRequestNotFound
	}
	return &m.AuthRequest, nil
}

// GetAuthRequest is v2 GetAuthRequest: the caller needs session.read on
// the instance. Only a request still waiting for a login is returned.
//
// Errors: Unauthenticated; PermissionDenied; NotFound COMMAND-Bsf3g;
// FailedPrecondition COMMAND-Sx208nt when it was handled already.
func (c *Commands) GetAuthRequest(ctx context.Context, id string) (*AuthRequest, error) {
	cl, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := cl.Check("session.read", ""); err != nil {
		return nil, err
	}
	ar, err := c.AuthRequestByID(ctx, cl.InstanceID, id)
	if err != nil {
		return nil, err
	}
	if ar.Status != AuthRequestAddedState {
		return nil, errAuthRequestHandled
	}
	return ar, nil
}

// LinkSessionToAuthRequest is CreateCallback with a session: the caller
// needs session.link (IAM_LOGIN_CLIENT); the session must be active, its
// token current and its user checked.
//
// Errors: Unauthenticated; PermissionDenied (session.link); NotFound
// COMMAND-Bsf3g; FailedPrecondition COMMAND-Sx208nt (already handled);
// NotFound COMMAND-SeNF1, PermissionDenied COMMAND-sGr42, FailedPrecondition
// COMMAND-Hewfq / COMMAND-Hkl3d (the session's); FailedPrecondition
// COMMAND-AR004 (a session without a checked user), COMMAND-AR005 (the
// session's last check is older than the request's max_age allows).
func (c *Commands) LinkSessionToAuthRequest(ctx context.Context, id, sessionID, sessionToken string) (*AuthRequest, error) {
	if err := validLen("Session.SessionId", sessionID, 1, 200); err != nil {
		return nil, err
	}
	if err := validLen("Session.SessionToken", sessionToken, 1, 200); err != nil {
		return nil, err
	}
	return c.finishAuthRequest(ctx, id, AuthRequestLinked, func(ctx context.Context, instanceID string, m *authRequestModel) (eventstore.PendingEvent, error) {
		s, err := c.loadSession(ctx, instanceID, sessionID)
		if err != nil {
			return eventstore.PendingEvent{}, err
		}
		if !s.exists {
			return eventstore.PendingEvent{}, errs.NotFound("COMMAND-SeNF1", "Errors.Session.NotExisting")
		}
		if subtle.ConstantTimeCompare([]byte(events.PATHash(sessionToken)), []byte(s.tokenHash)) != 1 {
			return eventstore.PendingEvent{}, errs.PermissionDenied("COMMAND-sGr42", "Errors.Session.Token.Invalid")
		}
		if err := s.notInvalidated(c.now()); err != nil {
			return eventstore.PendingEvent{}, err
		}
		if s.userID == "" {
			return eventstore.PendingEvent{}, errs.FailedPrecondition("COMMAND-AR004", "Errors.Session.User.Missing")
		}
		at := s.authTime()
		if m.MaxAge != nil && at.Before(m.created.Add(-time.Duration(*m.MaxAge)*time.Second)) {
			// max_age: the user must have authenticated within max_age
			// before the request (a fresh check after it for max_age=0).
			return eventstore.PendingEvent{}, errs.FailedPrecondition("COMMAND-AR005", "Errors.AuthRequest.MaxAgeExceeded")
		}
		p := events.AuthRequestSessionLinkedPayload{SessionID: sessionID, UserID: s.userID, AuthTime: at, AuthMethods: s.amr()}
		m.SessionID, m.UserID, m.AuthTime, m.AMR = p.SessionID, p.UserID, p.AuthTime, p.AuthMethods
		return eventstore.PendingEvent{Type: events.AuthRequestSessionLinked, Payload: p}, nil
	})
}

// FailAuthRequest is CreateCallback with an error: the caller needs
// session.link. reason is the OAuth error code (access_denied, ...).
//
// Errors: as LinkSessionToAuthRequest for the request and the caller.
func (c *Commands) FailAuthRequest(ctx context.Context, id, reason, description string) (*AuthRequest, error) {
	if err := validLen("Error.ErrorDescription", description, 0, 500); err != nil {
		return nil, err
	}
	return c.finishAuthRequest(ctx, id, AuthRequestFailedState, func(context.Context, string, *authRequestModel) (eventstore.PendingEvent, error) {
		return eventstore.PendingEvent{Type: events.AuthRequestFailed,
			Payload: events.AuthRequestFailedPayload{Reason: reason, Description: description}}, nil
	})
}

// AuthRequestFinish is how a login UI finishes an auth request
// (CreateCallback): with a checked session (SessionID and SessionToken),
// or else with an OAuth error (Reason, Description).
type AuthRequestFinish struct {
	SessionID, SessionToken string
	Reason, Description     string
}

// FinishAuthRequest is CreateCallback: LinkSessionToAuthRequest when in
// names a session, else FailAuthRequest with its reason.
//
// Errors: as LinkSessionToAuthRequest and FailAuthRequest.
func (c *Commands) FinishAuthRequest(ctx context.Context, id string, in AuthRequestFinish) (*AuthRequest, error) {
	if in.SessionID != "" || in.Reason == "" {
		return c.LinkSessionToAuthRequest(ctx, id, in.SessionID, in.SessionToken)
	}
	return c.FailAuthRequest(ctx, id, in.Reason, in.Description)
}

// finishAuthRequest is CreateCallback's common part: the caller needs
// session.link, the request must wait for a login; decide gives the event
// that finishes it, leaving it in state next.
func (c *Commands) finishAuthRequest(ctx context.Context, id string, next AuthRequestState,
	decide func(ctx context.Context, instanceID string, m *authRequestModel) (eventstore.PendingEvent, error)) (*AuthRequest, error) {
	cl, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := cl.Check("session.link", ""); err != nil {
		return nil, err
	}
	m, evs, err := executeOn(ctx, c, c.loadAuthRequest, cl.InstanceID, id, func(ctx context.Context, m *authRequestModel) (eventstore.Append, error) {
		if m.Status == AuthRequestUnknown {
			return eventstore.Append{}, errAuthRequestNotFound
		}
		if m.Status != AuthRequestAddedState {
			return eventstore.Append{}, errAuthRequestHandled
		}
		e, err := decide(ctx, cl.InstanceID, m)
		if err != nil {
			return eventstore.Append{}, err
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{Aggregate: m.ref, ResourceOwner: cl.InstanceID,
			Expected: m.head, Events: []eventstore.PendingEvent{e}}}}, nil
	})
	if err != nil {
		return nil, err
	}
	m.Status = next
	m.Details = aggregateDetails(evs, m.ref, m.created)
	return &m.AuthRequest, nil
}

// AddAuthRequestCode records the code issued for a linked auth request:
// its SHA-256 only. It checks no caller (the OP calls it right after
// CreateCallback linked the request).
//
// Errors: NotFound COMMAND-Bsf3g; FailedPrecondition COMMAND-Sx208nt
// when the request is not linked, or has a code already.
func (c *Commands) AddAuthRequestCode(ctx context.Context, instanceID, id, code string) error {
	_, _, err := executeOn(ctx, c, c.loadAuthRequest, instanceID, id, func(ctx context.Context, m *authRequestModel) (eventstore.Append, error) {
		if m.Status == AuthRequestUnknown {
			return eventstore.Append{}, errAuthRequestNotFound
		}
		if m.Status != AuthRequestLinked {
			return eventstore.Append{}, errAuthRequestHandled
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{Aggregate: m.ref, ResourceOwner: instanceID,
			Expected: m.head, Events: []eventstore.PendingEvent{{Type: events.AuthRequestCodeAdded,
				Payload: events.AuthRequestCodeAddedPayload{CodeHash: events.PATHash(code)}}}}}}, nil
	})
	return err
}

// ErrCodeInvalid answers every code that cannot be exchanged: unknown,
// expired, of another request, or used before.
var ErrCodeInvalid = errs.InvalidArgument("COMMAND-Code1", "Errors.AuthRequest.Code.Invalid")

// AuthRequestByCode returns the auth request that code (issued for auth
// request id) may be exchanged for. A code used before fails, and the
// tokens its first use issued are revoked: their OIDC session is
// terminated (RFC 6749 §4.1.2).
//
// Errors: InvalidArgument ErrCodeInvalid; Internal on store failure.
func (c *Commands) AuthRequestByCode(ctx context.Context, instanceID, id, code string) (*AuthRequest, error) {
	m, err := c.loadAuthRequest(ctx, instanceID, id)
	if err != nil {
		return nil, err
	}
	if m.codeHash == "" || subtle.ConstantTimeCompare([]byte(events.PATHash(code)), []byte(m.codeHash)) != 1 {
		return nil, ErrCodeInvalid
	}
	if m.Status == AuthRequestExchanged {
		if m.OIDCSessionID != "" {
			if err := c.terminateOIDCSession(ctx, instanceID, m.OIDCSessionID); err != nil {
				return nil, err
			}
		}
		return nil, ErrCodeInvalid
	}
	if m.Status != AuthRequestCodeIssued || !c.now().Before(m.codeAdded.Add(AuthCodeLifetime)) {
		return nil, ErrCodeInvalid
	}
	return &m.AuthRequest, nil
}

// exchangeEvents are the auth request's events of a code exchange that
// created OIDC session oidcSessionID; the expected head makes a second,
// concurrent exchange fail.
func (m *authRequestModel) exchangeEvents(instanceID, oidcSessionID string) eventstore.AggregateAppend {
	return eventstore.AggregateAppend{Aggregate: m.ref, ResourceOwner: instanceID, Expected: m.head, Events: []eventstore.PendingEvent{
		{Type: events.AuthRequestCodeExchanged, Payload: events.AuthRequestCodeExchangedPayload{OIDCSessionID: oidcSessionID}},
		{Type: events.AuthRequestSucceeded},
	}}
}

// authTime is when the session's user last proved a factor: the latest
// check (or the session's creation).
func (s *sessionModel) authTime() time.Time {
	t := s.created
	for _, at := range []time.Time{s.passwordCheckedAt, s.intentCheckedAt} {
		if at.After(t) {
			t = at
		}
	}
	return t
}

// amr are the session's checked factors as RFC 8176 values (ZITADEL's:
// pwd for a password, user for an IdP login).
func (s *sessionModel) amr() []string {
	var out []string
	if !s.passwordCheckedAt.IsZero() {
		out = append(out, "pwd")
	}
	if !s.intentCheckedAt.IsZero() && !slices.Contains(out, "user") {
		out = append(out, "user")
	}
	return out
}
