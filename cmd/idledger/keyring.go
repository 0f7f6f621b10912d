package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/idledger/idledger/internal/config"
	"github.com/idledger/idledger/secretbox"
)

// The master keys that seal IdP secrets live, without --masterkey, in the
// data dir's keyring file: every key that a stored secret may use, by key
// ID, and which one seals new secrets. A rotation adds a key there, durably,
// before anything is sealed with it, and only `keys retire` removes one,
// when no secret uses it any more (DESIGN.md §3).
const (
	keyringFile = "keyring"
	// legacyKeyFile and legacyOldKeyFile are the single-key files of earlier
	// versions; a keyring is made from them on first use, and they are kept.
	legacyKeyFile    = "masterkey"
	legacyOldKeyFile = "masterkey.old"
)

// keyringDoc is the keyring file's content.
type keyringDoc struct {
	Current string            `json:"current"` // the key ID that seals
	Keys    map[string]string `json:"keys"`    // key ID → base64 key
	// Rotating marks a rotation whose new key is current but whose re-seal
	// has not finished: `keys rotate` resumes it instead of adding a key.
	Rotating bool `json:"rotating,omitempty"`
}

// split returns the current key and the others, in key ID order.
func (d *keyringDoc) split() (current []byte, old [][]byte, err error) {
	ids := make([]string, 0, len(d.Keys))
	for id := range d.Keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		k, err := secretbox.ParseMasterKey(d.Keys[id])
		if err != nil {
			return nil, nil, fmt.Errorf("key %s: %w", id, err)
		}
		if got := secretbox.KeyID(k); got != id {
			return nil, nil, fmt.Errorf("key listed as %s has the ID %s", id, got)
		}
		if id == d.Current {
			current = k
		} else {
			old = append(old, k)
		}
	}
	if current == nil {
		return nil, nil, fmt.Errorf("the current key %q is not in the keyring", d.Current)
	}
	return current, old, nil
}

func (d *keyringDoc) add(k []byte) string {
	id := secretbox.KeyID(k)
	if d.Keys == nil {
		d.Keys = map[string]string{}
	}
	d.Keys[id] = base64.StdEncoding.EncodeToString(k)
	return id
}

// readKeyring reads the keyring file of dir; nil when there is none.
func readKeyring(dir string) (*keyringDoc, error) {
	path := filepath.Join(dir, keyringFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read keyring %s: %w", path, err)
	}
	var d keyringDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("keyring %s is not valid: %w", path, err) // never quotes the file
	}
	if _, _, err := d.split(); err != nil {
		return nil, fmt.Errorf("keyring %s: %w", path, err)
	}
	return &d, nil
}

// writeKeyring replaces the keyring file durably: a temporary file, synced,
// renamed over the old one, and the directory synced, so that after a crash
// the file is the old keyring or the new one, never a torn one. With
// exclusive it fails with os.ErrExist when a keyring exists already (two
// first starts at once must not both pick a key).
func writeKeyring(dir string, d *keyringDoc, exclusive bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, keyringFile+".*.tmp")
	if err != nil {
		return fmt.Errorf("write keyring: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) //nolint:errcheck // gone after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write keyring: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write keyring: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	path := filepath.Join(dir, keyringFile)
	if exclusive {
		err = os.Link(tmp, path) // fails when path exists
	} else {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return err
		}
		return fmt.Errorf("write keyring: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// masterKeys returns the key that seals IdP secrets and the older keys that
// still open them. With --masterkey, those are its keys (a comma-separated
// list, the first one current). Otherwise they come from the data dir's
// keyring, which is made on first use: from the key files of earlier
// versions when present, else around a new key (with a warning: without
// that file stored IdP secrets cannot be decrypted).
func masterKeys(cfg config.Config, log zerolog.Logger) (current []byte, old [][]byte, err error) {
	if cfg.MasterKey != "" {
		return config.DecodeMasterKeys(cfg.MasterKey)
	}
	for {
		d, err := readKeyring(cfg.DataDir)
		if err != nil {
			return nil, nil, err
		}
		if d != nil {
			return d.split()
		}
		d, generated, err := initialKeyring(cfg.DataDir)
		if err != nil {
			return nil, nil, err
		}
		err = writeKeyring(cfg.DataDir, d, true)
		if errors.Is(err, os.ErrExist) {
			continue // another process made it first: use that one
		}
		if err != nil {
			return nil, nil, err
		}
		path := filepath.Join(cfg.DataDir, keyringFile)
		if generated {
			log.Warn().Str("file", path).Msg("no --masterkey given: generated one into the data dir's keyring; back it up — without it stored IdP secrets cannot be decrypted")
		} else {
			log.Info().Str("file", path).Msg("made the keyring from the data dir's masterkey files")
		}
	}
}

// initialKeyring is the first keyring of dir: the legacy key files' keys,
// or a new key.
func initialKeyring(dir string) (d *keyringDoc, generated bool, err error) {
	d = &keyringDoc{}
	for i, name := range []string{legacyKeyFile, legacyOldKeyFile} {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("read master key file: %w", err)
		}
		k, err := secretbox.ParseMasterKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, false, fmt.Errorf("master key file %s: %w", path, err)
		}
		if id := d.add(k); i == 0 {
			d.Current = id
		}
	}
	if d.Current != "" {
		return d, false, nil
	}
	if len(d.Keys) > 0 {
		return nil, false, fmt.Errorf("%s exists without %s", legacyOldKeyFile, legacyKeyFile)
	}
	k := make([]byte, secretbox.KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, false, err
	}
	d.Current = d.add(k)
	return d, true, nil
}

// keyringWatcher keeps a running keyring in step with the data dir's file:
// before a seal (and when a secret names an unknown key) it looks at the
// file and, when it changed, loads it. So a `keys rotate` takes effect in a
// running serve at once, without a restart; SIGHUP forces a reload.
type keyringWatcher struct {
	dir  string
	ring *secretbox.Keyring
	log  zerolog.Logger
	mu   sync.Mutex
	seen fileStamp
}

type fileStamp struct {
	size    int64
	modNano int64
	ino     uint64
}

func stampOf(fi os.FileInfo) fileStamp {
	s := fileStamp{size: fi.Size(), modNano: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = st.Ino // a rename replaces the inode even within one mtime tick
	}
	return s
}

func newKeyringWatcher(dir string, ring *secretbox.Keyring, log zerolog.Logger) *keyringWatcher {
	w := &keyringWatcher{dir: dir, ring: ring, log: log}
	if fi, err := os.Stat(filepath.Join(dir, keyringFile)); err == nil {
		w.seen = stampOf(fi)
	}
	return w
}

// check reloads the keyring when its file changed since the last look.
func (w *keyringWatcher) check() { w.reload(false) }

func (w *keyringWatcher) reload(force bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fi, err := os.Stat(filepath.Join(w.dir, keyringFile))
	if err != nil {
		w.log.Error().Err(err).Msg("keyring: cannot read the file; keeping the keys loaded")
		return
	}
	st := stampOf(fi)
	if st == w.seen && !force {
		return
	}
	w.seen = st
	d, err := readKeyring(w.dir)
	if err == nil && d == nil {
		err = errors.New("the keyring file is gone")
	}
	var cur []byte
	var old [][]byte
	if err == nil {
		cur, old, err = d.split()
	}
	if err == nil {
		err = w.ring.Replace(cur, old...)
	}
	if err != nil {
		w.log.Error().Err(err).Msg("keyring: reload failed; keeping the keys loaded")
		return
	}
	w.log.Info().Str("current_key", w.ring.CurrentID()).Strs("keys", w.ring.IDs()).Msg("keyring reloaded")
}
