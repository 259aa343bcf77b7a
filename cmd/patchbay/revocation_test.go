package main

// Revocation across instances: two servers on one PostgreSQL schema. The
// rule (design/SECURITY.md): no request succeeds with a key after its revoke
// call has returned on the revoking instance; other instances follow as soon
// as PostgreSQL's notification arrives; an instance that cannot confirm it
// is listening checks every key against the database.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/postgres"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

// probe sends POST /api/v1/api_keys with the body "{". Authentication runs
// before the body is read and the body fails before any database work, so
// the answer is 400 when the key is accepted and 401 when it is refused,
// and costs little more than authentication itself: it samples the
// authentication decision as finely as HTTP allows.
func probe(hc *http.Client, base, key string) (int, error) {
	req, err := http.NewRequest("POST", base+"/api/v1/api_keys", bytes.NewReader([]byte("{")))
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Api-Key", key)
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 400 && res.StatusCode != 401 {
		return res.StatusCode, fmt.Errorf("probe: status %d, want 400 (accepted) or 401 (refused)", res.StatusCode)
	}
	return res.StatusCode, nil
}

func mustProbe(t testing.TB, hc *http.Client, base, key string) bool {
	t.Helper()
	st, err := probe(hc, base, key)
	if err != nil {
		t.Fatal(err)
	}
	return st == 400
}

func httpClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// TestRevocationAcrossInstances measures how long a revocation made through
// instance A takes to reach instance B, and checks that A itself accepts no
// request sent after the revoke call returned, under concurrent load.
//
// It is a latency measurement, so it does not run in parallel with the
// package's other tests (both instances and their clients share this
// process's CPUs), and it takes enough rounds that p99 is a percentile
// rather than the single worst round (with 50 it would be the maximum): with
// 100 it is the second worst, so one scheduling hiccup on a busy machine
// cannot decide it alone.
func TestRevocationAcrossInstances(t *testing.T) {
	e := postgresEnv(t)
	admin, _ := cliKey(t, e, "--name", "admin")
	a := startTestServer(t, serveConfig(t, e))
	b := startTestServer(t, serveConfig(t, e))
	ca := newClient(t, a.URL)
	t.Cleanup(ca.checkNo5xx)
	hcA, hcB := httpClient(), httpClient()
	adminHdr := h{"x-api-key", admin}

	const (
		rounds  = 100
		hammers = 4 // concurrent clients on A during each revocation
	)
	type shot struct {
		sent   time.Time
		status int
	}
	var (
		latencies                []time.Duration
		sentAfter, acceptedAfter int
		immediate                int // rounds where B's first request after T was refused
		bAccepted                int // requests B accepted after T, in all rounds
	)
	for round := 0; round < rounds; round++ {
		r := ca.do("POST", "/api/v1/api_keys", fmt.Sprintf(`{"name":"round-%d"}`, round), adminHdr)
		want(t, r, 201)
		m := r.obj(t)
		key, id := m["key"].(string), m["id"].(string)
		// Warm both caches.
		if !mustProbe(t, hcB, b.URL, key) || !mustProbe(t, hcB, b.URL, key) || !mustProbe(t, hcA, a.URL, key) {
			t.Fatalf("round %d: a new key is refused", round)
		}

		// Hammer A with the key from several goroutines, across the revoke.
		var (
			stop   = make(chan struct{})
			wg     sync.WaitGroup
			shots  = make([][]shot, hammers)
			done   atomic.Int64 // shots completed
			errsMu sync.Mutex
			errs   []error
		)
		for g := 0; g < hammers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					sent := time.Now()
					st, err := probe(hcA, a.URL, key)
					if err != nil {
						errsMu.Lock()
						errs = append(errs, err)
						errsMu.Unlock()
						return
					}
					shots[g] = append(shots[g], shot{sent, st})
					done.Add(1)
				}
			}()
		}
		waitFor(t, 5*time.Second, "the hammers to start", func() bool { return done.Load() >= hammers })

		r = ca.do("DELETE", "/api/v1/api_keys/"+id, nil, adminHdr)
		want(t, r, 200)
		revoked := time.Now() // T: the revoke call has returned
		doneAtT := done.Load()
		// Stop the hammers once each has sent a few requests after T, so
		// they do not compete with B for the CPU longer than needed.
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			deadline := time.Now().Add(5 * time.Second)
			for done.Load() < doneAtT+3*hammers && time.Now().Before(deadline) {
				time.Sleep(100 * time.Microsecond)
			}
			close(stop)
		}()

		// Poll B back to back until it refuses the key.
		first := true
		for {
			sent := time.Now()
			st, err := probe(hcB, b.URL, key)
			if err != nil {
				t.Fatal(err)
			}
			if st == 401 {
				latencies = append(latencies, sent.Sub(revoked))
				if first {
					immediate++
				}
				break
			}
			bAccepted++
			first = false
			if time.Since(revoked) > 5*time.Second {
				t.Fatalf("round %d: B still accepts the key 5 s after A revoked it", round)
			}
		}
		<-stopped
		wg.Wait()
		if len(errs) > 0 {
			t.Fatal(errs[0])
		}
		for _, gs := range shots {
			for _, s := range gs {
				if s.sent.After(revoked) {
					sentAfter++
					if s.status != 401 {
						acceptedAfter++
						t.Errorf("round %d: A accepted a request sent %v after the revoke call returned", round, s.sent.Sub(revoked))
					}
				}
			}
		}
	}
	if sentAfter < rounds*hammers {
		t.Fatalf("only %d requests were sent to A after revocations; the check is too thin", sentAfter)
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	p50, p99, worst := percentile(latencies, 50), percentile(latencies, 99), latencies[len(latencies)-1]
	t.Logf("revocation through A, seen by B, over %d revocations: p50 %v, p99 %v, max %v, min %v (latency from the revoke call's return to the send time of B's first 401; B's first request after T was already refused in %d rounds; B accepted %d requests after T in all)",
		rounds, p50, p99, worst, latencies[0], immediate, bAccepted)
	t.Logf("slowest five: %v", latencies[len(latencies)-5:])
	t.Logf("instance A under %d concurrent clients: %d requests sent after the revoke call returned, %d accepted", hammers, sentAfter, acceptedAfter)
	if acceptedAfter != 0 {
		t.Fatalf("A accepted %d requests sent after the revoke call returned", acceptedAfter)
	}
	if p99 > 100*time.Millisecond {
		t.Fatalf("cross-instance revocation p99 %v, want ≤ 100 ms", p99)
	}
}

// pgProxy forwards TCP connections to PostgreSQL and can make the
// revocation listener deaf: connections that sent "LISTEN
// patchbay_key_revoked" stop forwarding in both directions, silently, as in
// a network partition, and new LISTEN connections are cut.
type pgProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex // guards deaf, conns, listens
	deaf    bool
	conns   map[*proxyConn]bool
	listens int
}

type proxyConn struct {
	client, server net.Conn
	listener       atomic.Bool
	once           sync.Once
	killed         chan struct{}
}

func (pc *proxyConn) kill() {
	pc.once.Do(func() {
		close(pc.killed)
		pc.client.Close()
		pc.server.Close()
	})
}

var listenCommand = []byte("LISTEN patchbay_key_revoked")

func newPGProxy(t *testing.T, target string) *pgProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: target, conns: map[*proxyConn]bool{}}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for pc := range p.conns {
			pc.kill()
		}
	})
	return p
}

// url is dbURL routed through the proxy, with an application_name that
// tells this instance's connections apart in pg_stat_activity.
func (p *pgProxy) url(t *testing.T, dbURL, appName string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	q := u.Query()
	q.Set("application_name", appName)
	q.Set("sslmode", "disable") // the proxy reads the protocol to find the listener
	u.RawQuery = q.Encode()
	return u.String()
}

func (p *pgProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pc := &proxyConn{client: c, server: s, killed: make(chan struct{})}
		p.mu.Lock()
		p.conns[pc] = true
		p.mu.Unlock()
		go p.pipe(pc, c, s, true)
		go p.pipe(pc, s, c, false)
	}
}

func (p *pgProxy) pipe(pc *proxyConn, from, to net.Conn, fromClient bool) {
	defer pc.kill()
	buf := make([]byte, 32<<10)
	var tail []byte
	for {
		n, err := from.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if fromClient && !pc.listener.Load() {
				window := append(append(make([]byte, 0, len(tail)+n), tail...), chunk...)
				if bytes.Contains(window, listenCommand) {
					pc.listener.Store(true)
					p.mu.Lock()
					p.listens++
					deaf := p.deaf
					p.mu.Unlock()
					if deaf {
						return // cut: no listening while deaf
					}
				}
				tail = window[max(0, len(window)-len(listenCommand)):]
			}
			if !p.pass(pc) {
				return
			}
			if _, err := to.Write(chunk); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// pass holds a deaf listener's traffic until the connection is killed.
func (p *pgProxy) pass(pc *proxyConn) bool {
	if !pc.listener.Load() {
		return true
	}
	p.mu.Lock()
	deaf := p.deaf
	p.mu.Unlock()
	if !deaf {
		return true
	}
	<-pc.killed
	return false
}

func (p *pgProxy) deafen() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deaf = true
}

// heal lets listeners through again and drops the frozen ones.
func (p *pgProxy) heal() {
	p.mu.Lock()
	p.deaf = false
	var frozen []*proxyConn
	for pc := range p.conns {
		if pc.listener.Load() {
			frozen = append(frozen, pc)
		}
	}
	p.mu.Unlock()
	for _, pc := range frozen {
		pc.kill()
	}
}

func (p *pgProxy) listenCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.listens
}

// TestRevocationFailsClosedWhenDeaf cuts instance B's revocation listener
// two ways (a silent partition, then pg_terminate_backend) and checks that
// a revoke made meanwhile returns only once B has stopped trusting its
// cache (within one lease), B accepts the key after no revoke call has
// returned, refuses keys revoked while it was deaf, and catches up on
// reconnecting.
func TestRevocationFailsClosedWhenDeaf(t *testing.T) {
	t.Parallel()
	e := postgresEnv(t)
	dbURL := e["PATCHBAY_DATABASE_URL"]
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	admin, _ := cliKey(t, e, "--name", "admin")
	a := startTestServer(t, serveConfig(t, e))
	proxy := newPGProxy(t, net.JoinHostPort(u.Hostname(), port))
	rnd := make([]byte, 6)
	rand.Read(rnd)
	appName := "patchbay_b_" + hex.EncodeToString(rnd)
	b := startTestServer(t, serveConfig(t, e.with("PATCHBAY_DATABASE_URL", proxy.url(t, dbURL, appName))))
	if proxy.listenCount() != 1 {
		t.Fatalf("B opened %d LISTEN connections through the proxy, want 1", proxy.listenCount())
	}
	ca := newClient(t, a.URL)
	t.Cleanup(ca.checkNo5xx)
	hcB := httpClient()
	ctx := context.Background()
	newKey := func(name string) (key, id string) {
		t.Helper()
		r := ca.do("POST", "/api/v1/api_keys", `{"name":"`+name+`"}`, h{"x-api-key", admin})
		want(t, r, 201)
		m := r.obj(t)
		return m["key"].(string), m["id"].(string)
	}
	revoke := func(id string) {
		t.Helper()
		want(t, ca.do("DELETE", "/api/v1/api_keys/"+id, nil, h{"x-api-key", admin}), 200)
	}
	// propagates checks that B's listener works: a key cached on B and
	// revoked on A is refused by B within the given time.
	propagates := func(name string, within time.Duration) {
		t.Helper()
		key, id := newKey(name)
		if !mustProbe(t, hcB, b.URL, key) {
			t.Fatalf("%s: new key refused by B", name)
		}
		revoke(id)
		start := time.Now()
		for mustProbe(t, hcB, b.URL, key) {
			if time.Since(start) > within {
				t.Fatalf("%s: B accepts the key %v after A revoked it", name, within)
			}
		}
	}

	// 1. A silent partition of B's listener.
	k1, k1ID := newKey("k1")
	k2, k2ID := newKey("k2")
	for _, k := range []string{k1, k2} {
		if !mustProbe(t, hcB, b.URL, k) || !mustProbe(t, hcB, b.URL, k) {
			t.Fatal("new key refused by B")
		}
	}
	if !b.app.Service.Authenticator().Trusted(ctx) {
		t.Fatal("B is not listening before the partition")
	}
	// B is probed with k1 throughout, from before the revoke call to after
	// it returns. The revoke waits for B: B cannot acknowledge, so the
	// call returns only once B's lease has run out, and B stopped trusting
	// its cache before that. So no probe sent after the call returned may
	// be accepted, and none sent later than B's trust window after the
	// partition (B's last confirmed renewal came before it).
	type sample struct {
		sent     time.Time
		accepted bool
	}
	var (
		samples []sample
		probeMu sync.Mutex
		stop    = make(chan struct{})
		probed  = make(chan error, 1)
	)
	go func() {
		for {
			select {
			case <-stop:
				probed <- nil
				return
			default:
			}
			sent := time.Now()
			st, err := probe(hcB, b.URL, k1)
			if err != nil {
				probed <- err
				return
			}
			probeMu.Lock()
			samples = append(samples, sample{sent, st == 400})
			probeMu.Unlock()
			time.Sleep(time.Millisecond)
		}
	}()
	time.Sleep(20 * time.Millisecond) // B accepts k1 before the partition
	deafAt := time.Now()
	proxy.deafen()
	revoke(k1ID)
	revokedAt := time.Now()
	time.Sleep(100 * time.Millisecond)
	close(stop)
	if err := <-probed; err != nil {
		t.Fatal(err)
	}
	revoke(k2ID) // B's cache still holds k2; it is not probed until B is back

	trust := postgres.DefaultLease * 3 / 4 // the Watcher's local trust window
	var acceptedBefore, acceptedAfterCut, acceptedAfterReturn int
	var lastAccepted time.Time
	for _, sm := range samples {
		switch {
		case !sm.accepted:
		case sm.sent.Before(deafAt):
			acceptedBefore++
		case sm.sent.After(revokedAt):
			acceptedAfterReturn++
		default:
			acceptedAfterCut++
			lastAccepted = sm.sent
		}
	}
	t.Logf("silent partition: revoke returned %v after the cut (bound: one lease, %v); B accepted k1 %d times before the cut, %d times after it (the last sent %v after), %d times after the revoke returned; %d probes",
		revokedAt.Sub(deafAt), postgres.DefaultLease, acceptedBefore, acceptedAfterCut, lastAccepted.Sub(deafAt), acceptedAfterReturn, len(samples))
	if acceptedBefore == 0 {
		t.Fatal("B never accepted k1 before the partition: the probe measures nothing")
	}
	if acceptedAfterReturn > 0 {
		t.Fatalf("B accepted k1 %d times after its revoke call returned", acceptedAfterReturn)
	}
	if late := lastAccepted.Sub(deafAt); acceptedAfterCut > 0 && late > trust+50*time.Millisecond {
		t.Fatalf("B accepted k1 sent %v after going deaf, want none after its trust window (%v)", late, trust)
	}
	// B's last renewal came at most a heartbeat before the cut, so its
	// lease ran out at least a lease less a heartbeat (and a round trip)
	// after it: a revoke that returned sooner did not wait for B.
	if took := revokedAt.Sub(deafAt); took < postgres.DefaultLease-2*postgres.DefaultHeartbeat || took > postgres.DefaultLease+time.Second {
		t.Fatalf("the revoke returned %v after B went deaf; want it to wait for B's lease (%v) and not much longer", took, postgres.DefaultLease)
	}

	// While deaf, B serves from the database: valid keys work, and a key
	// revoked now is refused by B's very next request.
	if b.app.Service.Authenticator().Trusted(ctx) {
		t.Fatal("B's watcher vouches for the cache while deaf")
	}
	if !mustProbe(t, hcB, b.URL, admin) {
		t.Fatal("B refuses a valid key while deaf")
	}
	k3, k3ID := newKey("k3")
	if !mustProbe(t, hcB, b.URL, k3) {
		t.Fatal("B refuses a new key while deaf")
	}
	revoke(k3ID)
	if mustProbe(t, hcB, b.URL, k3) {
		t.Fatal("B, deaf, accepted a key after its revoke call returned")
	}

	// Back: B reconnects and catches up; k2, cached before the partition and
	// revoked during it, must be refused although the cache is trusted again.
	cached := b.app.Service.Authenticator().CachedKeys()
	listens := proxy.listenCount()
	proxy.heal()
	waitFor(t, 10*time.Second, "B to listen again", func() bool { return b.app.Service.Authenticator().Trusted(ctx) })
	if proxy.listenCount() <= listens {
		t.Fatal("B vouches for its cache without having reconnected")
	}
	if after := b.app.Service.Authenticator().CachedKeys(); after > cached-2 {
		t.Fatalf("B's cache holds %d entries after catching up, was %d: k1 and k2 not evicted", after, cached)
	}
	if mustProbe(t, hcB, b.URL, k2) || mustProbe(t, hcB, b.URL, k1) {
		t.Fatal("B accepts a key revoked while it was deaf, after reconnecting")
	}
	propagates("after-partition", 2*time.Second)

	// 2. The database ends B's listening session (pg_terminate_backend).
	admindb, err := sql.Open("pgx", testdb.PostgresBaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admindb.Close()
	k5, k5ID := newKey("k5")
	if !mustProbe(t, hcB, b.URL, k5) || !mustProbe(t, hcB, b.URL, k5) {
		t.Fatal("new key refused by B")
	}
	listens = proxy.listenCount()
	var pids []int
	rows, err := admindb.Query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query IN ('LISTEN patchbay_key_revoked', '-- ping')`, appName)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	rows.Close()
	if len(pids) != 1 {
		t.Fatalf("found %d listening sessions of B (%v), want 1", len(pids), pids)
	}
	var ok bool
	if err := admindb.QueryRow(`SELECT pg_terminate_backend($1)`, pids[0]).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend: %v %v", ok, err)
	}
	start := time.Now()
	revoke(k5ID)
	t.Logf("terminated listener: the revoke took %v", time.Since(start))
	if mustProbe(t, hcB, b.URL, k5) {
		t.Fatal("B accepts a key after its revoke call returned, its listener terminated")
	}
	waitFor(t, 10*time.Second, "B to listen again", func() bool {
		return proxy.listenCount() > listens && b.app.Service.Authenticator().Trusted(ctx)
	})
	if mustProbe(t, hcB, b.URL, k5) {
		t.Fatal("B accepts a key revoked while its listener was down, after reconnecting")
	}
	propagates("after-terminate", 2*time.Second)
	if !bytes.Contains([]byte(b.Log.String()), []byte("revocation listener: connection lost; verifying every key against the database")) {
		t.Errorf("B did not log losing its listener:\n%s", b.Log)
	}
}
