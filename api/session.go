package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
)

// sessionRoutes mounts the v2 session API.
func (a *API) sessionRoutes(r chi.Router) {
	r.Post("/v2/sessions", decodeCall(http.StatusCreated, func(r *http.Request, req *render.CreateSessionRequest) (any, error) {
		return answer(render.SessionCreatedOf)(a.cmds.CreateSession(r.Context(), req.Input()))
	}))
	r.Patch("/v2/sessions/{sessionId}", decodeCall(http.StatusOK, func(r *http.Request, req *render.SetSessionRequest) (any, error) {
		return answer(render.SessionSetOf)(a.cmds.SetSession(r.Context(), req.Input(chi.URLParam(r, "sessionId"))))
	}))
	r.Get("/v2/sessions/{sessionId}", a.getSession)
	r.Delete("/v2/sessions/{sessionId}", a.deleteSession)
	r.Post("/v2/sessions/search", decodeCall(http.StatusOK, func(r *http.Request, req *render.ListSessionsRequest) (any, error) {
		s, err := req.Search()
		if err != nil {
			return nil, err
		}
		return answer(render.SessionListOf)(a.q.ListSessions(r.Context(), s))
	}))
}

// deleteSession takes an empty body as none (ZITADEL's clients send none).
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
