package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// apiFixture is a running server with keys made by the CLI beforehand.
type apiFixture struct {
	e        env
	s        *server
	c        *client
	ownerKey string // project key of the default project, acting as the owner
	ownerID  string // the owner's member ID
	orgKey   string // organization key
	orgKeyID string
	member   string // project key acting as a member-role member
	admin    string // project key acting as an admin-role member
}

func newAPIFixture(t *testing.T, b backend) *apiFixture {
	e := b.make(t)
	f := &apiFixture{e: e}
	f.ownerKey, _ = cliKey(t, e, "--name", "owner")
	f.orgKey, f.orgKeyID = cliKey(t, e, "--name", "org", "--org")
	mustCLI(t, e, "members", "add", "--email", "member@x.io", "--role", "member")
	mustCLI(t, e, "members", "add", "--email", "admin@x.io", "--role", "admin")
	f.member, _ = cliKey(t, e, "--name", "member", "--member", "member@x.io")
	f.admin, _ = cliKey(t, e, "--name", "admin", "--member", "admin@x.io")
	f.s = startTestServer(t, serveConfig(t, e))
	f.c = newClient(t, f.s.URL)
	t.Cleanup(f.c.checkNo5xx)
	info := f.c.do("GET", "/api/v3.1/auth/session/info", nil, h{"x-api-key", f.ownerKey})
	wantJSON(t, info, 200)
	f.ownerID = info.obj(t)["org_member"].(map[string]any)["id"].(string)
	return f
}

// newKey creates a project key through the legacy API with the owner key.
func (f *apiFixture) newKey(t *testing.T, name string) (key, id string) {
	t.Helper()
	r := f.c.do("POST", "/api/v1/api_keys", map[string]string{"name": name}, h{"X-API-KEY", f.ownerKey})
	wantJSON(t, r, 201)
	m := r.obj(t)
	key, _ = m["key"].(string)
	id, _ = m["id"].(string)
	if !projectKeyRE.MatchString(key) || m["isHidden"] != false || !strings.HasPrefix(id, "key_") {
		t.Fatalf("created key: %s", r)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("a response with a plaintext key is cacheable: %v", r.header)
	}
	return key, id
}

// authenticated reports whether a request with key gets past
// authentication: 200 on session info, 401 otherwise (anything else fails).
func (f *apiFixture) authenticated(t *testing.T, key string) bool {
	t.Helper()
	hdr := "x-api-key"
	if strings.HasPrefix(key, "oak_") {
		hdr = "x-org-api-key"
	}
	r := f.c.do("GET", "/api/v3.1/auth/session/info", nil, h{hdr, key})
	switch r.status {
	case 200:
		return true
	case 401:
		wantUnauthorized(t, r)
		return false
	}
	t.Fatalf("%s: want 200 or 401", r)
	return false
}

// TestHTTPContract drives the running server over loopback HTTP, on SQLite
// and on PostgreSQL.
func TestHTTPContract(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f := newAPIFixture(t, b)
			t.Run("health", f.health)
			t.Run("auth failures", f.authFailures)
			t.Run("header case", f.headerCase)
			t.Run("key kinds", f.keyKinds)
			t.Run("request id", f.requestID)
			t.Run("unknown routes", f.unknownRoutes)
			t.Run("bodies", f.bodies)
			t.Run("roles", f.roles)
			t.Run("legacy keys", f.legacyKeys)
			t.Run("revoked by the CLI", f.revokedByCLI)
			t.Run("leaked keys", f.leakedKeys)
			t.Run("org projects", f.orgProjects)
			t.Run("session info", f.sessionInfo)
			t.Run("audit logs", f.auditLogs)
		})
	}
}

func (f *apiFixture) health(t *testing.T) {
	for path, status := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		r := f.c.do("GET", path, nil, nil)
		wantJSON(t, r, 200)
		if r.obj(t)["status"] != status {
			t.Fatalf("%s", r)
		}
	}
}

// authFailures: missing, malformed, unknown and revoked keys get 401 in the
// surface's envelope on every surface, never 403 or 5xx, and the message
// never echoes the key.
func (f *apiFixture) authFailures(t *testing.T) {
	revoked, revokedID := cliKey(t, f.e, "--name", "revoked")
	mustCLI(t, f.e, "keys", "revoke", revokedID)
	almost := []byte(f.ownerKey)
	almost[10] ^= 1 // one character off: the checksum catches it
	keys := map[string]string{
		"missing":   "",
		"garbage":   "not-a-key",
		"truncated": f.ownerKey[:20],
		"typo":      string(almost),
		"unknown":   unknownKey(t, patchbay.KeyKindProject),
		"revoked":   revoked,
	}
	paths := []struct{ method, path, header string }{
		{"GET", "/api/v1/api_keys", "x-api-key"},
		{"POST", "/api/v1/api_keys", "x-api-key"},
		{"DELETE", "/api/v1/api_keys/key_x", "x-api-key"},
		{"GET", "/api/v3.1/auth/session/info", "x-api-key"},
		{"GET", "/api/v3/auth/session/info", "x-api-key"},
		{"GET", "/api/v3.1/audit_logs", "x-api-key"},
		{"GET", "/api/v3.1/toolkits", "x-api-key"},
		{"GET", "/api/v3.1/org/owner/project/list", "x-org-api-key"},
		{"POST", "/api/v3/org/owner/project/new", "x-org-api-key"},
	}
	for name, key := range keys {
		for _, p := range paths {
			var hdr h
			if key != "" {
				hdr = h{p.header, key}
			}
			r := f.c.do(p.method, p.path, `{"name":"x"}`, hdr)
			msg := wantUnauthorized(t, r)
			if key != "" && strings.Contains(string(r.body), key) {
				t.Errorf("%s key: %s echoes the key", name, r)
			}
			if name == "missing" && !strings.Contains(msg, "Missing API key") {
				t.Errorf("missing key: message %q", msg)
			}
		}
	}
	// A missing org key says which header to send.
	r := f.c.do("GET", "/api/v3.1/org/owner/project/list", nil, nil)
	if msg := wantUnauthorized(t, r); !strings.Contains(msg, "x-org-api-key") {
		t.Errorf("missing org key: %q", msg)
	}
}

// headerCase: header names match in any case.
func (f *apiFixture) headerCase(t *testing.T) {
	for _, name := range []string{"X-API-KEY", "x-api-key", "X-Api-Key", "x-API-key"} {
		want(t, f.c.do("GET", "/api/v1/api_keys", nil, h{name, f.ownerKey}), 200)
	}
	for _, name := range []string{"X-ORG-API-KEY", "x-org-api-key", "X-Org-Api-Key"} {
		want(t, f.c.do("GET", "/api/v3.1/org/owner/project/list", nil, h{name, f.orgKey}), 200)
	}
	// The legacy SDK's junk header (the key again, in JSON) is ignored.
	common := `{"X-API-KEY":"` + f.ownerKey + `","X-SOURCE":"js_sdk","X-RUNTIME":""}`
	want(t, f.c.do("GET", "/api/v1/api_keys", nil, h{"X-API-KEY", f.ownerKey, "common", common, "X-SOURCE", "js_sdk", "X-RUNTIME", ""}), 200)
}

// keyKinds: a project key never opens org endpoints, an org key never
// opens project endpoints, and two credentials are refused.
func (f *apiFixture) keyKinds(t *testing.T) {
	for _, hdr := range []h{{"x-api-key", f.ownerKey}, {"x-org-api-key", f.ownerKey}} {
		for _, p := range []string{"/api/v3.1/org/owner/project/list", "/api/v3/org/owner/project/list"} {
			r := f.c.do("GET", p, nil, hdr)
			if msg := wantUnauthorized(t, r); !strings.Contains(msg, "organization API key") {
				t.Errorf("project key on %s: %q", p, msg)
			}
		}
	}
	for _, hdr := range []h{{"x-api-key", f.orgKey}, {"x-org-api-key", f.orgKey}} {
		r := f.c.do("GET", "/api/v1/api_keys", nil, hdr)
		if msg := wantUnauthorized(t, r); !strings.Contains(msg, "project API key") {
			t.Errorf("org key on /api/v1/api_keys: %q", msg)
		}
		wantUnauthorized(t, f.c.do("GET", "/api/v3.1/toolkits", nil, hdr))
	}
	both := h{"x-api-key", f.ownerKey, "x-org-api-key", f.orgKey}
	for _, p := range []string{"/api/v1/api_keys", "/api/v3.1/auth/session/info", "/api/v3.1/org/owner/project/list"} {
		r := f.c.do("GET", p, nil, both)
		if msg := wantUnauthorized(t, r); !strings.Contains(msg, "Multiple authentication modes") {
			t.Errorf("both keys on %s: %q", p, msg)
		}
	}
	// The same key twice in both headers is still two credentials.
	wantUnauthorized(t, f.c.do("GET", "/api/v3.1/auth/session/info", nil, h{"x-api-key", f.orgKey, "x-org-api-key", f.orgKey}))
}

// requestID: a client's x-request-id is echoed, in the header and in error
// bodies; otherwise one is generated; unusable ones are replaced.
func (f *apiFixture) requestID(t *testing.T) {
	r := f.c.do("GET", "/api/v1/api_keys", nil, h{"x-request-id", "req-abc-123", "x-api-key", f.ownerKey})
	want(t, r, 200)
	if got := r.header.Get("X-Request-Id"); got != "req-abc-123" {
		t.Fatalf("echoed request id %q", got)
	}
	r = f.c.do("GET", "/api/v3.1/auth/session/info", nil, h{"X-Request-ID", "9b2c1c1e-0000-4000-8000-000000000001"})
	v3Error(t, r, 401) // checks error.request_id == header
	if got := r.header.Get("X-Request-Id"); got != "9b2c1c1e-0000-4000-8000-000000000001" {
		t.Fatalf("echoed request id %q", got)
	}
	r = f.c.do("GET", "/api/v1/api_keys", nil, h{"x-request-id", "legacy-1"})
	legacyError(t, r, 401) // checks requestId == header
	seen := map[string]bool{}
	for _, given := range []string{"", "has space", strings.Repeat("x", 129), "tab\tinside"} {
		var hdr h
		if given != "" {
			hdr = h{"x-request-id", given}
		}
		r := f.c.do("GET", "/healthz", nil, hdr)
		got := r.header.Get("X-Request-Id")
		if !uuidV4RE.MatchString(got) || seen[got] {
			t.Fatalf("request id for %q: %q, want a fresh UUIDv4", given, got)
		}
		seen[got] = true
	}
}

// unknownRoutes: 404 (or 405 for a known path) in JSON, in the envelope of
// the path's surface.
func (f *apiFixture) unknownRoutes(t *testing.T) {
	r := f.c.do("GET", "/nope", nil, nil)
	wantJSON(t, r, 404)
	if m := r.obj(t); m["message"] == "" || m["status"] != float64(404) || m["request_id"] != r.header.Get("X-Request-Id") {
		t.Fatalf("%s", r)
	}
	legacyError(t, f.c.do("GET", "/api/v1/nope", nil, h{"x-api-key", f.ownerKey}), 404)
	v3Error(t, f.c.do("GET", "/api/v3.1/nope", nil, h{"x-api-key", f.ownerKey}), 404)
	v3Error(t, f.c.do("GET", "/api/v3/nope/deeper", nil, nil), 404)
	r = f.c.do("PUT", "/api/v1/api_keys", nil, h{"x-api-key", f.ownerKey})
	legacyError(t, r, 405)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Fatalf("405 Allow = %q", allow)
	}
}

// bodies: the 1 MiB limit (exactly 1 MiB is read, one byte more is 413), and
// malformed JSON named precisely, never echoed.
func (f *apiFixture) bodies(t *testing.T) {
	auth := h{"x-api-key", f.ownerKey}
	pad := func(n int) []byte { // a valid JSON object of exactly n bytes
		b := []byte(`{"name":"`)
		b = append(b, bytes.Repeat([]byte("a"), n-len(b)-2)...)
		return append(b, '"', '}')
	}
	r := f.c.do("POST", "/api/v1/api_keys", pad(1<<20), auth)
	if msg := legacyError(t, r, 400); !strings.Contains(msg, "at most 128 characters") {
		t.Fatalf("1 MiB body: %q, want it read and the name refused", msg)
	}
	r = f.c.do("POST", "/api/v1/api_keys", pad(1<<20+1), auth)
	if msg := legacyError(t, r, 413); !strings.Contains(msg, "1048576 bytes") {
		t.Fatalf("1 MiB + 1 body: %q", msg)
	}
	if m := r.obj(t); m["name"] != "PayloadTooLargeError" {
		t.Fatalf("413 name: %v", m["name"])
	}
	r = f.c.do("POST", "/api/v3.1/org/owner/project/new", pad(2<<20), h{"x-org-api-key", f.orgKey})
	v3Error(t, r, 413)

	for _, c := range []struct{ body, want string }{
		{`{"name": }`, "Invalid JSON at byte 10"},
		{`{"name": 5}`, `Field "name" must be a string, not number`},
		{`[]`, "must be a JSON object"},
		{``, "Request body is required"},
		{`{"name":"a"} {"name":"b"}`, "unexpected data after the JSON object"},
		{`{"name":"sk_live_secretvalue`, "ends early"},
		{`{}`, `Field "name" is required`},
	} {
		r := f.c.do("POST", "/api/v1/api_keys", c.body, auth)
		msg := legacyError(t, r, 400)
		if !strings.Contains(msg, c.want) {
			t.Errorf("body %q: message %q, want %q", c.body, msg, c.want)
		}
		if strings.Contains(string(r.body), "sk_live") {
			t.Errorf("body %q is echoed: %s", c.body, r.body)
		}
	}
	r = f.c.do("POST", "/api/v3.1/org/owner/project/new", `{"name":`, h{"x-org-api-key", f.orgKey})
	if msg := v3Error(t, r, 400); !strings.Contains(msg, "Invalid JSON") {
		t.Errorf("v3 malformed JSON: %q", msg)
	}
	r = f.c.do("POST", "/api/v3.1/org/owner/project/new", `{"name":"x","should_create_api_key":"yes"}`, h{"x-org-api-key", f.orgKey})
	if msg := v3Error(t, r, 400); !strings.Contains(msg, `"should_create_api_key" must be a boolean`) {
		t.Errorf("v3 wrong type: %q", msg)
	}
}

// roles: a member-role key may read but not manage keys (403 with a clear
// message, and nothing changes); an admin may.
func (f *apiFixture) roles(t *testing.T) {
	target, targetID := f.newKey(t, "target")
	member := h{"x-api-key", f.member}

	r := f.c.do("GET", "/api/v1/api_keys", nil, member)
	want(t, r, 200)
	if len(r.arr(t)) < 4 {
		t.Fatalf("member list: %s", r)
	}
	for _, r := range []*response{
		f.c.do("POST", "/api/v1/api_keys", `{"name":"nope"}`, member),
		f.c.do("DELETE", "/api/v1/api_keys/"+targetID, nil, member),
		f.c.do("POST", "/api/v1/api_keys/"+targetID+"/regenerate", nil, member),
	} {
		if msg := legacyError(t, r, 403); msg != "Only owners and admins may do this; your role is member." {
			t.Errorf("%s: message %q", r, msg)
		}
	}
	r = f.c.do("GET", "/api/v3.1/audit_logs", nil, member)
	v3Error(t, r, 403)
	if !f.authenticated(t, target) {
		t.Fatal("a member's refused revoke revoked the key")
	}

	admin := h{"x-api-key", f.admin}
	r = f.c.do("POST", "/api/v1/api_keys", `{"name":"by-admin"}`, admin)
	wantJSON(t, r, 201)
	r = f.c.do("DELETE", "/api/v1/api_keys/"+targetID, nil, admin)
	wantJSON(t, r, 200)
	if m := r.obj(t); m["deleted"] != true {
		t.Fatalf("%s", r)
	}
	if f.authenticated(t, target) {
		t.Fatal("the revoked key still works on the revoking instance")
	}
	unknown := f.c.do("DELETE", "/api/v1/api_keys/key_unknown000000000", nil, admin)
	legacyError(t, unknown, 404)
	if name, _ := unknown.obj(t)["name"].(string); name != "ApiKeyNotFoundError" {
		t.Errorf("unknown key: name %q, want ApiKeyNotFoundError (the legacy API's type)", name)
	}
}

// legacyKeys: the listing masks every key and marks revoked ones; regenerate
// replaces a key at once.
func (f *apiFixture) legacyKeys(t *testing.T) {
	key, id := f.newKey(t, "listed")
	revoked, revokedID := f.newKey(t, "to-revoke")
	want(t, f.c.do("DELETE", "/api/v1/api_keys/"+revokedID, nil, h{"x-api-key", f.ownerKey}), 200)

	r := f.c.do("GET", "/api/v1/api_keys", nil, h{"x-api-key", f.ownerKey})
	wantJSON(t, r, 200)
	for _, secret := range []string{key, revoked, f.ownerKey, f.member, f.admin} {
		if strings.Contains(string(r.body), secret) {
			t.Fatalf("the listing shows a plaintext key: %s", r)
		}
	}
	byID := map[string]map[string]any{}
	for _, k := range r.arr(t) {
		byID[k["id"].(string)] = k
		if k["isHidden"] != true || !strings.HasSuffix(k["key"].(string), "…") || len(k["key"].(string)) > 12 {
			t.Errorf("listed key not masked: %v", k)
		}
	}
	if k := byID[id]; k == nil || k["status"] != "active" || k["revoked"] != false || k["key"] != key[:7]+"…" || k["revokedAt"] != nil {
		t.Fatalf("listed active key: %v", k)
	}
	if k := byID[revokedID]; k == nil || k["status"] != "revoked" || k["revoked"] != true || k["revokedAt"] == nil || k["revokedBy"] != f.ownerID {
		t.Fatalf("listed revoked key: %v", k)
	}
	if m, _ := byID[id]["member"].(map[string]any); m == nil || m["id"] != f.ownerID {
		t.Fatalf("listed key's member: %v", byID[id]["member"])
	}

	r = f.c.do("POST", "/api/v1/api_keys/"+id+"/regenerate", nil, h{"x-api-key", f.ownerKey})
	wantJSON(t, r, 201)
	fresh, _ := r.obj(t)["key"].(string)
	if !projectKeyRE.MatchString(fresh) || f.authenticated(t, key) || !f.authenticated(t, fresh) {
		t.Fatalf("regenerate: %s", r)
	}
	legacyError(t, f.c.do("POST", "/api/v1/api_keys/"+id+"/regenerate", nil, h{"x-api-key", f.ownerKey}), 409)
}

// revokedByCLI: a key revoked by another process (the CLI) while cached by
// the server. On SQLite the very next request fails (the watcher checks the
// file's data version on every request); on PostgreSQL the notification
// takes a moment, bounded here by 1 s (revocation_test.go measures it).
func (f *apiFixture) revokedByCLI(t *testing.T) {
	key, id := cliKey(t, f.e, "--name", "cli-revoked")
	if !f.authenticated(t, key) || !f.authenticated(t, key) {
		t.Fatal("new key refused")
	}
	mustCLI(t, f.e, "keys", "revoke", id)
	done := time.Now()
	if f.e["PATCHBAY_DATABASE_URL"] == "" {
		if f.authenticated(t, key) {
			t.Fatal("SQLite: a key revoked by the CLI still works on the server")
		}
		return
	}
	accepted := 0
	for f.authenticated(t, key) {
		accepted++
		if time.Since(done) > time.Second {
			t.Fatal("PostgreSQL: a key revoked by the CLI still works on the server after 1 s")
		}
	}
	t.Logf("PostgreSQL: the server refused the key %v after the CLI returned (%d requests accepted before)", time.Since(done), accepted)
}

// leakedKeys: the public report endpoint answers the same whether or not a
// key matched, revokes matches at once, bounds batches and is rate limited
// (10 reports a minute per address, the default). Every report below
// counts against the limit.
func (f *apiFixture) leakedKeys(t *testing.T) {
	start := time.Now()
	reports := 0
	report := func(path string, body any, hdr h) *response {
		reports++
		return f.c.do("POST", path, body, hdr)
	}
	leaked, leakedID := f.newKey(t, "leaked")
	if !f.authenticated(t, leaked) {
		t.Fatal("new key refused")
	}
	matched := report("/api/v3.1/api_key_revocation", map[string]any{"api_keys": []string{" " + leaked + "\n"}}, nil)
	wantJSON(t, matched, 200)
	if string(matched.body) != "{\"received\":true}\n" {
		t.Fatalf("%s", matched)
	}
	if f.authenticated(t, leaked) {
		t.Fatal("a reported key still works")
	}
	for _, keys := range [][]string{
		{unknownKey(t, patchbay.KeyKindProject), unknownKey(t, patchbay.KeyKindOrg)},
		{"ak_garbage", "uak_something", ""},
		{leaked}, // already revoked
	} {
		r := report("/api/v3/api_key_revocation", map[string]any{"api_keys": keys}, h{"x-api-key", "whatever"})
		want(t, r, 200)
		if !bytes.Equal(r.body, matched.body) || r.header.Get("Content-Type") != matched.header.Get("Content-Type") {
			t.Fatalf("a non-matching report answers differently: %s vs %s", r, matched)
		}
	}
	rows := listedKeys(t, mustCLI(t, f.e, "keys", "list").stdout)
	if rows[leakedID].status != "revoked" || rows[leakedID].revokedBy != "leak-report" {
		t.Fatalf("reported key: %+v", rows[leakedID])
	}

	many := make([]string, 101)
	for i := range many {
		many[i] = unknownKey(t, patchbay.KeyKindProject)
	}
	for body, wantMsg := range map[string]string{
		`{"api_keys":[]}`:        "at least one key",
		`{}`:                     `"api_keys" is required`,
		`{"api_keys":"ak_x"}`:    `"api_keys" must be an array`,
		string(reportBody(many)): "at most 100 keys; got 101",
	} {
		r := report("/api/v3.1/api_key_revocation", body, nil)
		if msg := v3Error(t, r, 400); !strings.Contains(msg, wantMsg) {
			t.Errorf("report %.40s: %q, want %q", body, msg, wantMsg)
		}
	}

	// The limit: 10 in a burst, then one more every 6 s.
	var limited *response
	for limited == nil && reports < 30 {
		r := report("/api/v3.1/api_key_revocation", `{"api_keys":["ak_x"]}`, nil)
		if r.status == 429 {
			limited = r
			break
		}
		want(t, r, 200)
	}
	if limited == nil {
		t.Fatal("no 429 after 30 reports")
	}
	allowed := reports - 1
	refill := int(time.Since(start) / (6 * time.Second))
	if allowed < 10 || allowed > 10+refill {
		t.Fatalf("429 after %d allowed reports in %v, want 10 (+%d refilled)", allowed, time.Since(start), refill)
	}
	v3Error(t, limited, 429)
	if limited.header.Get("Retry-After") != "60" || limited.header.Get("X-Should-Retry") != "false" {
		t.Fatalf("429 headers: %v", limited.header)
	}
	// Authenticated endpoints are not affected by the report limit.
	want(t, f.c.do("GET", "/api/v1/api_keys", nil, h{"x-api-key", f.ownerKey}), 200)
}

// reportBody is a leaked-key report listing keys.
func reportBody(keys []string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"api_keys":[`)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + k + `"`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// orgProjects: the org-owner project endpoints with an oak_ key.
func (f *apiFixture) orgProjects(t *testing.T) {
	org := h{"x-org-api-key", f.orgKey}

	r := f.c.do("GET", "/api/v3.1/org/owner/project/list", nil, org)
	wantJSON(t, r, 200)
	data, ok := r.obj(t)["data"].([]any)
	if !ok || len(data) == 0 || data[0].(map[string]any)["name"] != "Default project" {
		t.Fatalf("project list: %s", r)
	}

	r = f.c.do("POST", "/api/v3.1/org/owner/project/new", `{"name":"With key","should_create_api_key":true,"config":{"is_2FA_enabled":false}}`, org)
	wantJSON(t, r, 201)
	m := r.obj(t)
	withKeyID, _ := m["id"].(string)
	projKey, _ := m["api_key"].(string)
	if !strings.HasPrefix(withKeyID, "pr_") || m["name"] != "With key" || !projectKeyRE.MatchString(projKey) || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("project new with key: %s", r)
	}
	if !f.authenticated(t, projKey) {
		t.Fatal("the new project's key is refused")
	}
	r = f.c.do("POST", "/api/v3/org/owner/project/new", `{"name":"No key","should_create_api_key":false}`, org)
	wantJSON(t, r, 201)
	m = r.obj(t)
	noKeyID, _ := m["id"].(string)
	if v, present := m["api_key"]; !present || v != nil {
		t.Fatalf("project new without key: api_key must be null: %s", r)
	}
	r = f.c.do("POST", "/api/v3.1/org/owner/project/new", `{"name":"Default no key"}`, org)
	if m := r.obj(t); r.status != 201 || m["api_key"] != nil {
		t.Fatalf("project new, should_create_api_key omitted: %s", r)
	}

	r = f.c.do("GET", "/api/v3.1/org/owner/project/"+withKeyID, nil, org)
	wantJSON(t, r, 200)
	if strings.Contains(string(r.body), projKey) {
		t.Fatalf("project get shows the plaintext key: %s", r)
	}
	m = r.obj(t)
	keys, _ := m["api_keys"].([]any)
	if m["id"] != withKeyID || m["deleted"] != false || len(keys) != 1 || keys[0].(map[string]any)["key"] != projKey[:7]+"…" {
		t.Fatalf("project get: %s", r)
	}
	if ws, _ := m["webhook_secret"].(string); !strings.HasPrefix(ws, "whsec") || !strings.HasSuffix(ws, "…") || len(ws) > 16 {
		t.Fatalf("webhook secret not masked: %q", ws)
	}
	v3Error(t, f.c.do("GET", "/api/v3.1/org/owner/project/pr_doesnotexist0000", nil, org), 404)

	// Regenerate: the old key stops at once, the new one works.
	r = f.c.do("POST", "/api/v3.1/org/owner/project/"+withKeyID+"/regenerate_api_key", nil, org)
	wantJSON(t, r, 200)
	ak, _ := r.obj(t)["api_key"].(map[string]any)
	newKey, _ := ak["key"].(string)
	if !projectKeyRE.MatchString(newKey) || ak["id"] == nil || ak["created_at"] == nil || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("regenerate: %s", r)
	}
	if f.authenticated(t, projKey) {
		t.Fatal("the old key works after regenerate_api_key")
	}
	if !f.authenticated(t, newKey) {
		t.Fatal("the regenerated key is refused")
	}

	// Delete: its keys stop at once, the project is gone.
	r = f.c.do("DELETE", "/api/v3.1/org/owner/project/"+withKeyID, nil, org)
	wantJSON(t, r, 200)
	if r.obj(t)["status"] != "success" {
		t.Fatalf("delete: %s", r)
	}
	if f.authenticated(t, newKey) {
		t.Fatal("a deleted project's key still works")
	}
	v3Error(t, f.c.do("GET", "/api/v3.1/org/owner/project/"+withKeyID, nil, org), 404)
	v3Error(t, f.c.do("DELETE", "/api/v3.1/org/owner/project/"+withKeyID, nil, org), 404)
	r = f.c.do("GET", "/api/v3.1/org/owner/project/list?limit=50", nil, org)
	if strings.Contains(string(r.body), withKeyID) || !strings.Contains(string(r.body), noKeyID) {
		t.Fatalf("list after delete: %s", r)
	}

	// Pagination: limit and next_cursor walk every project once.
	seen := map[string]bool{}
	cursor := ""
	for page := 0; page < 10; page++ {
		path := "/api/v3.1/org/owner/project/list?limit=1"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		m := f.c.do("GET", path, nil, org).obj(t)
		for _, p := range m["data"].([]any) {
			id := p.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("project %s listed twice", id)
			}
			seen[id] = true
		}
		next, _ := m["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 3 || !seen[noKeyID] {
		t.Fatalf("paginated listing saw %v, want the 3 live projects", seen)
	}
	v3Error(t, f.c.do("GET", "/api/v3.1/org/owner/project/list?limit=51", nil, org), 400)
}

// sessionInfo: who a key acts as; keys masked.
func (f *apiFixture) sessionInfo(t *testing.T) {
	r := f.c.do("GET", "/api/v3.1/auth/session/info", nil, h{"x-api-key", f.member})
	wantJSON(t, r, 200)
	if strings.Contains(string(r.body), f.member) {
		t.Fatal("session info shows the plaintext key")
	}
	m := r.obj(t)
	proj, _ := m["project"].(map[string]any)
	ak, _ := m["api_key"].(map[string]any)
	om, _ := m["org_member"].(map[string]any)
	if proj == nil || proj["name"] != "Default project" || ak["key"] != f.member[:7]+"…" || ak["project_id"] != proj["id"] ||
		om["email"] != "member@x.io" || om["role"] != "member" || ak["org_member_id"] != om["id"] {
		t.Fatalf("session info for a member key: %s", r)
	}
	r = f.c.do("GET", "/api/v3/auth/session/info", nil, h{"x-org-api-key", f.orgKey})
	wantJSON(t, r, 200)
	m = r.obj(t)
	if v, present := m["project"]; !present || v != nil {
		t.Fatalf("session info for an org key: project must be null: %s", r)
	}
	if m["api_key"].(map[string]any)["id"] != f.orgKeyID || m["org_member"].(map[string]any)["role"] != "owner" {
		t.Fatalf("session info for an org key: %s", r)
	}
}

// auditLogs: key events with actor, key and address; the org key sees the
// organization, a project key its project.
func (f *apiFixture) auditLogs(t *testing.T) {
	_, id := f.newKey(t, "audited")
	want(t, f.c.do("DELETE", "/api/v1/api_keys/"+id, nil, h{"x-api-key", f.ownerKey}), 200)

	r := f.c.do("GET", "/api/v3.1/audit_logs?limit=1000", nil, h{"x-org-api-key", f.orgKey})
	wantJSON(t, r, 200)
	items, _ := r.obj(t)["items"].([]any)
	var create, revoke, leaked, cli map[string]any
	for _, it := range items {
		e := it.(map[string]any)
		switch {
		case e["target_id"] == id && e["action"] == "api_key.create":
			create = e
		case e["target_id"] == id && e["action"] == "api_key.revoke":
			revoke = e
		case e["action"] == "api_key.revoke_leaked":
			leaked = e
		case e["action"] == "member.create":
			cli = e
		}
	}
	for name, e := range map[string]map[string]any{"create": create, "revoke": revoke} {
		if e == nil || e["actor_id"] != f.ownerID || e["ip"] != "127.0.0.1" || !strings.HasPrefix(e["actor_key_id"].(string), "key_") || e["created_at"] == nil {
			t.Errorf("audit %s event: %v", name, e)
		}
	}
	if leaked == nil || leaked["actor_id"] != "" || leaked["ip"] != "127.0.0.1" {
		t.Errorf("audit leaked-key event: %v", leaked)
	}
	if cli == nil || cli["ip"] != "cli" || cli["actor_key_id"] != "" {
		t.Errorf("audit CLI event: %v", cli)
	}
	r = f.c.do("GET", "/api/v3.1/audit_logs?limit=2", nil, h{"x-api-key", f.ownerKey})
	if items, _ := r.obj(t)["items"].([]any); r.status != 200 || len(items) != 2 {
		t.Fatalf("audit logs limit=2: %s", r)
	}
	v3Error(t, f.c.do("GET", "/api/v3.1/audit_logs?limit=0", nil, h{"x-api-key", f.ownerKey}), 400)
	if strings.Contains(string(r.body), f.ownerKey) {
		t.Fatal("audit logs show a key")
	}
}
