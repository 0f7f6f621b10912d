package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
)

// machineRoutes mounts machine users' settings (UpdateMachine) and
// credentials: client secrets and keys.
func (a *API) machineRoutes(r chi.Router) {
	r.Put("/management/v1/users/{userId}/machine", decodeCall(http.StatusOK, a.updateMachine))
	r.Put("/management/v1/users/{userId}/secret", decodeCall(http.StatusOK, a.generateMachineSecret))
	r.Delete("/management/v1/users/{userId}/secret", decodeCall(http.StatusOK, a.removeMachineSecret))
	r.Post("/management/v1/users/{userId}/keys", decodeCall(http.StatusOK, a.addMachineKey))
	r.Post("/management/v1/users/{userId}/keys/_search", decodeCall(http.StatusOK, a.listMachineKeys))
	r.Delete("/management/v1/users/{userId}/keys/{keyId}", decodeCall(http.StatusOK, a.removeMachineKey))
}

// updateMachineRequest is UpdateMachineRequest's body.
type updateMachineRequest struct {
	Description     string                 `json:"description"`
	Name            string                 `json:"name"`
	AccessTokenType render.AccessTokenType `json:"accessTokenType"`
}

// updateMachine is management UpdateMachine.
func (a *API) updateMachine(r *http.Request, req *updateMachineRequest) (any, error) {
	userID := chi.URLParam(r, "userId")
	d, err := a.cmds.UpdateMachine(r.Context(), command.UpdateMachine{OrgID: identityContextOrg(r), UserID: userID,
		Name: req.Name, Description: req.Description, AccessTokenType: int(req.AccessTokenType)})
	if err != nil {
		return nil, err
	}
	a.invalidateUser(r, userID)
	return changedV1(d), nil
}

type machineSecretResponse struct {
	ClientID     string            `json:"clientId"`
	ClientSecret string            `json:"clientSecret"`
	Details      gateway.DetailsV1 `json:"details"`
}

// generateMachineSecretRequest is GenerateMachineSecretRequest: no field
// but the path's.
type generateMachineSecretRequest struct{}

func (a *API) generateMachineSecret(r *http.Request, _ *generateMachineSecretRequest) (any, error) {
	s, err := a.cmds.GenerateMachineSecret(r.Context(), identityContextOrg(r), chi.URLParam(r, "userId"))
	if err != nil {
		return nil, err
	}
	return machineSecretResponse{ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		Details: gateway.V1Change(identityDetails(s.Details))}, nil
}

func (a *API) removeMachineSecret(r *http.Request, _ *noBody) (any, error) {
	return answer(changedV1[*command.Details])(a.cmds.RemoveMachineSecret(r.Context(), identityContextOrg(r), chi.URLParam(r, "userId")))
}

type addMachineKeyResponse struct {
	KeyID      string            `json:"keyId"`
	KeyDetails []byte            `json:"keyDetails,omitempty"` // base64 of the JSON key file
	Details    gateway.DetailsV1 `json:"details"`
}

// addMachineKeyRequest is AddMachineKeyRequest.
type addMachineKeyRequest struct {
	Type           gateway.EnumValue[render.KeyTypeDef] `json:"type"`
	ExpirationDate gateway.Timestamp                    `json:"expirationDate"`
	PublicKey      []byte                               `json:"publicKey"` // base64 of a PEM
}

func (a *API) addMachineKey(r *http.Request, req *addMachineKeyRequest) (any, error) {
	k, err := a.cmds.AddMachineKey(r.Context(), command.AddMachineKey{OrgID: identityContextOrg(r),
		UserID: chi.URLParam(r, "userId"), Type: int(req.Type), Expiration: req.ExpirationDate.Time(), PublicKey: req.PublicKey})
	if err != nil {
		return nil, err
	}
	return addMachineKeyResponse{KeyID: k.KeyID, KeyDetails: k.KeyFile,
		Details: gateway.V1Add(identityDetails(k.Details))}, nil
}

// listMachineKeysRequest is ListMachineKeysRequest.
type listMachineKeysRequest struct {
	Query gateway.ListQuery `json:"query"`
}

func (a *API) listMachineKeys(r *http.Request, req *listMachineKeysRequest) (any, error) {
	offset, limit, err := req.Query.Page()
	if err != nil {
		return nil, err
	}
	return answer(render.MachineKeyListV1Of)(a.cmds.ListMachineKeysPage(r.Context(), identityContextOrg(r), chi.URLParam(r, "userId"), offset, limit))
}

func (a *API) removeMachineKey(r *http.Request, _ *noBody) (any, error) {
	return answer(changedV1[*command.Details])(a.cmds.RemoveMachineKey(r.Context(), identityContextOrg(r), chi.URLParam(r, "userId"), chi.URLParam(r, "keyId")))
}
