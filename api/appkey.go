package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
)

// appKeyRoutes mounts the keys of apps that authenticate with
// private_key_jwt, in the context org. The key file is in AddAppKey's
// answer only, once.
func (a *API) appKeyRoutes(r chi.Router) {
	const p = "/management/v1/projects/{projectId}/apps/{appId}/keys"
	app := a.projectPermission("project.app.write")
	r.Post(p, decodeCall(http.StatusOK, a.addAppKey, app))
	r.Post(p+"/_search", decodeCall(http.StatusOK, a.listAppKeys))
	r.Get(p+"/{keyId}", decodeCall(http.StatusOK, a.getAppKey))
	r.Delete(p+"/{keyId}", decodeCall(http.StatusOK, a.removeAppKey, app))
}

// addAppKeyRequest is AddAppKeyRequest.
type addAppKeyRequest struct {
	Type           gateway.EnumValue[render.KeyTypeDef] `json:"type"`
	ExpirationDate gateway.Timestamp                    `json:"expirationDate"`
}

type addAppKeyResponse struct {
	ID         string            `json:"id"`
	Details    gateway.DetailsV1 `json:"details"`
	KeyDetails []byte            `json:"keyDetails"` // base64 of the JSON key file
}

func (a *API) addAppKey(r *http.Request, req *addAppKeyRequest) (any, error) {
	k, err := a.cmds.AddAppKey(r.Context(), command.AddAppKey{OrgID: contextOrg(r), ProjectID: chi.URLParam(r, "projectId"),
		AppID: chi.URLParam(r, "appId"), Type: int(req.Type), Expiration: req.ExpirationDate.Time()})
	if err != nil {
		return nil, err
	}
	return addAppKeyResponse{ID: k.KeyID, Details: gateway.V1Add(objectDetails(k.Details)), KeyDetails: k.KeyFile}, nil
}

// listAppKeysRequest is ListAppKeysRequest.
type listAppKeysRequest struct {
	Query gateway.ListQuery `json:"query"`
}

func (a *API) listAppKeys(r *http.Request, req *listAppKeysRequest) (any, error) {
	offset, limit, err := req.Query.Page()
	if err != nil {
		return nil, err
	}
	return answer(render.AppKeyListV1Of)(a.cmds.ListAppKeys(r.Context(), contextOrg(r),
		chi.URLParam(r, "projectId"), chi.URLParam(r, "appId"), offset, limit))
}

func (a *API) getAppKey(r *http.Request, _ *noBody) (any, error) {
	return answer(func(k *command.AppKey) any {
		return struct {
			Key render.MachineKeyV1 `json:"key"`
		}{render.AppKeyV1Of(k)}
	})(a.cmds.GetAppKey(r.Context(), contextOrg(r), chi.URLParam(r, "projectId"), chi.URLParam(r, "appId"), chi.URLParam(r, "keyId")))
}

func (a *API) removeAppKey(r *http.Request, _ *noBody) (any, error) {
	return answer(changedV1[command.Details])(a.cmds.RemoveAppKey(r.Context(), contextOrg(r),
		chi.URLParam(r, "projectId"), chi.URLParam(r, "appId"), chi.URLParam(r, "keyId")))
}
