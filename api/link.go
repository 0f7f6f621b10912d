package api

import (
	"net/http"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
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

// linkDialect is one dialect of the link endpoints: its names and details
// (render.LinkDialect, shared with RPC), and the REST parts: the path
// parameter of the user, where the link sits in the body, and the org
// restriction.
type linkDialect struct {
	render.LinkDialect
	userParam string
	decode    func(r *http.Request) (*idpLinkJSON, error)
	org       func(r *http.Request) (string, error) // nil: no restriction
}

var (
	linkV2       = linkDialect{userParam: "userId", LinkDialect: render.LinkV2, decode: decodeLink[v2LinkBody]}
	linkV3       = linkDialect{userParam: "userId", LinkDialect: render.LinkV3, decode: decodeLink[v3LinkBody]}
	linkResource = linkDialect{userParam: "id", LinkDialect: render.LinkResource,
		decode: decodeLink[idpLinkJSON], org: resourceOrg}
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
			det, err = a.cmds.AddIDPLink(r.Context(), chi.URLParam(r, d.userParam), org, link.domain(), d.Names)
		}
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		gateway.WriteJSON(w, http.StatusOK, d.Details(det))
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
		gateway.WriteJSON(w, http.StatusOK, d.Details(det))
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
	gateway.WriteJSON(w, http.StatusOK, render.LinkDetailsV2Body(d))
}

// --- resources v3alpha -----------------------------------------------------

// resourceOrg reads the optional ?organization.orgId= that restricts the
// user's org (gateway.ResourceOrg).
func resourceOrg(r *http.Request) (string, error) {
	q := r.URL.Query()
	domain := q.Get("organization.orgDomain")
	if domain == "" {
		domain = q.Get("organization.org_domain")
	}
	org := q.Get("organization.orgId")
	if org == "" {
		org = q.Get("organization.org_id")
	}
	return render.ResourceOrg(org, domain)
}
