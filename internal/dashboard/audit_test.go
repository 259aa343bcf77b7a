package dashboard_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// auditRows are the rows of the audit table on p, in order.
func auditRows(p *page) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?s)<tr data-event="[^"]+">(.*?)</tr>`).FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

// auditFind is the index of the first row saying every one of parts, or -1.
func auditFind(rows []string, parts ...string) int {
next:
	for i, r := range rows {
		for _, s := range parts {
			if !strings.Contains(r, s) {
				continue next
			}
		}
		return i
	}
	return -1
}

// TestAuditPage: owners and admins see who did what, through which
// credential and from where, newest first; a member is told the log is
// not theirs to read (403) instead of seeing an empty list; a project
// without events shows the empty state; the number shown can grow.
func TestAuditPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk testserver.Backend) {
		srv, owner := start(t, bk)
		b := newBrowser(t, srv)
		b.signIn(owner)
		path := projectPath(srv, "/audit")

		// An API key's actions, then a dashboard action.
		ac := acctAuthConfig(t, srv, srv.OwnerKey)
		id := acctConnect(t, srv, srv.OwnerKey, ac, "user-1", "serp-SECRET-audit-0123456789abcdef")
		b.get(projectPath(srv, "/accounts"))
		b.post(projectPath(srv, "/accounts/"+id+"/disable"), nil).want(t, http.StatusSeeOther)

		p := b.get(path).want(t, 200)
		p.has(t, "<h1>Audit log</h1>", `aria-current="page">Audit log`, `<caption class="visually-hidden">Audit events of`,
			`<th scope="col">Client address</th>`).lacks(t, "serp-SECRET-audit")
		rows := auditRows(p)
		disabled := auditFind(rows, "Disabled a connected account", "connected_account.disable", owner, "Dashboard sign-in", id, "127.0.0.1")
		connected := auditFind(rows, "Connected an account", "connected_account.create", owner, "API key owner (ak_", id, "127.0.0.1")
		configured := auditFind(rows, "Created an auth config", ac, "API key owner (ak_")
		keyMade := auditFind(rows, "Created an API key", "Command line", "API key owner (ak_")
		if disabled < 0 || connected < 0 || configured < 0 || keyMade < 0 {
			t.Fatalf("missing events (%d %d %d %d) in:\n%s", disabled, connected, configured, keyMade, strings.Join(rows, "\n"))
		}
		if !(disabled < connected && connected < configured && configured < keyMade) {
			t.Errorf("events not newest first: disable %d, connect %d, auth config %d, key %d", disabled, connected, configured, keyMade)
		}
		if auditFind(rows, "Created the project", "First start of patchbay") < 0 {
			t.Errorf("no project.create event from the first start:\n%s", strings.Join(rows, "\n"))
		}
		p.lacks(t, "Show older events")

		// The number of events shown grows on request.
		one := b.get(path+"?limit=1").want(t, 200)
		if r := auditRows(one); len(r) != 1 || !strings.Contains(r[0], "connected_account.disable") {
			t.Errorf("limit=1 shows %d rows: %v", len(r), r)
		}
		one.has(t, `<a href="`+path+`?limit=101">Show older events</a>`)
		b.get(path+"?limit=lots").want(t, 400).has(t, "must be a whole number from 1 to 1000").lacks(t, "<table")

		// An admin reads it too.
		ab := newBrowser(t, srv)
		ab.signIn(member(t, srv, "admin@example.com", patchbay.RoleAdmin))
		ap := ab.get(path).want(t, 200)
		if auditFind(auditRows(ap), "Disabled a connected account", owner) < 0 {
			t.Error("an admin does not see the owner's events")
		}

		// A member is refused, and told so.
		mb := newBrowser(t, srv)
		mb.signIn(member(t, srv, "dev@example.com", patchbay.RoleMember))
		mp := mb.get(path).want(t, http.StatusForbidden)
		mp.has(t, "<h1>Audit log</h1>", "Only owners and admins may do this; your role is member.", `role="alert"`,
			"Only owners and admins can see the audit log", "<strong>member</strong>")
		// Nor is the page in a member's navigation.
		mp.lacks(t, "<table", "Nothing has happened", "connected_account.", `>Audit log</a>`)

		// A project without events shows the empty state.
		ctx := context.Background()
		pid, err := patchbay.NewID(patchbay.PrefixProject, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		if err := srv.Store.CreateProject(ctx, &patchbay.Project{ID: pid, OrgID: srv.Org.ID, Name: "Quiet", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		quiet := b.get("/projects/"+pid+"/audit").want(t, 200)
		quiet.has(t, "Nothing has happened in this project yet", "Quiet").lacks(t, "<table")
		mb.get("/projects/"+pid+"/audit").want(t, http.StatusForbidden).lacks(t, "Nothing has happened")
	})
}
