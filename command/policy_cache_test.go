package command_test

import (
	"context"
	"testing"

	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/query"
)

// readStore counts the events a command's Loads return.
type readStore struct {
	eventstore.Store
	events int
}

func (s *readStore) Load(ctx context.Context, loads ...*eventstore.Load) error {
	err := s.Store.Load(ctx, loads...)
	for _, l := range loads {
		s.events += len(l.Events)
	}
	return err
}

// TestPolicyModelCache: a replica keeps a login policy's write model and
// reads only the events after it, so a policy's long history of IdPs added
// and removed costs nothing; and it still decides on every commit, its own
// and another replica's.
func TestPolicyModelCache(t *testing.T) {
	env := newPLEnv(t)
	idp := env.addIDP(env.org)
	if _, err := env.cmds.AddCustomLoginPolicy(env.owner(env.org), env.org, command.LoginPolicy{AllowUsernamePassword: true}); err != nil {
		t.Fatal(err)
	}
	ra, rb := &readStore{Store: env.store}, &readStore{Store: env.store}
	a := command.New(command.Deps{Store: ra, Links: query.New(env.pool)})
	b := command.New(command.Deps{Store: rb, Links: query.New(env.pool)})
	ctx := env.owner(env.org)
	add := func(c *command.Commands) error {
		_, err := c.AddIDPToLoginPolicy(ctx, env.org, idp, command.IDPOwnerOrg)
		return err
	}
	remove := func(c *command.Commands) error {
		_, err := c.RemoveIDPFromLoginPolicy(ctx, env.org, idp)
		return err
	}
	for range 15 {
		if err := add(a); err != nil {
			t.Fatal(err)
		}
		if err := remove(a); err != nil {
			t.Fatal(err)
		}
	}

	// a's next decision reads its own last event only; b, which has never
	// loaded the policy, reads all 31
	ra.events, rb.events = 0, 0
	if err := add(a); err != nil {
		t.Fatal(err)
	}
	if ra.events > 1 {
		t.Fatalf("replica a read %d policy events for a decision, want the 1 after its cached model", ra.events)
	}
	if err := remove(b); err != nil {
		t.Fatal(err)
	}
	if rb.events < 31 {
		t.Fatalf("replica b read %d events, want the policy's whole history", rb.events)
	}

	// b removed the IdP: a, whose model says it is listed, must see that
	if err := remove(a); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("a removing an IdP b removed: want NotFound, got %v", err)
	}
	if err := add(a); err != nil {
		t.Fatal(err)
	}
	if err := add(b); errs.KindOf(err) != errs.KindAlreadyExists {
		t.Fatalf("b adding an IdP a added: want AlreadyExists, got %v", err)
	}
	if err := remove(b); err != nil {
		t.Fatal(err)
	}
	if err := remove(a); errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("a removing an IdP b removed again: want NotFound, got %v", err)
	}
}
