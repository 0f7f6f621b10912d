package query

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
)

// Org is an organisation as the read side sees it.
type Org struct {
	ID       string
	Name     string
	Active   bool
	Sequence uint64
	Created  time.Time
	Changed  time.Time
}

// MyOrg returns the caller's context org (management GetMyOrg: org.read on
// it).
//
// Errors: Unauthenticated without a caller; NotFound AUTHZ-cdgFk /
// PermissionDenied AUTH-5mWD2; NotFound QUERY-iTTGJ when the org is gone.
func (q *Queries) MyOrg(ctx context.Context) (*Org, error) {
	cl := authz.CallerFrom(ctx)
	if cl == nil {
		return nil, errs.Unauthenticated("AUTH-7fs1e", "auth header missing")
	}
	if err := cl.CheckV1("org.read", cl.OrgID); err != nil {
		return nil, err
	}
	var o Org
	var state int16
	var seq int64
	err := q.pool.QueryRow(ctx, `SELECT id, name, state, sequence, creation_date, change_date
        FROM orgs WHERE instance_id = $1 AND id = $2`, cl.InstanceID, cl.OrgID).
		Scan(&o.ID, &o.Name, &state, &seq, &o.Created, &o.Changed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("QUERY-iTTGJ", "Organisation not found")
	}
	if err != nil {
		return nil, errs.Internal("QUERY-Org02", fmt.Errorf("org %s: %w", cl.OrgID, err))
	}
	o.Active, o.Sequence = state == 1, uint64(seq)
	return &o, nil
}
