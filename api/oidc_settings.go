package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
)

// oidcSettingsRoutes mounts the instance's token lifetimes (admin API
// GetOIDCSettings, AddOIDCSettings, UpdateOIDCSettings).
func (a *API) oidcSettingsRoutes(r chi.Router) {
	r.Get("/admin/v1/settings/oidc", decodeCall(http.StatusOK, func(r *http.Request, _ *noBody) (any, error) {
		s, instanceID, err := a.q.CallerOIDCSettings(r.Context())
		if err != nil {
			return nil, err
		}
		return render.OIDCSettingsOf(s, instanceID), nil
	}))
	r.Post("/admin/v1/settings/oidc", decodeCall(http.StatusOK, func(r *http.Request, req *render.OIDCSettingsJSON) (any, error) {
		return answer(addedV1[*command.Details])(a.cmds.AddOIDCSettings(r.Context(), req.Input()))
	}))
	r.Put("/admin/v1/settings/oidc", decodeCall(http.StatusOK, func(r *http.Request, req *render.OIDCSettingsJSON) (any, error) {
		return answer(changedV1[*command.Details])(a.cmds.UpdateOIDCSettings(r.Context(), req.Input()))
	}))
}
