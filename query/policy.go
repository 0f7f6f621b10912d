package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
)

// LoginPolicy is the instance default or an org's custom login policy.
type LoginPolicy struct {
	ID        string // instance ID (default) or org ID
	IsDefault bool
	Settings  events.LoginPolicySettings
	IDPs      []PolicyIDP // in the order they were linked
	Sequence  uint64
	Created   time.Time
	Changed   time.Time
}

// PolicyIDP is an IdP linked to a login policy, with the IdP's name and
// type from the IdP read table (empty when the IdP is gone).
type PolicyIDP struct {
	IDPID     string `json:"idpId"`
	OwnerType string `json:"ownerType"`
	Name      string `json:"name"`
	Type      int    `json:"type"` // IDPType number
}

// PolicyIDPList is one page of a policy's IdP links.
type PolicyIDPList struct {
	Total     uint64
	Sequence  uint64    // the policy's sequence
	Timestamp time.Time // when the database answered
	IDPs      []PolicyIDP
}

// policyIDPsSQL aggregates a policy's links (p.*) as a JSON array, ordered
// by the time they were linked, with the IdP's name and type joined in.
const policyIDPsSQL = `coalesce((SELECT json_agg(json_build_object('idpId', x.idp_id, 'ownerType', x.owner_type,
        'name', x.name, 'type', x.type) ORDER BY x.sequence)
    FROM (SELECT l.idp_id, l.owner_type, l.sequence, coalesce(i.name, '') AS name, coalesce(i.type, 0) AS type
          FROM login_policy_idps l
          LEFT JOIN idps i ON i.instance_id = l.instance_id AND i.id = l.idp_id
          WHERE l.instance_id = p.instance_id AND l.policy_id = p.id
          ORDER BY l.sequence OFFSET $3 LIMIT $4) x), '[]')`

// effectivePolicySQL selects the org's custom policy ($2) or, when it has
// none, the instance default ($1): the custom row sorts first.
const effectivePolicySQL = `FROM login_policies p
    WHERE p.instance_id = $1 AND (p.id = $2 OR (p.id = $1 AND p.is_default))
    ORDER BY p.is_default LIMIT 1`

// DefaultLoginPolicy returns the instance's default login policy with its
// IdPs (GET /admin/v1/policies/login).
//
// Errors: Unauthenticated; NotFound AUTHZ-cdgFk / PermissionDenied
// AUTH-5mWD2 without iam.policy.read; NotFound QUERY-LpNf1 when the
// instance has no default policy; Internal.
func (q *Queries) DefaultLoginPolicy(ctx context.Context) (*LoginPolicy, error) {
	c, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.CheckV1("iam.policy.read", ""); err != nil {
		return nil, err
	}
	return q.loginPolicy(ctx, c.InstanceID, c.InstanceID)
}

// OrgLoginPolicy returns org orgID's custom login policy or, when the org
// inherits, the instance default (IsDefault tells which), with its IdPs
// (GET /management/v1/policies/login).
//
// Errors: Unauthenticated; NotFound AUTHZ-cdgFk / PermissionDenied
// AUTH-5mWD2 without policy.read on orgID; NotFound QUERY-LpNf1 when there
// is no policy at all; Internal.
func (q *Queries) OrgLoginPolicy(ctx context.Context, orgID string) (*LoginPolicy, error) {
	c, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.CheckV1("policy.read", orgID); err != nil {
		return nil, err
	}
	return q.loginPolicy(ctx, c.InstanceID, orgID)
}

func (q *Queries) loginPolicy(ctx context.Context, instanceID, orgID string) (*LoginPolicy, error) {
	var p LoginPolicy
	var settings, idps []byte
	var seq int64
	err := q.pool.QueryRow(ctx, `SELECT p.id, p.is_default, p.settings, p.sequence, p.creation_date, p.change_date, `+
		policyIDPsSQL+` `+effectivePolicySQL, instanceID, orgID, 0, nil).
		Scan(&p.ID, &p.IsDefault, &settings, &seq, &p.Created, &p.Changed, &idps)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.NotFound("QUERY-LpNf1", "Errors.LoginPolicy.NotFound")
	}
	if err != nil {
		return nil, errs.Internal("QUERY-LpQ01", fmt.Errorf("login policy of %s: %w", orgID, err))
	}
	p.Sequence = uint64(seq)
	if p.Settings, err = decodeSettings(settings); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(idps, &p.IDPs); err != nil {
		return nil, errs.Internal("QUERY-LpQ02", err)
	}
	return &p, nil
}

// decodeSettings reads the settings column.
func decodeSettings(raw []byte) (events.LoginPolicySettings, error) {
	var s events.LoginPolicySettings
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, errs.Internal("QUERY-LpQ03", err)
	}
	return s, nil
}

// DefaultLoginPolicyIDPs lists one page of the IdPs linked to the
// instance's default login policy (POST /admin/v1/policies/login/idps/_search).
//
// Errors: as DefaultLoginPolicy, but an instance without a default policy
// gives an empty list.
func (q *Queries) DefaultLoginPolicyIDPs(ctx context.Context, offset uint64, limit uint32) (*PolicyIDPList, error) {
	c, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.CheckV1("iam.policy.read", ""); err != nil {
		return nil, err
	}
	return q.policyIDPs(ctx, c.InstanceID, c.InstanceID, offset, limit)
}

// OrgLoginPolicyIDPs lists one page of the IdPs linked to org orgID's
// custom login policy or, when the org inherits, to the instance default's
// (POST /management/v1/policies/login/idps/_search).
//
// Errors: as OrgLoginPolicy, but no policy gives an empty list.
func (q *Queries) OrgLoginPolicyIDPs(ctx context.Context, orgID string, offset uint64, limit uint32) (*PolicyIDPList, error) {
	c, err := queryCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.CheckV1("policy.read", orgID); err != nil {
		return nil, err
	}
	return q.policyIDPs(ctx, c.InstanceID, orgID, offset, limit)
}

func (q *Queries) policyIDPs(ctx context.Context, instanceID, orgID string, offset uint64, limit uint32) (*PolicyIDPList, error) {
	list := &PolicyIDPList{}
	var idps []byte
	var seq, total int64
	var lim any
	if limit > 0 {
		lim = int64(limit)
	}
	err := q.pool.QueryRow(ctx, `SELECT p.sequence, now(),
            (SELECT count(*) FROM login_policy_idps c WHERE c.instance_id = p.instance_id AND c.policy_id = p.id), `+
		policyIDPsSQL+` `+effectivePolicySQL, instanceID, orgID, int64(offset), lim).
		Scan(&seq, &list.Timestamp, &total, &idps)
	if errors.Is(err, pgx.ErrNoRows) {
		return list, nil
	}
	if err != nil {
		return nil, errs.Internal("QUERY-LpQ04", fmt.Errorf("login policy idps of %s: %w", orgID, err))
	}
	list.Sequence, list.Total, list.Timestamp = uint64(seq), uint64(total), list.Timestamp.UTC()
	if err := json.Unmarshal(idps, &list.IDPs); err != nil {
		return nil, errs.Internal("QUERY-LpQ05", err)
	}
	return list, nil
}
