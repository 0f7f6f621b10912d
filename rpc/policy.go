package rpc

import (
	"context"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	adminv1 "github.com/idledger/idledger/gen/zitadel/admin/v1"
	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
	policyv1 "github.com/idledger/idledger/gen/zitadel/policy/v1"
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

// v1Details is a write's zitadel.v1.ObjectDetails (v1Write), for an
// answer with more fields than the details.
func v1Details(d command.Details, add bool) (*zitadelv1.ObjectDetails, error) {
	out := &zitadelv1.ObjectDetails{}
	return out, fromJSON(v1Write(d, add).Details, out)
}

// listQuery is the paging of a list request, v1's or v2's ListQuery.
func listQuery(q interface {
	GetOffset() uint64
	GetLimit() uint32
	GetAsc() bool
}) gateway.ListQuery {
	return gateway.ListQuery{Offset: gateway.Uint64(q.GetOffset()), Limit: q.GetLimit(), Asc: q.GetAsc()}
}

// policyIDPs answers Res with the page of a login policy's links that
// list reads.
func policyIDPs[Res any, P message[Res]](q *zitadelv1.ListQuery, list func(offset uint64, limit uint32) (*query.PolicyIDPList, error)) (*connect.Response[Res], error) {
	offset, limit, err := listQuery(q).Page()
	if err != nil {
		return nil, err
	}
	l, err := list(offset, limit)
	if err != nil {
		return nil, err
	}
	return respond[Res, P](render.PolicyIDPList(l))
}

// --- admin -----------------------------------------------------------------

// GetLoginPolicy is GET /admin/v1/policies/login.
func (v *adminService) GetLoginPolicy(ctx context.Context, _ *connect.Request[adminv1.GetLoginPolicyRequest]) (*connect.Response[adminv1.GetLoginPolicyResponse], error) {
	p, err := v.s.q.DefaultLoginPolicy(ctx)
	if err != nil {
		return nil, err
	}
	return respond[adminv1.GetLoginPolicyResponse](struct {
		Policy render.LoginPolicyJSON `json:"policy"`
	}{render.LoginPolicy(p)})
}

// UpdateLoginPolicy is PUT /admin/v1/policies/login.
func (v *adminService) UpdateLoginPolicy(ctx context.Context, req *connect.Request[adminv1.UpdateLoginPolicyRequest]) (*connect.Response[adminv1.UpdateLoginPolicyResponse], error) {
	return v1Changed[adminv1.UpdateLoginPolicyResponse](v.s.cmds.UpdateDefaultLoginPolicy(ctx, switchesOf(req.Msg)))
}

// AddIDPToLoginPolicy is POST /admin/v1/policies/login/idps.
func (v *adminService) AddIDPToLoginPolicy(ctx context.Context, req *connect.Request[adminv1.AddIDPToLoginPolicyRequest]) (*connect.Response[adminv1.AddIDPToLoginPolicyResponse], error) {
	return v1Added[adminv1.AddIDPToLoginPolicyResponse](v.s.cmds.AddIDPToDefaultLoginPolicy(ctx, req.Msg.GetIdpId()))
}

// ListLoginPolicyIDPs is POST /admin/v1/policies/login/idps/_search.
func (v *adminService) ListLoginPolicyIDPs(ctx context.Context, req *connect.Request[adminv1.ListLoginPolicyIDPsRequest]) (*connect.Response[adminv1.ListLoginPolicyIDPsResponse], error) {
	return policyIDPs[adminv1.ListLoginPolicyIDPsResponse](req.Msg.GetQuery(), func(offset uint64, limit uint32) (*query.PolicyIDPList, error) {
		return v.s.q.DefaultLoginPolicyIDPs(ctx, offset, limit)
	})
}

// RemoveIDPFromLoginPolicy is DELETE /admin/v1/policies/login/idps/{idpId}.
func (v *adminService) RemoveIDPFromLoginPolicy(ctx context.Context, req *connect.Request[adminv1.RemoveIDPFromLoginPolicyRequest]) (*connect.Response[adminv1.RemoveIDPFromLoginPolicyResponse], error) {
	return v1Changed[adminv1.RemoveIDPFromLoginPolicyResponse](v.s.cmds.RemoveIDPFromDefaultLoginPolicy(ctx, req.Msg.GetIdpId()))
}

// --- management ------------------------------------------------------------

// GetLoginPolicy is GET /management/v1/policies/login: the org's custom
// policy, or the default one.
func (v *managementService) GetLoginPolicy(ctx context.Context, _ *connect.Request[managementv1.GetLoginPolicyRequest]) (*connect.Response[managementv1.GetLoginPolicyResponse], error) {
	p, err := v.s.q.OrgLoginPolicy(ctx, contextOrg(ctx))
	if err != nil {
		return nil, err
	}
	return respond[managementv1.GetLoginPolicyResponse](struct {
		Policy    render.LoginPolicyJSON `json:"policy"`
		IsDefault bool                   `json:"isDefault,omitempty"`
	}{render.LoginPolicy(p), p.IsDefault})
}

// lifetime is a set duration; unset is nil.
func lifetime(d *durationpb.Duration) *time.Duration {
	if d == nil {
		return nil
	}
	v := d.AsDuration()
	return &v
}

// loginPolicySwitches are the fields admin UpdateLoginPolicyRequest,
// management UpdateCustomLoginPolicyRequest and AddCustomLoginPolicyRequest
// share.
type loginPolicySwitches interface {
	GetAllowUsernamePassword() bool
	GetAllowRegister() bool
	GetAllowExternalIdp() bool
	GetForceMfa() bool
	GetForceMfaLocalOnly() bool
	GetPasswordlessType() policyv1.PasswordlessType
	GetHidePasswordReset() bool
	GetIgnoreUnknownUsernames() bool
	GetAllowDomainDiscovery() bool
	GetDisableLoginWithEmail() bool
	GetDisableLoginWithPhone() bool
	GetDefaultRedirectUri() string
	GetPasswordCheckLifetime() *durationpb.Duration
	GetExternalLoginCheckLifetime() *durationpb.Duration
	GetMfaInitSkipLifetime() *durationpb.Duration
	GetSecondFactorCheckLifetime() *durationpb.Duration
	GetMultiFactorCheckLifetime() *durationpb.Duration
}

// switchesOf maps m's switches to the command's input. The proto enum
// numbers its values as the command's type does.
func switchesOf(m loginPolicySwitches) command.LoginPolicy {
	return command.LoginPolicy{
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
	}
}

// AddCustomLoginPolicy is POST /management/v1/policies/login.
func (v *managementService) AddCustomLoginPolicy(ctx context.Context, req *connect.Request[managementv1.AddCustomLoginPolicyRequest]) (*connect.Response[managementv1.AddCustomLoginPolicyResponse], error) {
	m := req.Msg
	p := switchesOf(m)
	p.IDPs = make([]command.LoginPolicyIDP, 0, len(m.GetIdps()))
	for _, f := range m.GetSecondFactors() {
		p.SecondFactors = append(p.SecondFactors, command.SecondFactorType(f))
	}
	for _, f := range m.GetMultiFactors() {
		p.MultiFactors = append(p.MultiFactors, command.MultiFactorType(f))
	}
	for _, l := range m.GetIdps() {
		p.IDPs = append(p.IDPs, command.LoginPolicyIDP{IDPID: l.GetIdpId(), OwnerType: command.IDPOwnerType(l.GetOwnerType())})
	}
	return v1Added[managementv1.AddCustomLoginPolicyResponse](v.s.cmds.AddCustomLoginPolicy(ctx, contextOrg(ctx), p))
}

// UpdateCustomLoginPolicy is PUT /management/v1/policies/login.
func (v *managementService) UpdateCustomLoginPolicy(ctx context.Context, req *connect.Request[managementv1.UpdateCustomLoginPolicyRequest]) (*connect.Response[managementv1.UpdateCustomLoginPolicyResponse], error) {
	return v1Changed[managementv1.UpdateCustomLoginPolicyResponse](v.s.cmds.UpdateCustomLoginPolicy(ctx, contextOrg(ctx), switchesOf(req.Msg)))
}

// ResetLoginPolicyToDefault is DELETE /management/v1/policies/login.
func (v *managementService) ResetLoginPolicyToDefault(ctx context.Context, _ *connect.Request[managementv1.ResetLoginPolicyToDefaultRequest]) (*connect.Response[managementv1.ResetLoginPolicyToDefaultResponse], error) {
	return v1Changed[managementv1.ResetLoginPolicyToDefaultResponse](v.s.cmds.ResetLoginPolicyToDefault(ctx, contextOrg(ctx)))
}

// AddIDPToLoginPolicy is POST /management/v1/policies/login/idps. An
// ownerType the enum does not define reaches the command as such, which
// rejects it as REST's undefined value.
func (v *managementService) AddIDPToLoginPolicy(ctx context.Context, req *connect.Request[managementv1.AddIDPToLoginPolicyRequest]) (*connect.Response[managementv1.AddIDPToLoginPolicyResponse], error) {
	return v1Added[managementv1.AddIDPToLoginPolicyResponse](v.s.cmds.AddIDPToLoginPolicy(ctx, contextOrg(ctx), req.Msg.GetIdpId(), command.IDPOwnerType(req.Msg.GetOwnerType())))
}

// ListLoginPolicyIDPs is POST /management/v1/policies/login/idps/_search:
// the links of the org's effective policy.
func (v *managementService) ListLoginPolicyIDPs(ctx context.Context, req *connect.Request[managementv1.ListLoginPolicyIDPsRequest]) (*connect.Response[managementv1.ListLoginPolicyIDPsResponse], error) {
	return policyIDPs[managementv1.ListLoginPolicyIDPsResponse](req.Msg.GetQuery(), func(offset uint64, limit uint32) (*query.PolicyIDPList, error) {
		return v.s.q.OrgLoginPolicyIDPs(ctx, contextOrg(ctx), offset, limit)
	})
}

// RemoveIDPFromLoginPolicy is DELETE /management/v1/policies/login/idps/{idpId}.
func (v *managementService) RemoveIDPFromLoginPolicy(ctx context.Context, req *connect.Request[managementv1.RemoveIDPFromLoginPolicyRequest]) (*connect.Response[managementv1.RemoveIDPFromLoginPolicyResponse], error) {
	return v1Changed[managementv1.RemoveIDPFromLoginPolicyResponse](v.s.cmds.RemoveIDPFromLoginPolicy(ctx, contextOrg(ctx), req.Msg.GetIdpId()))
}
