package api

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
)

// oidcSettingsRoutes mounts the instance's token lifetimes (admin API
// GetOIDCSettings, AddOIDCSettings, UpdateOIDCSettings).
func (a *API) oidcSettingsRoutes(r chi.Router) {
	r.Get("/admin/v1/settings/oidc", a.getOIDCSettings)
	r.Post("/admin/v1/settings/oidc", a.setOIDCSettings(a.cmds.AddOIDCSettings, true))
	r.Put("/admin/v1/settings/oidc", a.setOIDCSettings(a.cmds.UpdateOIDCSettings, false))
}

// oidcSettingsJSON is zitadel.settings.v1.OIDCSettings's lifetimes, and
// AddOIDCSettingsRequest / UpdateOIDCSettingsRequest.
type oidcSettingsJSON struct {
	AccessTokenLifetime        gateway.Duration `json:"accessTokenLifetime"`
	IDTokenLifetime            gateway.Duration `json:"idTokenLifetime"`
	RefreshTokenIdleExpiration gateway.Duration `json:"refreshTokenIdleExpiration"`
	RefreshTokenExpiration     gateway.Duration `json:"refreshTokenExpiration"`
}

func (a *API) setOIDCSettings(set func(ctx context.Context, s command.OIDCSettings) (*command.Details, error), add bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req oidcSettingsJSON
		if err := gateway.Decode(r, &req); err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		d, err := set(r.Context(), command.OIDCSettings{AccessTokenLifetime: req.AccessTokenLifetime.Std(), IDTokenLifetime: req.IDTokenLifetime.Std(),
			RefreshTokenIdleExpiration: req.RefreshTokenIdleExpiration.Std(), RefreshTokenExpiration: req.RefreshTokenExpiration.Std()})
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		writeV1(w, r, *d, nil, add)
	}
}

func (a *API) getOIDCSettings(w http.ResponseWriter, r *http.Request) {
	s, instanceID, err := a.q.CallerOIDCSettings(r.Context())
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	type settings struct {
		Details gateway.DetailsV1 `json:"details"`
		oidcSettingsJSON
	}
	gateway.WriteJSON(w, http.StatusOK, struct {
		Settings settings `json:"settings"`
	}{settings{
		Details: gateway.V1Read(gateway.ObjectDetails{Sequence: s.Sequence, Created: s.Created, Changed: s.Changed, ResourceOwner: instanceID}),
		oidcSettingsJSON: oidcSettingsJSON{gateway.Duration(s.AccessTokenLifetime), gateway.Duration(s.IDTokenLifetime),
			gateway.Duration(s.RefreshTokenIdleExpiration), gateway.Duration(s.RefreshTokenExpiration)},
	}})
}
