package command_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/internal/ids"
	"github.com/idledger/idledger/projection"
	"github.com/idledger/idledger/query"
	"github.com/idledger/idledger/secretbox"
)

func keyring(t *testing.T, current []byte, old ...[]byte) *secretbox.Keyring {
	t.Helper()
	k, err := secretbox.NewKeyring(current, old...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRotateKeys: every secret of every live IdP moves from key A to key B
// as idp.secrets.resealed events; afterwards key B alone suffices for
// updates that keep the stored secret and for a projection rebuild, and the
// read table still holds no secret.
func TestRotateKeys(t *testing.T) {
	env := newIDPEnv(t) // its keyring (key 7…7) is key A
	keyA, keyB := bytes.Repeat([]byte{7}, secretbox.KeySize), bytes.Repeat([]byte{9}, secretbox.KeySize)
	ctx := iamOwner()

	var live []string // IdPs whose secrets must move
	kinds := map[string]idp.Kind{}
	for _, owner := range []command.IDPOwnerRef{systemOwner, orgOwnerRef} {
		for _, kind := range idp.Kinds() {
			d, err := env.cmds.AddIDP(ctx, owner, tplOf(t, kind.Path, idpBodies[kind.Path]))
			if err != nil {
				t.Fatalf("add %s: %v", kind.Path, err)
			}
			kinds[d.ID] = kind
			if len(idp.Secrets(kind.New())) > 0 && hasSecret(t, env, kind, d.ID) {
				live = append(live, d.ID)
			}
		}
	}
	removed, err := env.cmds.AddIDP(ctx, systemOwner, tplOf(t, "google", idpBodies["google"]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.cmds.RemoveIDP(ctx, systemOwner, removed.ID); err != nil {
		t.Fatal(err)
	}
	if len(live) < 10 {
		t.Fatalf("only %d IdPs with secrets", len(live))
	}
	before := idpRows(t, env)

	newCmds := func(k *secretbox.Keyring) *command.Commands {
		machine := uint16(2)
		flake, err := ids.New(&machine)
		if err != nil {
			t.Fatal(err)
		}
		return command.New(command.Deps{Store: env.store, IDs: flake, Keys: k, Links: query.New(env.pool)})
	}

	// Key B without the old key cannot open the secrets: nothing is written.
	if n, err := newCmds(keyring(t, keyB)).RotateKeys(context.Background(), testInstance); err == nil ||
		errs.KindOf(err) != errs.KindInternal || n != 0 {
		t.Fatalf("rotation without the old key = %d, %v", n, err)
	}
	if got := resealedCount(t, env); got != 0 {
		t.Fatalf("%d resealed events after a failed rotation", got)
	}

	rot := newCmds(keyring(t, keyB, keyA))
	n, err := rot.RotateKeys(context.Background(), testInstance)
	if err != nil || n != len(live) {
		t.Fatalf("RotateKeys = %d, %v; want %d", n, err, len(live))
	}
	if n, err := rot.RotateKeys(context.Background(), testInstance); err != nil || n != 0 {
		t.Fatalf("second RotateKeys = %d, %v; want 0", n, err)
	}
	if got, err := rot.RotateAllKeys(context.Background(), nil, nil); err != nil || got[testInstance] != 0 {
		t.Fatalf("RotateAllKeys = %v, %v", got, err)
	}
	if got := resealedCount(t, env); got != len(live) {
		t.Fatalf("%d resealed events, want %d", got, len(live))
	}
	if got := idpRows(t, env); !rowsEqualButVersion(before, got) {
		t.Fatalf("public view changed by the rotation:\nbefore %v\nafter  %v", before, got)
	}

	// From now on only key B exists.
	onlyB := keyring(t, keyB)
	for _, id := range live {
		kind := kinds[id]
		m := latestConfig(t, env, id)
		cfg := kind.New()
		if err := json.Unmarshal(m, cfg); err != nil {
			t.Fatal(err)
		}
		for _, sec := range idp.Secrets(cfg) {
			s, err := secretbox.ParseSealed(*sec.Value)
			if err != nil || s.KeyID != secretbox.KeyID(keyB) {
				t.Fatalf("idp %s %s: key %q, %v", id, sec.Field, s.KeyID, err)
			}
			pt, err := onlyB.Open(s, secretbox.AAD{InstanceID: testInstance, IDPID: id, Field: sec.Field})
			generated := sec.Field == "spKey" && strings.HasPrefix(pt, "-----BEGIN RSA PRIVATE KEY-----")
			if err != nil || !slices.Contains(idpSecrets, pt) && !generated {
				t.Fatalf("idp %s %s does not open under key B: %v", id, sec.Field, err)
			}
		}
	}
	cmdsB := newCmds(onlyB)
	for _, id := range live {
		kind := kinds[id]
		owner := systemOwner
		if ownerOf(t, env, id) == testOrg {
			owner = orgOwnerRef
		}
		body := setJSON(t, idpBodies[kind.Path], "name", "After rotation")
		for _, s := range idp.Secrets(kind.New()) {
			body = setJSON(t, body, s.Field, "")
		}
		if _, err := cmdsB.UpdateIDP(ctx, owner, id, tplOf(t, kind.Path, body)); err != nil {
			t.Fatalf("update %s (%s) under key B: %v", id, kind.Path, err)
		}
		// Sending the stored secret again is recognised as unchanged, which
		// needs it to open under key B.
		full := setJSON(t, idpBodies[kind.Path], "name", "After rotation")
		seqBefore := len(idpEvents(t, env, id))
		if _, err := cmdsB.UpdateIDP(ctx, owner, id, tplOf(t, kind.Path, full)); err != nil {
			t.Fatal(err)
		}
		if got := len(idpEvents(t, env, id)); got != seqBefore {
			t.Fatalf("idp %s: repeating the stored secret wrote an event", id)
		}
	}

	// A rebuild replays added, changed and resealed events to the same rows.
	live1 := idpRows(t, env)
	reg := projection.NewRegistry(projection.All()...)
	if err := projection.Rebuild(context.Background(), env.pool, env.store, reg, []string{"idps"}, nil); err != nil {
		t.Fatalf("rebuild after rotation: %v", err)
	}
	if got := idpRows(t, env); !slices.Equal(live1, got) {
		t.Fatalf("rebuild changed the rows:\nlive    %v\nrebuilt %v", live1, got)
	}
	for _, row := range idpRows(t, env) {
		for _, s := range idpSecrets {
			if strings.Contains(row, s) {
				t.Fatalf("read table holds a secret: %s", row)
			}
		}
	}
}

func hasSecret(t *testing.T, env *idpEnv, kind idp.Kind, id string) bool {
	cfg := kind.New()
	if err := json.Unmarshal(latestConfig(t, env, id), cfg); err != nil {
		t.Fatal(err)
	}
	for _, s := range idp.Secrets(cfg) {
		if *s.Value != "" {
			return true
		}
	}
	return false
}

// latestConfig is the config of the IdP's last added/changed/resealed event.
func latestConfig(t *testing.T, env *idpEnv, id string) json.RawMessage {
	t.Helper()
	var cfg json.RawMessage
	for _, e := range idpEvents(t, env, id) {
		var p struct {
			Config json.RawMessage `json:"config"`
		}
		if e.Type != events.IDPRemoved {
			if err := e.Unmarshal(&p); err != nil {
				t.Fatal(err)
			}
			cfg = p.Config
		}
	}
	return cfg
}

func ownerOf(t *testing.T, env *idpEnv, id string) string {
	t.Helper()
	return idpEvents(t, env, id)[0].ResourceOwner
}

func resealedCount(t *testing.T, env *idpEnv) int {
	t.Helper()
	_ = env.store.Barrier(context.Background(), 5*time.Second) // a one-shot read follows
	evs, err := env.store.Read(context.Background(), eventstore.Filter{InstanceID: testInstance,
		EventTypes: []string{events.IDPSecretsResealed}})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// idpRows renders the read table, one string per row, in ID order.
func idpRows(t *testing.T, env *idpEnv) []string {
	t.Helper()
	rows, err := env.pool.Query(context.Background(), `SELECT row_to_json(i)::text FROM idps i ORDER BY instance_id, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rowsEqualButVersion compares rows without sequence and change_date, which
// a resealed event moves on like any other event of the aggregate.
func rowsEqualButVersion(a, b []string) bool {
	strip := func(rows []string) []string {
		var out []string
		for _, r := range rows {
			var m map[string]any
			_ = json.Unmarshal([]byte(r), &m)
			delete(m, "sequence")
			delete(m, "change_date")
			s, _ := json.Marshal(m)
			out = append(out, string(s))
		}
		return out
	}
	return slices.Equal(strip(a), strip(b))
}
