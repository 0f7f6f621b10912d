package command

import (
	"runtime"
	"sync"
	"testing"
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
