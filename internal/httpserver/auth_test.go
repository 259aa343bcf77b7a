package httpserver_test

import (
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func TestRequireKey(t *testing.T) {
	f := newFixture(t, httpserver.Config{})
	for _, tc := range []struct {
		name    string
		target  string
		headers []string
		status  int
		message string // for a 401
		key     string // for a 200: the principal's key ID
	}{
		{"missing", "/a/project", nil, 401, "Missing API key: send it in the x-api-key header.", ""},
		{"missing, any", "/a/any", nil, 401, "Missing API key: send it in the x-api-key header.", ""},
		{"missing, org", "/a/org", nil, 401, "Missing API key: send an organization API key in the x-org-api-key header.", ""},
		{"both headers", "/a/any", []string{"X-Api-Key", projectKey, "X-Org-Api-Key", orgKey}, 401,
			"Multiple authentication modes were provided: send either x-api-key or x-org-api-key, not both.", ""},
		{"unknown key", "/a/project", []string{"X-Api-Key", "ak_unknown"}, 401, "Invalid API key: no such key.", ""},
		{"org key for a project route", "/a/project", []string{"X-Api-Key", orgKey}, 401,
			"This endpoint needs a project API key (ak_…) in x-api-key; an organization key was sent.", ""},
		{"org key in x-org-api-key for a project route", "/a/project", []string{"X-Org-Api-Key", orgKey}, 401,
			"This endpoint needs a project API key (ak_…) in x-api-key; an organization key was sent.", ""},
		{"project key for an org route", "/a/org", []string{"X-Org-Api-Key", projectKey}, 401,
			"This endpoint needs an organization API key (oak_…) in x-org-api-key; a project key was sent.", ""},
		{"project key", "/a/project", []string{"X-Api-Key", projectKey}, 200, "", "key_p"},
		{"org key", "/a/org", []string{"X-Org-Api-Key", orgKey}, 200, "", "key_o"},
		{"org key in x-api-key", "/a/org", []string{"X-Api-Key", orgKey}, 200, "", "key_o"},
		{"any: project", "/a/any", []string{"X-Api-Key", projectKey}, 200, "", "key_p"},
		{"any: org", "/a/any", []string{"X-Org-Api-Key", orgKey}, 200, "", "key_o"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.auth.calls.Load()
			r := f.do(t, "GET", tc.target, "", tc.headers...)
			if tc.status != 200 {
				if env := r.failure("a_error", tc.status, patchbay.EUNAUTHORIZED); env["message"] != tc.message {
					t.Errorf("message %q, want %q", env["message"], tc.message)
				}
				for _, key := range []string{projectKey, orgKey, "ak_unknown"} {
					if strings.Contains(r.Raw, key) {
						t.Errorf("the answer echoes the key %q: %s", key, r.Raw)
					}
				}
			} else {
				r.want(200)
				if r.JSON["key"] != tc.key {
					t.Errorf("principal's key %v, want %s", r.JSON["key"], tc.key)
				}
				// The principal carries this request's address; the shared
				// one the authenticator returned is left alone.
				if r.JSON["ip"] != "192.0.2.7" {
					t.Errorf("principal's IP %v, want the peer address", r.JSON["ip"])
				}
			}
			called := f.auth.calls.Load() - before
			if wantCalls := int32(len(tc.headers) / 2); wantCalls > 1 {
				if called != 0 {
					t.Errorf("both headers: the authenticator was called %d times, want 0", called)
				}
			} else if called != wantCalls {
				t.Errorf("authenticator called %d times, want %d", called, wantCalls)
			}
		})
	}
	for _, p := range f.auth.keys {
		if p.IP != "" {
			t.Errorf("RequireKey modified the shared principal: IP %q", p.IP)
		}
	}
	if r := f.do(t, "GET", "/a/nokey", "", "X-Api-Key", projectKey).want(200); r.JSON["principal"] != false {
		t.Errorf("Principal on a route without RequireKey = %v, want nil", r.JSON["principal"])
	}
}
