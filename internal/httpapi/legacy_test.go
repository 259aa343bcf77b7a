package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// legacyIntegration creates an integration exactly as composio-core's
// integrations.create does and returns its id.
func (a *api) legacyIntegration(app, scheme string) string {
	a.t.Helper()
	r := a.post("/api/v2/integrations/create", fmt.Sprintf(
		`{"app":{"uniqueKey":%q},"config":{"useComposioAuth":false,"name":"%s-integration","authScheme":%q,"integrationSecrets":{}}}`, app, app, scheme))
	if r.Status/100 != 2 {
		a.t.Fatalf("create integration: %d %s", r.Status, r.Raw)
	}
	return r.str("integrationId")
}

// initiateBody is entity.initiateConnection's body (composio-legacy-v1.md
// §3.4): app.uniqueKey and config.name only when an app name is given,
// app.integrationId only when an integration is, redirectURL "" and
// labels [] when unset.
func initiateBody(app, integrationID, scheme, entity string, data map[string]any, labels []string) map[string]any {
	appPart, config := map[string]any{}, map[string]any{"useComposioAuth": false}
	if app != "" {
		appPart["uniqueKey"], config["name"] = app, app
	}
	if integrationID != "" {
		appPart["integrationId"] = integrationID
	}
	if scheme != "" {
		config["authScheme"] = scheme
	}
	if labels == nil {
		labels = []string{}
	}
	conn := map[string]any{"initiateData": data, "extra": map[string]any{"redirectURL": "", "labels": labels}}
	if entity != "" {
		conn["entityId"] = entity
	}
	return map[string]any{"app": appPart, "config": config, "connection": conn}
}

// initiate runs initiateConnection and returns the connected account id.
func (a *api) initiate(body any) *response {
	a.t.Helper()
	r := a.post("/api/v2/connectedAccounts/initiateConnection", body).want(200)
	r.eq("connectionResponse.connectionStatus", "ACTIVE")
	if !r.has("connectionResponse", "redirectUrl") || r.at("connectionResponse.redirectUrl") != nil {
		a.t.Errorf("initiateConnection: redirectUrl = %v, want present and null", r.at("connectionResponse.redirectUrl"))
	}
	if r.has("", "connectionStatus") {
		a.t.Error("initiateConnection answered flat; composio-core reads connectionResponse.*")
	}
	return r
}

func TestLegacyInitiateConnection(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		integ := a.legacyIntegration("serpapi", "API_KEY")
		key := a.secret("serp-SECRETVALUE-legacy-0123456789")

		// The seed flow's body, verbatim.
		seed := fmt.Sprintf(`{"app":{"uniqueKey":"serpapi","integrationId":%q},
 "config":{"name":"serpapi","useComposioAuth":false,"authScheme":"API_KEY"},
 "connection":{"entityId":"flow-entity","initiateData":{"api_key":%q},
               "extra":{"redirectURL":"","labels":[]}}}`, integ, key)
		r := a.initiate(seed)
		r.eq("integration", map[string]any{"id": integ, "isNewIntegration": false})
		id := r.str("connectionResponse.connectedAccountId")
		if !strings.HasPrefix(id, "ca_") {
			t.Errorf("connectedAccountId %q", id)
		}

		g := a.get("/api/v1/connectedAccounts/" + id).want(200)
		g.eq("id", id)
		g.eq("status", "ACTIVE")
		g.eq("integrationId", integ)
		g.eq("appName", "serpapi")
		g.eq("appUniqueId", "serpapi")
		g.eq("entityId", "flow-entity")
		g.eq("clientUniqueUserId", "flow-entity")
		g.eq("enabled", true)
		g.eq("isDisabled", false)
		g.eq("labels", []any{})
		g.eq("statusReason", nil)
		g.eq("connectionParams.base_url", "https://serpapi.com")
		checkMasked(t, "connectionParams.generic_api_key", g.str("connectionParams.generic_api_key"), key)
		eq(t, "connectionParams keys", keysOf(g.at("connectionParams")), []string{"base_url", "generic_api_key"})
		if g.str("createdAt") == "" || g.str("updatedAt") == "" {
			t.Error("legacy account without createdAt/updatedAt")
		}
		// The same account on the v3.1 surface.
		a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("user_id", "flow-entity")

		// By integration id only (no uniqueKey, no config.name).
		r = a.initiate(initiateBody("", integ, "API_KEY", "e2", map[string]any{"generic_api_key": key}, nil))
		r.eq("integration.isNewIntegration", false)
		r.eq("integration.id", integ)

		// By app name only: the integration is found, or made once.
		tkey := a.secret("tvly-SECRETVALUE-legacy-0123456789")
		first := a.initiate(initiateBody("tavily", "", "API_KEY", "e3", map[string]any{"api_key": tkey}, nil))
		first.eq("integration.isNewIntegration", true)
		made := first.str("integration.id")
		second := a.initiate(initiateBody("tavily", "", "API_KEY", "e3", map[string]any{"api_key": tkey}, nil))
		second.eq("integration", map[string]any{"id": made, "isNewIntegration": false})
		a.get("/api/v1/integrations/"+made).want(200).eq("appName", "tavily")
		a.get("/api/v1/connectedAccounts/"+second.str("connectionResponse.connectedAccountId")).want(200).eq("integrationId", made)
		// By app name, finding the integration made by create.
		a.initiate(initiateBody("serpapi", "", "API_KEY", "e4", map[string]any{"api_key": key}, nil)).eq("integration", map[string]any{"id": integ, "isNewIntegration": false})
		// By app name without authMode: the app's default scheme.
		a.initiate(initiateBody("SERPAPI", "", "", "e5", map[string]any{"api_key": key}, nil)).eq("integration.id", integ)
		// connectedAccounts.initiate without an entity: "default".
		d := a.initiate(initiateBody("", integ, "", "", map[string]any{"api_key": key}, []string{"primary"}))
		dg := a.get("/api/v1/connectedAccounts/" + d.str("connectionResponse.connectedAccountId")).want(200)
		dg.eq("entityId", "default")
		dg.eq("labels", []string{"primary"})

		// Refusals.
		a.post("/api/v2/connectedAccounts/initiateConnection", initiateBody("openai", integ, "API_KEY", "e", map[string]any{"api_key": key}, nil)).legacyErr(400, integ, "serpapi", "openai")
		a.post("/api/v2/connectedAccounts/initiateConnection", initiateBody("", "", "API_KEY", "e", map[string]any{"api_key": key}, nil)).legacyErr(400, "integrationId", "uniqueKey")
		a.post("/api/v2/connectedAccounts/initiateConnection", initiateBody("", integ, "API_KEY", "e", map[string]any{}, nil)).legacyErr(400, "generic_api_key")
		a.post("/api/v2/connectedAccounts/initiateConnection", initiateBody("", integ, "BASIC", "e", map[string]any{"api_key": key}, nil)).legacyErr(400, "BASIC", "API_KEY")
		a.post("/api/v2/connectedAccounts/initiateConnection", initiateBody("", "ac_doesnotexist", "API_KEY", "e", map[string]any{"api_key": key}, nil)).legacyErr(404, "ac_doesnotexist")
		a.post("/api/v2/connectedAccounts/initiateConnection", initiateBody("no_such_app", "", "API_KEY", "e", map[string]any{"api_key": key}, nil)).legacyErr(400, "no_such_app")
		a.post("/api/v2/connectedAccounts/initiateConnection", nil).legacyErr(400, "body")
		// Type errors name the JSON field the client sent.
		r = a.post("/api/v2/connectedAccounts/initiateConnection", `{"app":"serpapi"}`)
		r.legacyErr(400)
		r.eq("message", `Field "app" must be an object, not string.`)
		r = a.post("/api/v2/connectedAccounts/initiateConnection", `{"app":{"uniqueKey":"serpapi"},"config":{"authScheme":5}}`)
		r.legacyErr(400)
		r.eq("message", `Field "config.authScheme" must be a string, not number.`)
	})
}

func TestLegacyConnectionList(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		serp := a.legacyIntegration("serpapi", "API_KEY")
		oai := a.legacyIntegration("openai", "API_KEY")
		key := a.secret("serp-SECRETVALUE-list-0123456789")
		okey := a.secret("sk-test-SECRETVALUE-legacy-list")
		id := func(r *response) string { return r.str("connectionResponse.connectedAccountId") }

		// More accounts than any default page.
		var bulk []string
		for range 25 {
			bulk = append(bulk, id(a.initiate(initiateBody("serpapi", serp, "API_KEY", "bulk", map[string]any{"api_key": key}, nil))))
		}
		e1 := id(a.initiate(initiateBody("openai", oai, "API_KEY", "e", map[string]any{"api_key": okey}, nil)))
		e2 := id(a.initiate(initiateBody("serpapi", serp, "API_KEY", "e", map[string]any{"api_key": key}, []string{"primary"})))
		e3 := id(a.initiate(initiateBody("serpapi", serp, "API_KEY", "e", map[string]any{"api_key": key}, []string{"work"})))
		e4 := id(a.initiate(initiateBody("serpapi", serp, "API_KEY", "e", map[string]any{"api_key": key}, nil)))
		a.do("POST", "/api/v1/connectedAccounts/"+e3+"/disable", nil).want(200)
		a.post("/api/v3.1/connected_accounts/"+e4+"/revoke", nil).want(200)

		// entity.getConnection: ?user_uuid= only, and it needs every account.
		all := a.get("/api/v1/connectedAccounts?user_uuid=bulk").want(200)
		eq(t, "user_uuid=bulk", sorted(all.ids("items")), sorted(bulk))
		all.eq("totalPages", 1)
		all.eq("page", 1)
		var created []string
		for _, it := range all.list("items") {
			m := it.(map[string]any)
			for _, k := range []string{"id", "status", "appName", "createdAt", "labels"} {
				if m[k] == nil {
					t.Errorf("list item %v lacks %s", m["id"], k)
				}
			}
			// The Python SDK requires the object; a listing opens no
			// credentials, so it is empty.
			if params, ok := m["connectionParams"].(map[string]any); !ok || len(params) != 0 {
				t.Errorf("list item %v: connectionParams = %#v, want {}", m["id"], m["connectionParams"])
			}
			created = append(created, m["createdAt"].(string))
		}
		slices.Reverse(created)
		if !slices.IsSorted(created) {
			t.Error("legacy list is not newest first")
		}

		for _, c := range []struct {
			query string
			want  []string
		}{
			{"entityId=bulk", bulk},
			{"user_uuid=e", []string{e1, e2, e4}}, // disabled accounts hidden by default
			{"user_uuid=e&showDisabled=true", []string{e1, e2, e3, e4}},
			{"user_uuid=e&showDisabled=false", []string{e1, e2, e4}},
			{"entityId=e&appNames=OPENAI", []string{e1}},
			{"entityId=e&appNames=serpapi%2Copenai", []string{e1, e2, e4}},
			{"entityId=e&appNames=serpapi,openai&showDisabled=true", []string{e1, e2, e3, e4}},
			{"integrationId=" + oai, []string{e1}},
			{"entityId=e&status=ACTIVE", []string{e1, e2}},
			{"entityId=e&status=REVOKED", []string{e4}},
			{"entityId=e&showActiveOnly=true", []string{e1, e2}},
			{"entityId=e&showActiveOnly=false", []string{e1, e2, e4}},
			{"labels=primary", []string{e2}},
			{"labels=primary%2Cwork&showDisabled=true", []string{e2, e3}},
			{"user_uuid=nobody", nil},
			// Stray parameters are ignored.
			{"user_uuid=e&appUniqueKeys%5B%5D=x&appUniqueKeys[]=y&foo=bar", []string{e1, e2, e4}},
		} {
			r := a.get("/api/v1/connectedAccounts?" + c.query).want(200)
			eq(t, c.query, sorted(r.ids("items")), sorted(c.want))
		}
		eq(t, "no filter", len(a.get("/api/v1/connectedAccounts").want(200).list("items")), 28)

		// page / pageSize.
		var paged []string
		for page, want := range []int{10, 10, 5} {
			r := a.get(fmt.Sprintf("/api/v1/connectedAccounts?user_uuid=bulk&page=%d&pageSize=10", page+1)).want(200)
			eq(t, fmt.Sprintf("page %d size", page+1), len(r.list("items")), want)
			r.eq("totalPages", 3)
			r.eq("page", page+1)
			paged = append(paged, r.ids("items")...)
		}
		eq(t, "pages", paged, all.ids("items"))
		r := a.get("/api/v1/connectedAccounts?labels=primary&page=1&pageSize=1&showDisabled=true").want(200)
		eq(t, "labels page", r.ids("items"), []string{e2})
		a.get("/api/v1/connectedAccounts?pageSize=abc").legacyErr(400, "pageSize")
		a.get("/api/v1/connectedAccounts?status=BROKEN").legacyErr(400, "BROKEN")
		a.get("/api/v1/connectedAccounts?showActiveOnly=perhaps").legacyErr(400, "showActiveOnly")
	})
}

func TestLegacyConnectionLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		integ := a.legacyIntegration("serpapi", "API_KEY")
		key := a.secret("serp-SECRETVALUE-lifecycle-0123456")
		id := a.initiate(initiateBody("serpapi", integ, "API_KEY", "ent", map[string]any{"api_key": key}, nil)).str("connectionResponse.connectedAccountId")

		// disable / enable: no body and no content type.
		r := a.do("POST", "/api/v1/connectedAccounts/"+id+"/disable", nil).want(200)
		r.eq("", map[string]any{"status": "success", "connectedAccountId": id})
		g := a.get("/api/v1/connectedAccounts/" + id).want(200)
		g.eq("isDisabled", true)
		g.eq("enabled", false)
		a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("is_disabled", true)
		a.do("POST", "/api/v1/connectedAccounts/"+id+"/enable", nil).want(200).eq("", map[string]any{"status": "success", "connectedAccountId": id})
		g = a.get("/api/v1/connectedAccounts/" + id).want(200)
		g.eq("isDisabled", false)
		g.eq("enabled", true)

		// reinitiate replaces the credentials and makes the account ACTIVE again.
		a.post("/api/v3.1/connected_accounts/"+id+"/revoke", nil).want(200)
		a.get("/api/v1/connectedAccounts/"+id).want(200).eq("status", "REVOKED")
		newKey := a.secret("serp-SECRETVALUE-reinitiated-98765")
		r = a.post("/api/v1/connectedAccounts/"+id+"/reinitiate", map[string]any{"data": map[string]any{"api_key": newKey}, "redirectUri": "https://example.com/cb"}).want(200)
		r.eq("", map[string]any{"connectionStatus": "ACTIVE", "connectedAccountId": id, "redirectUrl": nil})
		g = a.get("/api/v1/connectedAccounts/" + id).want(200)
		g.eq("status", "ACTIVE")
		g.eq("statusReason", nil)
		checkMasked(t, "reinitiated key", g.str("connectionParams.generic_api_key"), newKey)
		a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status_reason", nil)
		a.post("/api/v1/connectedAccounts/"+id+"/reinitiate", map[string]any{"data": map[string]any{}}).legacyErr(400, "generic_api_key")
		a.post("/api/v1/connectedAccounts/"+id+"/reinitiate", map[string]any{"data": map[string]any{"api_key": newKey, "extra": "x"}}).legacyErr(400, `"extra"`)
		a.get("/api/v1/connectedAccounts/"+id).want(200).eq("status", "ACTIVE")

		// v1 create (ConnectionRequest.saveUserAccessData): a flat answer.
		v1 := a.post("/api/v1/connectedAccounts", map[string]any{
			"integrationId": integ, "data": map[string]any{"api_key": key}, "redirectUri": "https://example.com/cb", "userUuid": "uu", "entityId": "ent-v1",
		}).want(200)
		v1.eq("connectionStatus", "ACTIVE")
		v1.eq("redirectUrl", nil)
		a.get("/api/v1/connectedAccounts/"+v1.str("connectedAccountId")).want(200).eq("entityId", "ent-v1")
		uu := a.post("/api/v1/connectedAccounts", map[string]any{"integrationId": integ, "data": map[string]any{"api_key": key}, "userUuid": "uu"}).want(200)
		a.get("/api/v1/connectedAccounts/"+uu.str("connectedAccountId")).want(200).eq("entityId", "uu")
		a.post("/api/v1/connectedAccounts", map[string]any{"data": map[string]any{"api_key": key}}).legacyErr(400, "integrationId")

		// delete.
		a.del("/api/v1/connectedAccounts/"+id).want(200).eq("", map[string]any{"status": "success", "count": 1})
		a.get("/api/v1/connectedAccounts/"+id).legacyErr(404, id)
		a.del("/api/v1/connectedAccounts/"+id).legacyErr(404, id)
		a.do("POST", "/api/v1/connectedAccounts/"+id+"/disable", nil).legacyErr(404, id)

		// composio-core's literal placeholder when the id is missing.
		const ph = "/api/v1/connectedAccounts/%7BconnectedAccountId%7D"
		a.get(ph).legacyErr(404, "not found")
		a.del(ph).legacyErr(404, "not found")
		a.do("POST", ph+"/disable", nil).legacyErr(404, "not found")
		a.do("POST", ph+"/enable", nil).legacyErr(404, "not found")
		a.post(ph+"/reinitiate", map[string]any{"data": map[string]any{}}).legacyErr(404, "not found")
		a.get("/api/v1/connectedAccounts/ca_doesnotexist").legacyErr(404, "ca_doesnotexist")
	})
}
