package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/query"
)

// trustedDomainRoutes mounts the instance's trusted domains (admin API;
// REST only): the hosts besides the instance's own that StartIntent
// accepts in success and failure URLs once there is one.
func (a *API) trustedDomainRoutes(r chi.Router) {
	r.Post("/admin/v1/trusted_domains", a.addTrustedDomain)
	r.Post("/admin/v1/trusted_domains/_search", a.listTrustedDomains)
	r.Delete("/admin/v1/trusted_domains/{domain}", a.removeTrustedDomain)
}

func (a *API) addTrustedDomain(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Domain string `json:"domain"`
	}
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	d, err := a.cmds.AddTrustedDomain(r.Context(), req.Domain)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	writeV1(w, r, *d, nil, true)
}

func (a *API) removeTrustedDomain(w http.ResponseWriter, r *http.Request) {
	d, err := a.cmds.RemoveTrustedDomain(r.Context(), chi.URLParam(r, "domain"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	writeV1(w, r, *d, nil, false)
}

// listTrustedDomainsRequest is ListInstanceTrustedDomainsRequest; its
// sortingColumn is accepted and answered, the order is creation order.
type listTrustedDomainsRequest struct {
	Query         gateway.ListQuery `json:"query"`
	SortingColumn string            `json:"sortingColumn"`
	Queries       []struct {
		DomainQuery *struct {
			Domain string                                  `json:"domain"`
			Method gateway.EnumValue[render.TextMethodDef] `json:"method"`
		} `json:"domainQuery"`
	} `json:"queries"`
}

type trustedDomainJSON struct {
	Details gateway.DetailsV1 `json:"details"`
	Domain  string            `json:"domain"`
}

func (a *API) listTrustedDomains(w http.ResponseWriter, r *http.Request) {
	var req listTrustedDomainsRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	offset, limit, err := req.Query.Page()
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	s := query.TrustedDomainSearch{Offset: offset, Limit: limit, Asc: req.Query.Asc}
	for _, q := range req.Queries {
		if q.DomainQuery == nil {
			gateway.WriteError(w, r, errs.InvalidArgument("INST-Ags42", "List.Query.Invalid"))
			return
		}
		if len(q.DomainQuery.Domain) > 200 {
			gateway.WriteError(w, r, errs.InvalidArgument("", "invalid DomainQuery.Domain: value length must be at most 200 runes"))
			return
		}
		s.Filters = append(s.Filters, query.NameFilter{Name: q.DomainQuery.Domain, Method: query.TextMethod(q.DomainQuery.Method)})
	}
	list, err := a.q.ListTrustedDomains(r.Context(), s)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	owner := ""
	if cl := authz.CallerFrom(r.Context()); cl != nil {
		owner = cl.InstanceID
	}
	result := make([]trustedDomainJSON, 0, len(list.Domains))
	for _, d := range list.Domains {
		det := gateway.V1Read(gateway.ObjectDetails{Sequence: d.Sequence, Created: d.Created, Changed: d.Created, ResourceOwner: owner})
		result = append(result, trustedDomainJSON{det, d.Domain})
	}
	sorting := req.SortingColumn
	if sorting == "" {
		sorting = "DOMAIN_FIELD_NAME_UNSPECIFIED"
	}
	gateway.WriteJSON(w, http.StatusOK, struct {
		Details       gateway.ListDetailsV1 `json:"details"`
		SortingColumn string                `json:"sortingColumn"`
		Result        []trustedDomainJSON   `json:"result"`
	}{gateway.ListDetailsV1{TotalResult: gateway.Uint64(list.Total), ViewTimestamp: gateway.Timestamp(list.Timestamp)}, sorting, result})
}
