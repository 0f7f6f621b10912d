package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
)

// listRoutes mounts SetPassword and the v2 user and org lists.
func (a *API) listRoutes(r chi.Router) {
	r.Post("/v2/users", a.listUsers)
	r.Post("/v2/users/{userId}/password", a.setPassword)
	r.Post("/v2/organizations/_search", a.listOrgs)
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

func (a *API) setPassword(w http.ResponseWriter, r *http.Request) {
	var req render.SetPasswordRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	d, err := a.cmds.SetPassword(r.Context(), req.Input(chi.URLParam(r, "userId")))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.ChangedV2Of(d))
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	var req render.ListUsersRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	s, err := req.Search()
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	list, err := a.q.ListUsers(r.Context(), s)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, req.Result(list))
}

func (a *API) listOrgs(w http.ResponseWriter, r *http.Request) {
	var req render.ListOrgsRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	s, err := req.Search()
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	list, err := a.q.ListOrgs(r.Context(), s)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, req.Result(list))
}
