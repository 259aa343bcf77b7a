package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// This file holds what BenchmarkProxy (proxy_bench_test.go) and its unit
// test share: the fake app (bench/internal/upstream) and its counters,
// nginx as a child process with a generated config, `patchbay serve`
// pointed at the app and seeded through the HTTP API, the four ways of
// calling the app, and a check of each answer against the app's body.

// nginxBin is Debian's nginx (apt-get install -y nginx).
const nginxBin = "/usr/sbin/nginx"

// proxyUser is the user whose GitHub account the measured calls use.
const proxyUser = "bench-user"

// proxyBins are the programs BenchmarkProxy runs.
type proxyBins struct {
	patchbay  string // the patchbay command
	upstream  string // bench/internal/upstream
	pbprof    string // bench/internal/pbprof, "" unless asked for
	goproxy   string // bench/internal/goproxy
	fastproxy string // bench/internal/fastproxy
}

// mustBuildProxy compiles the patchbay command and the fake app, and
// bench/internal/pbprof if profiled, into a temporary directory.
func mustBuildProxy(tb testing.TB, profiled bool) proxyBins {
	tb.Helper()
	dir := tb.TempDir()
	pkgs := []string{"github.com/patchbay-dev/patchbay/cmd/patchbay", "github.com/patchbay-dev/patchbay/bench/internal/upstream",
		"github.com/patchbay-dev/patchbay/bench/internal/goproxy", "github.com/patchbay-dev/patchbay/bench/internal/fastproxy"}
	if profiled {
		pkgs = append(pkgs, "github.com/patchbay-dev/patchbay/bench/internal/pbprof")
	}
	cmd := exec.Command("go", append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	bins := proxyBins{patchbay: filepath.Join(dir, "patchbay"), upstream: filepath.Join(dir, "upstream"), goproxy: filepath.Join(dir, "goproxy"),
		fastproxy: filepath.Join(dir, "fastproxy")}
	if profiled {
		bins.pbprof = filepath.Join(dir, "pbprof")
	}
	return bins
}

// upstreamStats are the fake app's counters (bench/internal/upstream's
// Stats).
type upstreamStats struct {
	Accepted     int64 `json:"accepted"`
	Open         int64 `json:"open"`
	Requests     int64 `json:"requests"`
	Unauthorized int64 `json:"unauthorized"`
}

func (s upstreamStats) minus(o upstreamStats) upstreamStats {
	return upstreamStats{s.Accepted - o.Accepted, s.Open, s.Requests - o.Requests, s.Unauthorized - o.Unauthorized}
}

// app is the started fake app.
type app struct {
	*server
	token string
	stats string // URL of its counters
	body  []byte // what it answers an authorized request
}

// mustStartApp starts bench/internal/upstream with a bearer token and its
// counters on a second port.
func mustStartApp(tb testing.TB, bin string) *app {
	tb.Helper()
	a := &app{token: "ghp_bench0123456789abcdefghijklmnopqrstuv", stats: "http://" + freeAddr(tb) + "/stats"}
	a.server = MustStart(tb, "upstream", bin, "--token", a.token, "--stats-addr", strings.TrimSuffix(strings.TrimPrefix(a.stats, "http://"), "/stats"))
	out, err := exec.Command(bin, "--print-body").Output()
	if err != nil {
		tb.Fatalf("upstream --print-body: %v", err)
	}
	a.body = out
	return a
}

// statsClient reads the app's counters over a connection of its own.
var statsClient = &http.Client{Timeout: 5 * time.Second}

func (a *app) mustStats(tb testing.TB) upstreamStats {
	tb.Helper()
	resp, err := statsClient.Get(a.stats)
	if err != nil {
		tb.Fatalf("upstream stats: %v", err)
	}
	defer resp.Body.Close()
	var s upstreamStats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		tb.Fatalf("upstream stats: %v", err)
	}
	return s
}

// nginxConfig is the configuration of nginx as a reverse proxy in front
// of the app at upstream, listening on listen, with its files in dir: the
// token injected, HTTP/1.1 keep-alive to the app, no access log, and
// keep-alive limits high enough that neither side reconnects during a
// run.
func nginxConfig(dir, listen, upstream, token, workers string) string {
	return fmt.Sprintf(`daemon off;
master_process on;
worker_processes %[5]s;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    upstream app {
        server %[3]s;
        keepalive 64;
        keepalive_requests 1000000;
        keepalive_timeout 300s;
    }
    server {
        listen %[2]s;
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "Bearer %[4]s";
        }
    }
}
`, dir, listen, upstream, token, workers)
}

// nginx is a started nginx, in the foreground as a child process.
type nginx struct {
	addr, dir string
	cmd       *exec.Cmd
	exited    chan struct{}
}

// mustStartNginx runs nginx in front of a, waits until it proxies GET
// /healthz, and stops it when tb ends.
func mustStartNginx(tb testing.TB, a *app, workers string) *nginx {
	tb.Helper()
	n := &nginx{addr: freeAddr(tb), dir: tb.TempDir(), exited: make(chan struct{})}
	conf := filepath.Join(n.dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConfig(n.dir, n.addr, a.addr, a.token, workers)), 0o600); err != nil {
		tb.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(n.dir, "stderr.log"))
	if err != nil {
		tb.Fatal(err)
	}
	defer logf.Close()
	// -e: the error log before the configuration is read, which is
	// otherwise the system's.
	n.cmd = exec.Command(nginxBin, "-p", n.dir, "-c", conf, "-e", filepath.Join(n.dir, "error.log"))
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workers with it
	if err := n.cmd.Start(); err != nil {
		tb.Fatalf("start nginx: %v", err)
	}
	go func() { n.cmd.Wait(); close(n.exited) }()
	tb.Cleanup(n.stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + n.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n
			}
		}
		select {
		case <-n.exited:
			tb.Fatalf("nginx exited before answering\n%s", n.logTail())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("nginx did not proxy /healthz within 10s (%v)\n%s", err, n.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends nginx quickly (SIGTERM to the master, which stops its
// workers), and kills its process group if it lingers.
func (n *nginx) stop() {
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		<-n.exited
	}
}

func (n *nginx) logTail() string {
	var out []byte
	for _, f := range []string{"stderr.log", "error.log"} {
		b, _ := os.ReadFile(filepath.Join(n.dir, f))
		out = append(out, b...)
	}
	if len(out) > 4000 {
		out = out[len(out)-4000:]
	}
	return string(out)
}

// proxySetup is `patchbay serve` pointed at the app and seeded.
type proxySetup struct {
	pb        *server
	key       string
	accountID string // proxyUser's GitHub account
	others    int    // other connected accounts
	users     int    // distinct users of the other accounts
	seeded    time.Duration
}

// mustStartPatchbay starts `patchbay serve` (or, with bins.pbprof and a
// profile file, bench/internal/pbprof) with GitHub's base URL replaced by
// the app's and loopback allowed, creates an API key, and seeds through
// the HTTP API: others connected accounts besides proxyUser's, a tenth of
// them GitHub bearer-token accounts of other users on the same auth
// config, the rest spread over four API-key toolkits (seedReads), all
// over users users; then proxyUser's GitHub account with a's token.
func mustStartPatchbay(tb testing.TB, bins proxyBins, profile string, a *app, others, users int) *proxySetup {
	tb.Helper()
	dataDir := filepath.Join(tb.TempDir(), "data")
	s := &proxySetup{key: MustCreateKey(tb, bins.patchbay, dataDir)}
	flags := []string{"--data-dir", dataDir, "--upstream-override", "github=http://" + a.addr, "--outbound-allow-host", "127.0.0.1"}
	if profile != "" {
		s.pb = MustStart(tb, "patchbay", bins.pbprof, append(flags, "--cpuprofile", profile)...)
	} else {
		s.pb = MustStart(tb, "patchbay", bins.patchbay, append([]string{"serve"}, flags...)...)
	}
	t0 := time.Now()
	c := &connClient{base: s.pb.url(""), key: s.key, http: newLoadgen(8).client}
	defer c.http.CloseIdleConnections()
	github := others / 10
	d := seedReads(tb, c, readsSize{accounts: others - github, users: users})
	s.others, s.users = len(d.accounts), d.users

	status, body, err := c.do("POST", "/api/v3.1/auth_configs", map[string]any{
		"toolkit":     map[string]string{"slug": "github"},
		"auth_config": map[string]any{"type": "use_custom_auth", "authScheme": "BEARER_TOKEN", "credentials": map[string]any{}},
	})
	if err != nil || status != http.StatusCreated {
		tb.Fatalf("POST /api/v3.1/auth_configs (github): %d %s %v", status, body, err)
	}
	var ac struct {
		AuthConfig struct{ ID string } `json:"auth_config"`
	}
	if err := json.Unmarshal(body, &ac); err != nil || ac.AuthConfig.ID == "" {
		tb.Fatalf("POST /api/v3.1/auth_configs: no auth_config.id in %s (%v)", body, err)
	}
	connect := func(user, token string) string {
		status, body, err := c.do("POST", "/api/v3.1/connected_accounts", map[string]any{
			"auth_config": map[string]string{"id": ac.AuthConfig.ID},
			"connection": map[string]any{
				"user_id": user,
				"state":   map[string]any{"authScheme": "BEARER_TOKEN", "val": map[string]any{"status": "ACTIVE", "token": token}},
			},
		})
		var out struct{ ID, Status string }
		if err == nil && status == http.StatusCreated {
			err = json.Unmarshal(body, &out)
		}
		if err != nil || status != http.StatusCreated || out.ID == "" || out.Status != "ACTIVE" {
			tb.Fatalf("POST /api/v3.1/connected_accounts (github, %s): %d %s %v", user, status, body, err)
		}
		return out.ID
	}
	// Other users' GitHub accounts: the seeded users, so the execute
	// lookup by user and toolkit filters a table holding both.
	for i := range github {
		connect(fmt.Sprintf("user-%03d", i%max(users, 1)), fmt.Sprintf("ghp_other%06d_0123456789abcdefghijklmnop", i))
	}
	s.others += github
	s.accountID = connect(proxyUser, a.token)
	s.seeded = time.Since(t0)
	return s
}

// proxyTarget is one way of calling the app.
type proxyTarget struct {
	name   string // as the table prints it
	metric string // short name, for reported metrics
	method string
	url    string
	header http.Header
	body   []byte
	// unwrap returns the app's answer inside this way's answer.
	unwrap func(body []byte) ([]byte, error)
}

// proxyTargets are the four ways, in the order of the table; nginx is
// left out when n is nil.
func proxyTargets(a *app, n *nginx, floors []*server, s *proxySetup) []proxyTarget {
	bearer := http.Header{"Authorization": {"Bearer " + a.token}}
	pbHeader := http.Header{"X-Api-Key": {s.key}, "Content-Type": {"application/json"}}
	proxyBody, _ := json.Marshal(map[string]any{"connected_account_id": s.accountID, "endpoint": "/x", "method": "GET", "parameters": []any{}})
	execBody, _ := json.Marshal(map[string]any{"user_id": proxyUser, "arguments": map[string]any{}})
	ts := []proxyTarget{{name: "direct", metric: "direct", method: "GET", url: a.url("/x"), header: bearer, unwrap: asIs}}
	if n != nil {
		ts = append(ts, proxyTarget{name: "nginx", metric: "nginx", method: "GET", url: "http://" + n.addr + "/x", unwrap: asIs})
	}
	for _, f := range floors {
		ts = append(ts, proxyTarget{name: floorNames[f.name], metric: f.name, method: "GET", url: f.url("/x"), unwrap: asIs})
	}
	return append(ts,
		proxyTarget{name: "patchbay proxy", metric: "proxy", method: "POST", url: s.pb.url("/api/v3.1/tools/execute/proxy"),
			header: pbHeader, body: proxyBody, unwrap: unwrapProxy},
		proxyTarget{name: "patchbay execute", metric: "execute", method: "POST", url: s.pb.url("/api/v3.1/tools/execute/GITHUB_GET_THE_AUTHENTICATED_USER"),
			header: pbHeader, body: execBody, unwrap: unwrapExecute},
	)
}

// floorNames are the table's names of the floor proxies, by command.
var floorNames = map[string]string{"goproxy": "Go net/http proxy", "fastproxy": "fasthttp proxy"}

func asIs(body []byte) ([]byte, error) { return body, nil }

// unwrapProxy takes the app's answer out of the v3.1 proxy's: status 200
// and data.
func unwrapProxy(body []byte) ([]byte, error) {
	var out struct {
		Status int             `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	if out.Status != http.StatusOK {
		return nil, fmt.Errorf("the app answered %d through the proxy (no token injected?)", out.Status)
	}
	return out.Data, nil
}

// unwrapExecute takes the app's answer out of a tool execution's:
// successful and data.
func unwrapExecute(body []byte) ([]byte, error) {
	var out struct {
		Successful bool            `json:"successful"`
		Error      *string         `json:"error"`
		Data       json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	if !out.Successful {
		return nil, fmt.Errorf("not successful: %s", str(out.Error))
	}
	return out.Data, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// do sends t's request once and returns the answer's body, which must be
// a 200.
func (t proxyTarget) do(c *http.Client) ([]byte, error) {
	req, err := http.NewRequest(t.method, t.url, bytes.NewReader(t.body))
	if err != nil {
		return nil, err
	}
	req.Header = t.header.Clone()
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Status, clip(body))
	}
	return body, nil
}

// check calls the app t's way and compares what comes back with the app's
// body: byte for byte from the app and nginx, as the same JSON value from
// patchbay, which decodes and re-encodes it.
func (t proxyTarget) check(c *http.Client, want []byte) error {
	body, err := t.do(c)
	if err != nil {
		return err
	}
	got, err := t.unwrap(body)
	if err != nil {
		return fmt.Errorf("%v\n%s", err, clip(body))
	}
	if t.body == nil {
		if !bytes.Equal(got, want) {
			return fmt.Errorf("answered %d bytes, not the app's %d\n%s", len(got), len(want), clip(got))
		}
		return nil
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		return fmt.Errorf("data: %v\n%s", err, clip(body))
	}
	if err := json.Unmarshal(want, &w); err != nil {
		return err
	}
	if !reflect.DeepEqual(g, w) {
		return fmt.Errorf("data is not the app's body\n%s", clip(got))
	}
	return nil
}

// mustCheckApp checks that the app refuses a request without its token,
// so that a 200 through a proxy proves the proxy injected it.
func mustCheckApp(tb testing.TB, a *app) {
	tb.Helper()
	resp, err := http.Get(a.url("/x"))
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		tb.Fatalf("the app answered %s without a token, want 401", resp.Status)
	}
}

// TestProxy checks, without load, what BenchmarkProxy relies on: the app
// refuses a call without its token, and answers its body directly, through
// patchbay's proxy and through tool execution, patchbay injecting the
// connected account's token (seeded small: 40 other accounts); nginx's
// generated configuration holds the proxying directives, and, when nginx
// is installed, passes nginx -t. It measures nothing.
func TestProxy(t *testing.T) {
	bins := mustBuildProxy(t, false)
	a := mustStartApp(t, bins.upstream)
	if len(a.body) < 900 || len(a.body) > 1200 {
		t.Errorf("the app's body is %d bytes, want about 1 KB", len(a.body))
	}
	mustCheckApp(t, a)
	s := mustStartPatchbay(t, bins, "", a, 40, 8)
	if s.others != 40 {
		t.Errorf("%d other accounts, want 40", s.others)
	}
	c := newLoadgen(1).client
	defer c.CloseIdleConnections()
	before := a.mustStats(t)
	targets := proxyTargets(a, nil, nil, s)
	for _, tg := range targets {
		if err := tg.check(c, a.body); err != nil {
			t.Errorf("%s: %v", tg.name, err)
		}
	}
	if d := a.mustStats(t).minus(before); d.Requests != int64(len(targets)) || d.Unauthorized != 0 {
		t.Errorf("the app answered %d requests (%d unauthorized), want %d (0)", d.Requests, d.Unauthorized, len(targets))
	}

	dir := t.TempDir()
	conf := nginxConfig(dir, "127.0.0.1:1", a.addr, a.token, "2")
	for _, want := range []string{"daemon off;", "pid " + dir + "/nginx.pid;", "error_log " + dir + "/error.log", "listen 127.0.0.1:1;",
		"server " + a.addr + ";", "keepalive 64;", "proxy_http_version 1.1;", `proxy_set_header Connection "";`,
		`proxy_set_header Authorization "Bearer ` + a.token + `";`, "proxy_pass http://app;"} {
		if !strings.Contains(conf, want) {
			t.Errorf("nginx config lacks %q", want)
		}
	}
	if _, err := os.Stat(nginxBin); errors.Is(err, os.ErrNotExist) {
		return // BenchmarkProxy skips without nginx; so does this check
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, nginxBin, "-t", "-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log")).CombinedOutput(); err != nil {
		t.Errorf("nginx -t: %v\n%s", err, out)
	}
}
