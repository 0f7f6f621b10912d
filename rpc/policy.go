package rpc

import (
	"context"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	adminv1 "github.com/idledger/idledger/gen/zitadel/admin/v1"
	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
	zitadelv1 "github.com/idledger/idledger/gen/zitadel/v1"
	"github.com/idledger/idledger/query"
)

// The login policies and their IdP links: admin is the instance default,
// management the context org's custom policy (REST: api/policy.go).

// contextOrg is the context org of a management call (x-zitadel-orgid, or
// the caller's own org), as the authentication middleware set it.
func contextOrg(ctx context.Context) string {
	if cl := authz.CallerFrom(ctx); cl != nil {
		return cl.OrgID
	}
	return ""
}

// v1Details is a write's zitadel.v1.ObjectDetails: an add fills the
// creation date, a change or removal the change date (gateway.V1Add,
// V1Change).
func v1Details(d command.Details, add bool) (*zitadelv1.ObjectDetails, error) {
	det := gateway.V1Change(render.DetailsOf(d))
	if add {
		det = gateway.V1Add(render.DetailsOf(d))
	}
	out := &zitadelv1.ObjectDetails{}
	return out, fromJSON(det, out)
}

// listQuery is the paging of a v1 list request.
func listQuery(q *zitadelv1.ListQuery) gateway.ListQuery {
	return gateway.ListQuery{Offset: gateway.Uint64(q.GetOffset()), Limit: q.GetLimit(), Asc: q.GetAsc()}
}

// policyIDPs is the page of a login policy's links that list reads.
func policyIDPs(q *zitadelv1.ListQuery, list func(offset uint64, limit uint32) (*query.PolicyIDPList, error), res proto.Message) error {
	offset, limit, err := listQuery(q).Page()
	if err != nil {
		return err
	}
	l, err := list(offset, limit)
	if err != nil {
		return err
	}
	return fromJSON(render.PolicyIDPList(l), res)
}

// --- admin -----------------------------------------------------------------

// GetLoginPolicy is GET /admin/v1/policies/login.
func (v *adminService) GetLoginPolicy(ctx context.Context, _ *connect.Request[adminv1.GetLoginPolicyRequest]) (*connect.Response[adminv1.GetLoginPolicyResponse], error) {
	p, err := v.s.q.DefaultLoginPolicy(ctx)
	if err != nil {
		return nil, err
	}
	res := &adminv1.GetLoginPolicyResponse{}
	err = fromJSON(struct {
		Policy render.LoginPolicyJSON `json:"policy"`
	}{render.LoginPolicy(p)}, res)
	return connect.NewResponse(res), err
}

// AddIDPToLoginPolicy is POST /admin/v1/policies/login/idps.
func (v *adminService) AddIDPToLoginPolicy(ctx context.Context, req *connect.Request[adminv1.AddIDPToLoginPolicyRequest]) (*connect.Response[adminv1.AddIDPToLoginPolicyResponse], error) {
	d, err := v.s.cmds.AddIDPToDefaultLoginPolicy(ctx, req.Msg.GetIdpId())
	if err != nil {
		return nil, err
	}
	det, err := v1Details(d, true)
	return connect.NewResponse(&adminv1.AddIDPToLoginPolicyResponse{Details: det}), err
}

// ListLoginPolicyIDPs is POST /admin/v1/policies/login/idps/_search.
func (v *adminService) ListLoginPolicyIDPs(ctx context.Context, req *connect.Request[adminv1.ListLoginPolicyIDPsRequest]) (*connect.Response[adminv1.ListLoginPolicyIDPsResponse], error) {
	res := &adminv1.ListLoginPolicyIDPsResponse{}
	err := policyIDPs(req.Msg.GetQuery(), func(offset uint64, limit uint32) (*query.PolicyIDPList, error) {
		return v.s.q.DefaultLoginPolicyIDPs(ctx, offset, limit)
	}, res)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(res), nil
}

// RemoveIDPFromLoginPolicy is DELETE /admin/v1/policies/login/idps/{idpId}.
func (v *adminService) RemoveIDPFromLoginPolicy(ctx context.Context, req *connect.Request[adminv1.RemoveIDPFromLoginPolicyRequest]) (*connect.Response[adminv1.RemoveIDPFromLoginPolicyResponse], error) {
	d, err := v.s.cmds.RemoveIDPFromDefaultLoginPolicy(ctx, req.Msg.GetIdpId())
	if err != nil {
		return nil, err
	}
	det, err := v1Details(d, false)
	return connect.NewResponse(&adminv1.RemoveIDPFromLoginPolicyResponse{Details: det}), err
}

// --- management ------------------------------------------------------------

// GetLoginPolicy is GET /management/v1/policies/login: the org's custom
// policy, or the default one.
func (v *managementService) GetLoginPolicy(ctx context.Context, _ *connect.Request[managementv1.GetLoginPolicyRequest]) (*connect.Response[managementv1.GetLoginPolicyResponse], error) {
	p, err := v.s.q.OrgLoginPolicy(ctx, contextOrg(ctx))
	if err != nil {
		return nil, err
	}
	res := &managementv1.GetLoginPolicyResponse{}
	err = fromJSON(struct {
		Policy    render.LoginPolicyJSON `json:"policy"`
		IsDefault bool                   `json:"isDefault,omitempty"`
	}{render.LoginPolicy(p), p.IsDefault}, res)
	return connect.NewResponse(res), err
}

// lifetime is a set duration; unset is nil.
func lifetime(d *durationpb.Duration) *time.Duration {
	if d == nil {
		return nil
	}
	v := d.AsDuration()
	return &v
}

// AddCustomLoginPolicy is POST /management/v1/policies/login. The proto
// enums number their values as the command's types do.
func (v *managementService) AddCustomLoginPolicy(ctx context.Context, req *connect.Request[managementv1.AddCustomLoginPolicyRequest]) (*connect.Response[managementv1.AddCustomLoginPolicyResponse], error) {
	m := req.Msg
	p := command.LoginPolicy{
		AllowUsernamePassword: m.GetAllowUsernamePassword(), AllowRegister: m.GetAllowRegister(),
		AllowExternalIDP: m.GetAllowExternalIdp(), ForceMFA: m.GetForceMfa(), ForceMFALocalOnly: m.GetForceMfaLocalOnly(),
		PasswordlessType:  command.PasswordlessType(m.GetPasswordlessType()),
		HidePasswordReset: m.GetHidePasswordReset(), IgnoreUnknownUsernames: m.GetIgnoreUnknownUsernames(),
		AllowDomainDiscovery: m.GetAllowDomainDiscovery(), DisableLoginWithEmail: m.GetDisableLoginWithEmail(),
		DisableLoginWithPhone: m.GetDisableLoginWithPhone(), DefaultRedirectURI: m.GetDefaultRedirectUri(),
		PasswordCheckLifetime:      lifetime(m.GetPasswordCheckLifetime()),
		ExternalLoginCheckLifetime: lifetime(m.GetExternalLoginCheckLifetime()),
		MFAInitSkipLifetime:        lifetime(m.GetMfaInitSkipLifetime()),
		SecondFactorCheckLifetime:  lifetime(m.GetSecondFactorCheckLifetime()),
		MultiFactorCheckLifetime:   lifetime(m.GetMultiFactorCheckLifetime()),
		IDPs:                       make([]command.LoginPolicyIDP, 0, len(m.GetIdps())),
	}
	for _, f := range m.GetSecondFactors() {
		p.SecondFactors = append(p.SecondFactors, command.SecondFactorType(f))
	}
	for _, f := range m.GetMultiFactors() {
		p.MultiFactors = append(p.MultiFactors, command.MultiFactorType(f))
	}
	for _, l := range m.GetIdps() {
		p.IDPs = append(p.IDPs, command.LoginPolicyIDP{IDPID: l.GetIdpId(), OwnerType: command.IDPOwnerType(l.GetOwnerType())})
	}
	d, err := v.s.cmds.AddCustomLoginPolicy(ctx, contextOrg(ctx), p)
	if err != nil {
		return nil, err
	}
	det, err := v1Details(d, true)
	return connect.NewResponse(&managementv1.AddCustomLoginPolicyResponse{Details: det}), err
}

// ResetLoginPolicyToDefault is DELETE /management/v1/policies/login.
func (v *managementService) ResetLoginPolicyToDefault(ctx context.Context, _ *connect.Request[managementv1.ResetLoginPolicyToDefaultRequest]) (*connect.Response[managementv1.ResetLoginPolicyToDefaultResponse], error) {
	d, err := v.s.cmds.ResetLoginPolicyToDefault(ctx, contextOrg(ctx))
	if err != nil {
		return nil, err
	}
	det, err := v1Details(d, false)
	return connect.NewResponse(&managementv1.ResetLoginPolicyToDefaultResponse{Details: det}), err
}

// AddIDPToLoginPolicy is POST /management/v1/policies/login/idps. An
// ownerType the enum does not define reaches the command as such, which
// rejects it as REST's undefined value.
func (v *managementService) AddIDPToLoginPolicy(ctx context.Context, req *connect.Request[managementv1.AddIDPToLoginPolicyRequest]) (*connect.Response[managementv1.AddIDPToLoginPolicyResponse], error) {
	d, err := v.s.cmds.AddIDPToLoginPolicy(ctx, contextOrg(ctx), req.Msg.GetIdpId(), command.IDPOwnerType(req.Msg.GetOwnerType()))
	if err != nil {
		return nil, err
	}
	det, err := v1Details(d, true)
	return connect.NewResponse(&managementv1.AddIDPToLoginPolicyResponse{Details: det}), err
}

// ListLoginPolicyIDPs is POST /management/v1/policies/login/idps/_search:
// the links of the org's effective policy.
func (v *managementService) ListLoginPolicyIDPs(ctx context.Context, req *connect.Request[managementv1.ListLoginPolicyIDPsRequest]) (*connect.Response[managementv1.ListLoginPolicyIDPsResponse], error) {
	res := &managementv1.ListLoginPolicyIDPsResponse{}
	err := policyIDPs(req.Msg.GetQuery(), func(offset uint64, limit uint32) (*query.PolicyIDPList, error) {
		return v.s.q.OrgLoginPolicyIDPs(ctx, contextOrg(ctx), offset, limit)
	}, res)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(res), nil
}

// RemoveIDPFromLoginPolicy is DELETE /management/v1/policies/login/idps/{idpId}.
func (v *managementService) RemoveIDPFromLoginPolicy(ctx context.Context, req *connect.Request[managementv1.RemoveIDPFromLoginPolicyRequest]) (*connect.Response[managementv1.RemoveIDPFromLoginPolicyResponse], error) {
	d, err := v.s.cmds.RemoveIDPFromLoginPolicy(ctx, contextOrg(ctx), req.Msg.GetIdpId())
	if err != nil {
		return nil, err
	}
	det, err := v1Details(d, false)
	return connect.NewResponse(&managementv1.RemoveIDPFromLoginPolicyResponse{Details: det}), err
}
