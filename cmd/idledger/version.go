package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set at link time: go build -ldflags "-X main.version=v1.2.3 -X main.commit=abc123".
var (
	version = "dev"
	commit  = ""
)

// buildVersion returns the version and commit: the link-time values when
// set, else what the Go toolchain recorded (module version, vcs.revision
// with a "-dirty" suffix for a modified tree).
func buildVersion() (ver, rev string) {
	ver, rev = version, commit
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ver, orUnknown(rev)
	}
	if ver == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		ver = info.Main.Version
	}
	if rev == "" {
		var modified bool
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" && modified {
			rev += "-dirty"
		}
	}
	return ver, orUnknown(rev)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func printVersion(w io.Writer) {
	ver, rev := buildVersion()
	fmt.Fprintf(w, "idledger %s\ncommit: %s\ngo: %s\n", ver, rev, runtime.Version())
}
