package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// mcpItemFields are the fields contract §2.1 marks required on an item.
var mcpItemFields = []string{"id", "name", "auth_config_ids", "allowed_tools", "mcp_url", "toolkits", "toolkit_icons", "commands",
	"created_at", "updated_at", "server_instance_count", "managed_auth_via_composio", "deleted"}

// TestMCPServersWire pins Composio's MCP configuration API on the wire
// (contract §2): every required field of an item, arrays never null, both
// spellings of the managed-auth flag, sparse PATCH, page-number listings
// with filters, generate's answer, and clear 4xx answers naming the
// problem.
func TestMCPServersWire(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		ac := a.createAuthConfig("github", "BEARER_TOKEN", nil)

		c := a.post("/api/v3.1/mcp/servers/custom", map[string]any{"name": "wire one", "toolkits": []string{"github"}, "auth_config_ids": []string{ac},
			"allowed_tools": []string{}, "managed_auth_via_composio": true}).want(201)
		id := c.str("id")
		for _, f := range []string{"id", "name", "auth_config_ids", "allowed_tools", "mcp_url", "commands"} {
			if !c.has("", f) {
				t.Errorf("create answer lacks %s", f)
			}
		}
		c.eq("allowed_tools", []any{})
		c.eq("auth_config_ids", []any{ac})
		if !strings.HasPrefix(c.str("mcp_url"), a.srv.URL+"/v3/mcp/"+id+"/mcp") || !strings.Contains(c.str("commands.claude"), "x-api-key") {
			t.Errorf("create answer %v", c.JSON)
		}

		got := a.get("/api/v3.1/mcp/" + id).want(200)
		for _, f := range mcpItemFields {
			if !got.has("", f) {
				t.Errorf("item lacks %s", f)
			}
		}
		noNulls(t, "item", got.JSON)
		got.eq("toolkits", []any{"github"})
		got.eq("managed_auth_via_composio", true)
		got.eq("deleted", false)
		got.eq("server_instance_count", 0.0)
		if got.str("toolkit_icons.github") == "" {
			t.Errorf("toolkit_icons = %v", got.at("toolkit_icons"))
		}

		// The raw client's create, with the older spelling of the flag.
		raw := a.post("/api/v3.1/mcp/servers", map[string]any{"name": "wire two", "auth_config_ids": []string{}, "no_auth_apps": []string{"slack"},
			"managed_auth_by_composio": false}).want(201)
		raw.eq("managed_auth_via_composio", false)
		raw.eq("toolkits", []any{"slack"})
		two := raw.str("id")

		// PATCH is sparse: the flag alone changes, in either spelling.
		a.patch("/api/v3.1/mcp/"+two, map[string]any{"managed_auth_via_composio": true}).want(200).eq("managed_auth_via_composio", true)
		p := a.patch("/api/v3.1/mcp/"+two, map[string]any{"managed_auth_by_composio": false}).want(200)
		p.eq("managed_auth_via_composio", false)
		p.eq("name", "wire two")
		p.eq("toolkits", []any{"slack"})
		a.patch("/api/v3.1/mcp/"+two, map[string]any{}).want(200).eq("name", "wire two")
		a.patch("/api/v3.1/mcp/"+two, map[string]any{"allowed_tools": []string{"GITHUB_GET_A_USER"}}).v3err(400, "GITHUB_GET_A_USER", "does not list")

		// Page numbers and filters.
		page := a.get("/api/v3.1/mcp/servers?page_no=2&limit=1").want(200)
		page.eq("current_page", 2.0)
		page.eq("total_pages", 2.0)
		if ids := page.ids("items"); len(ids) != 1 || ids[0] != two {
			t.Errorf("page 2 of 1 = %v, want the second server", ids)
		}
		a.get("/api/v3.1/mcp/servers?page_no=9&limit=5").want(200).eq("items", []any{})
		if ids := a.get("/api/v3.1/mcp/servers?page_no=1&limit=10&toolkits=github%2Cnotion").want(200).ids("items"); len(ids) != 1 || ids[0] != id {
			t.Errorf("toolkits=github,notion: %v", ids)
		}
		if ids := a.get("/api/v3.1/mcp/servers?auth_config_ids=" + ac).want(200).ids("items"); len(ids) != 1 || ids[0] != id {
			t.Errorf("auth_config_ids: %v", ids)
		}
		if ids := a.get("/api/v3.1/mcp/servers?name=TWO").want(200).ids("items"); len(ids) != 1 || ids[0] != two {
			t.Errorf("name=TWO: %v", ids)
		}
		a.get("/api/v3.1/mcp/servers?page_no=0").v3err(400, "page_no")

		// generate: one URL per user, in order; mcp_url has no query.
		g := a.post("/api/v3.1/mcp/servers/generate", map[string]any{"mcp_server_id": id, "user_ids": []string{"u 1", "u2"}, "managed_auth_by_composio": true}).want(200)
		g.eq("mcp_url", a.srv.URL+"/v3/mcp/"+id+"/mcp")
		g.eq("connected_account_urls", []any{})
		urls := g.list("user_ids_url")
		if len(urls) != 2 || !strings.Contains(urls[0].(string), "?include_composio_helper_actions=true&user_id=u+1&sig=key_") ||
			!strings.Contains(urls[1].(string), "user_id=u2&") || strings.Contains(urls[0].(string), a.key) {
			t.Errorf("user_ids_url = %v", urls)
		}
		a.post("/api/v3.1/mcp/servers/generate", map[string]any{"mcp_server_id": id, "user_ids": []string{}}).v3err(400, "user_ids")
		a.post("/api/v3.1/mcp/servers/generate", map[string]any{"mcp_server_id": id, "user_ids": []string{"u"}, "connected_account_ids": []string{"ca_1"}}).v3err(400, "connected_account_ids")
		a.post("/api/v3.1/mcp/servers/generate", map[string]any{"user_ids": []string{"u"}}).v3err(400, "mcp_server_id")
		a.post("/api/v3.1/mcp/servers/generate", map[string]any{"mcp_server_id": "nope", "user_ids": []string{"u"}}).v3err(404)

		// Bad input names the problem; unknown IDs are 404; other projects
		// see nothing.
		a.post("/api/v3.1/mcp/servers/custom", map[string]any{"name": "x", "toolkits": []string{"github"}}).v3err(400, "4 to 30")
		a.post("/api/v3.1/mcp/servers/custom", map[string]any{"name": "no toolkits"}).v3err(400, "at least one toolkit")
		a.post("/api/v3.1/mcp/servers/custom", map[string]any{"name": "bad toolkit", "toolkits": []string{"nope"}}).v3err(400, `"nope"`)
		a.post("/api/v3.1/mcp/servers/custom", map[string]any{"toolkits": []string{"github"}}).v3err(400, "name")
		a.get("/api/v3.1/mcp/nope").v3err(404)
		other := a.newProject("mcp elsewhere")
		other.get("/api/v3.1/mcp/" + id).v3err(404)
		other.get("/api/v3.1/mcp/servers").want(200).eq("items", []any{})

		d := a.del("/api/v3.1/mcp/" + id).want(200)
		d.eq("id", id)
		d.eq("deleted", true)
		a.del("/api/v3.1/mcp/" + id).v3err(404)
		a.get("/api/v3.1/mcp/servers").want(200)
		a.do("GET", "/api/v3.1/mcp/servers", nil, withHeader("X-Api-Key", "")).v3err(http.StatusUnauthorized, "x-api-key")
	})
}
