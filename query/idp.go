package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/internal/idpstate"
	"github.com/idledger/idledger/internal/viewcache"
)

// IDP is one IdP template as the read table holds it. Config is the kind's
// public view (idp.Config.View as JSON): it never holds a secret.
type IDP struct {
	InstanceID    string // the instance the read was scoped to
	ID            string
	OwnerType     string // events.OwnerSystem or events.OwnerOrg
	ResourceOwner string // instance ID or org ID
	Kind          string // idp.Kind.Path
	Type          int    // IDPType number
	Name          string
	State         int // 1 active
	Options       json.RawMessage
	Config        json.RawMessage
	Sequence      uint64
	Created       time.Time
	Changed       time.Time
}

const idpColumns = `id, owner_type, resource_owner, kind, type, name, state, options, config,
    sequence, creation_date, change_date`

func scanIDP(row pgx.Row) (*IDP, error) {
	var i IDP
	var seq int64
	err := row.Scan(&i.ID, &i.OwnerType, &i.ResourceOwner, &i.Kind, &i.Type, &i.Name, &i.State,
		(*[]byte)(&i.Options), (*[]byte)(&i.Config), &seq, &i.Created, &i.Changed)
	i.Sequence = uint64(seq)
	return &i, err
}

func idpNotFound() error {
	return errs.NotFound("QUERY-SAFrt", "Identity Provider Configuration doesn't exist")
}

func queryCaller(ctx context.Context) (*authz.Caller, error) {
	c := authz.CallerFrom(ctx)
	if c == nil {
		return nil, errs.Unauthenticated("AUTH-7fs1e", "auth header missing")
	}
	return c, nil
}

// IDPByID returns IdP id of the caller's instance for GET /v2/idps/{id}.
// The lookup comes first, so an unknown id is 404 even without permission;
// then the caller needs iam.idp.read for an instance IdP, or org.idp.read on
// the owning org for an org IdP.
//
// Errors: Unauthenticated without a caller; NotFound (QUERY-SAFrt) for an
// unknown id, an IdP of another instance or of a removed org;
// PermissionDenied (AUTHZ-HKJD33); Internal (QUERY-ADG42) on a database error.
func (q *Queries) IDPByID(ctx context.Context, id string) (*IDP, error) {
	c, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	i, err := q.idpWhere(ctx, `instance_id = $1 AND id = $2`, c.InstanceID, id)
	if err != nil {
		return nil, err
	}
	i.InstanceID = c.InstanceID
	perm, org := "iam.idp.read", ""
	if i.OwnerType == events.OwnerOrg {
		perm, org = "org.idp.read", i.ResourceOwner
	}
	if err := c.Check(perm, org); err != nil {
		return nil, err
	}
	return i, nil
}

// ProviderScope is the v1 scope of a read: the instance (admin API, orgID
// "") or the context org (management API), whose reads also see the
// instance's IdPs, as ZITADEL's management API does.
type ProviderScope struct {
	OrgID string
}

// where returns the scope's SQL condition on resource_owner (args from $n)
// and the v1 permission it needs.
func (s ProviderScope) where(c *authz.Caller, n int) (cond string, args []any, perm string) {
	if s.OrgID == "" {
		return fmt.Sprintf(`resource_owner = $%d AND owner_type = $%d`, n, n+1),
			[]any{c.InstanceID, events.OwnerSystem}, "iam.idp.read"
	}
	return fmt.Sprintf(`((resource_owner = $%d AND owner_type = $%d) OR (resource_owner = $%d AND owner_type = $%d))`,
			n, n+1, n+2, n+3),
		[]any{c.InstanceID, events.OwnerSystem, s.OrgID, events.OwnerOrg}, "org.idp.read"
}

// ProviderByID returns IdP id within scope for the v1 GetProviderByID.
//
// Errors: Unauthenticated; NotFound (AUTHZ-cdgFk) or PermissionDenied
// (AUTH-5mWD2) without iam.idp.read / org.idp.read; NotFound (QUERY-SAFrt);
// Internal on a database error.
func (q *Queries) ProviderByID(ctx context.Context, scope ProviderScope, id string) (*IDP, error) {
	c, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	cond, args, perm := scope.where(c, 3)
	if err := c.CheckV1(perm, scope.OrgID); err != nil {
		return nil, err
	}
	i, err := q.idpWhere(ctx, `instance_id = $1 AND id = $2 AND `+cond, append([]any{c.InstanceID, id}, args...)...)
	if err != nil {
		return nil, err
	}
	i.InstanceID = c.InstanceID
	return i, nil
}

func (q *Queries) idpWhere(ctx context.Context, cond string, args ...any) (*IDP, error) {
	row := q.pool.QueryRow(ctx, `SELECT `+idpColumns+` FROM idps WHERE owner_removed = false AND `+cond, args...)
	i, err := scanIDP(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, idpNotFound()
	}
	if err != nil {
		return nil, errs.Internal("QUERY-ADG42", fmt.Errorf("read idp: %w", err))
	}
	return i, nil
}

// TextMethod is zitadel.v1.TextQueryMethod.
type TextMethod int

// Text query methods, by their enum numbers.
const (
	TextEquals TextMethod = iota
	TextEqualsIgnoreCase
	TextStartsWith
	TextStartsWithIgnoreCase
	TextContains
	TextContainsIgnoreCase
	TextEndsWith
	TextEndsWithIgnoreCase
)

// ProviderFilter is one search query; exactly one field is set. The
// filters of a search are ANDed.
type ProviderFilter struct {
	ID        *string     // idpIdQuery
	Name      *NameFilter // idpNameQuery
	OwnerType *string     // idpOwnerTypeQuery: events.OwnerSystem or events.OwnerOrg
}

// NameFilter matches the IdP name with a text method.
type NameFilter struct {
	Name   string
	Method TextMethod
}

// ProviderSearch is a v1 ListProviders request.
type ProviderSearch struct {
	Offset  uint64
	Limit   uint32 // 0: no limit
	Asc     bool   // creation order; newest first when false
	Filters []ProviderFilter
}

// ProviderList is a page of IdPs and the total number that match.
type ProviderList struct {
	Total     uint64
	Timestamp time.Time // the time the database answered
	IDPs      []*IDP
}

// SearchProviders lists the IdPs within scope that match s.
//
// Errors: Unauthenticated; the v1 permission errors of ProviderByID;
// InvalidArgument for an undefined text method; Internal on a database error.
func (q *Queries) SearchProviders(ctx context.Context, scope ProviderScope, s ProviderSearch) (*ProviderList, error) {
	c, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	scopeCond, args, perm := scope.where(c, 2)
	if err := c.CheckV1(perm, scope.OrgID); err != nil {
		return nil, err
	}
	args = append([]any{c.InstanceID}, args...)
	conds := []string{"owner_removed = false", "instance_id = $1", scopeCond}
	for _, f := range s.Filters {
		switch {
		case f.ID != nil:
			args = append(args, *f.ID)
			conds = append(conds, fmt.Sprintf("id = $%d", len(args)))
		case f.OwnerType != nil:
			args = append(args, *f.OwnerType)
			conds = append(conds, fmt.Sprintf("owner_type = $%d", len(args)))
		case f.Name != nil:
			cond, arg, err := textCondition("name", f.Name.Method, f.Name.Name, len(args)+1)
			if err != nil {
				return nil, err
			}
			args = append(args, arg)
			conds = append(conds, cond)
		}
	}
	where := strings.Join(conds, " AND ")
	order := "ASC"
	if !s.Asc {
		order = "DESC"
	}
	list := &ProviderList{}
	tx, err := q.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, errs.Internal("QUERY-IdpS0", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	var total int64
	if err := tx.QueryRow(ctx, `SELECT count(*), now() FROM idps WHERE `+where, args...).Scan(&total, &list.Timestamp); err != nil {
		return nil, errs.Internal("QUERY-IdpS1", fmt.Errorf("count idps: %w", err))
	}
	list.Total = uint64(total)
	limit := "ALL"
	if s.Limit > 0 {
		limit = fmt.Sprint(s.Limit)
	}
	rows, err := tx.Query(ctx, `SELECT `+idpColumns+` FROM idps WHERE `+where+
		` ORDER BY creation_date `+order+`, id `+order+
		fmt.Sprintf(` LIMIT %s OFFSET %d`, limit, s.Offset), args...)
	if err != nil {
		return nil, errs.Internal("QUERY-IdpS2", fmt.Errorf("search idps: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		i, err := scanIDP(rows)
		if err != nil {
			return nil, errs.Internal("QUERY-IdpS3", err)
		}
		i.InstanceID = c.InstanceID
		list.IDPs = append(list.IDPs, i)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal("QUERY-IdpS4", err)
	}
	list.Timestamp = list.Timestamp.UTC()
	return list, nil
}

// textCondition builds the SQL for a text query on column, with its
// argument as parameter $n. LIKE wildcards in the value are escaped, so a
// user's "%" or "_" matches itself.
func textCondition(column string, m TextMethod, value string, n int) (string, string, error) {
	like := func(v string) string {
		return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(v)
	}
	p := fmt.Sprintf("$%d", n)
	switch m {
	case TextEquals:
		return column + " = " + p, value, nil
	case TextEqualsIgnoreCase:
		return "lower(" + column + ") = lower(" + p + ")", value, nil
	case TextStartsWith:
		return column + " LIKE " + p + ` ESCAPE '\'`, like(value) + "%", nil
	case TextStartsWithIgnoreCase:
		return "lower(" + column + ") LIKE lower(" + p + `) ESCAPE '\'`, like(value) + "%", nil
	case TextContains:
		return column + " LIKE " + p + ` ESCAPE '\'`, "%" + like(value) + "%", nil
	case TextContainsIgnoreCase:
		return "lower(" + column + ") LIKE lower(" + p + `) ESCAPE '\'`, "%" + like(value) + "%", nil
	case TextEndsWith:
		return column + " LIKE " + p + ` ESCAPE '\'`, "%" + like(value), nil
	case TextEndsWithIgnoreCase:
		return "lower(" + column + ") LIKE lower(" + p + `) ESCAPE '\'`, "%" + like(value), nil
	}
	return "", "", errs.InvalidArgument("QUERY-IdpT1", "invalid TextQueryMethod")
}

// Row is the IdP as the renderers of internal/idpstate take it.
func (i *IDP) Row() idpstate.Row {
	return idpstate.Row{ID: i.ID, KindPath: i.Kind, ResourceOwner: i.ResourceOwner, Name: i.Name, Type: i.Type,
		State: i.State, Options: i.Options, View: i.Config, Sequence: i.Sequence, Created: i.Created, Changed: i.Changed}
}

// Version is the version of the row this IdP was read from, the key of its
// cached renderings.
func (i *IDP) Version() viewcache.Version {
	return viewcache.Version{Instance: i.InstanceID, ID: i.ID, Sequence: i.Sequence, Changed: i.Changed}
}
