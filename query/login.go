package query

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/errs"
)

// maxLoginCandidates bounds the auto-linking candidates read: enough to
// tell one from several and to show a few masked names.
const maxLoginCandidates = 20

// OrgUsersByUsername returns the human users of org orgID whose user name
// is username, case-insensitively (at most 20). It implements
// command.LoginUserIndex.
//
// Errors: Internal.
func (q *Queries) OrgUsersByUsername(ctx context.Context, instanceID, orgID, username string) ([]string, error) {
	return q.loginCandidates(ctx, `lower(username) = lower($3)`, instanceID, orgID, username)
}

// OrgUsersByVerifiedEmail returns the human users of org orgID whose email
// is email, case-insensitively, and verified (at most 20). It implements
// command.LoginUserIndex.
//
// Errors: Internal.
func (q *Queries) OrgUsersByVerifiedEmail(ctx context.Context, instanceID, orgID, email string) ([]string, error) {
	return q.loginCandidates(ctx, `lower(email) = lower($3) AND email_verified`, instanceID, orgID, email)
}

func (q *Queries) loginCandidates(ctx context.Context, cond, instanceID, orgID, value string) ([]string, error) {
	rows, err := q.pool.Query(ctx, `SELECT id FROM users WHERE instance_id = $1 AND org_id = $2 AND type = 'human' AND `+cond+
		fmt.Sprintf(` ORDER BY id LIMIT %d`, maxLoginCandidates), instanceID, orgID, value)
	if err != nil {
		return nil, errs.Internal("QUERY-Lgn01", fmt.Errorf("login candidates: %w", err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, errs.Internal("QUERY-Lgn02", err)
	}
	return ids, nil
}

// DefaultOrgID returns the instance's default org: the org created with
// the instance (its org.added is in the instance.added's transaction), ""
// when it is gone. It implements command.LoginUserIndex.
//
// Errors: Internal.
func (q *Queries) DefaultOrgID(ctx context.Context, instanceID string) (string, error) {
	var id string
	err := q.pool.QueryRow(ctx, `SELECT o.aggregate_id FROM events i
        JOIN events o ON o.tx_id = i.tx_id AND o.instance_id = i.instance_id AND o.event_type = 'org.added'
        JOIN orgs ON orgs.instance_id = o.instance_id AND orgs.id = o.aggregate_id
        WHERE i.instance_id = $1 AND i.aggregate_type = 'instance' AND i.aggregate_id = $1 AND i.sequence = 1
        ORDER BY o.position LIMIT 1`, instanceID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", errs.Internal("QUERY-Lgn03", fmt.Errorf("default org: %w", err))
	}
	return id, nil
}
