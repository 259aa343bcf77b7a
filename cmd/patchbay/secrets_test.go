package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// secretSet is every secret a test saw, by label, with the one response
// (or CLI run) allowed to show it: the one that created it.
type secretSet struct {
	values  map[string]string    // label → plaintext
	creator map[string]*response // label → the response that created it (nil: made elsewhere)
}

func (s *secretSet) add(label, value string, creator *response) {
	if value == "" {
		panic("empty secret " + label)
	}
	s.values[label] = value
	s.creator[label] = creator
}

func (s *secretSet) labels() []string {
	out := make([]string, 0, len(s.values))
	for l := range s.values {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// rootKeyForms is every encoding of a root key that could plausibly leak.
func rootKeyForms(hexKey string) []string {
	raw, err := hex.DecodeString(hexKey)
	if err != nil {
		panic(err)
	}
	return []string{hexKey, strings.ToUpper(hexKey), base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw)}
}

// TestSecretsNeverLeak drives a representative mix of traffic through the
// CLI and a server logging JSON at debug level, then looks for every secret
// it met (API keys of both kinds, the root key, the projects' webhook
// secrets) in the log, in every HTTP response but the one that created the
// secret, and in the CLI's output.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := b.make(t)
			secrets := &secretSet{values: map[string]string{}, creator: map[string]*response{}}
			var cliRuns []cliResult
			var cliCreated []string // labels printed, once, on a CLI's stdout
			cli := func(args ...string) cliResult {
				t.Helper()
				r := mustCLI(t, e, args...)
				cliRuns = append(cliRuns, r)
				return r
			}
			cliSecret := func(label string, args ...string) string {
				t.Helper()
				r := cli(args...)
				v := strings.TrimSpace(r.stdout)
				secrets.add(label, v, nil)
				cliCreated = append(cliCreated, label)
				cliRuns = cliRuns[:len(cliRuns)-1] // its stdout is the one place the key may appear
				cliRuns = append(cliRuns, cliResult{stderr: r.stderr, code: r.code})
				return v
			}

			owner := cliSecret("cli owner key", "keys", "create", "--name", "owner")
			org := cliSecret("cli org key", "keys", "create", "--name", "org", "--org")
			cli("members", "add", "--email", "m@x.io", "--role", "member")
			member := cliSecret("cli member key", "keys", "create", "--name", "member", "--member", "m@x.io")
			cliSecret("cli project key", "projects", "create", "--name", "CLI project", "--with-key")

			rootKey := e["PATCHBAY_ROOT_KEY"]
			if rootKey == "" {
				b, err := os.ReadFile(filepath.Join(e["PATCHBAY_DATA_DIR"], "root.key"))
				if err != nil {
					t.Fatal(err)
				}
				rootKey = strings.TrimSpace(string(b))
			}
			for i, f := range rootKeyForms(rootKey) {
				secrets.add(fmt.Sprintf("root key form %d", i), f, nil)
			}

			cfg := serveConfig(t, e)
			cfg.AccessLog = true // off by default; on here, so the test sees every logged request
			s := startTestServer(t, cfg, "json")
			c := newClient(t, s.URL)
			t.Cleanup(c.checkNo5xx)
			auth := h{"X-API-KEY", owner}
			orgAuth := h{"x-org-api-key", org}
			newKey := func(label string) (key, id string) {
				t.Helper()
				r := c.do("POST", "/api/v1/api_keys", `{"name":"`+strings.ReplaceAll(label, " ", "-")+`"}`, auth)
				want(t, r, 201)
				m := r.obj(t)
				key, id = m["key"].(string), m["id"].(string)
				secrets.add(label, key, r)
				return key, id
			}
			junk := func(key string) h { // what composio-core 0.5.x sends
				return h{"X-API-KEY", key, "X-SOURCE", "js_sdk", "X-RUNTIME", "", "common", `{"X-API-KEY":"` + key + `","X-SOURCE":"js_sdk","X-RUNTIME":""}`}
			}

			// Legacy key management, with the legacy SDK's headers.
			want(t, c.do("GET", "/api/v1/api_keys", nil, junk(owner)), 200)
			k1, k1ID := newKey("http key 1")
			_, k2ID := newKey("http key 2")
			want(t, c.do("GET", "/api/v1/api_keys", nil, junk(k1)), 200)
			want(t, c.do("DELETE", "/api/v1/api_keys/"+k2ID, nil, junk(owner)), 200)
			wantUnauthorized(t, c.do("GET", "/api/v1/api_keys", nil, junk(secrets.values["http key 2"])))
			r := c.do("POST", "/api/v1/api_keys/"+k1ID+"/regenerate", nil, junk(owner))
			want(t, r, 201)
			secrets.add("regenerated key", r.obj(t)["key"].(string), r)
			wantUnauthorized(t, c.do("GET", "/api/v1/api_keys", nil, junk(k1)))
			want(t, c.do("POST", "/api/v1/api_keys", `{"name":"by-member"}`, h{"x-api-key", member}), 403)

			// Bad keys: a typo of a real key, unknown keys, the wrong kind, two kinds.
			typo := []byte(owner)
			typo[12] ^= 1
			wantUnauthorized(t, c.do("GET", "/api/v1/api_keys", nil, h{"x-api-key", string(typo)}))
			wantUnauthorized(t, c.do("GET", "/api/v1/api_keys", nil, h{"x-api-key", unknownKey(t, patchbay.KeyKindProject)}))
			wantUnauthorized(t, c.do("GET", "/api/v1/api_keys", nil, h{"x-api-key", org}))
			wantUnauthorized(t, c.do("GET", "/api/v3.1/org/owner/project/list", nil, h{"x-org-api-key", owner}))
			wantUnauthorized(t, c.do("GET", "/api/v3.1/auth/session/info", nil, h{"x-api-key", owner, "x-org-api-key", org}))

			// Keys where they do not belong: in the query, in the path, in bodies.
			want(t, c.do("GET", "/api/v1/api_keys?api_key="+owner+"&x-api-key="+url.QueryEscape(org), nil, auth), 200)
			want(t, c.do("GET", "/nope?key="+owner, nil, nil), 404)
			want(t, c.do("GET", "/api/v1/api_keys/"+owner, nil, auth), 405)
			want(t, c.do("DELETE", "/api/v1/api_keys/"+owner, nil, auth), 404)
			want(t, c.do("GET", "/api/v3.1/"+org+"/x", nil, nil), 404)
			want(t, c.do("GET", "/keys/x_"+owner+"_y", nil, nil), 404)
			want(t, c.do("GET", "/keys/"+owner+"0", nil, nil), 404)
			want(t, c.do("POST", "/api/v1/api_keys", `{"name":"`+owner, auth), 400)
			want(t, c.do("POST", "/api/v1/api_keys", `{"name":5,"key":"`+owner+`"}`, auth), 400)
			want(t, c.do("POST", "/api/v1/api_keys", strings.Repeat(owner, 1<<20/len(owner)+1), auth), 413)

			// Leaked-key reports with real keys.
			leaked, _ := newKey("leaked key")
			want(t, c.do("POST", "/api/v3.1/api_key_revocation", `{"api_keys":["`+leaked+`","`+unknownKey(t, patchbay.KeyKindOrg)+`"]}`, nil), 200)
			wantUnauthorized(t, c.do("GET", "/api/v1/api_keys", nil, h{"x-api-key", leaked}))
			want(t, c.do("POST", "/api/v3/api_key_revocation", `{"api_keys":["`+leaked+`"]}`, h{"x-api-key", owner}), 200)

			// Org endpoints.
			want(t, c.do("GET", "/api/v3.1/org/owner/project/list", nil, orgAuth), 200)
			r = c.do("POST", "/api/v3.1/org/owner/project/new", `{"name":"HTTP project","should_create_api_key":true}`, orgAuth)
			want(t, r, 201)
			projID := r.obj(t)["id"].(string)
			projKey := r.obj(t)["api_key"].(string)
			secrets.add("org-created project key", projKey, r)
			want(t, c.do("GET", "/api/v3.1/org/owner/project/"+projID, nil, orgAuth), 200)
			want(t, c.do("GET", "/api/v3.1/auth/session/info", nil, h{"x-api-key", projKey}), 200)
			r = c.do("POST", "/api/v3/org/owner/project/"+projID+"/regenerate_api_key", nil, orgAuth)
			want(t, r, 200)
			secrets.add("org-regenerated project key", r.obj(t)["api_key"].(map[string]any)["key"].(string), r)
			r = c.do("POST", "/api/v3.1/org/owner/project/new", `{"name":"Doomed","should_create_api_key":true}`, orgAuth)
			want(t, r, 201)
			doomedID := r.obj(t)["id"].(string)
			secrets.add("deleted project's key", r.obj(t)["api_key"].(string), r)
			cliPrincipal, err := s.app.CLIPrincipal(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			webhookSecret := func(projectID string) {
				t.Helper()
				ws, err := s.app.Service.WebhookSecret(context.Background(), cliPrincipal, projectID)
				if err != nil {
					t.Fatalf("webhook secret of %s: %v", projectID, err)
				}
				secrets.add("webhook secret of "+projectID, ws.Reveal(), nil)
			}
			webhookSecret(doomedID) // opened while the project lives
			want(t, c.do("DELETE", "/api/v3.1/org/owner/project/"+doomedID, nil, orgAuth), 200)
			want(t, c.do("GET", "/api/v3.1/audit_logs", nil, orgAuth), 200)
			want(t, c.do("GET", "/api/v3.1/auth/session/info", nil, orgAuth), 200)
			want(t, c.do("GET", "/api/v3.1/org/owner/project/list?limit=50", nil, orgAuth), 200)

			want(t, c.do("GET", "/api/v3.1/toolkits?limit=5", nil, junk(owner)), 200)

			// The webhook signing secret of every project, opened in place.
			projects, _, err := s.app.Service.ListProjects(context.Background(), cliPrincipal, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range projects {
				webhookSecret(p.Project.ID)
			}
			if len(projects) != 3 {
				t.Fatalf("want 3 live projects, got %d", len(projects))
			}

			// The CLI after the traffic.
			cli("keys", "list")
			cli("keys", "list", "--org")
			cli("audit", "list", "--limit", "1000")
			cli("projects", "list")
			cli("members", "list")
			cli("keyring", "status")
			if err := s.shutdown(); err != nil {
				t.Fatal(err)
			}

			// The log: meaningful (one line per request at least), and clean.
			log := s.Log.String()
			if n, want := strings.Count(log, `"msg":"request"`), len(c.responses()); n < want {
				t.Fatalf("the access log has %d lines for %d requests", n, want)
			}
			for _, l := range secrets.labels() {
				if strings.Contains(log, secrets.values[l]) {
					t.Errorf("the log contains the %s:\n%s", l, excerpt(log, secrets.values[l]))
				}
			}

			// Responses: a secret only in the response that created it. A
			// response may echo what its own request put in the path or body
			// (an error naming an unknown ID); never what came in a header.
			echoes := 0
			for _, res := range c.responses() {
				for _, l := range secrets.labels() {
					v := secrets.values[l]
					if !strings.Contains(string(res.body), v) || secrets.creator[l] == res {
						continue
					}
					if strings.Contains(res.path, v) || strings.Contains(res.reqBody, v) {
						echoes++
						continue
					}
					t.Errorf("the %s is in a response that did not create it: %s", l, res)
				}
			}
			t.Logf("%d responses checked against %d secrets; %d echoed their own request's path or body", len(c.responses()), len(secrets.values), echoes)

			// The CLI: keys on stdout only when created; nothing on stderr.
			for _, run := range cliRuns {
				for _, l := range secrets.labels() {
					if strings.Contains(run.stderr, secrets.values[l]) {
						t.Errorf("CLI stderr contains the %s: %q", l, run.stderr)
					}
					if strings.Contains(run.stdout, secrets.values[l]) {
						t.Errorf("CLI stdout contains the %s: %q", l, run.stdout)
					}
				}
			}
			if len(cliCreated) != 4 {
				t.Fatalf("CLI-created keys: %v", cliCreated)
			}
		})
	}
}

// excerpt shows the log line holding needle.
func excerpt(log, needle string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, needle) {
			return l
		}
	}
	return ""
}
