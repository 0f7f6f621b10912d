package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
)

// User is a user as the read side sees it. Exactly one of Human and Machine
// is set.
type User struct {
	ID       string
	OrgID    string
	Username string
	Active   bool
	State    int // ZITADEL's UserState number: 1 active, 4 locked
	Sequence uint64
	Created  time.Time
	Changed  time.Time
	Human    *Human
	Machine  *Machine
}

// Human is a human user's profile and email.
type Human struct {
	GivenName         string `json:"givenName,omitempty"`
	FamilyName        string `json:"familyName,omitempty"`
	NickName          string `json:"nickName,omitempty"`
	DisplayName       string `json:"displayName,omitempty"`
	PreferredLanguage string `json:"preferredLanguage,omitempty"`
	Gender            int    `json:"gender,omitempty"`
	Phone             string `json:"phone,omitempty"`
	PhoneVerified     bool   `json:"phoneVerified,omitempty"`
	Email             string `json:"-"`
	EmailVerified     bool   `json:"-"`
}

// Machine is a machine user's name, description and access token type
// (events.AccessTokenBearer or AccessTokenJWT).
type Machine struct {
	Name            string `json:"name,omitempty"`
	Description     string `json:"description,omitempty"`
	AccessTokenType int    `json:"accessTokenType,omitempty"`
}

// UserByID returns a user of the caller's instance (v2 GetUserByID). The
// caller needs user.read on the user's org, unless it is the user itself.
// As ZITADEL does, existence is checked before permission.
//
// Errors: Unauthenticated without a caller; NotFound QUERY-Dfbg2;
// PermissionDenied AUTHZ-HKJD33.
func (q *Queries) UserByID(ctx context.Context, userID string) (*User, error) {
	cl := authz.CallerFrom(ctx)
	if cl == nil {
		return nil, errs.Unauthenticated("AUTH-7fs1e", "auth header missing")
	}
	u, err := q.UserOfInstance(ctx, cl.InstanceID, userID)
	if err != nil {
		return nil, err
	}
	if cl.UserID != u.ID {
		if err := cl.Check("user.read", u.OrgID); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// UserOfInstance returns user userID of instanceID. It checks no caller:
// the OpenID Provider reads it for the subject of a token it verified.
//
// Errors: NotFound QUERY-Dfbg2; Internal on a database error.
func (q *Queries) UserOfInstance(ctx context.Context, instanceID, userID string) (*User, error) {
	if !storableText(userID) {
		return nil, errs.NotFound("QUERY-Dfbg2", "User could not be found")
	}
	u, err := scanUser(q.pool.QueryRow(ctx, `SELECT id, org_id, type, username, state, profile, email, email_verified,
            sequence, creation_date, change_date
        FROM users WHERE instance_id = $1 AND id = $2`, instanceID, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("QUERY-Dfbg2", "User could not be found")
	}
	if err != nil {
		return nil, errs.Internal("QUERY-Usr01", fmt.Errorf("user %s: %w", userID, err))
	}
	return u, nil
}

// scanUser reads a users row (id, org_id, type, username, state, profile,
// email, email_verified, sequence, creation_date, change_date, then extra).
func scanUser(row pgx.Row, extra ...any) (*User, error) {
	var u User
	var typ string
	var state int16
	var seq int64
	var profile []byte
	var email string
	var verified bool
	if err := row.Scan(append([]any{&u.ID, &u.OrgID, &typ, &u.Username, &state, &profile, &email, &verified, &seq,
		&u.Created, &u.Changed}, extra...)...); err != nil {
		return nil, err
	}
	u.Active, u.State, u.Sequence = state == 1, int(state), uint64(seq)
	var err error
	if typ == "machine" {
		u.Machine = &Machine{}
		err = jsonUnmarshal(profile, u.Machine)
	} else {
		u.Human = &Human{Email: email, EmailVerified: verified}
		err = jsonUnmarshal(profile, u.Human)
	}
	if err != nil {
		return nil, fmt.Errorf("user %s profile: %w", u.ID, err)
	}
	return &u, nil
}

func jsonUnmarshal(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}

// MyUser returns the caller's own user (auth GetMyUser); every
// authenticated caller may read itself.
//
// Errors: Unauthenticated without a caller; NotFound QUERY-Dfbg2 when the
// user is gone.
func (q *Queries) MyUser(ctx context.Context) (*User, error) {
	cl := authz.CallerFrom(ctx)
	if cl == nil {
		return nil, errs.Unauthenticated("AUTH-7fs1e", "auth header missing")
	}
	return q.UserByID(ctx, cl.UserID)
}
