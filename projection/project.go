package projection

import (
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// Projects returns the projection of projects and their apps, inline: the
// OP reads a client right after it was added.
func Projects() []*Projection {
	return []*Projection{{
		Name:       "projects",
		Tables:     []string{"projects", "apps"},
		Updated:    []string{"projects", "apps"},
		EventTypes: []string{events.AggProject + ".", events.OrgRemoved},
		Reduce:     reduceProject,
	}}
}

var (
	projectInsert = Insert("projects", "instance_id", "id", "resource_owner", "name", "project_role_assertion",
		"project_role_check", "has_project_check", "private_labeling_setting", "sequence", "creation_date", "change_date")
	projectChange = Update("projects", []string{"name", "project_role_assertion", "project_role_check", "has_project_check",
		"private_labeling_setting", "sequence", "change_date"}, "instance_id", "id")
	projectTouch       = Update("projects", []string{"sequence", "change_date"}, "instance_id", "id")
	projectDelete      = Delete("projects", "instance_id", "id")
	projectOwnerDelete = Delete("projects", "instance_id", "resource_owner")
	appInsert          = Insert("apps", "instance_id", "id", "project_id", "resource_owner", "name", "sequence", "creation_date", "change_date")
	appOIDC            = Update("apps", []string{"kind", "client_id", "secret_hash", "config", "sequence", "change_date"}, "instance_id", "id")
	appOIDCChange      = Update("apps", []string{"config", "sequence", "change_date"}, "instance_id", "id")
	appSecret          = Update("apps", []string{"secret_hash", "sequence", "change_date"}, "instance_id", "id")
	appAPI             = Update("apps", []string{"kind", "client_id", "secret_hash", "api_auth_method", "sequence", "change_date"}, "instance_id", "id")
	appDelete          = Delete("apps", "instance_id", "id")
	appProjectDelete   = Delete("apps", "instance_id", "project_id")
	appOwnerDelete     = Delete("apps", "instance_id", "resource_owner")
)

func reduceProject(e *eventstore.Event, t Tables) ([]Statement, error) {
	seq, at, inst, id := int64(e.Sequence), e.CreatedAt, e.InstanceID, e.AggregateID
	touch := projectTouch.Stmt(t, seq, at, inst, id)
	switch e.Type {
	case events.OrgRemoved:
		return []Statement{projectOwnerDelete.Stmt(t, inst, id), appOwnerDelete.Stmt(t, inst, id)}, nil
	case events.ProjectAdded, events.ProjectChanged:
		var p events.ProjectPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		if e.Type == events.ProjectAdded {
			return []Statement{projectInsert.Stmt(t, inst, id, e.ResourceOwner, p.Name, p.ProjectRoleAssertion, p.ProjectRoleCheck,
				p.HasProjectCheck, int64(p.PrivateLabelingSetting), seq, at, at)}, nil
		}
		return []Statement{projectChange.Stmt(t, p.Name, p.ProjectRoleAssertion, p.ProjectRoleCheck, p.HasProjectCheck,
			int64(p.PrivateLabelingSetting), seq, at, inst, id)}, nil
	case events.ProjectRemoved:
		return []Statement{projectDelete.Stmt(t, inst, id), appProjectDelete.Stmt(t, inst, id)}, nil
	case events.AppAdded, events.AppRemoved:
		var p events.AppPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		if e.Type == events.AppRemoved {
			return []Statement{appDelete.Stmt(t, inst, p.AppID), touch}, nil
		}
		return []Statement{appInsert.Stmt(t, inst, p.AppID, id, e.ResourceOwner, p.Name, seq, at, at), touch}, nil
	case events.OIDCConfigAdded:
		var p events.OIDCConfigAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{appOIDC.Stmt(t, "oidc", p.ClientID, p.HashedSecret, jsonText(p.OIDCConfig), seq, at, inst, p.AppID), touch}, nil
	case events.OIDCConfigChanged:
		var p events.OIDCConfigChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{appOIDCChange.Stmt(t, jsonText(p.OIDCConfig), seq, at, inst, p.AppID), touch}, nil
	case events.OIDCConfigSecretChanged:
		var p events.SecretChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{appSecret.Stmt(t, p.HashedSecret, seq, at, inst, p.AppID), touch}, nil
	case events.APIConfigAdded:
		var p events.APIConfigAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{appAPI.Stmt(t, "api", p.ClientID, p.HashedSecret, int64(p.AuthMethodType), seq, at, inst, p.AppID), touch}, nil
	}
	return []Statement{touch}, nil
}
