package api

import (
	"net/http"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
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

// idpLinkJSON is v2 IDPLink and v3alpha IDPAuthenticator: the same three
// fields, userId and userName being the account at the IdP.
type idpLinkJSON struct {
	IDPID    string `json:"idpId,omitempty"`
	UserID   string `json:"userId,omitempty"`
	UserName string `json:"userName,omitempty"`
}

func (l *idpLinkJSON) link() command.IDPLink {
	if l == nil {
		return command.IDPLink{}
	}
	return command.IDPLink{IDPID: l.IDPID, ExternalUserID: l.UserID, DisplayName: l.UserName}
}

// linkDialect is what tells the three link dialects apart: the user's path
// parameter, where the link sits in the body, the request names of the
// validation errors, and the details shape of the answer.
type linkDialect struct {
	userParam string
	body      func(r *http.Request) (*idpLinkJSON, error)
	names     command.LinkNames
	// resource: resources v3alpha, with ?organization.orgId= and resource
	// details.
	resource bool
}

var (
	linkV2 = linkDialect{userParam: "userId", names: command.LinkNames{UserID: "AddIDPLinkRequest.UserId",
		Field: "AddIDPLinkRequest.IdpLink", Message: "IDPLink"},
		body: func(r *http.Request) (*idpLinkJSON, error) {
			var req struct {
				IDPLink *idpLinkJSON `json:"idpLink"`
			}
			err := gateway.Decode(r, &req)
			return req.IDPLink, err
		}}
	linkV3 = linkDialect{userParam: "userId", names: command.LinkNames{UserID: "AddIDPAuthenticatorRequest.UserId",
		Field: "AddIDPAuthenticatorRequest.IdpAuthenticator", Message: "IDPAuthenticator"},
		body: func(r *http.Request) (*idpLinkJSON, error) {
			var req struct {
				IDPAuthenticator *idpLinkJSON `json:"idpAuthenticator"`
			}
			err := gateway.Decode(r, &req)
			return req.IDPAuthenticator, err
		}}
	// body: "authenticator": the body is the IDPAuthenticator itself.
	linkResource = linkDialect{userParam: "id", resource: true, names: command.LinkNames{UserID: "AddIDPAuthenticatorRequest.Id",
		Field: "AddIDPAuthenticatorRequest.Authenticator", Message: "IDPAuthenticator"},
		body: func(r *http.Request) (*idpLinkJSON, error) {
			var req idpLinkJSON
			err := gateway.Decode(r, &req)
			return &req, err
		}}
)

// writeLinkDetails answers a link change in the dialect's details shape.
func (d linkDialect) writeLinkDetails(w http.ResponseWriter, det command.Details) {
	if d.resource {
		gateway.WriteJSON(w, http.StatusOK, detailsResourceResponse{linkDetailsResource(det)})
		return
	}
	gateway.WriteJSON(w, http.StatusOK, detailsV2Response{linkDetailsV2(det)})
}

// orgHint is the resources dialect's optional org restriction.
func (d linkDialect) orgHint(r *http.Request) (string, error) {
	if !d.resource {
		return "", nil
	}
	return resourceOrg(r)
}

// addLink serves AddIDPLink and both AddIDPAuthenticator routes.
func (a *API) addLink(d linkDialect) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		link, err := d.body(r)
		var org string
		if err == nil {
			org, err = d.orgHint(r)
		}
		var det command.Details
		if err == nil {
			det, err = a.cmds.AddIDPLink(r.Context(), chi.URLParam(r, d.userParam), org, link.link(), d.names)
		}
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		d.writeLinkDetails(w, det)
	}
}

// removeLinks serves both RemoveIDPAuthenticator routes: every link of the
// user to the IdP.
func (a *API) removeLinks(d linkDialect) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		org, err := d.orgHint(r)
		var det command.Details
		if err == nil {
			det, err = a.cmds.RemoveIDPLinks(r.Context(), chi.URLParam(r, d.userParam), org, chi.URLParam(r, "idpId"))
		}
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		d.writeLinkDetails(w, det)
	}
}

// linkPathParam validates a path parameter with PGV's 1–200 rule.
func linkPathParam(r *http.Request, name, field string) (string, error) {
	v := chi.URLParam(r, name)
	if n := utf8.RuneCountInString(v); n < 1 || n > 200 {
		return "", errs.InvalidArgument("", "invalid "+field+": value length must be between 1 and 200 runes, inclusive")
	}
	return v, nil
}

// linkDetailsV2 is the v2 details of a link change. As ZITADEL's link
// commands do, it carries the event's sequence and date and the user's org,
// without a creation date.
func linkDetailsV2(d command.Details) gateway.DetailsV2 {
	return gateway.V2(gateway.ObjectDetails{Sequence: d.Sequence, Changed: d.Changed, ResourceOwner: d.ResourceOwner})
}

func linkDetailsResource(d command.Details) gateway.DetailsResource {
	return gateway.Resource(gateway.ObjectDetails{ID: d.ID, Created: d.Created, Changed: d.Changed,
		ResourceOwner: d.ResourceOwner}, gateway.OwnerTypeOrg)
}

type detailsV2Response struct {
	Details gateway.DetailsV2 `json:"details"`
}

type detailsResourceResponse struct {
	Details gateway.DetailsResource `json:"details"`
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
	userID, err := linkPathParam(r, "userId", "ListIDPLinksRequest.UserId")
	if err != nil {
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
	result := make([]idpLinkJSON, 0, len(list.Links))
	for _, l := range list.Links {
		result = append(result, idpLinkJSON{IDPID: l.IDPID, UserID: l.ExternalUserID, UserName: l.ExternalUserName})
	}
	gateway.WriteJSON(w, http.StatusOK, struct {
		Details gateway.ListDetailsV2 `json:"details"`
		Result  []idpLinkJSON         `json:"result,omitempty"`
	}{gateway.ListDetailsV2{TotalResult: gateway.Uint64(list.Total), Timestamp: gateway.Timestamp(list.Timestamp)}, result})
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
	gateway.WriteJSON(w, http.StatusOK, detailsV2Response{linkDetailsV2(d)})
}

// --- v3alpha -----------------------------------------------------------------

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
