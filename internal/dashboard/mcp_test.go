package dashboard_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// TestMCPPage: an owner creates an MCP server configuration (a refused
// form comes back with the message and the values), sees a user's URL
// and client configuration with copy buttons (never an API key), and
// deletes it after a confirmation (also on a no-script page); every
// change is audited; a form without the CSRF token is refused.
func TestMCPPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk testserver.Backend) {
		srv, owner := start(t, bk)
		ctx := context.Background()
		b := newBrowser(t, srv)
		b.signIn(owner)
		path := projectPath(srv, "/mcp")

		b.get(path).want(t, 200).has(t, "<h1>MCP servers</h1>", `aria-current="page">MCP servers`,
			`<p class="empty">This project has no MCP servers yet. Create one above.</p>`, `<label for="mcp-name">Name</label>`)

		bad := b.post(path, url.Values{"name": {"agent tools"}, "toolkits": {"github, nope"}, "allowed_tools": {"GITHUB_GET_A_USER"}}).want(t, http.StatusBadRequest)
		bad.has(t, `role="alert">Unknown toolkit &#34;nope&#34; in toolkits.`, `value="agent tools"`, `value="github, nope"`, ">GITHUB_GET_A_USER</textarea>")

		done := b.post(path, url.Values{"name": {"agent tools"}, "toolkits": {"github"}, "allowed_tools": {"GITHUB_GET_A_USER, GITHUB_GET_THE_AUTHENTICATED_USER"}, "managed_auth": {"on"}})
		if done.Status != http.StatusSeeOther {
			t.Fatalf("create: %d\n%s", done.Status, tail(done.Body))
		}
		listed := b.follow(done).want(t, 200)
		m := regexp.MustCompile(`MCP server agent tools \(([0-9a-f-]{36})\) created for github`).FindStringSubmatch(listed.Body)
		if m == nil {
			t.Fatalf("no creation message:\n%s", tail(listed.Body))
		}
		id := m[1]
		listed.has(t, `data-mcp-server="`+id+`"`, "GITHUB_GET_A_USER", "Unconnected users get a connect link.", "Enter a user ID above to see their URL.")

		user := "user 42/α"
		page := b.get(path+"?user="+url.QueryEscape(user)).want(t, 200)
		wantURL := srv.URL + "/v3/mcp/" + id + "/mcp?user_id=" + url.QueryEscape(user)
		page.has(t, `<input id="mcp-url-`+id+`" class="mono" readonly value="`+strings.ReplaceAll(html.EscapeString(wantURL), "+", "&#43;")+`">`,
			`data-copy="mcp-url-`+id+`"`, `data-copy="mcp-config-`+id+`"`, "&lt;your patchbay project API key&gt;", "&#34;x-api-key&#34;")
		for _, key := range []string{srv.OwnerKey, srv.MemberKey, srv.OrgKey} {
			page.lacks(t, key)
		}
		b.get(path+"?user=").want(t, 200)

		// Without the form's token, nothing is deleted.
		b.post(path+"/"+id+"/delete", url.Values{"csrf": {"wrong"}}).want(t, http.StatusForbidden)
		b.get(path+"/"+id+"/delete").want(t, 200).has(t, "<h1>Delete the MCP server agent tools?</h1>", `action="/projects/`+srv.Project.ID+`/mcp/`+id+`/delete"`)
		gone := b.post(path+"/"+id+"/delete", nil)
		if gone.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d\n%s", gone.Status, tail(gone.Body))
		}
		b.follow(gone).want(t, 200).has(t, "MCP server agent tools is deleted: its URLs no longer work.").lacks(t, `data-mcp-server="`+id+`"`)
		b.get(path+"/"+id+"/delete").want(t, http.StatusNotFound)

		p, err := srv.Service.Authenticate(ctx, srv.OwnerKey)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := srv.Service.ListAudit(ctx, p, "", 50)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, ev := range evs {
			if ev.TargetID == id {
				actions = append(actions, ev.Action)
			}
		}
		if got := strings.Join(actions, ","); got != patchbay.ActionMCPServerDelete+","+patchbay.ActionMCPServerCreate {
			t.Errorf("audit of %s: %s", id, got)
		}
	})
}
