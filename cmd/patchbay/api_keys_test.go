package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

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
