package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
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
	name string // "serve", "projections status"
	// args are the positional arguments and the command's main flags, for
	// the usage text. A flag written here outside brackets is required: the
	// help says so and the command line must give it.
	args    string
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
	{name: "instance add", args: "--domain D --admin-pat-file F", summary: "create a further instance with its own admin", setup: setupInstanceAdd},
	{name: "keys rotate", args: "[--new-masterkey K]", summary: "re-encrypt stored secrets under a new master key (resumable)", setup: setupKeysRotate},
	{name: "keys retire", args: "KEY_ID", summary: "remove an old master key once no stored secret uses it", setup: setupKeysRetire},
	{name: "keys status", summary: "list the master keys and how many secrets each seals", run: runKeysStatus},
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

	schema := commandFlags(cmd)
	line := splitArgs(schema, rest)
	if line.help {
		printHelp(stdout, cmd, schema)
		return exitOK
	}
	for _, name := range cmd.requiredFlags() {
		if !line.given[name] {
			line.problems = append(line.problems, fmt.Errorf("--%s is required", name))
		}
	}
	// The checked flags go first and "--" before the arguments, so this
	// parse cannot fail on the command line; it applies the environment
	// and validates the whole configuration.
	fs := flag.NewFlagSet("idledger "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below, once
	run := cmd.run
	if cmd.setup != nil {
		run = cmd.setup(fs)
	}
	cfg, err := config.Parse(fs, slices.Concat(line.flags, []string{"--"}, line.args), getenv)
	if len(line.problems) > 0 || err != nil {
		what := "invalid configuration"
		if len(line.problems) > 0 {
			what = "invalid command line"
		}
		err = errors.Join(append(line.problems, err)...)
		fmt.Fprintf(stderr, "idledger %s: %s:\n  %s\nRun 'idledger %s -h' for the flags.\n",
			cmd.name, what, strings.ReplaceAll(err.Error(), "\n", "\n  "), cmd.name)
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

// commonFlags returns a flag set holding only the configuration flags that
// every command takes (internal/config registers them).
func commonFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("idledger", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// With no arguments and no environment, Parse only registers the flags:
	// their defaults always validate.
	_, _ = config.Parse(fs, nil, func(string) string { return "" })
	return fs
}

// commandFlags returns a flag set holding every flag of c, for -h, for
// checking a command line and for the docs tests. The configuration flags
// are registered first, so that c's setup may adjust one's help text for
// this command (instance add does).
func commandFlags(c command) *flag.FlagSet {
	fs := commonFlags()
	fs.Init("idledger "+c.name, flag.ContinueOnError)
	if c.setup != nil {
		c.setup(fs)
	}
	return fs
}

// requiredFlags returns the flags that c.args names outside brackets.
func (c command) requiredFlags() []string {
	var out []string
	depth := 0
	for _, tok := range strings.Fields(c.args) {
		if depth == 0 && strings.HasPrefix(tok, "--") {
			out = append(out, strings.TrimPrefix(tok, "--"))
		}
		depth += strings.Count(tok, "[") - strings.Count(tok, "]")
	}
	return out
}

// cmdline is a command line split into flags and positional arguments.
type cmdline struct {
	flags    []string        // the valid flags, each as --name=value, in the order given
	given    map[string]bool // the names of the known flags given, valid or not
	args     []string        // the positional arguments
	help     bool            // -h, -help or --help was given
	problems []error         // every invalid flag, in the order given
}

// splitArgs parses args against fs, which holds every flag of the command.
// Unlike fs.Parse, flags may come before, between and after the positional
// arguments ("--" ends them), and every invalid flag is reported, not only
// the first: an unknown one, one without its value, one with a bad value.
// Values are checked by setting them on fs, so fs serves for nothing else
// afterwards. A problem names the flag but never echoes an unknown flag's
// value, which may be a mistyped secret (--master-key=...).
func splitArgs(fs *flag.FlagSet, args []string) cmdline {
	line := cmdline{given: map[string]bool{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			line.args = append(line.args, args[i+1:]...)
			break
		}
		name, value, hasValue, ok := flagSyntax(a)
		switch {
		case !ok:
			line.args = append(line.args, a)
			continue
		case name == "":
			line.problems = append(line.problems, fmt.Errorf("%q is not a flag (want --name or --name=value)", a))
			continue
		case (name == "h" || name == "help") && fs.Lookup(name) == nil:
			line.help = true
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			line.problems = append(line.problems, unknownFlag(fs, name))
			continue
		}
		line.given[name] = true
		if !hasValue {
			if b, isBool := f.Value.(interface{ IsBoolFlag() bool }); isBool && b.IsBoolFlag() {
				value = "true"
			} else if i+1 < len(args) && !isFlagOf(fs, args[i+1]) {
				i++
				value = args[i]
			} else {
				line.problems = append(line.problems, fmt.Errorf("--%s needs a value", name))
				continue
			}
		}
		if err := fs.Set(name, value); err != nil {
			line.problems = append(line.problems, badValue(f, value, err))
			continue
		}
		line.flags = append(line.flags, "--"+name+"="+value)
	}
	return line
}

// flagSyntax splits "-name", "--name" and "--name=value". ok is false for
// a positional argument ("-" alone is one: it often means stdin); name is
// empty for a malformed flag such as "---x" or "--=x".
func flagSyntax(a string) (name, value string, hasValue, ok bool) {
	if len(a) < 2 || a[0] != '-' {
		return "", "", false, false
	}
	s := strings.TrimPrefix(a[1:], "-")
	name, value, hasValue = strings.Cut(s, "=")
	if name == "" || name[0] == '-' {
		return "", "", false, true
	}
	return name, value, hasValue, true
}

// isFlagOf reports whether a is a flag fs knows (or -h), so that it is not
// taken as the value of the flag before it: in "--domain --admin-pat-file
// F" the domain is missing. Anything else, "-1" for one, can be a value.
func isFlagOf(fs *flag.FlagSet, a string) bool {
	if a == "--" {
		return true
	}
	name, _, _, ok := flagSyntax(a)
	return ok && (fs.Lookup(name) != nil || name == "h" || name == "help")
}

func unknownFlag(fs *flag.FlagSet, name string) error {
	best, bestDist := "", 3 // suggest only close names
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s)) }
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(norm(name), norm(f.Name))
		if d < bestDist && d < len(f.Name)/2 {
			best, bestDist = f.Name, d
		}
	})
	if best != "" {
		return fmt.Errorf("--%s is not a flag of this command (did you mean --%s?)", name, best)
	}
	return fmt.Errorf("--%s is not a flag of this command", name)
}

// badValue describes a value that a flag refused. The standard flag types
// answer only "parse error", so the error says what they want instead.
func badValue(f *flag.Flag, value string, err error) error {
	if g, ok := f.Value.(flag.Getter); ok && (err.Error() == "parse error" || err.Error() == "value out of range") {
		want := "a valid value"
		switch g.Get().(type) {
		case bool:
			want = "true or false"
		case time.Duration:
			want = "a duration such as 10s or 1m30s"
		case int, int64, uint, uint64:
			want = "an integer"
		case float64:
			want = "a number"
		}
		if err.Error() == "value out of range" {
			want += " in range"
		}
		return fmt.Errorf("--%s: %q is not %s", f.Name, value, want)
	}
	return fmt.Errorf("--%s: %v", f.Name, err)
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// printHelp writes c's usage: the command's own flags, then the
// configuration flags, each as --name, with the required ones marked.
func printHelp(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n\n%s.\n\nFlags may come before, between or after the arguments; -- ends them.\n",
		strings.TrimSpace("idledger "+c.name+" "+c.args+" [flags]"), upperFirst(c.summary))
	required := map[string]bool{}
	for _, name := range c.requiredFlags() {
		required[name] = true
	}
	common := commonFlags()
	var own, shared []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if common.Lookup(f.Name) != nil {
			shared = append(shared, f)
		} else {
			own = append(own, f)
		}
	})
	list := func(title string, flags []*flag.Flag) {
		if len(flags) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, f := range flags {
			typ, text := flag.UnquoteUsage(f)
			head := "  --" + f.Name
			if typ != "" {
				head += " " + typ
			}
			if required[f.Name] {
				head += " (required)"
			}
			if d := f.DefValue; d != "" && d != "0" && d != "false" && d != "0s" && !required[f.Name] {
				if typ == "string" {
					d = strconv.Quote(d)
				}
				text += " (default " + d + ")"
			}
			fmt.Fprintf(w, "%s\n      %s\n", head, text)
		}
	}
	list("Flags of "+c.name, own)
	list("Configuration flags (each also read from its environment variable; the flag wins)", shared)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "idledger: an event-sourced identity backend with a ZITADEL-compatible API.")
	fmt.Fprintln(w, "\nUsage: idledger <command> [arguments] [flags]\n\nCommands:")
	for _, c := range commands {
		name := c.name
		if c.args != "" {
			name += " " + c.args
		}
		fmt.Fprintf(w, "  %-40s %s\n", name, c.summary)
	}
	fmt.Fprintln(w, "\nFlags may come before, between or after the arguments; -- ends them.")
	fmt.Fprintln(w, "Every command takes the configuration flags; see 'idledger serve -h'.")
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
