// Command patchbay is the patchbay server and its admin tool, in one binary.
//
//	patchbay serve                      run the server
//	patchbay keys create|list|revoke    manage API keys
//	patchbay projects create|list       manage projects
//	patchbay members add|list           manage organization members
//	patchbay keyring rotate|status      manage the encryption keyring
//	patchbay audit list                 read the audit log
//
// Every command takes --data-dir and --database-url (or PATCHBAY_DATA_DIR,
// PATCHBAY_DATABASE_URL) and works on the configured database directly, also
// before the server has ever run.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	if os.Getenv("GOGC") == "" {
		// patchbay's live heap is small (tens of MB), so the default GOGC
		// collects every few thousand requests; a larger ratio trades a
		// few more MB of heap for much less GC CPU. GOGC overrides it.
		debug.SetGCPercent(400)
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

// usageError marks errors in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

const usage = `usage: patchbay <command> [flags]

commands:
  serve                                   run the server
  keys create --name NAME [--project ID | --org] [--member EMAIL]
  keys list [--project ID | --org] [--active]
  keys revoke ID
  projects list
  projects create --name NAME [--with-key]
  members add --email EMAIL --role owner|admin|member [--name NAME]
  members list
  keyring rotate
  keyring status
  audit list [--project ID] [--limit N]

Run 'patchbay <command> -h' for a command's flags.
`

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, env, stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "patchbay: %s\n", ue.msg)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "patchbay: %s\n", err)
		return exitError
	}
}

func dispatch(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	io := cmdIO{ctx: ctx, env: env, stdout: stdout, stderr: stderr}
	switch cmd {
	case "serve":
		return serveCmd(io, rest)
	case "keys", "projects", "members", "keyring", "audit":
		if sub == "" || sub[0] == '-' {
			return usagef("%s needs a subcommand (see 'patchbay help')", cmd)
		}
		return adminCmd(io, cmd+" "+sub, rest[1:])
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usagef("unknown command %q (see 'patchbay help')", cmd)
}

// cmdIO is what every command gets: its context, environment and streams.
type cmdIO struct {
	ctx    context.Context
	env    func(string) string
	stdout io.Writer
	stderr io.Writer
}
