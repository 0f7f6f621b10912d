package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/internal/pgtest"
)

func lookupCommand(t *testing.T, name string) command {
	t.Helper()
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no command %q", name)
	return command{}
}

// TestFlagsAfterArguments runs commands with their flags after, between and
// before the positional arguments, as DESIGN.md §1 promises.
func TestFlagsAfterArguments(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	dataDir := t.TempDir()
	code, out, errOut := runIdledger(t, "projections", "rebuild", "idps", "--database-url", dbURL,
		"--data-dir", dataDir, "users", "--log-format=json")
	if code != 0 || !strings.Contains(out, "rebuild complete") {
		t.Fatalf("projections rebuild idps --database-url … users --log-format=json: exit %d\n%s\n%s", code, out, errOut)
	}
	// "--" ends the flags: what follows is an argument, here an unknown
	// projection, refused before the database is opened.
	code, out, errOut = runIdledger(t, "projections", "rebuild", "--database-url", dbURL, "--", "--all")
	if code != exitError || !strings.Contains(errOut, `projection \"--all\" does not exist (the projections are `) {
		t.Fatalf("projections rebuild -- --all: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestFlagsSplitArgs(t *testing.T) {
	fs := commandFlags(lookupCommand(t, "events list"))
	line := splitArgs(fs, []string{"a", "--type", "idp.", "-limit", "5", "b", "--follow", "--type=user.",
		"--after-position", "-1", "--format", "-", "--", "--c", "-h"})
	if want := []string{"a", "b", "--c", "-h"}; !slices.Equal(line.args, want) {
		t.Errorf("args %q, want %q", line.args, want)
	}
	want := []string{"--type=idp.", "--limit=5", "--follow=true", "--type=user.", "--after-position=-1", "--format=-"}
	if !slices.Equal(line.flags, want) {
		t.Errorf("flags %q, want %q", line.flags, want)
	}
	if line.help || len(line.problems) > 0 {
		t.Errorf("help %v, problems %v", line.help, line.problems)
	}
	if line := splitArgs(fs, []string{"--limit", "3", "-h", "--nope"}); !line.help {
		t.Error("-h after other flags is not seen")
	}
}

// TestFlagsReportedTogether gives several invalid flags at once: all are
// reported in one error with exit code 2, before any database is opened.
func TestFlagsReportedTogether(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want []string
	}{
		{
			[]string{"projections", "rebuild", "idps", "--datadir", "D", "--auth-rate-limit", "many",
				"--request-timeout", "5", "--machine-id", "x", "--master-key=s3cr3t-value", "--listen"},
			[]string{
				"idledger projections rebuild: invalid command line:",
				"--datadir is not a flag of this command (did you mean --data-dir?)",
				`--auth-rate-limit: "many" is not an integer`,
				`--request-timeout: "5" is not a duration`,
				`--machine-id: "x" is not a machine ID`,
				"--master-key is not a flag of this command (did you mean --masterkey?)",
				"--listen needs a value",
			},
		},
		{
			// A missing value is not taken from the next flag, and the
			// required flags are named.
			[]string{"instance", "add", "--domain", "--log-format", "xml"},
			[]string{"--domain needs a value", "--admin-pat-file is required",
				`--log-format / IDLEDGER_LOG_FORMAT: "xml" is not console or json`},
		},
		{
			[]string{"events", "list", "--limit", "1e3", "---x", "--follow=maybe", "--frobnicate"},
			[]string{`--limit: "1e3" is not an integer`, `"---x" is not a flag`,
				`--follow: "maybe" is not true or false`, "--frobnicate is not a flag of this command\n"},
		},
		{
			[]string{"events", "replay", "--at", "2024-01-01T00:00:00Z"},
			[]string{"--aggregate is required"},
		},
	}
	for _, tc := range cases {
		code, out, errOut := runIdledger(t, tc.args...)
		if code != exitUsage {
			t.Errorf("idledger %q: exit %d, want %d\n%s%s", tc.args, code, exitUsage, out, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("idledger %q: stderr lacks %q:\n%s", tc.args, w, errOut)
			}
		}
		if strings.Contains(out+errOut, "s3cr3t-value") {
			t.Errorf("idledger %q echoes the value of an unknown flag", tc.args)
		}
	}
}

// TestHelpInstanceAddRequiresPATFile: the help of instance add shows
// --admin-pat-file as required, and the command line must give it.
func TestHelpInstanceAddRequiresPATFile(t *testing.T) {
	t.Parallel()
	code, out, errOut := runIdledger(t, "instance", "add", "--help")
	if code != 0 {
		t.Fatalf("instance add --help: exit %d\n%s", code, errOut)
	}
	usage, _, _ := strings.Cut(out, "\n")
	if usage != "Usage: idledger instance add --domain D --admin-pat-file F [flags]" {
		t.Errorf("usage line %q shows --domain or --admin-pat-file as optional", usage)
	}
	for _, want := range []string{"--domain string (required)\n", "--admin-pat-file string (required)\n      where to write the new instance's admin token"} {
		if !strings.Contains(out, want) {
			t.Errorf("instance add --help lacks %q:\n%s", want, out)
		}
	}
	code, _, errOut = runIdledger(t, "instance", "add", "--domain", "a.example.com", "--database-url", "postgres://127.0.0.1:1/none")
	if code != exitUsage || !strings.Contains(errOut, "--admin-pat-file is required") {
		t.Errorf("instance add without --admin-pat-file: exit %d\n%s", code, errOut)
	}
}

// TestHelpMarksRequiredFlags checks every command's args string against its
// flags: each flag it names exists, and the help marks exactly those it
// names outside brackets as required.
func TestHelpMarksRequiredFlags(t *testing.T) {
	for _, c := range commands {
		if c.run == nil && c.setup == nil {
			continue // version takes no flags
		}
		fs := commandFlags(c)
		for _, tok := range strings.Fields(c.args) {
			tok = strings.Trim(tok, "[]")
			if name, ok := strings.CutPrefix(tok, "--"); ok && fs.Lookup(name) == nil {
				t.Errorf("%s: its usage names --%s, which it does not have", c.name, name)
			}
		}
		var help strings.Builder
		printHelp(&help, c, fs)
		var marked []string
		for _, l := range strings.Split(help.String(), "\n") {
			if name, ok := strings.CutPrefix(l, "  --"); ok && strings.HasSuffix(l, " (required)") {
				name, _, _ = strings.Cut(name, " ")
				marked = append(marked, name)
			}
		}
		slices.Sort(marked)
		required := slices.Sorted(slices.Values(c.requiredFlags()))
		if !slices.Equal(marked, required) {
			t.Errorf("%s -h marks %q as required; its usage %q requires %q", c.name, marked, c.args, required)
		}
	}
}

// TestProjectionsRetryMessages: retry names an unknown projection as such,
// says that a live one has nothing to retry (exit 1), and resumes a halted one.
func TestProjectionsRetryMessages(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	db := []string{"--database-url", dbURL, "--data-dir", t.TempDir(), "--log-format", "json"}
	code, _, errOut := runIdledger(t, append([]string{"projections", "retry", "idsp"}, db...)...)
	if code != exitError || !strings.Contains(errOut, `projection \"idsp\" does not exist`) {
		t.Errorf("retry of an unknown projection: exit %d\n%s", code, errOut)
	}
	code, _, errOut = runIdledger(t, append([]string{"projections", "retry", "idps"}, db...)...)
	if code != exitError || !strings.Contains(errOut, `projection \"idps\" is live, not halted: nothing to retry`) {
		t.Errorf("retry of a live projection: exit %d\n%s", code, errOut)
	}
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `INSERT INTO projection_state (name, state, error, failed_position)
		VALUES ('idps', 'halted', 'test: poisoned event', 1)
		ON CONFLICT (name) DO UPDATE SET state = 'halted', error = 'test: poisoned event', failed_position = 1`); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runIdledger(t, append([]string{"projections", "retry", "idps"}, db...)...)
	if code != 0 || !strings.Contains(out, "projection idps resumes") {
		t.Errorf("retry of a halted projection: exit %d\n%s\n%s", code, out, errOut)
	}
}
