package query

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
)

// UserIDPLink is a user's link to an account at an IdP.
type UserIDPLink struct {
	UserID           string
	IDPID            string
	IDPName          string // empty when the IdP is gone
	ExternalUserID   string
	ExternalUserName string
	ResourceOwner    string // the user's org
	Created          time.Time
}

// UserIDPLinkList is one page of a user's links.
type UserIDPLinkList struct {
	Total     uint64
	Timestamp time.Time // when the database answered
	Links     []UserIDPLink
}

// UserIDPLinks lists one page of user userID's IdP links, oldest first (v2
// ListIDPLinks). As ZITADEL does, links the caller may not read (user.read
// on the user's org, unless the caller is the user) are left out rather
// than refused; an unknown user has no links.
//
// Errors: Unauthenticated; Internal.
func (q *Queries) UserIDPLinks(ctx context.Context, userID string, offset uint64, limit uint32) (*UserIDPLinkList, error) {
	c, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	var lim any
	if limit > 0 {
		lim = int64(limit)
	}
	rows, err := q.pool.Query(ctx, `SELECT l.user_id, l.idp_id, coalesce(i.name, ''), l.external_user_id,
            l.external_user_name, l.resource_owner, l.creation_date, count(*) OVER (), now()
        FROM user_idp_links l
        LEFT JOIN idps i ON i.instance_id = l.instance_id AND i.id = l.idp_id
        WHERE l.instance_id = $1 AND l.user_id = $2
        ORDER BY l.sequence OFFSET $3 LIMIT $4`, c.InstanceID, userID, int64(offset), lim)
	if err != nil {
		return nil, errs.Internal("QUERY-LnkQ1", fmt.Errorf("links of user %s: %w", userID, err))
	}
	defer rows.Close()
	list := &UserIDPLinkList{}
	var total int64
	for rows.Next() {
		var l UserIDPLink
		if err := rows.Scan(&l.UserID, &l.IDPID, &l.IDPName, &l.ExternalUserID, &l.ExternalUserName,
			&l.ResourceOwner, &l.Created, &total, &list.Timestamp); err != nil {
			return nil, errs.Internal("QUERY-LnkQ2", err)
		}
		list.Links = append(list.Links, l)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal("QUERY-LnkQ3", err)
	}
	list.Total = uint64(total)
	if len(list.Links) > 0 && c.UserID != userID && !c.Allowed("user.read", list.Links[0].ResourceOwner) {
		// Every link of one user has the user's org, so all go or none.
		list.Links, list.Total = nil, 0
	}
	if list.Timestamp.IsZero() {
		if err := q.pool.QueryRow(ctx, `SELECT now()`).Scan(&list.Timestamp); err != nil {
			return nil, errs.Internal("QUERY-LnkQ4", err)
		}
	}
	list.Timestamp = list.Timestamp.UTC()
	return list, nil
}

const usersLinkedToIDP = `SELECT DISTINCT user_id FROM user_idp_links
        WHERE instance_id = $1 AND idp_id = $2 AND ($3 = '' OR resource_owner = $3)
        ORDER BY user_id`

// UsersLinkedToIDPLoad is UsersLinkedToIDP as a read that the store runs
// with a decision's other reads, in the same round trip.
func (q *Queries) UsersLinkedToIDPLoad(instanceID, idpID, orgID string) *eventstore.Load {
	return eventstore.LoadIDs(usersLinkedToIDP, []any{instanceID, idpID, orgID}, func(ctx context.Context) ([]string, error) {
		return q.UsersLinkedToIDP(ctx, instanceID, idpID, orgID)
	})
}

// UsersLinkedToIDP returns the IDs of the users of org orgID ("" = every
// org of the instance) that have a link to IdP idpID. It implements
// command.LinkedUsers, whose commands confirm each user from its events.
//
// Errors: Internal.
func (q *Queries) UsersLinkedToIDP(ctx context.Context, instanceID, idpID, orgID string) ([]string, error) {
	rows, err := q.pool.Query(ctx, usersLinkedToIDP, instanceID, idpID, orgID)
	if err != nil {
		return nil, errs.Internal("QUERY-LnkQ5", fmt.Errorf("users linked to idp %s: %w", idpID, err))
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, errs.Internal("QUERY-LnkQ6", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal("QUERY-LnkQ7", err)
	}
	return ids, nil
}

// PoliciesLinkingIDP returns the IDs of the login policies (the instance
// default and org custom ones) that list IdP idpID.
//
// Errors: Internal.
func (q *Queries) PoliciesLinkingIDP(ctx context.Context, instanceID, idpID string) ([]string, error) {
	rows, err := q.pool.Query(ctx, `SELECT DISTINCT policy_id FROM login_policy_idps
        WHERE instance_id = $1 AND idp_id = $2 ORDER BY policy_id`, instanceID, idpID)
	if err != nil {
		return nil, errs.Internal("QUERY-LnkQ8", fmt.Errorf("policies linking idp %s: %w", idpID, err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, errs.Internal("QUERY-LnkQ9", err)
	}
	return ids, nil
}
