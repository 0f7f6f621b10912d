package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
)

// listRoutes mounts SetPassword and the v2 user and org lists.
func (a *API) listRoutes(r chi.Router) {
	r.Post("/v2/users", decodeCall(http.StatusOK, func(r *http.Request, req *render.ListUsersRequest) (any, error) {
		s, err := req.Search()
		if err != nil {
			return nil, err
		}
		return answer(req.Result)(a.q.ListUsers(r.Context(), s))
	}))
	r.Post("/v2/users/{userId}/password", decodeCall(http.StatusOK, func(r *http.Request, req *render.SetPasswordRequest) (any, error) {
		return answer(render.ChangedV2Of)(a.cmds.SetPassword(r.Context(), req.Input(chi.URLParam(r, "userId"))))
	}))
	r.Post("/v2/organizations/_search", decodeCall(http.StatusOK, func(r *http.Request, req *render.ListOrgsRequest) (any, error) {
		s, err := req.Search()
		if err != nil {
			return nil, err
		}
		return answer(req.Result)(a.q.ListOrgs(r.Context(), s))
	}))
}

// passwordJSON is zitadel.user.v2.Password.
type passwordJSON = render.PasswordV2

// hashedPasswordJSON is zitadel.user.v2.HashedPassword.
type hashedPasswordJSON struct {
	Hash           string `json:"hash"`
	ChangeRequired bool   `json:"changeRequired"`
}

// passwordOf is the typed password of AddHumanUserRequest's oneof.
func passwordOf(p *passwordJSON, h *hashedPasswordJSON) *command.Password {
	switch {
	case p != nil:
		return &command.Password{Password: p.Password, ChangeRequired: p.ChangeRequired}
	case h != nil:
		return &command.Password{Hash: h.Hash, ChangeRequired: h.ChangeRequired}
	}
	return nil
}
