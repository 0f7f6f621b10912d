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

func reduceUserIDPLink(e *eventstore.Event, t Tables) ([]Statement, error) {
	links := t.T("user_idp_links")
	switch e.Type {
	case events.UserIDPLinkAdded:
		var p events.IDPLinkPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{{
			SQL: `INSERT INTO ` + links + ` (instance_id, user_id, idp_id, external_user_id, external_user_name,
                      resource_owner, sequence, creation_date)
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			Args: []any{e.InstanceID, e.AggregateID, p.IDPID, p.ExternalUserID, p.DisplayName,
				e.ResourceOwner, int64(e.Sequence), e.CreatedAt},
		}}, nil
	case events.UserIDPLinkRemoved, events.UserIDPLinkCascadeRemoved:
		var p events.IDPLinkPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{{
			SQL: `DELETE FROM ` + links + ` WHERE instance_id = $1 AND user_id = $2 AND idp_id = $3
                  AND external_user_id = $4`,
			Args: []any{e.InstanceID, e.AggregateID, p.IDPID, p.ExternalUserID},
		}}, nil
	case events.UserRemoved:
		return []Statement{{
			SQL:  `DELETE FROM ` + links + ` WHERE instance_id = $1 AND user_id = $2`,
			Args: []any{e.InstanceID, e.AggregateID},
		}}, nil
	}
	return nil, nil
}
