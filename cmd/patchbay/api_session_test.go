package main

import (
	"strings"
	"testing"
)

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
