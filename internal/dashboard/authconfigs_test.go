package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// acID finds the ID of the auth config named name in the listing.
func acID(t *testing.T, p *page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`<tr data-auth-config="(ac_[^"]+)">\s*<td>` + regexp.QuoteMeta(name) + `<br>`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no row for the auth config %s:\n%s", name, tail(p.Body))
	}
	return m[1]
}

// acBound is the server's owner bound to its project, for the test's own
// calls to the Service.
func acBound(t *testing.T, srv *testserver.Server) *patchbay.Principal {
	t.Helper()
	p, err := srv.Service.Authenticate(context.Background(), srv.OwnerKey)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAuthConfigsPage: an owner picks a toolkit and creates a custom
// OAuth auth config (the secret typed into a password field, shown
// afterwards only masked) and a managed one; refused forms come back with
// the message and the non-secret values; the filters narrow the listing;
// disabling (confirmed, also on a no-script page) refuses new connections
// until it is enabled again; deleting warns about, and takes, the
// connected accounts.
func TestAuthConfigsPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk testserver.Backend) {
		srv, owner := start(t, bk)
		ctx := context.Background()
		b := newBrowser(t, srv)
		b.signIn(owner)
		path := projectPath(srv, "/auth-configs")

		empty := b.get(path).want(t, 200)
		empty.has(t, "<h1>Auth configs</h1>", `aria-current="page">Auth configs`, `<p class="empty">This project has no auth configs yet. Choose a toolkit above to create one.</p>`,
			`<label for="ac-new-toolkit">Toolkit</label>`, `<select id="ac-new-toolkit" name="new" required>`, "Choose toolkit",
			`<label for="ac-search">Name</label>`, `<label for="ac-toolkit">Toolkit</label>`)
		empty.lacks(t, `name="scheme"`, "<table")

		// The toolkit's form: its schemes, and its auth-config fields.
		form := b.get(path+"?new=github").want(t, 200)
		form.has(t, `<option value="github" selected>GitHub</option>`, `<input type="hidden" name="toolkit" value="github">`,
			`<label for="ac-scheme">Scheme for GitHub</label>`,
			`<option value="" selected>The toolkit's default (managed): BEARER_TOKEN</option>`,
			`<option value="OAUTH2">OAUTH2 (custom)</option>`, `<option value="BEARER_TOKEN">BEARER_TOKEN (custom)</option>`,
			`<legend>Credentials for the custom OAUTH2 scheme</legend>`,
			`<label for="cred-OAUTH2-client_id">Client ID <span class="mono small">client_id</span> (required)</label>`,
			`<input id="cred-OAUTH2-client_id" name="cred.OAUTH2.client_id" type="text" autocomplete="off" value="" aria-describedby="cred-OAUTH2-client_id-hint">`,
			`<input id="cred-OAUTH2-client_secret" name="cred.OAUTH2.client_secret" type="password" autocomplete="new-password" aria-describedby="cred-OAUTH2-client_secret-hint">`,
			`placeholder="GitHub Auth Config"`, "Choose another toolkit")
		form.lacks(t, "cred.OAUTH2.access_token", "cred.BEARER_TOKEN.")
		b.get(path+"?new=serpapi").want(t, 200).has(t, "None of its schemes takes credentials in the auth config")
		b.get(path+"?new=salesforce").want(t, 200).has(t, `<option value="OAUTH2" selected>OAUTH2 (custom)</option>`, "cred.OAUTH2.subdomain").
			lacks(t, "The toolkit's default (managed)")
		b.get(path+"?new=nope").want(t, http.StatusNotFound)

		// Refused forms: the message, the non-secret values kept, the
		// secret never echoed.
		const secret = "gh-secret-0123456789abcdef"
		bad := b.post(path, url.Values{"toolkit": {"github"}, "scheme": {"OAUTH2"}, "name": {"GitHub OAuth"}, "cred.OAUTH2.client_id": {"my-client-id"}}).want(t, http.StatusBadRequest)
		bad.has(t, `role="alert">Invalid auth config credentials for github (OAUTH2): missing required field(s): client_secret (Client Secret).`,
			`<option value="OAUTH2" selected>`, `value="GitHub OAuth"`, `name="cred.OAUTH2.client_id" type="text" autocomplete="off" value="my-client-id"`)
		b.post(path, url.Values{"toolkit": {"github"}, "scheme": {"OAUTH2"}, "cred.OAUTH2.client_secret": {secret}}).want(t, http.StatusBadRequest).
			has(t, "missing required field(s): client_id").lacks(t, secret)
		b.post(path, url.Values{"toolkit": {"serpapi"}, "scheme": {"OAUTH2"}}).want(t, http.StatusBadRequest).
			has(t, "Toolkit serpapi has no OAUTH2 scheme; it supports: API_KEY.")
		b.post(path, url.Values{"toolkit": {"salesforce"}, "scheme": {""}}).want(t, http.StatusBadRequest).
			has(t, "Toolkit salesforce has no default auth")
		b.post(path, url.Values{"toolkit": {"nope"}}).want(t, http.StatusBadRequest).has(t, "Choose a toolkit of the catalog")

		// A custom OAuth config: the secret is masked from then on.
		done := b.post(path, url.Values{"toolkit": {"github"}, "scheme": {"OAUTH2"}, "name": {"GitHub OAuth"},
			"cred.OAUTH2.client_id": {"my-client-id"}, "cred.OAUTH2.client_secret": {" " + secret + " "}}).want(t, http.StatusSeeOther)
		list := b.follow(done).want(t, 200)
		gh := acID(t, list, "GitHub OAuth")
		list.has(t, "Auth config GitHub OAuth ("+gh+") created for GitHub with the OAUTH2 scheme (custom).")
		list.lacks(t, secret)
		row := tkTableRow(t, list, "data-auth-config", gh)
		for _, want := range []string{`<span class="mono small">` + gh + `</span>`, `href="/projects/` + srv.Project.ID + `/toolkits/github">GitHub</a>`,
			"client_id: my-client-id", "client_secret: gh-s...", `<span class="mono">OAUTH2</span><br><span class="small">Custom</span>`,
			`<span class="badge active">Enabled</span>`, "<td>0</td>",
			`aria-label="Options for the auth config GitHub OAuth (` + gh + `)"`,
			`href="/projects/` + srv.Project.ID + `/auth-configs/` + gh + `/disable" data-dialog="disable-` + gh + `" aria-label="Disable the auth config GitHub OAuth (` + gh + `)"`,
			`href="/projects/` + srv.Project.ID + `/auth-configs/` + gh + `/delete" data-dialog="delete-` + gh + `" aria-label="Delete the auth config GitHub OAuth (` + gh + `)"`,
			`<dialog id="disable-` + gh + `"`, `<dialog id="delete-` + gh + `"`, "Any account connected through it would go with it; it has none now."} {
			if !strings.Contains(row, want) {
				t.Errorf("the row of GitHub OAuth does not say %q:\n%s", want, row)
			}
		}
		stored, err := srv.Service.AuthConfig(ctx, acBound(t, srv), gh)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Managed || stored.Mode != patchbay.AuthOAuth2 {
			t.Errorf("stored as managed %v, mode %s", stored.Managed, stored.Mode)
		}

		// A managed one: the toolkit's default scheme and name.
		done = b.post(path, url.Values{"toolkit": {"serpapi"}, "scheme": {""}, "name": {""}}).want(t, http.StatusSeeOther)
		list = b.follow(done).want(t, 200)
		sp := acID(t, list, "SerpApi Auth Config")
		list.has(t, "Auth config SerpApi Auth Config ("+sp+") created for SerpApi with the toolkit&#39;s default scheme, API_KEY (managed).")
		spRow := tkTableRow(t, list, "data-auth-config", sp)
		if !strings.Contains(spRow, `<span class="small">None</span>`) || !strings.Contains(spRow, `<span class="small">Managed</span>`) {
			t.Errorf("the managed row: %s", spRow)
		}
		if strings.Index(list.Body, `data-auth-config="`+sp+`"`) > strings.Index(list.Body, `data-auth-config="`+gh+`"`) {
			t.Error("the newest auth config is not first")
		}

		// The filters.
		byName := b.get(path+"?search=oauth").want(t, 200)
		byName.has(t, `data-auth-config="`+gh+`"`, `value="oauth"`, "Clear the filters", "Auth configs of "+srv.Project.Name+", filtered").lacks(t, `data-auth-config="`+sp+`"`)
		byToolkit := b.get(path+"?toolkit=serpapi").want(t, 200)
		byToolkit.has(t, `data-auth-config="`+sp+`"`, `<option value="serpapi" selected>SerpApi</option>`).lacks(t, `data-auth-config="`+gh+`"`)
		b.get(path+"?search=oauth&toolkit=serpapi").want(t, 200).
			has(t, `<p class="empty">No auth config matches these filters.`, "Show every auth config").lacks(t, "<table")

		// An account connects through the managed one.
		owned := acBound(t, srv)
		if _, err := srv.Service.Connect(ctx, owned, patchbay.NewConnection{AuthConfigID: sp, UserID: "user-1", Values: map[string]any{"generic_api_key": "serp-key"}}); err != nil {
			t.Fatal(err)
		}
		list = b.get(path).want(t, 200)
		if row := tkTableRow(t, list, "data-auth-config", sp); !strings.Contains(row, "<td>1</td>") ||
			!strings.Contains(row, "Its 1 connected account goes with it, with its credentials: its user must connect again.") ||
			!strings.Contains(row, "New connections through it are refused, and its 1 connected account cannot run tools until it is enabled again.") {
			t.Errorf("the row with a connection: %s", row)
		}

		// Disable: confirmed (here on the no-script page), then refused
		// connections, an Enable button and no Disable item.
		b.get(path+"/"+sp+"/disable").want(t, 200).has(t, "<h1>Disable the auth config SerpApi Auth Config?</h1>",
			`action="/projects/`+srv.Project.ID+`/auth-configs/`+sp+`/disable"`, "its 1 connected account cannot run tools",
			`aria-label="Disable the auth config SerpApi Auth Config (`+sp+`)">Disable auth config</button>`)
		b.follow(b.post(path+"/"+sp+"/disable", nil).want(t, http.StatusSeeOther)).want(t, 200).
			has(t, "Auth config SerpApi Auth Config is disabled: new connections through it are refused")
		list = b.get(path).want(t, 200)
		spRow = tkTableRow(t, list, "data-auth-config", sp)
		for _, want := range []string{`<span class="badge disabled">Disabled</span>`, `action="/projects/` + srv.Project.ID + `/auth-configs/` + sp + `/enable"`,
			`aria-label="Enable the auth config SerpApi Auth Config (` + sp + `)">Enable</button>`} {
			if !strings.Contains(spRow, want) {
				t.Errorf("the disabled row does not say %q:\n%s", want, spRow)
			}
		}
		if strings.Contains(spRow, "/disable") {
			t.Errorf("the disabled row still offers Disable: %s", spRow)
		}
		if _, err := srv.Service.Connect(ctx, owned, patchbay.NewConnection{AuthConfigID: sp, UserID: "user-2", Values: map[string]any{"generic_api_key": "k"}}); patchbay.ErrorCode(err) != patchbay.EINVALID {
			t.Errorf("connecting through the disabled auth config: %v", err)
		}
		b.follow(b.post(path+"/"+sp+"/enable", nil).want(t, http.StatusSeeOther)).want(t, 200).
			has(t, "Auth config SerpApi Auth Config is enabled").lacks(t, `<span class="badge disabled">`)
		if _, err := srv.Service.Connect(ctx, owned, patchbay.NewConnection{AuthConfigID: sp, UserID: "user-2", Values: map[string]any{"generic_api_key": "k"}}); err != nil {
			t.Errorf("connecting through the enabled auth config: %v", err)
		}

		// Delete: the no-script page warns about the accounts; they go too.
		b.get(path+"/"+sp+"/delete").want(t, 200).has(t, "<h1>Delete the auth config SerpApi Auth Config?</h1>",
			"Its 2 connected accounts go with it, with their credentials: their users must connect again.",
			`aria-label="Delete the auth config SerpApi Auth Config (`+sp+`)">Delete auth config</button>`)
		after := b.follow(b.post(path+"/"+sp+"/delete", nil).want(t, http.StatusSeeOther)).want(t, 200)
		after.has(t, "Auth config SerpApi Auth Config is deleted, with its 2 connected accounts.").lacks(t, `data-auth-config="`+sp+`"`)
		if accts, _, err := srv.Service.ListConnectedAccounts(ctx, owned, patchbay.ConnectionFilter{}, false); err != nil || len(accts) != 0 {
			t.Errorf("after the delete: %d accounts, %v", len(accts), err)
		}
		b.get(path+"/"+sp+"/delete").want(t, http.StatusNotFound)
		b.follow(b.post(path+"/"+gh+"/delete", nil).want(t, http.StatusSeeOther)).want(t, 200).has(t, "Auth config GitHub OAuth is deleted.", "This project has no auth configs yet.")
	})
}

// TestAuthConfigsRoles: the Policy lets members configure auth, so a
// member gets the same controls and may use them; another project's auth
// config, an unknown one, and a form without the session's token are
// refused and change nothing.
func TestAuthConfigsRoles(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk testserver.Backend) {
		srv, owner := start(t, bk)
		ctx := context.Background()
		path := projectPath(srv, "/auth-configs")
		ac, err := srv.Service.CreateAuthConfig(ctx, acBound(t, srv), patchbay.NewAuthConfig{Toolkit: "github", Managed: true, Name: "shared"})
		if err != nil {
			t.Fatal(err)
		}

		mb := newBrowser(t, srv)
		mb.signIn(member(t, srv, "dev@example.com", patchbay.RoleMember))
		mp := mb.get(path).want(t, 200)
		mp.has(t, "Options for the auth config shared ("+ac.ID+")", `name="new"`)
		mb.get(path+"?new=github").want(t, 200).has(t, `name="cred.OAUTH2.client_secret" type="password"`)
		mb.follow(mb.post(path+"/"+ac.ID+"/disable", nil).want(t, http.StatusSeeOther)).has(t, "Auth config shared is disabled")
		mb.follow(mb.post(path, url.Values{"toolkit": {"hackernews"}, "scheme": {""}, "name": {"news"}}).want(t, http.StatusSeeOther)).
			has(t, "Auth config news (", "NO_AUTH (managed)")

		// Another project's auth config is not found through this one.
		cli := tkCLI(t, srv)
		other, err := srv.Service.CreateProject(ctx, cli, "other", false)
		if err != nil {
			t.Fatal(err)
		}
		inOther, err := srv.Service.InProject(ctx, cli, other.Project.ID)
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := srv.Service.CreateAuthConfig(ctx, inOther, patchbay.NewAuthConfig{Toolkit: "serpapi", Managed: true})
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, srv)
		b.signIn(owner)
		b.get(path).want(t, 200).lacks(t, foreign.ID)
		b.post(path+"/"+foreign.ID+"/delete", nil).want(t, http.StatusNotFound)
		b.post(path+"/"+foreign.ID+"/disable", nil).want(t, http.StatusNotFound)
		b.get(path+"/"+foreign.ID+"/delete").want(t, http.StatusNotFound)
		if got, err := srv.Service.AuthConfig(ctx, inOther, foreign.ID); err != nil || got.Disabled {
			t.Errorf("the other project's auth config after the refused forms: %+v, %v", got, err)
		}
		b.post(path+"/ac_unknown/enable", nil).want(t, http.StatusNotFound)

		// Without the session's token, nothing happens.
		b.post(path+"/"+ac.ID+"/delete", url.Values{"csrf": {"forged"}}).want(t, http.StatusForbidden).has(t, "expired")
		b.post(path, url.Values{"csrf": {""}, "toolkit": {"serpapi"}}).want(t, http.StatusForbidden)
		list := b.get(path).want(t, 200)
		list.has(t, `data-auth-config="`+ac.ID+`"`)
		if strings.Count(list.Body, `<tr data-auth-config="`) != 2 {
			t.Errorf("the forged forms changed the listing:\n%s", tail(list.Body))
		}
	})
}
