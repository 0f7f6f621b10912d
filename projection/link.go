package projection

import (
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// userIDPLinks projects users' links to accounts at IdPs. A removed user's
// links go with it; a removed IdP's links are removed by the cascade events
// its command writes on each user.
func userIDPLinks() *Projection {
	return &Projection{
		Name:       "user_idp_links",
		Tables:     []string{"user_idp_links"},
		EventTypes: []string{"user.human.externalidp.", events.UserRemoved},
		Reduce:     reduceUserIDPLink,
	}
}

var (
	linkInsert = Insert("user_idp_links", "instance_id", "user_id", "idp_id", "external_user_id", "external_user_name",
		"resource_owner", "sequence", "creation_date")
	linkDelete       = Delete("user_idp_links", "instance_id", "user_id", "idp_id", "external_user_id")
	linkDeleteOfUser = Delete("user_idp_links", "instance_id", "user_id")
)

func reduceUserIDPLink(e *eventstore.Event, t Tables) ([]Statement, error) {
	switch e.Type {
	case events.UserIDPLinkAdded:
		var p events.IDPLinkPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{linkInsert.Stmt(t, e.InstanceID, e.AggregateID, p.IDPID, p.ExternalUserID, p.DisplayName,
			e.ResourceOwner, int64(e.Sequence), e.CreatedAt)}, nil
	case events.UserIDPLinkRemoved, events.UserIDPLinkCascadeRemoved:
		var p events.IDPLinkPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{linkDelete.Stmt(t, e.InstanceID, e.AggregateID, p.IDPID, p.ExternalUserID)}, nil
	case events.UserRemoved:
		return []Statement{linkDeleteOfUser.Stmt(t, e.InstanceID, e.AggregateID)}, nil
	}
	return nil, nil
}
