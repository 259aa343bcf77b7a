package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// tkTableRow returns the table row whose attribute attr is value, failing
// the test if the page has none.
func tkTableRow(t *testing.T, p *page, attr, value string) string {
	t.Helper()
	i := strings.Index(p.Body, attr+`="`+value+`"`)
	if i < 0 {
		t.Fatalf("no row %s=%q on the page:\n%s", attr, value, tail(p.Body))
	}
	row := p.Body[i:]
	return row[:strings.Index(row, "</tr>")]
}

// tkCLI is the organization-wide principal of the server's CLI.
func tkCLI(t *testing.T, srv *testserver.Server) *patchbay.Principal {
	t.Helper()
	cli, err := srv.Service.CLIPrincipal(context.Background(), srv.Org.ID)
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

// tkTools lists a toolkit's tools as the Service does.
func tkTools(t *testing.T, srv *testserver.Server, f patchbay.ToolFilter) ([]*patchbay.Tool, int) {
	t.Helper()
	tools, n, err := srv.Service.Tools(tkCLI(t, srv), f)
	if err != nil {
		t.Fatal(err)
	}
	return tools, n
}

// TestToolkitsPage: the catalog lists every toolkit with its schemes, the
// fields each needs (who supplies them, required or not, described) and
// its number of tools; the search and category filters narrow it, with an
// empty state when nothing matches.
func TestToolkitsPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk testserver.Backend) {
		srv, owner := start(t, bk)
		b := newBrowser(t, srv)
		b.signIn(owner)

		all := b.get(projectPath(srv, "/toolkits")).want(t, 200)
		all.has(t, "<h1>Toolkits</h1>", `<caption class="visually-hidden">Toolkits of the catalog</caption>`, `aria-current="page">Toolkits`,
			`<label for="toolkit-search">`, `<label for="toolkit-category">`, `<option value="crm">CRM</option>`)
		tks, err := srv.Service.Toolkits(tkCLI(t, srv))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(all.Body, `<tr data-toolkit="`); got != len(tks) {
			t.Errorf("%d toolkit rows, want %d", got, len(tks))
		}
		all.has(t, fmt.Sprintf("%d of %d toolkits.", len(tks), len(tks)))

		_, ghTools := tkTools(t, srv, patchbay.ToolFilter{Toolkits: []string{"github"}})
		gh := tkTableRow(t, all, "data-toolkit", "github")
		for _, want := range []string{
			`href="/projects/` + srv.Project.ID + `/toolkits/github">GitHub</a>`,
			`<strong class="mono">OAUTH2</strong>`, `<strong class="mono">BEARER_TOKEN</strong> <span class="small">(the default`,
			"In the auth config:", `<span class="mono">client_id</span> (Client ID), required: The client ID of your GitHub OAuth App`,
			`<span class="mono">client_secret</span> (Client Secret), required, secret:`,
			"When a user connects:", `<span class="mono">access_token</span> (Access Token), optional, secret:`,
			"Developer Tools", fmt.Sprintf(">%d tools</a>", ghTools),
		} {
			if !strings.Contains(gh, want) {
				t.Errorf("the github row does not say %q:\n%s", want, gh)
			}
		}
		if ghTools == 0 {
			t.Error("github has no tools in the catalog")
		}
		if hn := tkTableRow(t, all, "data-toolkit", "hackernews"); !strings.Contains(hn, "Nothing to supply.") {
			t.Errorf("the hackernews row: %s", hn)
		}

		// Search by name or slug, case-insensitively.
		git := b.get(projectPath(srv, "/toolkits?search=GIT")).want(t, 200)
		git.has(t, `data-toolkit="github"`, `data-toolkit="gitlab"`, `value="GIT"`, "Clear the filters", "Toolkits of the catalog, filtered")
		git.lacks(t, `data-toolkit="slack"`)
		b.get(projectPath(srv, "/toolkits?search=one_dr")).want(t, 200).has(t, `data-toolkit="one_drive"`).lacks(t, `data-toolkit="github"`)

		// Filter by category, alone and with a search.
		crm := b.get(projectPath(srv, "/toolkits?category=crm")).want(t, 200)
		crm.has(t, `data-toolkit="hubspot"`, `data-toolkit="salesforce"`, `<option value="crm" selected>CRM</option>`)
		crm.lacks(t, `data-toolkit="github"`)
		b.get(projectPath(srv, "/toolkits?category=crm&search=hub")).want(t, 200).has(t, `data-toolkit="hubspot"`).lacks(t, `data-toolkit="salesforce"`)

		// Nothing matches: the empty state, with a way back.
		none := b.get(projectPath(srv, "/toolkits?search=zzz&category=crm")).want(t, 200)
		none.has(t, `<p class="empty">No toolkit matches “zzz” in the category crm.`, "Show every toolkit").lacks(t, "<table")

		// A member sees the same catalog.
		mb := newBrowser(t, srv)
		mb.signIn(member(t, srv, "dev@example.com", patchbay.RoleMember))
		mb.get(projectPath(srv, "/toolkits")).want(t, 200).has(t, `data-toolkit="github"`, "client_secret")

		// Signed out, the page asks to sign in; another project is not found.
		out := newBrowser(t, srv).get(projectPath(srv, "/toolkits")).want(t, http.StatusSeeOther)
		if !strings.HasPrefix(out.Location, "/signin?next=") {
			t.Errorf("signed out, the toolkits go to %q", out.Location)
		}
		b.get("/projects/pr_nope/toolkits").want(t, http.StatusNotFound)
	})
}

// TestToolkitPage: a toolkit's page shows its schemes' fields and its
// tools (name, slug, description, important), with search and important
// filters, links to create an auth config for it (for every role, as the
// Policy lets members configure auth) and counts the project's auth
// configs of it; an unknown toolkit is a 404.
func TestToolkitPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk testserver.Backend) {
		srv, owner := start(t, bk)
		b := newBrowser(t, srv)
		b.signIn(owner)

		tools, n := tkTools(t, srv, patchbay.ToolFilter{Toolkits: []string{"github"}})
		p := b.get(projectPath(srv, "/toolkits/github")).want(t, 200)
		p.has(t, "<h1>GitHub</h1>", "GitHub hosts Git repositories", `<span class="mono">github</span>`, `aria-current="page">Toolkits`,
			`<h3 id="scheme-OAUTH2" class="mono">OAUTH2</h3>`, `<h3 id="scheme-BEARER_TOKEN" class="mono">BEARER_TOKEN</h3>`,
			"The toolkit's default: a managed auth config uses this scheme",
			`<caption class="visually-hidden">Fields of the OAUTH2 scheme of GitHub</caption>`,
			"<td>In the auth config</td>", "<td>When a user connects</td>", "<td>Secret</td>", "<td>Required</td>", "<td>Optional</td>",
			fmt.Sprintf("%d of %d tools.", n, n), `<caption class="visually-hidden">Tools of GitHub</caption>`,
			"No auth config of this project uses it yet.",
			`href="/projects/`+srv.Project.ID+`/auth-configs?new=github#new-auth-config">Create an auth config for GitHub</a>`)
		if got := strings.Count(p.Body, `<tr data-tool="`); got != n {
			t.Errorf("%d tool rows, want %d", got, n)
		}
		important := 0
		for _, tool := range tools {
			row := tkTableRow(t, p, "data-tool", tool.Slug)
			for _, want := range []string{"<td>" + tool.Name, `<span class="mono small">` + tool.Slug + "</span>"} {
				if !strings.Contains(row, want) {
					t.Errorf("the row of %s does not say %q:\n%s", tool.Slug, want, row)
				}
			}
			if tool.Important() {
				important++
			}
			if strings.Contains(row, "Important</span>") != tool.Important() {
				t.Errorf("the row of %s (important: %v): %s", tool.Slug, tool.Important(), row)
			}
		}
		if important == 0 || important == n {
			t.Fatalf("github has %d important tools of %d; the test needs some of each", important, n)
		}

		// Only the important tools.
		imp := b.get(projectPath(srv, "/toolkits/github?important=1")).want(t, 200)
		imp.has(t, fmt.Sprintf("%d of %d tools.", important, n), `name="important" value="1" checked`, "Tools of GitHub, filtered")
		if got := strings.Count(imp.Body, `<tr data-tool="`); got != important {
			t.Errorf("%d rows with important=1, want %d", got, important)
		}

		// A search among the tools.
		first := tools[0]
		word := strings.Fields(strings.ToLower(first.Name))[0]
		found, m := tkTools(t, srv, patchbay.ToolFilter{Toolkits: []string{"github"}, Search: word})
		srch := b.get(projectPath(srv, "/toolkits/github?search="+word)).want(t, 200)
		srch.has(t, fmt.Sprintf("%d of %d tools.", m, n), `data-tool="`+found[0].Slug+`"`, `value="`+word+`"`)
		b.get(projectPath(srv, "/toolkits/github?search=zzzqqq")).want(t, 200).
			has(t, `<p class="empty">No tool of GitHub matches these filters.`, "Show every tool").lacks(t, `<tr data-tool="`)

		// The project's auth configs of the toolkit are counted and linked.
		bound, err := srv.Service.Authenticate(context.Background(), srv.OwnerKey)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := srv.Service.CreateAuthConfig(context.Background(), bound, patchbay.NewAuthConfig{Toolkit: "github", Managed: true}); err != nil {
				t.Fatal(err)
			}
		}
		b.get(projectPath(srv, "/toolkits/github")).want(t, 200).
			has(t, `<a href="/projects/`+srv.Project.ID+`/auth-configs?toolkit=github">2 auth configs of this project</a> use it.`)

		// The link opens the create form for the toolkit.
		b.get(projectPath(srv, "/auth-configs?new=github")).want(t, 200).has(t, `name="toolkit" value="github"`, `name="cred.OAUTH2.client_secret" type="password"`)

		// A member may configure auth too, so sees the link.
		mb := newBrowser(t, srv)
		mb.signIn(member(t, srv, "dev@example.com", patchbay.RoleMember))
		mb.get(projectPath(srv, "/toolkits/hackernews")).want(t, 200).
			has(t, "Nothing to supply: connections need no credentials.", "Create an auth config for Hacker News")

		b.get(projectPath(srv, "/toolkits/nope")).want(t, http.StatusNotFound).has(t, `Toolkit &#34;nope&#34; not found.`)
	})
}
