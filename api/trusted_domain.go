package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
)

// trustedDomainRoutes mounts the instance's trusted domains (admin API):
// the hosts besides the instance's own that StartIntent accepts in success
// and failure URLs once there is one.
func (a *API) trustedDomainRoutes(r chi.Router) {
	r.Post("/admin/v1/trusted_domains", decodeCall(http.StatusOK, func(r *http.Request, req *render.TrustedDomainRequest) (any, error) {
		return answer(addedV1[*command.Details])(a.cmds.AddTrustedDomain(r.Context(), req.Domain))
	}))
	r.Post("/admin/v1/trusted_domains/_search", decodeCall(http.StatusOK, func(r *http.Request, req *render.ListTrustedDomainsRequest) (any, error) {
		s, err := req.Search()
		if err != nil {
			return nil, err
		}
		list, err := a.q.ListTrustedDomains(r.Context(), s)
		if err != nil {
			return nil, err
		}
		owner := ""
		if cl := authz.CallerFrom(r.Context()); cl != nil {
			owner = cl.InstanceID
		}
		return req.Result(list, owner), nil
	}))
	r.Delete("/admin/v1/trusted_domains/{domain}", decodeCall(http.StatusOK, func(r *http.Request, _ *noBody) (any, error) {
		return answer(changedV1[*command.Details])(a.cmds.RemoveTrustedDomain(r.Context(), chi.URLParam(r, "domain")))
	}))
}
