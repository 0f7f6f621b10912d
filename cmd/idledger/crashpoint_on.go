//go:build crashpoints

package main

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

var crashHits atomic.Int64

// crashPoint kills the process with SIGKILL when IDLEDGER_CRASH_AT names
// this point ("name" or "name:N", the N-th time it is reached). Only test
// builds (-tags crashpoints) have it.
func crashPoint(name string) {
	want, nth, _ := strings.Cut(os.Getenv("IDLEDGER_CRASH_AT"), ":")
	if want != name {
		return
	}
	n, err := strconv.Atoi(nth)
	if err != nil || n < 1 {
		n = 1
	}
	if crashHits.Add(1) == int64(n) {
		syscall.Kill(os.Getpid(), syscall.SIGKILL) //nolint:errcheck // the point is not to return
		select {}
	}
}
