package rpc

import (
	"context"
	"time"

	"connectrpc.com/connect"

	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
)

// Machine users' credentials: client secrets and keys (REST:
// api/machine.go). The secret and the key file are in the answer only,
// once; nothing here logs them, and the access log records no message.

// UpdateMachine is PUT /management/v1/users/{userId}/machine.
func (v *managementService) UpdateMachine(ctx context.Context, req *connect.Request[managementv1.UpdateMachineRequest]) (*connect.Response[managementv1.UpdateMachineResponse], error) {
	m := req.Msg
	d, err := v.s.cmds.UpdateMachine(ctx, command.UpdateMachine{OrgID: contextOrg(ctx), UserID: m.GetUserId(),
		Name: m.GetName(), Description: m.GetDescription(), AccessTokenType: int(m.GetAccessTokenType())})
	if err != nil {
		return nil, err
	}
	v.s.invalidateUser(ctx, m.GetUserId())
	return v1Changed[managementv1.UpdateMachineResponse](*d, nil)
}

// GenerateMachineSecret is PUT /management/v1/users/{userId}/secret.
func (v *managementService) GenerateMachineSecret(ctx context.Context, req *connect.Request[managementv1.GenerateMachineSecretRequest]) (*connect.Response[managementv1.GenerateMachineSecretResponse], error) {
	s, err := v.s.cmds.GenerateMachineSecret(ctx, contextOrg(ctx), req.Msg.GetUserId())
	if err != nil {
		return nil, err
	}
	det, err := v1Details(*s.Details, false)
	return connect.NewResponse(&managementv1.GenerateMachineSecretResponse{ClientId: s.ClientID, ClientSecret: s.ClientSecret, Details: det}), err
}

// RemoveMachineSecret is DELETE /management/v1/users/{userId}/secret.
func (v *managementService) RemoveMachineSecret(ctx context.Context, req *connect.Request[managementv1.RemoveMachineSecretRequest]) (*connect.Response[managementv1.RemoveMachineSecretResponse], error) {
	d, err := v.s.cmds.RemoveMachineSecret(ctx, contextOrg(ctx), req.Msg.GetUserId())
	if err != nil {
		return nil, err
	}
	return v1Changed[managementv1.RemoveMachineSecretResponse](*d, nil)
}

// AddMachineKey is POST /management/v1/users/{userId}/keys.
func (v *managementService) AddMachineKey(ctx context.Context, req *connect.Request[managementv1.AddMachineKeyRequest]) (*connect.Response[managementv1.AddMachineKeyResponse], error) {
	m := req.Msg
	var expiration time.Time
	if e := m.GetExpirationDate(); e != nil {
		expiration = e.AsTime()
	}
	k, err := v.s.cmds.AddMachineKey(ctx, command.AddMachineKey{OrgID: contextOrg(ctx), UserID: m.GetUserId(),
		Type: int(m.GetType()), Expiration: expiration, PublicKey: m.GetPublicKey()})
	if err != nil {
		return nil, err
	}
	det, err := v1Details(*k.Details, true)
	return connect.NewResponse(&managementv1.AddMachineKeyResponse{KeyId: k.KeyID, KeyDetails: k.KeyFile, Details: det}), err
}

// ListMachineKeys is POST /management/v1/users/{userId}/keys/_search.
func (v *managementService) ListMachineKeys(ctx context.Context, req *connect.Request[managementv1.ListMachineKeysRequest]) (*connect.Response[managementv1.ListMachineKeysResponse], error) {
	offset, limit, err := listQuery(req.Msg.GetQuery()).Page()
	if err != nil {
		return nil, err
	}
	keys, err := v.s.cmds.ListMachineKeysPage(ctx, contextOrg(ctx), req.Msg.GetUserId(), offset, limit)
	if err != nil {
		return nil, err
	}
	return respond[managementv1.ListMachineKeysResponse](render.MachineKeyListV1Of(keys))
}

// RemoveMachineKey is DELETE /management/v1/users/{userId}/keys/{keyId}.
func (v *managementService) RemoveMachineKey(ctx context.Context, req *connect.Request[managementv1.RemoveMachineKeyRequest]) (*connect.Response[managementv1.RemoveMachineKeyResponse], error) {
	d, err := v.s.cmds.RemoveMachineKey(ctx, contextOrg(ctx), req.Msg.GetUserId(), req.Msg.GetKeyId())
	if err != nil {
		return nil, err
	}
	return v1Changed[managementv1.RemoveMachineKeyResponse](*d, nil)
}
