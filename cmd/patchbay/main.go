// Command patchbay is the patchbay server and its admin tool, in one binary.
//
//	patchbay serve                      run the server
//	patchbay version                    print the version
//	patchbay keys create|list|revoke    manage API keys
//	patchbay projects create|list       manage projects
//	patchbay members add|list           manage organization members
//	patchbay keyring rotate|status      manage the encryption keyring
//	patchbay audit list                 read the audit log
//
// The command table in this file lists them all; 'patchbay help' prints it
// and 'patchbay COMMAND --help' a command's flags and arguments.
//
// Every command takes --data-dir and --database-url (or PATCHBAY_DATA_DIR,
// PATCHBAY_DATABASE_URL) and works on the configured database directly, also
// before the server has ever run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
)

func main() {
	if os.Getenv("GOGC") == "" {
		// patchbay's live heap is small (tens of MB), so the default GOGC
		// collects every few thousand requests; a larger ratio trades a
		// few more MB of heap for much less GC CPU. GOGC overrides it.
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// ...but the heap may not grow past 64 MiB for it: near the limit
		// the collector runs as often as it must, so a busy instance stays
		// well inside a small container. GOMEMLIMIT overrides it.
		debug.SetMemoryLimit(64 << 20)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed
	exitUsage = 2 // the command line is wrong
)

// usageError marks errors in the command line. help, if set, is printed
// after the message (the commands there are to choose from).
type usageError struct{ msg, help string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{msg: fmt.Sprintf(format, args...)} }

// command is one entry of the command table: what selects it, how it is
// written, and what runs it. Exactly one of run and admin is set.
type command struct {
	name    string // the words that select it: "keys create"
	flags   string // synopsis of its own flags: "--name NAME [--with-key]"
	args    string // its positional arguments: "ID"
	summary string // one line for the command list
	// run runs a command that is not an admin command.
	run func(cio cmdIO, c *command, args []string) error
	// admin defines an admin command's flags; runAdmin does the rest.
	admin func(fs *flag.FlagSet) adminRun
}

// synopsis is the command line of c, for usage:
// "patchbay keys revoke [flags] ID". withFlags adds "[flags]" for the
// flags not in c.flags.
func (c *command) synopsis(withFlags bool) string {
	s := "patchbay " + c.name
	if c.flags != "" {
		s += " " + c.flags
	}
	if withFlags {
		s += " [flags]"
	}
	if c.args != "" {
		s += " " + c.args
	}
	return s
}

// commands is the command table; dispatch and help read it. It is filled
// in init because its entries refer, through serveCmd and parseFlags, back
// to it.
var commands []*command

func init() {
	commands = []*command{
		{name: "serve", summary: "run the server", run: func(cio cmdIO, _ *command, args []string) error { return serveCmd(cio, args) }},
		{name: "version", summary: "print the version", run: versionCmd},
		{name: "keys create", flags: "--name NAME [--project ID | --org] [--member EMAIL]", summary: "create an API key and print it, once", admin: keysCreate},
		{name: "keys list", flags: "[--project ID | --org] [--active]", summary: "list API keys, masked", admin: keysList},
		{name: "keys revoke", args: "ID", summary: "revoke the API key ID", admin: keysRevoke},
		{name: "projects list", summary: "list projects", admin: projectsList},
		{name: "projects log-payloads", flags: "--project ID [--keep]", summary: "keep (--keep) or omit (--keep=false) tools' arguments and results in a project's execution logs", admin: projectsLogPayloads},
		{name: "projects create", flags: "--name NAME [--with-key]", summary: "create a project (and its first API key)", admin: projectsCreate},
		{name: "members invite", flags: "--email EMAIL --role owner|admin|member", summary: "print a one-time sign-up link for the dashboard", admin: membersInvite},
		{name: "members add", flags: "--email EMAIL --role owner|admin|member [--name NAME]", summary: "add a member to the organization", admin: membersAdd},
		{name: "members list", summary: "list the organization's members", admin: membersList},
		{name: "keyring rotate", summary: "start a new key term and re-encrypt every secret under it", admin: keyringRotate},
		{name: "keyring status", summary: "show the active key term and the secrets under each term", admin: keyringStatus},
		{name: "audit list", flags: "[--project ID] [--limit N]", summary: "list the newest audit events", admin: auditList},
	}
}

// lookup finds the command named name.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// group lists the commands whose first word is word ("keys"), or every
// command if word is "".
func group(word string) []*command {
	var out []*command
	for _, c := range commands {
		if first, _, _ := strings.Cut(c.name, " "); word == "" || first == word {
			out = append(out, c)
		}
	}
	return out
}

// commandList is the usage of a list of commands, one line each.
func commandList(cs []*command) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 3, ' ', 0)
	for _, c := range cs {
		name := c.name
		if c.args != "" {
			name += " " + c.args
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, c.summary)
	}
	tw.Flush()
	return b.String()
}

// usage is the help of the whole binary.
func usage() string {
	return "usage: patchbay <command> [flags] [arguments]\n\ncommands:\n" + commandList(group("")) +
		"\nRun 'patchbay <command> --help' for a command's flags and arguments.\n"
}

// groupUsage is the help of the commands under one word ("keys").
func groupUsage(word string) string {
	return "usage: patchbay " + word + " <command> [flags] [arguments]\n\ncommands:\n" + commandList(group(word)) +
		"\nRun 'patchbay " + word + " <command> --help' for a command's flags and arguments.\n"
}

// commandUsage prints the help of the command that fs belongs to: its
// synopsis, summary and flags.
func commandUsage(w io.Writer, fs *flag.FlagSet) {
	c := lookup(fs.Name())
	if c == nil {
		c = &command{name: fs.Name()}
	}
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	fmt.Fprintf(w, "usage: %s\n", c.synopsis(hasFlags))
	if c.summary != "" {
		fmt.Fprintf(w, "\n%s.\n", strings.ToUpper(c.summary[:1])+c.summary[1:])
	}
	if !hasFlags {
		return
	}
	fmt.Fprintf(w, "\nflags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		arg, help := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if arg != "" {
			line += " " + arg
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(help, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, env, stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "patchbay: %s\n", ue.msg)
		if ue.help != "" {
			fmt.Fprintf(stderr, "\n%s", ue.help)
		}
		return exitUsage
	default:
		fmt.Fprintf(stderr, "patchbay: %s\n", err)
		return exitError
	}
}

func dispatch(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{msg: "no command given", help: usage()}
	}
	cio := cmdIO{ctx: ctx, env: env, stdout: stdout, stderr: stderr}
	word, rest := args[0], args[1:]
	switch word {
	case "help", "-h", "-help", "--help":
		return helpCmd(cio, rest)
	case "--version", "-version":
		return versionCmd(cio, lookup("version"), rest)
	}
	if c := lookup(word); c != nil {
		return c.exec(cio, rest)
	}
	sub := group(word)
	if len(sub) == 0 {
		return usageError{msg: fmt.Sprintf("unknown command %q", word), help: usage()}
	}
	if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
		if len(rest) > 0 && isHelpFlag(rest[0]) {
			fmt.Fprint(stdout, groupUsage(word))
			return nil
		}
		return usageError{msg: fmt.Sprintf("%s needs a subcommand (see 'patchbay %s --help')", word, word), help: groupUsage(word)}
	}
	if c := lookup(word + " " + rest[0]); c != nil {
		return c.exec(cio, rest[1:])
	}
	return usageError{msg: fmt.Sprintf("unknown command %q", word+" "+rest[0]), help: groupUsage(word)}
}

// exec runs c with the arguments that follow its name.
func (c *command) exec(cio cmdIO, args []string) error {
	if c.admin != nil {
		return runAdmin(cio, c, args)
	}
	return c.run(cio, c, args)
}

// helpCmd prints the help of the whole binary, or of the command named by
// args ("patchbay help keys create").
func helpCmd(cio cmdIO, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(cio.stdout, usage())
		return nil
	}
	name := strings.Join(args, " ")
	if c := lookup(name); c != nil {
		return c.exec(cio, []string{"--help"})
	}
	if len(args) == 1 && len(group(name)) > 0 {
		fmt.Fprint(cio.stdout, groupUsage(name))
		return nil
	}
	return usageError{msg: fmt.Sprintf("unknown command %q", name), help: usage()}
}

func isHelpFlag(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3". Empty, the build info decides.
var version string

// versionCmd prints the version: the release, else the module version,
// else the commit the binary was built from; and the Go version.
func versionCmd(cio cmdIO, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	if err := parseFlags(cio, fs, args); err != nil || helpAsked(args) {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("version takes no arguments; got %q", fs.Args())
	}
	fmt.Fprintln(cio.stdout, versionString())
	return nil
}

func versionString() string {
	v, goVersion := version, runtime.Version()
	info, ok := debug.ReadBuildInfo()
	if ok {
		goVersion = info.GoVersion
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		if v == "" {
			v = vcsVersion(info.Settings)
		}
	}
	if v == "" {
		v = "devel"
	}
	return fmt.Sprintf("patchbay %s (%s, %s/%s)", v, goVersion, runtime.GOOS, runtime.GOARCH)
}

// vcsVersion is "devel 0123456789ab 2024-05-01T10:00:00Z [modified]" from
// the version control stamps of the build, or "" without them.
func vcsVersion(settings []debug.BuildSetting) string {
	var rev, at string
	modified := false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return ""
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "devel " + rev
	if at != "" {
		v += " " + at
	}
	if modified {
		v += " modified"
	}
	return v
}

// cmdIO is what every command gets: its context, environment and streams.
type cmdIO struct {
	ctx    context.Context
	env    func(string) string
	stdout io.Writer
	stderr io.Writer
}
