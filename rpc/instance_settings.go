package rpc

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	adminv1 "github.com/idledger/idledger/gen/zitadel/admin/v1"
)

// The instance's OIDC token lifetimes and trusted domains (REST:
// api/oidc_settings.go, api/trusted_domain.go).

// GetOIDCSettings is GET /admin/v1/settings/oidc.
func (v *adminService) GetOIDCSettings(ctx context.Context, _ *connect.Request[adminv1.GetOIDCSettingsRequest]) (*connect.Response[adminv1.GetOIDCSettingsResponse], error) {
	s, instanceID, err := v.s.q.CallerOIDCSettings(ctx)
	if err != nil {
		return nil, err
	}
	return respond[adminv1.GetOIDCSettingsResponse](render.OIDCSettingsOf(s, instanceID))
}

// oidcSettingsOf is an Add/UpdateOIDCSettingsRequest's lifetimes, read as
// REST reads them.
func oidcSettingsOf(m proto.Message) (command.OIDCSettings, error) {
	var in render.OIDCSettingsJSON
	if err := asREST(m, &in); err != nil {
		return command.OIDCSettings{}, err
	}
	return in.Input(), nil
}

// AddOIDCSettings is POST /admin/v1/settings/oidc.
func (v *adminService) AddOIDCSettings(ctx context.Context, req *connect.Request[adminv1.AddOIDCSettingsRequest]) (*connect.Response[adminv1.AddOIDCSettingsResponse], error) {
	s, err := oidcSettingsOf(req.Msg)
	if err != nil {
		return nil, err
	}
	return v1AddedP[adminv1.AddOIDCSettingsResponse](v.s.cmds.AddOIDCSettings(ctx, s))
}

// UpdateOIDCSettings is PUT /admin/v1/settings/oidc.
func (v *adminService) UpdateOIDCSettings(ctx context.Context, req *connect.Request[adminv1.UpdateOIDCSettingsRequest]) (*connect.Response[adminv1.UpdateOIDCSettingsResponse], error) {
	s, err := oidcSettingsOf(req.Msg)
	if err != nil {
		return nil, err
	}
	return v1ChangedP[adminv1.UpdateOIDCSettingsResponse](v.s.cmds.UpdateOIDCSettings(ctx, s))
}

// AddInstanceTrustedDomain is POST /admin/v1/trusted_domains.
func (v *adminService) AddInstanceTrustedDomain(ctx context.Context, req *connect.Request[adminv1.AddInstanceTrustedDomainRequest]) (*connect.Response[adminv1.AddInstanceTrustedDomainResponse], error) {
	return v1AddedP[adminv1.AddInstanceTrustedDomainResponse](v.s.cmds.AddTrustedDomain(ctx, req.Msg.GetDomain()))
}

// RemoveInstanceTrustedDomain is DELETE /admin/v1/trusted_domains/{domain}.
func (v *adminService) RemoveInstanceTrustedDomain(ctx context.Context, req *connect.Request[adminv1.RemoveInstanceTrustedDomainRequest]) (*connect.Response[adminv1.RemoveInstanceTrustedDomainResponse], error) {
	return v1ChangedP[adminv1.RemoveInstanceTrustedDomainResponse](v.s.cmds.RemoveTrustedDomain(ctx, req.Msg.GetDomain()))
}

// ListInstanceTrustedDomains is POST /admin/v1/trusted_domains/_search.
func (v *adminService) ListInstanceTrustedDomains(ctx context.Context, req *connect.Request[adminv1.ListInstanceTrustedDomainsRequest]) (*connect.Response[adminv1.ListInstanceTrustedDomainsResponse], error) {
	var in render.ListTrustedDomainsRequest
	if err := asREST(req.Msg, &in); err != nil {
		return nil, err
	}
	s, err := in.Search()
	if err != nil {
		return nil, err
	}
	list, err := v.s.q.ListTrustedDomains(ctx, s)
	if err != nil {
		return nil, err
	}
	owner := ""
	if cl := authz.CallerFrom(ctx); cl != nil {
		owner = cl.InstanceID
	}
	return respond[adminv1.ListInstanceTrustedDomainsResponse](in.Result(list, owner))
}

// v1AddedP is v1Added of a command that answers *Details.
func v1AddedP[Res any, P message[Res]](d *command.Details, err error) (*connect.Response[Res], error) {
	if err != nil {
		return nil, err
	}
	return v1Added[Res, P](*d, nil)
}

// v1ChangedP is v1Changed of a command that answers *Details.
func v1ChangedP[Res any, P message[Res]](d *command.Details, err error) (*connect.Response[Res], error) {
	if err != nil {
		return nil, err
	}
	return v1Changed[Res, P](*d, nil)
}
