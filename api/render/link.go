package render

import (
	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/query"
)

// LinkNamesV2 are the names under which v2 AddIDPLinkRequest reports a bad
// field (the v2 dialect of the link endpoints), for REST and RPC alike.
var LinkNamesV2 = command.LinkNames{UserID: "AddIDPLinkRequest.UserId", Link: "AddIDPLinkRequest.IdpLink", Message: "IDPLink"}

// LinkDetailsV2 is the v2 details of a link change. As ZITADEL's link
// commands do, it carries the event's sequence and date and the user's org,
// without a creation date.
func LinkDetailsV2(d command.Details) gateway.DetailsV2 {
	return gateway.V2(gateway.ObjectDetails{Sequence: d.Sequence, Changed: d.Changed, ResourceOwner: d.ResourceOwner})
}

// IDPLinkV2 is zitadel.user.v2.IDPLink: userId and userName are the
// account at the IdP.
type IDPLinkV2 struct {
	IDPID    string `json:"idpId,omitempty"`
	UserID   string `json:"userId,omitempty"`
	UserName string `json:"userName,omitempty"`
}

// IDPLinksV2 is ListIDPLinksResponse.
type IDPLinksV2 struct {
	Details gateway.ListDetailsV2 `json:"details"`
	Result  []IDPLinkV2           `json:"result,omitempty"`
}

// IDPLinksV2Of is the ListIDPLinksResponse of one page of links.
func IDPLinksV2Of(list *query.UserIDPLinkList) IDPLinksV2 {
	result := make([]IDPLinkV2, 0, len(list.Links))
	for _, l := range list.Links {
		result = append(result, IDPLinkV2{IDPID: l.IDPID, UserID: l.ExternalUserID, UserName: l.ExternalUserName})
	}
	return IDPLinksV2{Details: gateway.ListDetailsV2{TotalResult: gateway.Uint64(list.Total), Timestamp: gateway.Timestamp(list.Timestamp)}, Result: result}
}

// LinkDialect is what one dialect of the IdP-link methods (v2 links,
// v3alpha and resources v3alpha IdP authenticators) does its own way on
// every transport: the names in its validation messages and the shape of
// its details. Where the link sits in a request is the transport's.
type LinkDialect struct {
	Names command.LinkNames
	// Details renders a link change's details as the dialect's response
	// JSON ({"details": …}); RPC fills its response message from it.
	Details func(command.Details) any
}

// The dialects. LinkV2 is v2 AddIDPLink; the v3alpha ones follow. ZITADEL's resources route has body "authenticator":
// the REST body is the IDPAuthenticator itself.
var (
	LinkV2 = LinkDialect{Names: LinkNamesV2, Details: LinkDetailsV2Body}
	LinkV3 = LinkDialect{
		Names: command.LinkNames{UserID: "AddIDPAuthenticatorRequest.UserId",
			Link: "AddIDPAuthenticatorRequest.IdpAuthenticator", Message: "IDPAuthenticator"},
		Details: LinkDetailsV2Body,
	}
	LinkResource = LinkDialect{
		Names: command.LinkNames{UserID: "AddIDPAuthenticatorRequest.Id",
			Link: "AddIDPAuthenticatorRequest.Authenticator", Message: "IDPAuthenticator"},
		Details: LinkDetailsResource,
	}
)

// LinkDetailsV2Body is {"details": v2 Details} of a link change.
func LinkDetailsV2Body(d command.Details) any { return DetailsV2Body{Details: LinkDetailsV2(d)} }

// LinkDetailsResource is {"details": resources Details} of a link change,
// owned by the user's org.
func LinkDetailsResource(d command.Details) any {
	return struct {
		Details gateway.DetailsResource `json:"details"`
	}{gateway.Resource(gateway.ObjectDetails{ID: d.ID, Created: d.Created, Changed: d.Changed,
		ResourceOwner: d.ResourceOwner}, gateway.OwnerTypeOrg)}
}

// ResourceOrg is the org a resources v3alpha request restricts its user to,
// from its optional zitadel.object.v3alpha.Organization: orgID, or "" for
// none.
//
// Errors: Unimplemented USERv3-OrgDom for an orgDomain, which idledger does
// not resolve.
func ResourceOrg(orgID, orgDomain string) (string, error) {
	if orgDomain != "" {
		return "", errs.Unimplemented("USERv3-OrgDom", "organization.orgDomain is not supported; use organization.orgId")
	}
	return orgID, nil
}
