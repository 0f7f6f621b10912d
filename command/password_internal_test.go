package command

import (
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Password hashes never run more at once than the CPUs Go uses, however
// many checks arrive together: each holds 19 MiB while it runs.
func TestPasswordHashesBounded(t *testing.T) {
	encoded, err := hashPassword("Secr3t!pass")
	if err != nil {
		t.Fatal(err)
	}
	hashesPeak.Store(0)
	var wg sync.WaitGroup
	for i := 0; i < 4*runtime.GOMAXPROCS(0)+4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !verifyPassword(encoded, "Secr3t!pass") {
				t.Error("the right password was refused")
			}
		}()
	}
	wg.Wait()
	if peak := hashesPeak.Load(); peak < 1 || peak > int64(runtime.GOMAXPROCS(0)) {
		t.Fatalf("%d hashes ran at once, want 1..%d", peak, runtime.GOMAXPROCS(0))
	}
	if verifyPassword(encoded, "wrong") {
		t.Fatal("a wrong password was accepted")
	}
}

// A generated client secret is stored as its digest, never in the clear,
// and verifies without a password hash; a secret stored as a password hash
// before (argon2id) or imported (bcrypt) still verifies.
func TestClientSecretHashes(t *testing.T) {
	plain, stored, err := newClientSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != 64 || !strings.HasPrefix(stored, secretHashPrefix) || strings.Contains(stored, plain) {
		t.Fatalf("secret %q stored as %q", plain, stored)
	}
	before := hashesRun.Load()
	if !verifySecret(stored, plain) {
		t.Fatal("the generated secret does not verify")
	}
	if hashesRun.Load() != before {
		t.Fatal("verifying a generated secret ran a password hash")
	}
	for _, wrong := range []string{"", plain[:63], plain + "x", strings.ToUpper(plain)} {
		if wrong != plain && verifySecret(stored, wrong) {
			t.Fatalf("%q verified", wrong)
		}
	}
	legacy, err := hashPassword(plain)
	if err != nil {
		t.Fatal(err)
	}
	imported, err := bcrypt.GenerateFromPassword([]byte(plain), 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{legacy, string(imported)} {
		if !verifySecret(h, plain) || verifySecret(h, plain+"x") {
			t.Fatalf("stored %.12s…: the right secret is refused or a wrong one accepted", h)
		}
	}
	// A digest is never taken for a password hash: a user's password hash
	// cannot be the fast form.
	if verifyPassword(stored, plain) {
		t.Fatal("verifyPassword accepted a secret digest")
	}
}
