package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/testserver"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var (
	wireTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	maskedRE   = regexp.MustCompile(`^[^\s]{0,4}\.\.\.$`)
)

// normalize replaces the values that differ between runs: the given ids
// (actual → placeholder), times and masked secrets (whose prefix depends on
// the secret).
func normalize(v any, ids map[string]string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, c := range x {
			out[k] = normalize(c, ids)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, c := range x {
			out[i] = normalize(c, ids)
		}
		return out
	case string:
		switch {
		case wireTimeRE.MatchString(x):
			return "<time>"
		case maskedRE.MatchString(x):
			return "<masked>"
		}
		for actual, ph := range ids {
			x = strings.ReplaceAll(x, actual, ph)
		}
		return x
	}
	return v
}

// golden compares a response with testdata/golden/name.json, or rewrites
// the file under -update (once: the other backends must then match it).
func golden(t *testing.T, name string, r *response, ids map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(normalize(r.JSON, ids)); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update && !updated[path] {
		updated[path] = true
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s (%s) differs from %s; if the change is intended, run go test -run Golden -update\ngot:\n%s", r.req, name, path, got)
	}
}

var updated = map[string]bool{}

// TestGolden pins the wire format of the objects the SDKs read.
func TestGolden(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		golden(t, "v3_toolkit_serpapi", a.get("/api/v3.1/toolkits/serpapi").want(200), nil)
		golden(t, "legacy_app_serpapi", a.get("/api/v1/apps/serpapi").want(200), nil)

		ac := a.post("/api/v3.1/auth_configs", authConfigBody("github", map[string]any{
			"type": "use_custom_auth", "authScheme": "OAUTH2", "name": "GitHub OAuth",
			"credentials": map[string]any{"client_id": "Iv1.golden-client", "client_secret": a.secret("gh-client-SECRETVALUE-golden")},
		})).want(201)
		acID := ac.str("auth_config.id")
		acGet := a.get("/api/v3.1/auth_configs/" + acID).want(200)
		ids := map[string]string{acID: "<auth_config_id>", acGet.str("uuid"): "<auth_config_uuid>", a.srv.Owner.ID: "<member_id>"}
		golden(t, "v3_auth_config_create", ac, ids)
		golden(t, "v3_auth_config", acGet, ids)

		serp := a.createAuthConfig("serpapi", "", nil)
		body := connectBody(serp, "golden-user", "API_KEY", map[string]any{"api_key": a.secret("serp-SECRETVALUE-golden-0123456789")})
		body["connection"].(map[string]any)["alias"] = "work"
		body["connection"].(map[string]any)["labels"] = []string{"primary"}
		created := a.post("/api/v3.1/connected_accounts", body).want(201)
		caID := created.str("id")
		ids = map[string]string{serp: "<auth_config_id>", caID: "<connected_account_id>"}
		golden(t, "v3_connected_account_create", created, ids)
		golden(t, "v3_connected_account", a.get("/api/v3.1/connected_accounts/"+caID).want(200), ids)
		golden(t, "v3_connected_account_list", a.get("/api/v3.1/connected_accounts?user_ids=golden-user").want(200), ids)

		integ := a.legacyIntegration("serpapi", "API_KEY")
		init := a.initiate(initiateBody("serpapi", integ, "API_KEY", "golden-entity", map[string]any{"api_key": a.secret("serp-SECRETVALUE-golden-legacy-42")}, []string{"primary"}))
		lca := init.str("connectionResponse.connectedAccountId")
		ids = map[string]string{integ: "<integration_id>", lca: "<connected_account_id>"}
		golden(t, "legacy_integration", a.get("/api/v1/integrations/"+integ).want(200), ids)
		golden(t, "legacy_initiate_connection", init, ids)
		golden(t, "legacy_connected_account", a.get("/api/v1/connectedAccounts/"+lca).want(200), ids)
		golden(t, "legacy_connected_account_list", a.get("/api/v1/connectedAccounts?user_uuid=golden-entity").want(200), ids)

		// Error envelopes, one per surface.
		for name, path := range map[string]string{
			"v3_error_not_found":     "/api/v3.1/connected_accounts/ca_doesnotexist",
			"legacy_error_not_found": "/api/v1/connectedAccounts/ca_doesnotexist",
		} {
			r := a.get(path).want(404)
			golden(t, name, r, map[string]string{r.Header.Get("X-Request-Id"): "<request_id>"})
		}
	})
}
