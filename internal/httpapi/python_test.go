package httpapi_test

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/outbound"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// The legacy Python SDK (composio-core 0.7.21 with composio-openai) cannot
// be installed here, so these tests replay its requests exactly as
// ../shared/contracts/composio-python.md shows them: the same paths, query
// strings, headers and bodies, in the same order, and check each answer
// against the pydantic models the SDK validates it with (§3.1, §4.3):
// every required field present, of the right JSON type, never null. Every
// collection call of the SDK needs exactly 200 (§1), so every success here
// must be 200, and the answers are pinned by golden files.

// pyKind is the JSON type a model field must have.
type pyKind int

const (
	pyStr      pyKind = iota // a string, not null
	pyBool                   // a boolean
	pyObject                 // an object, not null
	pyStrList                // a list of strings
	pyList                   // a list
	pyStrOrNil               // a string or null
)

// pyModel lists a pydantic model's fields: required ones must be present.
type pyModel struct {
	name     string
	required map[string]pyKind
	optional map[string]pyKind
}

var (
	pyIntegration = pyModel{"IntegrationModel",
		map[string]pyKind{"id": pyStr, "name": pyStr, "authScheme": pyStr, "createdAt": pyStr, "updatedAt": pyStr,
			"enabled": pyBool, "deleted": pyBool, "appId": pyStr, "appName": pyStr},
		map[string]pyKind{"expectedInputFields": pyList, "logo": pyStrOrNil, "defaultConnectorId": pyStrOrNil}}
	pyExpectedField = pyModel{"ExpectedFieldInput",
		map[string]pyKind{"name": pyStr, "type": pyStr, "description": pyStr, "displayName": pyStr},
		map[string]pyKind{"is_secret": pyBool, "required": pyBool, "expected_from_customer": pyBool, "default": pyStrOrNil}}
	pyConnectionRequest = pyModel{"ConnectionRequestModel",
		map[string]pyKind{"connectionStatus": pyStr, "connectedAccountId": pyStr},
		map[string]pyKind{"redirectUrl": pyStrOrNil}}
	pyConnectedAccount = pyModel{"ConnectedAccountModel",
		map[string]pyKind{"id": pyStr, "status": pyStr, "createdAt": pyStr, "updatedAt": pyStr, "appUniqueId": pyStr,
			"appName": pyStr, "integrationId": pyStr, "connectionParams": pyObject},
		map[string]pyKind{"clientUniqueUserId": pyStr, "entityId": pyStr}}
	pyApp = pyModel{"AppModel",
		map[string]pyKind{"name": pyStr, "key": pyStr, "appId": pyStr, "description": pyStr, "categories": pyStrList, "meta": pyObject},
		map[string]pyKind{"auth_schemes": pyList, "logo": pyStrOrNil, "no_auth": pyBool}}
	pyAuthScheme = pyModel{"AuthSchemeModel",
		map[string]pyKind{"scheme_name": pyStr, "auth_mode": pyStr, "fields": pyList}, nil}
	pyAuthSchemeField = pyModel{"AuthSchemeField",
		map[string]pyKind{"name": pyStr, "description": pyStr, "type": pyStr}, nil}
)

// pyAuthModes are the auth modes the SDK's AppModel admits (§3.1).
var pyAuthModes = []string{"OAUTH2", "OAUTH1", "API_KEY", "BASIC", "BEARER_TOKEN", "BASIC_WITH_JWT",
	"GOOGLE_SERVICE_ACCOUNT", "GOOGLEADS_AUTH", "NO_AUTH", "CALCOM_AUTH"}

// validate reports every way v fails m, as pydantic would.
func (m pyModel) validate(t *testing.T, where string, v any) {
	t.Helper()
	obj, ok := v.(map[string]any)
	if !ok {
		t.Errorf("%s: %s is %T, want an object", where, m.name, v)
		return
	}
	check := func(field string, kind pyKind, val any) {
		t.Helper()
		bad := false
		switch kind {
		case pyStr:
			_, isStr := val.(string)
			bad = !isStr
		case pyStrOrNil:
			_, isStr := val.(string)
			bad = !isStr && val != nil
		case pyBool:
			_, isBool := val.(bool)
			bad = !isBool
		case pyObject:
			_, isObj := val.(map[string]any)
			bad = !isObj
		case pyList, pyStrList:
			list, isList := val.([]any)
			bad = !isList
			if kind == pyStrList {
				for _, e := range list {
					if _, isStr := e.(string); !isStr {
						bad = true
					}
				}
			}
		}
		if bad {
			t.Errorf("%s: %s.%s = %#v: pydantic rejects it", where, m.name, field, val)
		}
	}
	for field, kind := range m.required {
		val, present := obj[field]
		if !present {
			t.Errorf("%s: %s.%s is missing: Field required", where, m.name, field)
			continue
		}
		check(field, kind, val)
	}
	for field, kind := range m.optional {
		if val, present := obj[field]; present {
			check(field, kind, val)
		}
	}
}

func validateIntegration(t *testing.T, where string, v any) {
	t.Helper()
	pyIntegration.validate(t, where, v)
	obj, _ := v.(map[string]any)
	fields, _ := obj["expectedInputFields"].([]any)
	for i, f := range fields {
		pyExpectedField.validate(t, fmt.Sprintf("%s expectedInputFields[%d]", where, i), f)
	}
}

func validateApp(t *testing.T, where string, v any) {
	t.Helper()
	pyApp.validate(t, where, v)
	obj, _ := v.(map[string]any)
	if _, hasMessage := obj["message"]; hasMessage {
		t.Errorf("%s: an app with a top-level message reads as unknown to the SDK", where)
	}
	schemes, _ := obj["auth_schemes"].([]any)
	for i, s := range schemes {
		at := fmt.Sprintf("%s auth_schemes[%d]", where, i)
		pyAuthScheme.validate(t, at, s)
		sm, _ := s.(map[string]any)
		if mode, _ := sm["auth_mode"].(string); !slices.Contains(pyAuthModes, mode) {
			t.Errorf("%s: auth_mode %q is not one the SDK admits: the whole refresh would fail", at, mode)
		}
		fields, _ := sm["fields"].([]any)
		for j, f := range fields {
			pyAuthSchemeField.validate(t, fmt.Sprintf("%s fields[%d]", at, j), f)
		}
	}
}

func validateAccount(t *testing.T, where string, v any) {
	t.Helper()
	pyConnectedAccount.validate(t, where, v)
	obj, _ := v.(map[string]any)
	params, _ := obj["connectionParams"].(map[string]any)
	for k, val := range params {
		switch k {
		case "headers", "queryParams":
			if _, ok := val.(map[string]any); !ok {
				t.Errorf("%s: connectionParams.%s = %#v, want an object", where, k, val)
			}
		default:
			if _, ok := val.(string); !ok {
				t.Errorf("%s: connectionParams.%s = %#v, want a string", where, k, val)
			}
		}
	}
}

// pySDK is one process of the Python SDK: its key, its headers, and the
// record of what it called.
type pySDK struct {
	t     *testing.T
	a     *api
	calls map[string]int // "METHOD /route" → last status
}

func newPySDK(t *testing.T, a *api) *pySDK {
	return &pySDK{t: t, a: a, calls: map[string]int{}}
}

// call sends one request as the SDK's requests.Session does (§1), and
// records it under route, the contract's name for it.
func (py *pySDK) call(route, method, path string, body any) *response {
	py.t.Helper()
	opts := []reqOpt{
		withHeader("X-Request-Id", uuid4(py.t)),
		withHeader("Accept", "*/*"),
		withHeader("User-Agent", "python-requests/2.32.3"),
	}
	if route != "GET /api/v1/client/auth/client_info" { // the key check sends only the key and a request id
		opts = append(opts,
			withHeader("X-Source", "python_sdk"), withHeader("X-Runtime", "openai"), withHeader("X-Composio-Version", "0.7.21"))
	}
	r := py.a.do(method, path, body, opts...)
	py.calls[route] = r.Status
	return r
}

// ok is call that needs exactly 200, as every SDK collection call does.
func (py *pySDK) ok(route, method, path string, body any) *response {
	py.t.Helper()
	r := py.call(route, method, path, body)
	if r.Status != 200 {
		py.t.Fatalf("%s: status %d, the SDK needs exactly 200; body: %s", r.req, r.Status, r.Raw)
	}
	return r
}

func uuid4(t *testing.T) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// construct replays ComposioToolSet() on a fresh cache (§1): the key check
// and the enum refresh, each answer valid for its model.
func (py *pySDK) construct() {
	t := py.t
	t.Helper()
	py.ok("GET /api/v1/client/auth/client_info", "GET", "/api/v1/client/auth/client_info", nil)
	apps := py.ok("GET /api/v1/apps", "GET", "/api/v1/apps", nil)
	appItems := apps.list("items")
	if len(appItems) == 0 {
		t.Fatal("GET /api/v1/apps lists no app")
	}
	for i, app := range appItems {
		validateApp(t, fmt.Sprintf("GET /api/v1/apps items[%d]", i), app)
	}
	actions := py.ok("GET /api/v2/actions", "GET", "/api/v2/actions", nil)
	items, ok := actions.at("items").([]any)
	if !ok {
		t.Fatalf("GET /api/v2/actions: items = %#v, want a list", actions.at("items"))
	}
	for i, it := range items { // one invalid item fails the whole refresh
		validateAction(t, fmt.Sprintf("GET /api/v2/actions items[%d]", i), it)
	}
	triggers := py.ok("GET /api/v1/triggers", "GET", "/api/v1/triggers", nil)
	switch v := triggers.JSON.(type) {
	case []any:
	case map[string]any:
		if _, ok := v["items"].([]any); !ok {
			t.Errorf("GET /api/v1/triggers: %s, want a list or {\"items\": [...]}", triggers.Raw)
		}
	default:
		t.Errorf("GET /api/v1/triggers: %s, want a list or {\"items\": [...]}", triggers.Raw)
	}
}

// expectedParams replays get_expected_params_for_user for app and
// scheme: by integration id when id is given, else through the list, as
// the SDK picks (§3: the newest matching integration by createdAt). It
// returns the integration's id and its expected fields.
func (py *pySDK) expectedParams(app, scheme, id string) (string, []map[string]any) {
	t := py.t
	t.Helper()
	if id == "" {
		list := py.ok("GET /api/v1/integrations", "GET", "/api/v1/integrations?pageSize=999&showDisabled=false", nil)
		newest := ""
		for i, it := range list.list("items") {
			validateIntegration(t, fmt.Sprintf("integrations items[%d]", i), it)
			m := it.(map[string]any)
			if strings.ToLower(m["appName"].(string)) == app && strings.EqualFold(m["authScheme"].(string), scheme) &&
				m["createdAt"].(string) >= newest {
				newest, id = m["createdAt"].(string), m["id"].(string)
			}
		}
		if id == "" {
			return "", nil // NoItemsFound
		}
	}
	r := py.ok("GET /api/v1/integrations/{id}", "GET", "/api/v1/integrations/"+id, nil)
	validateIntegration(t, r.req, r.JSON)
	if got := r.str("authScheme"); got != scheme {
		t.Fatalf("%s: authScheme %q; the SDK needs exactly %q (InvalidParams otherwise)", r.req, got, scheme)
	}
	var fields []map[string]any
	for _, f := range r.list("expectedInputFields") {
		fields = append(fields, f.(map[string]any))
	}
	return id, fields
}

// initiate replays initiate_connection(integration_id=id, entity_id=user,
// auth_scheme=scheme, connected_account_params=params): the SDK's own
// check that every required field is given, then the POST (§3).
func (py *pySDK) initiate(id, user, scheme string, params map[string]any) *response {
	t := py.t
	t.Helper()
	_, fields := py.expectedParams("", scheme, id)
	for _, f := range fields {
		name := f["name"].(string)
		if _, given := params[name]; !given {
			if req, ok := f["required"].(bool); !ok || req { // absent means required
				t.Fatalf("InvalidParams: the SDK wants %q, which connected_account_params lacks", name)
			}
			if def, ok := f["default"].(string); ok {
				params[name] = def
			}
		}
	}
	body := map[string]any{"integrationId": id, "userUuid": user, "data": params, "labels": []any{}, "redirectUri": nil}
	r := py.ok("POST /api/v1/connectedAccounts", "POST", "/api/v1/connectedAccounts", body)
	pyConnectionRequest.validate(t, r.req, r.JSON)
	return r
}

// getConnection replays get_entity(user).get_connection(app=app): the
// list with the SDK's page size, then the oldest account of the app.
func (py *pySDK) getConnection(user, app string) string {
	t := py.t
	t.Helper()
	r := py.ok("GET /api/v1/connectedAccounts", "GET",
		"/api/v1/connectedAccounts?pageSize=99999999&user_uuid="+url.QueryEscape(user)+"&showActiveOnly=true", nil)
	id, oldest := "", ""
	for i, it := range r.list("items") {
		validateAccount(t, fmt.Sprintf("%s items[%d]", r.req, i), it)
		m := it.(map[string]any)
		if m["appUniqueId"] == app && (oldest == "" || m["createdAt"].(string) < oldest) {
			id, oldest = m["id"].(string), m["createdAt"].(string)
		}
	}
	if id == "" {
		t.Fatalf("NoItemsFound: no connection with app=%q for %s", app, user)
	}
	return id
}

// pyRoutes are the legacy routes the Python SDK's seed flow calls; each
// must have answered 200 by the end of TestPythonSDKSeedFlow.
var pyRoutes = []string{
	"GET /api/v1/client/auth/client_info",
	"GET /api/v1/apps",
	"GET /api/v1/apps/{APP}",
	"GET /api/v2/actions",
	"GET /api/v1/triggers",
	"POST /api/v1/integrations",
	"GET /api/v1/integrations",
	"GET /api/v1/integrations/{id}",
	"POST /api/v1/connectedAccounts",
	"GET /api/v1/connectedAccounts",
	"GET /api/v1/connectedAccounts/{id}",
}

// shopifyParams fills connection fields as the README's Python example
// does: from the expected fields, the shop's subdomain and its token.
func shopifyParams(t *testing.T, a *api, fields []map[string]any) map[string]any {
	t.Helper()
	params := map[string]any{}
	for _, f := range fields {
		if req, _ := f["required"].(bool); !req {
			continue
		}
		if f["is_secret"] == true {
			params[f["name"].(string)] = a.secret("shpat_SECRETVALUE_python_0123456789")
		} else {
			params[f["name"].(string)] = "acme-store"
		}
	}
	return params
}

// TestPythonSDKSeedFlow replays the seed's "Connecting to Token/API Key
// Apps" flow through the Python SDK, on both stores: the constructor's
// refresh, create_integration, get_expected_params_for_user with and
// without the integration id, initiate_connection by integration and by
// app (the auto-create path, in a fresh project), get_connected_account,
// wait_until_active, get_entity(...).get_connection(app=...), and the
// connected-account lookups of get_tools.
func TestPythonSDKSeedFlow(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		py := newPySDK(t, a)
		py.construct()

		// toolset.create_integration(app=App.SHOPIFY, auth_mode="API_KEY", auth_config={})
		app := py.ok("GET /api/v1/apps/{APP}", "GET", "/api/v1/apps/SHOPIFY", nil)
		validateApp(t, app.req, app.JSON)
		golden(t, "python/app_shopify", app, nil)
		created := py.ok("POST /api/v1/integrations", "POST", "/api/v1/integrations", map[string]any{
			"appId": app.str("appId"), "useComposioAuth": false, "name": "SHOPIFY_20261201075332",
			"authScheme": "API_KEY", "authConfig": map[string]any{},
		})
		validateIntegration(t, created.req, created.JSON)
		integrationID := created.str("id")
		ids := map[string]string{integrationID: "<integration_id>"}
		golden(t, "python/create_integration", created, ids)

		// get_expected_params_for_user, with and without the integration id.
		_, fields := py.expectedParams("shopify", "API_KEY", integrationID)
		if len(fields) == 0 {
			t.Fatal("the Shopify integration expects no fields")
		}
		listedID, listedFields := py.expectedParams("shopify", "API_KEY", "")
		if listedID != integrationID || len(listedFields) != len(fields) {
			t.Errorf("without integration_id the SDK picks %s with %d fields, want %s with %d", listedID, len(listedFields), integrationID, len(fields))
		}
		golden(t, "python/integration", py.a.do("GET", "/api/v1/integrations/"+integrationID, nil), ids)

		// initiate_connection(integration_id=..., entity_id=..., auth_scheme="API_KEY", connected_account_params=...)
		const user = "user_shopify_456"
		conn := py.initiate(integrationID, user, "API_KEY", shopifyParams(t, a, fields))
		conn.eq("connectionStatus", "ACTIVE")
		conn.eq("redirectUrl", nil)
		accountID := conn.str("connectedAccountId")
		ids[accountID] = "<connected_account_id>"
		golden(t, "python/initiate_connection", conn, ids)

		// get_connected_account(id); wait_until_active polls the same GET.
		got := py.ok("GET /api/v1/connectedAccounts/{id}", "GET", "/api/v1/connectedAccounts/"+accountID, nil)
		validateAccount(t, got.req, got.JSON)
		got.eq("status", "ACTIVE")
		got.eq("appUniqueId", "shopify")
		got.eq("clientUniqueUserId", user)
		got.eq("connectionParams.base_url", "https://acme-store.myshopify.com/admin/api/2024-10")
		golden(t, "python/connected_account", got, ids)

		// get_entity(user).get_connection(app="shopify")
		if id := py.getConnection(user, "shopify"); id != accountID {
			t.Errorf("get_connection picked %s, want %s", id, accountID)
		}
		// get_tools: the GitHub token lookup for the default entity (none),
		// the app's actions, then every account.
		none := py.ok("GET /api/v1/connectedAccounts", "GET", "/api/v1/connectedAccounts?pageSize=99999999&user_uuid=default&showActiveOnly=true", nil)
		if n := len(none.list("items")); n != 0 {
			t.Errorf("the default entity has %d accounts, want 0", n)
		}
		actions := py.ok("GET /api/v2/actions", "GET", "/api/v2/actions?apps=SHOPIFY", nil)
		if _, ok := actions.at("items").([]any); !ok {
			t.Errorf("%s: items = %#v, want a list", actions.req, actions.at("items"))
		}
		all := py.ok("GET /api/v1/connectedAccounts", "GET", "/api/v1/connectedAccounts?pageSize=99999999", nil)
		for i, it := range all.list("items") {
			validateAccount(t, fmt.Sprintf("%s items[%d]", all.req, i), it)
		}
		golden(t, "python/connected_accounts_list", all, ids)

		// initiate_connection(app=App.SHOPIFY, entity_id=...) in a project
		// with no integration: the SDK finds none and creates one.
		fresh := newPySDK(t, a.newProject("python-auto-create"))
		fresh.construct()
		if id, _ := fresh.expectedParams("shopify", "API_KEY", ""); id != "" {
			t.Fatalf("a fresh project already has integration %s", id)
		}
		for range 2 {
			fresh.ok("GET /api/v1/apps/{APP}", "GET", "/api/v1/apps/SHOPIFY", nil)
		}
		auto := fresh.ok("POST /api/v1/integrations", "POST", "/api/v1/integrations", map[string]any{
			"appId": app.str("appId"), "useComposioAuth": false, "name": "SHOPIFY_20261201075333",
			"authScheme": "API_KEY", "authConfig": map[string]any{},
		})
		validateIntegration(t, auto.req, auto.JSON)
		autoID, autoFields := fresh.expectedParams("shopify", "API_KEY", "")
		if autoID != auto.str("id") {
			t.Fatalf("after the auto-create the SDK picks %q, want %q", autoID, auto.str("id"))
		}
		fresh.initiate(autoID, user, "API_KEY", shopifyParams(t, a, autoFields)).eq("connectionStatus", "ACTIVE")

		for _, route := range pyRoutes {
			status, called := py.calls[route]
			if fs, ok := fresh.calls[route]; !called && ok {
				status, called = fs, true
			}
			if !called || status != 200 {
				t.Errorf("%s: called %v, last status %d; the Python SDK needs it to answer 200", route, called, status)
			}
		}
	})
}

// TestPythonSDKRevokedKey: a revoked key fails the SDK's key check in a new
// process (ApiKeyError needs 401 or 403; 401 is kept for the TS SDK), and
// a process that validated the key earlier gets the clear 401 body as its
// HTTPError's text (§2).
func TestPythonSDKRevokedKey(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		c := a.newProject("python-revoked")
		py := newPySDK(t, c)
		py.construct()

		keys := c.get("/api/v1/api_keys").want(200).list("")
		if len(keys) != 1 {
			t.Fatalf("the project has %d keys, want 1", len(keys))
		}
		c.del("/api/v1/api_keys/" + keys[0].(map[string]any)["id"].(string)).want(200)

		// The running process: its next collection call.
		r := py.call("GET /api/v1/connectedAccounts", "GET", "/api/v1/connectedAccounts?pageSize=99999999&user_uuid=default&showActiveOnly=true", nil)
		r.legacyErr(401, "revoked")
		// A new process: the key check in ComposioToolSet().
		fresh := newPySDK(t, c)
		fresh.call("GET /api/v1/client/auth/client_info", "GET", "/api/v1/client/auth/client_info", nil).legacyErr(401, "revoked")
	})
}

// TestPythonSDKPageSizes: the SDK's page sizes are clamped, never refused;
// a page size that is not a positive integer is a clear 400.
func TestPythonSDKPageSizes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		for _, path := range []string{
			"/api/v1/connectedAccounts?pageSize=99999999",
			"/api/v1/connectedAccounts?pageSize=99999999999999999999999",
			"/api/v1/integrations?pageSize=999&showDisabled=false",
			"/api/v1/integrations?pageSize=5000",
		} {
			a.get(path).want(200)
		}
		for _, path := range []string{
			"/api/v1/connectedAccounts?pageSize=0",
			"/api/v1/connectedAccounts?pageSize=-3",
			"/api/v1/integrations?pageSize=ten",
		} {
			a.get(path).legacyErr(400, "pageSize")
		}
	})
}

// pyAction is the SDK's ActionModel (§4.3).
var pyAction = pyModel{"ActionModel",
	map[string]pyKind{"name": pyStr, "description": pyStr, "parameters": pyObject, "response": pyObject, "appName": pyStr,
		"appId": pyStr, "version": pyStr, "available_versions": pyStrList, "tags": pyStrList}, nil}

// validateAction checks an ActionModel and the schema processing the SDK
// does on it: parameters and response with properties, title and type;
// every property an object; name the upper-case key; appName an app key.
func validateAction(t *testing.T, where string, v any) {
	t.Helper()
	pyAction.validate(t, where, v)
	m, _ := v.(map[string]any)
	if name, _ := m["name"].(string); name != strings.ToUpper(name) {
		t.Errorf("%s: name %q is not the upper-case key", where, name)
	}
	if app, _ := m["appName"].(string); app != strings.ToLower(app) {
		t.Errorf("%s: appName %q is not the lower-case app key", where, app)
	}
	for _, part := range []string{"parameters", "response"} {
		schema, _ := m[part].(map[string]any)
		for _, key := range []string{"properties", "title", "type"} {
			if _, ok := schema[key]; !ok {
				t.Errorf("%s: %s has no %s", where, part, key)
			}
		}
		props, _ := schema["properties"].(map[string]any)
		for name, p := range props {
			if _, ok := p.(map[string]any); !ok {
				t.Errorf("%s: %s.properties.%s is not an object", where, part, name)
			}
		}
	}
	// After execute, the SDK reads the type of each result key that holds
	// an object.
	resp, _ := m["response"].(map[string]any)
	props, _ := resp["properties"].(map[string]any)
	if data, _ := props["data"].(map[string]any); data["type"] == nil {
		t.Errorf("%s: response.properties.data has no type", where)
	}
}

// TestPythonSDKTools replays the Python SDK's tool calls (§4): the
// constructor's action refresh with real tools, get_tools for an app (the
// GitHub token lookup included), the enum lookups, execute_action with the
// body the SDK sends, and execute_request through the proxy.
func TestPythonSDKTools(t *testing.T) {
	app := newScriptedApp(t)
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{Outbound: outbound.Config{Overrides: map[string]string{"github": app.URL}, AllowHosts: []string{"127.0.0.1"}}})
		py := newPySDK(t, a)
		py.construct()
		refresh := py.ok("GET /api/v2/actions", "GET", "/api/v2/actions", nil)
		items := refresh.list("items")
		if len(items) == 0 || len(items) > 50 {
			t.Fatalf("the unfiltered refresh lists %d actions, want a bounded, non-empty page", len(items))
		}
		for i, it := range items {
			validateAction(t, fmt.Sprintf("refresh items[%d]", i), it)
		}

		// A GitHub account for the toolset's entity: get_tools reads its
		// Authorization header from connectionParams.
		ac := a.createAuthConfig("github", "BEARER_TOKEN", nil)
		token := a.secret("ghp_SECRETVALUE_python_0123456789abcdefghij")
		account := a.connect(ac, "default", "BEARER_TOKEN", map[string]any{"token": token})

		// toolset.get_tools(apps=[App.GITHUB])
		id := py.getConnection("default", "github")
		conn := py.ok("GET /api/v1/connectedAccounts/{id}", "GET", "/api/v1/connectedAccounts/"+id, nil)
		validateAccount(t, conn.req, conn.JSON)
		if auth, ok := conn.at("connectionParams.headers.Authorization").(string); !ok || strings.Contains(auth, token) {
			t.Errorf("connectionParams.headers.Authorization = %v: want it present and masked", conn.at("connectionParams.headers.Authorization"))
		}
		actions := py.ok("GET /api/v2/actions", "GET", "/api/v2/actions?apps=GITHUB", nil)
		all := actions.list("items")
		if len(all) < 40 {
			t.Errorf("get_tools(apps=[GITHUB]) gets %d actions, want every GitHub tool", len(all))
		}
		for i, it := range all {
			validateAction(t, fmt.Sprintf("github items[%d]", i), it)
			if it.(map[string]any)["appName"] != "github" {
				t.Errorf("github items[%d] is of app %v", i, it.(map[string]any)["appName"])
			}
		}
		// The enum lookup: Action("GITHUB_CREATE_AN_ISSUE").app.
		one := py.ok("GET /api/v2/actions/{name}", "GET", "/api/v2/actions/GITHUB_CREATE_AN_ISSUE", nil)
		validateAction(t, one.req, one.JSON)
		py.ok("GET /api/v1/apps/{APP}", "GET", "/api/v1/apps/"+one.str("appName"), nil).eq("no_auth", false)
		py.call("GET /api/v2/actions/{name}", "GET", "/api/v2/actions/GITHUB_NO_SUCH_TOOL", nil).legacyErr(404, "Not Found")
		py.ok("GET /api/v1/connectedAccounts", "GET", "/api/v1/connectedAccounts?pageSize=99999999", nil)

		// toolset.execute_action(Action.GITHUB_CREATE_AN_ISSUE, params, entity_id="default")
		app.script(201, http.Header{"Content-Type": {"application/json"}}, []byte(`{"number":12,"html_url":"https://github.com/o/r/issues/12"}`))
		exec := py.ok("POST /api/v2/actions/{name}/execute", "POST", "/api/v2/actions/GITHUB_CREATE_AN_ISSUE/execute", map[string]any{
			"connectedAccountId": account, "entityId": "default", "appName": "GITHUB",
			"input": map[string]any{"owner": "o", "repo": "r", "title": "From Python"}, "text": nil, "version": "latest:base",
			"authConfig": nil, "sessionInfo": map[string]any{"sessionId": "3f2a9c"}, "allowTracing": false,
		})
		exec.eq("successful", true)
		exec.eq("successfull", true)
		exec.eq("error", nil)
		exec.eq("data.number", float64(12))
		calls := app.received()
		if len(calls) != 1 || calls[0].path != "/repos/o/r/issues" || calls[0].header.Get("Authorization") != "Bearer "+token ||
			!strings.Contains(string(calls[0].body), `"title":"From Python"`) {
			t.Errorf("the app received %+v", calls)
		}
		// Without the account id the entity's one account is used; an
		// entity with none gets the SDK's ConnectedAccountNotFound.
		app.script(200, http.Header{"Content-Type": {"application/json"}}, []byte(`{"login":"octocat"}`))
		py.ok("POST /api/v2/actions/{name}/execute", "POST", "/api/v2/actions/GITHUB_GET_THE_AUTHENTICATED_USER/execute", map[string]any{
			"entityId": "default", "appName": "GITHUB", "input": map[string]any{}, "version": "latest:base"}).eq("data.login", "octocat")
		py.call("POST /api/v2/actions/{name}/execute", "POST", "/api/v2/actions/GITHUB_GET_THE_AUTHENTICATED_USER/execute", map[string]any{
			"entityId": "nobody", "appName": "GITHUB", "input": map[string]any{}}).legacyErr(400, "nobody")

		// toolset.execute_request(endpoint="/user", method="GET", connection_id=...)
		app.script(200, http.Header{"Content-Type": {"application/json"}}, []byte(`{"login":"octocat"}`))
		proxied := py.ok("POST /api/v2/actions/proxy", "POST", "/api/v2/actions/proxy", map[string]any{
			"connectedAccountId": account, "body": nil, "method": "GET", "endpoint": "/user",
			"parameters": []any{map[string]any{"in": "query", "name": "per_page", "value": "5"}}})
		proxied.eq("data.login", "octocat")
		proxied.eq("status", float64(200))
		if calls := app.received(); len(calls) != 1 || calls[0].path != "/user" || calls[0].query.Get("per_page") != "5" {
			t.Errorf("the proxy sent %+v", calls)
		}
	})
}
