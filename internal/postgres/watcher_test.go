package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/postgres"
	"github.com/patchbay-dev/patchbay/internal/storetest"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

// heartbeat is short so that losing and regaining the listener takes
// tenths of a second.
const heartbeat = 100 * time.Millisecond

// evictions records a Watcher's callbacks. The NOTIFY channel is per
// database, not per schema, so a watcher may also hear revocations from
// tests running elsewhere against the same database: assertions ask
// whether an ID was evicted, never for the exact list.
type evictions struct {
	mu  sync.Mutex // guards ids
	ids []string
}

func (e *evictions) evict(id string) { e.mu.Lock(); e.ids = append(e.ids, id); e.mu.Unlock() }
func (e *evictions) evictAll()       {}

func (e *evictions) has(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Contains(e.ids, id)
}

// logRecorder keeps the messages of the records logged through it.
type logRecorder struct {
	mu   sync.Mutex // guards msgs
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	msg := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	l.msgs = append(l.msgs, msg)
	return nil
}

func (l *logRecorder) warnings() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, m := range l.msgs {
		if strings.HasPrefix(m, "WARN") {
			out = append(out, m)
		}
	}
	return out
}

// eventually polls cond until it holds, failing t after within.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// instance is a patchbay instance under test: its store and its watcher.
type instance struct {
	store   *postgres.Store
	watcher *postgres.Watcher
	ev      *evictions
	log     *logRecorder
	appName string // the application_name its connections carry
}

// newInstance opens a store on dbURL, its connections named so that
// pg_stat_activity tells them apart, with a watcher not yet started.
func newInstance(t *testing.T, dbURL string) *instance {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	in := &instance{ev: &evictions{}, log: &logRecorder{}, appName: "patchbay_watcher_test_" + hex.EncodeToString(b)}
	in.store = MustOpen(t, withParam(t, dbURL, "application_name", in.appName))
	in.watcher = in.store.NewWatcher(slog.New(in.log))
	in.watcher.Heartbeat = heartbeat
	t.Cleanup(func() { in.watcher.Close() })
	return in
}

func (in *instance) start(t *testing.T) {
	t.Helper()
	if err := in.watcher.Start(context.Background(), in.ev.evict, in.ev.evictAll); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

// listener returns the backend PID of the watcher's listening connection
// and when it last ran a statement, waiting while there is none (the
// watcher is reconnecting). The listening connection is the one of the
// instance whose last statement was LISTEN or a heartbeat ping (pgx pings
// with "-- ping"); the instance's pool runs neither after Start.
func (in *instance) listener(t *testing.T, admin *sql.DB) (pid int, lastStatement time.Time) {
	t.Helper()
	var n int
	eventually(t, 5*time.Second, "one listening connection", func() bool {
		rows, err := admin.Query(`SELECT pid, query_start FROM pg_stat_activity
			WHERE application_name = $1 AND (query LIKE 'LISTEN %' OR query = '-- ping')`, in.appName)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for n = 0; rows.Next(); n++ {
			if err := rows.Scan(&pid, &lastStatement); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n > 1 {
			t.Fatalf("found %d listening connections of the watcher, want 1", n)
		}
		return n == 1
	})
	return pid, lastStatement
}

func withParam(t *testing.T, dbURL, key, value string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func revoke(t *testing.T, s patchbay.Store, k *patchbay.APIKey) {
	t.Helper()
	if _, err := s.RevokeAPIKey(context.Background(), k.OrgID, k.ProjectID, k.ID, k.CreatedBy, time.Now()); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
}

func TestWatcherEvictsRevocationsFromOtherInstances(t *testing.T) {
	dbURL := testdb.PostgresURL(t)
	other := MustOpen(t, dbURL)
	if err := other.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	k := storetest.MustAPIKey(t, other)
	in := newInstance(t, dbURL)
	in.start(t)
	if !in.watcher.Sync(context.Background()) {
		t.Fatal("Sync = false right after Start, want true")
	}

	revoke(t, other, k)
	eventually(t, time.Second, "evict "+k.ID, func() bool { return in.ev.has(k.ID) })
	if !in.watcher.Sync(context.Background()) {
		t.Error("Sync = false while listening, want true")
	}
}

// TestWatcherHeartbeatKeepsConnection checks that a heartbeat, which ends
// WaitForNotification by its context's deadline, leaves the connection
// usable: the same backend keeps listening across heartbeats, rather than
// the watcher reconnecting (and going deaf) every heartbeat. A ping slower
// than a heartbeat does drop the connection, which a loaded machine can
// cause now and then; so the test waits for three heartbeats in a row on
// one backend, and fails only if it never sees them.
func TestWatcherHeartbeatKeepsConnection(t *testing.T) {
	dbURL := testdb.PostgresURL(t)
	other := MustOpen(t, dbURL)
	if err := other.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	admin := other.SQL()
	in := newInstance(t, dbURL)
	in.start(t)

	pid, last := in.listener(t, admin)
	pings := 0
	deadline := time.Now().Add(50 * heartbeat)
	for pings < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the listening connection never lasted three heartbeats; log: %q", in.log.warnings())
		}
		time.Sleep(heartbeat / 10)
		p, at := in.listener(t, admin)
		switch {
		case p != pid:
			pid, last, pings = p, at, 0
		case !at.Equal(last):
			last, pings = at, pings+1
		}
	}

	// The connection still delivers notifications after the timeouts.
	k := storetest.MustAPIKey(t, other)
	revoke(t, other, k)
	eventually(t, time.Second, "evict "+k.ID, func() bool { return in.ev.has(k.ID) })
}

// TestWatcherFailsClosedAndCatchesUp kills the listening connection and
// keeps the watcher from reconnecting while a key is revoked elsewhere:
// Sync must say false (so every request reads the store) until the watcher
// listens again, and by the time it says true the key must be evicted,
// though its notification went to nobody.
func TestWatcherFailsClosedAndCatchesUp(t *testing.T) {
	ctx := context.Background()
	dbURL := testdb.PostgresURL(t)
	other := MustOpen(t, dbURL)
	if err := other.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	admin := other.SQL()
	k1, k2 := storetest.MustAPIKey(t, other), storetest.MustAPIKey(t, other)

	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.addr()
	in := newInstance(t, u.String())
	in.start(t)

	// Retried in case a slow heartbeat made the watcher reconnect between
	// finding its backend and terminating it.
	var pid int
	for terminated := false; !terminated; {
		p.setRefusing(false)
		pid, _ = in.listener(t, admin)
		p.setRefusing(true)
		if err := admin.QueryRow(`SELECT pg_terminate_backend($1)`, pid).Scan(&terminated); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 3*heartbeat+time.Second, "Sync false after the listener died", func() bool {
		return !in.watcher.Sync(ctx)
	})

	revoke(t, other, k1)
	if in.watcher.Sync(ctx) {
		t.Fatal("Sync = true while the watcher cannot connect, want false")
	}
	if in.ev.has(k1.ID) {
		t.Fatal("evicted a key whose notification nobody heard: the watcher was not deaf")
	}

	p.setRefusing(false)
	eventually(t, 10*time.Second, "Sync true after reconnecting", func() bool {
		return in.watcher.Sync(ctx)
	})
	if !in.ev.has(k1.ID) {
		t.Fatalf("Sync = true before %s, revoked while the watcher was deaf, was evicted", k1.ID)
	}
	if newPID, _ := in.listener(t, admin); newPID == pid {
		t.Errorf("listening backend is still %d, which was terminated", pid)
	}
	if len(in.log.warnings()) == 0 {
		t.Error("losing the listener logged no warning")
	}

	// The new connection hears notifications.
	revoke(t, other, k2)
	eventually(t, time.Second, "evict "+k2.ID, func() bool { return in.ev.has(k2.ID) })
}

func TestWatcherStartFails(t *testing.T) {
	dbURL := testdb.PostgresURL(t)
	other := MustOpen(t, dbURL)
	if err := other.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.addr()
	in := newInstance(t, u.String())
	p.setRefusing(true) // the pool keeps its connection; the listener gets none
	if err := in.watcher.Start(context.Background(), in.ev.evict, in.ev.evictAll); err == nil {
		t.Fatal("Start without a listening connection succeeded, want an error")
	}
	if in.watcher.Sync(context.Background()) {
		t.Error("Sync = true after a failed Start, want false")
	}
}

func TestWatcherSyncAfterClose(t *testing.T) {
	in := newInstance(t, testdb.PostgresURL(t))
	if err := in.store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	in.start(t)
	if !in.watcher.Sync(context.Background()) {
		t.Fatal("Sync = false right after Start, want true")
	}
	if err := in.watcher.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if in.watcher.Sync(context.Background()) {
		t.Error("Sync = true after Close, want false")
	}
	if err := in.watcher.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// proxy forwards TCP connections to a server. While refusing, it closes
// new connections at once, as a network that lets nothing through would;
// connections made before stay up.
type proxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex // guards refusing and conns
	refusing bool
	conns    []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) setRefusing(v bool) {
	p.mu.Lock()
	p.refusing = v
	p.mu.Unlock()
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refusing := p.refusing
		p.mu.Unlock()
		if refusing {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		go pipe(s, c)
		go pipe(c, s)
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}
