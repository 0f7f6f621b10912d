package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
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

type keyTypeDef struct{}

var keyTypeEnum = gateway.NewEnum("KEY_TYPE_UNSPECIFIED", "KEY_TYPE_JSON")

func (keyTypeDef) Enum() *gateway.Enum { return keyTypeEnum }

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
		Type           gateway.EnumValue[keyTypeDef] `json:"type"`
		ExpirationDate gateway.Timestamp             `json:"expirationDate"`
		PublicKey      []byte                        `json:"publicKey"` // base64 of a PEM
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

type machineKeyJSON struct {
	ID             string                        `json:"id"`
	Details        gateway.DetailsV1             `json:"details"`
	Type           gateway.EnumValue[keyTypeDef] `json:"type"`
	ExpirationDate gateway.Timestamp             `json:"expirationDate"`
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
	keys, err := a.cmds.ListMachineKeys(r.Context(), identityContextOrg(r), chi.URLParam(r, "userId"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	total := len(keys)
	if offset >= uint64(len(keys)) {
		keys = nil
	} else {
		keys = keys[offset:]
	}
	if limit > 0 && int(limit) < len(keys) {
		keys = keys[:limit]
	}
	out := struct {
		Details gateway.ListDetailsV1 `json:"details"`
		Result  []machineKeyJSON      `json:"result,omitempty"`
	}{Details: gateway.ListDetailsV1{TotalResult: gateway.Uint64(total)}}
	for _, k := range keys {
		d := k.Details
		out.Result = append(out.Result, machineKeyJSON{ID: k.KeyID, Details: gateway.V1Read(identityDetails(&d)),
			Type: gateway.EnumValue[keyTypeDef](k.Type), ExpirationDate: gateway.Timestamp(k.Expiration)})
		if t := gateway.Timestamp(d.Changed); t.Time().After(out.Details.ViewTimestamp.Time()) {
			out.Details.ViewTimestamp = t
		}
	}
	gateway.WriteJSON(w, http.StatusOK, out)
}

func (a *API) removeMachineKey(w http.ResponseWriter, r *http.Request) {
	d, err := a.cmds.RemoveMachineKey(r.Context(), identityContextOrg(r), chi.URLParam(r, "userId"), chi.URLParam(r, "keyId"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, identityDetailsV1Response{Details: gateway.V1Change(identityDetails(d))})
}
