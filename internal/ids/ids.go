package ids

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/sony/sonyflake"
)

// Generator hands out unique IDs. Commands depend on this interface so that
// tests can pin IDs.
type Generator interface {
	Next() (string, error)
}

var _ Generator = (*Flake)(nil)

// epoch is the zero of the IDs' 39-bit time field (10 ms units, about 174
// years of range). Changing it could reissue old IDs: never change it.
var epoch = time.Date(2019, 4, 29, 0, 0, 0, 0, time.UTC)

// Flake is a sonyflake Generator. It is safe for concurrent use.
type Flake struct {
	sf      *sonyflake.Sonyflake
	machine uint16
	source  string
}

// New returns a generator for machineID, or for a derived machine ID when
// machineID is nil:
//
//  1. the lower 16 bits of the first private IPv4 address (10/8, 172.16/12,
//     192.168/16) of a non-loopback interface, as sonyflake does by default.
//     It is stable across restarts and unique among hosts of one /16, which
//     fits one container or VM per replica. Two processes on the same host
//     get the same ID, and so do hosts in different /16s that share the
//     lower 16 bits: configure --machine-id there.
//  2. otherwise a 16-bit FNV-1a hash of hostname and process ID. It differs
//     between processes on one host, but two processes anywhere collide with
//     probability 1/65536 per pair (about 1% among 36 processes).
//
// A collision only matters when both processes create IDs within the same
// 10 ms with the same sequence number; even so, an explicit machine ID per
// process is the only guarantee.
func New(machineID *uint16) (*Flake, error) {
	id, source := uint16(0), "configured"
	if machineID != nil {
		id = *machineID
	} else {
		id, source = derive(net.InterfaceAddrs, os.Hostname, os.Getpid())
	}
	sf, err := sonyflake.New(sonyflake.Settings{
		StartTime: epoch,
		MachineID: func() (uint16, error) { return id, nil },
	})
	if err != nil {
		return nil, fmt.Errorf("ids: create sonyflake: %w", err)
	}
	return &Flake{sf: sf, machine: id, source: source}, nil
}

// Next returns a new ID as a decimal string. It fails only when the clock is
// beyond the generator's 174-year range.
func (f *Flake) Next() (string, error) {
	n, err := f.sf.NextID()
	if err != nil {
		return "", fmt.Errorf("ids: next: %w", err)
	}
	return strconv.FormatUint(n, 10), nil
}

// MachineID is the machine ID embedded in every ID.
func (f *Flake) MachineID() uint16 { return f.machine }

// MachineIDSource says where the machine ID came from: "configured",
// "private IPv4 a.b.c.d" or "hash of hostname h and pid p". serve logs it.
func (f *Flake) MachineIDSource() string { return f.source }

// derive implements New's fallback chain; its inputs are injected for tests.
func derive(addrs func() ([]net.Addr, error), hostname func() (string, error), pid int) (uint16, string) {
	if ip, err := privateIPv4(addrs); err == nil {
		return uint16(ip[2])<<8 | uint16(ip[3]), "private IPv4 " + ip.String()
	}
	host, err := hostname()
	if err != nil {
		host = ""
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%s\x00%d", host, pid)
	sum := h.Sum32()
	return uint16(sum>>16) ^ uint16(sum), fmt.Sprintf("hash of hostname %q and pid %d", host, pid)
}

var errNoPrivateIPv4 = errors.New("no private IPv4 address")

func privateIPv4(addrs func() ([]net.Addr, error)) (net.IP, error) {
	as, err := addrs()
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		ipnet, ok := a.(*net.IPNet)
		if !ok || ipnet.IP.IsLoopback() {
			continue
		}
		if ip := ipnet.IP.To4(); ip != nil && ip.IsPrivate() {
			return ip, nil
		}
	}
	return nil, errNoPrivateIPv4
}
