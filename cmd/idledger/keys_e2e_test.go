package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/internal/pgtest"
	"github.com/idledger/idledger/secretbox"
)

// TestKeysRotateCrashAtEveryStep kills `keys rotate` (SIGKILL, through the
// crash points of the test build) right after each of its steps: the new
// keyring written, each IdP re-sealed. After every crash, every IdP secret
// still opens with the keyring on disk and has its original value; a second
// `keys rotate` finishes the same rotation instead of starting another.
// Before the keyring, a failure after the first re-seal left secrets under
// a key that was written nowhere.
func TestKeysRotateCrashAtEveryStep(t *testing.T) {
	dbURL := pgtest.URL(t)
	dataDir := t.TempDir()
	db := []string{"--database-url", dbURL, "--data-dir", dataDir, "--log-format", "json"}
	p := startIdledger(t, append([]string{"serve", "--listen", "127.0.0.1:0"}, db...)...)
	base, _ := p.waitHealthy(t, startTimeout)
	pat, err := os.ReadFile(filepath.Join(dataDir, "admin.pat"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(pat))
	secrets := map[string]string{} // IdP ID → client secret
	for i := range 3 {
		secret := fmt.Sprintf("crash-test-secret-%d", i)
		st, body := call(t, "POST", base+"/admin/v1/idps/google", token, "", `{"name":"g`+fmt.Sprint(i)+`","clientId":"cid","clientSecret":"`+secret+`"}`)
		if st != 200 {
			t.Fatalf("create IdP: %d %s", st, body)
		}
		var r struct{ ID string }
		if err := json.Unmarshal(body, &r); err != nil || r.ID == "" {
			t.Fatalf("create IdP: %s", body)
		}
		secrets[r.ID] = secret
	}
	// The store alone from here: no serve seals meanwhile.
	p.signalAndWait(t, 15, 10*time.Second)

	for round, point := range []string{"keyring-written", "resealed:1", "resealed:2", "resealed:3"} {
		start, err := readKeyring(dataDir)
		if err != nil || start == nil {
			t.Fatalf("keyring: %v", err)
		}
		c := startIdledgerEnv(t, []string{"IDLEDGER_CRASH_AT=" + point}, append([]string{"keys", "rotate"}, db...)...)
		<-c.done
		if code := c.exitCode(t); code != -1 {
			t.Fatalf("%s: keys rotate was not killed (exit %d)\n%s%s", point, code, c.stdout.String(), c.stderr.String())
		}
		crashed, err := readKeyring(dataDir)
		if err != nil || !crashed.Rotating || len(crashed.Keys) != len(start.Keys)+1 {
			t.Fatalf("%s: keyring after the crash: %+v, %v", point, crashed, err)
		}
		assertSecretsOpen(t, dbURL, dataDir, secrets, point+", crashed")

		code, out, errOut := runIdledger(t, append([]string{"keys", "rotate"}, db...)...)
		if code != 0 || !strings.Contains(out, "resuming the unfinished rotation to key "+crashed.Current) {
			t.Fatalf("%s: resume: exit %d\n%s%s", point, code, out, errOut)
		}
		done, err := readKeyring(dataDir)
		if err != nil || done.Rotating || done.Current != crashed.Current || len(done.Keys) != len(crashed.Keys) {
			t.Fatalf("%s: keyring after the resume: %+v, %v", point, done, err)
		}
		assertSecretsOpen(t, dbURL, dataDir, secrets, point+", resumed")
		use := sealedKeyIDs(t, dbURL)
		for id, keyID := range use {
			if keyID != done.Current {
				t.Errorf("round %d: IdP %s still sealed with %s after the resume, want %s", round, id, keyID, done.Current)
			}
		}
	}
}

// latestSecrets reads, from the events, each IdP's sealed client secret as
// its latest event holds it.
func latestSecrets(t *testing.T, dbURL string) map[string]struct{ instance, sealed string } {
	t.Helper()
	ctx := context.Background()
	conn := dbConn(t, dbURL)
	rows, err := conn.Query(ctx, `SELECT DISTINCT ON (aggregate_id) instance_id, aggregate_id, payload->'config'->>'clientSecret'
        FROM events WHERE aggregate_type = 'idp' AND payload ? 'config' ORDER BY aggregate_id, sequence DESC`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]struct{ instance, sealed string }{}
	for rows.Next() {
		var inst, id string
		var sealed *string
		if err := rows.Scan(&inst, &id, &sealed); err != nil {
			t.Fatal(err)
		}
		if sealed != nil {
			out[id] = struct{ instance, sealed string }{inst, *sealed}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// assertSecretsOpen opens every IdP secret with the keyring on disk and
// compares it with what was stored.
func assertSecretsOpen(t *testing.T, dbURL, dataDir string, want map[string]string, when string) {
	t.Helper()
	d, err := readKeyring(dataDir)
	if err != nil || d == nil {
		t.Fatalf("%s: keyring: %v", when, err)
	}
	cur, old, err := d.split()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := secretbox.NewKeyring(cur, old...)
	if err != nil {
		t.Fatal(err)
	}
	got := latestSecrets(t, dbURL)
	for id, secret := range want {
		s, ok := got[id]
		if !ok {
			t.Fatalf("%s: IdP %s has no secret in the events", when, id)
		}
		sealed, err := secretbox.ParseSealed(s.sealed)
		if err != nil {
			t.Fatalf("%s: IdP %s: %v", when, id, err)
		}
		pt, err := ring.Open(sealed, secretbox.AAD{InstanceID: s.instance, IDPID: id, Field: "clientSecret"})
		if err != nil || pt != secret {
			t.Fatalf("%s: IdP %s secret sealed with key %s does not open with the keyring on disk: %v", when, id, sealed.KeyID, err)
		}
	}
}

func sealedKeyIDs(t *testing.T, dbURL string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for id, s := range latestSecrets(t, dbURL) {
		sealed, err := secretbox.ParseSealed(s.sealed)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = sealed.KeyID
	}
	return out
}
