package render

import (
	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/query"
)

// OrgV1JSON is zitadel.org.v1.Org.
type OrgV1JSON struct {
	ID            string            `json:"id,omitempty"`
	Details       gateway.DetailsV1 `json:"details"`
	State         string            `json:"state,omitempty"`
	Name          string            `json:"name,omitempty"`
	PrimaryDomain string            `json:"primaryDomain,omitempty"`
}

// OrgV1 renders o in the v1 shape (management GetMyOrg).
func OrgV1(o *query.Org) OrgV1JSON {
	state := "ORG_STATE_ACTIVE"
	if !o.Active {
		state = "ORG_STATE_INACTIVE"
	}
	return OrgV1JSON{
		ID: o.ID, State: state, Name: o.Name,
		Details: gateway.V1Read(gateway.ObjectDetails{Sequence: o.Sequence, Created: o.Created, Changed: o.Changed, ResourceOwner: o.ID}),
	}
}
