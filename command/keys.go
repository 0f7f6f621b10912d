package command

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/secretbox"
)

// RotateKeys re-encrypts the sealed secrets of every live IdP of instanceID
// under the keyring's current key and records each IdP's new ciphertexts as
// one idp.secrets.resealed event, then the private keys of the instance's
// OP signing keys as key_pair.resealed events (counted as one more). The keyring must also hold the keys the
// secrets were sealed with (the old master key during a rotation). IdPs
// whose secrets are all under the current key already, and removed IdPs,
// are left alone, so running it twice writes nothing the second time.
//
// The events of the past keep their old ciphertexts: the event log is
// append-only. What reads secrets (the write model of updates) folds to the
// latest event, so after a rotation the old key is no longer needed.
//
// Errors: Internal (COMMAND-Key01…) when the store cannot be read, a stored
// secret does not parse or does not open with any key of the keyring
// (wrong or missing old key, tampered event), or an append fails; Aborted
// when concurrent writes to one IdP keep winning. rotated counts the IdPs
// resealed before the error.
func (c *Commands) RotateKeys(ctx context.Context, instanceID string) (rotated int, err error) {
	return c.rotateKeys(ctx, instanceID, nil)
}

func (c *Commands) rotateKeys(ctx context.Context, instanceID string, resealed func(idpID string)) (rotated int, err error) {
	if c.keys == nil {
		return 0, errs.Internal("COMMAND-Key00", errors.New("no keyring to reseal idp secrets with"))
	}
	ids, err := c.liveIDPs(ctx, instanceID)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		done, err := c.resealIDP(ctx, instanceID, id)
		if err != nil {
			return rotated, err
		}
		if done {
			rotated++
			if resealed != nil {
				resealed(id)
			}
		}
	}
	// The OP's signing keys of the instance count as one more resealed
	// aggregate, named by its type.
	done, err := c.resealSigningKeys(ctx, instanceID)
	if err != nil {
		return rotated, err
	}
	if done {
		rotated++
		if resealed != nil {
			resealed(events.AggKeyPair)
		}
	}
	return rotated, nil
}

// RotateAllKeys runs RotateKeys for each of instanceIDs, or for every
// instance of the store when instanceIDs is empty. It stops at the first
// error and returns the IdPs resealed per instance so far. resealed, when
// set, is told of each IdP once its idp.secrets.resealed is committed.
//
// Errors: as RotateKeys; Internal (COMMAND-Key05) when the instances cannot
// be listed.
func (c *Commands) RotateAllKeys(ctx context.Context, instanceIDs []string, resealed func(instanceID, idpID string)) (map[string]int, error) {
	if len(instanceIDs) == 0 {
		var err error
		if instanceIDs, err = c.instanceIDs(ctx); err != nil {
			return nil, err
		}
	}
	out := make(map[string]int, len(instanceIDs))
	for _, id := range instanceIDs {
		var hook func(string)
		if resealed != nil {
			hook = func(idpID string) { resealed(id, idpID) }
		}
		n, err := c.rotateKeys(ctx, id, hook)
		out[id] = n
		if err != nil {
			return out, fmt.Errorf("instance %s: %w", id, err)
		}
	}
	return out, nil
}

// instanceIDs lists every instance in the order they were created, and
// any other instance ID that holds signing keys (so that no sealed key is
// missed by a rotation or KeyUsage).
func (c *Commands) instanceIDs(ctx context.Context) ([]string, error) {
	if err := c.readBarrier(ctx); err != nil {
		return nil, err
	}
	evs, err := c.store.Read(ctx, eventstore.Filter{EventTypes: []string{events.InstanceAdded, events.KeyPairAdded}})
	if err != nil {
		return nil, errs.Internal("COMMAND-Key05", fmt.Errorf("list instances: %w", err))
	}
	var ids []string
	seen := map[string]bool{}
	for i := range evs {
		// The prefix filter also matches longer names (instance.added.x).
		if id := evs[i].InstanceID; (evs[i].Type == events.InstanceAdded || evs[i].Type == events.KeyPairAdded) && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// liveIDPs lists the IdPs of an instance that were added and not removed,
// from the events (not the read table, which a rebuild may be swapping).
func (c *Commands) liveIDPs(ctx context.Context, instanceID string) ([]string, error) {
	if err := c.readBarrier(ctx); err != nil {
		return nil, err
	}
	evs, err := c.store.Read(ctx, eventstore.Filter{
		InstanceID:     instanceID,
		AggregateTypes: []string{events.AggIDP},
		EventTypes:     []string{events.IDPAdded, events.IDPRemoved},
	})
	if err != nil {
		return nil, errs.Internal("COMMAND-Key01", fmt.Errorf("list idps of instance %s: %w", instanceID, err))
	}
	live := map[string]bool{}
	var order []string
	for i := range evs {
		switch id := evs[i].AggregateID; evs[i].Type {
		case events.IDPAdded:
			if _, known := live[id]; !known {
				order = append(order, id)
			}
			live[id] = true
		case events.IDPRemoved:
			live[id] = false
		}
	}
	var ids []string
	for _, id := range order {
		if live[id] {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// resealIDP appends idp.secrets.resealed for one IdP when any of its
// secrets is sealed under a key other than the current one. The decision is
// made again on fresh state after a concurrent write (an update may have
// sealed a new secret meanwhile).
func (c *Commands) resealIDP(ctx context.Context, instanceID, id string) (bool, error) {
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		m, err := c.loadIDP(ctx, instanceID, id)
		if err != nil {
			return eventstore.Append{}, err
		}
		if !m.Exists {
			return eventstore.Append{}, eventstore.ErrNothingToDo
		}
		cfg, secrets, err := sealedSecrets(m, instanceID, id)
		if err != nil {
			return eventstore.Append{}, err
		}
		changed := false
		for _, sec := range secrets {
			resealed, err := c.keys.Reseal(sec.sealed, sec.aad)
			if err != nil {
				return eventstore.Append{}, errs.Internal("COMMAND-Key04",
					fmt.Errorf("idp %s: reseal secret %s (sealed with key %s): %w", id, sec.aad.Field, sec.sealed.KeyID, err))
			}
			if resealed.KeyID != sec.sealed.KeyID {
				*sec.value = resealed.Text()
				changed = true
			}
		}
		if !changed {
			return eventstore.Append{}, eventstore.ErrNothingToDo
		}
		return m.change(events.IDPSecretsResealed, m.KindPath, m.Name, m.Options, cfg)
	})
	if err != nil {
		return false, err
	}
	return len(evs) > 0, nil
}

// KeyUsage counts, per key ID, the IdP secrets and OP signing keys of every
// instance that are sealed under that key now (the latest state of each live IdP). A key with
// no count is used by no secret and may be retired.
//
// Errors: Internal as for RotateKeys.
func (c *Commands) KeyUsage(ctx context.Context) (map[string]int, error) {
	instances, err := c.instanceIDs(ctx)
	if err != nil {
		return nil, err
	}
	use := map[string]int{}
	for _, inst := range instances {
		if err := c.signingKeyUsage(ctx, inst, use); err != nil {
			return nil, err
		}
		ids, err := c.liveIDPs(ctx, inst)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			m, err := c.loadIDP(ctx, inst, id)
			if err != nil {
				return nil, err
			}
			if !m.Exists {
				continue
			}
			_, secrets, err := sealedSecrets(m, inst, id)
			if err != nil {
				return nil, err
			}
			for _, sec := range secrets {
				use[sec.sealed.KeyID]++
			}
		}
	}
	return use, nil
}

// sealedSecret is one set secret of an IdP's config: where it is (value, so
// that a re-seal can replace it), what it is bound to, and its ciphertext.
type sealedSecret struct {
	value  *string
	aad    secretbox.AAD
	sealed secretbox.Sealed
}

// sealedSecrets decodes the config of IdP model m and returns it with its
// set secrets, each parsed as a sealed value.
//
// Errors: Internal COMMAND-Key02 (unknown kind), COMMAND-Key03 (a secret
// that is not a sealed value; only its field is named, since it may be a
// plaintext that predates sealing and must not reach a log); the decode's.
func sealedSecrets(m *idpModel, instanceID, id string) (idp.Config, []sealedSecret, error) {
	kind, ok := idp.ByPath(m.KindPath)
	if !ok {
		return nil, nil, errs.Internal("COMMAND-Key02", fmt.Errorf("idp %s: unknown kind %q", id, m.KindPath))
	}
	cfg, err := m.decodeConfig(kind)
	if err != nil {
		return nil, nil, err
	}
	var out []sealedSecret
	for _, sec := range idp.Secrets(cfg) {
		if *sec.Value == "" {
			continue
		}
		sealed, err := secretbox.ParseSealed(*sec.Value)
		if err != nil {
			return nil, nil, errs.Internal("COMMAND-Key03",
				fmt.Errorf("idp %s: secret %s is not a sealed value: %w", id, sec.Field, err))
		}
		out = append(out, sealedSecret{value: sec.Value, sealed: sealed,
			aad: secretbox.AAD{InstanceID: instanceID, IDPID: id, Field: sec.Field}})
	}
	return cfg, out, nil
}

// readBarrier makes a following one-shot Read see everything committed
// before it, even while an unrelated transaction holds the read horizon.
func (c *Commands) readBarrier(ctx context.Context) error {
	if err := c.store.Barrier(ctx, 5*time.Second); err != nil {
		return errs.Internal("COMMAND-Key07", err)
	}
	return nil
}
