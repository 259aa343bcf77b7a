// Package compat is patchbay's SDK conformance suite: the official Composio
// SDKs (composio-core 0.5.39 and @composio/core 0.21.0, from npm, unchanged)
// run their flows against a real patchbay server on loopback, once on SQLite
// and once on PostgreSQL, under a guard that refuses and reports every
// off-host connection. See README.md.
package compat

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/testdb"
	"github.com/patchbay-dev/patchbay/internal/testoauth"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

const (
	npmTimeout   = 5 * time.Minute
	startTimeout = 20 * time.Second
	flowTimeout  = 2 * time.Minute
	memberEmail  = "member@compat.test"
)

// TestSDKConformance runs every flow in flows/ against a fresh server per
// backend. The guard's self-test runs once, without a server.
func TestSDKConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the SDK conformance suite starts servers and node; skipped with -short")
	}
	node, npm := nodeTools(t)
	dir, err := os.Getwd() // go test runs a package's tests in its directory
	if err != nil {
		t.Fatal(err)
	}
	ensureNodeModules(t, dir, npm)
	bin := buildPatchbay(t, dir)

	flows, err := filepath.Glob(filepath.Join(dir, "flows", "*.test.mjs"))
	if err != nil || len(flows) == 0 {
		t.Fatalf("no flows in %s/flows (err %v)", dir, err)
	}
	sort.Strings(flows)

	t.Run("guard", func(t *testing.T) {
		runFlow(t, node, dir, filepath.Join(dir, "flows", "guard.test.mjs"), nil)
	})

	backends := []struct {
		name  string
		dbURL func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return testdb.PostgresURL(t) }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			dbURL := b.dbURL(t) // skips postgres without a test database (fails under CI)
			srv := startServer(t, bin, dbURL)
			for _, f := range flows {
				if filepath.Base(f) == "guard.test.mjs" {
					continue
				}
				name := strings.TrimSuffix(filepath.Base(f), ".test.mjs")
				t.Run(name, func(t *testing.T) { runFlow(t, node, dir, f, srv.env) })
			}
		})
	}
}

// nodeTools finds node (version 20 or newer) and npm. Missing tools skip the
// suite, except under CI, where they fail it.
func nodeTools(t *testing.T) (node, npm string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf(format+" (CI must run the SDK conformance suite)", args...)
		}
		t.Skipf(format, args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	npm, err = exec.LookPath("npm")
	if err != nil {
		missing("npm is not installed")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		missing("node --version: %v", err)
	}
	v := strings.TrimSpace(string(out))
	m := regexp.MustCompile(`^v(\d+)\.`).FindStringSubmatch(v)
	if m == nil {
		missing("cannot read node's version %q", v)
	}
	if major, _ := strconv.Atoi(m[1]); major < 20 {
		missing("node %s is too old: the suite needs node 20 or newer", v)
	}
	return node, npm
}

// ensureNodeModules runs `npm ci` when node_modules is missing or older than
// package-lock.json (npm writes node_modules/.package-lock.json on every
// install). Concurrent test processes serialize on a lock file. Install
// scripts are off (.npmrc and --ignore-scripts): nothing is downloaded but
// the registry's packages.
func ensureNodeModules(t *testing.T, dir, npm string) {
	t.Helper()
	lock := filepath.Join(dir, "package-lock.json")
	stamp := filepath.Join(dir, "node_modules", ".package-lock.json")
	fresh := func() bool {
		l, err1 := os.Stat(lock)
		s, err2 := os.Stat(stamp)
		return err1 == nil && err2 == nil && !s.ModTime().Before(l.ModTime())
	}
	if fresh() {
		return
	}
	unlock := lockFile(t, filepath.Join(dir, ".npm-install.lock"))
	defer unlock()
	if fresh() { // another process installed while we waited
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
	t.Logf("npm ci took %s", time.Since(start).Round(time.Millisecond))
}

// lockFile takes an exclusive lock by creating path, waiting while another
// process holds it; a lock older than npmTimeout is stale and taken over.
func lockFile(t *testing.T, path string) (unlock func()) {
	t.Helper()
	deadline := time.Now().Add(npmTimeout + time.Minute)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { os.Remove(path) }
		}
		if !errors.Is(err, os.ErrExist) {
			t.Fatalf("lock %s: %v", path, err)
		}
		if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > npmTimeout {
			os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (another npm ci?)", path)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// buildPatchbay builds the server binary from this checkout.
func buildPatchbay(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "patchbay")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cmd := exec.Command(goTool, "build", "-o", bin, "./cmd/patchbay")
	cmd.Dir = filepath.Dir(dir) // the module root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/patchbay: %v\n%s", err, out)
	}
	return bin
}

// server is a running patchbay and the environment its flows get.
type server struct {
	base string
	env  []string
}

// patchbayEnv is the environment of the patchbay CLI and server: the
// caller's, minus any PATCHBAY_* setting, so only the flags given apply.
func patchbayEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATCHBAY_") {
			env = append(env, kv)
		}
	}
	return env
}

// startServer creates the flows' keys with the CLI, then serves on a free
// loopback port until the test ends. dbURL "" means SQLite in the data dir.
// The toolkits the tool flows call (fakeToolkits) are pointed at a fake app
// of the server's own.
func startServer(t *testing.T, bin, dbURL string) *server {
	t.Helper()
	fake := startFakeApp(t)
	// The OAuth flows' provider: a real authorization server in this
	// process, the managed app of oauthToolkit through the apps file.
	prov := testoauth.New(t)
	appsFile := filepath.Join(t.TempDir(), "oauth-apps.json")
	apps, _ := json.Marshal(map[string]any{oauthToolkit: prov.App(oauthClientID, oauthClientSecret, []string{"read_user", "api"})})
	if err := os.WriteFile(appsFile, apps, 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir() // SQLite database and the development root key
	storage := []string{"--data-dir", dataDir}
	if dbURL != "" {
		storage = append(storage, "--database-url", dbURL)
	}
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, storage...)...)
		cmd.Env = patchbayEnv()
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("patchbay %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return strings.TrimSpace(stdout.String())
	}
	ownerKey := cli("keys", "create", "--name", "compat-owner")
	orgKey := cli("keys", "create", "--name", "compat-org", "--org")
	cli("members", "add", "--email", memberEmail, "--role", "member")
	memberKey := cli("keys", "create", "--name", "compat-member", "--member", memberEmail)
	memberOrgKey := cli("keys", "create", "--name", "compat-member-org", "--org", "--member", memberEmail)
	for name, k := range map[string]string{"owner": ownerKey, "org": orgKey, "member": memberKey, "member org": memberOrgKey} {
		if !regexp.MustCompile(`^o?ak_[A-Za-z0-9]+$`).MatchString(k) {
			t.Fatalf("patchbay keys create (%s) printed %q, not a key", name, k)
		}
	}

	// Port 0: the kernel picks a free port, and the server logs it.
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, storage...)
	for _, slug := range fakeToolkits {
		args = append(args, "--upstream-override", slug+"="+fake.srv.URL+"/"+slug)
	}
	args = append(args, "--outbound-allow-host", "127.0.0.1", "--oauth-apps-file", appsFile)
	cmd := exec.Command(bin, args...)
	cmd.Env = patchbayEnv()
	logs := &syncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stdout = logs
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("patchbay serve: %v", err)
	}
	exited := make(chan error, 1)
	go func() { err := cmd.Wait(); pw.Close(); exited <- err }()
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Bytes()
			logs.Write(append(line, '\n'))
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if !sent && json.Unmarshal(line, &rec) == nil && rec.Msg == "patchbay listening" && rec.Addr != "" {
				addrc <- rec.Addr
				sent = true
			}
		}
		io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		stopServer(t, cmd, exited)
		// The OAuth app's secret and every token the provider granted
		// stay out of the server's log.
		for _, v := range append(prov.AllTokens(), oauthClientSecret) {
			if strings.Contains(logs.String(), v) {
				t.Errorf("the server log carries an OAuth token or the client secret")
				break
			}
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})

	var addr string
	select {
	case addr = <-addrc:
	case err := <-exited:
		exited <- err
		t.Fatalf("patchbay serve exited before listening: %v\n%s", err, logs.String())
	case <-time.After(startTimeout):
		t.Fatalf("patchbay serve did not log its address within %s\n%s", startTimeout, logs.String())
	}
	base := "http://" + addr
	waitHealthy(t, base+"/healthz", exited, logs)
	// The provider sends browsers back to this server's callback only.
	if err := prov.Register(oauthClientID, oauthClientSecret, base); err != nil {
		t.Fatal(err)
	}

	return &server{
		base: base,
		env: []string{
			"COMPOSIO_BASE_URL=" + base,
			"COMPOSIO_API_KEY=" + ownerKey,
			"PATCHBAY_ORG_API_KEY=" + orgKey,
			"PATCHBAY_MEMBER_API_KEY=" + memberKey,
			"PATCHBAY_MEMBER_ORG_API_KEY=" + memberOrgKey,
			"PATCHBAY_FAKE_APP_URL=" + fake.srv.URL,
			"PATCHBAY_FAKE_APP_TOKEN=" + fake.token,
			"PATCHBAY_OAUTH_PROVIDER_URL=" + prov.URL,
			"PATCHBAY_OAUTH_TOOLKIT=" + oauthToolkit,
		},
	}
}

func waitHealthy(t *testing.T, url string, exited chan error, logs *syncBuffer) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("patchbay serve exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy within %s (last error %v)\n%s", url, startTimeout, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopServer interrupts the server (a graceful shutdown) and kills it if it
// has not exited within 15 seconds.
func stopServer(t *testing.T, cmd *exec.Cmd, exited chan error) {
	if runtime.GOOS == "windows" {
		cmd.Process.Kill()
	} else {
		cmd.Process.Signal(os.Interrupt)
	}
	select {
	case err := <-exited:
		if err != nil && runtime.GOOS != "windows" {
			t.Errorf("patchbay serve did not shut down cleanly: %v", err)
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Errorf("patchbay serve did not stop within 15s of an interrupt; killed")
	}
}

// runFlow runs one flow file under the guard and fails t if node fails or
// the guard reports an off-host attempt that the flow did not declare.
func runFlow(t *testing.T, node, dir, flow string, flowEnv []string) {
	t.Helper()
	tmp := t.TempDir()
	report := filepath.Join(tmp, "guard-report.jsonl")
	home := filepath.Join(tmp, "home") // no ~/.composio/user_data.json to read
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	guard := filepath.Join(dir, "guard.mjs")

	// A clean environment: nothing from the caller's COMPOSIO_*, CI,
	// NODE_ENV or DEVELOPMENT (each of which changes what the SDKs send),
	// so the suite proves that the documented self-hosting settings alone,
	// TELEMETRY_DISABLED=true plus the constructor options, keep the SDKs
	// on loopback. NODE_OPTIONS puts the guard in every node process,
	// including any the SDKs spawn.
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"USERPROFILE=" + home,
		"TMPDIR=" + tmp,
		"TELEMETRY_DISABLED=true",
		"PATCHBAY_GUARD_REPORT=" + report,
		"NODE_OPTIONS=--import=" + strconv.Quote(guard),
		"NO_COLOR=1",
	}
	env = append(env, flowEnv...)

	rel, err := filepath.Rel(dir, flow)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), flowTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--import", "./guard.mjs", "--test", "--test-reporter=spec", filepath.ToSlash(rel))
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	out, runErr := cmd.CombinedOutput()
	elapsed := time.Since(start).Round(time.Millisecond)

	// composio-core sends telemetry from detached `node -e` children, which
	// may still be starting when the flow ends: give them a moment to be
	// refused and reported.
	time.Sleep(250 * time.Millisecond)
	attempts, loaded, repErr := readGuardReport(report)
	switch {
	case runErr != nil:
		t.Errorf("node --test %s failed after %s: %v\n%s", rel, elapsed, runErr, out)
	case testing.Verbose():
		t.Logf("node --test %s passed in %s\n%s", rel, elapsed, out)
	}
	if repErr != nil {
		t.Fatalf("guard report %s: %v", report, repErr)
	}
	if !loaded[filepath.ToSlash(rel)] {
		t.Errorf("the guard did not report itself loaded in %s: the flow ran unguarded (report: %v)", rel, loaded)
	}
	var unexpected []string
	expected := map[string]int{}
	var order []string
	for _, a := range attempts {
		desc := fmt.Sprintf("%s %s:%s from %s (pid %d)", a.Via, a.Host, portString(a.Port), a.Script, a.PID)
		// Only the guard's own self-test may provoke attempts; an SDK flow
		// may make none at all, declared or not.
		if a.Expected == "" || filepath.Base(rel) != "guard.test.mjs" {
			unexpected = append(unexpected, desc)
			continue
		}
		key := fmt.Sprintf("%s %s:%s from %s; expected: %s", a.Via, a.Host, portString(a.Port), a.Script, a.Expected)
		if expected[key] == 0 {
			order = append(order, key)
		}
		expected[key]++
	}
	for _, k := range order {
		t.Logf("guard: refused %d× %s", expected[k], k)
	}
	if len(unexpected) > 0 {
		t.Errorf("the guard refused %d off-host connection attempt(s); SDK flows may make none:\n  %s",
			len(unexpected), strings.Join(unexpected, "\n  "))
	}
}

// guardEntry is one line of the guard's report.
type guardEntry struct {
	Event    string `json:"event"` // "loaded" or "blocked"
	Via      string `json:"via"`
	Host     string `json:"host"`
	Port     *int   `json:"port"`
	PID      int    `json:"pid"`
	Script   string `json:"script"`
	Expected string `json:"expected"`
}

func portString(p *int) string {
	if p == nil {
		return "-"
	}
	return strconv.Itoa(*p)
}

// readGuardReport returns the blocked attempts and the scripts the guard
// was loaded in. A missing report means no guarded process ran.
func readGuardReport(path string) (blocked []guardEntry, loaded map[string]bool, err error) {
	loaded = map[string]bool{}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, loaded, nil
	}
	if err != nil {
		return nil, nil, err
	}
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e guardEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, nil, fmt.Errorf("line %d: %v: %q", i+1, err, line)
		}
		switch e.Event {
		case "loaded":
			loaded[e.Script] = true
		case "blocked":
			blocked = append(blocked, e)
		default:
			return nil, nil, fmt.Errorf("line %d: unknown event %q", i+1, e.Event)
		}
	}
	return blocked, loaded, nil
}

// syncBuffer collects a server log written concurrently.
type syncBuffer = testserver.SyncBuffer

// fakeToolkits are the toolkits whose calls patchbay sends to the fake app,
// each under a path prefix of its slug: --upstream-override
// github=<fake>/github makes GET /user reach the fake as GET /github/user.
var fakeToolkits = []string{"github", "serpapi"}

// The OAuth flows connect oauthToolkit through the test provider, as the
// operator's managed app with these client credentials.
const (
	oauthToolkit      = "gitlab"
	oauthClientID     = "compat-oauth-client"
	oauthClientSecret = "compat-oauth-SECRET-2f9c41"
)

// fakeApp stands in for the third-party apps on loopback. It records every
// request patchbay sends it and answers what the flow scripted. The flows
// drive it over its control endpoints, under /__fake/ and only with the
// header X-Fake-Control: <token>; patchbay never knows the token, so
// nothing patchbay sends can script the fake or read its records (a
// request to /__fake/ without the token is recorded like any other).
//
//	POST /__fake/script  {"method","path","status","headers":{k:v},"body":<JSON>}
//	                     answers METHOD path (the escaped path, query
//	                     ignored) so from now on; 204
//	POST /__fake/take    the requests received since the last take or
//	                     reset, oldest first, and forgets them
//	POST /__fake/reset   forgets every script and request
//
// An unscripted request is answered 404 with a JSON message that names it.
// The flows of one server run one after another, so they share its fake
// without overlapping.
type fakeApp struct {
	srv   *httptest.Server
	token string

	mu       sync.Mutex
	scripts  map[string]fakeAnswer // "METHOD /escaped/path"
	received []fakeRequest
}

// fakeAnswer is one scripted answer.
type fakeAnswer struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// fakeRequest is one request as the fake received it. Header names are
// lower-case.
type fakeRequest struct {
	Method   string              `json:"method"`
	Path     string              `json:"path"` // escaped, as sent
	RawQuery string              `json:"rawQuery"`
	Query    map[string][]string `json:"query"`
	Headers  map[string][]string `json:"headers"`
	Body     string              `json:"body"`
}

const fakeControlPrefix = "/__fake/"

func startFakeApp(t *testing.T) *fakeApp {
	t.Helper()
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		t.Fatal(err)
	}
	f := &fakeApp{token: hex.EncodeToString(tok[:]), scripts: map[string]fakeAnswer{}}
	f.srv = httptest.NewServer(f) // listens on 127.0.0.1
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if strings.HasPrefix(r.URL.Path, fakeControlPrefix) && r.Header.Get("X-Fake-Control") == f.token {
		f.control(w, r, body)
		return
	}
	rec := fakeRequest{
		Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Query: r.URL.Query(), Headers: map[string][]string{}, Body: string(body),
	}
	for k, vs := range r.Header {
		rec.Headers[strings.ToLower(k)] = vs
	}
	f.mu.Lock()
	f.received = append(f.received, rec)
	a, ok := f.scripts[r.Method+" "+rec.Path]
	f.mu.Unlock()
	if !ok {
		writeFakeJSON(w, http.StatusNotFound, map[string]string{"message": "fake app: nothing scripted for " + r.Method + " " + rec.Path})
		return
	}
	for k, v := range a.Headers {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(a.Status)
	if len(a.Body) > 0 {
		w.Write(a.Body)
	}
}

func (f *fakeApp) control(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		writeFakeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": "POST only"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch strings.TrimPrefix(r.URL.Path, fakeControlPrefix) {
	case "script":
		var a fakeAnswer
		if err := json.Unmarshal(body, &a); err != nil || a.Method == "" || !strings.HasPrefix(a.Path, "/") {
			writeFakeJSON(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("a script is {method, path, status, headers, body} (%v)", err)})
			return
		}
		if a.Status == 0 {
			a.Status = http.StatusOK
		}
		a.Method = strings.ToUpper(a.Method)
		f.scripts[a.Method+" "+a.Path] = a
		w.WriteHeader(http.StatusNoContent)
	case "take":
		got := f.received
		if got == nil {
			got = []fakeRequest{}
		}
		f.received = nil
		writeFakeJSON(w, http.StatusOK, got)
	case "reset":
		f.scripts, f.received = map[string]fakeAnswer{}, nil
		w.WriteHeader(http.StatusNoContent)
	default:
		writeFakeJSON(w, http.StatusNotFound, map[string]string{"message": "unknown control endpoint " + r.URL.Path})
	}
}

func writeFakeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
