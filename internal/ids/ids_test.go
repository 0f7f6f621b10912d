package ids

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/sony/sonyflake"
)

func TestUniqueAcrossGoroutines(t *testing.T) {
	f, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 2000
	var (
		mu   sync.Mutex
		seen = make(map[string]bool, goroutines*each)
		wg   sync.WaitGroup
	)
	errc := make(chan error, goroutines)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]string, 0, each)
			for range each {
				id, err := f.Next()
				if err != nil {
					errc <- err
					return
				}
				local = append(local, id)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, id := range local {
				if seen[id] {
					errc <- errors.New("duplicate ID " + id)
					return
				}
				seen[id] = true
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if len(seen) != goroutines*each {
		t.Fatalf("got %d IDs, want %d", len(seen), goroutines*each)
	}
}

func TestDecimalAndConfiguredMachineID(t *testing.T) {
	m := uint16(4711)
	f, err := New(&m)
	if err != nil {
		t.Fatal(err)
	}
	if f.MachineID() != m || f.MachineIDSource() != "configured" {
		t.Fatalf("machine %d from %q", f.MachineID(), f.MachineIDSource())
	}
	prev := uint64(0)
	for range 300 { // more than one 10 ms tick's worth of sequence numbers
		id, err := f.Next()
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil || strconv.FormatUint(n, 10) != id {
			t.Fatalf("%q is not a canonical decimal", id)
		}
		if sonyflake.MachineID(n) != uint64(m) {
			t.Fatalf("ID %s carries machine %d", id, sonyflake.MachineID(n))
		}
		if n <= prev {
			t.Fatalf("IDs of one generator must increase: %d after %d", n, prev)
		}
		prev = n
		if len(id) < 17 || len(id) > 19 {
			t.Fatalf("ID %s has %d digits, want ZITADEL-like 17-19", id, len(id))
		}
	}
}

func addrs(cidrs ...string) func() ([]net.Addr, error) {
	return func() ([]net.Addr, error) {
		var out []net.Addr
		for _, c := range cidrs {
			ip, n, err := net.ParseCIDR(c)
			if err != nil {
				panic(err)
			}
			n.IP = ip
			out = append(out, n)
		}
		return out, nil
	}
}

func TestDerive(t *testing.T) {
	host := func() (string, error) { return "node-a", nil }

	id, src := derive(addrs("127.0.0.1/8", "192.0.2.2/24", "10.1.2.3/8", "192.168.9.9/16"), host, 1)
	if id != 2<<8|3 || src != "private IPv4 10.1.2.3" {
		t.Fatalf("private IP: got %d from %q", id, src)
	}

	// No private address (loopback and TEST-NET only): hash of host and pid.
	a, srcA := derive(addrs("127.0.0.1/8", "192.0.2.2/24"), host, 100)
	b, _ := derive(addrs("127.0.0.1/8", "192.0.2.2/24"), host, 101)
	again, _ := derive(addrs(), host, 100)
	if a == b {
		t.Errorf("pids 100 and 101 derived the same machine ID %d", a)
	}
	if a != again {
		t.Errorf("derivation is not deterministic: %d vs %d", a, again)
	}
	if srcA != `hash of hostname "node-a" and pid 100` {
		t.Errorf("source %q", srcA)
	}

	failing := func() ([]net.Addr, error) { return nil, errors.New("no interfaces") }
	noHost := func() (string, error) { return "", errors.New("no hostname") }
	if _, src := derive(failing, noHost, 7); src != `hash of hostname "" and pid 7` {
		t.Errorf("source %q", src)
	}
}
