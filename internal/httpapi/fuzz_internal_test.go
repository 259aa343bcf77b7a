package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/catalog"
	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/keyring"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

// decodeTargets are the request types of every handler that reads a body.
var decodeTargets = map[string]func() any{
	"legacyCreateKeyRequest":        func() any { return new(legacyCreateKeyRequest) },
	"leakReport":                    func() any { return new(leakReport) },
	"createProjectRequest":          func() any { return new(createProjectRequest) },
	"multiToolkitsRequest":          func() any { return new(multiToolkitsRequest) },
	"createAuthConfigRequest":       func() any { return new(createAuthConfigRequest) },
	"updateAuthConfigRequest":       func() any { return new(updateAuthConfigRequest) },
	"createConnectionRequest":       func() any { return new(createConnectionRequest) },
	"connectionStatusRequest":       func() any { return new(connectionStatusRequest) },
	"refreshRequest":                func() any { return new(refreshRequest) },
	"legacyIntegrationRequest":      func() any { return new(legacyIntegrationRequest) },
	"legacyInitiateRequest":         func() any { return new(legacyInitiateRequest) },
	"legacyCreateConnectionRequest": func() any { return new(legacyCreateConnectionRequest) },
	"legacyReinitiateRequest":       func() any { return new(legacyReinitiateRequest) },
}

// decodeMessages are every message a decoding failure may carry. The only
// parts taken from the input are a byte offset and, in a syntax error, the
// one offending character; never a value.
var decodeMessages = []*regexp.Regexp{
	regexp.MustCompile(`^Request body is required: send a JSON object\.$`),
	regexp.MustCompile(`^Invalid JSON: unexpected data after the JSON object\.$`),
	regexp.MustCompile(`^Invalid JSON: the body ends early\.$`),
	regexp.MustCompile(`^Invalid JSON: a number is out of range\.$`),
	regexp.MustCompile(`^Invalid JSON: the body must be a JSON object, not (string|number|bool|array)\.$`),
	regexp.MustCompile(`^Field "[A-Za-z_]+(\.[A-Za-z_]+)*" must be (a string|a boolean|an array|an object|an integer|a number)(, not (string|number|bool|array|object)| within range)\.$`),
	regexp.MustCompile(`^Invalid JSON at byte \d+: ('(\\'|"|\\[abfnrtv\\]|\\x[0-9a-f]{2}|\\u[0-9a-f]{4}|[^\\'])' [a-z :]+( \\u [a-z ]+| \(expecting '[a-z]'\))?|[A-Za-z ]+)\.$`),
}

// goTypeName matches a request type's Go name (legacyIntegrationRequest),
// which must not reach a client.
var goTypeName = regexp.MustCompile(`[a-z]Request\b|leakReport`)

var decodeSeeds = []string{
	``, ` `, `{}`, `null`, `[]`, `"x"`, `1`, `true`, `{} {}`, `{"a":1}x`, `{`, `{"a"`, `{"a":`, `[{`,
	`{"name":"key"}`, `{"name":5}`, `{"api_keys":["ak_x"]}`, `{"api_keys":"ak_x"}`,
	`{"name":"p","should_create_api_key":"yes","config":[]}`,
	`{"toolkits":["github"],"limit":2}`, `{"toolkits":["github"],"limit":1.5}`, `{"limit":1e400}`, `{"limit":-99999999999999999999}`,
	`{"toolkit":{"slug":"openai"},"auth_config":{"type":"use_custom_auth","authScheme":"API_KEY","credentials":{}}}`,
	`{"toolkit":"openai"}`, `{"auth_config":{"credentials":{"client_secret":1e999}}}`,
	`{"type":"custom","name":"n","credentials":{"k":"v"},"tool_access_config":{"tools_for_connected_account_creation":"A"}}`,
	`{"auth_config":{"id":"ac_1"},"connection":{"user_id":"u","state":{"authScheme":"API_KEY","val":{"status":"ACTIVE","api_key":"sk-SECRET"}}}}`,
	`{"auth_config":{"id":"ac_1"},"connection":{"state":{"val":[1,2]}}}`, `{"connection":{"labels":[1]}}`,
	`{"enabled":"false"}`, `{"redirect_url":null,"validate_credentials":1}`,
	`{"app":{"uniqueKey":"serpapi"},"config":{"name":"x","authScheme":"API_KEY","useComposioAuth":false,"integrationSecrets":{}}}`,
	`{"app":"serpapi"}`, `{"config":{"authScheme":5}}`, `{"app":{"uniqueKey":"serpapi","integrationId":"ac_1"},"connection":{"entityId":"e","initiateData":{"api_key":"k"},"extra":{"redirectURL":"","labels":[]}}}`,
	`{"connection":{"extra":{"labels":"primary"}}}`,
	`{"integrationId":"ac_1","data":{"api_key":"k"},"userUuid":"u","entityId":"e"}`, `{"data":"k"}`,
	"{\"a\":\"\\uZZZZ\"}", "{\"a\":\"\x01\"}", "{\"a\":\xff}", `{"a":tru}`, `{"a":nul}`, `{"a":01}`, `{"a":-}`, `{'a':1}`,
}

// FuzzDecoders feeds arbitrary bytes to every request type: decoding never
// panics, and every failure is an EINVALID *patchbay.Error whose message
// does not echo the input.
func FuzzDecoders(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for name, target := range decodeTargets {
			for _, optional := range []bool{false, true} {
				err := decodeBytes(data, target(), optional)
				if err == nil {
					continue
				}
				pe, ok := err.(*patchbay.Error)
				if !ok {
					t.Fatalf("%s: %T %v, want a *patchbay.Error", name, err, err)
				}
				if pe.Code != patchbay.EINVALID {
					t.Errorf("%s: code %q, want %q (%s)", name, pe.Code, patchbay.EINVALID, pe.Message)
				}
				if goTypeName.MatchString(pe.Message) {
					t.Errorf("%s: message %q names a Go type", name, pe.Message)
				}
				known := false
				for _, re := range decodeMessages {
					known = known || re.MatchString(pe.Message)
				}
				if !known {
					t.Errorf("%s: unexpected message %q for input %q", name, pe.Message, data)
				}
			}
		}
	})
}

// okChecker accepts credentials holding "good" and rejects the others; it
// never calls out.
type okChecker struct{}

func (okChecker) Check(_ context.Context, _ *patchbay.Toolkit, _ *patchbay.AuthScheme, creds map[string]string) (bool, string, error) {
	for _, v := range creds {
		if bytes.Contains([]byte(v), []byte("good")) {
			return true, "", nil
		}
	}
	return false, "rejected", nil
}

// fuzzServer is a patchbay on SQLite (what testserver builds, which this
// package cannot import: testserver imports it) with a project key and an openai auth config.
func fuzzServer(tb testing.TB) (http.Handler, string, string) {
	tb.Helper()
	ctx := context.Background()
	st := testdb.SQLite(tb)
	root, err := keyring.NewRootKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	rk, err := keyring.ParseRootKey(root)
	if err != nil {
		tb.Fatal(err)
	}
	kr, err := keyring.Open(ctx, st, rk, rand.Reader, time.Now)
	if err != nil {
		tb.Fatal(err)
	}
	cat, err := catalog.Load()
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := patchbay.NewService(patchbay.Config{Store: st, Sealer: kr, Catalog: cat, Checker: okChecker{}, Watcher: st.NewWatcher(), Now: time.Now, Rand: rand.Reader, Log: log})
	if err := svc.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { svc.Close() })
	org, _, err := svc.Bootstrap(ctx, "owner@example.com")
	if err != nil {
		tb.Fatal(err)
	}
	cli, err := svc.CLIPrincipal(ctx, org.ID)
	if err != nil {
		tb.Fatal(err)
	}
	projects, _, err := svc.ListProjects(ctx, cli, "", 1)
	if err != nil || len(projects) == 0 {
		tb.Fatalf("default project: %v", err)
	}
	_, tok, err := svc.CreateAPIKey(ctx, cli, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: projects[0].Project.ID, Name: "fuzz"})
	if err != nil {
		tb.Fatal(err)
	}
	// The auth config is created as the key's principal: it belongs to the
	// key's project.
	p, err := svc.Authenticate(ctx, tok.Secret.Reveal())
	if err != nil {
		tb.Fatal(err)
	}
	ac, err := svc.CreateAuthConfig(ctx, p, patchbay.NewAuthConfig{Toolkit: "openai", Mode: patchbay.AuthAPIKey})
	if err != nil {
		tb.Fatal(err)
	}
	// The Composio wire inside the shared plumbing, as internal/app
	// assembles it (which this package cannot import).
	hs := httpserver.New(httpserver.Config{Log: log, Now: time.Now})
	New(Config{Service: svc, Log: log, Now: time.Now}).Mount(hs)
	return hs, tok.Secret.Reveal(), ac.ID
}

// FuzzCreateConnection posts arbitrary bodies to POST
// /api/v3.1/connected_accounts ("$AC" stands for a real auth config id):
// the answer is never a 5xx, and always JSON.
func FuzzCreateConnection(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`{"auth_config":{"id":"$AC"},"connection":{"user_id":"u","state":{"authScheme":"API_KEY","val":{"status":"ACTIVE","api_key":"sk-good"}}}}`,
		`{"auth_config":{"id":"$AC"},"connection":{"user_id":"u","state":{"authScheme":"API_KEY","val":{"api_key":"sk-bad"}}},"validate_credentials":true}`,
		`{"auth_config":{"id":"$AC"},"connection":{"user_id":"u","state":{"authScheme":"API_KEY","val":{"api_key":"sk-good"}}},"validate_credentials":true,"allow_multiple":false}`,
		`{"auth_config":{"id":"$AC"},"connection":{"user_id":"u","state":{"authScheme":"oauth2","val":{}}}}`,
		`{"auth_config":{"id":"$AC"},"connection":{"user_id":"","data":{"api_key":true}}}`,
		`{"auth_config":{"id":"$AC"},"connection":{"entity_id":"e","data":{"api_key":"k","x":null},"alias":"a","labels":["l"]}}`,
		`{"auth_config":{"id":"$AC"},"connection":{"user_id":"u","state":{"authScheme":"API_KEY","val":{"api_key":"` + string(bytes.Repeat([]byte("k"), 5000)) + `"}}}}`,
		`{"auth_config":{"id":"$AC"},"connection":{"user_id":"` + string(bytes.Repeat([]byte("u"), 300)) + `","data":{"api_key":"k"}}}`,
		`{"auth_config":{"id":"$AC"},"connection":{"user_id":"\u0000\ud800","data":{"api_key":"\u0000"}}}`,
		`{"auth_config":{"id":"ac_other"},"connection":{"user_id":"u","data":{"api_key":"k"}}}`,
	} {
		f.Add([]byte(s))
	}
	h, key, acID := fuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		body := bytes.ReplaceAll(data, []byte("$AC"), []byte(acID))
		req := httptest.NewRequest("POST", "/api/v3.1/connected_accounts", bytes.NewReader(body))
		req.Header.Set("X-Api-Key", key)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("status %d, body is not JSON: %q", rec.Code, rec.Body)
		}
	})
}
