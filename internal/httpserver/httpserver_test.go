package httpserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// syncBuffer collects a log written by concurrent requests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines decodes the JSON log lines whose msg is msg.
func (b *syncBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, sc.Bytes())
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// envelope returns an Envelope that writes {name: {code, message, status,
// request_id}}, so a test can tell the surfaces' envelopes apart.
func envelope(name string) httpserver.Envelope {
	return func(w http.ResponseWriter, r *http.Request, f *httpserver.Failure) {
		httpserver.WriteJSON(w, f.Status, map[string]any{name: map[string]any{
			"code": f.Code, "message": f.Message, "status": f.Status, "request_id": f.RequestID,
		}})
	}
}

// fakeAuth knows a fixed set of keys.
type fakeAuth struct {
	keys  map[string]*patchbay.Principal
	calls atomic.Int32
}

func (a *fakeAuth) Authenticate(_ context.Context, raw string) (*patchbay.Principal, error) {
	a.calls.Add(1)
	if p, ok := a.keys[raw]; ok {
		return p, nil
	}
	return nil, patchbay.Errorf(patchbay.EUNAUTHORIZED, "Invalid API key: no such key.")
}

const (
	projectKey = "ak_project"
	orgKey     = "oak_org"
)

func newAuth() *fakeAuth {
	member := patchbay.Member{ID: "mem_1", OrgID: "org_1", Role: patchbay.RoleOwner}
	return &fakeAuth{keys: map[string]*patchbay.Principal{
		projectKey: {Credential: patchbay.Credential{Kind: patchbay.CredentialProjectKey, ID: "key_p"}, Member: member, OrgID: "org_1", ProjectID: "pr_1"},
		orgKey:     {Credential: patchbay.Credential{Kind: patchbay.CredentialOrgKey, ID: "key_o"}, Member: member, OrgID: "org_1"},
	}}
}

// fixture is a Server with two surfaces, "a" under /a/ and "b" under /b/,
// each with its own envelope, and the plain envelope as the fallback.
type fixture struct {
	hs      *httpserver.Server
	log     *syncBuffer
	auth    *fakeAuth
	reg     *prometheus.Registry
	metrics *httpserver.Metrics
}

const panicText = "internal detail: password=hunter2 at store.go:42"

func newFixture(t *testing.T, cfg httpserver.Config) *fixture {
	t.Helper()
	f := &fixture{log: &syncBuffer{}, auth: newAuth(), reg: prometheus.NewRegistry()}
	log := slog.New(slog.NewJSONHandler(f.log, nil))
	cfg.Log = log
	f.metrics = httpserver.NewMetrics(f.reg)
	cfg.Metrics = f.metrics
	cfg.Fallback = httpserver.NewSurface(log, httpserver.PlainEnvelope)
	f.hs = httpserver.New(cfg)

	ok := func(w http.ResponseWriter, r *http.Request) error {
		httpserver.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	}
	whoami := func(w http.ResponseWriter, r *http.Request) error {
		p := httpserver.Principal(r)
		httpserver.WriteJSON(w, http.StatusOK, map[string]string{"key": p.Credential.ID, "ip": p.IP})
		return nil
	}
	a := httpserver.NewSurface(log, envelope("a_error"))
	a.Handle("GET /a/items", ok)
	a.Handle("POST /a/items", func(w http.ResponseWriter, r *http.Request) error {
		// The read error is returned as it is: the plumbing knows a body
		// over the limit is the client's fault.
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		httpserver.WriteJSON(w, http.StatusOK, map[string]int{"read": len(b)})
		return nil
	})
	a.Handle("GET /a/items/{id}", func(w http.ResponseWriter, r *http.Request) error {
		return patchbay.Errorf(patchbay.ENOTFOUND, "Item %s not found.", r.PathValue("id"))
	})
	a.Handle("DELETE /a/items/{id}", ok)
	a.Handle("GET /a/conflict", func(w http.ResponseWriter, r *http.Request) error {
		return patchbay.Errorf(patchbay.ECONFLICT, "It changed.")
	})
	a.Handle("GET /a/internal", func(w http.ResponseWriter, r *http.Request) error {
		return fmt.Errorf("query failed: %s", panicText)
	})
	a.Handle("GET /a/panic", func(w http.ResponseWriter, r *http.Request) error { panic(panicText) })
	a.Handle("GET /a/panic-after-write", func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusAccepted)
		panic(panicText)
	})
	a.Handle("GET /a/abort", func(w http.ResponseWriter, r *http.Request) error { panic(http.ErrAbortHandler) })
	a.Handle("GET /a/rid", func(w http.ResponseWriter, r *http.Request) error {
		httpserver.WriteJSON(w, http.StatusOK, map[string]string{"request_id": httpserver.RequestID(r.Context())})
		return nil
	})
	a.Handle("GET /a/nokey", func(w http.ResponseWriter, r *http.Request) error {
		httpserver.WriteJSON(w, http.StatusOK, map[string]bool{"principal": httpserver.Principal(r) != nil})
		return nil
	})
	a.Handle("GET /a/project", httpserver.RequireKey(f.auth, httpserver.NeedProject, whoami))
	a.Handle("GET /a/org", httpserver.RequireKey(f.auth, httpserver.NeedOrg, whoami))
	a.Handle("GET /a/any", httpserver.RequireKey(f.auth, httpserver.NeedAny, whoami))
	f.hs.Mount(a, "/a/")

	b := httpserver.NewSurface(log, envelope("b_error"))
	b.Handle("GET /b/items", ok)
	b.Handle("GET /b/fail", func(w http.ResponseWriter, r *http.Request) error {
		return patchbay.Errorf(patchbay.EINVALID, "Bad.")
	})
	b.Handle("GET /b/panic", func(w http.ResponseWriter, r *http.Request) error { panic(panicText) })
	f.hs.Mount(b, "/b/", "/b")
	return f
}

type result struct {
	t      *testing.T
	what   string
	Status int
	Header http.Header
	Raw    string
	JSON   map[string]any
}

// do serves one request in process; header holds name, value pairs.
func (f *fixture) do(t *testing.T, method, target, body string, header ...string) *result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	req.RemoteAddr = "192.0.2.7:4242"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.hs.ServeHTTP(rec, req)
	r := &result{t: t, what: method + " " + target, Status: rec.Code, Header: rec.Header(), Raw: rec.Body.String()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &r.JSON); err != nil {
			t.Fatalf("%s: body is not a JSON object: %v: %s", r.what, err, r.Raw)
		}
	}
	return r
}

func (r *result) want(status int) *result {
	r.t.Helper()
	if r.Status != status {
		r.t.Fatalf("%s: status %d, want %d; body %s", r.what, r.Status, status, r.Raw)
	}
	return r
}

// failure checks that r is a failure in the named envelope and returns
// its fields.
func (r *result) failure(name string, status int, code string) map[string]any {
	r.t.Helper()
	r.want(status)
	env, ok := r.JSON[name].(map[string]any)
	if !ok || len(r.JSON) != 1 {
		r.t.Fatalf("%s: want the %s envelope, got %s", r.what, name, r.Raw)
	}
	if env["status"] != float64(status) || env["code"] != code {
		r.t.Errorf("%s: envelope status %v code %v, want %d %s", r.what, env["status"], env["code"], status, code)
	}
	if rid := r.Header.Get("X-Request-Id"); rid == "" || env["request_id"] != rid {
		r.t.Errorf("%s: envelope request_id %v, X-Request-Id %q", r.what, env["request_id"], rid)
	}
	return env
}

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

// errorCodes reads every E* constant of the domain's errors.go, so a code
// added there without a status here fails the test.
func errorCodes(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "../patchbay/errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, d := range file.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "E") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					codes[n.Name] = v
				}
			}
		}
	}
	if len(codes) == 0 {
		t.Fatal("no error codes found in ../patchbay/errors.go")
	}
	return codes
}

func TestStatusOf(t *testing.T) {
	want := map[string]int{
		patchbay.EINVALID:      400,
		patchbay.EUNAUTHORIZED: 401, // never 403: the legacy SDK only knows a few statuses
		patchbay.EFORBIDDEN:    403,
		patchbay.ENOTFOUND:     404,
		patchbay.ECONFLICT:     409,
		patchbay.ETOOLARGE:     413,
		patchbay.ERATELIMIT:    429,
		patchbay.EUNAVAILABLE:  503,
		patchbay.EINTERNAL:     500,
	}
	for name, code := range errorCodes(t) {
		status, ok := want[code]
		if !ok {
			t.Errorf("patchbay.%s (%q) has no status in this test: add it, and to httpserver's table", name, code)
			continue
		}
		err := patchbay.Errorf(code, "m")
		if got := httpserver.StatusOf(err); got != status {
			t.Errorf("StatusOf(%s) = %d, want %d", name, got, status)
		}
		if got := httpserver.StatusOf(fmt.Errorf("wrapped: %w", err)); got != status {
			t.Errorf("StatusOf(wrapped %s) = %d, want %d", name, got, status)
		}
	}
	if got := httpserver.StatusOf(errors.New("plain")); got != 500 {
		t.Errorf("StatusOf(plain error) = %d, want 500", got)
	}
	if got := httpserver.StatusOf(patchbay.Errorf("no_such_code", "m")); got != 500 {
		t.Errorf("StatusOf(unknown code) = %d, want 500", got)
	}
	if got := httpserver.StatusOf(&patchbay.Error{Code: patchbay.EINVALID, Err: httpserver.ErrMethod}); got != 405 {
		t.Errorf("StatusOf(ErrMethod) = %d, want 405", got)
	}
}

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

// stepClock advances by step at every reading, so every request lasts
// exactly step (outer reads it once at the start and once at the end).
func stepClock(step time.Duration) func() time.Time {
	var n atomic.Int64
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { return t0.Add(time.Duration(n.Add(1)) * step) }
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, httpserver.Config{Now: stepClock(5 * time.Millisecond)})
	f.do(t, "GET", "/a/items", "")
	f.do(t, "GET", "/a/items?x=1", "")
	f.do(t, "HEAD", "/a/items", "")
	f.do(t, "GET", "/a/items/1", "") // one series for every id
	f.do(t, "GET", "/a/items/2", "")
	f.do(t, "GET", "/a/items/ak_"+strings.Repeat("Z", 33), "")
	f.do(t, "DELETE", "/a/items/3", "")
	f.do(t, "GET", "/b/items", "")
	f.do(t, "GET", "/b/fail", "")
	f.do(t, "GET", "/a/panic", "")
	f.do(t, "GET", "/a/project", "")
	f.do(t, "PUT", "/a/items", "")    // 405: no route matched
	f.do(t, "GET", "/a/nope", "")     // 404 in a surface
	f.do(t, "GET", "/b/nope/1", "")   // 404 in another
	f.do(t, "GET", "/nowhere/9", "")  // the fallback
	f.do(t, "GET", "/elsewhere", "")  // the fallback
	f.do(t, "POST", "/a/items", "{}") // 200

	want := map[string]float64{
		`code="200",route="DELETE /a/items/{id}"`: 1,
		`code="200",route="GET /a/items"`:         3,
		`code="200",route="GET /b/items"`:         1,
		`code="200",route="POST /a/items"`:        1,
		`code="400",route="GET /b/fail"`:          1,
		`code="401",route="GET /a/project"`:       1,
		`code="404",route="GET /a/items/{id}"`:    3,
		`code="404",route="unmatched"`:            4,
		`code="405",route="unmatched"`:            1,
		`code="500",route="GET /a/panic"`:         1,
	}
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "patchbay_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() { // sorted by name
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			got[strings.Join(labels, ",")] = m.GetCounter().GetValue()
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("patchbay_http_requests_total:\n got %v\nwant %v", got, want)
	}

	// The latency histogram: one observation per request, of exactly 5ms
	// here, under the same route labels.
	counts := map[string]uint64{}
	var total uint64
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != "patchbay_http_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" {
					counts[l.GetValue()] += h.GetSampleCount()
				}
			}
			total += h.GetSampleCount()
			sum += h.GetSampleSum()
		}
	}
	if total != 17 || counts["GET /a/items"] != 3 || counts["GET /a/items/{id}"] != 3 || counts["unmatched"] != 5 {
		t.Errorf("histogram counts %v (total %d), want 17 requests by route", counts, total)
	}
	if d := sum - 17*0.005; d > 1e-9 || d < -1e-9 {
		t.Errorf("histogram sum %v, want 17 × 5ms", sum)
	}

	// The scrape, as Prometheus reads it.
	rec := httptest.NewRecorder()
	f.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.String()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("scrape content type %q", ct)
	}
	for _, line := range []string{
		`patchbay_http_requests_total{code="200",route="GET /a/items"} 3`,
		`patchbay_http_requests_total{code="404",route="unmatched"} 4`,
		`patchbay_http_request_duration_seconds_count{route="GET /a/items/{id}"} 3`,
		`patchbay_http_request_duration_seconds_bucket{route="unmatched",le="+Inf"} 5`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("scrape lacks %s:\n%s", line, text)
		}
	}
	// Paths never become labels: no ids, no keys.
	for _, leak := range []string{"/a/items/1", "/a/items/2", "ZZZZ", "/nowhere", "/elsewhere", "x=1"} {
		if strings.Contains(text, leak) {
			t.Errorf("the scrape carries %q", leak)
		}
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

func TestWriteJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	httpserver.WriteJSON(rec, http.StatusCreated, map[string]string{"a": "<b>"})
	if rec.Code != 201 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" || rec.Body.String() != "{\"a\":\"\\u003cb\\u003e\"}\n" {
		t.Errorf("WriteJSON: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	// A value that cannot be encoded is a bug: a 500 with a fixed body,
	// never half a document.
	rec = httptest.NewRecorder()
	httpserver.WriteJSON(rec, http.StatusOK, map[string]any{"ok": true, "c": make(chan int)})
	if rec.Code != 500 || rec.Body.String() != "{\"message\":\"Internal error.\"}\n" {
		t.Errorf("unencodable: %d %q", rec.Code, rec.Body)
	}
}
