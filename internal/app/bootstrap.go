package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/idledger/idledger/command"
)

// LocalDomains are the domains the first instance answers to besides
// --external-domain.
var LocalDomains = []string{"localhost", "127.0.0.1", "::1"}

// Instance names what Bootstrap or AddInstance created. AdminPAT is the
// only copy of the admin's token.
type Instance struct {
	ID          string
	Domains     []string
	OrgID       string // the org "Default"
	AdminUserID string // the machine user "admin"
	AdminPAT    string
}

// Bootstrap creates the first instance when the store has none: the
// instance answering to domain, extraDomains and LocalDomains, its default
// login policy, the org "Default" and the machine user "admin" (IAM_OWNER,
// ORG_OWNER) whose token goes to adminPATFile (mode 0600, the token and a
// newline; "" writes no file). All of it is one append.
//
// It returns nil, nil when an instance exists already, including when
// another process bootstrapped concurrently and won: exactly one instance is
// created, and the loser leaves adminPATFile alone.
//
// Errors: InvalidArgument for an invalid domain; a file error when the
// token file cannot be written (before anything is appended).
func (a *App) Bootstrap(ctx context.Context, domain string, extraDomains []string, adminPATFile string) (*Instance, error) {
	has, err := a.q.HasInstance(ctx)
	if err != nil {
		return nil, err
	}
	if has {
		return nil, nil
	}
	domains := append(append([]string{domain}, extraDomains...), LocalDomains...)
	inst, err := a.setUp(ctx, command.InstanceSetup{Domains: domains, First: true}, adminPATFile)
	if err != nil {
		if command.IsFirstInstanceTaken(err) {
			a.log.Info().Msg("first start: another process created the first instance")
			return nil, nil
		}
		// Any other failure of a concurrent loser (e.g. a colliding ID)
		// still means the store is bootstrapped.
		if has, herr := a.q.HasInstance(ctx); herr == nil && has {
			a.log.Info().Err(err).Msg("first start: an instance exists already")
			return nil, nil
		}
		return nil, err
	}
	a.log.Info().Str("instance", inst.ID).Strs("domains", inst.Domains).Str("admin_pat_file", adminPATFile).
		Msg("first start: created the first instance")
	return inst, nil
}

// AddInstance creates a further instance answering to domain, with its own
// org "Default", admin and token (written to patFile when it is not "").
//
// Errors: InvalidArgument for an invalid domain; AlreadyExists
// COMMAND-DomDup when the domain belongs to an instance; file errors.
func (a *App) AddInstance(ctx context.Context, domain, patFile string) (*Instance, error) {
	return a.setUp(ctx, command.InstanceSetup{Domains: []string{domain}}, patFile)
}

// setUp writes the token to a temporary file first, appends, and only then
// renames the file into place: a failed or lost append never touches an
// existing token file, and a committed instance never lacks its file.
func (a *App) setUp(ctx context.Context, s command.InstanceSetup, patFile string) (*Instance, error) {
	token, err := command.NewPATToken()
	if err != nil {
		return nil, err
	}
	s.AdminPAT, s.Secure = token, a.secure
	var tmp string
	if patFile != "" {
		if tmp, err = writeTemp(patFile, token+"\n"); err != nil {
			return nil, err
		}
		defer os.Remove(tmp) // a no-op after the rename
	}
	res, err := a.cmds.SetUpInstance(ctx, s)
	if err != nil {
		return nil, err
	}
	if tmp != "" {
		if err := os.Rename(tmp, patFile); err != nil {
			return nil, fmt.Errorf("instance %s created, but its admin token file could not be written: %w", res.InstanceID, err)
		}
	}
	return &Instance{ID: res.InstanceID, Domains: command.NormalizeDomains(s.Domains), OrgID: res.OrgID,
		AdminUserID: res.AdminUserID, AdminPAT: res.AdminPAT}, nil
}

// writeTemp writes content to a new 0600 file beside path and returns its
// name.
func writeTemp(path, content string) (string, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("admin token file: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("admin token file: %w", err)
	}
	name := f.Name()
	// CreateTemp makes the file 0600 already; Chmod guards against a umask
	// or platform that does otherwise.
	_, err = f.WriteString(content)
	err = errors.Join(err, f.Chmod(0o600), f.Sync(), f.Close())
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("admin token file: %w", err)
	}
	return name, nil
}

// EnsureInstanceProjects is serve's startup step for instances set up
// before instances got their own API project (command.EnsureInstanceProjects):
// each gets it once, even when several servers start together.
func (a *App) EnsureInstanceProjects(ctx context.Context) error {
	n, err := a.cmds.EnsureInstanceProjects(ctx, a.secure)
	if err != nil {
		return fmt.Errorf("instance projects: %w", err)
	}
	if n > 0 {
		a.log.Info().Int("instances", n).Msg("startup: gave instances their own API project")
	}
	return nil
}
