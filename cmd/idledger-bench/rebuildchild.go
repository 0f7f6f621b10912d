package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// childEnv marks the bench's own child process: the rebuild that the run
// measures in a process of its own. A test binary, which has no main of
// ours, reads it in TestMain and runs the bench instead of the tests.
const childEnv = "IDLEDGER_BENCH_CHILD"

// rebuildInChild measures the run's rebuild in a new process of this
// binary (--rebuild-only on the same database), as `idledger projections
// rebuild` runs in a process of its own. In the server's process the peak
// RSS would be the server's leftovers from the load plus the rebuild's own,
// and the collector's limit would count from the server's heap: neither is
// what an operator's rebuild meets. The child's figures are printed as the
// run's BENCH rebuild line and returned for the report.
func rebuildInChild(ctx context.Context, cfg config, url string, stdout, stderr io.Writer) (*RebuildResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("rebuild: this binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "idledger-bench-rebuild-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "rebuild.json")
	args := []string{"--rebuild-only", "--database-url", url, "--pool", fmt.Sprint(cfg.Pool), "--out", out}
	if cfg.RebuildCPU != "" {
		args = append(args, "--rebuild-cpuprofile", cfg.RebuildCPU)
	}
	if cfg.RebuildMem != "" {
		args = append(args, "--rebuild-memprofile", cfg.RebuildMem)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=rebuild")
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("rebuild in its own process: %w", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("rebuild in its own process: %w", err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil || rep.Rebuild == nil {
		return nil, fmt.Errorf("rebuild in its own process: its report %s: %v", out, err)
	}
	rep.Rebuild.OwnProcess = true
	return rep.Rebuild, nil
}
