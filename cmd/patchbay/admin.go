package main

import (
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/patchbay-dev/patchbay/internal/config"
	"github.com/patchbay-dev/patchbay/internal/logging"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// parseFlags parses args, turning -h into printed help and flag errors into
// usage errors.
func parseFlags(cio cmdIO, fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(cio.stdout)
		fmt.Fprintf(cio.stdout, "usage of patchbay %s:\n", fs.Name())
		fs.PrintDefaults()
		return nil
	}
	if err != nil {
		return usagef("%s: %v", fs.Name(), err)
	}
	return nil
}

// adminCmd runs one admin subcommand against the configured database.
func adminCmd(cio cmdIO, name string, args []string) error {
	var (
		cfg                  config.Config
		fs                   = cfg.FlagSet(name, cio.env, false)
		keyName, project     string
		org, active, withKey bool
		email, role, member  string
		limit                int
	)
	switch name {
	case "keys create":
		fs.StringVar(&keyName, "name", "", "the key's `NAME` (required)")
		fs.StringVar(&project, "project", "", "project `ID` (default: the default project)")
		fs.BoolVar(&org, "org", false, "create an organization key (oak_…) instead of a project key")
		fs.StringVar(&member, "member", "", "`EMAIL` of the member the key acts as (default: the owner)")
	case "keys list":
		fs.StringVar(&project, "project", "", "only keys of project `ID`")
		fs.BoolVar(&org, "org", false, "only organization keys")
		fs.BoolVar(&active, "active", false, "hide revoked keys")
	case "keys revoke", "projects list", "members list", "keyring rotate", "keyring status":
	case "projects create":
		fs.StringVar(&keyName, "name", "", "the project's `NAME` (required)")
		fs.BoolVar(&withKey, "with-key", false, "also create the project's first API key and print it")
	case "members add":
		fs.StringVar(&email, "email", "", "the member's `EMAIL` (required)")
		fs.StringVar(&role, "role", "member", "owner, admin or member")
		fs.StringVar(&keyName, "name", "", "display `NAME`")
	case "audit list":
		fs.StringVar(&project, "project", "", "only events of project `ID`")
		fs.IntVar(&limit, "limit", 50, "at most `N` events")
	default:
		return usagef("unknown command %q (see 'patchbay help')", name)
	}
	if err := parseFlags(cio, fs, args); err != nil || fs.Parsed() && helpAsked(args) {
		return err
	}
	wantArgs := 0
	if name == "keys revoke" {
		wantArgs = 1
	}
	if fs.NArg() != wantArgs {
		if wantArgs == 1 {
			return usagef("keys revoke takes exactly one key ID")
		}
		return usagef("%s takes no arguments; got %q", name, fs.Args())
	}
	if org && project != "" {
		return usagef("--org and --project exclude each other")
	}
	// Required flags are checked before anything is opened, so a mistyped
	// command never creates a data dir, a database or a root key.
	switch {
	case (name == "keys create" || name == "projects create") && strings.TrimSpace(keyName) == "":
		return usagef("%s: --name is required", name)
	case name == "members add" && strings.TrimSpace(email) == "":
		return usagef("members add: --email is required")
	}
	if err := cfg.Validate(false); err != nil {
		return usagef("%v", err)
	}
	// Admin commands log warnings only, to stderr; stdout is for results.
	log, err := logging.New(cio.stderr, logging.Options{Format: cfg.LogFormat, Level: "warn"})
	if err != nil {
		return usagef("%v", err)
	}
	a, err := openApp(cio.ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ctx := cio.ctx
	actor, err := a.owner(ctx)
	if err != nil {
		return err
	}
	out, errOut := cio.stdout, cio.stderr

	switch name {
	case "keys create":
		nk := patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: a.org.ID, ProjectID: project, Name: keyName}
		if org {
			nk.Kind = patchbay.KeyKindOrg
		} else if project == "" {
			ps, err := a.store.ListProjects(ctx, a.org.ID, "", 1)
			if err != nil {
				return err
			}
			if len(ps) == 0 {
				return errors.New("the organization has no project: create one with 'patchbay projects create'")
			}
			nk.ProjectID = ps[0].ID
		}
		if member != "" {
			m, err := a.store.GetMemberByEmail(ctx, a.org.ID, member)
			if err != nil {
				return err
			}
			nk.Owner = m
		}
		k, tok, err := a.svc.CreateAPIKey(ctx, actor, nk)
		if err != nil {
			return err
		}
		fmt.Fprintf(errOut, "created %s key %s (%q) in %s; it is shown once, below, and never again\n",
			k.Kind, k.ID, k.Name, orDash(k.ProjectID, "organization "+k.OrgID))
		fmt.Fprintln(out, tok.Secret.Reveal())

	case "keys list":
		f := patchbay.KeyFilter{OrgID: a.org.ID, ProjectID: project, IncludeRevoked: !active}
		if org {
			f.Kind = patchbay.KeyKindOrg
		}
		keys, err := a.svc.ListAPIKeys(ctx, actor, f)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tKIND\tPROJECT\tKEY\tSTATUS\tCREATED\tLAST USED\tREVOKED\tREVOKED BY")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Kind, orDash(k.ProjectID, "-"),
				k.Masked(), k.Status(), stamp(&k.CreatedAt), stamp(k.LastUsedAt), stamp(k.RevokedAt), orDash(k.RevokedBy, "-"))
		}
		return tw.Flush()

	case "keys revoke":
		k, err := a.svc.RevokeAPIKey(ctx, actor, a.org.ID, "", fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "revoked %s (%q) at %s\n", k.ID, k.Name, stamp(k.RevokedAt))

	case "projects list":
		ps, err := a.store.ListProjects(ctx, a.org.ID, "", 10_000)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED")
		for _, p := range ps {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", p.ID, p.Name, stamp(&p.CreatedAt))
		}
		return tw.Flush()

	case "projects create":
		cp, err := a.svc.CreateProject(ctx, actor, a.org.ID, keyName, withKey)
		if err != nil {
			return err
		}
		if cp.Key != nil {
			fmt.Fprintf(errOut, "created project %s (%q) with key %s; the key is shown once, below\n", cp.Project.ID, cp.Project.Name, cp.Key.ID)
			fmt.Fprintln(out, cp.Token.Secret.Reveal())
		} else {
			fmt.Fprintf(errOut, "created project %q\n", cp.Project.Name)
			fmt.Fprintln(out, cp.Project.ID)
		}

	case "members add":
		m, err := a.svc.AddMember(ctx, actor, a.org.ID, email, keyName, patchbay.Role(role))
		if err != nil {
			return err
		}
		fmt.Fprintf(errOut, "added %s as %s\n", m.Email, m.Role)
		fmt.Fprintln(out, m.ID)

	case "members list":
		ms, err := a.store.ListMembers(ctx, a.org.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE")
		for _, m := range ms {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.ID, m.Email, orDash(m.Name, "-"), m.Role)
		}
		return tw.Flush()

	case "keyring rotate":
		term, err := a.keyring.Rotate(ctx)
		if err != nil {
			return err
		}
		n, err := a.keyring.Reencrypt(ctx, a.store, 500)
		if err != nil {
			return fmt.Errorf("rotated to term %d, but re-encryption stopped (running servers will finish it): %w", term, err)
		}
		fmt.Fprintf(out, "active key term is now %d; re-encrypted %d values\n", term, n)

	case "keyring status":
		counts, err := a.store.CountSecretsByTerm(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "active term: %d\n", a.keyring.ActiveTerm())
		terms := make([]uint32, 0, len(counts))
		for t := range counts {
			terms = append(terms, t)
		}
		sort.Slice(terms, func(i, j int) bool { return terms[i] < terms[j] })
		for _, t := range terms {
			fmt.Fprintf(out, "term %d: %d sealed values\n", t, counts[t])
		}

	case "audit list":
		events, err := a.svc.ListAudit(ctx, actor, a.org.ID, project, limit)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "WHEN\tACTION\tTARGET\tACTOR\tVIA KEY\tFROM")
		for _, e := range events {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", stamp(&e.At), e.Action, e.TargetID, orDash(e.ActorID, "-"), orDash(e.ActorKey, "-"), orDash(e.IP, "-"))
		}
		return tw.Flush()
	}
	return nil
}

func helpAsked(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
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
