package httpapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// Nulls a v3.1 auth config may carry (composio-v3.md §4.3).
var authConfigNullable = []string{"auth_guide_url", "auth_hint_url", "proxy_config", "next_cursor"}

func authConfigBody(toolkit string, ac map[string]any) map[string]any {
	body := map[string]any{"toolkit": map[string]any{"slug": toolkit}}
	if ac != nil {
		body["auth_config"] = ac
	}
	return body
}

func TestAuthConfigCreate(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})

		// Custom, authScheme in camelCase as @composio/core sends it.
		r := a.post("/api/v3.1/auth_configs", authConfigBody("openai", map[string]any{
			"type": "use_custom_auth", "authScheme": "API_KEY", "credentials": map[string]any{},
		})).want(201)
		r.eq("toolkit.slug", "openai")
		r.eq("auth_config.auth_scheme", "API_KEY")
		r.eq("auth_config.is_composio_managed", false)
		if id := r.str("auth_config.id"); !strings.HasPrefix(id, "ac_") {
			t.Errorf("auth config id %q, want ac_…", id)
		}
		custom := r.str("auth_config.id")

		// Toolkit slugs are case-insensitive and stored lower-case.
		a.post("/api/v3.1/auth_configs", authConfigBody("OpenAI", map[string]any{
			"type": "use_custom_auth", "authScheme": "API_KEY", "credentials": map[string]any{},
		})).want(201).eq("toolkit.slug", "openai")

		// snake_case auth_scheme, lower-case value, on the /api/v3 alias.
		r = a.post("/api/v3/auth_configs", authConfigBody("openai", map[string]any{
			"type": "use_custom_auth", "auth_scheme": "api_key", "credentials": map[string]any{}, "name": "Snake",
		})).want(201)
		r.eq("auth_config.auth_scheme", "API_KEY")
		a.get("/api/v3.1/auth_configs/"+r.str("auth_config.id")).want(200).eq("name", "Snake")

		// Managed: no auth_config at all, or the managed type with a name. The
		// scheme is the toolkit's default (composio_managed_auth_schemes[0]).
		for _, tk := range []string{"serpapi", "github"} {
			d := a.get("/api/v3.1/toolkits/" + tk).want(200)
			def := d.str("composio_managed_auth_schemes.0")
			r = a.post("/api/v3.1/auth_configs", authConfigBody(tk, nil)).want(201)
			r.eq("auth_config.is_composio_managed", true)
			r.eq("auth_config.auth_scheme", def)
			g := a.get("/api/v3.1/auth_configs/" + r.str("auth_config.id")).want(200)
			g.eq("type", "default")
			g.eq("name", d.str("name")+" Auth Config")
		}
		r = a.post("/api/v3.1/auth_configs", authConfigBody("serpapi", map[string]any{"type": "use_composio_managed_auth", "name": "Mine"})).want(201)
		managed := r.str("auth_config.id")
		r.eq("auth_config.is_composio_managed", true)

		// GET: the §4.3 object.
		g := a.get("/api/v3.1/auth_configs/" + managed).want(200)
		g.eq("id", managed)
		g.eq("name", "Mine")
		g.eq("type", "default")
		g.eq("toolkit.slug", "serpapi")
		g.eq("toolkit.logo", "https://logos.composio.dev/api/serpapi")
		g.eq("auth_scheme", "API_KEY")
		g.eq("is_composio_managed", true)
		g.eq("status", "ENABLED")
		g.eq("no_of_connections", 0)
		g.eq("credentials", map[string]any{})
		g.eq("tool_access_config", map[string]any{"tools_for_connected_account_creation": []any{}, "tools_available_for_execution": []any{}})
		g.eq("restrict_to_following_tools", []any{})
		g.eq("created_by", a.srv.Owner.ID)
		for _, k := range []string{"uuid", "created_at", "last_updated_at"} {
			if g.str(k) == "" {
				t.Errorf("auth config %s is empty", k)
			}
		}
		noNulls(t, "auth config", g.JSON, authConfigNullable...)

		c := a.get("/api/v3.1/auth_configs/" + custom).want(200)
		c.eq("type", "custom")
		c.eq("name", "OpenAI Auth Config") // the default name
		c.eq("is_composio_managed", false)

		// Custom OAUTH2 with the developer's client: the secret is masked.
		secret := a.secret("gh-client-SECRETVALUE-0123456789")
		r = a.post("/api/v3.1/auth_configs", authConfigBody("github", map[string]any{
			"type": "use_custom_auth", "authScheme": "OAUTH2",
			"credentials": map[string]any{"client_id": "Iv1.public-client-id", "client_secret": secret},
		})).want(201)
		r.eq("auth_config.auth_scheme", "OAUTH2")
		o := a.get("/api/v3.1/auth_configs/" + r.str("auth_config.id")).want(200)
		o.eq("credentials.client_id", "Iv1.public-client-id")
		if m := o.str("credentials.client_secret"); !strings.HasSuffix(m, "...") || len(m) > 8 {
			t.Errorf("client_secret shown as %q, want a masked prefix", m)
		}

		// Failures name what is wrong.
		a.post("/api/v3.1/auth_configs", authConfigBody("no_such_toolkit", nil)).v3err(400, `"no_such_toolkit"`)
		a.post("/api/v3.1/auth_configs", map[string]any{"auth_config": map[string]any{"type": "use_composio_managed_auth"}}).v3err(400, "toolkit.slug")
		a.post("/api/v3.1/auth_configs", authConfigBody("openai", map[string]any{
			"type": "use_custom_auth", "authScheme": "BASIC", "credentials": map[string]any{},
		})).v3err(400, "openai", "BASIC", "supports: API_KEY")
		a.post("/api/v3.1/auth_configs", authConfigBody("github", map[string]any{
			"type": "use_custom_auth", "authScheme": "OAUTH2",
			"credentials": map[string]any{"client_id": "id", "client_secret": secret, "bogus": "x"},
		})).v3err(400, `"bogus"`, "expected: client_id, client_secret")
		a.post("/api/v3.1/auth_configs", authConfigBody("openai", map[string]any{
			"type": "use_custom_auth", "authScheme": "API_KEY",
			"credentials": map[string]any{"api_key": a.secret("sk-test-SECRETVALUE-in-auth-config")},
		})).v3err(400, `"api_key"`, "when connecting a user")
		for _, tk := range []string{"github", "slack"} {
			a.post("/api/v3.1/auth_configs", authConfigBody(tk, map[string]any{
				"type": "use_custom_auth", "authScheme": "OAUTH2", "credentials": map[string]any{},
			})).v3err(400, tk, "OAUTH2", "client_id", "client_secret")
			r := a.post("/api/v3.1/auth_configs", authConfigBody(tk, map[string]any{
				"type": "use_custom_auth", "authScheme": "OAUTH2", "credentials": map[string]any{"client_id": "only-the-id"},
			}))
			r.v3err(400, "client_secret")
			if strings.Contains(r.str("error.message"), "client_id (") {
				t.Errorf("%s: client_id reported missing although given: %s", tk, r.str("error.message"))
			}
		}
		a.post("/api/v3.1/auth_configs", authConfigBody("openai", map[string]any{"type": "use_custom_auth", "credentials": map[string]any{}})).v3err(400, "authScheme", "API_KEY")
		a.post("/api/v3.1/auth_configs", authConfigBody("openai", map[string]any{"type": "use_something_else"})).v3err(400, "use_custom_auth")
		a.post("/api/v3.1/auth_configs", `{"toolkit": {"slug": "openai"}`).v3err(400, "JSON")
		a.post("/api/v3.1/auth_configs", `{"toolkit": "openai"}`).v3err(400, "toolkit")

		// A toolkit without a default scheme has no managed auth.
		for _, it := range a.get("/api/v3.1/toolkits?limit=1000").want(200).list("items") {
			if l, _ := jget(it, "composio_managed_auth_schemes").([]any); len(l) == 0 {
				slug := jget(it, "slug").(string)
				a.post("/api/v3.1/auth_configs", authConfigBody(slug, nil)).v3err(400, slug, "custom auth config")
				break
			}
		}

		a.get("/api/v3.1/auth_configs/ac_doesnotexist").v3err(404, "ac_doesnotexist")
	})
}

func TestAuthConfigListUpdateDelete(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		openai := a.createAuthConfig("openai", "API_KEY", nil)
		serp := a.createAuthConfig("serpapi", "", nil)
		ghBearer := a.createAuthConfig("github", "BEARER_TOKEN", nil)
		ghOAuth := a.createAuthConfig("github", "OAUTH2", map[string]any{"client_id": "cid-1", "client_secret": a.secret("gh-client-SECRETVALUE-first")})

		all := a.get("/api/v3.1/auth_configs").want(200)
		eq(t, "all auth configs", all.ids("items"), []string{openai, serp, ghBearer, ghOAuth})
		all.eq("total_items", 4)
		all.eq("total_pages", 1)
		all.eq("next_cursor", nil)
		noNulls(t, "auth config list", all.JSON, authConfigNullable...)

		for _, q := range []string{"github", "GITHUB"} {
			eq(t, "toolkit_slug="+q, a.get("/api/v3.1/auth_configs?toolkit_slug="+q).want(200).ids("items"), []string{ghBearer, ghOAuth})
		}
		eq(t, "is_composio_managed=true", a.get("/api/v3.1/auth_configs?is_composio_managed=true").want(200).ids("items"), []string{serp})
		eq(t, "search", a.get("/api/v3.1/auth_configs?search=openai").want(200).ids("items"), []string{openai})
		a.get("/api/v3.1/auth_configs?show_disabled=maybe").v3err(400, "show_disabled")
		a.get("/api/v3.1/auth_configs?limit=0").v3err(400, "limit")
		a.get("/api/v3.1/auth_configs?cursor=not-a-cursor").v3err(400, "cursor")

		// Cursor paging.
		p1 := a.get("/api/v3.1/auth_configs?limit=3").want(200)
		eq(t, "page 1", p1.ids("items"), []string{openai, serp, ghBearer})
		p1.eq("total_pages", 2)
		p1.eq("current_page", 1)
		p2 := a.get("/api/v3.1/auth_configs?limit=3&cursor=" + url.QueryEscape(p1.str("next_cursor"))).want(200)
		eq(t, "page 2", p2.ids("items"), []string{ghOAuth})
		p2.eq("current_page", 2)
		p2.eq("total_items", 4)
		p2.eq("next_cursor", nil)

		// Connections are counted.
		ca1 := a.connect(openai, "u1", "API_KEY", map[string]any{"api_key": a.secret("sk-test-SECRETVALUE-list-1")})
		ca2 := a.connect(openai, "u2", "API_KEY", map[string]any{"api_key": a.secret("sk-test-SECRETVALUE-list-2")})
		a.get("/api/v3.1/auth_configs/"+openai).want(200).eq("no_of_connections", 2)
		a.get("/api/v3.1/auth_configs?toolkit_slug=openai").want(200).eq("items.0.no_of_connections", 2)

		// Update: name, options, credentials (validated again).
		u := a.patch("/api/v3.1/auth_configs/"+openai, map[string]any{
			"type": "custom", "name": "Renamed", "is_enabled_for_tool_router": true,
			"tool_access_config": map[string]any{"tools_for_connected_account_creation": []string{"OPENAI_LIST_MODELS"}},
		}).want(200)
		u.eq("name", "Renamed")
		u.eq("is_enabled_for_tool_router", true)
		u.eq("tool_access_config.tools_for_connected_account_creation", []string{"OPENAI_LIST_MODELS"})
		a.get("/api/v3.1/auth_configs/"+openai).want(200).eq("name", "Renamed")
		a.patch("/api/v3.1/auth_configs/"+openai, map[string]any{"type": "custom", "name": "  "}).v3err(400, "name")

		second := a.secret("gh-client-SECRETVALUE-second")
		a.patch("/api/v3.1/auth_configs/"+ghOAuth, map[string]any{
			"type": "custom", "credentials": map[string]any{"client_id": "cid-2", "client_secret": second},
		}).want(200).eq("credentials.client_id", "cid-2")
		a.patch("/api/v3.1/auth_configs/"+ghOAuth, map[string]any{
			"type": "custom", "credentials": map[string]any{"client_id": "cid-3"},
		}).v3err(400, "client_secret")
		a.patch("/api/v3.1/auth_configs/"+ghOAuth, map[string]any{
			"type": "custom", "credentials": map[string]any{"client_id": "cid-3", "client_secret": second, "bogus": "x"},
		}).v3err(400, `"bogus"`, "client_id, client_secret")
		// A refused update changes nothing.
		a.get("/api/v3.1/auth_configs/"+ghOAuth).want(200).eq("credentials.client_id", "cid-2")
		a.patch("/api/v3.1/auth_configs/"+openai, map[string]any{
			"type": "custom", "credentials": map[string]any{"api_key": "sk-x"},
		}).v3err(400, `"api_key"`)
		a.patch("/api/v3.1/auth_configs/ac_doesnotexist", map[string]any{"type": "custom", "name": "x"}).v3err(404, "ac_doesnotexist")
		// The SDK's "default" variant, for a managed config.
		a.patch("/api/v3.1/auth_configs/"+serp, map[string]any{
			"type": "default", "scopes": []string{"read"}, "tool_access_config": map[string]any{"tools_available_for_execution": []string{"SERPAPI_SEARCH"}},
		}).want(200).eq("tool_access_config.tools_available_for_execution", []string{"SERPAPI_SEARCH"})
		a.patch("/api/v3.1/auth_configs/"+openai, nil).v3err(400, "body")

		// Disable and enable: no body, no content type, as the SDK sends them.
		a.do("PATCH", "/api/v3.1/auth_configs/"+openai+"/DISABLED", nil).want(200).eq("status", "DISABLED")
		a.get("/api/v3.1/auth_configs/"+openai).want(200).eq("status", "DISABLED")
		eq(t, "list hides disabled", a.get("/api/v3.1/auth_configs").want(200).ids("items"), []string{serp, ghBearer, ghOAuth})
		eq(t, "show_disabled=false", a.get("/api/v3.1/auth_configs?show_disabled=false").want(200).ids("items"), []string{serp, ghBearer, ghOAuth})
		eq(t, "show_disabled=true", a.get("/api/v3.1/auth_configs?show_disabled=true").want(200).ids("items"), []string{openai, serp, ghBearer, ghOAuth})
		a.get("/api/v3.1/connected_accounts/"+ca1).want(200).eq("auth_config.is_disabled", true)
		a.do("PATCH", "/api/v3.1/auth_configs/"+openai+"/ENABLED", nil).want(200).eq("status", "ENABLED")
		a.get("/api/v3.1/connected_accounts/"+ca1).want(200).eq("auth_config.is_disabled", false)
		a.do("PATCH", "/api/v3/auth_configs/"+openai+"/DISABLED", nil).want(200).eq("status", "DISABLED")
		a.do("PATCH", "/api/v3/auth_configs/"+openai+"/ENABLED", nil).want(200).eq("status", "ENABLED")
		a.do("PATCH", "/api/v3.1/auth_configs/"+openai+"/PAUSED", nil).v3err(400, "ENABLED or DISABLED")
		a.do("PATCH", "/api/v3.1/auth_configs/ac_doesnotexist/DISABLED", nil).v3err(404, "ac_doesnotexist")

		// Delete takes the connected accounts and their sealed credentials along.
		a.del("/api/v3.1/auth_configs/"+openai).want(200).eq("success", true)
		a.get("/api/v3.1/auth_configs/"+openai).v3err(404, openai)
		for _, ca := range []string{ca1, ca2} {
			a.get("/api/v3.1/connected_accounts/"+ca).v3err(404, ca)
			_, err := a.srv.Store.GetSecret(context.Background(), patchbay.CredentialsRef(a.srv.Project.ID, ca))
			if patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
				t.Errorf("credentials of %s after deleting its auth config: err %v, want ENOTFOUND", ca, err)
			}
		}
		a.get("/api/v3.1/connected_accounts?auth_config_ids="+openai).want(200).eq("total_items", 0)
		a.del("/api/v3.1/auth_configs/" + ghOAuth).want(200)
		if _, err := a.srv.Store.GetSecret(context.Background(), patchbay.CredentialsRef(a.srv.Project.ID, ghOAuth)); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
			t.Errorf("auth config credentials after delete: err %v, want ENOTFOUND", err)
		}
		a.del("/api/v3.1/auth_configs/"+openai).v3err(404, openai)
		eq(t, "remaining", a.get("/api/v3.1/auth_configs").want(200).ids("items"), []string{serp, ghBearer})
	})
}

func TestLegacyIntegrations(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		appID := a.get("/api/v1/apps/serpapi").want(200).str("appId")

		// integrations.create, exactly as composio-core sends it.
		c := a.post("/api/v2/integrations/create", `{"app":{"uniqueKey":"serpapi"},"config":{"useComposioAuth":false,"name":"flow-integration","authScheme":"API_KEY","integrationSecrets":{}}}`)
		if c.Status/100 != 2 {
			t.Fatalf("create integration: %d %s", c.Status, c.Raw)
		}
		id := c.str("integrationId")
		g := a.get("/api/v1/integrations/" + id).want(200)
		g.eq("id", id)
		g.eq("name", "flow-integration")
		g.eq("authScheme", "API_KEY")
		g.eq("appName", "serpapi")
		g.eq("appId", appID)
		g.eq("enabled", true)
		g.eq("deleted", false)
		g.eq("useComposioAuth", false)
		g.eq("authConfig", map[string]any{})
		g.eq("limitedActions", []any{})
		g.eq("_count.connections", 0)
		g.eq("expectedInputFields", []any{map[string]any{
			"name": "generic_api_key", "displayName": "API Key", "display_name": "API Key", "type": "string", "required": true,
			"expected_from_customer": true, "is_secret": true, "default": nil,
			"description": g.at("expectedInputFields.0.description"),
		}})
		for _, k := range []string{"createdAt", "updatedAt", "logo"} {
			if g.str(k) == "" {
				t.Errorf("integration %s is empty", k)
			}
		}
		// The v3 view of the same record.
		a.get("/api/v3.1/auth_configs/"+id).want(200).eq("name", "flow-integration")

		// getExpectedParamsForUser's auto-create: no authScheme, the default.
		auto := a.post("/api/v2/integrations/create", `{"app":{"uniqueKey":"serpapi"},"config":{"name":"integration_1700000000000","useComposioAuth":false,"integrationSecrets":{}}}`)
		if auto.Status/100 != 2 {
			t.Fatalf("auto-create: %d %s", auto.Status, auto.Raw)
		}
		autoID := auto.str("integrationId")
		a.get("/api/v1/integrations/"+autoID).want(200).eq("authScheme", "API_KEY")

		// An OAuth integration with the developer's client: masked.
		secret := a.secret("legacy-client-SECRETVALUE-987654")
		o := a.post("/api/v2/integrations/create", map[string]any{
			"app":    map[string]any{"uniqueKey": "github"},
			"config": map[string]any{"name": "gh", "authScheme": "OAUTH2", "integrationSecrets": map[string]any{"client_id": "cid", "client_secret": secret}},
		})
		oauthID := o.str("integrationId")
		og := a.get("/api/v1/integrations/" + oauthID).want(200)
		og.eq("authConfig.client_id", "cid")
		og.eq("expectedInputFields.0.name", "access_token")
		og.eq("expectedInputFields.0.expected_from_customer", true)

		// get-or-create: the same id the second time.
		body := `{"app":{"uniqueKey":"tavily"},"config":{"name":"tavily","useComposioAuth":false,"authScheme":"API_KEY"}}`
		first := a.post("/api/v2/integrations/get-or-create", body).want(200)
		first.eq("isNewIntegration", true)
		again := a.post("/api/v2/integrations/get-or-create", body).want(200)
		again.eq("integrationId", first.str("integrationId"))
		again.eq("isNewIntegration", false)
		// It finds integrations made by create too.
		a.post("/api/v2/integrations/get-or-create", `{"app":{"uniqueKey":"serpapi"},"config":{"authScheme":"API_KEY"}}`).want(200).eq("integrationId", id)

		// list: appName matched case-insensitively, as the SDK passes it unmodified.
		for _, q := range []string{"SERPAPI", "serpapi", "SerpApi"} {
			l := a.get("/api/v1/integrations?showDisabled=false&appName=" + q).want(200)
			eq(t, "appName="+q, l.ids("items"), []string{id, autoID})
			l.eq("page", 1)
			l.eq("totalPages", 1)
			for _, it := range l.list("items") {
				eq(t, "item appName", jget(it, "appName"), "serpapi")
				if _, ok := jget(it, "expectedInputFields").([]any); !ok {
					t.Error("list item without expectedInputFields")
				}
			}
		}
		eq(t, "all integrations", a.get("/api/v1/integrations").want(200).ids("items"), []string{id, autoID, oauthID, first.str("integrationId")})

		// page / pageSize.
		p1 := a.get("/api/v1/integrations?page=1&pageSize=3").want(200)
		eq(t, "page 1", p1.ids("items"), []string{id, autoID, oauthID})
		p1.eq("totalPages", 2)
		p2 := a.get("/api/v1/integrations?page=2&pageSize=3").want(200)
		eq(t, "page 2", p2.ids("items"), []string{first.str("integrationId")})
		p2.eq("page", 2)
		a.get("/api/v1/integrations?pageSize=0").legacyErr(400, "pageSize")

		// showDisabled.
		a.do("PATCH", "/api/v3.1/auth_configs/"+autoID+"/DISABLED", nil).want(200)
		eq(t, "hidden when disabled", a.get("/api/v1/integrations?appName=serpapi&showDisabled=false").want(200).ids("items"), []string{id})
		eq(t, "hidden by default", a.get("/api/v1/integrations?appName=serpapi").want(200).ids("items"), []string{id})
		d := a.get("/api/v1/integrations?appName=serpapi&showDisabled=true").want(200)
		eq(t, "showDisabled=true", d.ids("items"), []string{id, autoID})
		d.eq("items.1.enabled", false)
		a.get("/api/v1/integrations/"+autoID).want(200).eq("enabled", false)

		// Errors.
		a.post("/api/v2/integrations/create", `{"config":{"name":"x"}}`).legacyErr(400, "app.uniqueKey")
		a.post("/api/v2/integrations/create", `{"app":{"uniqueKey":"no_such_app"},"config":{"name":"x"}}`).legacyErr(400, "no_such_app")
		a.post("/api/v2/integrations/create", `{"app":{"uniqueKey":"serpapi"},"config":{"authScheme":"OAUTH2"}}`).legacyErr(400, "OAUTH2", "API_KEY")
		a.post("/api/v2/integrations/get-or-create", `{"config":{}}`).legacyErr(400, "app.uniqueKey")

		// delete.
		a.del("/api/v1/integrations/"+autoID).want(200).eq("", map[string]any{"status": "success", "count": 1})
		a.get("/api/v1/integrations/"+autoID).legacyErr(404, autoID)
		a.del("/api/v1/integrations/"+autoID).legacyErr(404, autoID)
		// composio-core's literal placeholder when the id is missing.
		a.get("/api/v1/integrations/%7BintegrationId%7D").legacyErr(404, "not found")
		a.del("/api/v1/integrations/%7BintegrationId%7D").legacyErr(404, "not found")
		a.get("/api/v1/integrations/ac_doesnotexist").legacyErr(404, "ac_doesnotexist")
	})
}
