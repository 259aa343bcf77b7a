package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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

// evictions records a Watcher's callbacks: key IDs, and "*" for an
// evictAll. The NOTIFY channel is per database, not per schema, so a
// watcher may also hear revocations from tests running elsewhere against
// the same database: assertions ask whether an ID was evicted, never for
// the exact list.
type evictions struct {
	mu  sync.Mutex // guards ids
	ids []string
}

func (e *evictions) evict(id string) { e.mu.Lock(); e.ids = append(e.ids, id); e.mu.Unlock() }
func (e *evictions) evictAll()       { e.evict("*") }

// has reports whether id itself was evicted.
func (e *evictions) has(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Contains(e.ids, id)
}

// mark is a position in the record, for coveredSince.
func (e *evictions) mark() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.ids)
}

// coveredSince reports whether id was evicted, alone or with everything,
// after mark.
func (e *evictions) coveredSince(mark int, id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Contains(e.ids[mark:], id) || slices.Contains(e.ids[mark:], "*")
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
// instance whose last statement was LISTEN: after its LISTENs it only
// waits for notifications, and no other connection of the instance
// listens.
func (in *instance) listener(t *testing.T, admin *sql.DB) (pid int, lastStatement time.Time) {
	t.Helper()
	var n int
	eventually(t, 5*time.Second, "one listening connection", func() bool {
		rows, err := admin.Query(`SELECT pid, query_start FROM pg_stat_activity
			WHERE application_name = $1 AND query LIKE 'LISTEN %'`, in.appName)
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

// TestWatcherHeartbeatKeepsConnection checks that heartbeats, whose
// notifications come back through the listener while WaitForNotification
// also ends by its context's deadline, leave the listening connection
// usable: the same backend keeps listening while the lease is renewed,
// rather than the watcher reconnecting (and going deaf) every heartbeat.
// A heartbeat out for two leases does replace the connection, which a
// loaded machine can cause now and then; so the test waits for five
// renewals in a row on one backend, and fails only if it never sees them.
func TestWatcherHeartbeatKeepsConnection(t *testing.T) {
	dbURL := testdb.PostgresURL(t)
	other := MustOpen(t, dbURL)
	if err := other.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	admin := other.SQL()
	in := newInstance(t, dbURL)
	in.start(t)

	lease := func() time.Time {
		var at time.Time
		if err := admin.QueryRow(`SELECT lease_expires_at FROM instances WHERE id = $1`, in.watcher.InstanceID()).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	pid, _ := in.listener(t, admin)
	last := lease()
	renewals := 0
	deadline := time.Now().Add(50 * heartbeat)
	for renewals < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("the listening connection never lasted five renewals; log: %q", in.log.warnings())
		}
		time.Sleep(heartbeat / 10)
		p, _ := in.listener(t, admin)
		at := lease()
		switch {
		case p != pid:
			pid, last, renewals = p, at, 0
		case at.After(last):
			last, renewals = at, renewals+1
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
// listens again, and by the time it says true the key must be evicted
// (with the whole cache), though its notification went to nobody.
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

	mark := in.ev.mark()
	revoke(t, other, k1)
	if in.watcher.Sync(ctx) {
		t.Fatal("Sync = true while the watcher cannot connect, want false")
	}
	if in.ev.coveredSince(mark, k1.ID) {
		t.Fatal("evicted a key whose notification nobody heard: the watcher was not deaf")
	}

	p.setRefusing(false)
	eventually(t, 10*time.Second, "Sync true after reconnecting", func() bool {
		return in.watcher.Sync(ctx)
	})
	if !in.ev.coveredSince(mark, k1.ID) {
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
// connections made before stay up. While frozen, it stops forwarding on
// the connections concerned (all, or only those that sent LISTEN) in both
// directions without closing them, as a silent partition does; new
// connections are accepted and frozen too.
type proxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex // guards the fields below
	refusing bool
	frozen   freeze
	thawed   chan struct{} // closed when the current freeze ends
	conns    []*proxyConn
}

type freeze int

const (
	notFrozen freeze = iota
	freezeAll
	freezeListeners
)

type proxyConn struct {
	client, server net.Conn
	listener       atomic.Bool // the client sent LISTEN
}

func (pc *proxyConn) close() { pc.client.Close(); pc.server.Close() }

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, thawed: make(chan struct{})}
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

// freeze stops forwarding on the connections f concerns.
func (p *proxy) freeze(f freeze) {
	p.mu.Lock()
	p.frozen = f
	p.mu.Unlock()
}

// thaw forwards again, after closing the frozen connections (as a
// partition that lasted past TCP's patience would) if kill is set.
func (p *proxy) thaw(kill bool) {
	p.mu.Lock()
	f := p.frozen
	p.frozen = notFrozen
	close(p.thawed)
	p.thawed = make(chan struct{})
	var frozen []*proxyConn
	for _, pc := range p.conns {
		if f == freezeAll || (f == freezeListeners && pc.listener.Load()) {
			frozen = append(frozen, pc)
		}
	}
	p.mu.Unlock()
	if kill {
		for _, pc := range frozen {
			pc.close()
		}
	}
}

// gate returns once pc may forward.
func (p *proxy) gate(pc *proxyConn) {
	for {
		p.mu.Lock()
		held := p.frozen == freezeAll || (p.frozen == freezeListeners && pc.listener.Load())
		thawed := p.thawed
		p.mu.Unlock()
		if !held {
			return
		}
		<-thawed
	}
}

var listenBytes = []byte("LISTEN ")

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
		pc := &proxyConn{client: c, server: s}
		p.mu.Lock()
		p.conns = append(p.conns, pc)
		p.mu.Unlock()
		go p.pipe(pc, c, s, true)
		go p.pipe(pc, s, c, false)
	}
}

func (p *proxy) pipe(pc *proxyConn, from, to net.Conn, fromClient bool) {
	defer pc.close()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			// The simple-protocol LISTEN is sent whole in one write.
			if fromClient && bytes.Contains(buf[:n], listenBytes) {
				pc.listener.Store(true)
			}
			p.gate(pc)
			if _, err := to.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.thaw(true)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pc := range p.conns {
		pc.close()
	}
}
