package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idledger/idledger/internal/config"
	"github.com/idledger/idledger/secretbox"
)

// setupKeysRotate re-seals every stored IdP secret under a new master key,
// as events. The current key (--masterkey, or the data dir's key file) is
// used only to open secrets during the rotation. When the current key lives
// in the data dir and no --new-masterkey is given, a new key is generated
// and, after the rotation, replaces the file (the old one is kept beside it
// as masterkey.old until you remove it).
func setupKeysRotate(fs *flag.FlagSet) runFunc {
	newKeyFlag := fs.String("new-masterkey", "", "the new 32-byte master key (base64 or 32 raw characters); env IDLEDGER_NEW_MASTERKEY; generated when empty and the current key is the data dir's")
	return func(ctx context.Context, e *env, cfg config.Config, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("unexpected arguments %q", args)
		}
		raw := *newKeyFlag
		if raw == "" {
			raw = os.Getenv("IDLEDGER_NEW_MASTERKEY")
		}
		return withPool(ctx, e, cfg, func(pool *pgxpool.Pool) error {
			oldKey, err := masterKey(cfg, e.log)
			if err != nil {
				return err
			}
			fileMode := cfg.MasterKey == ""
			var newKey []byte
			switch {
			case raw != "":
				if newKey, err = secretbox.ParseMasterKey(raw); err != nil {
					return fmt.Errorf("--new-masterkey: %w", err)
				}
			case fileMode:
				newKey = make([]byte, secretbox.KeySize)
				if _, err := rand.Read(newKey); err != nil {
					return err
				}
			default:
				return errors.New("--new-masterkey is required when the current key comes from --masterkey")
			}
			if secretbox.KeyID(newKey) == secretbox.KeyID(oldKey) {
				return errors.New("the new master key is the current one")
			}
			a, err := buildApp(ctx, deps{Config: cfg, Log: e.log, Pool: pool, MasterKey: newKey, OldMasterKeys: [][]byte{oldKey}})
			if err != nil {
				return err
			}
			counts, err := a.Commands().RotateAllKeys(ctx, nil)
			if err != nil {
				return err
			}
			ids := make([]string, 0, len(counts))
			for id := range counts {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			total := 0
			for _, id := range ids {
				fmt.Fprintf(e.stdout, "instance %s: %d IdPs re-sealed\n", id, counts[id])
				total += counts[id]
			}
			fmt.Fprintf(e.stdout, "re-sealed %d IdPs under key %s\n", total, secretbox.KeyID(newKey))
			if fileMode {
				return replaceKeyFile(cfg.DataDir, oldKey, newKey)
			}
			fmt.Fprintln(e.stdout, "restart every replica with the new --masterkey")
			return nil
		})
	}
}

// replaceKeyFile writes newKey to the data dir's key file, keeping the old
// key as masterkey.old (0600), so backups taken before the rotation stay
// readable. The rename makes the swap atomic.
func replaceKeyFile(dir string, oldKey, newKey []byte) error {
	path := filepath.Join(dir, masterKeyFile)
	write := func(p string, k []byte) error {
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
			return err
		}
		return os.Rename(tmp, p)
	}
	if err := write(path+".old", oldKey); err != nil {
		return fmt.Errorf("keep the old master key: %w", err)
	}
	if err := write(path, newKey); err != nil {
		return fmt.Errorf("write the new master key: %w", err)
	}
	return nil
}
