package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"github.com/idledger/idledger/internal/config"
	"github.com/idledger/idledger/secretbox"
)

// masterKeyFile is where a generated master key lives inside the data dir.
const masterKeyFile = "masterkey"

// masterKey returns the key that seals IdP secrets: --masterkey when given,
// else the key generated into the data dir on an earlier start, else a new
// one written there (0600) with a warning — losing that file makes every
// stored IdP secret unreadable.
func masterKey(cfg config.Config, log zerolog.Logger) ([]byte, error) {
	if k, err := cfg.MasterKeyBytes(); err != nil || k != nil {
		return k, err
	}
	path := filepath.Join(cfg.DataDir, masterKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := secretbox.ParseMasterKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("master key file %s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read master key file: %w", err)
	}
	k := make([]byte, secretbox.KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	// O_EXCL: two processes starting at once must not both write a key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return masterKey(cfg, log)
	}
	if err != nil {
		return nil, fmt.Errorf("write master key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	log.Warn().Str("file", path).Msg("no --masterkey given: generated one into the data dir; back it up — without it stored IdP secrets cannot be decrypted")
	return k, nil
}
