package main

import (
	"strings"
	"testing"
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
