package main

// Shared helpers of the end-to-end tests: the CLI driven through run(), the
// server started with startServer on a loopback port, and an HTTP client
// that records every response.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/config"
	"github.com/patchbay-dev/patchbay/internal/keyring"
	"github.com/patchbay-dev/patchbay/internal/logging"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testdb"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

var (
	projectKeyRE = regexp.MustCompile(`^ak_[0-9A-Za-z]{33}$`)
	orgKeyRE     = regexp.MustCompile(`^oak_[0-9A-Za-z]{33}$`)
	uuidV4RE     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// syncBuffer collects a server log written concurrently.
type syncBuffer = testserver.SyncBuffer

// env is a set of PATCHBAY_* variables, shared by the CLI and the server of
// one test so that both work on the same database.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// with returns a copy of e with the given key/value pairs set ("" deletes).
func (e env) with(kv ...string) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// backend is a database to run against.
type backend struct {
	name string
	make func(t testing.TB) env
}

var backends = []backend{
	{"sqlite", sqliteEnv},
	{"postgres", postgresEnv},
}

// sqliteEnv is a fresh, not yet existing data dir; the development root key
// is created in it.
func sqliteEnv(t testing.TB) env {
	return env{"PATCHBAY_DATA_DIR": filepath.Join(t.TempDir(), "data")}
}

// postgresEnv is a fresh schema with an explicit root key (skips without a
// test database). The data dir is set so nothing lands in the package dir.
func postgresEnv(t testing.TB) env {
	return env{
		"PATCHBAY_DATABASE_URL": testdb.PostgresURL(t),
		"PATCHBAY_ROOT_KEY":     newRootKey(t),
		"PATCHBAY_DATA_DIR":     filepath.Join(t.TempDir(), "data"),
	}
}

func newRootKey(t testing.TB) string {
	k, err := keyring.NewRootKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// cliResult is one run of the binary's command line.
type cliResult struct {
	stdout, stderr string
	code           int
}

func runCLI(t testing.TB, e env, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	// A command that unexpectedly serves stops here instead of hanging.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, args, e.get, &out, &errb)
	return cliResult{out.String(), errb.String(), code}
}

// mustCLI runs a command that must succeed.
func mustCLI(t testing.TB, e env, args ...string) cliResult {
	t.Helper()
	r := runCLI(t, e, args...)
	if r.code != exitOK {
		t.Fatalf("patchbay %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// cliKey creates a key with the CLI and returns its plaintext and ID.
func cliKey(t testing.TB, e env, args ...string) (key, id string) {
	t.Helper()
	r := mustCLI(t, e, append([]string{"keys", "create"}, args...)...)
	key = strings.TrimSpace(r.stdout)
	m := regexp.MustCompile(`created \w+ key (key_\w+)`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("keys create: no key ID on stderr: %q", r.stderr)
	}
	return key, m[1]
}

// serveConfig builds the serve configuration from e through the real flag
// and environment handling, on a kernel-chosen loopback port.
func serveConfig(t testing.TB, e env) config.Config {
	t.Helper()
	var cfg config.Config
	fs := cfg.FlagSet("serve", e.get, true)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(true); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// server is a started server with its log, shut down when the test ends
// unless the test shuts it down itself.
type server struct {
	*running
	URL  string
	Log  *syncBuffer
	once sync.Once
	err  error
}

func (s *server) shutdown() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		s.err = s.Shutdown(ctx)
	})
	return s.err
}

// startTestServer starts a server logging at debug level into a buffer
// (text format unless format says otherwise); the log is printed if the
// test fails.
func startTestServer(t testing.TB, cfg config.Config, format ...string) *server {
	t.Helper()
	buf := &syncBuffer{}
	f := "text"
	if len(format) > 0 {
		f = format[0]
	}
	log, err := logging.New(buf, logging.Options{Format: f, Level: "debug"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := startServer(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("startServer: %v\nlog:\n%s", err, buf)
	}
	s := &server{running: r, URL: "http://" + r.Addr, Log: buf}
	t.Cleanup(func() {
		if err := s.shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("server %s log:\n%s", r.Addr, buf)
		}
	})
	return s
}

// response is a recorded HTTP response.
type response struct {
	method, path string
	reqBody      string
	reqHeader    http.Header
	status       int
	header       http.Header
	body         []byte
}

func (r *response) String() string {
	return fmt.Sprintf("%s %s → %d %s", r.method, r.path, r.status, truncateForLog(string(r.body)))
}

func truncateForLog(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// obj decodes a JSON object body.
func (r *response) obj(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%s: body is not a JSON object: %v", r, err)
	}
	return m
}

// arr decodes a JSON array body.
func (r *response) arr(t testing.TB) []map[string]any {
	t.Helper()
	var a []map[string]any
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("%s: body is not a JSON array: %v", r, err)
	}
	return a
}

// client talks to one server and records every response it gets.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client

	mu  sync.Mutex
	log []*response
}

func newClient(t testing.TB, base string) *client {
	return &client{t: t, base: base, hc: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true},
	}}
}

// h is a list of header name/value pairs. Names are sent exactly as given
// (not canonicalized), so tests control their case.
type h []string

// do sends a request. body is a string, []byte or nil.
func (c *client) do(method, path string, body any, hdr h) *response {
	c.t.Helper()
	var rd io.Reader
	var reqBody string
	switch b := body.(type) {
	case nil:
	case string:
		rd, reqBody = strings.NewReader(b), b
	case []byte:
		rd, reqBody = bytes.NewReader(b), string(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd, reqBody = bytes.NewReader(j), string(j)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if rd != nil {
		req.Header["Content-Type"] = []string{"application/json"}
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header[hdr[i]] = append(req.Header[hdr[i]], hdr[i+1])
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	r := &response{method: method, path: path, reqBody: reqBody, reqHeader: req.Header,
		status: res.StatusCode, header: res.Header, body: b}
	c.mu.Lock()
	c.log = append(c.log, r)
	c.mu.Unlock()
	return r
}

func (c *client) responses() []*response {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*response(nil), c.log...)
}

// checkNo5xx fails the test if any recorded response was a server error.
func (c *client) checkNo5xx() {
	c.t.Helper()
	for _, r := range c.responses() {
		if r.status >= 500 {
			c.t.Errorf("server error: %s", r)
		}
	}
}

// want asserts a status.
func want(t testing.TB, r *response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d", r, r.status, status)
	}
}

// wantJSON asserts the status and a JSON content type.
func wantJSON(t testing.TB, r *response, status int) {
	t.Helper()
	want(t, r, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q, want application/json", r, ct)
	}
}

// legacyError asserts composio-core's error shape: {"message", …} with the
// status, and returns the message.
func legacyError(t testing.TB, r *response, status int) string {
	t.Helper()
	wantJSON(t, r, status)
	m := r.obj(t)
	msg, _ := m["message"].(string)
	if msg == "" {
		t.Fatalf("%s: no message", r)
	}
	if got, _ := m["status"].(float64); int(got) != status {
		t.Fatalf("%s: body status %v, want %d", r, m["status"], status)
	}
	if rid, _ := m["requestId"].(string); rid == "" || rid != r.header.Get("X-Request-Id") {
		t.Fatalf("%s: requestId %q does not match header %q", r, rid, r.header.Get("X-Request-Id"))
	}
	return msg
}

// v3Error asserts the v3 envelope {"error":{"message","code","status",
// "request_id"}} and returns the message.
func v3Error(t testing.TB, r *response, status int) string {
	t.Helper()
	wantJSON(t, r, status)
	m := r.obj(t)
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("%s: no error object", r)
	}
	msg, _ := e["message"].(string)
	if msg == "" {
		t.Fatalf("%s: no error.message", r)
	}
	for _, f := range []string{"code", "status"} {
		if got, _ := e[f].(float64); int(got) != status {
			t.Fatalf("%s: error.%s %v, want %d", r, f, e[f], status)
		}
	}
	if rid, _ := e["request_id"].(string); rid == "" || rid != r.header.Get("X-Request-Id") {
		t.Fatalf("%s: error.request_id %q does not match header %q", r, rid, r.header.Get("X-Request-Id"))
	}
	return msg
}

// wantUnauthorized asserts a 401 in the envelope of the path's surface.
func wantUnauthorized(t testing.TB, r *response) string {
	t.Helper()
	var msg string
	if strings.HasPrefix(r.path, "/api/v1/") {
		msg = legacyError(t, r, http.StatusUnauthorized)
	} else {
		msg = v3Error(t, r, http.StatusUnauthorized)
	}
	if r.header.Get("X-Should-Retry") != "false" {
		t.Errorf("%s: x-should-retry %q, want false", r, r.header.Get("X-Should-Retry"))
	}
	return msg
}

// unknownKey is a well-formed key (valid checksum) that no database holds.
func unknownKey(t testing.TB, kind patchbay.KeyKind) string {
	tok, err := patchbay.GenerateKey(kind, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Secret.Reveal()
}

// listedKeys parses `keys list` output into rows keyed by key ID. Names in
// these tests have no spaces, so fields split cleanly.
func listedKeys(t testing.TB, out string) map[string]keyRow {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("keys list: no header: %q", out)
	}
	rows := map[string]keyRow{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 10 {
			t.Fatalf("keys list: row has %d fields, want 10: %q", len(f), l)
		}
		rows[f[0]] = keyRow{name: f[1], kind: f[2], project: f[3], key: f[4], status: f[5],
			created: f[6], lastUsed: f[7], revoked: f[8], revokedBy: f[9]}
	}
	return rows
}

type keyRow struct {
	name, kind, project, key, status, created, lastUsed, revoked, revokedBy string
}

// dirEntries lists the names in dir, or nil if it does not exist.
func dirEntries(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
