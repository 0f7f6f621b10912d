package projection

import (
	"encoding/json"
	"fmt"

	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/idp"
)

// IDPs returns the projection of IdP templates of every kind. It is inline,
// so a read after a write sees it.
func IDPs() []*Projection {
	return []*Projection{{
		Name:       "idps",
		Tables:     []string{"idps"},
		Updated:    []string{"idps"},
		EventTypes: []string{events.AggIDP + ".", events.OrgRemoved},
		Reduce:     reduceIDP,
	}}
}

func reduceIDP(e *eventstore.Event, t Tables) ([]Statement, error) {
	switch e.Type {
	case events.IDPAdded:
		var p events.IDPAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		kind, ok := idp.ByPath(p.Kind)
		if !ok {
			return nil, fmt.Errorf("idp %s: unknown kind %q", e.AggregateID, p.Kind)
		}
		opts, view, err := idpPublic(kind, p.Options, p.Config)
		if err != nil {
			return nil, fmt.Errorf("idp %s: %w", e.AggregateID, err)
		}
		return []Statement{idpInsert.Stmt(t, e.InstanceID, e.AggregateID, p.OwnerType, e.ResourceOwner, kind.Path,
			int64(kind.Type), p.Name, opts, view, int64(e.Sequence), e.CreatedAt, e.CreatedAt)}, nil
	case events.IDPChanged, events.IDPSecretsResealed:
		var p events.IDPChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		// The kind never changes, so the event's kind is the row's.
		if kind, ok := idp.ByPath(p.Kind); ok {
			_, view, err := idpPublic(kind, nil, p.Config)
			if err != nil {
				return nil, fmt.Errorf("idp %s: %w", e.AggregateID, err)
			}
			return []Statement{idpChange.Stmt(t, p.Name, idpOptions(p.Options), view, int64(e.Sequence), e.CreatedAt,
				e.InstanceID, e.AggregateID)}, nil
		}
		// Events written without it (a reseal) get the view of every kind
		// their config decodes as, and the row's own kind picks one in SQL.
		return []Statement{{
			SQL: `UPDATE ` + t.T("idps") + ` SET name = $3, options = $4::jsonb, config = ($5::jsonb) -> kind,
                  sequence = $6, change_date = $7 WHERE instance_id = $1 AND id = $2`,
			Args: []any{e.InstanceID, e.AggregateID, p.Name, idpOptions(p.Options), idpViewByKind(p.Config),
				int64(e.Sequence), e.CreatedAt},
		}}, nil
	case events.IDPRemoved:
		return []Statement{idpDelete.Stmt(t, e.InstanceID, e.AggregateID)}, nil
	case events.OrgRemoved:
		return []Statement{idpOwnerRemoved.Stmt(t, true, e.InstanceID, e.AggregateID, events.OwnerOrg)}, nil
	}
	return nil, nil
}

var (
	idpInsert = Insert("idps", "instance_id", "id", "owner_type", "resource_owner", "kind", "type", "name",
		"options", "config", "sequence", "creation_date", "change_date")
	idpChange = Update("idps", []string{"name", "options", "config", "sequence", "change_date"}, "instance_id", "id")
	idpDelete = Delete("idps", "instance_id", "id")
	// an org's removal marks its IdPs (their links go by cascade events)
	idpOwnerRemoved = Update("idps", []string{"owner_removed"}, "instance_id", "resource_owner", "owner_type")
)

// idpPublic returns the options and the kind's public view (no secrets) of
// a stored config.
func idpPublic(kind idp.Kind, options, config json.RawMessage) (string, string, error) {
	cfg := kind.New()
	if len(config) > 0 {
		if err := jsonv1.Unmarshal(config, cfg); err != nil {
			return "", "", fmt.Errorf("decode %s config: %w", kind.Path, err)
		}
	}
	view, err := jsonv1.Marshal(idp.View(cfg))
	if err != nil {
		return "", "", err
	}
	return idpOptions(options), string(view), nil
}

// idpOptions normalises stored options to their JSON form ({} for defaults).
func idpOptions(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "{}" {
		return "{}" // the defaults, as most IdPs have them
	}
	var o idp.Options
	if jsonv1.Unmarshal(raw, &o) != nil {
		return "{}"
	}
	b, _ := jsonv1.Marshal(o)
	return string(b)
}

// idpViewByKind returns {"<kind path>": view, …} for every kind the config
// decodes as; the UPDATE picks the row's kind from it.
func idpViewByKind(config json.RawMessage) string {
	views := map[string]json.RawMessage{}
	for _, k := range idp.Kinds() {
		if _, view, err := idpPublic(k, nil, config); err == nil {
			views[k.Path] = json.RawMessage(view)
		}
	}
	b, _ := json.Marshal(views)
	return string(b)
}
