package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/internal/idpstate"
	"github.com/idledger/idledger/query"
)

// idpRoutes mounts the IdP templates of the admin API (the instance) and
// the management API (the context org), and the v2 read. Every kind shares
// one handler per verb; {kind} is looked up in the kinds table.
func (a *API) idpRoutes(r chi.Router) {
	for _, api := range []idpAPI{{"/admin/v1", events.OwnerSystem}, {"/management/v1", events.OwnerOrg}} {
		r.Post(api.prefix+"/idps/templates/_search", a.searchIDPs(api))
		r.Get(api.prefix+"/idps/templates/{id}", a.getIDP(api))
		r.Delete(api.prefix+"/idps/templates/{id}", a.removeIDP(api))
		r.Post(api.prefix+"/idps/{kind}", a.addIDP(api))
		r.Put(api.prefix+"/idps/{kind}/{id}", a.updateIDP(api))
	}
	// ZITADEL's admin API updates the two GitLab kinds with POST; for any
	// other kind the path exists with PUT only, so POST gets 405.
	r.Post("/admin/v1/idps/{kind:(gitlab|gitlab_self_hosted)}/{id}", a.updateIDP(idpAPI{"/admin/v1", events.OwnerSystem}))
	r.Get("/v2/idps/{id}", a.getIDPV2)
}

// idpAPI is one of the two v1 APIs: its path prefix and the owner it acts for.
type idpAPI struct {
	prefix    string
	ownerType string
}

// owner is the command owner: the instance, or the caller's context org.
func (api idpAPI) owner(r *http.Request) command.IDPOwnerRef {
	o := command.IDPOwnerRef{Type: api.ownerType}
	if c := authz.CallerFrom(r.Context()); c != nil && api.ownerType == events.OwnerOrg {
		o.OrgID = c.OrgID
	}
	return o
}

// scope is the query scope of v1 reads.
func (api idpAPI) scope(r *http.Request) query.ProviderScope {
	return query.ProviderScope{OrgID: api.owner(r).OrgID}
}

// pathID returns the {id} path parameter, checked as protoc-gen-validate
// checks it (1 to 200 runes) in request message.
func pathID(r *http.Request, message string) (string, error) {
	id := chi.URLParam(r, "id")
	return id, gateway.CheckID(id, message+".Id")
}

// pathKind returns the kind of the {kind} path parameter; ok is false (and
// the 404 of an unknown route is written) when the table has no such kind.
func pathKind(w http.ResponseWriter, r *http.Request) (idp.Kind, bool) {
	k, ok := idp.ByPath(chi.URLParam(r, "kind"))
	if !ok {
		gateway.NotFoundHandler(w, r)
	}
	return k, ok
}

// idpTemplate reads an add or update body of kind and decodes it
// (render.IDPTemplate). The permission check comes between reading and
// decoding, where ZITADEL's interceptors run it.
func (a *API) idpTemplate(r *http.Request, api idpAPI, kind idp.Kind) (idp.Template, error) {
	body, err := gateway.ReadBody(r)
	if err != nil {
		return idp.Template{}, err
	}
	if err := a.cmds.CanWriteIDP(r.Context(), api.owner(r)); err != nil {
		return idp.Template{}, err
	}
	return render.IDPTemplate(body, kind)
}

func objectDetails(d command.Details) gateway.ObjectDetails { return render.DetailsOf(d) }

func (a *API) addIDP(api idpAPI) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		kind, ok := pathKind(w, r)
		if !ok {
			return
		}
		tpl, err := a.idpTemplate(r, api, kind)
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		d, err := a.cmds.AddIDP(r.Context(), api.owner(r), tpl)
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		gateway.WriteJSON(w, http.StatusOK, struct {
			Details gateway.DetailsV1 `json:"details"`
			ID      string            `json:"id"`
		}{gateway.V1Add(objectDetails(d)), d.ID})
	}
}

func (a *API) updateIDP(api idpAPI) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		kind, ok := pathKind(w, r)
		if !ok {
			return
		}
		id, err := pathID(r, kind.UpdateRequest())
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		tpl, err := a.idpTemplate(r, api, kind)
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		d, err := a.cmds.UpdateIDP(r.Context(), api.owner(r), id, tpl)
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		writeDetailsV1(w, d)
	}
}

func (a *API) removeIDP(api idpAPI) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "DeleteProviderRequest")
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		d, err := a.cmds.RemoveIDP(r.Context(), api.owner(r), id)
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		writeDetailsV1(w, d)
	}
}

func writeDetailsV1(w http.ResponseWriter, d command.Details) {
	gateway.WriteJSON(w, http.StatusOK, struct {
		Details gateway.DetailsV1 `json:"details"`
	}{gateway.V1Change(objectDetails(d))})
}

func (a *API) getIDP(api idpAPI) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "GetProviderByIDRequest")
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		i, err := a.q.ProviderByID(r.Context(), api.scope(r), id)
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		gateway.WriteJSON(w, http.StatusOK, struct {
			IDP render.ProviderV1 `json:"idp"`
		}{render.ToProviderV1(i)})
	}
}

func (a *API) getIDPV2(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "GetIDPByIDRequest")
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	i, err := a.q.IDPByID(r.Context(), id)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	v := i.Version()
	if b, ok := a.idpViews.Get(v); ok {
		gateway.WriteEncoded(w, http.StatusOK, b)
		return
	}
	body := struct {
		IDP idpstate.V2 `json:"idp"`
	}{idpstate.RowV2(i.Row())}
	b, err := gateway.EncodeJSON(body)
	if err != nil {
		gateway.WriteJSON(w, http.StatusOK, body) // the standard 500, with the cause logged
		return
	}
	a.idpViews.Put(v, b, len(b))
	gateway.WriteEncoded(w, http.StatusOK, b)
}

// idpViewBudget bounds the rendered IdP bodies cached (about 1 KiB each,
// so some 16,000 IdPs): the body of an IdP whose row has not changed is
// written as rendered before, without decoding and encoding its stored
// view again. The row is still read on every request, for its version and
// the permission check.
const idpViewBudget = 16 << 20

func (a *API) searchIDPs(api idpAPI) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := gateway.ReadBody(r)
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		s, err := render.ProviderSearch(body)
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		list, err := a.q.SearchProviders(r.Context(), api.scope(r), s)
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		gateway.WriteJSON(w, http.StatusOK, render.ToProviderListV1(list))
	}
}
