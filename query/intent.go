package query

import (
	"context"
	"fmt"

	"github.com/idledger/idledger/errs"
)

// UsersByIDPLink returns the users of the instance linked to account
// externalUserID at IdP idpID (at most one: the link is unique). It
// implements command.ExternalUserIndex.
//
// Errors: Internal.
func (q *Queries) UsersByIDPLink(ctx context.Context, instanceID, idpID, externalUserID string) ([]string, error) {
	rows, err := q.pool.Query(ctx, `SELECT user_id FROM user_idp_links
        WHERE instance_id = $1 AND idp_id = $2 AND external_user_id = $3`, instanceID, idpID, externalUserID)
	if err != nil {
		return nil, errs.Internal("QUERY-IntQ1", fmt.Errorf("users linked to %s at idp %s: %w", externalUserID, idpID, err))
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, errs.Internal("QUERY-IntQ2", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal("QUERY-IntQ3", err)
	}
	return ids, nil
}
