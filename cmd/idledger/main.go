package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/idledger/idledger/internal/config"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2 // bad command line or configuration
)

// command is one subcommand.
type command struct {
	name    string // "serve", "projections status"
	args    string // positional arguments, for the usage text
	summary string
	run     runFunc
	// setup, when set, binds the command's own flags and returns its run
	// function; it is used instead of run.
	setup func(fs *flag.FlagSet) runFunc
}

type runFunc func(ctx context.Context, e *env, cfg config.Config, args []string) error

// env is what a subcommand gets besides its configuration.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            zerolog.Logger
}

var commands = []command{
	{name: "serve", summary: "apply migrations, then serve HTTP until SIGINT/SIGTERM", run: runServe},
	{name: "migrate", summary: "apply the schema migrations and exit", run: runMigrate},
	{name: "projections status", summary: "show each projection's position, lag and state", run: runProjectionsStatus},
	{name: "projections rebuild", args: "[NAME...] [--all]", summary: "rebuild read tables from the events", setup: setupProjectionsRebuild},
	{name: "projections retry", args: "NAME", summary: "resume a halted projection", run: runProjectionsRetry},
	{name: "events list", args: "[filters]", summary: "print the audit trail", setup: setupEventsList},
	{name: "events replay", args: "--aggregate TYPE/ID [--at T | --at-position P]", summary: "replay one aggregate's events up to a point", setup: setupEventsReplay},
	{name: "events verify", args: "[--from-position P] [--checkpoint FILE]", summary: "check every aggregate's hash chain (and the log against a checkpoint)", setup: setupEventsVerify},
	{name: "events checkpoint", summary: "print a checkpoint of the log, to keep where the database's writers cannot", run: runEventsCheckpoint},
	{name: "instance add", args: "--domain D [--admin-pat-file F]", summary: "create a further instance with its own admin", setup: setupInstanceAdd},
	{name: "keys rotate", args: "[--new-masterkey K]", summary: "re-encrypt stored secrets under a new master key", setup: setupKeysRotate},
	{name: "version", summary: "print version, commit and Go version"},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one gets the default behaviour
		// and ends the process at once (the embedded PostgreSQL still stops:
		// it gets a parent-death signal).
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "--version", "-version":
		args[0] = "version"
	}
	cmd, rest, err := lookup(args)
	if err != nil {
		fmt.Fprintf(stderr, "idledger: %v\nRun 'idledger help' for the list of commands.\n", err)
		return exitUsage
	}
	if cmd.name == "version" {
		printVersion(stdout)
		return exitOK
	}

	fs := flag.NewFlagSet("idledger "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below, once
	run := cmd.run
	if cmd.setup != nil {
		run = cmd.setup(fs)
	}
	cfg, err := config.Parse(fs, rest, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "Usage: %s\n\n%s.\n\nFlags (each also read from its environment variable; the flag wins):\n",
			strings.TrimSpace("idledger "+cmd.name+" [flags] "+cmd.args), upperFirst(cmd.summary))
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "idledger %s: invalid configuration:\n  %s\nRun 'idledger %s -h' for the flags.\n",
			cmd.name, strings.ReplaceAll(err.Error(), "\n", "\n  "), cmd.name)
		return exitUsage
	}
	e := &env{stdin: os.Stdin, stdout: stdout, stderr: stderr, log: newLogger(cfg, stderr)}
	if err := run(ctx, e, cfg, fs.Args()); err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			e.log.Warn().Msg("interrupted")
		} else {
			e.log.Error().Err(err).Msg("idledger " + cmd.name + " failed")
		}
		return exitError
	}
	return exitOK
}

// lookup finds the command named by the first one or two words of args.
func lookup(args []string) (command, []string, error) {
	if len(args) >= 2 {
		for _, c := range commands {
			if c.name == args[0]+" "+args[1] {
				return c, args[2:], nil
			}
		}
	}
	var subs []string
	for _, c := range commands {
		if c.name == args[0] {
			return c, args[1:], nil
		}
		if group, sub, ok := strings.Cut(c.name, " "); ok && group == args[0] {
			subs = append(subs, sub)
		}
	}
	if len(subs) > 0 {
		if len(args) == 1 {
			return command{}, nil, fmt.Errorf("%s needs a subcommand: %s", args[0], strings.Join(subs, ", "))
		}
		return command{}, nil, fmt.Errorf("unknown subcommand %q of %s (want %s)", args[1], args[0], strings.Join(subs, ", "))
	}
	return command{}, nil, fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "idledger: an event-sourced identity backend with a ZITADEL-compatible API.")
	fmt.Fprintln(w, "\nUsage: idledger <command> [flags]\n\nCommands:")
	for _, c := range commands {
		name := c.name
		if c.args != "" {
			name += " " + c.args
		}
		fmt.Fprintf(w, "  %-40s %s\n", name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes the configuration flags; see 'idledger serve -h'.")
}

// newLogger returns the process logger: zerolog on stderr, human-readable on
// a terminal (log-format console) and JSON lines otherwise.
func newLogger(cfg config.Config, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		level = zerolog.InfoLevel // unreachable: config validated it
	}
	if cfg.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
