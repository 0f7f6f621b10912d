package query

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
)

// OIDCSettings is an instance's token lifetimes. Set reports whether the
// instance has its own (else they are DefaultOIDCSettings, and Sequence
// and the dates are zero).
type OIDCSettings struct {
	AccessTokenLifetime        time.Duration
	IDTokenLifetime            time.Duration
	RefreshTokenIdleExpiration time.Duration
	RefreshTokenExpiration     time.Duration

	Set              bool
	Sequence         uint64
	Created, Changed time.Time
}

// DefaultOIDCSettings are ZITADEL's defaults (cmd/defaults.yaml OIDC:),
// in force on an instance until its own are set.
var DefaultOIDCSettings = OIDCSettings{
	AccessTokenLifetime:        events.DefaultAccessTokenLifetime,
	IDTokenLifetime:            events.DefaultIDTokenLifetime,
	RefreshTokenIdleExpiration: events.DefaultRefreshTokenIdleExpiration,
	RefreshTokenExpiration:     events.DefaultRefreshTokenExpiration,
}

// OIDCSettings returns the token lifetimes of instanceID, the defaults when
// none were set. It checks no caller: the OpenID Provider reads it for
// whoever asks for a token.
//
// Errors: Internal on a database error.
func (q *Queries) OIDCSettings(ctx context.Context, instanceID string) (*OIDCSettings, error) {
	var s OIDCSettings
	var at, id, idle, abs int64
	var seq int64
	err := q.pool.QueryRow(ctx, `SELECT access_token_lifetime, id_token_lifetime, refresh_token_idle_expiration,
		refresh_token_expiration, sequence, creation_date, change_date FROM instance_oidc_settings WHERE instance_id = $1`,
		instanceID).Scan(&at, &id, &idle, &abs, &seq, &s.Created, &s.Changed)
	if errors.Is(err, pgx.ErrNoRows) {
		d := DefaultOIDCSettings
		return &d, nil
	}
	if err != nil {
		return nil, errs.Internal("QUERY-OIs01", err)
	}
	s.AccessTokenLifetime, s.IDTokenLifetime = time.Duration(at), time.Duration(id)
	s.RefreshTokenIdleExpiration, s.RefreshTokenExpiration = time.Duration(idle), time.Duration(abs)
	s.Set, s.Sequence = true, uint64(seq)
	return &s, nil
}

// CallerOIDCSettings is OIDCSettings of the caller's instance for the admin
// API's GetOIDCSettings (iam.read).
//
// Errors: Unauthenticated; NotFound AUTHZ-cdgFk / PermissionDenied
// AUTH-5mWD2; Internal on a database error.
func (q *Queries) CallerOIDCSettings(ctx context.Context) (*OIDCSettings, string, error) {
	c, err := queryCaller(ctx)
	if err != nil {
		return nil, "", err
	}
	if err := c.CheckV1("iam.read", ""); err != nil {
		return nil, "", err
	}
	s, err := q.OIDCSettings(ctx, c.InstanceID)
	return s, c.InstanceID, err
}

// InstanceProjectID returns the ID of instanceID's own API project (project
// "ZITADEL"), for which the scope urn:zitadel:iam:org:project:id:zitadel:aud
// stands; "" when the instance has none (yet). It checks no caller.
//
// Errors: Internal on a database error.
func (q *Queries) InstanceProjectID(ctx context.Context, instanceID string) (string, error) {
	var id string
	err := q.pool.QueryRow(ctx, `SELECT iam_project_id FROM instances WHERE id = $1`, instanceID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", errs.Internal("QUERY-IPr01", err)
	}
	return id, nil
}
