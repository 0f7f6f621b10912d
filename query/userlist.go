package query

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/idledger/idledger/errs"
)

// UserFilter is one node of a v2 ListUsers query tree: exactly one field
// is set. IDPLink is an idledger extension (ZITADEL has no query by link):
// the users linked to the account ExternalUserID at IdP IDPID.
type UserFilter struct {
	UserName, FirstName, LastName, NickName, DisplayName, Email, Phone, LoginName *TextFilter
	State                                                                         *int // ZITADEL's UserState number
	Type                                                                          *string
	InUserIDs                                                                     []string
	InUserEmails                                                                  []string
	OrganizationID                                                                *string
	IDPLink                                                                       *IDPLinkFilter
	Or, And                                                                       []UserFilter
	Not                                                                           *UserFilter
}

// TextFilter is a text query: a value and a method.
type TextFilter struct {
	Value  string
	Method TextMethod
}

// IDPLinkFilter selects the users linked to an external account.
type IDPLinkFilter struct {
	IDPID          string
	ExternalUserID string
}

// UserSearch is v2 ListUsers: every filter must hold.
type UserSearch struct {
	Offset  uint64
	Limit   uint32 // 0: no limit
	Asc     bool
	SortBy  string // a users column name from UserSortColumns; "" = creation order
	Filters []UserFilter
}

// UserSortColumns maps ZITADEL's UserFieldName numbers to columns.
var UserSortColumns = map[int]string{
	1: "username", 2: "profile->>'givenName'", 3: "profile->>'familyName'", 4: "profile->>'nickName'",
	5: "profile->>'displayName'", 6: "email", 7: "state", 8: "type", 9: "creation_date",
}

// UserList is a page of users and the total that match.
type UserList struct {
	Total     uint64
	Timestamp time.Time
	Users     []*User
}

// userTextColumns are the columns of the text filters.
func userTextColumns(f *UserFilter) (string, *TextFilter) {
	for _, c := range []struct {
		col string
		tf  *TextFilter
	}{{"username", f.UserName}, {"profile->>'givenName'", f.FirstName}, {"profile->>'familyName'", f.LastName},
		{"profile->>'nickName'", f.NickName}, {"profile->>'displayName'", f.DisplayName}, {"email", f.Email},
		{"profile->>'phone'", f.Phone}, {"username", f.LoginName}} {
		if c.tf != nil {
			return "coalesce(" + c.col + ", '')", c.tf
		}
	}
	return "", nil
}

// maxFilterDepth bounds the nesting of and/or/not.
const maxFilterDepth = 10

// userCondition is the SQL of f with its arguments appended to args.
func userCondition(f *UserFilter, args *[]any, depth int) (string, error) {
	if depth > maxFilterDepth {
		return "", errs.InvalidArgument("QUERY-UsrL1", "the query is nested too deeply")
	}
	arg := func(v any) string { *args = append(*args, v); return fmt.Sprintf("$%d", len(*args)) }
	if col, tf := userTextColumns(f); tf != nil {
		cond, v, err := textCondition(col, tf.Method, tf.Value, len(*args)+1)
		if err != nil {
			return "", err
		}
		*args = append(*args, v)
		return cond, nil
	}
	switch {
	case f.State != nil:
		return "u.state = " + arg(int16(*f.State)), nil
	case f.Type != nil:
		return "u.type = " + arg(*f.Type), nil
	case f.InUserIDs != nil:
		return "u.id = ANY(" + arg(f.InUserIDs) + ")", nil
	case f.InUserEmails != nil:
		lower := make([]string, len(f.InUserEmails))
		for i, e := range f.InUserEmails {
			lower[i] = strings.ToLower(e)
		}
		return "lower(u.email) = ANY(" + arg(lower) + ")", nil
	case f.OrganizationID != nil:
		return "u.org_id = " + arg(*f.OrganizationID), nil
	case f.IDPLink != nil:
		return "EXISTS (SELECT 1 FROM user_idp_links l WHERE l.instance_id = u.instance_id AND l.user_id = u.id AND l.idp_id = " +
			arg(f.IDPLink.IDPID) + " AND l.external_user_id = " + arg(f.IDPLink.ExternalUserID) + ")", nil
	case f.Not != nil:
		c, err := userCondition(f.Not, args, depth+1)
		if err != nil {
			return "", err
		}
		return "NOT (" + c + ")", nil
	case f.And != nil || f.Or != nil:
		list, join := f.And, " AND "
		if f.Or != nil {
			list, join = f.Or, " OR "
		}
		if len(list) == 0 {
			return "TRUE", nil
		}
		parts := make([]string, 0, len(list))
		for i := range list {
			c, err := userCondition(&list[i], args, depth+1)
			if err != nil {
				return "", err
			}
			parts = append(parts, "("+c+")")
		}
		return strings.Join(parts, join), nil
	}
	return "TRUE", nil
}

// ListUsers lists the users of the caller's instance that match s and
// that the caller may read: with user.read on the instance every user,
// else those of the orgs where it holds user.read, and itself.
//
// Errors: Unauthenticated; InvalidArgument for an undefined text method or
// a query nested too deeply; Internal.
func (q *Queries) ListUsers(ctx context.Context, s UserSearch) (*UserList, error) {
	cl, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	args := []any{cl.InstanceID}
	conds := []string{"u.instance_id = $1"}
	if !cl.Allowed("user.read", "") {
		var orgs []string
		for _, m := range cl.Memberships {
			if m.OrgID != "" && cl.Allowed("user.read", m.OrgID) {
				orgs = append(orgs, m.OrgID)
			}
		}
		args = append(args, orgs, cl.UserID)
		conds = append(conds, fmt.Sprintf("(u.org_id = ANY($%d) OR u.id = $%d)", len(args)-1, len(args)))
	}
	for i := range s.Filters {
		c, err := userCondition(&s.Filters[i], &args, 0)
		if err != nil {
			return nil, err
		}
		conds = append(conds, "("+c+")")
	}
	order := "DESC"
	if s.Asc {
		order = "ASC"
	}
	sort := "u.creation_date"
	if s.SortBy != "" {
		sort = "u." + s.SortBy
	}
	limit := "ALL"
	if s.Limit > 0 {
		limit = fmt.Sprint(s.Limit)
	}
	rows, err := q.pool.Query(ctx, `SELECT u.id, u.org_id, u.type, u.username, u.state, u.profile, u.email, u.email_verified,
            u.sequence, u.creation_date, u.change_date, count(*) OVER (), now()
        FROM users u WHERE `+strings.Join(conds, " AND ")+` ORDER BY `+sort+` `+order+`, u.id `+order+
		fmt.Sprintf(` LIMIT %s OFFSET %d`, limit, s.Offset), args...)
	if err != nil {
		return nil, errs.Internal("QUERY-UsrL2", fmt.Errorf("list users: %w", err))
	}
	defer rows.Close()
	list := &UserList{}
	var total int64
	for rows.Next() {
		u, err := scanUser(rows, &total, &list.Timestamp)
		if err != nil {
			return nil, errs.Internal("QUERY-UsrL3", err)
		}
		list.Users = append(list.Users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal("QUERY-UsrL4", err)
	}
	list.Total = uint64(total)
	if err := q.fillTimestamp(ctx, &list.Timestamp); err != nil {
		return nil, err
	}
	return list, nil
}

// OrgFilter is one v2 ListOrganizations query: exactly one field is set.
type OrgFilter struct {
	Name    *TextFilter
	Domain  *TextFilter // orgs have no domains yet: matches none
	State   *int        // ZITADEL's OrganizationState number
	ID      *string
	Default bool // the instance's default org: none is set yet, matches none
}

// OrgSearch is v2 ListOrganizations: every filter must hold.
type OrgSearch struct {
	Offset   uint64
	Limit    uint32
	Asc      bool
	SortName bool // ORGANIZATION_FIELD_NAME_NAME; creation order otherwise
	Filters  []OrgFilter
}

// OrgList is a page of orgs and the total that match.
type OrgList struct {
	Total     uint64
	Timestamp time.Time
	Orgs      []*Org
}

// ListOrgs lists the orgs of the caller's instance that match s and that
// the caller may read (org.read on the instance, or on each org).
//
// Errors: Unauthenticated; InvalidArgument for an undefined text method;
// Internal.
func (q *Queries) ListOrgs(ctx context.Context, s OrgSearch) (*OrgList, error) {
	cl, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	args := []any{cl.InstanceID}
	conds := []string{"instance_id = $1"}
	if !cl.Allowed("org.read", "") {
		var orgs []string
		for _, m := range cl.Memberships {
			if m.OrgID != "" && cl.Allowed("org.read", m.OrgID) {
				orgs = append(orgs, m.OrgID)
			}
		}
		args = append(args, orgs)
		conds = append(conds, fmt.Sprintf("id = ANY($%d)", len(args)))
	}
	for _, f := range s.Filters {
		switch {
		case f.Name != nil:
			c, v, err := textCondition("name", f.Name.Method, f.Name.Value, len(args)+1)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
			conds = append(conds, c)
		case f.State != nil:
			args = append(args, int16(*f.State))
			conds = append(conds, fmt.Sprintf("state = $%d", len(args)))
		case f.ID != nil:
			args = append(args, *f.ID)
			conds = append(conds, fmt.Sprintf("id = $%d", len(args)))
		case f.Domain != nil, f.Default:
			conds = append(conds, "FALSE")
		}
	}
	order := "DESC"
	if s.Asc {
		order = "ASC"
	}
	sort := "creation_date"
	if s.SortName {
		sort = "name"
	}
	limit := "ALL"
	if s.Limit > 0 {
		limit = fmt.Sprint(s.Limit)
	}
	rows, err := q.pool.Query(ctx, `SELECT id, name, state, sequence, creation_date, change_date, count(*) OVER (), now()
        FROM orgs WHERE `+strings.Join(conds, " AND ")+` ORDER BY `+sort+` `+order+`, id `+order+
		fmt.Sprintf(` LIMIT %s OFFSET %d`, limit, s.Offset), args...)
	if err != nil {
		return nil, errs.Internal("QUERY-OrgL1", fmt.Errorf("list orgs: %w", err))
	}
	defer rows.Close()
	list := &OrgList{}
	var total int64
	for rows.Next() {
		var o Org
		var state int16
		var seq int64
		if err := rows.Scan(&o.ID, &o.Name, &state, &seq, &o.Created, &o.Changed, &total, &list.Timestamp); err != nil {
			return nil, errs.Internal("QUERY-OrgL2", err)
		}
		o.Active, o.Sequence, o.Created, o.Changed = state == 1, uint64(seq), o.Created.UTC(), o.Changed.UTC()
		list.Orgs = append(list.Orgs, &o)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal("QUERY-OrgL3", err)
	}
	list.Total = uint64(total)
	if err := q.fillTimestamp(ctx, &list.Timestamp); err != nil {
		return nil, err
	}
	return list, nil
}
