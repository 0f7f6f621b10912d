package command_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/secretbox"
)

// testClock is a settable clock for the app.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}
func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func keyIDs(t *testing.T, cmds *command.Commands, instanceID string) map[string]command.SigningKeyState {
	t.Helper()
	set, err := cmds.KeySet(context.Background(), instanceID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]command.SigningKeyState{}
	for _, k := range set {
		if k.Algorithm != "RS256" || k.Use != "sig" || k.Key.N.BitLen() != 2048 {
			t.Fatalf("key %s: %s %s %d bits", k.ID, k.Algorithm, k.Use, k.Key.N.BitLen())
		}
		out[k.ID] = k.State
	}
	return out
}

func signVerify(t *testing.T, cmds *command.Commands, instanceID string) string {
	t.Helper()
	sk, err := cmds.SigningKey(context.Background(), instanceID)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("token"))
	sig, err := sk.Key.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	set, err := cmds.KeySet(context.Background(), instanceID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range set {
		if k.ID == sk.ID {
			if err := rsa.VerifyPKCS1v15(k.Key, crypto.SHA256, digest[:], sig); err != nil {
				t.Fatalf("signature of %s does not verify: %v", sk.ID, err)
			}
			return sk.ID
		}
	}
	t.Fatalf("signing key %s not published", sk.ID)
	return ""
}

// TestSigningKeysConcurrentEnsure: two servers on one store ensuring and
// querying keys at once generate one active and one next key.
func TestSigningKeysConcurrentEnsure(t *testing.T) {
	a := apptest.Wire(t, app.Options{Log: zerolog.Nop(), MasterKey: bytes.Repeat([]byte{7}, secretbox.KeySize)})
	b := apptest.Wire(t, app.Options{Log: zerolog.Nop(), MasterKey: bytes.Repeat([]byte{7}, secretbox.KeySize), Pool: a.Pool()})
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for i := 0; i < 8; i++ {
		cmds := a.Commands()
		if i%2 == 1 {
			cmds = b.Commands()
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var err error
			if i%4 < 2 {
				err = cmds.EnsureSigningKeys(context.Background(), testInstance)
			} else {
				_, err = cmds.SigningKey(context.Background(), testInstance)
			}
			errc <- err
		}(i)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	evs, err := a.Store().Read(context.Background(), eventstore.Filter{InstanceID: testInstance, AggregateTypes: []string{events.AggKeyPair}})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d key_pair events, want 2 (one active, one next)", len(evs))
	}
	states := keyIDs(t, b.Commands(), testInstance)
	var active, next int
	for _, s := range states {
		switch s {
		case command.SigningKeyActive:
			active++
		case command.SigningKeyNext:
			next++
		}
	}
	if active != 1 || next != 1 || len(states) != 2 {
		t.Fatalf("states = %v", states)
	}
	if signVerify(t, a.Commands(), testInstance) != signVerify(t, b.Commands(), testInstance) {
		t.Fatal("the servers sign with different keys")
	}
}

// TestSigningKeyRotation: the next key is published before it signs, the
// retired key stays published for the retention and then drops out, a
// rotation too soon after the last is refused, and another instance's keys
// are separate.
func TestSigningKeyRotation(t *testing.T) {
	clock := newTestClock()
	a := apptest.Wire(t, app.Options{Log: zerolog.Nop(), MasterKey: bytes.Repeat([]byte{7}, secretbox.KeySize), Now: clock.Now})
	cmds := a.Commands()
	ctx := context.Background()

	first := signVerify(t, cmds, testInstance)
	states := keyIDs(t, cmds, testInstance)
	var next string
	for id, s := range states {
		if s == command.SigningKeyNext {
			next = id
		}
	}
	if next == "" || states[first] != command.SigningKeyActive {
		t.Fatalf("states = %v", states)
	}

	// The next key was added just now: a rotation would activate a key a
	// cached JWKS may lack.
	_, err := cmds.RotateSigningKey(ctx, testInstance)
	wantErr(t, err, errs.KindFailedPrecondition, "COMMAND-SKey10")

	clock.Advance(command.SigningKeyMinNextAge)
	activated, err := cmds.RotateSigningKey(ctx, testInstance)
	if err != nil {
		t.Fatal(err)
	}
	if activated != next {
		t.Fatalf("activated %s, want the published next key %s", activated, next)
	}
	if got := signVerify(t, cmds, testInstance); got != next {
		t.Fatalf("signs with %s, want %s", got, next)
	}
	states = keyIDs(t, cmds, testInstance)
	if len(states) != 3 || states[first] != command.SigningKeyRetired || states[next] != command.SigningKeyActive {
		t.Fatalf("after rotation: %v", states)
	}

	// Another instance has its own keys; neither set holds the other's.
	other := keyIDs(t, cmds, "other-instance")
	for id := range other {
		if _, ok := states[id]; ok {
			t.Fatalf("key %s in both instances", id)
		}
	}
	if len(other) != 2 {
		t.Fatalf("other instance: %v", other)
	}

	// Still published just before every token of the retired key expired,
	// gone after.
	clock.Advance(command.DefaultSigningKeyRetention - time.Second)
	if _, ok := keyIDs(t, cmds, testInstance)[first]; !ok {
		t.Fatal("retired key dropped before the retention")
	}
	clock.Advance(time.Second)
	states = keyIDs(t, cmds, testInstance)
	if _, ok := states[first]; ok || len(states) != 2 {
		t.Fatalf("retired key still published after the retention: %v", states)
	}
}

// TestSigningKeysResealed: a master-key rotation reseals the signing keys;
// with the new key alone they still open and sign, and KeyUsage counts them.
func TestSigningKeysResealed(t *testing.T) {
	keyA, keyB := bytes.Repeat([]byte{7}, secretbox.KeySize), bytes.Repeat([]byte{9}, secretbox.KeySize)
	a := apptest.Wire(t, app.Options{Log: zerolog.Nop(), MasterKey: keyA})
	before := signVerify(t, a.Commands(), testInstance)
	use, err := a.Commands().KeyUsage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if use[secretbox.KeyID(keyA)] != 2 {
		t.Fatalf("usage = %v, want the 2 signing keys under key A", use)
	}

	rot := apptest.Wire(t, app.Options{Log: zerolog.Nop(), MasterKey: keyB, OldMasterKeys: [][]byte{keyA}, Pool: a.Pool()})
	n, err := rot.Commands().RotateAllKeys(context.Background(), []string{testInstance}, nil)
	if err != nil || n[testInstance] != 1 {
		t.Fatalf("rotate = %v, %v", n, err)
	}
	if n, err := rot.Commands().RotateAllKeys(context.Background(), []string{testInstance}, nil); err != nil || n[testInstance] != 0 {
		t.Fatalf("second rotate = %v, %v", n, err)
	}

	onlyB := apptest.Wire(t, app.Options{Log: zerolog.Nop(), MasterKey: keyB, Pool: a.Pool()})
	if got := signVerify(t, onlyB.Commands(), testInstance); got != before {
		t.Fatalf("signs with %s after reseal, want %s", got, before)
	}
	use, err = onlyB.Commands().KeyUsage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if use[secretbox.KeyID(keyA)] != 0 || use[secretbox.KeyID(keyB)] != 2 {
		t.Fatalf("usage after reseal = %v", use)
	}
	// Key A alone no longer opens them.
	onlyA := apptest.Wire(t, app.Options{Log: zerolog.Nop(), MasterKey: keyA, Pool: a.Pool()})
	if _, err := onlyA.Commands().SigningKey(context.Background(), testInstance); err == nil {
		t.Fatal("the old master key still opens the resealed key")
	}
}
