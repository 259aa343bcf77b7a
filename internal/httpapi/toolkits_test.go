package httpapi_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// v3Prefixes are the two spellings of the current API: /api/v3 is an alias.
var v3Prefixes = []string{"/api/v3.1", "/api/v3"}

// Nulls the v3.1 toolkit objects may carry (composio-v3.md §2, §4.1).
var toolkitNullable = []string{"default", "auth_guide_url", "auth_hint_url", "app_url", "next_cursor"}

func TestToolkitsList(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		for _, p := range v3Prefixes {
			all := a.get(p + "/toolkits?limit=1000").want(200)
			items := all.list("items")
			n := len(items)
			if n < 10 {
				t.Fatalf("%s/toolkits lists %d toolkits; the catalog has more", p, n)
			}
			all.eq("total_items", n)
			all.eq("total_pages", 1)
			all.eq("current_page", 1)
			if !all.has("", "next_cursor") || all.at("next_cursor") != nil {
				t.Errorf("%s/toolkits: next_cursor = %v, want present and null", p, all.at("next_cursor"))
			}
			noNulls(t, p+"/toolkits", all.JSON, toolkitNullable...)
			slugs := slugsOf(items)
			if !slices.IsSorted(slugs) {
				t.Errorf("%s/toolkits: not ordered by slug: %v", p, slugs)
			}
			for _, it := range items {
				slug := jget(it, "slug").(string)
				if _, ok := jget(it, "meta").(map[string]any); !ok {
					t.Errorf("%s: list item %s has no meta object", p, slug)
				}
				if jget(it, "auth_config_details") != nil {
					t.Errorf("%s: list item %s carries auth_config_details", p, slug)
				}
				if v, ok := jget(it, "is_local_toolkit").(bool); !ok || v {
					t.Errorf("%s: list item %s: is_local_toolkit = %v, want false", p, slug, jget(it, "is_local_toolkit"))
				}
				// The members §4.2 requires of a list item.
				for _, k := range []string{"name", "type", "deprecated.toolkitId", "meta.created_at", "meta.updated_at", "meta.description", "meta.logo", "meta.version"} {
					if s, _ := jget(it, k).(string); s == "" {
						t.Errorf("%s: list item %s: %s = %v, want a string", p, slug, k, jget(it, k))
					}
				}
				for _, k := range []string{"meta.triggers_count", "meta.tools_count"} {
					if _, ok := jget(it, k).(float64); !ok {
						t.Errorf("%s: list item %s: %s = %v, want a number", p, slug, k, jget(it, k))
					}
				}
				cats, _ := jget(it, "meta.categories").([]any)
				if len(cats) == 0 {
					t.Errorf("%s: list item %s has no categories", p, slug)
				}
				for _, c := range cats {
					// List items use {id, name}; the detail uses {slug, name}.
					if jget(c, "id") == nil || jget(c, "name") == nil || jget(c, "slug") != nil {
						t.Errorf("%s: list item %s: category %v, want {id, name}", p, slug, c)
					}
				}
			}
			// Without a limit the default page (50) holds the catalog.
			a.get(p+"/toolkits").want(200).eq("total_items", n)

			// Cursor paging: every toolkit once, in order.
			var paged []string
			cursor, page := "", 1
			for {
				q := url.Values{"limit": {"7"}}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				r := a.get(p + "/toolkits?" + q.Encode()).want(200)
				r.eq("total_items", n)
				r.eq("total_pages", (n+6)/7)
				r.eq("current_page", page)
				got := slugsOf(r.list("items"))
				if len(got) == 0 || len(got) > 7 {
					t.Fatalf("%s: page %d holds %d toolkits", p, page, len(got))
				}
				paged = append(paged, got...)
				next, _ := r.at("next_cursor").(string)
				if next == "" {
					if !r.has("", "next_cursor") {
						t.Errorf("%s: last page has no next_cursor key", p)
					}
					break
				}
				cursor, page = next, page+1
				if page > n {
					t.Fatal("paging does not end")
				}
			}
			eq(t, p+" paged slugs", paged, slugs)

			// Filters.
			cat := "developer-tools"
			var want []string
			for _, it := range items {
				for _, c := range jget(it, "meta.categories").([]any) {
					if jget(c, "id") == cat {
						want = append(want, jget(it, "slug").(string))
					}
				}
			}
			if !slices.Contains(want, "github") {
				t.Fatalf("github is not in %s: %v", cat, want)
			}
			r := a.get(p + "/toolkits?category=" + cat).want(200)
			eq(t, "category="+cat, slugsOf(r.list("items")), want)
			r.eq("total_items", len(want))
			// By name too, case-insensitively.
			eq(t, "category by name", slugsOf(a.get(p+"/toolkits?category=Developer%20Tools").want(200).list("items")), want)
			// The SDK's other parameters are accepted (and do not filter).
			r = a.get(p + "/toolkits?managed_by=composio&sort_by=usage&include_deprecated=false&limit=1000").want(200)
			r.eq("total_items", n)
			r = a.get(p + "/toolkits?category=no-such-category").want(200)
			r.eq("items", []any{})
			r.eq("total_items", 0)

			for _, q := range []string{"serp", "SERPAPI", "SerpApi"} {
				r := a.get(p + "/toolkits?search=" + q).want(200)
				got := slugsOf(r.list("items"))
				if !slices.Contains(got, "serpapi") {
					t.Errorf("%s/toolkits?search=%s: %v, want serpapi among them", p, q, got)
				}
				for _, it := range r.list("items") {
					hay := strings.ToLower(jget(it, "slug").(string) + " " + jget(it, "name").(string) + " " + jget(it, "meta.description").(string))
					if !strings.Contains(hay, strings.ToLower(q)) {
						t.Errorf("search=%s returned %s", q, jget(it, "slug"))
					}
				}
			}
			a.get(p+"/toolkits?search=zzzz-nothing").want(200).eq("items", []any{})

			a.get(p+"/toolkits?limit=0").v3err(400, "limit")
			a.get(p+"/toolkits?limit=x").v3err(400, "limit")
			a.get(p+"/toolkits?cursor=not-a-cursor").v3err(400, "cursor")
		}
		a.as("").get("/api/v3.1/toolkits").v3err(401, "x-api-key")
		a.as("ak_nope").get("/api/v3.1/toolkits").v3err(401)
	})
}

func slugsOf(items []any) []string {
	out := []string{}
	for _, it := range items {
		s, _ := jget(it, "slug").(string)
		out = append(out, s)
	}
	return out
}

// field finds the field named name in a list of field objects.
func field(fields any, name string) map[string]any {
	l, _ := fields.([]any)
	for _, f := range l {
		if m, ok := f.(map[string]any); ok && m["name"] == name {
			return m
		}
	}
	return nil
}

func TestToolkitGet(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		for _, p := range v3Prefixes {
			r := a.get(p + "/toolkits/serpapi").want(200)
			r.eq("slug", "serpapi")
			r.eq("name", "SerpApi")
			r.eq("is_local_toolkit", false)
			r.eq("type", "native")
			r.eq("enabled", true)
			r.eq("meta.categories", []any{map[string]any{"slug": "analytics", "name": "Analytics"}})
			for _, k := range []string{"created_at", "updated_at", "description", "logo", "version"} {
				if s, _ := r.at("meta." + k).(string); s == "" {
					t.Errorf("serpapi meta.%s is empty", k)
				}
			}
			r.eq("meta.available_versions", []any{r.at("meta.version")})
			r.eq("composio_managed_auth_schemes", []string{"API_KEY"})
			r.eq("auth_config_details.0.mode", "API_KEY")
			r.eq("auth_config_details.0.name", "serpapi_api_key")
			r.eq("auth_config_details.0.fields.auth_config_creation", map[string]any{"required": []any{}, "optional": []any{}})
			r.eq("auth_config_details.0.fields.connected_account_initiation.optional", []any{})
			key := r.at("auth_config_details.0.fields.connected_account_initiation.required.0")
			eq(t, "serpapi key field", jget(key, "name"), "generic_api_key")
			eq(t, "serpapi key displayName", jget(key, "displayName"), "API Key")
			eq(t, "serpapi key is_secret", jget(key, "is_secret"), true)
			eq(t, "serpapi key required", jget(key, "required"), true)
			eq(t, "serpapi key type", jget(key, "type"), "string")
			if d, _ := jget(key, "description").(string); d == "" {
				t.Error("serpapi key field has no description")
			}
			if m := key.(map[string]any); !hasKey(m, "default") || m["default"] != nil {
				t.Errorf("serpapi key default = %v, want present and null", m["default"])
			}

			g := a.get(p + "/toolkits/github").want(200)
			var modes []string
			for _, d := range g.list("auth_config_details") {
				modes = append(modes, jget(d, "mode").(string))
			}
			eq(t, "github modes", modes, []string{"OAUTH2", "BEARER_TOKEN"})
			creation := g.at("auth_config_details.0.fields.auth_config_creation.required")
			eq(t, "github OAUTH2 creation fields", names(creation), []string{"client_id", "client_secret"})
			eq(t, "client_id is_secret", field(creation, "client_id")["is_secret"], false)
			eq(t, "client_secret is_secret", field(creation, "client_secret")["is_secret"], true)
			optional := g.at("auth_config_details.0.fields.connected_account_initiation.optional")
			eq(t, "github OAUTH2 optional connection fields", names(optional), []string{"access_token"})
			eq(t, "access_token required", field(optional, "access_token")["required"], false)
			eq(t, "github BEARER_TOKEN fields", names(g.at("auth_config_details.1.fields.connected_account_initiation.required")), []string{"token"})
			g.eq("auth_config_details.1.proxy.base_url", "https://api.github.com")

			// The spec's version parameter is accepted.
			a.get(p+"/toolkits/serpapi?version=20250909_00").want(200).eq("slug", "serpapi")
			// Slugs are case-insensitive.
			a.get(p+"/toolkits/GitHub").want(200).eq("slug", "github")

			a.get(p+"/toolkits/does_not_exist").v3err(404, "does_not_exist")
		}

		// Every toolkit of the catalog has the shape the SDK needs.
		for _, slug := range slugsOf(a.get("/api/v3.1/toolkits?limit=1000").want(200).list("items")) {
			r := a.get("/api/v3.1/toolkits/" + slug).want(200)
			noNulls(t, slug, r.JSON, toolkitNullable...)
			if _, ok := r.at("meta").(map[string]any); !ok {
				t.Errorf("%s: no meta object", slug)
			}
			for _, k := range []string{"slug", "name"} {
				if s, _ := r.at(k).(string); s == "" {
					t.Errorf("%s: %s is empty", slug, k)
				}
			}
			// The spec-required members of the detail (composio-v3.md §3.1).
			for _, k := range []string{"composio_managed_auth", "composio_managed_auth_schemes", "deprecated.rawProxyInfoByAuthSchemes", "meta.categories", "meta.available_versions"} {
				if _, ok := r.at(k).([]any); !ok {
					t.Errorf("%s: %s = %v, want an array", slug, k, r.at(k))
				}
			}
			for _, k := range []string{"type", "deprecated.toolkitId", "meta.created_at", "meta.updated_at", "meta.description", "meta.logo", "meta.version"} {
				if s, _ := r.at(k).(string); s == "" {
					t.Errorf("%s: %s = %v, want a string", slug, k, r.at(k))
				}
			}
			for _, k := range []string{"enabled", "is_local_toolkit"} {
				if _, ok := r.at(k).(bool); !ok {
					t.Errorf("%s: %s = %v, want a boolean", slug, k, r.at(k))
				}
			}
			for _, c := range r.list("meta.categories") {
				if jget(c, "slug") == nil || jget(c, "name") == nil || jget(c, "id") != nil {
					t.Errorf("%s: detail category %v, want {slug, name}", slug, c)
				}
			}
			details := r.list("auth_config_details")
			if len(details) == 0 {
				t.Errorf("%s: no auth_config_details", slug)
			}
			for _, d := range details {
				mode, _ := jget(d, "mode").(string)
				if mode == "" || jget(d, "name") == nil {
					t.Errorf("%s: auth_config_details entry without mode or name: %v", slug, d)
				}
				for _, group := range []string{"auth_config_creation", "connected_account_initiation"} {
					for _, part := range []string{"required", "optional"} {
						fs, ok := jget(d, "fields."+group+"."+part).([]any)
						if !ok {
							t.Errorf("%s %s: fields.%s.%s is not an array", slug, mode, group, part)
						}
						for _, f := range fs {
							m := f.(map[string]any)
							for _, k := range []string{"name", "displayName", "type", "description", "required", "is_secret"} {
								if !hasKey(m, k) || m[k] == nil {
									t.Errorf("%s %s %s: field %v lacks %s", slug, mode, group, m["name"], k)
								}
							}
							for _, k := range []string{"display_name", "isSecret"} {
								if hasKey(m, k) {
									t.Errorf("%s %s: field %v has %s (the wire uses displayName and is_secret)", slug, mode, m["name"], k)
								}
							}
							if m["required"] != (part == "required") {
								t.Errorf("%s %s: field %v in %s has required=%v", slug, mode, m["name"], part, m["required"])
							}
						}
					}
				}
			}
		}
	})
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func names(fields any) []string {
	out := []string{}
	l, _ := fields.([]any)
	for _, f := range l {
		out = append(out, jget(f, "name").(string))
	}
	return out
}

func TestToolkitsMultiAndCategories(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		for _, p := range v3Prefixes {
			r := a.post(p+"/toolkits/multi", map[string]any{"toolkits": []string{"SERPAPI", "github", "no_such_toolkit"}}).want(200)
			eq(t, "multi slugs", slugsOf(r.list("items")), []string{"github", "serpapi"})
			r.eq("total_items", 2)
			r.eq("next_cursor", nil)
			if _, ok := r.at("items.0.meta").(map[string]any); !ok {
				t.Error("multi item without meta")
			}

			first := a.post(p+"/toolkits/multi", map[string]any{"toolkits": []string{"serpapi", "github", "openai"}, "limit": 2}).want(200)
			eq(t, "multi page 1", slugsOf(first.list("items")), []string{"github", "openai"})
			first.eq("total_pages", 2)
			second := a.post(p+"/toolkits/multi", map[string]any{"toolkits": []string{"serpapi", "github", "openai"}, "limit": 2, "cursor": first.str("next_cursor")}).want(200)
			eq(t, "multi page 2", slugsOf(second.list("items")), []string{"serpapi"})
			second.eq("current_page", 2)
			second.eq("next_cursor", nil)

			a.post(p+"/toolkits/multi", nil).v3err(400, "body")
			a.post(p+"/toolkits/multi", `{"toolkits": "github"}`).v3err(400, "toolkits")

			cats := a.get(p + "/toolkits/categories").want(200)
			items := cats.list("items")
			cats.eq("total_items", len(items))
			var ids []string
			for _, c := range items {
				id, _ := jget(c, "id").(string)
				if id == "" || jget(c, "name") == nil {
					t.Errorf("category %v, want {id, name}", c)
				}
				ids = append(ids, id)
			}
			if !slices.IsSorted(ids) {
				t.Errorf("categories not sorted: %v", ids)
			}
			// Exactly the categories the toolkits use.
			seen := map[string]bool{}
			for _, it := range a.get(p + "/toolkits?limit=1000").want(200).list("items") {
				for _, c := range jget(it, "meta.categories").([]any) {
					seen[jget(c, "id").(string)] = true
				}
			}
			var want []string
			for id := range seen {
				want = append(want, id)
			}
			slices.Sort(want)
			eq(t, "category ids", ids, want)
		}
	})
}

func TestLegacyApps(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		v3 := a.get("/api/v3.1/toolkits?limit=1000").want(200)
		toolkitIDs := map[string]string{}
		for _, it := range v3.list("items") {
			toolkitIDs[jget(it, "slug").(string)] = jget(it, "deprecated.toolkitId").(string)
		}

		for _, q := range []string{"?additionalFields=auth_schemes", ""} {
			r := a.get("/api/v1/apps" + q).want(200)
			items := r.list("items")
			eq(t, "apps"+q+" count", len(items), len(toolkitIDs))
			for _, it := range items {
				key, _ := jget(it, "key").(string)
				appID, _ := jget(it, "appId").(string)
				// The legacy appId is the v3 toolkit id, stable across instances.
				if appID == "" || appID != toolkitIDs[key] {
					t.Errorf("app %q: appId %q, want the toolkit id %q", key, appID, toolkitIDs[key])
				}
				schemes, ok := jget(it, "auth_schemes").([]any)
				if !ok || len(schemes) == 0 {
					t.Errorf("app %s: auth_schemes %v, want a non-empty array", key, jget(it, "auth_schemes"))
				}
				noAuth := len(schemes) == 1 && jget(schemes[0], "mode") == "NO_AUTH"
				eq(t, key+" no_auth", jget(it, "no_auth"), noAuth)
				for _, s := range schemes {
					checkLegacyScheme(t, key, s)
				}
			}
		}

		for _, name := range []string{"serpapi", "SERPAPI", "SerpApi"} {
			r := a.get("/api/v1/apps/" + name).want(200)
			r.eq("key", "serpapi")
			r.eq("name", "serpapi")
			r.eq("appId", toolkitIDs["serpapi"])
			r.eq("no_auth", false)
			r.eq("auth_schemes.0.mode", "API_KEY")
			r.eq("auth_schemes.0.auth_mode", "API_KEY")
			r.eq("auth_schemes.0.scheme_name", "serpapi_api_key")
			r.eq("auth_schemes.0.fields", []any{map[string]any{
				"name": "generic_api_key", "displayName": "API Key", "display_name": "API Key", "type": "string", "required": true,
				"expected_from_customer": true, "is_secret": true, "default": nil,
				"description": r.at("auth_schemes.0.fields.0.description"),
			}})
			if r.str("auth_schemes.0.fields.0.description") == "" {
				t.Error("serpapi field without description")
			}
		}

		g := a.get("/api/v1/apps/github").want(200)
		oauth := g.at("auth_schemes.0.fields")
		eq(t, "github OAUTH2 mode", g.at("auth_schemes.0.mode"), "OAUTH2")
		// Integration-level settings are not expected from the customer;
		// connection-time fields are. Both explicitly.
		eq(t, "client_id expected_from_customer", field(oauth, "client_id")["expected_from_customer"], false)
		eq(t, "client_secret expected_from_customer", field(oauth, "client_secret")["expected_from_customer"], false)
		eq(t, "access_token expected_from_customer", field(oauth, "access_token")["expected_from_customer"], true)
		eq(t, "github BEARER_TOKEN", g.at("auth_schemes.1.mode"), "BEARER_TOKEN")

		cats := a.get("/api/v1/apps/list/categories").want(200)
		if len(cats.list("items")) == 0 {
			t.Error("no legacy categories")
		}
		for _, c := range cats.list("items") {
			if jget(c, "id") == nil || jget(c, "name") == nil {
				t.Errorf("legacy category %v, want {id, name}", c)
			}
		}
		enums, ok := a.get("/api/v1/apps/list/enums").want(200).JSON.([]any)
		if !ok || len(enums) != len(toolkitIDs) || !slices.Contains(enums, any("SERPAPI")) {
			t.Errorf("enums = %v, want every app key upper-cased", enums)
		}

		// composio-core sends the literal placeholder when an app name is missing.
		a.get("/api/v1/apps/%7BappName%7D").legacyErr(404, "not found")
		a.get("/api/v1/apps/no_such_app").legacyErr(404, "no_such_app")
		a.as("").get("/api/v1/apps").legacyErr(401)
	})
}

// checkLegacyScheme checks one auth scheme of a legacy app as composio-core
// and the Python SDK read it (composio-legacy-v1.md §3.2).
func checkLegacyScheme(t *testing.T, app string, s any) {
	t.Helper()
	m, _ := s.(map[string]any)
	mode, _ := m["mode"].(string)
	if mode == "" || m["auth_mode"] != mode || m["scheme_name"] == nil {
		t.Errorf("app %s: scheme %v lacks mode/auth_mode/scheme_name", app, m)
	}
	fields, ok := m["fields"].([]any)
	if !ok {
		t.Errorf("app %s %s: fields %v, want an array", app, mode, m["fields"])
	}
	for _, f := range fields {
		fm := f.(map[string]any)
		for _, k := range []string{"name", "display_name", "description", "type", "required", "expected_from_customer", "is_secret", "default"} {
			if !hasKey(fm, k) {
				t.Errorf("app %s %s: field %v lacks %s", app, mode, fm["name"], k)
			}
		}
		if _, ok := fm["expected_from_customer"].(bool); !ok {
			t.Errorf("app %s %s: field %v: expected_from_customer %v, want a boolean", app, mode, fm["name"], fm["expected_from_customer"])
		}
	}
}
