package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
)

// sessionRoutes mounts the v2 session API.
func (a *API) sessionRoutes(r chi.Router) {
	r.Post("/v2/sessions", a.createSession)
	r.Patch("/v2/sessions/{sessionId}", a.setSession)
	r.Get("/v2/sessions/{sessionId}", a.getSession)
	r.Delete("/v2/sessions/{sessionId}", a.deleteSession)
	r.Post("/v2/sessions/search", a.listSessions)
}

func (a *API) createSession(w http.ResponseWriter, r *http.Request) {
	var req render.CreateSessionRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	s, err := a.cmds.CreateSession(r.Context(), req.Input())
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusCreated, render.SessionCreatedOf(s))
}

func (a *API) setSession(w http.ResponseWriter, r *http.Request) {
	var req render.SetSessionRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	s, err := a.cmds.SetSession(r.Context(), req.Input(chi.URLParam(r, "sessionId")))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.SessionSetOf(s))
}

func (a *API) deleteSession(w http.ResponseWriter, r *http.Request) {
	var req render.DeleteSessionRequest
	if r.ContentLength != 0 {
		if err := gateway.Decode(r, &req); err != nil {
			gateway.WriteError(w, r, err)
			return
		}
	}
	d, err := a.cmds.DeleteSession(r.Context(), chi.URLParam(r, "sessionId"), req.SessionToken)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.ChangedV2Of(d))
}

func (a *API) getSession(w http.ResponseWriter, r *http.Request) {
	s, err := a.q.SessionByID(r.Context(), chi.URLParam(r, "sessionId"), r.URL.Query().Get("sessionToken"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.SessionBody{Session: render.SessionOf(s)})
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request) {
	var req render.ListSessionsRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	s, err := req.Search()
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	list, err := a.q.ListSessions(r.Context(), s)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.SessionListOf(list))
}
