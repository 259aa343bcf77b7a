package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/patchbay-dev/patchbay/internal/app"
	"github.com/patchbay-dev/patchbay/internal/config"
	"github.com/patchbay-dev/patchbay/internal/logging"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// parseFlags parses args, turning -h into printed help and flag errors into
// usage errors.
func parseFlags(cio cmdIO, fs *flag.FlagSet, args []string) error {
	_, err := parseOrHelp(cio, fs, args)
	return err
}

// parseOrHelp is parseFlags that also reports whether it printed help.
func parseOrHelp(cio cmdIO, fs *flag.FlagSet, args []string) (helped bool, err error) {
	fs.SetOutput(io.Discard)
	err = fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(cio.stdout, fs)
		return true, nil
	}
	if err != nil {
		return false, usagef("%s: %v", fs.Name(), err)
	}
	return false, nil
}

// adminRun is an admin command whose flags are defined: check runs once
// they are parsed, before anything is opened, so that a mistyped command
// never creates a data dir, a database or a root key; run runs against the
// opened database.
type adminRun struct {
	check func(args []string) error // nil: the command takes no arguments
	run   func(x *adminCtx, args []string) error
}

// adminCtx is what an admin command runs with.
type adminCtx struct {
	ctx    context.Context
	app    *app.App
	actor  *patchbay.Principal // the owner, through the CLI
	out    io.Writer           // results
	errOut io.Writer           // what was done, for a person
	env    func(string) string
}

// runAdmin runs the admin command c: its flags, its checks, then its run
// against the configured database.
func runAdmin(cio cmdIO, c *command, args []string) error {
	var cfg config.Config
	fs := cfg.FlagSet(c.name, cio.env, false)
	r := c.admin(fs)
	if helped, err := parseOrHelp(cio, fs, args); err != nil || helped {
		return err
	}
	check := r.check
	if check == nil {
		check = func(args []string) error { return noArgs(c.name, args) }
	}
	if err := check(fs.Args()); err != nil {
		return err
	}
	if err := cfg.Validate(false); err != nil {
		return usagef("%v", err)
	}
	// Admin commands log warnings only, to stderr; stdout is for results.
	log, err := logging.New(cio.stderr, logging.Options{Format: cfg.LogFormat, Level: "warn"})
	if err != nil {
		return usagef("%v", err)
	}
	a, err := app.Open(cio.ctx, cfg, log, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	actor, err := a.CLIPrincipal(cio.ctx)
	if err != nil {
		return err
	}
	return r.run(&adminCtx{ctx: cio.ctx, app: a, actor: actor, out: cio.stdout, errOut: cio.stderr, env: cio.env}, fs.Args())
}

func noArgs(name string, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments; got %q", name, args)
	}
	return nil
}

// required fails when a required flag is empty.
func required(name, flagName, value string) error {
	if strings.TrimSpace(value) == "" {
		return usagef("%s: %s is required", name, flagName)
	}
	return nil
}

// keysCreate creates an API key and prints it, alone on stdout.
func keysCreate(fs *flag.FlagSet) adminRun {
	name := fs.String("name", "", "the key's `NAME` (required)")
	project := fs.String("project", "", "project `ID` (default: the default project)")
	org := fs.Bool("org", false, "create an organization key (oak_…) instead of a project key")
	member := fs.String("member", "", "`EMAIL` of the member the key acts as (default: the owner)")
	return adminRun{
		check: func(args []string) error {
			if err := noArgs("keys create", args); err != nil {
				return err
			}
			if *org && *project != "" {
				return usagef("--org and --project exclude each other")
			}
			return required("keys create", "--name", *name)
		},
		run: func(x *adminCtx, _ []string) error {
			svc, ctx := x.app.Service, x.ctx
			nk := patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: *project, Name: *name}
			if *org {
				nk.Kind = patchbay.KeyKindOrg
			} else if *project == "" {
				ps, _, err := svc.ListProjects(ctx, x.actor, "", 1)
				if err != nil {
					return err
				}
				if len(ps) == 0 {
					return errors.New("the organization has no project: create one with 'patchbay projects create'")
				}
				nk.ProjectID = ps[0].Project.ID
			}
			if *member != "" {
				m, err := svc.MemberByEmail(ctx, x.actor, *member)
				if err != nil {
					return err
				}
				nk.Owner = m
			}
			k, tok, err := svc.CreateAPIKey(ctx, x.actor, nk)
			if err != nil {
				return err
			}
			fmt.Fprintf(x.errOut, "created %s key %s (%q) in %s; it is shown once, below, and never again\n",
				k.Kind, k.ID, k.Name, orDash(k.ProjectID, "organization "+k.OrgID))
			fmt.Fprintln(x.out, tok.Secret.Reveal())
			return nil
		},
	}
}

// keysList lists API keys, masked.
func keysList(fs *flag.FlagSet) adminRun {
	project := fs.String("project", "", "only keys of project `ID`")
	org := fs.Bool("org", false, "only organization keys")
	active := fs.Bool("active", false, "hide revoked keys")
	return adminRun{
		check: func(args []string) error {
			if err := noArgs("keys list", args); err != nil {
				return err
			}
			if *org && *project != "" {
				return usagef("--org and --project exclude each other")
			}
			return nil
		},
		run: func(x *adminCtx, _ []string) error {
			q := patchbay.KeyQuery{ProjectID: *project, IncludeRevoked: !*active}
			if *org {
				q.Kind = patchbay.KeyKindOrg
			}
			keys, err := x.app.Service.ListAPIKeys(x.ctx, x.actor, q)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(x.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tKIND\tPROJECT\tKEY\tSTATUS\tCREATED\tLAST USED\tREVOKED\tREVOKED BY")
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Kind, orDash(k.ProjectID, "-"),
					k.Masked(), k.Status(), stamp(&k.CreatedAt), stamp(k.LastUsedAt), stamp(k.RevokedAt), orDash(k.RevokedBy, "-"))
			}
			return tw.Flush()
		},
	}
}

// keysRevoke revokes one API key; revoking it again changes nothing.
func keysRevoke(*flag.FlagSet) adminRun {
	return adminRun{
		check: func(args []string) error {
			if len(args) != 1 {
				return usagef("keys revoke takes exactly one key ID")
			}
			return nil
		},
		run: func(x *adminCtx, args []string) error {
			k, err := x.app.Service.RevokeAPIKey(x.ctx, x.actor, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(x.out, "revoked %s (%q) at %s\n", k.ID, k.Name, stamp(k.RevokedAt))
			return nil
		},
	}
}

// projectsList lists the organization's projects.
func projectsList(*flag.FlagSet) adminRun {
	return adminRun{run: func(x *adminCtx, _ []string) error {
		ps, _, err := x.app.Service.ListProjects(x.ctx, x.actor, "", 10_000)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(x.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED")
		for _, pv := range ps {
			p := pv.Project
			fmt.Fprintf(tw, "%s\t%s\t%s\n", p.ID, p.Name, stamp(&p.CreatedAt))
		}
		return tw.Flush()
	}}
}

// projectsCreate creates a project and prints its ID, or with --with-key
// its first API key.
// projectsLogPayloads says whether a project's execution logs keep the
// redacted arguments and results of its tool calls.
func projectsLogPayloads(fs *flag.FlagSet) adminRun {
	project := fs.String("project", "", "the project's `ID` (required)")
	keep := fs.Bool("keep", true, "keep the payloads (false: only what ran, for whom, how it ended)")
	return adminRun{
		check: func(args []string) error {
			if err := noArgs("projects log-payloads", args); err != nil {
				return err
			}
			return required("projects log-payloads", "--project", *project)
		},
		run: func(x *adminCtx, _ []string) error {
			if err := x.app.Service.SetLogPayloads(x.ctx, x.actor, *project, *keep); err != nil {
				return err
			}
			what := "keeps"
			if !*keep {
				what = "omits"
			}
			fmt.Fprintf(x.errOut, "project %s now %s tool payloads in its execution logs\n", *project, what)
			return nil
		},
	}
}

func projectsCreate(fs *flag.FlagSet) adminRun {
	name := fs.String("name", "", "the project's `NAME` (required)")
	withKey := fs.Bool("with-key", false, "also create the project's first API key and print it")
	return adminRun{
		check: func(args []string) error {
			if err := noArgs("projects create", args); err != nil {
				return err
			}
			return required("projects create", "--name", *name)
		},
		run: func(x *adminCtx, _ []string) error {
			cp, err := x.app.Service.CreateProject(x.ctx, x.actor, *name, *withKey)
			if err != nil {
				return err
			}
			if cp.Key != nil {
				fmt.Fprintf(x.errOut, "created project %s (%q) with key %s; the key is shown once, below\n", cp.Project.ID, cp.Project.Name, cp.Key.ID)
				fmt.Fprintln(x.out, cp.Token.Secret.Reveal())
			} else {
				fmt.Fprintf(x.errOut, "created project %q\n", cp.Project.Name)
				fmt.Fprintln(x.out, cp.Project.ID)
			}
			return nil
		},
	}
}

// membersAdd adds a member to the organization and prints its ID.
func membersAdd(fs *flag.FlagSet) adminRun {
	email := fs.String("email", "", "the member's `EMAIL` (required)")
	role := fs.String("role", "member", "the member's `ROLE`: owner, admin or member")
	name := fs.String("name", "", "display `NAME`")
	return adminRun{
		check: func(args []string) error {
			if err := noArgs("members add", args); err != nil {
				return err
			}
			return required("members add", "--email", *email)
		},
		run: func(x *adminCtx, _ []string) error {
			m, err := x.app.Service.AddMember(x.ctx, x.actor, *email, *name, patchbay.Role(*role))
			if err != nil {
				return err
			}
			fmt.Fprintf(x.errOut, "added %s as %s\n", m.Email, m.Role)
			fmt.Fprintln(x.out, m.ID)
			return nil
		},
	}
}

// membersInvite makes a one-time sign-up link for a new member and prints
// it (it works before the server has run; PATCHBAY_PUBLIC_URL says where
// the dashboard is).
func membersInvite(fs *flag.FlagSet) adminRun {
	email := fs.String("email", "", "the new member's `EMAIL` (required)")
	role := fs.String("role", "member", "the member's `ROLE`: owner, admin or member")
	return adminRun{
		check: func(args []string) error {
			if err := noArgs("members invite", args); err != nil {
				return err
			}
			return required("members invite", "--email", *email)
		},
		run: func(x *adminCtx, _ []string) error {
			inv, tok, err := x.app.Service.CreateInvite(x.ctx, x.actor, *email, patchbay.Role(*role))
			if err != nil {
				return err
			}
			fmt.Fprintf(x.errOut, "invited %s as %s; the link works once, until %s:\n", inv.Email, inv.Role, inv.ExpiresAt.Format(time.RFC3339))
			fmt.Fprintln(x.out, signupLink(publicURL(x.env, "http://127.0.0.1:8080"), tok))
			return nil
		},
	}
}

// membersList lists the organization's members.
func membersList(*flag.FlagSet) adminRun {
	return adminRun{run: func(x *adminCtx, _ []string) error {
		ms, err := x.app.Service.ListMembers(x.ctx, x.actor)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(x.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE")
		for _, m := range ms {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.ID, m.Email, orDash(m.Name, "-"), m.Role)
		}
		return tw.Flush()
	}}
}

// keyringRotate starts a new key term and re-encrypts every sealed value
// under it.
func keyringRotate(*flag.FlagSet) adminRun {
	return adminRun{run: func(x *adminCtx, _ []string) error {
		term, n, err := x.app.Service.RotateKeyring(x.ctx, x.actor, 500)
		if err != nil && term == 0 {
			return err
		}
		if err != nil {
			return fmt.Errorf("rotated to term %d, but re-encryption stopped (running servers will finish it): %w", term, err)
		}
		fmt.Fprintf(x.out, "active key term is now %d; re-encrypted %d values\n", term, n)
		return nil
	}}
}

// keyringStatus prints the active key term and how many values each term
// seals.
func keyringStatus(*flag.FlagSet) adminRun {
	return adminRun{run: func(x *adminCtx, _ []string) error {
		active, counts, err := x.app.Service.KeyringStatus(x.ctx, x.actor)
		if err != nil {
			return err
		}
		fmt.Fprintf(x.out, "active term: %d\n", active)
		terms := make([]uint32, 0, len(counts))
		for t := range counts {
			terms = append(terms, t)
		}
		sort.Slice(terms, func(i, j int) bool { return terms[i] < terms[j] })
		for _, t := range terms {
			fmt.Fprintf(x.out, "term %d: %d sealed values\n", t, counts[t])
		}
		return nil
	}}
}

// auditList lists the newest audit events.
func auditList(fs *flag.FlagSet) adminRun {
	project := fs.String("project", "", "only events of project `ID`")
	limit := fs.Int("limit", 50, "at most `N` events")
	return adminRun{run: func(x *adminCtx, _ []string) error {
		events, err := x.app.Service.ListAudit(x.ctx, x.actor, *project, *limit)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(x.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "WHEN\tACTION\tTARGET\tACTOR\tVIA KEY\tFROM")
		for _, e := range events {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", stamp(&e.At), e.Action, e.TargetID, orDash(e.ActorID, "-"), orDash(e.ActorKey, "-"), orDash(e.IP, "-"))
		}
		return tw.Flush()
	}}
}

// helpAsked reports whether args ask for help (serve and version call
// parseFlags, which prints it, and then stop).
func helpAsked(args []string) bool {
	for _, a := range args {
		if isHelpFlag(a) {
			return true
		}
	}
	return false
}

func orDash(s, dash string) string {
	if strings.TrimSpace(s) == "" {
		return dash
	}
	return s
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
