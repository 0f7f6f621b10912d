package command

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// NewPATToken returns a random personal access token: 32 bytes from
// crypto/rand, base64url without padding. Errors: only from crypto/rand.
func NewPATToken() (string, error) {
	token, _, err := newToken()
	return token, err
}

// newToken returns a random personal access token and the hash under which
// it is stored.
func newToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, events.PATHash(token), nil
}

// PAT is a newly issued personal access token. Token is shown once: only
// its hash is stored.
type PAT struct {
	TokenID string
	Token   string
	Details *Details
}

// AddPAT issues a personal access token to machine user userID of the
// context org orgID, optionally expiring (zero: never). Management API
// semantics: user.write on orgID.
//
// Errors: NotFound/PermissionDenied from the permission check;
// InvalidArgument (expiration in the past); NotFound COMMAND-Dggw2 when the
// user does not exist in orgID; FailedPrecondition COMMAND-Dggw3 for a
// human user; PermissionDenied AUTHZ-Cov01 when the user holds a role that
// the caller's roles do not cover (credentials follow power).
func (c *Commands) AddPAT(ctx context.Context, orgID, userID string, expiration time.Time) (*PAT, error) {
	cl, err := authorizeIdentity(ctx, true, "user.write", orgID)
	if err != nil {
		return nil, err
	}
	if !expiration.IsZero() && !expiration.After(c.now()) {
		return nil, errs.InvalidArgument("COMMAND-dv3t5", "Errors.User.PAT.ExpirationDateInPast")
	}
	tokenID, err := c.ids.Next()
	if err != nil {
		return nil, errs.Internal("COMMAND-Ids02", err)
	}
	token, hash, err := newToken()
	if err != nil {
		return nil, errs.Internal("COMMAND-Tok02", err)
	}
	u, evs, err := executeOn(ctx, c, c.loadUser, cl.InstanceID, userID, func(ctx context.Context, u *userModel) (eventstore.Append, error) {
		if !u.exists || u.orgID != orgID {
			return eventstore.Append{}, errs.NotFound("COMMAND-Dggw2", "User could not be found")
		}
		if u.kind != "machine" {
			return eventstore.Append{}, errs.FailedPrecondition("COMMAND-Dggw3", "Errors.User.NotMachine")
		}
		if _, err := c.checkPower(ctx, cl, userID); err != nil {
			return eventstore.Append{}, err
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: u.ref, ResourceOwner: u.orgID, Expected: u.head,
			Events: []eventstore.PendingEvent{{Type: events.UserPATAdded, Payload: events.PATAddedPayload{
				TokenID: tokenID, TokenHash: hash, Expiration: expiration.UTC()}}},
		}}}, nil
	})
	if err != nil {
		return nil, err
	}
	return &PAT{TokenID: tokenID, Token: token, Details: detailsFromEvents(evs, u.ref, u.created)}, nil
}

// RemovePAT revokes token tokenID of user userID in the context org orgID
// (user.write on orgID).
//
// Errors: NotFound/PermissionDenied from the permission check; NotFound
// COMMAND-Dggw2 (no such user in orgID) or COMMAND-S3tGd (no such active
// token); PermissionDenied AUTHZ-Cov01 as for AddPAT.
func (c *Commands) RemovePAT(ctx context.Context, orgID, userID, tokenID string) (*Details, error) {
	cl, err := authorizeIdentity(ctx, true, "user.write", orgID)
	if err != nil {
		return nil, err
	}
	u, evs, err := executeOn(ctx, c, c.loadUser, cl.InstanceID, userID, func(ctx context.Context, u *userModel) (eventstore.Append, error) {
		if !u.exists || u.orgID != orgID {
			return eventstore.Append{}, errs.NotFound("COMMAND-Dggw2", "User could not be found")
		}
		if !u.pats[tokenID] {
			return eventstore.Append{}, errs.NotFound("COMMAND-S3tGd", "Errors.User.PAT.NotFound")
		}
		if _, err := c.checkPower(ctx, cl, userID); err != nil {
			return eventstore.Append{}, err
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: u.ref, ResourceOwner: u.orgID, Expected: u.head,
			Events: []eventstore.PendingEvent{{Type: events.UserPATRemoved, Payload: events.PATRemovedPayload{TokenID: tokenID}}},
		}}}, nil
	})
	if err != nil {
		return nil, err
	}
	return detailsFromEvents(evs, u.ref, u.created), nil
}
