package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx", to inspect PostgreSQL schemas

	"github.com/patchbay-dev/patchbay/internal/config"
	"github.com/patchbay-dev/patchbay/internal/logging"
	"github.com/patchbay-dev/patchbay/internal/sqlite"
)

// TestStartRefusesBadAddress: the address is bound before anything else, so
// a bad or busy address fails without creating the data dir.
func TestStartRefusesBadAddress(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, addr := range []string{"nonsense", "127.0.0.1:99999", "127.0.0.1:-1", ":http-alt-nonsense", busy.Addr().String()} {
		dir := filepath.Join(t.TempDir(), "data")
		var logs syncBuffer
		log, _ := logging.New(&logs, logging.Options{})
		r, err := startServer(context.Background(), config.Config{Addr: addr, DataDir: dir}, log)
		if err == nil {
			r.Shutdown(context.Background())
			t.Fatalf("startServer(%q) started", addr)
		}
		if !strings.Contains(err.Error(), "cannot listen on "+addr) {
			t.Errorf("startServer(%q) = %v, want it to name the address", addr, err)
		}
		if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
			t.Errorf("startServer(%q) failed but created the data dir: %v", addr, dirEntries(t, dir))
		}
	}
	// Through the command line too: exit 1, nothing created.
	dir := filepath.Join(t.TempDir(), "data")
	r := runCLI(t, env{"PATCHBAY_DATA_DIR": dir, "PATCHBAY_ADDR": busy.Addr().String()}, "serve")
	if r.code != exitError || !strings.Contains(r.stderr, "cannot listen on "+busy.Addr().String()) {
		t.Fatalf("serve on a busy address: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("serve on a busy address created the data dir")
	}
}

// TestStartRefusesUnreachableDatabase: the error names the database without
// its password, wherever the password was in the URL.
func TestStartRefusesUnreachableDatabase(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"postgres://u:hunter2@127.0.0.1:1/x",
		"postgres://u@127.0.0.1:1/x?sslmode=disable&password=hunter2",
		"postgresql://u:hunter2@127.0.0.1:1/x?sslpassword=hunter2",
	} {
		dir := filepath.Join(t.TempDir(), "data")
		var logs syncBuffer
		log, _ := logging.New(&logs, logging.Options{Level: "debug"})
		cfg := config.Config{Addr: "127.0.0.1:0", DataDir: dir, DatabaseURL: url, RootKey: newRootKey(t)}
		r, err := startServer(context.Background(), cfg, log)
		if err == nil {
			r.Shutdown(context.Background())
			t.Fatalf("started on %s", url)
		}
		msg := err.Error()
		if !strings.Contains(msg, "database postgres") || !strings.Contains(msg, "@127.0.0.1:1/x") || !strings.Contains(msg, "is unreachable") {
			t.Errorf("error %q does not name the database", msg)
		}
		if strings.Contains(msg+logs.String(), "hunter2") {
			t.Errorf("the password leaked:\nerror: %s\nlog: %s", msg, logs.String())
		}
		// With a root key, PostgreSQL needs no data dir: nothing was created.
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("unreachable database: the data dir was created")
		}

		res := runCLI(t, env{"PATCHBAY_DATA_DIR": dir, "PATCHBAY_ADDR": "127.0.0.1:0", "PATCHBAY_DATABASE_URL": url, "PATCHBAY_ROOT_KEY": newRootKey(t)}, "serve")
		if res.code != exitError || !strings.Contains(res.stderr, "is unreachable") || strings.Contains(res.stderr+res.stdout, "hunter2") {
			t.Errorf("serve with %s: exit %d, stderr %q", url, res.code, res.stderr)
		}
		res = runCLI(t, env{"PATCHBAY_DATA_DIR": dir, "PATCHBAY_DATABASE_URL": url}, "keys", "list")
		if res.code != exitError || !strings.Contains(res.stderr, "is unreachable") || strings.Contains(res.stderr+res.stdout, "hunter2") {
			t.Errorf("keys list with %s: exit %d, stderr %q", url, res.code, res.stderr)
		}
	}
}

// dbState summarizes a database for before/after comparisons: row counts of
// every table that matters, and a digest of the keyring's wrapped keys and
// sealed values (a new or rewritten term would show there).
func dbState(t testing.TB, db *sql.DB) string {
	t.Helper()
	var parts []string
	for _, table := range []string{"schema_migrations", "organizations", "members", "projects", "api_keys", "key_revocations", "audit_events", "key_terms", "secrets"} {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		parts = append(parts, fmt.Sprintf("%s=%d", table, n))
	}
	h := sha256.New()
	for _, q := range []string{`SELECT term, wrapped FROM key_terms ORDER BY term`, `SELECT term, sealed FROM secrets ORDER BY project_id, record, field`} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var term int64
			var b []byte
			if err := rows.Scan(&term, &b); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(h, "%d:%x;", term, b)
		}
		rows.Close()
	}
	return strings.Join(parts, " ") + fmt.Sprintf(" digest=%x", h.Sum(nil)[:8])
}

func sqliteState(t testing.TB, dir string) string {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "patchbay.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return dbState(t, s.SQL())
}

func postgresState(t testing.TB, url string) string {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return dbState(t, db)
}

// fileHashes hashes every file in dir except SQLite's -shm (shared memory
// index, rewritten by any reader). A -wal file is hashed too: committed
// writes not yet checkpointed would show there.
func fileHashes(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range dirEntries(t, dir) {
		if strings.HasSuffix(name, "-shm") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "-wal") && len(b) == 0 {
			continue // an empty WAL is no data
		}
		out[name] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	return out
}

func sameHashes(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// startErr starts a server that must fail, returning the error and the log.
func startErr(t *testing.T, cfg config.Config) (error, string) {
	t.Helper()
	var logs syncBuffer
	log, _ := logging.New(&logs, logging.Options{Level: "debug"})
	r, err := startServer(context.Background(), cfg, log)
	if err == nil {
		r.Shutdown(context.Background())
		t.Fatalf("server started, want a refusal\nlog:\n%s", logs.String())
	}
	return err, logs.String()
}

// TestRootKeySQLite: the first start creates a development root key (0600,
// loud warning); a wrong, malformed or missing root key is refused without
// changing a byte of the database.
func TestRootKeySQLite(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	dir := e["PATCHBAY_DATA_DIR"]
	cfg := serveConfig(t, e)

	s := startTestServer(t, cfg)
	if !regexp.MustCompile(`level=WARN msg="!!! DEVELOPMENT ONLY: created a root key file next to the database \(` + regexp.QuoteMeta(filepath.Join(dir, "root.key")) + `\)`).MatchString(s.Log.String()) {
		t.Fatalf("no loud warning about the development root key:\n%s", s.Log)
	}
	st, err := os.Stat(filepath.Join(dir, "root.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("root.key: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	rootHex, err := os.ReadFile(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.Log.String(), strings.TrimSpace(string(rootHex))) {
		t.Fatal("the root key is in the log")
	}
	if err := s.shutdown(); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, e, "projects", "create", "--name", "More")
	mustCLI(t, e, "keyring", "rotate") // two terms: every one must unwrap

	before := sqliteState(t, dir)
	hashes := fileHashes(t, dir)
	if _, ok := hashes["patchbay.db"]; !ok {
		t.Fatalf("no database file in %v", dirEntries(t, dir))
	}
	unchanged := func(what string) {
		t.Helper()
		if got := fileHashes(t, dir); !sameHashes(got, hashes) {
			t.Fatalf("%s changed the data dir:\nbefore %v\nafter  %v", what, hashes, got)
		}
		if got := sqliteState(t, dir); got != before {
			t.Fatalf("%s changed the database:\nbefore %s\nafter  %s", what, before, got)
		}
		hashes = fileHashes(t, dir) // reading the state may leave an empty WAL behind
	}

	wrong := newRootKey(t)
	err, logs := startErr(t, config.Config{Addr: "127.0.0.1:0", DataDir: dir, RootKey: wrong})
	if !strings.Contains(err.Error(), "root key does not match this database's keyring") {
		t.Fatalf("wrong root key: %v", err)
	}
	if strings.Contains(err.Error()+logs, wrong) {
		t.Fatal("the wrong root key is echoed")
	}
	unchanged("a wrong PATCHBAY_ROOT_KEY")

	keyFile := filepath.Join(t.TempDir(), "root.key")
	if err := os.WriteFile(keyFile, []byte(newRootKey(t)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err, _ = startErr(t, config.Config{Addr: "127.0.0.1:0", DataDir: dir, RootKeyFile: keyFile})
	if !strings.Contains(err.Error(), "root key does not match") {
		t.Fatalf("wrong root key file: %v", err)
	}
	unchanged("a wrong PATCHBAY_ROOT_KEY_FILE")

	malformed := strings.TrimSpace(string(rootHex))[:63]
	err, logs = startErr(t, config.Config{Addr: "127.0.0.1:0", DataDir: dir, RootKey: malformed})
	if !strings.Contains(err.Error(), "PATCHBAY_ROOT_KEY: root key must be 32 bytes") || strings.Contains(err.Error()+logs, malformed) {
		t.Fatalf("malformed root key: %v", err)
	}
	unchanged("a malformed PATCHBAY_ROOT_KEY")

	// The right key given explicitly works, without the development warning.
	e2 := e.with("PATCHBAY_ROOT_KEY", strings.TrimSpace(string(rootHex)))
	s = startTestServer(t, serveConfig(t, e2))
	if strings.Contains(s.Log.String(), "DEVELOPMENT ONLY") {
		t.Fatalf("explicit root key, yet the development warning:\n%s", s.Log)
	}
	if err := s.shutdown(); err != nil {
		t.Fatal(err)
	}
	before, hashes = sqliteState(t, dir), fileHashes(t, dir)

	// Sealed data, no root key configured, the key file gone: refuse, and do
	// not make a new key (which would orphan every sealed value).
	if err := os.Remove(filepath.Join(dir, "root.key")); err != nil {
		t.Fatal(err)
	}
	delete(hashes, "root.key")
	err, _ = startErr(t, config.Config{Addr: "127.0.0.1:0", DataDir: dir})
	if !strings.Contains(err.Error(), "this database's secrets are sealed with a root key, but none is configured") ||
		!strings.Contains(err.Error(), "PATCHBAY_ROOT_KEY") {
		t.Fatalf("missing root key: %v", err)
	}
	unchanged("a missing root key")
	if _, err := os.Stat(filepath.Join(dir, "root.key")); !os.IsNotExist(err) {
		t.Fatal("a new development root key was created for a sealed database")
	}
	// The CLI refuses the same way.
	if r := runCLI(t, e, "keys", "list"); r.code != exitError || !strings.Contains(r.stderr, "none is configured") {
		t.Fatalf("keys list without the root key: exit %d %q", r.code, r.stderr)
	}
	unchanged("the CLI without a root key")
}

// TestRootKeyPostgres: a wrong root key, or none, is refused on PostgreSQL
// without changing the schema's contents.
func TestRootKeyPostgres(t *testing.T) {
	t.Parallel()
	e := postgresEnv(t)
	url := e["PATCHBAY_DATABASE_URL"]
	s := startTestServer(t, serveConfig(t, e))
	if strings.Contains(s.Log.String(), "DEVELOPMENT ONLY") {
		t.Fatalf("explicit root key, yet the development warning:\n%s", s.Log)
	}
	if err := s.shutdown(); err != nil {
		t.Fatal(err)
	}
	before := postgresState(t, url)

	err, logs := startErr(t, config.Config{Addr: "127.0.0.1:0", DatabaseURL: url, RootKey: newRootKey(t)})
	if !strings.Contains(err.Error(), "root key does not match") {
		t.Fatalf("wrong root key: %v\n%s", err, logs)
	}
	if got := postgresState(t, url); got != before {
		t.Fatalf("a wrong root key changed the database:\nbefore %s\nafter  %s", before, got)
	}

	dir := filepath.Join(t.TempDir(), "data")
	err, _ = startErr(t, config.Config{Addr: "127.0.0.1:0", DatabaseURL: url, DataDir: dir})
	if !strings.Contains(err.Error(), "sealed with a root key, but none is configured") {
		t.Fatalf("no root key: %v", err)
	}
	if got := postgresState(t, url); got != before {
		t.Fatalf("a missing root key changed the database:\nbefore %s\nafter  %s", before, got)
	}
	if _, err := os.Stat(filepath.Join(dir, "root.key")); !os.IsNotExist(err) {
		t.Fatal("a development root key was created for a sealed PostgreSQL database")
	}
}

// TestGracefulShutdown: Shutdown closes the port at once but lets a request
// in flight finish; last-use times are flushed, so the CLI sees them after.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	key, keyID := cliKey(t, e, "--name", "used")
	_, idleID := cliKey(t, e, "--name", "idle")
	s := startTestServer(t, serveConfig(t, e))
	c := newClient(t, s.URL)

	for _, path := range []string{"/healthz", "/readyz"} {
		r := c.do("GET", path, nil, nil)
		wantJSON(t, r, 200)
	}
	if m := c.do("GET", "/healthz", nil, nil).obj(t); m["status"] != "ok" {
		t.Fatalf("/healthz = %v", m)
	}
	if m := c.do("GET", "/readyz", nil, nil).obj(t); m["status"] != "ready" {
		t.Fatalf("/readyz = %v", m)
	}
	want(t, c.do("GET", "/api/v1/api_keys", nil, h{"x-api-key", key}), 200)

	// A request whose body is still arriving when Shutdown begins.
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"name":"made-during-shutdown"}`
	fmt.Fprintf(conn, "POST /api/v1/api_keys HTTP/1.1\r\nHost: x\r\nX-API-KEY: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", key, len(body), body[:10])
	time.Sleep(50 * time.Millisecond) // let the server start reading it

	done := make(chan error, 1)
	go func() { done <- s.shutdown() }()
	waitFor(t, 5*time.Second, "the port to close", func() bool {
		c, err := net.DialTimeout("tcp", s.Addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return false
		}
		return true
	})
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) with a request in flight", err)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 201 || !strings.Contains(string(b), `"name":"made-during-shutdown"`) {
		t.Fatalf("in-flight request: %d %s", res.StatusCode, b)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after the request finished")
	}
	if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the port is still open after Shutdown")
	}

	rows := listedKeys(t, mustCLI(t, e, "keys", "list").stdout)
	if used := rows[keyID].lastUsed; used == "-" {
		t.Fatalf("last use of %s not flushed on shutdown: %+v", keyID, rows[keyID])
	} else if ts, err := time.Parse(time.RFC3339, used); err != nil || time.Since(ts) > time.Minute {
		t.Fatalf("last used %q: %v", used, err)
	}
	if rows[idleID].lastUsed != "-" {
		t.Fatalf("an unused key has a last use: %+v", rows[idleID])
	}
	if len(rows) != 3 {
		t.Fatalf("want the key made during shutdown listed: %v", rows)
	}
}

// TestServeCommand runs `patchbay serve` as main does, until its context
// ends, and checks it serves, logs its address and exits 0.
func TestServeCommand(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	e := env{"PATCHBAY_DATA_DIR": dir, "PATCHBAY_ADDR": "127.0.0.1:0", "PATCHBAY_LOG_FORMAT": "json", "PATCHBAY_ACCESS_LOG": "true"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"serve"}, e.get, &stdout, &stderr) }()

	addrRE := regexp.MustCompile(`"msg":"patchbay listening","addr":"(127\.0\.0\.1:\d+)"`)
	var addr string
	waitFor(t, 10*time.Second, "the listening log line", func() bool {
		select {
		case code := <-exit:
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		default:
		}
		m := addrRE.FindStringSubmatch(stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	c := newClient(t, "http://"+addr)
	wantJSON(t, c.do("GET", "/healthz", nil, nil), 200)
	wantJSON(t, c.do("GET", "/readyz", nil, nil), 200)
	r := c.do("GET", "/api/v1/api_keys", nil, nil)
	wantUnauthorized(t, r)
	cancel()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop when its context ended")
	}
	if stdout.String() != "" {
		t.Fatalf("serve wrote to stdout: %q", stdout.String())
	}
	for _, want := range []string{`"msg":"shutting down"`, `"msg":"request"`, `"path":"/api/v1/api_keys","status":401`, `"level":"WARN","msg":"!!! DEVELOPMENT ONLY`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("serve log lacks %s:\n%s", want, stderr.String())
		}
	}
}
