package httpapi_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// Nulls a v3.1 connected account may carry (composio-v3.md §2, §4.4).
var connectionNullable = []string{"status_reason", "word_id", "alias", "redirect_url", "redirect_uri", "next_cursor"}

// checkMasked checks that got is the masked form of secret: a short
// prefix of it followed by "...".
func checkMasked(t *testing.T, what, got, secret string) {
	t.Helper()
	prefix, ok := strings.CutSuffix(got, "...")
	if !ok || len(prefix) > 4 || !strings.HasPrefix(secret, prefix) {
		t.Errorf("%s = %q, want a masked prefix of the secret", what, got)
	}
}

func TestConnectionCreateAndGet(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		cases := []struct {
			toolkit, scheme string
			secret          map[string]string // credential fields masked on the wire
			plain           map[string]string // non-secret fields shown as given
		}{
			{"openai", "API_KEY", map[string]string{"api_key": "sk-test-SECRETVALUE-123-openai"}, nil},
			{"github", "BEARER_TOKEN", map[string]string{"token": "ghp_SECRETVALUE0123456789abcdefghijkl"}, nil},
			{"slack", "BEARER_TOKEN", map[string]string{"token": "xoxb-SECRETVALUE-1234567890-abcdef"}, nil},
			{"twilio", "BASIC", map[string]string{"password": "twilio-SECRETVALUE-auth-token-42"},
				map[string]string{"username": "AC0123456789abcdef0123456789abcdef"}},
			{"jira", "BASIC", map[string]string{"password": "jira-SECRETVALUE-api-token-42"},
				map[string]string{"subdomain": "acme", "username": "dev@acme.example"}},
			{"jira", "API_KEY", map[string]string{"generic_api_key": "jira-SECRETVALUE-api-token-43"},
				map[string]string{"subdomain": "acme", "generic_id": "dev@acme.example"}},
			{"shopify", "API_KEY", map[string]string{"generic_api_key": "shpat_SECRETVALUE0123456789"}, map[string]string{"subdomain": "acme-store"}},
		}
		for _, c := range cases {
			ac := a.createAuthConfig(c.toolkit, c.scheme, nil)
			val := map[string]any{}
			for k, v := range c.secret {
				val[k] = a.secret(v)
			}
			for k, v := range c.plain {
				val[k] = v
			}
			r := a.post("/api/v3.1/connected_accounts", connectBody(ac, "user-"+c.toolkit, c.scheme, val)).want(201)
			id := r.str("id")
			if !strings.HasPrefix(id, "ca_") {
				t.Errorf("%s: id %q, want ca_…", c.toolkit, id)
			}
			r.eq("connectionData.authScheme", c.scheme)
			r.eq("connectionData.val.status", "ACTIVE")
			r.eq("status", "ACTIVE")
			for _, k := range []string{"redirect_url", "redirect_uri"} {
				if !r.has("", k) || r.at(k) != nil {
					t.Errorf("%s: %s = %v, want present and null", c.toolkit, k, r.at(k))
				}
			}
			if r.at("connectionData.val.redirectUrl") != nil {
				t.Errorf("%s: a key-based connection has a redirectUrl", c.toolkit)
			}

			for _, p := range v3Prefixes {
				g := a.get(p + "/connected_accounts/" + id).want(200)
				g.eq("id", id)
				g.eq("user_id", "user-"+c.toolkit)
				g.eq("status", "ACTIVE")
				if !g.has("", "status_reason") || g.at("status_reason") != nil {
					t.Errorf("%s: status_reason = %v, want present and null", c.toolkit, g.at("status_reason"))
				}
				g.eq("is_disabled", false)
				g.eq("word_id", nil)
				g.eq("alias", nil)
				g.eq("labels", []any{})
				g.eq("toolkit.slug", c.toolkit)
				g.eq("auth_config", map[string]any{"id": ac, "auth_scheme": c.scheme, "is_composio_managed": false, "is_disabled": false})
				g.eq("state.authScheme", c.scheme)
				g.eq("state.val.status", "ACTIVE")
				if g.str("created_at") == "" || g.str("updated_at") == "" {
					t.Errorf("%s: no created_at/updated_at", c.toolkit)
				}
				noNulls(t, c.toolkit+" account", g.JSON, connectionNullable...)
				// Every credential key stays, the secret ones masked: the SDK
				// needs them as strings (§4.4).
				wantKeys := []string{}
				for k, v := range c.secret {
					checkMasked(t, c.toolkit+" state.val."+k, g.str("state.val."+k), v)
					checkMasked(t, c.toolkit+" data."+k, g.str("data."+k), v)
					checkMasked(t, c.toolkit+" params."+k, g.str("params."+k), v)
					wantKeys = append(wantKeys, k)
				}
				for k, v := range c.plain {
					g.eq("state.val."+k, v)
					g.eq("data."+k, v)
					wantKeys = append(wantKeys, k)
				}
				slices.Sort(wantKeys)
				eq(t, c.toolkit+" data keys", keysOf(g.at("data")), wantKeys)
				eq(t, c.toolkit+" params keys", keysOf(g.at("params")), wantKeys)
				eq(t, c.toolkit+" state.val keys", keysOf(g.at("state.val")), sorted(append([]string{"status"}, wantKeys...)))
			}
		}

		// serpapi's field is generic_api_key; the SDK helper's api_key is an
		// alias, stored under the field's name.
		serp := a.createAuthConfig("serpapi", "", nil)
		id := a.connect(serp, "u", "API_KEY", map[string]any{"api_key": a.secret("serp-SECRETVALUE-0123456789abcdef")})
		g := a.get("/api/v3.1/connected_accounts/" + id).want(200)
		checkMasked(t, "serpapi generic_api_key", g.str("state.val.generic_api_key"), "serp-SECRETVALUE-0123456789abcdef")
		g.eq("auth_config.is_composio_managed", true)

		// connection.data (spec) instead of state.
		r := a.post("/api/v3.1/connected_accounts", map[string]any{
			"auth_config": map[string]any{"id": serp},
			"connection":  map[string]any{"user_id": "data-user", "data": map[string]any{"generic_api_key": a.secret("serp-SECRETVALUE-data-form-xyz")}},
		}).want(201)
		r.eq("connectionData.val.status", "ACTIVE")

		// The SDK may add callback_url; key-based schemes ignore it.
		withCallback := connectBody(serp, "cb-user", "API_KEY", map[string]any{"api_key": a.secret("serp-SECRETVALUE-callback-0123")})
		withCallback["connection"].(map[string]any)["callback_url"] = "https://example.com/callback"
		a.post("/api/v3.1/connected_accounts", withCallback).want(201).eq("redirect_url", nil)

		// A toolkit without auth connects with no credentials at all.
		noAuth := false
		for _, it := range a.get("/api/v3.1/toolkits?limit=1000").want(200).list("items") {
			if jget(it, "no_auth") != true {
				continue
			}
			noAuth = true
			slug := jget(it, "slug").(string)
			ac := a.createAuthConfig(slug, "", nil)
			r := a.post("/api/v3.1/connected_accounts", map[string]any{"auth_config": map[string]any{"id": ac}, "connection": map[string]any{"user_id": "u"}}).want(201)
			r.eq("connectionData.authScheme", "NO_AUTH")
			r.eq("connectionData.val.status", "ACTIVE")
			g := a.get("/api/v3.1/connected_accounts/" + r.str("id")).want(200)
			g.eq("state", map[string]any{"authScheme": "NO_AUTH", "val": map[string]any{"status": "ACTIVE"}})
			g.eq("data", map[string]any{})
			break
		}
		if !noAuth {
			t.Error("the catalog has no toolkit without auth to connect to")
		}

		a.get("/api/v3.1/connected_accounts/ca_doesnotexist").v3err(404, "ca_doesnotexist")
	})
}

func keysOf(v any) []string {
	m, _ := v.(map[string]any)
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestConnectionList(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		acA := a.createAuthConfig("openai", "API_KEY", nil)
		acB := a.createAuthConfig("serpapi", "", nil)
		acG := a.createAuthConfig("github", "BEARER_TOKEN", nil)
		key := func(s string) map[string]any { return map[string]any{"api_key": a.secret("sk-test-SECRETVALUE-" + s)} }
		c1 := a.connect(acA, "u1", "API_KEY", key("c1"))
		c2 := a.connect(acA, "u2", "API_KEY", key("c2"))
		c3 := a.connect(acB, "u1", "API_KEY", key("c3"))
		c4 := a.connect(acG, "u3", "BEARER_TOKEN", map[string]any{"token": a.secret("ghp_SECRETVALUE_c4_0123456789")})
		c5 := a.connect(acB, "u2", "API_KEY", key("c5"))
		a.post("/api/v3.1/connected_accounts/"+c5+"/revoke", nil).want(200)

		all := a.get("/api/v3.1/connected_accounts").want(200)
		// Newest first by default.
		eq(t, "all", all.ids("items"), []string{c5, c4, c3, c2, c1})
		all.eq("total_items", 5)
		all.eq("total_pages", 1)
		all.eq("current_page", 1)
		all.eq("next_cursor", nil)
		noNulls(t, "list", all.JSON, connectionNullable...)
		for _, it := range all.list("items") {
			m := it.(map[string]any)
			if hasKey(m, "params") {
				t.Errorf("list item %v carries params", m["id"])
			}
			for _, k := range []string{"auth_config", "state", "status_reason", "toolkit", "is_disabled", "created_at", "updated_at"} {
				if !hasKey(m, k) {
					t.Errorf("list item %v lacks %s", m["id"], k)
				}
			}
		}
		// Listed state carries the masked credential keys the SDK's state
		// schemas require; in state a settled key-based account that is not
		// ACTIVE reads INACTIVE (composio-v3.md §4.4).
		items := map[string]any{}
		for _, it := range all.list("items") {
			items[jget(it, "id").(string)] = it
		}
		checkMasked(t, "listed c1 api_key", jget(items[c1], "state.val.api_key").(string), "sk-test-SECRETVALUE-c1")
		checkMasked(t, "listed c4 token", jget(items[c4], "state.val.token").(string), "ghp_SECRETVALUE_c4_0123456789")
		eq(t, "listed c4 state", keysOf(jget(items[c4], "state.val")), []string{"status", "token"})
		eq(t, "listed c1 state.val.status", jget(items[c1], "state.val.status"), "ACTIVE")
		eq(t, "listed c5 status", jget(items[c5], "status"), "REVOKED")
		eq(t, "listed c5 state.val", jget(items[c5], "state.val"), map[string]any{"status": "INACTIVE", "generic_api_key": ""})

		// Lists arrive comma-joined in one parameter, as the SDK sends them.
		for _, c := range []struct {
			query string
			want  []string
		}{
			{"user_ids=u1", []string{c1, c3}},
			{"user_ids=u1%2Cu2", []string{c1, c2, c3, c5}},
			{"user_ids=u1&user_ids=u3", []string{c1, c3, c4}},
			{"user_ids=nobody", nil},
			{"auth_config_ids=" + acA, []string{c1, c2}},
			{"auth_config_ids=" + acA + "%2C" + acG, []string{c1, c2, c4}},
			{"toolkit_slugs=serpapi", []string{c3, c5}},
			{"toolkit_slugs=GITHUB%2Copenai", []string{c1, c2, c4}},
			{"statuses=REVOKED", []string{c5}},
			{"statuses=ACTIVE", []string{c1, c2, c3, c4}},
			{"statuses=ACTIVE%2CREVOKED", []string{c1, c2, c3, c4, c5}},
			{"statuses=active", []string{c1, c2, c3, c4}},
			{"connected_account_ids=" + c1 + "%2C" + c4, []string{c1, c4}},
			// The SDK's pre-check before initiate.
			{"auth_config_ids=" + acA + "&statuses=ACTIVE&user_ids=u1", []string{c1}},
			{"auth_config_ids=" + acB + "&statuses=ACTIVE&user_ids=u2", nil},
			{"order_by=created_at&toolkit_slugs=openai", []string{c1, c2}},
			{"account_type=PRIVATE&toolkit_slugs=openai", []string{c1, c2}}, // accepted, not filtered on
		} {
			r := a.get("/api/v3.1/connected_accounts?" + c.query).want(200)
			eq(t, c.query, sorted(r.ids("items")), sorted(c.want))
			r.eq("total_items", len(c.want))
		}
		a.get("/api/v3.1/connected_accounts?statuses=BROKEN").v3err(400, "statuses", "BROKEN")
		a.get("/api/v3.1/connected_accounts?order_direction=sideways").v3err(400, "order_direction")
		a.get("/api/v3.1/connected_accounts?order_by=name").v3err(400, "order_by")
		a.get("/api/v3.1/connected_accounts?limit=0").v3err(400, "limit")
		a.get("/api/v3.1/connected_accounts?cursor=bogus").v3err(400, "cursor")

		// Cursor paging, both directions.
		var pager []string
		for i := range 7 {
			pager = append(pager, a.connect(acA, "pager", "API_KEY", key("pager-"+string(rune('a'+i)))))
		}
		walk := func(dir string) (ids, created []string) {
			cursor, page := "", 1
			for {
				q := url.Values{"user_ids": {"pager"}, "limit": {"3"}}
				if dir != "" {
					q.Set("order_direction", dir)
				}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				r := a.get("/api/v3.1/connected_accounts?" + q.Encode()).want(200)
				r.eq("total_items", 7)
				r.eq("total_pages", 3)
				r.eq("current_page", page)
				ids = append(ids, r.ids("items")...)
				for _, it := range r.list("items") {
					created = append(created, jget(it, "created_at").(string))
				}
				next, _ := r.at("next_cursor").(string)
				if next == "" {
					if n := len(r.list("items")); n != 1 {
						t.Errorf("%s: last page holds %d, want 1", dir, n)
					}
					return ids, created
				}
				cursor, page = next, page+1
				if page > 5 {
					t.Fatal("paging does not end")
				}
			}
		}
		asc, ascCreated := walk("asc")
		desc, _ := walk("desc")
		deflt, _ := walk("")
		eq(t, "asc paging", sorted(asc), sorted(pager))
		if !slices.IsSorted(ascCreated) {
			t.Errorf("asc order is not by created_at: %v", ascCreated)
		}
		slices.Reverse(desc)
		eq(t, "desc is asc reversed", desc, asc)
		slices.Reverse(deflt)
		eq(t, "default order is desc", deflt, asc)
		eq(t, "asc is creation order", asc, pager)
	})
}

func TestConnectionLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		ac := a.createAuthConfig("openai", "API_KEY", nil)
		id := a.connect(ac, "u", "API_KEY", map[string]any{"api_key": a.secret("sk-test-SECRETVALUE-lifecycle")})
		ref := patchbay.CredentialsRef(a.srv.Project.ID, id)
		ctx := context.Background()

		// Enable / disable.
		a.patch("/api/v3.1/connected_accounts/"+id+"/status", map[string]any{"enabled": false}).want(200).eq("", map[string]any{"success": true})
		a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("is_disabled", true)
		a.get("/api/v3.1/connected_accounts?user_ids=u").want(200).eq("items.0.is_disabled", true)
		a.patch("/api/v3/connected_accounts/"+id+"/status", map[string]any{"enabled": true}).want(200).eq("success", true)
		a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("is_disabled", false)
		a.patch("/api/v3.1/connected_accounts/"+id+"/status", map[string]any{}).v3err(400, "enabled")
		a.patch("/api/v3.1/connected_accounts/"+id+"/status", map[string]any{"enabled": "no"}).v3err(400, "enabled")
		a.patch("/api/v3.1/connected_accounts/"+id+"/status", nil).v3err(400, "body")
		a.patch("/api/v3.1/connected_accounts/ca_doesnotexist/status", map[string]any{"enabled": true}).v3err(404, "ca_doesnotexist")

		// Refresh: body {} as the SDK sends it, or none.
		r := a.post("/api/v3.1/connected_accounts/"+id+"/refresh", map[string]any{}).want(200)
		r.eq("", map[string]any{"id": id, "status": "ACTIVE", "redirect_url": nil})
		a.post("/api/v3.1/connected_accounts/"+id+"/refresh", nil).want(200).eq("status", "ACTIVE")
		// The SDK puts redirectUrl in the query.
		a.post("/api/v3.1/connected_accounts/"+id+"/refresh?redirect_url=https%3A%2F%2Fexample.com%2Fback", map[string]any{}).want(200).eq("status", "ACTIVE")
		a.post("/api/v3.1/connected_accounts/ca_doesnotexist/refresh", map[string]any{}).v3err(404, "ca_doesnotexist")

		// Revoke: no body; the credentials are erased.
		if _, err := a.srv.Store.GetSecret(ctx, ref); err != nil {
			t.Fatalf("credentials before revoke: %v", err)
		}
		r = a.post("/api/v3.1/connected_accounts/"+id+"/revoke", nil).want(200)
		r.eq("revoked_tokens", []string{"credential"})
		r.eq("connected_account", map[string]any{"id": id, "status": "REVOKED"})
		g := a.get("/api/v3.1/connected_accounts/" + id).want(200)
		g.eq("status", "REVOKED")
		if reason, _ := g.at("status_reason").(string); !strings.Contains(reason, "revoke") {
			t.Errorf("status_reason after revoke = %q, want it to say revoked", reason)
		}
		// In state, key-based schemes know only ACTIVE and INACTIVE, and the
		// SDK requires their credential keys: erased values stay as "".
		g.eq("state.val", map[string]any{"status": "INACTIVE", "api_key": ""})
		g.eq("data", map[string]any{"api_key": ""})
		if _, err := a.srv.Store.GetSecret(ctx, ref); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
			t.Errorf("credentials after revoke: err %v, want ENOTFOUND", err)
		}
		r = a.post("/api/v3.1/connected_accounts/"+id+"/revoke", nil).want(200)
		r.eq("revoked_tokens", []string{})
		r.eq("connected_account.status", "REVOKED")
		a.post("/api/v3.1/connected_accounts/ca_doesnotexist/revoke", nil).v3err(404, "ca_doesnotexist")
		// A revoked account is not refreshed back to life.
		a.post("/api/v3.1/connected_accounts/"+id+"/refresh", map[string]any{}).want(200).eq("status", "REVOKED")

		// Delete.
		other := a.connect(ac, "u", "API_KEY", map[string]any{"api_key": a.secret("sk-test-SECRETVALUE-delete-me")})
		a.del("/api/v3.1/connected_accounts/"+other).want(200).eq("success", true)
		a.get("/api/v3.1/connected_accounts/"+other).v3err(404, other)
		a.del("/api/v3.1/connected_accounts/"+other).v3err(404, other)
		if _, err := a.srv.Store.GetSecret(ctx, patchbay.CredentialsRef(a.srv.Project.ID, other)); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
			t.Errorf("credentials after delete: err %v, want ENOTFOUND", err)
		}
		eq(t, "after delete", a.get("/api/v3.1/connected_accounts").want(200).ids("items"), []string{id})
	})
}

// TestConnectionOldFieldNames: fields given under their older names (the
// seed's Shopify example: shop and api_key) are accepted, and the account
// answers under the current ones.
func TestConnectionOldFieldNames(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		ac := a.createAuthConfig("shopify", "API_KEY", nil)
		const token = "shpat_SECRETVALUE_oldnames_0001"
		id := a.post("/api/v3.1/connected_accounts", connectBody(ac, "u", "API_KEY", map[string]any{"shop": "acme-store", "api_key": a.secret(token)})).want(201).str("id")
		g := a.get("/api/v3.1/connected_accounts/" + id).want(200)
		g.eq("state.val.subdomain", "acme-store")
		checkMasked(t, "state.val.generic_api_key", g.str("state.val.generic_api_key"), token)
		for _, old := range []string{"shop", "api_key"} {
			if g.has("state.val", old) || g.has("data", old) {
				t.Errorf("the account answers under the old name %q: %v", old, g.at("state.val"))
			}
		}
		// Both names of one field at once are refused.
		a.post("/api/v3.1/connected_accounts", connectBody(ac, "u", "API_KEY", map[string]any{"shop": "acme-store", "subdomain": "acme-store", "generic_api_key": a.secret(token)})).v3err(400, "subdomain", "twice")
	})
}

func TestConnectionRules(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		openai := a.createAuthConfig("openai", "API_KEY", nil)
		jira := a.createAuthConfig("jira", "BASIC", nil)
		key := a.secret("sk-test-SECRETVALUE-rules-0001")
		create := func(body any) *response { t.Helper(); return a.post("/api/v3.1/connected_accounts", body) }

		// Fields.
		create(connectBody(openai, "u", "API_KEY", nil)).v3err(400, "api_key", "missing")
		create(connectBody(jira, "u", "BASIC", map[string]any{"subdomain": "acme", "username": "me@acme.example"})).v3err(400, "password")
		create(connectBody(openai, "u", "API_KEY", map[string]any{"api_key": key, "organization": "org-1"})).v3err(400, `"organization"`, "expected: api_key")
		create(connectBody(openai, "u", "API_KEY", map[string]any{"api_key": 12345})).v3err(400, "api_key", "string")
		// The scheme must be the auth config's.
		create(connectBody(openai, "u", "BEARER_TOKEN", map[string]any{"token": key})).v3err(400, "API_KEY", "BEARER_TOKEN")
		// Body shape.
		create(map[string]any{"connection": map[string]any{"user_id": "u"}}).v3err(400, "auth_config.id")
		create(map[string]any{"auth_config": map[string]any{"id": openai}}).v3err(400, "connection")
		create(map[string]any{"auth_config": map[string]any{"id": openai}, "connection": map[string]any{"state": map[string]any{"authScheme": "API_KEY", "val": map[string]any{"api_key": key}}}}).v3err(400, "user_id")
		create(`{"auth_config": {"id": 7}}`).v3err(400, "auth_config.id")
		create(`not json`).v3err(400, "JSON")
		// OAuth connections go through the redirect flow (INITIATED, see
		// oauth_test.go), or import a token as access_token.
		gh := a.createAuthConfig("github", "OAUTH2", map[string]any{"client_id": "cid", "client_secret": a.secret("gh-client-SECRETVALUE-rules")})
		initiated := create(connectBody(gh, "u", "OAUTH2", map[string]any{})).want(201)
		initiated.eq("connectionData.val.status", "INITIATED")
		a.del("/api/v3.1/connected_accounts/" + initiated.str("id")).want(200)
		imported := create(connectBody(gh, "u", "OAUTH2", map[string]any{"access_token": a.secret("gho_SECRETVALUE_rules_token")})).want(201)
		imported.eq("connectionData.val.status", "ACTIVE")
		a.del("/api/v3.1/connected_accounts/" + imported.str("id")).want(200)

		// A disabled auth config takes no new connections.
		a.do("PATCH", "/api/v3.1/auth_configs/"+openai+"/DISABLED", nil).want(200)
		create(connectBody(openai, "u", "API_KEY", map[string]any{"api_key": key})).v3err(400, "disabled")
		a.do("PATCH", "/api/v3.1/auth_configs/"+openai+"/ENABLED", nil).want(200)
		if n := a.get("/api/v3.1/connected_accounts").want(200).num("total_items"); n != 0 {
			t.Fatalf("refused connections left %d accounts", n)
		}

		// allow_multiple:false refuses a second ACTIVE account for the
		// same user and auth config.
		body := func(user string, allow any) map[string]any {
			m := connectBody(openai, user, "API_KEY", map[string]any{"api_key": key})
			if allow != nil {
				m["allow_multiple"] = allow
			}
			return m
		}
		first := create(body("multi", false)).want(201).str("id")
		r := create(body("multi", false))
		r.v3err(409, "multi", first, "allow_multiple")
		if got := r.Header.Get("x-should-retry"); got != "false" {
			t.Errorf("409 x-should-retry = %q, want false (retrying a conflict cannot help)", got)
		}
		create(body("multi", true)).want(201)
		create(body("multi", nil)).want(201)
		create(body("someone-else", false)).want(201)
		// Only ACTIVE accounts count.
		solo := create(body("solo", false)).want(201).str("id")
		a.post("/api/v3.1/connected_accounts/"+solo+"/revoke", nil).want(200)
		create(body("solo", false)).want(201)

		// Alias and labels are kept.
		withMeta := connectBody(openai, "meta", "API_KEY", map[string]any{"api_key": key})
		withMeta["connection"].(map[string]any)["alias"] = "work account"
		withMeta["connection"].(map[string]any)["labels"] = []string{"primary", "team-a"}
		id := create(withMeta).want(201).str("id")
		g := a.get("/api/v3.1/connected_accounts/" + id).want(200)
		g.eq("alias", "work account")
		g.eq("labels", []string{"primary", "team-a"})
		l := a.get("/api/v3.1/connected_accounts?user_ids=meta").want(200)
		l.eq("items.0.alias", "work account")
		l.eq("items.0.labels", []string{"primary", "team-a"})

		// Fields used in a templated base URL must match their pattern, so a
		// value cannot point the credentials at another host. The refusal
		// does not echo the value.
		shop := a.createAuthConfig("shopify", "API_KEY", nil)
		zendesk := a.createAuthConfig("zendesk", "API_KEY", nil)
		token := a.secret("shpat_SECRETVALUE_pattern_0001")
		for _, bad := range []string{"evil.com/x", "evil.com", "acme.myshopify.com#", "a b", "acme/../x", "-acme"} {
			r := create(connectBody(shop, "u", "API_KEY", map[string]any{"subdomain": bad, "generic_api_key": token}))
			r.v3err(400, `"subdomain"`, "format")
			if strings.Contains(r.str("error.message"), bad) {
				t.Errorf("refusal echoes the value %q: %s", bad, r.str("error.message"))
			}
		}
		create(connectBody(shop, "u", "API_KEY", map[string]any{"subdomain": "acme-store", "generic_api_key": token})).want(201)
		encoded := a.secret("bm90IGJhc2U2NCBTRUNSRVRWQUxVRQ==")
		create(connectBody(zendesk, "u", "API_KEY", map[string]any{"subdomain": "evil.com/x", "basic_encoded": encoded})).v3err(400, `"subdomain"`, "format")
		create(connectBody(zendesk, "u", "API_KEY", map[string]any{"subdomain": "acme", "basic_encoded": a.secret("SECRETVALUE not base64!")})).v3err(400, `"basic_encoded"`, "format")
		create(connectBody(zendesk, "u", "API_KEY", map[string]any{"subdomain": "acme", "basic_encoded": encoded})).want(201)
		create(connectBody(jira, "u", "BASIC", map[string]any{"subdomain": "acme.evil.com", "username": "me", "password": a.secret("jira-SECRETVALUE-pattern")})).v3err(400, `"subdomain"`)
	})
}

// sameAsUnknown checks that a request about another project's record
// answers exactly like one about an id that never existed.
func sameAsUnknown(t *testing.T, foreign, unknown *response, foreignID, unknownID string) {
	t.Helper()
	if foreign.Status != 404 || unknown.Status != 404 {
		t.Errorf("%s: %d; unknown id: %d; want 404 for both\n%s", foreign.req, foreign.Status, unknown.Status, foreign.Raw)
		return
	}
	norm := func(r *response, id string) any {
		var body map[string]any
		switch e := r.JSON.(type) {
		case map[string]any:
			body = e
		}
		out := map[string]any{}
		for k, v := range body {
			out[k] = v
		}
		delete(out, "requestId")
		if inner, ok := out["error"].(map[string]any); ok {
			c := map[string]any{}
			for k, v := range inner {
				c[k] = v
			}
			delete(c, "request_id")
			out["error"] = c
		}
		return strings.ReplaceAll(canon(t, out), id, "<id>")
	}
	if f, u := norm(foreign, foreignID), norm(unknown, unknownID); f != u {
		t.Errorf("%s differs from an unknown id:\n foreign: %s\n unknown: %s", foreign.req, f, u)
	}
}

func TestProjectIsolation(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		ac := a.createAuthConfig("openai", "API_KEY", nil)
		ca := a.connect(ac, "victim", "API_KEY", map[string]any{"api_key": a.secret("sk-test-SECRETVALUE-victim-0001")})

		o := a.newProject("second")
		oac := o.createAuthConfig("openai", "API_KEY", nil)
		oca := o.connect(oac, "other", "API_KEY", map[string]any{"api_key": a.secret("sk-test-SECRETVALUE-other-0001")})

		const unknownAC, unknownCA = "ac_0000000000000000", "ca_0000000000000000"
		// same sends the request about the victim's record and about an
		// unknown one ({ac} and {ca} in path and body name them).
		same := func(method, path string, body any) {
			t.Helper()
			raw := ""
			if body != nil {
				raw = canon(t, body)
			}
			fill := func(s, acID, caID string) string {
				return strings.ReplaceAll(strings.ReplaceAll(s, "{ac}", acID), "{ca}", caID)
			}
			send := func(acID, caID string) *response {
				if body == nil {
					return o.do(method, fill(path, acID, caID), nil)
				}
				return o.do(method, fill(path, acID, caID), fill(raw, acID, caID))
			}
			id, uid := ac, unknownAC
			if strings.Contains(path+raw, "{ca}") {
				id, uid = ca, unknownCA
			}
			sameAsUnknown(t, send(ac, ca), send(unknownAC, unknownCA), id, uid)
		}
		same("GET", "/api/v3.1/auth_configs/{ac}", nil)
		same("PATCH", "/api/v3.1/auth_configs/{ac}", map[string]any{"type": "custom", "name": "mine now"})
		same("PATCH", "/api/v3.1/auth_configs/{ac}/DISABLED", nil)
		same("DELETE", "/api/v3.1/auth_configs/{ac}", nil)
		same("GET", "/api/v3.1/connected_accounts/{ca}", nil)
		same("PATCH", "/api/v3.1/connected_accounts/{ca}/status", map[string]any{"enabled": false})
		same("POST", "/api/v3.1/connected_accounts/{ca}/refresh", map[string]any{})
		same("POST", "/api/v3.1/connected_accounts/{ca}/revoke", nil)
		same("DELETE", "/api/v3.1/connected_accounts/{ca}", nil)
		same("POST", "/api/v3.1/connected_accounts", connectBody("{ac}", "attacker", "API_KEY", map[string]any{"api_key": "sk-attacker"}))
		// Legacy surface.
		same("GET", "/api/v1/integrations/{ac}", nil)
		same("DELETE", "/api/v1/integrations/{ac}", nil)
		same("GET", "/api/v1/connectedAccounts/{ca}", nil)
		same("POST", "/api/v1/connectedAccounts/{ca}/disable", nil)
		same("POST", "/api/v1/connectedAccounts/{ca}/reinitiate", map[string]any{"data": map[string]any{"api_key": "sk-attacker"}})
		same("DELETE", "/api/v1/connectedAccounts/{ca}", nil)
		same("POST", "/api/v2/connectedAccounts/initiateConnection", map[string]any{
			"app": map[string]any{"integrationId": "{ac}"}, "connection": map[string]any{"entityId": "attacker", "initiateData": map[string]any{"api_key": "sk-attacker"}},
		})
		same("POST", "/api/v1/connectedAccounts", map[string]any{"integrationId": "{ac}", "data": map[string]any{"api_key": "sk-attacker"}})

		// Listings show only the caller's project, whatever the filters say.
		eq(t, "other project's accounts", o.get("/api/v3.1/connected_accounts").want(200).ids("items"), []string{oca})
		o.get("/api/v3.1/connected_accounts?connected_account_ids="+ca).want(200).eq("total_items", 0)
		o.get("/api/v3.1/connected_accounts?auth_config_ids="+ac).want(200).eq("total_items", 0)
		o.get("/api/v3.1/connected_accounts?user_ids=victim").want(200).eq("total_items", 0)
		eq(t, "other project's auth configs", o.get("/api/v3.1/auth_configs?show_disabled=true").want(200).ids("items"), []string{oac})
		o.get("/api/v1/connectedAccounts?user_uuid=victim").want(200).eq("items", []any{})
		eq(t, "other project's integrations", o.get("/api/v1/integrations?showDisabled=true").want(200).ids("items"), []string{oac})

		// Nothing the other project tried changed the victim's records.
		g := a.get("/api/v3.1/connected_accounts/" + ca).want(200)
		g.eq("status", "ACTIVE")
		g.eq("is_disabled", false)
		a.get("/api/v3.1/auth_configs/"+ac).want(200).eq("name", "OpenAI Auth Config")
		a.get("/api/v3.1/auth_configs/"+ac).want(200).eq("status", "ENABLED")
		eq(t, "victim's accounts", a.get("/api/v3.1/connected_accounts").want(200).ids("items"), []string{ca})
	})
}
