package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/config"
	"github.com/idledger/idledger/secretbox"
)

// setupKeysRotate re-seals every stored IdP secret under a new master key.
//
// With the data dir's keyring (no --masterkey) the rotation is three steps,
// each durable before the next: (1) the new key joins the keyring as its
// current key, marked rotating, before anything is sealed with it; (2)
// every IdP whose secrets are under another key gets idp.secrets.resealed;
// (3) the mark is cleared. Every key stays in the keyring, so a crash at
// any point loses nothing, and running `keys rotate` again finishes an
// unfinished rotation instead of starting another. A running serve notices
// the changed keyring before its next seal and seals with the new key.
//
// With --masterkey (a list of keys) the keys are the operator's to keep:
// --new-masterkey is required, and every replica must then run with the new
// key first in its --masterkey list.
func setupKeysRotate(fs *flag.FlagSet) runFunc {
	newKeyFlag := fs.String("new-masterkey", "", "the new 32-byte master key (base64 or 32 raw characters); env IDLEDGER_NEW_MASTERKEY; generated when empty and the keys are the data dir's keyring")
	return func(ctx context.Context, e *env, cfg config.Config, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("unexpected arguments %q", args)
		}
		raw := *newKeyFlag
		if raw == "" {
			raw = os.Getenv("IDLEDGER_NEW_MASTERKEY")
		}
		var newKey []byte
		if raw != "" {
			var err error
			if newKey, err = secretbox.ParseMasterKey(raw); err != nil {
				return fmt.Errorf("--new-masterkey: %w", err)
			}
		}
		return withPool(ctx, e, cfg, func(pool *pgxpool.Pool) error {
			if cfg.MasterKey != "" {
				return rotateFlagKeys(ctx, e, cfg, pool, newKey)
			}
			return rotateKeyring(ctx, e, cfg, pool, newKey)
		})
	}
}

// rotateKeyring is the rotation of the data dir's keyring (see
// setupKeysRotate).
func rotateKeyring(ctx context.Context, e *env, cfg config.Config, pool *pgxpool.Pool, newKey []byte) error {
	if _, _, err := masterKeys(cfg, e.log); err != nil { // makes the keyring on first use
		return err
	}
	d, err := readKeyring(cfg.DataDir)
	if err != nil {
		return err
	}
	switch {
	case d.Rotating && newKey != nil && secretbox.KeyID(newKey) != d.Current:
		return fmt.Errorf("the rotation to key %s is unfinished: run `idledger keys rotate` without --new-masterkey to finish it first", d.Current)
	case d.Rotating:
		fmt.Fprintf(e.stdout, "resuming the unfinished rotation to key %s\n", d.Current)
	default:
		if newKey == nil {
			newKey = make([]byte, secretbox.KeySize)
			if _, err := rand.Read(newKey); err != nil {
				return err
			}
		}
		if secretbox.KeyID(newKey) == d.Current {
			return errors.New("the new master key is the current one")
		}
		d.Current, d.Rotating = d.add(newKey), true
		// Step 1: the key is on disk before any secret is sealed with it.
		if err := writeKeyring(cfg.DataDir, d, false); err != nil {
			return err
		}
		crashPoint("keyring-written")
	}
	cur, old, err := d.split()
	if err != nil {
		return err
	}
	if _, err := resealAll(ctx, e, cfg, pool, cur, old); err != nil {
		return fmt.Errorf("%w (every key is still in the keyring: run `idledger keys rotate` again to finish)", err)
	}
	d.Rotating = false
	if err := writeKeyring(cfg.DataDir, d, false); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "the keyring's current key is %s; older keys stay until `idledger keys retire KEY_ID`\n", d.Current)
	return nil
}

// rotateFlagKeys re-seals under --new-masterkey, with --masterkey's keys to
// open; the keys themselves are the operator's to keep.
func rotateFlagKeys(ctx context.Context, e *env, cfg config.Config, pool *pgxpool.Pool, newKey []byte) error {
	if newKey == nil {
		return errors.New("--new-masterkey is required when the keys come from --masterkey")
	}
	cur, old, err := config.DecodeMasterKeys(cfg.MasterKey)
	if err != nil {
		return err
	}
	if secretbox.KeyID(newKey) == secretbox.KeyID(cur) {
		return errors.New("the new master key is the current one")
	}
	if _, err := resealAll(ctx, e, cfg, pool, newKey, append([][]byte{cur}, old...)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "run every replica with --masterkey set to the new key (%s) first, then the old ones, until `idledger keys retire`\n", secretbox.KeyID(newKey))
	return nil
}

// resealAll seals every stored IdP secret under cur, opening with cur or
// old, and prints what it did per instance. It returns the application it
// built with those keys.
func resealAll(ctx context.Context, e *env, cfg config.Config, pool *pgxpool.Pool, cur []byte, old [][]byte) (*app.App, error) {
	a, err := buildApp(ctx, deps{Config: cfg, Log: e.log, Pool: pool, MasterKey: cur, OldMasterKeys: old})
	if err != nil {
		return nil, err
	}
	counts, err := a.Commands().RotateAllKeys(ctx, nil, func(string, string) { crashPoint("resealed") })
	printCounts(e.stdout, counts, secretbox.KeyID(cur))
	return a, err
}

func printCounts(w io.Writer, counts map[string]int, keyID string) {
	ids := make([]string, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	total := 0
	for _, id := range ids {
		fmt.Fprintf(w, "instance %s: %d IdPs re-sealed\n", id, counts[id])
		total += counts[id]
	}
	fmt.Fprintf(w, "re-sealed %d IdPs under key %s\n", total, keyID)
}

// setupKeysRetire removes an old key once no stored secret uses it: it
// first re-seals, under the current key, whatever still uses the key (a
// secret a serve sealed before it saw the rotation), then counts again and
// refuses while any secret is left. The current key cannot be retired.
func setupKeysRetire(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env, cfg config.Config, args []string) error {
		if len(args) != 1 {
			return errors.New("name the key ID to retire, for example `idledger keys retire 1a2b3c4d` (see `keys status`)")
		}
		id := args[0]
		return withPool(ctx, e, cfg, func(pool *pgxpool.Pool) error {
			var d *keyringDoc
			var cur []byte
			var old [][]byte
			var err error
			if cfg.MasterKey != "" {
				cur, old, err = config.DecodeMasterKeys(cfg.MasterKey)
			} else {
				if d, err = readKeyring(cfg.DataDir); err == nil && d == nil {
					err = fmt.Errorf("the data dir %s has no keyring", cfg.DataDir)
				}
				if err == nil && d.Rotating {
					err = errors.New("a rotation is unfinished: run `idledger keys rotate` to finish it first")
				}
				if err == nil {
					cur, old, err = d.split()
				}
			}
			if err != nil {
				return err
			}
			if id == secretbox.KeyID(cur) {
				return fmt.Errorf("key %s is the current key: rotate to a new key first", id)
			}
			known := false
			for _, k := range old {
				known = known || secretbox.KeyID(k) == id
			}
			if !known {
				return fmt.Errorf("key %s is not among the keys (%s)", id, keyIDs(cur, old))
			}
			a, err := resealAll(ctx, e, cfg, pool, cur, old)
			if err != nil {
				return err
			}
			use, err := a.Commands().KeyUsage(ctx)
			if err != nil {
				return err
			}
			if n := use[id]; n > 0 {
				return fmt.Errorf("key %s still seals %d secrets: run `idledger keys retire %s` again", id, n, id)
			}
			if d == nil {
				fmt.Fprintf(e.stdout, "no secret uses key %s: drop it from every replica's --masterkey list\n", id)
				return nil
			}
			delete(d.Keys, id)
			if err := writeKeyring(cfg.DataDir, d, false); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "retired key %s; the keyring holds %s\n", id, keyIDs(cur, removeKey(old, id)))
			return nil
		})
	}
}

// runKeysStatus prints the key IDs and how many secrets each seals.
func runKeysStatus(ctx context.Context, e *env, cfg config.Config, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	return withPool(ctx, e, cfg, func(pool *pgxpool.Pool) error {
		cur, old, err := masterKeys(cfg, e.log)
		if err != nil {
			return err
		}
		a, err := buildApp(ctx, deps{Config: cfg, Log: e.log, Pool: pool, MasterKey: cur, OldMasterKeys: old})
		if err != nil {
			return err
		}
		return printKeyStatus(ctx, e.stdout, a, cfg)
	})
}

func printKeyStatus(ctx context.Context, w io.Writer, a *app.App, cfg config.Config) error {
	use, err := a.Commands().KeyUsage(ctx)
	if err != nil {
		return err
	}
	if cfg.MasterKey == "" {
		if d, err := readKeyring(cfg.DataDir); err == nil && d != nil && d.Rotating {
			fmt.Fprintln(w, "a rotation is unfinished: run `idledger keys rotate` to finish it")
		}
	}
	for i, id := range a.Keys().IDs() {
		role := "old"
		if i == 0 {
			role = "current"
		}
		fmt.Fprintf(w, "%s  %-7s  %d secrets\n", id, role, use[id])
	}
	return nil
}

func keyIDs(cur []byte, old [][]byte) string {
	s := secretbox.KeyID(cur) + " (current)"
	for _, k := range old {
		s += ", " + secretbox.KeyID(k)
	}
	return s
}

func removeKey(keys [][]byte, id string) [][]byte {
	var out [][]byte
	for _, k := range keys {
		if secretbox.KeyID(k) != id {
			out = append(out, k)
		}
	}
	return out
}
