package query

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/errs"
)

// TrustedDomain is one of the instance's trusted domains.
type TrustedDomain struct {
	Domain   string
	Sequence uint64
	Created  time.Time
}

// TrustedDomainSearch is a ListInstanceTrustedDomains request: a page in
// creation order (newest first unless Asc) of the domains that match every
// filter.
type TrustedDomainSearch struct {
	Offset  uint64
	Limit   uint32 // 0: no limit
	Asc     bool
	Filters []NameFilter // domainQuery: the domain with a text method
}

// TrustedDomainList is a page of trusted domains and the total that match.
type TrustedDomainList struct {
	Total     uint64
	Timestamp time.Time // the time the database answered
	Domains   []TrustedDomain
}

// ListTrustedDomains lists the caller's instance's trusted domains (admin
// API ListInstanceTrustedDomains, iam.read).
//
// Errors: Unauthenticated; NotFound AUTHZ-cdgFk / PermissionDenied
// AUTH-5mWD2; InvalidArgument for an undefined text method; Internal on a
// database error.
func (q *Queries) ListTrustedDomains(ctx context.Context, s TrustedDomainSearch) (*TrustedDomainList, error) {
	c, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.CheckV1("iam.read", ""); err != nil {
		return nil, err
	}
	args := []any{c.InstanceID}
	conds := []string{"instance_id = $1"}
	for _, f := range s.Filters {
		cond, arg, err := textCondition("domain", f.Method, f.Name, len(args)+1)
		if err != nil {
			return nil, err
		}
		args = append(args, arg)
		conds = append(conds, cond)
	}
	where := strings.Join(conds, " AND ")
	order := "DESC"
	if s.Asc {
		order = "ASC"
	}
	limit := "ALL"
	if s.Limit > 0 {
		limit = fmt.Sprint(s.Limit)
	}
	tx, err := q.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, errs.Internal("QUERY-TrD01", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	list := &TrustedDomainList{}
	var total int64
	if err := tx.QueryRow(ctx, `SELECT count(*), now() FROM instance_trusted_domains WHERE `+where, args...).Scan(&total, &list.Timestamp); err != nil {
		return nil, errs.Internal("QUERY-TrD02", fmt.Errorf("count trusted domains: %w", err))
	}
	list.Total, list.Timestamp = uint64(total), list.Timestamp.UTC()
	rows, err := tx.Query(ctx, `SELECT domain, sequence, creation_date FROM instance_trusted_domains WHERE `+where+
		` ORDER BY creation_date `+order+`, domain `+order+fmt.Sprintf(` LIMIT %s OFFSET %d`, limit, s.Offset), args...)
	if err != nil {
		return nil, errs.Internal("QUERY-TrD03", fmt.Errorf("list trusted domains: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var d TrustedDomain
		var seq int64
		if err := rows.Scan(&d.Domain, &seq, &d.Created); err != nil {
			return nil, errs.Internal("QUERY-TrD04", err)
		}
		d.Sequence, d.Created = uint64(seq), d.Created.UTC()
		list.Domains = append(list.Domains, d)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal("QUERY-TrD04", err)
	}
	return list, nil
}
