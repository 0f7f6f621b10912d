package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
)

// machineRoutes mounts machine users' credentials: client secrets and keys.
func (a *API) machineRoutes(r chi.Router) {
	r.Put("/management/v1/users/{userId}/secret", a.generateMachineSecret)
	r.Delete("/management/v1/users/{userId}/secret", a.removeMachineSecret)
	r.Post("/management/v1/users/{userId}/keys", a.addMachineKey)
	r.Post("/management/v1/users/{userId}/keys/_search", a.listMachineKeys)
	r.Delete("/management/v1/users/{userId}/keys/{keyId}", a.removeMachineKey)
}

type machineSecretResponse struct {
	ClientID     string            `json:"clientId"`
	ClientSecret string            `json:"clientSecret"`
	Details      gateway.DetailsV1 `json:"details"`
}

func (a *API) generateMachineSecret(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	s, err := a.cmds.GenerateMachineSecret(r.Context(), identityContextOrg(r), chi.URLParam(r, "userId"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, machineSecretResponse{ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		Details: gateway.V1Change(identityDetails(s.Details))})
}

func (a *API) removeMachineSecret(w http.ResponseWriter, r *http.Request) {
	d, err := a.cmds.RemoveMachineSecret(r.Context(), identityContextOrg(r), chi.URLParam(r, "userId"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, identityDetailsV1Response{Details: gateway.V1Change(identityDetails(d))})
}

type addMachineKeyResponse struct {
	KeyID      string            `json:"keyId"`
	KeyDetails []byte            `json:"keyDetails,omitempty"` // base64 of the JSON key file
	Details    gateway.DetailsV1 `json:"details"`
}

func (a *API) addMachineKey(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Type           gateway.EnumValue[render.KeyTypeDef] `json:"type"`
		ExpirationDate gateway.Timestamp                    `json:"expirationDate"`
		PublicKey      []byte                               `json:"publicKey"` // base64 of a PEM
	}
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	k, err := a.cmds.AddMachineKey(r.Context(), command.AddMachineKey{OrgID: identityContextOrg(r),
		UserID: chi.URLParam(r, "userId"), Type: int(req.Type), Expiration: req.ExpirationDate.Time(), PublicKey: req.PublicKey})
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, addMachineKeyResponse{KeyID: k.KeyID, KeyDetails: k.KeyFile,
		Details: gateway.V1Add(identityDetails(k.Details))})
}

func (a *API) listMachineKeys(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query gateway.ListQuery `json:"query"`
	}
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	offset, limit, err := req.Query.Page()
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	keys, err := a.cmds.ListMachineKeysPage(r.Context(), identityContextOrg(r), chi.URLParam(r, "userId"), offset, limit)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.MachineKeyListV1Of(keys))
}

func (a *API) removeMachineKey(w http.ResponseWriter, r *http.Request) {
	d, err := a.cmds.RemoveMachineKey(r.Context(), identityContextOrg(r), chi.URLParam(r, "userId"), chi.URLParam(r, "keyId"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, identityDetailsV1Response{Details: gateway.V1Change(identityDetails(d))})
}
