package main

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/config"
)

// serverOnlyFlags are the flags serve has and admin commands do not.
func serverOnlyFlags(t *testing.T) []string {
	t.Helper()
	var serveCfg, adminCfg config.Config
	none := func(string) string { return "" }
	admin := adminCfg.FlagSet("admin", none, false)
	var out []string
	serveCfg.FlagSet("serve", none, true).VisitAll(func(f *flag.Flag) {
		if admin.Lookup(f.Name) == nil {
			out = append(out, "--"+f.Name)
		}
	})
	if len(out) == 0 {
		t.Fatal("serve has no flags of its own")
	}
	return out
}

// TestHelpEveryCommand: every command in the table answers --help, -h and
// 'patchbay help COMMAND' with its usage on stdout and exit 0, naming its
// positional arguments and its own flags; admin commands list no
// server-only flag; nothing is created, whatever the environment holds.
func TestHelpEveryCommand(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	// Bad values everywhere: help validates nothing.
	e := env{"PATCHBAY_DATA_DIR": dir, "PATCHBAY_LOG_FORMAT": "xml", "PATCHBAY_ACCESS_LOG": "maybe", "PATCHBAY_ROOT_KEY": "short"}
	serverOnly := serverOnlyFlags(t)
	for _, c := range commands {
		words := strings.Fields(c.name)
		for _, args := range [][]string{
			append(append([]string{}, words...), "--help"),
			append(append([]string{}, words...), "-h"),
			append([]string{"help"}, words...),
		} {
			what := "patchbay " + strings.Join(args, " ")
			r := runCLI(t, e, args...)
			if r.code != exitOK || r.stderr != "" {
				t.Errorf("%s: exit %d, stderr %q; want exit 0 and nothing on stderr", what, r.code, r.stderr)
				continue
			}
			first, _, _ := strings.Cut(r.stdout, "\n")
			if !strings.HasPrefix(first, "usage: patchbay "+c.name) {
				t.Errorf("%s: first line %q, want the usage of patchbay %s", what, first, c.name)
			}
			if c.args != "" && !strings.HasSuffix(first, " "+c.args) {
				t.Errorf("%s: usage %q does not name the arguments %q", what, first, c.args)
			}
			if !strings.Contains(r.stdout, c.summary[1:]) {
				t.Errorf("%s: help lacks the summary %q:\n%s", what, c.summary, r.stdout)
			}
			for _, f := range strings.Fields(c.flags) {
				f = strings.Trim(f, "[]")
				if strings.HasPrefix(f, "--") && !strings.Contains(r.stdout, "\n  "+f) {
					t.Errorf("%s: help does not describe %s:\n%s", what, f, r.stdout)
				}
			}
			for _, f := range serverOnly {
				listed := strings.Contains(r.stdout, "\n  "+f+" ") || strings.Contains(r.stdout, "\n  "+f+"\n")
				if c.admin != nil && listed {
					t.Errorf("%s: admin help lists the server-only flag %s:\n%s", what, f, r.stdout)
				}
				if c.name == "serve" && !listed {
					t.Errorf("%s: serve help lacks %s:\n%s", what, f, r.stdout)
				}
			}
			if c.admin != nil {
				for _, f := range []string{"--data-dir", "--database-url"} {
					if !strings.Contains(r.stdout, "\n  "+f+" ") {
						t.Errorf("%s: admin help lacks %s:\n%s", what, f, r.stdout)
					}
				}
			}
		}
	}
	if es := dirEntries(t, filepath.Dir(dir)); es != nil {
		t.Fatalf("help created %v", es)
	}
}

// TestHelpLists: the binary's and each group's help list their commands,
// with the positional arguments.
func TestHelpLists(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		r := runCLI(t, e, args...)
		if r.code != exitOK || !strings.HasPrefix(r.stdout, "usage: patchbay <command>") {
			t.Fatalf("patchbay %s: exit %d, stdout %q", args[0], r.code, r.stdout)
		}
		for _, c := range commands {
			if !strings.Contains(r.stdout, "\n  "+strings.TrimSpace(c.name+" "+c.args)+" ") {
				t.Errorf("patchbay %s does not list %q:\n%s", args[0], c.name, r.stdout)
			}
		}
	}
	for _, group := range []string{"keys", "projects", "members", "keyring", "audit"} {
		for _, args := range [][]string{{group, "--help"}, {group, "-h"}, {"help", group}} {
			r := runCLI(t, e, args...)
			what := "patchbay " + strings.Join(args, " ")
			if r.code != exitOK || !strings.HasPrefix(r.stdout, "usage: patchbay "+group+" <command>") {
				t.Fatalf("%s: exit %d, stdout %q", what, r.code, r.stdout)
			}
			n := 0
			for _, c := range commands {
				if strings.HasPrefix(c.name, group+" ") {
					n++
					if !strings.Contains(r.stdout, "\n  "+c.name) {
						t.Errorf("%s does not list %q:\n%s", what, c.name, r.stdout)
					}
				} else if strings.Contains(r.stdout, "\n  "+c.name+" ") {
					t.Errorf("%s lists %q of another group:\n%s", what, c.name, r.stdout)
				}
			}
			if n == 0 {
				t.Fatalf("no command in group %s", group)
			}
		}
	}
}

// TestUnknownCommand: exit 2 naming the command, with the commands to
// choose from on stderr and nothing on stdout.
func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	cases := []struct {
		args    []string
		want    string
		listing string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`, "keys create"},
		{[]string{"frobnicate", "--help"}, `unknown command "frobnicate"`, "keys create"},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`, "keys create"},
		{[]string{"keys", "frob"}, `unknown command "keys frob"`, "keys revoke ID"},
		{[]string{"keys"}, "keys needs a subcommand", "keys revoke ID"},
	}
	for _, c := range cases {
		r := runCLI(t, e, c.args...)
		what := "patchbay " + strings.Join(c.args, " ")
		if r.code != exitUsage || r.stdout != "" || !strings.HasPrefix(r.stderr, "patchbay: "+c.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", what, r.code, r.stdout, r.stderr, c.want)
		}
		if !strings.Contains(r.stderr, "\n  "+c.listing) {
			t.Errorf("%s: stderr does not list the commands (%q):\n%s", what, c.listing, r.stderr)
		}
	}
	if es := dirEntries(t, e["PATCHBAY_DATA_DIR"]); es != nil {
		t.Fatalf("unknown commands created %v", es)
	}
}

// TestVersion: 'version' and '--version' print the version with the Go
// version, on one line.
func TestVersion(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := runCLI(t, e, args...)
		if r.code != exitOK || r.stderr != "" || !strings.HasPrefix(r.stdout, "patchbay ") ||
			!strings.Contains(r.stdout, runtime.Version()) || strings.Count(r.stdout, "\n") != 1 {
			t.Errorf("patchbay %s: exit %d, stdout %q, stderr %q; want one line with %s", args[0], r.code, r.stdout, r.stderr, runtime.Version())
		}
	}
	if r := runCLI(t, e, "version", "extra"); r.code != exitUsage {
		t.Errorf("version extra: exit %d, want 2", r.code)
	}
}

func TestVCSVersion(t *testing.T) {
	cases := []struct {
		settings []debug.BuildSetting
		want     string
	}{
		{nil, ""},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2024-05-01T10:00:00Z"}, {Key: "vcs.modified", Value: "false"}},
			"devel 0123456789ab 2024-05-01T10:00:00Z"},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}, "devel abc modified"},
	}
	for _, c := range cases {
		if got := vcsVersion(c.settings); got != c.want {
			t.Errorf("vcsVersion(%v) = %q, want %q", c.settings, got, c.want)
		}
	}
}

// TestBadEnvOnTheCommandLine: a bad environment value is a usage error
// naming the variable; a server-only variable does not stop an admin
// command.
func TestBadEnvOnTheCommandLine(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t).with("PATCHBAY_ACCESS_LOG", "maybe", "PATCHBAY_ADDR", "127.0.0.1:0")
	r := runCLI(t, e, "serve")
	if r.code != exitUsage || !strings.Contains(r.stderr, `patchbay: PATCHBAY_ACCESS_LOG must be true or false; got "maybe"`) ||
		strings.Contains(r.stderr, "--access-log") {
		t.Fatalf("serve with PATCHBAY_ACCESS_LOG=maybe: exit %d, stderr %q", r.code, r.stderr)
	}
	mustCLI(t, e, "projects", "list")
	r = runCLI(t, e.with("PATCHBAY_LOG_FORMAT", "xml"), "projects", "list")
	if r.code != exitUsage || !strings.Contains(r.stderr, `patchbay: PATCHBAY_LOG_FORMAT must be text or json; got "xml"`) {
		t.Fatalf("projects list with PATCHBAY_LOG_FORMAT=xml: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestREADMEListsCommands: the README's "Admin commands" block has every
// admin command of the table, written as its synopsis, and version.
func TestREADMEListsCommands(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		lines[l] = true
	}
	for _, c := range commands {
		if c.name == "serve" {
			continue
		}
		if syn := c.synopsis(false); !lines[syn] {
			t.Errorf("README.md lacks the line %q", syn)
		}
	}
}
