package main

import (
	"bytes"
	"strings"
	"testing"
)

func (f *apiFixture) health(t *testing.T) {
	for path, status := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		r := f.c.do("GET", path, nil, nil)
		wantJSON(t, r, 200)
		if r.obj(t)["status"] != status {
			t.Fatalf("%s", r)
		}
	}
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
