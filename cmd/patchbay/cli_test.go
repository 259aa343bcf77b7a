package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The admin commands work on a database no server has ever opened, on
// SQLite and on PostgreSQL.

// TestCLIKeys: create prints exactly the key on stdout and the details on
// stderr; list masks keys and shows status; revoke marks the key revoked
// with its time and is idempotent; unknown IDs fail clearly.
func TestCLIKeys(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := b.make(t)

			r := mustCLI(t, e, "keys", "create", "--name", "first")
			key := r.stdout
			if !strings.HasSuffix(key, "\n") || strings.Count(key, "\n") != 1 || !projectKeyRE.MatchString(strings.TrimSuffix(key, "\n")) {
				t.Fatalf("keys create stdout = %q, want exactly one line ak_ + 33 base62", key)
			}
			key = strings.TrimSuffix(key, "\n")
			m := regexp.MustCompile(`^created project key (key_\w+) \("first"\) in (pr_\w+); it is shown once`).FindStringSubmatch(r.stderr[strings.LastIndex(strings.TrimSuffix(r.stderr, "\n"), "\n")+1:])
			if m == nil {
				t.Fatalf("keys create stderr = %q, want the key's details", r.stderr)
			}
			keyID, projectID := m[1], m[2]
			if strings.Contains(r.stderr, key) {
				t.Fatalf("keys create printed the key on stderr: %q", r.stderr)
			}

			r = mustCLI(t, e, "keys", "create", "--name", "orgwide", "--org")
			orgKey := strings.TrimSpace(r.stdout)
			if !orgKeyRE.MatchString(orgKey) || strings.Count(r.stdout, "\n") != 1 {
				t.Fatalf("keys create --org stdout = %q, want one oak_ key", r.stdout)
			}
			if !strings.Contains(r.stderr, "created org key") || !strings.Contains(r.stderr, "organization org_") {
				t.Fatalf("keys create --org stderr = %q", r.stderr)
			}

			r = mustCLI(t, e, "keys", "list")
			for _, secret := range []string{key, orgKey} {
				if strings.Contains(r.stdout+r.stderr, secret) {
					t.Fatalf("keys list shows a full key:\n%s", r.stdout)
				}
			}
			rows := listedKeys(t, r.stdout)
			if len(rows) != 2 {
				t.Fatalf("keys list: %d rows, want 2:\n%s", len(rows), r.stdout)
			}
			first := rows[keyID]
			if first.name != "first" || first.kind != "project" || first.project != projectID || first.status != "active" ||
				first.key != key[:7]+"…" || first.lastUsed != "-" || first.revoked != "-" || first.revokedBy != "-" {
				t.Fatalf("keys list row for %s = %+v", keyID, first)
			}
			if _, err := time.Parse(time.RFC3339, first.created); err != nil {
				t.Fatalf("created %q: %v", first.created, err)
			}

			r = mustCLI(t, e, "keys", "revoke", keyID)
			m = regexp.MustCompile(`^revoked (key_\w+) \("first"\) at (\S+)\n$`).FindStringSubmatch(r.stdout)
			if m == nil || m[1] != keyID {
				t.Fatalf("keys revoke stdout = %q", r.stdout)
			}
			revokedAt, err := time.Parse(time.RFC3339, m[2])
			if err != nil || time.Since(revokedAt) > time.Minute {
				t.Fatalf("revoked at %q: %v", m[2], err)
			}

			rows = listedKeys(t, mustCLI(t, e, "keys", "list").stdout)
			first = rows[keyID]
			if first.status != "revoked" || first.revoked != m[2] || !strings.HasPrefix(first.revokedBy, "mem_") {
				t.Fatalf("after revoke, row = %+v, want revoked at %s by a member", first, m[2])
			}
			if rows := listedKeys(t, mustCLI(t, e, "keys", "list", "--active").stdout); len(rows) != 1 || rows[keyID].name != "" {
				t.Fatalf("keys list --active shows %v, want only the org key", rows)
			}
			if rows := listedKeys(t, mustCLI(t, e, "keys", "list", "--org").stdout); len(rows) != 1 {
				t.Fatalf("keys list --org shows %v, want only the org key", rows)
			}

			// Revoking again changes nothing: the first revocation stands.
			time.Sleep(1100 * time.Millisecond) // so a second revocation would show another second
			r = mustCLI(t, e, "keys", "revoke", keyID)
			if !strings.HasSuffix(r.stdout, " at "+m[2]+"\n") {
				t.Fatalf("second revoke = %q, want the first revocation time %s", r.stdout, m[2])
			}

			r = runCLI(t, e, "keys", "revoke", "key_doesnotexist0000")
			if r.code != exitError || r.stdout != "" || !strings.Contains(r.stderr, "patchbay: API key key_doesnotexist0000 not found") {
				t.Fatalf("revoke unknown: exit %d, stdout %q, stderr %q; want exit 1 naming the key", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestCLIUsageErrors: command-line mistakes exit 2 with a message saying
// what is wrong, and touch nothing (the data dir is not created).
func TestCLIUsageErrors(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	e := env{"PATCHBAY_DATA_DIR": dir}
	cases := []struct {
		args []string
		want string
	}{
		{nil, "no command given"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"keys"}, "keys needs a subcommand"},
		{[]string{"keys", "--name", "x"}, "keys needs a subcommand"},
		{[]string{"keys", "frob"}, `unknown command "keys frob"`},
		{[]string{"keys", "create"}, "keys create: --name is required"},
		{[]string{"keys", "create", "--name", "  "}, "keys create: --name is required"},
		{[]string{"projects", "create"}, "projects create: --name is required"},
		{[]string{"members", "add", "--role", "member"}, "members add: --email is required"},
		{[]string{"keys", "create", "--name", "x", "--bogus"}, "keys create: flag provided but not defined: -bogus"},
		{[]string{"keys", "create", "--name", "x", "--org", "--project", "pr_x"}, "--org and --project exclude each other"},
		{[]string{"keys", "revoke"}, "keys revoke takes exactly one key ID"},
		{[]string{"keys", "revoke", "a", "b"}, "keys revoke takes exactly one key ID"},
		{[]string{"keys", "list", "extra"}, `keys list takes no arguments; got ["extra"]`},
		{[]string{"keys", "list", "--database-url", "mysql://x"}, "--database-url must be a postgres:// or postgresql:// URL"},
		{[]string{"serve", "--addr", "nonsense"}, `--addr "nonsense" is not HOST:PORT`},
		{[]string{"serve", "--addr", "127.0.0.1:99999"}, `--addr "127.0.0.1:99999": port must be a number from 0 to 65535`},
		{[]string{"serve", "--log-format", "xml"}, `--log-format must be text or json; got "xml"`},
		{[]string{"serve", "now"}, "serve takes no arguments"},
	}
	for _, c := range cases {
		r := runCLI(t, e, c.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "patchbay: "+c.want) || r.stdout != "" {
			t.Errorf("patchbay %s: exit %d, stdout %q, stderr %q; want exit 2 with %q",
				strings.Join(c.args, " "), r.code, r.stdout, r.stderr, c.want)
		}
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"keys", "create", "-h"}, {"serve", "-h"}} {
		r := runCLI(t, e, args...)
		if r.code != exitOK || !strings.Contains(r.stdout, "usage") {
			t.Errorf("patchbay %s: exit %d, stdout %q; want usage on stdout", strings.Join(args, " "), r.code, r.stdout)
		}
	}
	if es := dirEntries(t, dir); es != nil {
		t.Fatalf("usage errors created the data dir: %v", es)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("usage errors created the data dir (%v)", err)
	}
}

// TestCLIFreshDataDir: the first command on a fresh data dir creates the
// database and a development root key readable by the owner only, and
// warns loudly about it, on every command that uses it.
func TestCLIFreshDataDir(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	dir := e["PATCHBAY_DATA_DIR"]
	r := mustCLI(t, e, "projects", "list")
	if !strings.Contains(r.stderr, "level=WARN") || !strings.Contains(r.stderr, "DEVELOPMENT ONLY: created a root key file") {
		t.Fatalf("first command stderr = %q, want a loud warning about the development root key", r.stderr)
	}
	if !strings.Contains(r.stdout, "Default project") {
		t.Fatalf("projects list = %q, want the bootstrapped default project", r.stdout)
	}
	st, err := os.Stat(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("root.key mode %v, want 0600", st.Mode().Perm())
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v (%v), want 0700", st.Mode().Perm(), err)
	}
	r = mustCLI(t, e, "projects", "list")
	if !strings.Contains(r.stderr, "DEVELOPMENT ONLY: using a root key file") {
		t.Fatalf("second command stderr = %q, want the warning again", r.stderr)
	}
	// Admin commands log warnings only: nothing at info level on stderr.
	if strings.Contains(r.stderr, "level=INFO") {
		t.Fatalf("admin command logged at info level: %q", r.stderr)
	}
}

// TestCLIProjectsMembersKeyringAudit covers the other admin commands.
func TestCLIProjectsMembersKeyringAudit(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := b.make(t)

			r := mustCLI(t, e, "projects", "create", "--name", "Alpha")
			alpha := strings.TrimSpace(r.stdout)
			if !regexp.MustCompile(`^pr_\w{16}$`).MatchString(alpha) || !strings.Contains(r.stderr, `created project "Alpha"`) {
				t.Fatalf("projects create: stdout %q stderr %q", r.stdout, r.stderr)
			}
			r = mustCLI(t, e, "projects", "create", "--name", "Beta", "--with-key")
			betaKey := strings.TrimSpace(r.stdout)
			if !projectKeyRE.MatchString(betaKey) || !strings.Contains(r.stderr, `created project pr_`) {
				t.Fatalf("projects create --with-key: stdout %q stderr %q", r.stdout, r.stderr)
			}
			r = mustCLI(t, e, "projects", "list")
			for _, name := range []string{"Default project", "Alpha", "Beta"} {
				if !strings.Contains(r.stdout, name) {
					t.Fatalf("projects list lacks %q:\n%s", name, r.stdout)
				}
			}
			if !strings.Contains(r.stdout, alpha) {
				t.Fatalf("projects list lacks %s:\n%s", alpha, r.stdout)
			}

			r = mustCLI(t, e, "members", "add", "--email", "e@x.io", "--role", "member", "--name", "Eve")
			memberID := strings.TrimSpace(r.stdout)
			if !strings.HasPrefix(memberID, "mem_") || !strings.Contains(r.stderr, "added e@x.io as member") {
				t.Fatalf("members add: stdout %q stderr %q", r.stdout, r.stderr)
			}
			r = mustCLI(t, e, "members", "list")
			if !regexp.MustCompile(memberID + `\s+e@x\.io\s+Eve\s+member`).MatchString(r.stdout) {
				t.Fatalf("members list:\n%s", r.stdout)
			}
			owner := regexp.MustCompile(`(mem_\w+)\s+owner@patchbay\.local\s+Owner\s+owner`).FindStringSubmatch(r.stdout)
			if owner == nil {
				t.Fatalf("members list lacks the bootstrapped owner:\n%s", r.stdout)
			}
			if r := runCLI(t, e, "members", "add", "--email", "E@X.io", "--role", "admin"); r.code != exitError || !strings.Contains(r.stderr, "exists already") {
				t.Fatalf("duplicate member (case-insensitive): exit %d %q", r.code, r.stderr)
			}
			if r := runCLI(t, e, "members", "add", "--email", "f@x.io", "--role", "boss"); r.code != exitError || !strings.Contains(r.stderr, `role must be one of owner, admin, member; got "boss"`) {
				t.Fatalf("bad role: exit %d %q", r.code, r.stderr)
			}

			// Keys in a named project, and keys acting as another member.
			_, alphaKeyID := cliKey(t, e, "--name", "alpha-key", "--project", alpha)
			rows := listedKeys(t, mustCLI(t, e, "keys", "list", "--project", alpha).stdout)
			if len(rows) != 1 || rows[alphaKeyID].project != alpha {
				t.Fatalf("keys list --project: %v", rows)
			}
			cliKey(t, e, "--name", "eve-key", "--member", "e@x.io")
			if r := runCLI(t, e, "keys", "create", "--name", "x", "--member", "nobody@x.io"); r.code != exitError || !strings.Contains(r.stderr, "Member nobody@x.io not found") {
				t.Fatalf("--member unknown: exit %d %q", r.code, r.stderr)
			}
			if r := runCLI(t, e, "keys", "create", "--name", "x", "--project", "pr_nope"); r.code != exitError || !strings.Contains(r.stderr, "Project pr_nope not found") {
				t.Fatalf("--project unknown: exit %d %q", r.code, r.stderr)
			}
			mustCLI(t, e, "keys", "revoke", alphaKeyID)

			// Keyring: three sealed webhook secrets (default, Alpha, Beta) under
			// term 1; rotation moves all of them to term 2.
			r = mustCLI(t, e, "keyring", "status")
			if r.stdout != "active term: 1\nterm 1: 3 sealed values\n" {
				t.Fatalf("keyring status before rotation:\n%s", r.stdout)
			}
			r = mustCLI(t, e, "keyring", "rotate")
			if r.stdout != "active key term is now 2; re-encrypted 3 values\n" {
				t.Fatalf("keyring rotate: %q", r.stdout)
			}
			r = mustCLI(t, e, "keyring", "status")
			if r.stdout != "active term: 2\nterm 2: 3 sealed values\n" {
				t.Fatalf("keyring status after rotation:\n%s", r.stdout)
			}
			// The rotated keyring still opens: a new project seals under term 2.
			mustCLI(t, e, "projects", "create", "--name", "Gamma")
			if r := mustCLI(t, e, "keyring", "status"); r.stdout != "active term: 2\nterm 2: 4 sealed values\n" {
				t.Fatalf("keyring status after a new project:\n%s", r.stdout)
			}

			// Audit: key events with the acting owner, no key, from the CLI.
			r = mustCLI(t, e, "audit", "list")
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if !strings.HasPrefix(lines[0], "WHEN") {
				t.Fatalf("audit list header: %q", lines[0])
			}
			actions := map[string]int{}
			for i, l := range lines[1:] {
				f := strings.Fields(l)
				if len(f) != 6 {
					t.Fatalf("audit row %q has %d fields", l, len(f))
				}
				actions[f[1]]++
				from := "cli"
				if i == len(lines)-2 { // the oldest: the default project, made by the bootstrap
					from = "bootstrap"
				}
				if f[3] != owner[1] || f[4] != "-" || f[5] != from {
					t.Errorf("audit row %q: want actor %s, via key -, from %s", l, owner[1], from)
				}
			}
			for action, n := range map[string]int{"api_key.create": 3, "api_key.revoke": 1, "project.create": 4, "member.create": 1} {
				if actions[action] != n {
					t.Errorf("audit list has %d %s events, want %d:\n%s", actions[action], action, n, r.stdout)
				}
			}
			if !regexp.MustCompile(`api_key\.revoke\s+` + alphaKeyID).MatchString(r.stdout) {
				t.Errorf("audit list lacks the revocation of %s:\n%s", alphaKeyID, r.stdout)
			}
			if r := mustCLI(t, e, "audit", "list", "--limit", "2"); strings.Count(r.stdout, "\n") != 3 {
				t.Errorf("audit list --limit 2:\n%s", r.stdout)
			}
			if r := mustCLI(t, e, "audit", "list", "--project", alpha); !strings.Contains(r.stdout, alphaKeyID) || strings.Contains(r.stdout, "member.create") {
				t.Errorf("audit list --project %s:\n%s", alpha, r.stdout)
			}
		})
	}
}

// TestCLIPostgresNeedsNoDataDir: with PostgreSQL and a root key, commands
// write nothing to the local disk.
func TestCLIPostgresNeedsNoDataDir(t *testing.T) {
	t.Parallel()
	e := postgresEnv(t)
	key, id := cliKey(t, e, "--name", "pg")
	if !projectKeyRE.MatchString(key) {
		t.Fatalf("key %q", key)
	}
	mustCLI(t, e, "keys", "revoke", id)
	if es := dirEntries(t, e["PATCHBAY_DATA_DIR"]); es != nil {
		t.Fatalf("PostgreSQL commands wrote to the data dir: %v", es)
	}
}
