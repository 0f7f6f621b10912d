package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/userwire"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
)

// linkRoutes mounts users' IdP links in their three dialects: v2 links,
// v3alpha IdP authenticators and resources v3alpha IdP authenticators. All
// share one command (reference §4.3); each keeps its own request and
// response shapes.
func (a *API) linkRoutes(r chi.Router) {
	r.Post("/v2/users/{userId}/links", a.addLink(linkV2))
	r.Post("/v2/users/{userId}/links/_search", a.listLinksV2)
	r.Delete("/v2/users/{userId}/links/{idpId}/{linkedUserId}", a.removeLinkV2)

	r.Post("/v3alpha/users/{userId}/idps", a.addLink(linkV3))
	r.Delete("/v3alpha/users/{userId}/idps/{idpId}", a.removeLinks(linkV3))

	r.Post("/resources/v3alpha/users/{id}/idps", a.addLink(linkResource))
	r.Delete("/resources/v3alpha/users/{id}/idps/{idpId}", a.removeLinks(linkResource))
}

// linkDialect is what one dialect of the link endpoints does its own way:
// where the link sits in the body, the path parameter of the user, the
// names in validation messages, the org restriction and the details shape.
type linkDialect struct {
	userParam string
	names     command.LinkNames
	decode    func(r *http.Request) (*idpLinkJSON, error)
	org       func(r *http.Request) (string, error) // nil: no restriction
	details   func(command.Details) any
}

var (
	linkV2 = linkDialect{userParam: "userId",
		names:  userwire.LinkNamesV2,
		decode: decodeLink[v2LinkBody], details: detailsV2Response}
	linkV3 = linkDialect{userParam: "userId",
		names: command.LinkNames{UserID: "AddIDPAuthenticatorRequest.UserId",
			Link: "AddIDPAuthenticatorRequest.IdpAuthenticator", Message: "IDPAuthenticator"},
		decode: decodeLink[v3LinkBody], details: detailsV2Response}
	// body: "authenticator": the body is the IDPAuthenticator itself.
	linkResource = linkDialect{userParam: "id",
		names: command.LinkNames{UserID: "AddIDPAuthenticatorRequest.Id",
			Link: "AddIDPAuthenticatorRequest.Authenticator", Message: "IDPAuthenticator"},
		decode: decodeLink[idpLinkJSON], org: resourceOrg, details: detailsResourceResponse}
)

// idpLinkJSON is v2 IDPLink and v3alpha IDPAuthenticator: the same three
// fields, userId and userName being the account at the IdP.
type idpLinkJSON struct {
	IDPID    string `json:"idpId,omitempty"`
	UserID   string `json:"userId,omitempty"`
	UserName string `json:"userName,omitempty"`
}

func (l *idpLinkJSON) link() *idpLinkJSON { return l }

func (l *idpLinkJSON) domain() command.IDPLink {
	if l == nil {
		return command.IDPLink{}
	}
	return command.IDPLink{IDPID: l.IDPID, ExternalUserID: l.UserID, DisplayName: l.UserName}
}

type v2LinkBody struct {
	IDPLink *idpLinkJSON `json:"idpLink"`
}

func (b *v2LinkBody) link() *idpLinkJSON { return b.IDPLink }

type v3LinkBody struct {
	IDPAuthenticator *idpLinkJSON `json:"idpAuthenticator"`
}

func (b *v3LinkBody) link() *idpLinkJSON { return b.IDPAuthenticator }

// decodeLink reads a request body of type B and returns the link it holds.
func decodeLink[B any, P interface {
	*B
	link() *idpLinkJSON
}](r *http.Request) (*idpLinkJSON, error) {
	var body B
	if err := gateway.Decode(r, &body); err != nil {
		return nil, err
	}
	return P(&body).link(), nil
}

// addLink is AddIDPLink in dialect d: decode, the org restriction, then the
// command, which validates under d's names.
func (a *API) addLink(d linkDialect) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		link, err := d.decode(r)
		org := ""
		if err == nil && d.org != nil {
			org, err = d.org(r)
		}
		var det command.Details
		if err == nil {
			det, err = a.cmds.AddIDPLink(r.Context(), chi.URLParam(r, d.userParam), org, link.domain(), d.names)
		}
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		gateway.WriteJSON(w, http.StatusOK, d.details(det))
	}
}

// removeLinks is the v3alpha RemoveIDPAuthenticator in dialect d: every
// link of the user to the IdP. The body is not read.
func (a *API) removeLinks(d linkDialect) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		org := ""
		var err error
		if d.org != nil {
			org, err = d.org(r)
		}
		var det command.Details
		if err == nil {
			det, err = a.cmds.RemoveIDPLinks(r.Context(), chi.URLParam(r, d.userParam), org, chi.URLParam(r, "idpId"))
		}
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		gateway.WriteJSON(w, http.StatusOK, d.details(det))
	}
}

func linkDetailsResource(d command.Details) gateway.DetailsResource {
	return gateway.Resource(gateway.ObjectDetails{ID: d.ID, Created: d.Created, Changed: d.Changed,
		ResourceOwner: d.ResourceOwner}, gateway.OwnerTypeOrg)
}

func detailsV2Response(d command.Details) any {
	return userwire.DetailsV2Body{Details: userwire.LinkDetailsV2(d)}
}

func detailsResourceResponse(d command.Details) any {
	return struct {
		Details gateway.DetailsResource `json:"details"`
	}{linkDetailsResource(d)}
}

// --- v2 ----------------------------------------------------------------------

func (a *API) listLinksV2(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query gateway.ListQuery `json:"query"`
	}
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	userID := chi.URLParam(r, "userId")
	if err := gateway.CheckID(userID, "ListIDPLinksRequest.UserId"); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	offset, limit, err := req.Query.Page()
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	list, err := a.q.UserIDPLinks(r.Context(), userID, offset, limit)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, userwire.IDPLinksV2Of(list))
}

func (a *API) removeLinkV2(w http.ResponseWriter, r *http.Request) {
	// The proto declares body "*" on this DELETE; whatever is sent, every
	// field is a path parameter, so the body is not read.
	d, err := a.cmds.RemoveIDPLink(r.Context(), chi.URLParam(r, "userId"), chi.URLParam(r, "idpId"),
		chi.URLParam(r, "linkedUserId"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, detailsV2Response(d))
}

// --- resources v3alpha -----------------------------------------------------

// resourceOrg reads the optional ?organization.orgId= that restricts the
// user's org. The orgDomain variant is not supported.
func resourceOrg(r *http.Request) (string, error) {
	q := r.URL.Query()
	if q.Get("organization.orgDomain") != "" || q.Get("organization.org_domain") != "" {
		return "", errs.Unimplemented("USERv3-OrgDom", "organization.orgDomain is not supported; use organization.orgId")
	}
	org := q.Get("organization.orgId")
	if org == "" {
		org = q.Get("organization.org_id")
	}
	return org, nil
}
