package httpserver_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// Paths a surface has for other methods answer 405 with Allow; other paths
// 404; each in the envelope of the surface that owns the path, and a
// surface's routes never show through another's.
func TestMethodNotAllowed(t *testing.T) {
	f := newFixture(t, httpserver.Config{})
	r := f.do(t, "PUT", "/a/items", "")
	env := r.failure("a_error", http.StatusMethodNotAllowed, patchbay.EINVALID)
	if got := r.Header.Get("Allow"); got != "GET, HEAD, POST" {
		t.Errorf("Allow %q, want GET, HEAD, POST", got)
	}
	if env["message"] != "Method PUT is not allowed on /a/items." {
		t.Errorf("405 message %q", env["message"])
	}
	r = f.do(t, "POST", "/a/items/42", "")
	r.failure("a_error", http.StatusMethodNotAllowed, patchbay.EINVALID)
	if got := r.Header.Get("Allow"); got != "GET, HEAD, DELETE" {
		t.Errorf("Allow %q, want GET, HEAD, DELETE", got)
	}
	// A path the surface does not have at all.
	r = f.do(t, "GET", "/a/nope", "")
	if env := r.failure("a_error", 404, patchbay.ENOTFOUND); env["message"] != "No route for GET /a/nope." {
		t.Errorf("404 message %q", env["message"])
	}
	if r.Header.Get("Allow") != "" {
		t.Errorf("a 404 with Allow %q", r.Header.Get("Allow"))
	}
	// /b/ has no /b/items/{id}: a 404 there, in b's envelope, whatever a has.
	f.do(t, "POST", "/b/items/42", "").failure("b_error", 404, patchbay.ENOTFOUND)
	r = f.do(t, "DELETE", "/b/items", "")
	r.failure("b_error", http.StatusMethodNotAllowed, patchbay.EINVALID)
	if got := r.Header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("b: Allow %q, want GET, HEAD", got)
	}
	// The path echoed in the message never carries a key.
	r = f.do(t, "GET", "/a/nope/ak_"+strings.Repeat("A", 33), "")
	if env := r.failure("a_error", 404, patchbay.ENOTFOUND); strings.Contains(fmt.Sprint(env["message"]), "AAAA") {
		t.Errorf("404 echoes a key: %v", env["message"])
	}
}

// Each surface's envelope writes its own paths' failures only; paths no
// surface claims get the fallback's.
func TestEnvelopePerSurface(t *testing.T) {
	f := newFixture(t, httpserver.Config{})
	f.do(t, "GET", "/a/items/1", "").failure("a_error", 404, patchbay.ENOTFOUND)
	f.do(t, "GET", "/b/fail", "").failure("b_error", 400, patchbay.EINVALID)
	f.do(t, "GET", "/b/items/1", "").failure("b_error", 404, patchbay.ENOTFOUND)
	f.do(t, "GET", "/a/fail", "").failure("a_error", 404, patchbay.ENOTFOUND)
	// Mounted bare too, /b is b's; /a (mounted as /a/ only) is redirected
	// by the mux.
	f.do(t, "GET", "/b", "").failure("b_error", 404, patchbay.ENOTFOUND)
	if r := f.do(t, "GET", "/a", ""); r.Status != http.StatusTemporaryRedirect || r.Header.Get("Location") != "/a/" {
		t.Errorf("GET /a: %d %q, want the mux's redirect to /a/", r.Status, r.Header.Get("Location"))
	}
	for _, target := range []string{"/", "/nowhere", "/ab/items", "/bb"} {
		r := f.do(t, "GET", target, "").want(404)
		if len(r.JSON) != 3 || r.JSON["status"] != float64(404) || r.JSON["request_id"] != r.Header.Get("X-Request-Id") ||
			r.JSON["message"] != "No route for GET "+target+"." {
			t.Errorf("%s: want the plain envelope, got %s", target, r.Raw)
		}
	}
	// x-should-retry: false on 401 and 409 only.
	for _, tc := range []struct {
		target string
		status int
		retry  string
	}{{"/a/project", 401, "false"}, {"/a/conflict", 409, "false"}, {"/a/items/1", 404, ""}, {"/b/fail", 400, ""}} {
		r := f.do(t, "GET", tc.target, "").want(tc.status)
		if got := r.Header.Get("X-Should-Retry"); got != tc.retry {
			t.Errorf("%s: x-should-retry %q, want %q", tc.target, got, tc.retry)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("%s: content type %q", tc.target, ct)
		}
	}
}
