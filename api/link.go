package api

import (
	"net/http"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
)

// linkRoutes mounts users' IdP links in their three dialects: v2 links,
// v3alpha IdP authenticators and resources v3alpha IdP authenticators. All
// share one command (reference §4.3); each keeps its own request and
// response shapes.
func (a *API) linkRoutes(r chi.Router) {
	r.Post("/v2/users/{userId}/links", a.addLinkV2)
	r.Post("/v2/users/{userId}/links/_search", a.listLinksV2)
	r.Delete("/v2/users/{userId}/links/{idpId}/{linkedUserId}", a.removeLinkV2)

	r.Post("/v3alpha/users/{userId}/idps", a.addLinkV3)
	r.Delete("/v3alpha/users/{userId}/idps/{idpId}", a.removeLinkV3)

	r.Post("/resources/v3alpha/users/{id}/idps", a.addLinkResource)
	r.Delete("/resources/v3alpha/users/{id}/idps/{idpId}", a.removeLinkResource)
}

// idpLinkJSON is v2 IDPLink and v3alpha IDPAuthenticator: the same three
// fields, userId and userName being the account at the IdP.
type idpLinkJSON struct {
	IDPID    string `json:"idpId,omitempty"`
	UserID   string `json:"userId,omitempty"`
	UserName string `json:"userName,omitempty"`
}

func (l *idpLinkJSON) payload() events.IDPLinkPayload {
	if l == nil {
		return events.IDPLinkPayload{}
	}
	return events.IDPLinkPayload{IDPID: l.IDPID, ExternalUserID: l.UserID, DisplayName: l.UserName}
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

func (a *API) addLinkV2(w http.ResponseWriter, r *http.Request) {
	var req struct {
		IDPLink *idpLinkJSON `json:"idpLink"`
	}
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	userID, err := linkPathParam(r, "userId", "AddIDPLinkRequest.UserId")
	if err == nil {
		err = command.ValidateIDPLink("AddIDPLinkRequest.IdpLink", "IDPLink", req.IDPLink.payload())
	}
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	d, err := a.cmds.AddIDPLink(r.Context(), userID, "", req.IDPLink.payload())
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, detailsV2Response{linkDetailsV2(d)})
}

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

func (a *API) addLinkV3(w http.ResponseWriter, r *http.Request) {
	var req struct {
		IDPAuthenticator *idpLinkJSON `json:"idpAuthenticator"`
	}
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	userID, err := linkPathParam(r, "userId", "AddIDPAuthenticatorRequest.UserId")
	if err == nil {
		err = command.ValidateIDPLink("AddIDPAuthenticatorRequest.IdpAuthenticator", "IDPAuthenticator", req.IDPAuthenticator.payload())
	}
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	d, err := a.cmds.AddIDPLink(r.Context(), userID, "", req.IDPAuthenticator.payload())
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, detailsV2Response{linkDetailsV2(d)})
}

func (a *API) removeLinkV3(w http.ResponseWriter, r *http.Request) {
	d, err := a.cmds.RemoveIDPLinks(r.Context(), chi.URLParam(r, "userId"), "", chi.URLParam(r, "idpId"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, detailsV2Response{linkDetailsV2(d)})
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

func (a *API) addLinkResource(w http.ResponseWriter, r *http.Request) {
	// body: "authenticator": the body is the IDPAuthenticator itself.
	var req idpLinkJSON
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	org, err := resourceOrg(r)
	if err == nil {
		_, err = linkPathParam(r, "id", "AddIDPAuthenticatorRequest.Id")
	}
	if err == nil {
		err = command.ValidateIDPLink("AddIDPAuthenticatorRequest.Authenticator", "IDPAuthenticator", req.payload())
	}
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	d, err := a.cmds.AddIDPLink(r.Context(), chi.URLParam(r, "id"), org, req.payload())
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, detailsResourceResponse{linkDetailsResource(d)})
}

func (a *API) removeLinkResource(w http.ResponseWriter, r *http.Request) {
	org, err := resourceOrg(r)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	d, err := a.cmds.RemoveIDPLinks(r.Context(), chi.URLParam(r, "id"), org, chi.URLParam(r, "idpId"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, detailsResourceResponse{linkDetailsResource(d)})
}
