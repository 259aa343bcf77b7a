package httpserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

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
