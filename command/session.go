package command

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"maps"
	"strings"
	"time"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// UserIndex finds users in the read tables. Implemented by the query side;
// every user it names is confirmed against its own events.
type UserIndex interface {
	// UserIDsByLoginName returns the IDs of the users of the instance whose
	// login name is loginName (case-insensitive).
	UserIDsByLoginName(ctx context.Context, instanceID, loginName string) ([]string, error)
	// UserIDsByLoginNameLoad is UserIDsByLoginName as a read (a
	// LoadIDs) that a decision loads with its aggregates, in one round trip.
	UserIDsByLoginNameLoad(instanceID, loginName string) *eventstore.Load
}

// UserCheck is CheckUser: the session's user, by ID or by login name.
type UserCheck struct {
	UserID    string
	LoginName string
}

// PasswordCheck is CheckPassword.
type PasswordCheck struct {
	Password string // plaintext; never stored, never logged
}

// String keeps the password out of logs and %v.
func (PasswordCheck) String() string { return "command.PasswordCheck{[redacted]}" }

// GoString keeps the password out of %#v.
func (p PasswordCheck) GoString() string { return p.String() }

// IntentCheck is CheckIDPIntent: a succeeded IdP intent and its token.
type IntentCheck struct {
	ID    string
	Token string
}

// SessionChecks are the checks of a create or set, run in ZITADEL's order:
// user, password, idpIntent.
type SessionChecks struct {
	User     *UserCheck
	Password *PasswordCheck
	Intent   *IntentCheck
}

// UserAgent is the user agent a session is created from.
type UserAgent = events.UserAgent

// CreateSession is v2 CreateSession.
type CreateSession struct {
	Checks    SessionChecks
	Metadata  map[string][]byte
	UserAgent *UserAgent
	Lifetime  time.Duration // 0: no expiry
}

// SetSession is v2 SetSession. SessionToken is optional: without it the
// caller needs session.write.
type SetSession struct {
	SessionID    string
	SessionToken string
	Checks       SessionChecks
	Metadata     map[string][]byte
	Lifetime     time.Duration
}

// SessionChanged is the outcome of a create or set: the session's details
// and, when anything changed, its new token. The token is returned only
// here; the store keeps its SHA-256.
type SessionChanged struct {
	Details
	Token string
}

// sessionDecision collects what one attempt of a session command decides:
// the session's own events and those of other aggregates (the user's
// password checks, an intent's consumption), appended together.
type sessionDecision struct {
	instanceID string
	session    *sessionModel
	now        time.Time
	userID     string // the session's user once checked (or from before)
	userOrg    string
	user       *userModel // loaded by the user or password check
	pend       []eventstore.PendingEvent
	others     []eventstore.AggregateAppend
}

// checked records that a factor was checked now (session.password.checked,
// session.intent.checked).
func (d *sessionDecision) checked(typ string) {
	d.pend = append(d.pend, eventstore.PendingEvent{Type: typ, Payload: events.SessionCheckedPayload{CheckedAt: d.now}})
}

// also appends events to another aggregate in the same append.
func (d *sessionDecision) also(a eventstore.AggregateAppend) { d.others = append(d.others, a) }

func (d *sessionDecision) append(metaOwner string) eventstore.Append {
	aggs := []eventstore.AggregateAppend{{Aggregate: d.session.ref, ResourceOwner: metaOwner, Expected: d.session.head, Events: d.pend}}
	return eventstore.Append{Aggregates: append(aggs, d.others...)}
}

// validateChecks applies the PGV rules of the checks' messages.
func validateChecks(ch SessionChecks, lifetime time.Duration) error {
	if u := ch.User; u != nil {
		switch {
		case u.UserID != "":
			if err := validLen("CheckUser.UserId", u.UserID, 1, 200); err != nil {
				return embedded("Checks.User", err)
			}
		case u.LoginName != "":
			if err := validLen("CheckUser.LoginName", u.LoginName, 1, 200); err != nil {
				return embedded("Checks.User", err)
			}
		default:
			return embedded("Checks.User", errs.InvalidArgument("", "invalid CheckUser.Search: value is required"))
		}
	}
	if p := ch.Password; p != nil {
		if err := validLen("CheckPassword.Password", p.Password, 1, 200); err != nil {
			return embedded("Checks.Password", err)
		}
	}
	if i := ch.Intent; i != nil {
		if err := validLen("CheckIDPIntent.IdpIntentId", i.ID, 1, 200); err != nil {
			return embedded("Checks.IdpIntent", err)
		}
		if err := validLen("CheckIDPIntent.IdpIntentToken", i.Token, 1, 200); err != nil {
			return embedded("Checks.IdpIntent", err)
		}
	}
	if lifetime < 0 {
		return errs.InvalidArgument("COMMAND-asEG4", "Errors.Session.PositiveLifetime")
	}
	return nil
}

// needsUserIndex fails when ch checks a user by login name and no user
// index is configured.
func (c *Commands) needsUserIndex(ch SessionChecks) error {
	if ch.User != nil && ch.User.UserID == "" && c.users == nil {
		return errs.Internal("COMMAND-Ses00", errNoUserIndex)
	}
	return nil
}

type sessionError string

func (e sessionError) Error() string { return string(e) }

const errNoUserIndex = sessionError("command: no user index configured")

// CreateSession creates a session and runs its checks. The caller needs
// session.write on the instance. A failed password check creates no
// session but is recorded on the user (and may lock it).
//
// Errors: InvalidArgument naming the field, or COMMAND-asEG4 (negative
// lifetime); PermissionDenied AUTHZ-HKJD33; and those of the checks:
// NotFound QUERY-Dfbg2 (no such user), FailedPrecondition SESSION-Gj4ko
// (user not active, e.g. locked); FailedPrecondition COMMAND-Sfw3f (a
// password check without a user), COMMAND-Df4b3, COMMAND-JLK35,
// COMMAND-WEf3t, COMMAND-SFA3t; InvalidArgument COMMAND-3M0fs (wrong
// password); the intent check's errors.
func (c *Commands) CreateSession(ctx context.Context, in CreateSession) (*SessionChanged, error) {
	cl, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := cl.Check("session.write", ""); err != nil {
		return nil, err
	}
	if err := validateChecks(in.Checks, in.Lifetime); err != nil {
		return nil, err
	}
	if err := c.needsUserIndex(in.Checks); err != nil {
		return nil, err
	}
	id, err := c.ids.Next()
	if err != nil {
		return nil, errs.Internal("COMMAND-Ids06", err)
	}
	return c.runSession(ctx, cl, id, true, "", in.Checks, in.Metadata, in.UserAgent, in.Lifetime)
}

// SetSession runs further checks on a session and changes its metadata or
// lifetime. With a session token, the token must be the session's current
// one; without, the caller needs session.write.
//
// Errors: those of CreateSession; NotFound COMMAND-SeNF1 (no such
// session); PermissionDenied COMMAND-sGr42 (wrong token);
// FailedPrecondition COMMAND-Hewfq (terminated) or COMMAND-Hkl3d
// (expired); InvalidArgument COMMAND-SeUs1 (another user).
func (c *Commands) SetSession(ctx context.Context, in SetSession) (*SessionChanged, error) {
	cl, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := validLen("SetSessionRequest.SessionId", in.SessionID, 1, 200); err != nil {
		return nil, err
	}
	if err := validLen("SetSessionRequest.SessionToken", in.SessionToken, 0, 200); err != nil {
		return nil, err
	}
	if err := validateChecks(in.Checks, in.Lifetime); err != nil {
		return nil, err
	}
	if err := c.needsUserIndex(in.Checks); err != nil {
		return nil, err
	}
	return c.runSession(ctx, cl, in.SessionID, false, in.SessionToken, in.Checks, in.Metadata, nil, in.Lifetime)
}

// sessionAccess checks that the caller may act on s: by its current token
// when one is given, else by perm on the instance or, when own is set, by
// being the session's creator or user.
func sessionAccess(cl *authz.Caller, s *sessionModel, token, perm string, own bool) error {
	if !s.exists {
		return errs.NotFound("COMMAND-SeNF1", "Errors.Session.NotExisting")
	}
	if token != "" {
		// Both sides are SHA-256 digests: comparing them leaks nothing
		// about the token, and the compare is constant-time regardless.
		if subtle.ConstantTimeCompare([]byte(events.PATHash(token)), []byte(s.tokenHash)) != 1 {
			return errs.PermissionDenied("COMMAND-sGr42", "Errors.Session.Token.Invalid")
		}
		return nil
	}
	if own && (s.creator == cl.UserID || (s.userID != "" && s.userID == cl.UserID)) {
		return nil
	}
	return cl.Check(perm, "")
}

// notInvalidated fails for a terminated or expired session.
func (s *sessionModel) notInvalidated(now time.Time) error {
	if s.terminated {
		return errs.FailedPrecondition("COMMAND-Hewfq", "Errors.Session.Terminated")
	}
	if !s.expiration.IsZero() && s.expiration.Before(now) {
		return errs.FailedPrecondition("COMMAND-Hkl3d", "Errors.Session.Expired")
	}
	return nil
}

func (c *Commands) runSession(ctx context.Context, cl *authz.Caller, id string, create bool, token string, ch SessionChecks,
	metadata map[string][]byte, ua *UserAgent, lifetime time.Duration) (*SessionChanged, error) {
	var checkErr error
	var newToken string
	reads, byName := c.sessionReads(cl.InstanceID, id, ch)
	load, checks := c.loadSession, ch
	if byName != nil {
		// The user check by login name: the lookup ran in the decision's
		// batch. It must name exactly one user, checked before anything
		// else, as when the lookup ran on its own before the decision;
		// checkUser then confirms the user (and its login name) from its
		// events, found in the same batch.
		load = func(ctx context.Context, instanceID, id string) (*sessionModel, error) {
			if !byName.Found {
				// Several users of different orgs may share a user name;
				// none is picked, and the answer does not tell that there
				// were several.
				return nil, errs.NotFound("QUERY-Dfbg2", "Errors.User.NotFound")
			}
			checks.User = &UserCheck{UserID: byName.Ref.ID, LoginName: ch.User.LoginName}
			return c.loadSession(ctx, instanceID, id)
		}
	}
	s, evs, err := executeOnPrefetched(ctx, c, reads, load, cl.InstanceID, id, func(ctx context.Context, s *sessionModel) (eventstore.Append, error) {
		checkErr, newToken = nil, ""
		d := &sessionDecision{instanceID: cl.InstanceID, session: s, now: c.now(), userID: s.userID, userOrg: s.userOrg}
		if create {
			if s.head > 0 {
				return eventstore.Append{}, errs.AlreadyExists("COMMAND-SeID1", "Errors.AlreadyExists")
			}
			d.pend = append(d.pend, eventstore.PendingEvent{Type: events.SessionAdded, Payload: events.SessionAddedPayload{UserAgent: ua}})
		} else {
			if err := sessionAccess(cl, s, token, "session.write", false); err != nil {
				return eventstore.Append{}, err
			}
			if err := s.notInvalidated(d.now); err != nil {
				return eventstore.Append{}, err
			}
		}
		a, failed, err := c.sessionChecks(ctx, d, checks)
		if err != nil {
			return eventstore.Append{}, err
		}
		if failed != nil {
			// Only the failed check is recorded (on the user); the session
			// itself is neither created nor changed.
			checkErr = failed
			return a, nil
		}
		if len(metadata) > 0 {
			next := maps.Clone(s.metadata)
			for k, v := range metadata {
				if len(v) == 0 {
					delete(next, k)
				} else {
					next[k] = v
				}
			}
			if !maps.EqualFunc(next, s.metadata, func(a, b []byte) bool { return string(a) == string(b) }) {
				d.pend = append(d.pend, eventstore.PendingEvent{Type: events.SessionMetadataSet, Payload: events.SessionMetadataSetPayload{Metadata: next}})
			}
		}
		if lifetime > 0 {
			d.pend = append(d.pend, eventstore.PendingEvent{Type: events.SessionLifetimeSet, Payload: events.SessionLifetimeSetPayload{Lifetime: lifetime}})
		}
		if len(d.pend) == 0 {
			return eventstore.Append{}, eventstore.ErrNothingToDo
		}
		// Every change issues a new token; the old one stops working.
		tok, tokenID, err := c.newSessionToken()
		if err != nil {
			return eventstore.Append{}, err
		}
		newToken = tok
		d.pend = append(d.pend, eventstore.PendingEvent{Type: events.SessionTokenSet,
			Payload: events.SessionTokenSetPayload{TokenID: tokenID, TokenHash: events.PATHash(tok)}})
		return d.append(cl.InstanceID), nil
	})
	if err != nil {
		return nil, err
	}
	if checkErr != nil {
		return nil, checkErr
	}
	if len(evs) == 0 {
		return &SessionChanged{Details: Details{ID: s.ref.ID, Sequence: s.head, Created: s.created, ResourceOwner: cl.InstanceID}}, nil
	}
	return &SessionChanged{Details: *detailsFromEvents(evs, s.ref, s.created), Token: newToken}, nil
}

// sessionReads are what a session decision loads in one round trip: the
// session, the user of the user check (by ID, or by login name through the
// user index: byName), and the intent of the intent check.
func (c *Commands) sessionReads(instanceID, id string, ch SessionChecks) (reads []read, byName *eventstore.Load) {
	reads = []read{eventsOf(eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggSession, ID: id})}
	switch u := ch.User; {
	case u == nil:
	case u.UserID != "":
		reads = append(reads, typesOf(userRef(instanceID, u.UserID), userModelTypes))
	default:
		byName = eventstore.LoadTypesNamed(instanceID, events.AggUser, c.users.UserIDsByLoginNameLoad(instanceID, u.LoginName), userModelTypes)
		reads = append(reads, read{load: byName, types: userModelTypes})
	}
	if ch.Intent != nil && ch.Intent.ID != "" {
		reads = append(reads, eventsOf(eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggIDPIntent, ID: ch.Intent.ID}))
	}
	return reads, byName
}

// newSessionToken returns a random session token (256 bits, URL-safe) and
// a new token ID.
func (c *Commands) newSessionToken() (token, tokenID string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", errs.Internal("COMMAND-SeTk1", err)
	}
	if tokenID, err = c.ids.Next(); err != nil {
		return "", "", errs.Internal("COMMAND-SeTk2", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), tokenID, nil
}

// sessionChecks runs the checks in ZITADEL's order: user, password,
// idpIntent. A wrong password is not an error of the decision: it returns
// the append that records the failure on the user, and the error to answer
// once that is committed.
func (c *Commands) sessionChecks(ctx context.Context, d *sessionDecision, ch SessionChecks) (eventstore.Append, error, error) {
	if u := ch.User; u != nil {
		if err := c.checkUser(ctx, d, *u); err != nil {
			return eventstore.Append{}, nil, err
		}
	}
	if p := ch.Password; p != nil {
		failed, err := c.checkSessionPassword(ctx, d, *p)
		if err != nil {
			return eventstore.Append{}, nil, err
		}
		if failed != nil {
			return eventstore.Append{Aggregates: d.others}, failed, nil
		}
	}
	if i := ch.Intent; i != nil {
		if err := c.checkIntent(ctx, d, *i); err != nil {
			return eventstore.Append{}, nil, err
		}
	}
	return eventstore.Append{}, nil, nil
}

// checkUser is the user check: the user must exist and be active, and a
// session's user never changes.
func (c *Commands) checkUser(ctx context.Context, d *sessionDecision, in UserCheck) error {
	u, err := c.loadUser(ctx, d.instanceID, in.UserID)
	if err != nil {
		return err
	}
	if !u.exists || (in.LoginName != "" && !strings.EqualFold(u.username, in.LoginName)) {
		return errs.NotFound("QUERY-Dfbg2", "Errors.User.NotFound")
	}
	if u.locked {
		return errs.FailedPrecondition("SESSION-Gj4ko", "Errors.User.NotActive")
	}
	if d.userID != "" && d.userID != u.ref.ID {
		return errs.InvalidArgument("COMMAND-SeUs1", "Errors.Session.UserChange")
	}
	d.userID, d.userOrg, d.user = u.ref.ID, u.orgID, u
	d.pend = append(d.pend, eventstore.PendingEvent{Type: events.SessionUserChecked,
		Payload: events.SessionUserCheckedPayload{UserID: u.ref.ID, UserResourceOwner: u.orgID, CheckedAt: d.now}})
	return nil
}

// checkSessionPassword is the password check of the session's user, under
// the lockout policy. The user's check events go in d.others at the user's
// head, so concurrent wrong guesses are each counted.
func (c *Commands) checkSessionPassword(ctx context.Context, d *sessionDecision, in PasswordCheck) (failed, err error) {
	if d.userID == "" {
		return nil, errs.FailedPrecondition("COMMAND-Sfw3f", "Errors.User.UserIDMissing")
	}
	u := d.user
	if u == nil {
		if u, err = c.loadUser(ctx, d.instanceID, d.userID); err != nil {
			return nil, err
		}
	}
	if !u.exists || u.kind != "human" {
		return nil, errs.FailedPrecondition("COMMAND-Df4b3", "Errors.User.NotFound")
	}
	pend, perr := c.passwordCheck(u, in.Password, d.session.ref.ID)
	if pend == nil {
		return nil, perr
	}
	d.also(eventstore.AggregateAppend{Aggregate: u.ref, ResourceOwner: u.orgID, Expected: u.head, Events: pend})
	if perr != nil {
		return perr, nil
	}
	d.checked(events.SessionPasswordChecked)
	return nil, nil
}

// DeleteSession terminates a session (v2 DeleteSession). With a token it
// must be the current one; without, the caller must be the session's
// creator or user, or hold session.delete. Terminating a terminated
// session changes nothing.
//
// Errors: NotFound COMMAND-SeNF1; PermissionDenied COMMAND-sGr42 or
// AUTHZ-HKJD33.
func (c *Commands) DeleteSession(ctx context.Context, id, token string) (*Details, error) {
	cl, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := validLen("DeleteSessionRequest.SessionId", id, 1, 200); err != nil {
		return nil, err
	}
	s, evs, err := executeOn(ctx, c, c.loadSession, cl.InstanceID, id, func(ctx context.Context, s *sessionModel) (eventstore.Append, error) {
		if err := sessionAccess(cl, s, token, "session.delete", true); err != nil {
			return eventstore.Append{}, err
		}
		if s.terminated {
			return eventstore.Append{}, eventstore.ErrNothingToDo
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{Aggregate: s.ref, ResourceOwner: cl.InstanceID,
			Expected: s.head, Events: []eventstore.PendingEvent{{Type: events.SessionTerminated}}}}}, nil
	})
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return &Details{ID: id, Sequence: s.head, Created: s.created, ResourceOwner: cl.InstanceID}, nil
	}
	return detailsFromEvents(evs, s.ref, s.created), nil
}

// checkIntent is the idpIntent check, third in ZITADEL's order (after the
// user and the password): CheckIntent verifies in.Token against the
// intent's stored hash and requires the intent succeeded, unexpired and of
// d.userID (or of an active link of d.userID); then
// session.intent.checked, and the intent's consumption at its head in the
// same append, so that the session check and the single use commit
// together or not at all (a concurrent use conflicts, and the re-decided
// check fails).
//
// Errors: FailedPrecondition COMMAND-Sfw3r without a user; CheckIntent's.
func (c *Commands) checkIntent(ctx context.Context, d *sessionDecision, in IntentCheck) error {
	if d.userID == "" {
		return errs.FailedPrecondition("COMMAND-Sfw3r", "Errors.User.UserIDMissing")
	}
	consumed, err := c.CheckIntent(ctx, d.instanceID, d.userID, in.ID, in.Token)
	if err != nil {
		return err
	}
	d.checked(events.SessionIntentChecked)
	d.also(consumed.Append)
	return nil
}
