package httpapi_test

// Shared helpers of the black-box HTTP tests: a patchbay per backend on a
// loopback port (testserver), a client that records every response body so
// that a test can prove no plaintext credential ever comes back, a fake
// third-party app that records what it receives, and small JSON accessors.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// eachBackend runs fn once per store, as a subtest named after it.
func eachBackend(t *testing.T, fn func(t *testing.T, b testserver.Backend)) {
	t.Helper()
	for _, b := range testserver.Backends {
		t.Run(string(b), func(t *testing.T) { fn(t, b) })
	}
}

// syncBuffer collects a server log written concurrently.
type syncBuffer = testserver.SyncBuffer

// recorder keeps every response body and the plaintext secrets a test
// handed to the server; when the test ends, no secret may appear in any
// body or in the server log.
type recorder struct {
	mu      sync.Mutex
	bodies  []string
	secrets []string
	log     *syncBuffer
}

func (r *recorder) add(body string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, body)
}

func (r *recorder) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	log := r.log.String()
	for _, s := range r.secrets {
		for i, b := range r.bodies {
			if strings.Contains(b, s) {
				t.Errorf("response %d carries the plaintext secret %q: %s", i, s, b)
			}
		}
		if strings.Contains(log, s) {
			t.Errorf("server log carries the plaintext secret %q", s)
		}
	}
}

// api is a client of one running patchbay, authenticated with one key.
type api struct {
	t         *testing.T
	srv       *testserver.Server
	key       string // sent as x-api-key
	orgKey    string // sent as x-org-api-key
	projectID string // the project of key
	rec       *recorder
}

// start runs a patchbay on backend and returns a client using the owner's
// project key. The server log is captured in the recorder.
func start(t *testing.T, b testserver.Backend, opts testserver.Options) *api {
	t.Helper()
	log := &syncBuffer{}
	if opts.Log != nil {
		t.Fatal("start captures the server log itself; leave Options.Log nil")
	}
	opts.Log = log
	srv := testserver.Start(t, b, opts)
	a := &api{t: t, srv: srv, key: srv.OwnerKey, projectID: srv.Project.ID, rec: &recorder{log: log}}
	// The test keys are shown nowhere after creation, and never logged.
	a.secret(srv.OwnerKey)
	a.secret(srv.OrgKey)
	a.secret(srv.MemberKey)
	t.Cleanup(func() {
		a.rec.check(t)
		if t.Failed() {
			t.Logf("server log:\n%s", tail(log.String(), 4000))
		}
	})
	return a
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// as returns a client of the same server using another project key (its
// projectID is unknown until set).
func (a *api) as(key string) *api {
	c := *a
	c.key, c.orgKey, c.projectID = key, "", ""
	return &c
}

// org returns a client that sends the organization key in x-org-api-key.
func (a *api) org() *api {
	c := *a
	c.key, c.orgKey = "", a.srv.OrgKey
	return &c
}

// secret registers a plaintext credential that must never come back.
func (a *api) secret(s string) string {
	a.rec.mu.Lock()
	defer a.rec.mu.Unlock()
	a.rec.secrets = append(a.rec.secrets, s)
	return s
}

// response is one HTTP answer, its body kept raw and decoded.
type response struct {
	t      *testing.T
	req    string
	Status int
	Header http.Header
	Raw    []byte
	JSON   any
}

// reqOpt adjusts a request before it is sent.
type reqOpt func(*http.Request)

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// do sends a request. body nil sends no body and no content type; a string
// or []byte is sent raw as JSON; anything else is marshalled.
func (a *api) do(method, path string, body any, opts ...reqOpt) *response {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.key != "" {
		req.Header.Set("X-Api-Key", a.key)
	}
	if a.orgKey != "" {
		req.Header.Set("X-Org-Api-Key", a.orgKey)
	}
	for _, o := range opts {
		o(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	a.rec.add(string(raw))
	out := &response{t: a.t, req: method + " " + path, Status: res.StatusCode, Header: res.Header, Raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			a.t.Errorf("%s: content type %q, want application/json", out.req, ct)
		}
		if err := json.Unmarshal(raw, &out.JSON); err != nil {
			a.t.Fatalf("%s: response is not JSON: %v\n%s", out.req, err, raw)
		}
	}
	return out
}

func (a *api) get(path string) *response            { a.t.Helper(); return a.do("GET", path, nil) }
func (a *api) post(path string, body any) *response { a.t.Helper(); return a.do("POST", path, body) }
func (a *api) patch(path string, body any) *response {
	a.t.Helper()
	return a.do("PATCH", path, body)
}
func (a *api) del(path string) *response { a.t.Helper(); return a.do("DELETE", path, nil) }

// want fails the test unless the status is status; it returns r.
func (r *response) want(status int) *response {
	r.t.Helper()
	if r.Status != status {
		r.t.Fatalf("%s: status %d, want %d; body: %s", r.req, r.Status, status, r.Raw)
	}
	return r
}

// at returns the value at a dotted path ("items.0.id"), or nil.
func (r *response) at(path string) any { return jget(r.JSON, path) }

// str returns the string at path, failing the test if it is not one.
func (r *response) str(path string) string {
	r.t.Helper()
	v, ok := r.at(path).(string)
	if !ok {
		r.t.Fatalf("%s: %s is %v (%T), want a string; body: %s", r.req, path, r.at(path), r.at(path), r.Raw)
	}
	return v
}

// num returns the number at path as an int.
func (r *response) num(path string) int {
	r.t.Helper()
	v, ok := r.at(path).(float64)
	if !ok {
		r.t.Fatalf("%s: %s is %v (%T), want a number; body: %s", r.req, path, r.at(path), r.at(path), r.Raw)
	}
	return int(v)
}

// list returns the array at path.
func (r *response) list(path string) []any {
	r.t.Helper()
	v, ok := r.at(path).([]any)
	if !ok {
		r.t.Fatalf("%s: %s is %v (%T), want an array; body: %s", r.req, path, r.at(path), r.at(path), r.Raw)
	}
	return v
}

// has reports whether the object at path has key (even with a null value).
func (r *response) has(path, key string) bool {
	m, ok := r.at(path).(map[string]any)
	if !ok {
		return false
	}
	_, ok = m[key]
	return ok
}

// eq checks r.at(path) against want, compared as JSON.
func (r *response) eq(path string, want any) {
	r.t.Helper()
	if g, w := canon(r.t, r.at(path)), canon(r.t, want); g != w {
		r.t.Errorf("%s: %s = %s, want %s", r.req, path, g, w)
	}
}

// ids returns the "id" of every item of the array at path.
func (r *response) ids(path string) []string {
	r.t.Helper()
	var out []string
	for _, it := range r.list(path) {
		id, _ := jget(it, "id").(string)
		out = append(out, id)
	}
	return out
}

// v3err checks a v3.1 error envelope: status, and a message containing
// each of parts.
func (r *response) v3err(status int, parts ...string) {
	r.t.Helper()
	r.want(status)
	r.eq("error.status", status)
	r.eq("error.code", status)
	msg := r.str("error.message")
	if r.str("error.request_id") == "" {
		r.t.Errorf("%s: error.request_id is empty", r.req)
	}
	if id := r.Header.Get("X-Request-Id"); id != r.str("error.request_id") {
		r.t.Errorf("%s: error.request_id %q, header X-Request-Id %q", r.req, r.str("error.request_id"), id)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			r.t.Errorf("%s: error message %q does not mention %q", r.req, msg, p)
		}
	}
}

// legacyErr checks a legacy error envelope ({message, name, status}).
func (r *response) legacyErr(status int, parts ...string) {
	r.t.Helper()
	r.want(status)
	r.eq("status", status)
	if r.str("name") == "" || r.str("requestId") == "" {
		r.t.Errorf("%s: legacy error without name or requestId: %s", r.req, r.Raw)
	}
	msg := r.str("message")
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			r.t.Errorf("%s: error message %q does not mention %q", r.req, msg, p)
		}
	}
	// composio-core shows a 400 only through details (legacy-v1.md §2).
	if status == 400 {
		r.eq("details", []string{msg})
	}
}

// jget walks a decoded JSON value along a dotted path.
func jget(v any, path string) any {
	if path == "" {
		return v
	}
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// canon is v as compact JSON with sorted keys, for comparisons.
func canon(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(x)
	return string(b)
}

// eq is a plain got/want check, compared as JSON.
func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if g, w := canon(t, got), canon(t, want); g != w {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}

// noNulls fails for every null in v whose key is not in allowed.
func noNulls(t *testing.T, what string, v any, allowed ...string) {
	t.Helper()
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if c == nil && !slices.Contains(allowed, k) {
					t.Errorf("%s: %s.%s is null", what, path, k)
				}
				walk(path+"."+k, c)
			}
		case []any:
			for i, c := range x {
				if c == nil {
					t.Errorf("%s: %s[%d] is null", what, path, i)
				}
				walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
		}
	}
	walk("", v)
}

// Fixtures.

// createAuthConfig creates a custom auth config (a managed one when scheme
// is "") and returns its id.
func (a *api) createAuthConfig(toolkit, scheme string, creds map[string]any) string {
	a.t.Helper()
	ac := map[string]any{"type": "use_composio_managed_auth"}
	if scheme != "" {
		if creds == nil {
			creds = map[string]any{}
		}
		ac = map[string]any{"type": "use_custom_auth", "authScheme": scheme, "credentials": creds}
	}
	r := a.post("/api/v3.1/auth_configs", map[string]any{"toolkit": map[string]any{"slug": toolkit}, "auth_config": ac}).want(201)
	return r.str("auth_config.id")
}

// connectBody is the body @composio/core sends for initiate with state.
func connectBody(acID, user, scheme string, val map[string]any) map[string]any {
	v := map[string]any{"status": "ACTIVE"}
	for k, x := range val {
		v[k] = x
	}
	return map[string]any{
		"auth_config": map[string]any{"id": acID},
		"connection":  map[string]any{"user_id": user, "state": map[string]any{"authScheme": scheme, "val": v}},
	}
}

// connect creates an ACTIVE connected account and returns its id.
func (a *api) connect(acID, user, scheme string, val map[string]any) string {
	a.t.Helper()
	r := a.post("/api/v3.1/connected_accounts", connectBody(acID, user, scheme, val)).want(201)
	r.eq("connectionData.val.status", "ACTIVE")
	return r.str("id")
}

// newProject creates a second project in the organization (with the
// organization key) and returns a client using its new project key.
func (a *api) newProject(name string) *api {
	a.t.Helper()
	r := a.org().post("/api/v3.1/org/owner/project/new", map[string]any{"name": name, "should_create_api_key": true}).want(201)
	c := a.as(r.str("api_key"))
	c.projectID = r.str("id")
	return c
}

// fakeApp is a third-party app on loopback that records what it receives
// and accepts a request when accept says so (200), else answers 401.
type fakeApp struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []*http.Request
	accept func(r *http.Request) bool
}

func newFakeApp(t *testing.T, accept func(r *http.Request) bool) *fakeApp {
	t.Helper()
	f := &fakeApp{accept: accept}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, r.Clone(r.Context()))
		ok := f.accept(r)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid credentials"}`)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(f.Close)
	return f
}

// requests returns what the app received so far.
func (f *fakeApp) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// setAccept changes the app's answer.
func (f *fakeApp) setAccept(accept func(r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accept = accept
}
