package idpstate

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/idp"
)

// State is one IdP aggregate folded from its events. Config holds the
// stored secrets, which are sealed text: render it with idp.View.
type State struct {
	ID            string
	KindPath      string   // as stored; Kind is its table row
	Kind          idp.Kind // zero (Kind.New nil) for a kind not in the table
	OwnerType     string   // events.OwnerSystem or events.OwnerOrg
	ResourceOwner string
	Name          string
	Options       idp.Options
	Config        idp.Config // nil until idp.added, or when the kind is unknown
	ConfigErr     error      // why the stored config did not decode, if it did not
	Exists        bool       // added and not removed
	Removed       bool
	Sequence      uint64
	Created       time.Time // of the first event
	Changed       time.Time // of the last event
	started       bool
}

// Apply folds one event of the aggregate into s. A stored config or options
// that no longer decode are kept as ConfigErr rather than failing the fold:
// the replay still shows the IdP, the write model refuses to decide on it.
//
// Errors: the payload is not an IdP payload.
func (s *State) Apply(e *eventstore.Event) error {
	if !s.started {
		s.ID, s.Created, s.started = e.AggregateID, e.CreatedAt, true
	}
	s.Sequence, s.Changed, s.ResourceOwner = e.Sequence, e.CreatedAt, e.ResourceOwner
	switch e.Type {
	case events.IDPAdded:
		var p events.IDPAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		s.Exists, s.Removed, s.OwnerType = true, false, p.OwnerType
		s.KindPath, s.Kind = p.Kind, idp.Kind{}
		if k, ok := idp.ByPath(p.Kind); ok {
			s.Kind = k
		}
		s.set(p.Name, p.Options, p.Config)
	case events.IDPChanged, events.IDPSecretsResealed:
		var p events.IDPChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		s.set(p.Name, p.Options, p.Config)
	case events.IDPRemoved:
		s.Exists, s.Removed = false, true
	}
	return nil
}

// set decodes a payload's name, options and config: the only place a
// stored IdP's JSON becomes typed values.
func (s *State) set(name string, options, config json.RawMessage) {
	s.Name, s.Options, s.Config, s.ConfigErr = name, idp.Options{}, nil, nil
	if len(options) > 0 {
		if err := json.Unmarshal(options, &s.Options); err != nil {
			s.ConfigErr = fmt.Errorf("decode idp %s options: %w", s.ID, err)
		}
	}
	if s.Kind.New == nil {
		return
	}
	s.Config = s.Kind.New()
	if len(config) > 0 {
		if err := json.Unmarshal(config, s.Config); err != nil && s.ConfigErr == nil {
			s.ConfigErr = fmt.Errorf("decode idp %s config: %w", s.ID, err)
		}
	}
}
