package api

import (
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
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

// idpTemplate reads an add or update body of kind and maps its wire names
// onto the domain's template: name, providerOptions, and the kind's config
// fields at the top level under their JSON names. The permission check comes
// between reading and decoding, where ZITADEL's interceptors run it.
func (a *API) idpTemplate(r *http.Request, api idpAPI, kind idp.Kind) (idp.Template, error) {
	body, err := gateway.ReadBody(r)
	if err != nil {
		return idp.Template{}, err
	}
	if err := a.cmds.CanWriteIDP(r.Context(), api.owner(r)); err != nil {
		return idp.Template{}, err
	}
	obj, err := gateway.ParseObject(body, "IDP-json")
	if err != nil {
		return idp.Template{}, err
	}
	tpl := idp.Template{Kind: kind, Config: kind.New()}
	if tpl.Name, err = obj.String("name"); err != nil {
		return idp.Template{}, err
	}
	opts, err := obj.Object("providerOptions")
	if err == nil {
		err = opts.Into(&tpl.Options, "providerOptions.")
	}
	if err == nil {
		err = obj.Into(tpl.Config, "")
	}
	return tpl, err
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
			IDP providerV1 `json:"idp"`
		}{toProviderV1(i)})
	}
}

// Enums of the IdP responses and search queries.
var (
	idpOwnerEnum   = gateway.NewEnum("IDP_OWNER_TYPE_UNSPECIFIED", "IDP_OWNER_TYPE_SYSTEM", "IDP_OWNER_TYPE_ORG")
	textMethodEnum = gateway.NewEnum("TEXT_QUERY_METHOD_EQUALS", "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE",
		"TEXT_QUERY_METHOD_STARTS_WITH", "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE",
		"TEXT_QUERY_METHOD_CONTAINS", "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE",
		"TEXT_QUERY_METHOD_ENDS_WITH", "TEXT_QUERY_METHOD_ENDS_WITH_IGNORE_CASE")
)

type idpOwnerDef struct{}

func (idpOwnerDef) Enum() *gateway.Enum { return idpOwnerEnum }

type textMethodDef struct{}

func (textMethodDef) Enum() *gateway.Enum { return textMethodEnum }

// idpOwnerType maps the stored owner type to the IDPOwnerType number.
func idpOwnerType(ownerType string) gateway.EnumValue[idpOwnerDef] {
	if ownerType == events.OwnerOrg {
		return 2
	}
	return 1
}

// providerV1 is zitadel.idp.v1.Provider.
type providerV1 struct {
	ID      string                         `json:"id,omitempty"`
	Details gateway.DetailsV1              `json:"details"`
	State   string                         `json:"state,omitempty"`
	Name    string                         `json:"name,omitempty"`
	Owner   gateway.EnumValue[idpOwnerDef] `json:"owner,omitzero"`
	Type    string                         `json:"type,omitempty"`
	Config  idpstate.Config                `json:"config"`
}

func toProviderV1(i *query.IDP) providerV1 {
	return providerV1{
		ID:      i.ID,
		Details: gateway.V1Read(gateway.ObjectDetails{Sequence: i.Sequence, Created: i.Created, Changed: i.Changed, ResourceOwner: i.ResourceOwner}),
		State:   idpstate.StateName(i.State),
		Name:    i.Name,
		Owner:   idpOwnerType(i.OwnerType),
		Type:    idp.ProviderTypeName(i.Type),
		Config:  idpstate.RenderRow(i.Kind, i.Options, i.Config, true),
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
	gateway.WriteJSON(w, http.StatusOK, struct {
		IDP idpstate.V2 `json:"idp"`
	}{idpstate.RowV2(i.Row())})
}

// providerSearchRequest is ListProvidersRequest.
type providerSearchRequest struct {
	Query   gateway.ListQuery `json:"query"`
	Queries []struct {
		IDPIDQuery *struct {
			ID string `json:"id"`
		} `json:"idpIdQuery"`
		IDPNameQuery *struct {
			Name   string                           `json:"name"`
			Method gateway.EnumValue[textMethodDef] `json:"method"`
		} `json:"idpNameQuery"`
		OwnerTypeQuery *struct {
			OwnerType gateway.EnumValue[idpOwnerDef] `json:"ownerType"`
		} `json:"ownerTypeQuery"`
	} `json:"queries"`
}

func (req providerSearchRequest) toSearch() (query.ProviderSearch, error) {
	offset, limit, err := req.Query.Page()
	if err != nil {
		return query.ProviderSearch{}, err
	}
	s := query.ProviderSearch{Offset: offset, Limit: limit, Asc: req.Query.Asc}
	for n, q := range req.Queries {
		var f query.ProviderFilter
		switch {
		case q.IDPIDQuery != nil:
			if utf8.RuneCountInString(q.IDPIDQuery.ID) > 200 {
				return s, errs.InvalidArgument("", fmt.Sprintf("invalid ListProvidersRequest.Queries[%d]: embedded message failed validation | caused by: invalid IDPIDQuery.Id: value length must be at most 200 runes", n))
			}
			f.ID = &q.IDPIDQuery.ID
		case q.IDPNameQuery != nil:
			if utf8.RuneCountInString(q.IDPNameQuery.Name) > 200 {
				return s, errs.InvalidArgument("", fmt.Sprintf("invalid ListProvidersRequest.Queries[%d]: embedded message failed validation | caused by: invalid IDPNameQuery.Name: value length must be at most 200 runes", n))
			}
			f.Name = &query.NameFilter{Name: q.IDPNameQuery.Name, Method: query.TextMethod(q.IDPNameQuery.Method)}
		case q.OwnerTypeQuery != nil:
			ot := events.OwnerSystem
			switch q.OwnerTypeQuery.OwnerType {
			case 2:
				ot = events.OwnerOrg
			case 0:
				return s, errs.InvalidArgument("", fmt.Sprintf("invalid ListProvidersRequest.Queries[%d]: embedded message failed validation | caused by: invalid IDPOwnerTypeQuery.OwnerType: value must be one of the defined enum values", n))
			}
			f.OwnerType = &ot
		default:
			return s, errs.InvalidArgument("ORG-Dr2aa", "List.Query.Invalid")
		}
		s.Filters = append(s.Filters, f)
	}
	return s, nil
}

func (a *API) searchIDPs(api idpAPI) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req providerSearchRequest
		if err := gateway.Decode(r, &req); err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		s, err := req.toSearch()
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		list, err := a.q.SearchProviders(r.Context(), api.scope(r), s)
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		result := make([]providerV1, 0, len(list.IDPs))
		for _, i := range list.IDPs {
			result = append(result, toProviderV1(i))
		}
		gateway.WriteJSON(w, http.StatusOK, struct {
			Details gateway.ListDetailsV1 `json:"details"`
			Result  []providerV1          `json:"result,omitempty"`
		}{gateway.ListDetailsV1{TotalResult: gateway.Uint64(list.Total), ViewTimestamp: gateway.Timestamp(list.Timestamp)}, result})
	}
}
