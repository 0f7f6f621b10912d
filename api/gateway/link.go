package gateway

import (
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
)

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

// The v3alpha dialects. ZITADEL's resources route has body "authenticator":
// the REST body is the IDPAuthenticator itself.
var (
	LinkV3 = LinkDialect{
		Names: command.LinkNames{UserID: "AddIDPAuthenticatorRequest.UserId",
			Link: "AddIDPAuthenticatorRequest.IdpAuthenticator", Message: "IDPAuthenticator"},
		Details: LinkDetailsV2,
	}
	LinkResource = LinkDialect{
		Names: command.LinkNames{UserID: "AddIDPAuthenticatorRequest.Id",
			Link: "AddIDPAuthenticatorRequest.Authenticator", Message: "IDPAuthenticator"},
		Details: LinkDetailsResource,
	}
)

// LinkDetailsV2 is {"details": v2 Details} of a link change. As ZITADEL's
// link commands do, it carries the event's sequence and date and the user's
// org, without a creation date.
func LinkDetailsV2(d command.Details) any {
	return struct {
		Details DetailsV2 `json:"details"`
	}{V2(ObjectDetails{Sequence: d.Sequence, Changed: d.Changed, ResourceOwner: d.ResourceOwner})}
}

// LinkDetailsResource is {"details": resources Details} of a link change,
// owned by the user's org.
func LinkDetailsResource(d command.Details) any {
	return struct {
		Details DetailsResource `json:"details"`
	}{Resource(ObjectDetails{ID: d.ID, Created: d.Created, Changed: d.Changed,
		ResourceOwner: d.ResourceOwner}, OwnerTypeOrg)}
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
