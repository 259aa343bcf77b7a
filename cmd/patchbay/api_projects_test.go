package main

import (
	"strings"
	"testing"
)

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
