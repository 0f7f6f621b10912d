package userwire

import (
	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
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
