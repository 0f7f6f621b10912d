package rpc

import (
	"context"
	"time"

	"connectrpc.com/connect"

	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
)

// The keys of apps that authenticate with private_key_jwt (REST:
// api/appkey.go). The key file is in AddAppKey's answer only, once; the
// access log records no message.

// AddAppKey is POST /management/v1/projects/{projectId}/apps/{appId}/keys.
func (v *managementService) AddAppKey(ctx context.Context, req *connect.Request[managementv1.AddAppKeyRequest]) (*connect.Response[managementv1.AddAppKeyResponse], error) {
	m := req.Msg
	var expiration time.Time
	if e := m.GetExpirationDate(); e != nil {
		expiration = e.AsTime()
	}
	k, err := v.s.cmds.AddAppKey(ctx, command.AddAppKey{OrgID: contextOrg(ctx), ProjectID: m.GetProjectId(),
		AppID: m.GetAppId(), Type: int(m.GetType()), Expiration: expiration})
	if err != nil {
		return nil, err
	}
	det, err := v1Details(k.Details, true)
	return connect.NewResponse(&managementv1.AddAppKeyResponse{Id: k.KeyID, Details: det, KeyDetails: k.KeyFile}), err
}

// GetAppKey is GET /management/v1/projects/{projectId}/apps/{appId}/keys/{keyId}.
func (v *managementService) GetAppKey(ctx context.Context, req *connect.Request[managementv1.GetAppKeyRequest]) (*connect.Response[managementv1.GetAppKeyResponse], error) {
	m := req.Msg
	k, err := v.s.cmds.GetAppKey(ctx, contextOrg(ctx), m.GetProjectId(), m.GetAppId(), m.GetKeyId())
	if err != nil {
		return nil, err
	}
	return respond[managementv1.GetAppKeyResponse](struct {
		Key render.MachineKeyV1 `json:"key"`
	}{render.AppKeyV1Of(k)})
}

// ListAppKeys is POST /management/v1/projects/{projectId}/apps/{appId}/keys/_search.
func (v *managementService) ListAppKeys(ctx context.Context, req *connect.Request[managementv1.ListAppKeysRequest]) (*connect.Response[managementv1.ListAppKeysResponse], error) {
	offset, limit, err := listQuery(req.Msg.GetQuery()).Page()
	if err != nil {
		return nil, err
	}
	keys, err := v.s.cmds.ListAppKeys(ctx, contextOrg(ctx), req.Msg.GetProjectId(), req.Msg.GetAppId(), offset, limit)
	if err != nil {
		return nil, err
	}
	return respond[managementv1.ListAppKeysResponse](render.AppKeyListV1Of(keys))
}

// RemoveAppKey is DELETE /management/v1/projects/{projectId}/apps/{appId}/keys/{keyId}.
func (v *managementService) RemoveAppKey(ctx context.Context, req *connect.Request[managementv1.RemoveAppKeyRequest]) (*connect.Response[managementv1.RemoveAppKeyResponse], error) {
	m := req.Msg
	return v1Changed[managementv1.RemoveAppKeyResponse](v.s.cmds.RemoveAppKey(ctx, contextOrg(ctx), m.GetProjectId(), m.GetAppId(), m.GetKeyId()))
}
