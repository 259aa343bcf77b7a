package httpserver_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRequestID(t *testing.T) {
	f := newFixture(t, httpserver.Config{})
	// A client's printable ASCII ID of up to 128 bytes is kept, in the
	// header, the handler's context and the error envelope.
	for _, id := range []string{"abc-123", "req_01H:xyz/1", strings.Repeat("x", 128), "!~"} {
		r := f.do(t, "GET", "/a/rid", "", "X-Request-Id", id).want(200)
		if got := r.Header.Get("X-Request-Id"); got != id {
			t.Errorf("X-Request-Id %q echoed as %q", id, got)
		}
		if r.JSON["request_id"] != id {
			t.Errorf("RequestID in the handler = %v, want %q", r.JSON["request_id"], id)
		}
		if env := f.do(t, "GET", "/a/items/x", "", "X-Request-Id", id).failure("a_error", 404, patchbay.ENOTFOUND); env["request_id"] != id {
			t.Errorf("envelope request_id %v, want %q", env["request_id"], id)
		}
	}
	// Anything else is replaced by a fresh UUID v4, never echoed.
	seen := map[string]bool{}
	for _, id := range []string{"", strings.Repeat("x", 129), "has space", "tab\there", "ünïcode", "new\nline", "\x7f"} {
		r := f.do(t, "GET", "/a/rid", "", "X-Request-Id", id).want(200)
		got := r.Header.Get("X-Request-Id")
		if !uuidV4.MatchString(got) {
			t.Errorf("X-Request-Id %q: got %q, want a generated UUID v4", id, got)
		}
		if r.JSON["request_id"] != got {
			t.Errorf("handler saw %v, header says %q", r.JSON["request_id"], got)
		}
		if seen[got] {
			t.Errorf("generated ID %q twice", got)
		}
		seen[got] = true
	}
	// Also on paths no surface claims, and on 405s.
	for _, target := range []string{"/nowhere", "/a/nowhere", "/b/nowhere"} {
		if got := f.do(t, "GET", target, "").Header.Get("X-Request-Id"); !uuidV4.MatchString(got) {
			t.Errorf("%s: X-Request-Id %q", target, got)
		}
	}
	if got := f.do(t, "PUT", "/a/items", "", "X-Request-Id", "mine").Header.Get("X-Request-Id"); got != "mine" {
		t.Errorf("405: X-Request-Id %q, want mine", got)
	}
}

func TestBodyLimit(t *testing.T) {
	f := newFixture(t, httpserver.Config{MaxBody: 64})
	if r := f.do(t, "POST", "/a/items", strings.Repeat("x", 64)).want(200); r.JSON["read"] != float64(64) {
		t.Errorf("read %v bytes of 64", r.JSON["read"])
	}
	env := f.do(t, "POST", "/a/items", strings.Repeat("x", 65)).failure("a_error", http.StatusRequestEntityTooLarge, patchbay.ETOOLARGE)
	if env["message"] != "Request body is too large (the limit is 64 bytes)." {
		t.Errorf("413 message %q", env["message"])
	}
	// A client's mistake, not a failure of the server: nothing logged at
	// error level.
	if n := len(f.log.lines(t, "request failed")); n != 0 {
		t.Errorf("a 413 logged %d failures:\n%s", n, f.log)
	}

	// The default limit is 1 MiB.
	f = newFixture(t, httpserver.Config{})
	f.do(t, "POST", "/a/items", strings.Repeat("x", 1<<20)).want(200)
	env = f.do(t, "POST", "/a/items", strings.Repeat("x", 1<<20+1)).failure("a_error", http.StatusRequestEntityTooLarge, patchbay.ETOOLARGE)
	if env["message"] != "Request body is too large (the limit is 1048576 bytes)." {
		t.Errorf("413 message %q", env["message"])
	}
}

func TestPanic(t *testing.T) {
	f := newFixture(t, httpserver.Config{})
	for _, tc := range []struct{ path, envelope string }{{"/a/panic", "a_error"}, {"/b/panic", "b_error"}} {
		r := f.do(t, "GET", tc.path, "")
		env := r.failure(tc.envelope, 500, patchbay.EINTERNAL)
		if env["message"] != "Internal error." {
			t.Errorf("%s: message %q, want the generic one", tc.path, env["message"])
		}
		for _, leak := range []string{"hunter2", "store.go", "internal detail", "goroutine", "panic", "runtime/debug"} {
			if strings.Contains(r.Raw, leak) {
				t.Errorf("%s: the response carries %q: %s", tc.path, leak, r.Raw)
			}
		}
	}
	// Logged, with the panic value and the stack, under the request's ID.
	logged := f.log.lines(t, "panic serving request")
	if len(logged) != 2 {
		t.Fatalf("logged %d panics, want 2:\n%s", len(logged), f.log)
	}
	for _, l := range logged {
		if l["panic"] != panicText || !strings.Contains(fmt.Sprint(l["stack"]), "goroutine") || l["level"] != "ERROR" || l["request_id"] == "" {
			t.Errorf("panic log line lacks the value, the stack or the request ID: %v", l)
		}
	}

	// A panic after the handler wrote its status leaves that status: no
	// second header, no envelope appended.
	r := f.do(t, "GET", "/a/panic-after-write", "").want(http.StatusAccepted)
	if r.Raw != "" {
		t.Errorf("body after a late panic: %q", r.Raw)
	}

	// http.ErrAbortHandler is net/http's way to abort a response: it goes
	// through, unlogged.
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler to propagate", v)
			}
		}()
		f.do(t, "GET", "/a/abort", "")
	}()
	if n := len(f.log.lines(t, "panic serving request")); n != 3 {
		t.Errorf("%d panics logged, want 3 (the abort is not one)", n)
	}

	// A handler's internal error: 500, generic message, cause logged.
	r = f.do(t, "GET", "/a/internal", "")
	if env := r.failure("a_error", 500, patchbay.EINTERNAL); env["message"] != "Internal error." || strings.Contains(r.Raw, "hunter2") {
		t.Errorf("internal error leaks: %s", r.Raw)
	}
	var cause []map[string]any
	for _, l := range f.log.lines(t, "request failed") {
		if l["path"] == "/a/internal" {
			cause = append(cause, l)
		}
	}
	if len(cause) != 1 || !strings.Contains(fmt.Sprint(cause[0]["err"]), "hunter2") || cause[0]["level"] != "ERROR" {
		t.Errorf("the cause of the 500 is not logged: %v", cause)
	}
}

func TestAccessLog(t *testing.T) {
	f := newFixture(t, httpserver.Config{AccessLog: true})
	f.do(t, "GET", "/a/items?api_key=ak_SECRETINQUERY&token=tok-SECRET2", "", "X-Api-Key", projectKey, "X-Request-Id", "log-1", "Authorization", "Bearer hdr-SECRET3")
	f.do(t, "POST", "/a/items?x=1", `{"password":"body-SECRET4"}`, "X-Request-Id", "log-2")
	f.do(t, "GET", "/nowhere?q=query-SECRET5", "", "X-Request-Id", "log-3")
	lines := f.log.lines(t, "request")
	if len(lines) != 3 {
		t.Fatalf("%d access log lines, want 3:\n%s", len(lines), f.log)
	}
	for i, want := range []struct {
		id, method, path string
		status           float64
	}{{"log-1", "GET", "/a/items", 200}, {"log-2", "POST", "/a/items", 200}, {"log-3", "GET", "/nowhere", 404}} {
		l := lines[i]
		if l["request_id"] != want.id || l["method"] != want.method || l["path"] != want.path || l["status"] != want.status || l["remote"] != "192.0.2.7" {
			t.Errorf("access log line %d = %v, want %+v", i, l, want)
		}
		if _, ok := l["bytes"]; !ok {
			t.Errorf("access log line %d has no size: %v", i, l)
		}
		if _, ok := l["duration"]; !ok {
			t.Errorf("access log line %d has no duration: %v", i, l)
		}
	}
	log := f.log.String()
	for _, leak := range []string{"?", "SECRET", "api_key=", "Bearer", projectKey} {
		if strings.Contains(log, leak) {
			t.Errorf("the access log carries %q:\n%s", leak, log)
		}
	}

	// Off unless asked for.
	f = newFixture(t, httpserver.Config{})
	f.do(t, "GET", "/a/items", "")
	if n := len(f.log.lines(t, "request")); n != 0 {
		t.Errorf("AccessLog off: %d lines", n)
	}
}

func TestClientIP(t *testing.T) {
	for _, tc := range []struct{ remote, want string }{
		{"192.0.2.1:1234", "192.0.2.1"}, {"[2001:db8::1]:443", "2001:db8::1"}, {"pipe", "pipe"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		r.Header.Set("X-Forwarded-For", "203.0.113.9") // not trusted
		if got := httpserver.ClientIP(r); got != tc.want {
			t.Errorf("ClientIP(%q) = %q, want %q", tc.remote, got, tc.want)
		}
	}
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := httpserver.NewLimiter(3, func() time.Time { return now })
	for i := range 3 {
		if !l.Allow("a") {
			t.Fatalf("request %d of a burst of 3 refused", i+1)
		}
	}
	if l.Allow("a") {
		t.Error("a 4th request within the minute allowed")
	}
	if !l.Allow("b") {
		t.Error("another address shares a's bucket")
	}
	now = now.Add(20 * time.Second) // 3 a minute: one token per 20s
	if !l.Allow("a") {
		t.Error("no token after 20s")
	}
	if l.Allow("a") {
		t.Error("two tokens after 20s")
	}
	now = now.Add(time.Hour) // idle buckets are swept; a fresh one is full
	for i := range 3 {
		if !l.Allow("a") {
			t.Fatalf("after an hour, request %d refused", i+1)
		}
	}
}
