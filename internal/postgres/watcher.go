package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// DefaultHeartbeat is how often a Watcher renews its lease. Each renewal
// is one statement and one notification back through the listener.
const DefaultHeartbeat = 100 * time.Millisecond

// DefaultLease is how long a renewal keeps an instance live in the
// database: a revoke waits at most this long for an instance that is cut
// off. The instance itself trusts its cache for three quarters of it
// after the renewal was sent (300 ms, three heartbeats), so its trust
// always ends before its lease does; see fence.go.
const DefaultLease = 4 * DefaultHeartbeat

// Watcher listens for revocations made by other instances and takes part
// in the revocation fence (fence.go): it holds an instances row whose
// lease it renews through its listener, acknowledges fence tokens, and
// Sync trusts the cache only while the last renewal is fresh. After a
// reconnect it empties the cache, so nothing revoked while it was deaf
// stays cached.
//
// It holds two connections of its own: the listener, which only ever
// waits for notifications, and the writer, which renews, acknowledges and
// releases the lease, so that neither waits behind the store's pool.
type Watcher struct {
	store     *Store
	log       *slog.Logger
	Heartbeat time.Duration // default DefaultHeartbeat
	Lease     time.Duration // default 4 × Heartbeat; at least 2 × Heartbeat

	id           string // the instances row, and the heartbeat channel's suffix
	beatChannel  string
	fenceChannel string    // set by Start
	epoch        time.Time // origin of the monotonic times below

	// trust is when Sync stops vouching for the cache, in nanoseconds
	// since epoch; 0 when it does not.
	trust atomic.Int64

	evict    func(string)
	evictAll func()

	mu         sync.Mutex // guards the protocol state below
	listening  bool       // the listener is connected, and the cache emptied since
	beat       *beat      // the heartbeat in flight, if any
	lastBeat   time.Duration
	nonce      uint64
	confirmed  int64  // highest fence token handled by the listener
	acked      int64  // highest token written to the instances row
	releases   uint64 // releases asked for; the writer owes one while releases > released
	released   uint64 // the releases value last written
	everBeaten bool   // lastBeat is set

	wake   chan struct{} // capacity 1: something for the writer to do
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// beat is a heartbeat in flight.
type beat struct {
	nonce uint64
	sent  time.Duration // since epoch, taken before the statement was sent
	// trusts is false once the beat was given up: its return then proves
	// the listener alive but grants no trust, since the lease it renewed
	// may have been shortened since.
	trusts bool
}

var _ patchbay.Watcher = (*Watcher)(nil)

// NewWatcher returns a Watcher over s, with a fresh instance ID.
func (s *Store) NewWatcher(log *slog.Logger) *Watcher {
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	return &Watcher{store: s, log: log, Heartbeat: DefaultHeartbeat,
		id: id, beatChannel: "patchbay_hb_" + id, epoch: time.Now(), wake: make(chan struct{}, 1)}
}

// InstanceID returns the ID of the instances row the Watcher holds.
func (w *Watcher) InstanceID() string { return w.id }

// Start connects, listens, registers the instance and returns once its
// first heartbeat has come back through the listener, so Sync says true
// (or fails with the reason). The store must be migrated.
func (w *Watcher) Start(ctx context.Context, evict func(string), evictAll func()) error {
	if w.Heartbeat <= 0 {
		w.Heartbeat = DefaultHeartbeat
	}
	if w.Lease == 0 {
		w.Lease = 4 * w.Heartbeat
	}
	if w.Lease < 2*w.Heartbeat {
		return fmt.Errorf("revocation watcher: lease %v is shorter than two heartbeats (%v)", w.Lease, 2*w.Heartbeat)
	}
	w.evict, w.evictAll = evict, evictAll
	db := w.store.SQL()
	if err := db.QueryRowContext(ctx, `SELECT 'patchbay_fence_' || 'fence_tokens'::regclass::oid`).Scan(&w.fenceChannel); err != nil {
		return fmt.Errorf("revocation watcher: %w", err)
	}
	// Rows of instances gone for a while; the fence ignores them as soon as
	// their lease runs out, this only keeps the table small.
	if _, err := db.ExecContext(ctx, `DELETE FROM instances WHERE lease_expires_at < now() - interval '10 minutes'`); err != nil {
		return fmt.Errorf("revocation watcher: %w", err)
	}
	listener, err := w.listen(ctx)
	if err != nil {
		return err
	}
	writer, err := w.connect(ctx)
	if err != nil {
		closeConn(listener)
		return err
	}
	w.store.locals.add(w.id)
	runCtx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.wg.Add(2)
	go w.listenLoop(runCtx, listener)
	go w.writeLoop(runCtx, writer)

	// On a loaded machine the first beat may be given up and the listener
	// replaced (after two leases); allow for a few rounds of that.
	wait, stop := context.WithTimeout(ctx, 10*w.Lease+5*time.Second)
	defer stop()
	for !w.Sync(ctx) {
		select {
		case <-wait.Done():
			w.Close()
			return fmt.Errorf("revocation watcher: the first heartbeat did not come back through the listener: %w", wait.Err())
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// Sync reports whether the last heartbeat that came back through the
// listener was sent less than three quarters of a lease ago.
func (w *Watcher) Sync(context.Context) bool {
	until := w.trust.Load()
	return until != 0 && int64(w.now()) < until
}

// Close stops listening, then removes the instance's row so that revokes
// stop waiting for it. Sync reports false from then on.
func (w *Watcher) Close() error {
	if w.cancel != nil {
		w.cancel()
		w.wg.Wait()
		w.cancel = nil
		// Trust ends before the row goes: a revoke that finds no row must
		// find an instance that no longer trusts its cache.
		w.trust.Store(0)
		w.store.locals.remove(w.id)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		// An error leaves the row to expire with its lease.
		_, _ = w.store.SQL().ExecContext(ctx, `DELETE FROM instances WHERE id = $1`, w.id)
	}
	w.trust.Store(0)
	return nil
}

func (w *Watcher) now() time.Duration { return time.Since(w.epoch) }

// trustWindow is how long after sending a heartbeat its return lets the
// cache be trusted: a quarter of the lease short of the database's lease.
func (w *Watcher) trustWindow() time.Duration { return w.Lease - w.Lease/4 }

// giveUpAfter is how long a heartbeat may be in flight before it is given
// up: about when the previous one's trust ends, since it was sent a
// heartbeat after that one.
func (w *Watcher) giveUpAfter() time.Duration { return w.trustWindow() - w.Heartbeat }

// deadAfter is how long a heartbeat may stay out before the listening
// connection is taken for dead and replaced.
func (w *Watcher) deadAfter() time.Duration { return 2 * w.Lease }

// connectTimeout bounds a connection attempt: a blackholed network never
// answers the startup message.
const connectTimeout = 5 * time.Second

func (w *Watcher) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	return pgx.Connect(ctx, w.store.url)
}

func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	c.Close(ctx)
}

// listen opens the listening connection and empties the cache once LISTEN
// has taken effect: every revocation committed before is in the database,
// every one after will be notified. The revocation channel comes last, so
// that pg_stat_activity shows the listener's query as
// "LISTEN patchbay_key_revoked".
func (w *Watcher) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := w.connect(ctx)
	if err != nil {
		return nil, err
	}
	for _, ch := range []string{w.fenceChannel, w.beatChannel, channel} {
		if _, err := conn.Exec(ctx, `LISTEN `+ch); err != nil {
			closeConn(conn)
			return nil, err
		}
	}
	w.evictAll()
	w.mu.Lock()
	w.listening = true
	w.mu.Unlock()
	w.poke()
	return conn, nil
}

// poke wakes the writer.
func (w *Watcher) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Watcher) listenLoop(ctx context.Context, conn *pgx.Conn) {
	defer w.wg.Done()
	backoff := 100 * time.Millisecond
	for {
		if conn == nil {
			var ok bool
			if conn, ok = redial(ctx, &backoff, w.listen, func(err error) {
				w.log.Warn("revocation listener: reconnect failed; verifying every key against the database", "err", err)
			}); !ok {
				return
			}
			if conn == nil {
				continue
			}
			w.log.Info("revocation listener: listening again")
		}
		err := w.receive(ctx, conn)
		closeConn(conn)
		conn = nil
		if ctx.Err() != nil {
			return
		}
		w.lost()
		w.log.Warn("revocation listener: connection lost; verifying every key against the database", "err", err)
	}
}

// redial waits out the backoff and dials once: ok is false when ctx ended,
// conn is nil when the dial failed (failed is told why, and the backoff
// doubles up to 5 s). A successful dial resets the backoff.
func redial(ctx context.Context, backoff *time.Duration, dial func(context.Context) (*pgx.Conn, error), failed func(error)) (conn *pgx.Conn, ok bool) {
	select {
	case <-ctx.Done():
		return nil, false
	case <-time.After(*backoff):
	}
	conn, err := dial(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false
		}
		failed(err)
		*backoff = min(2**backoff, 5*time.Second)
		return nil, true
	}
	*backoff = 100 * time.Millisecond
	return conn, true
}

// lost stops trusting the cache and has the writer release the lease:
// notifications sent from now until the next LISTEN reach nobody.
func (w *Watcher) lost() {
	w.mu.Lock()
	w.trust.Store(0)
	w.listening = false
	w.beat = nil
	w.releases++
	w.mu.Unlock()
	w.poke()
}

// receive handles notifications until the connection fails or a heartbeat
// has been out for deadAfter.
func (w *Watcher) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		// A timeout leaves the connection usable (pgx's default deadline
		// handler); it only lets the loop look at the heartbeat's age.
		wctx, cancel := context.WithTimeout(ctx, w.Heartbeat)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			w.handle(n)
		case ctx.Err() != nil:
			return ctx.Err()
		case wctx.Err() == nil:
			return err // a real failure, not the timeout
		}
		w.mu.Lock()
		late := w.beat != nil && w.now()-w.beat.sent > w.deadAfter()
		w.mu.Unlock()
		if late {
			return fmt.Errorf("no heartbeat came back for %v", w.deadAfter())
		}
	}
}

// handle acts on one notification. Notifications arrive in commit order
// and each is done with (the key evicted) before the next is read: that
// is what acknowledging a token asserts.
func (w *Watcher) handle(n *pgconn.Notification) {
	switch n.Channel {
	case channel:
		w.evict(n.Payload)
	case w.fenceChannel:
		tok, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil {
			return
		}
		w.mu.Lock()
		w.confirm(tok)
		w.mu.Unlock()
	case w.beatChannel:
		nonceText, tokText, _ := strings.Cut(n.Payload, " ")
		nonce, err1 := strconv.ParseUint(nonceText, 10, 64)
		tok, err2 := strconv.ParseInt(tokText, 10, 64)
		if err1 != nil || err2 != nil {
			return
		}
		w.mu.Lock()
		w.confirm(tok)
		if b := w.beat; b != nil && b.nonce == nonce {
			// The renewal committed (the notification is its), and everything
			// notified before it has been handled: trust the cache until a
			// quarter of a lease before the database's lease ends. Under mu,
			// so a give-up cannot slip between the check and the grant.
			// Every release clears or gives up the beat in flight; the second
			// condition only restates that no release is pending.
			if b.trusts && w.releases == w.released {
				w.trust.Store(int64(b.sent + w.trustWindow()))
			}
			w.beat = nil
			w.poke() // the next beat may go
		}
		w.mu.Unlock()
	}
}

// confirm records that every notification up to token tok was handled.
// w.mu is held.
func (w *Watcher) confirm(tok int64) {
	if tok > w.confirmed {
		w.confirmed = tok
		w.poke()
	}
}

// action is what the writer does next.
type action int

const (
	idle action = iota
	doRelease
	doBeat
	doAck
)

// next decides the writer's next statement, or how long to sleep.
func (w *Watcher) next() (a action, arg int64, nonce uint64, sleep time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	if b := w.beat; b != nil && b.trusts && now-b.sent >= w.giveUpAfter() {
		// Trust first, lease second: a revoke that sees the shortened lease
		// must find the cache untrusted.
		b.trusts = false
		w.trust.Store(0)
		w.releases++
	}
	switch {
	case w.releases > w.released:
		return doRelease, int64(w.releases), 0, 0
	case w.listening && w.beat == nil && (!w.everBeaten || now-w.lastBeat >= w.Heartbeat):
		// Only one beat in flight, and only once the listener has proven
		// alive since the last: a deaf listener lets one renewal through.
		w.nonce++
		w.beat = &beat{nonce: w.nonce, sent: w.now(), trusts: true}
		w.lastBeat, w.everBeaten = w.beat.sent, true
		return doBeat, w.confirmed, w.nonce, 0
	case w.confirmed > w.acked:
		return doAck, w.confirmed, 0, 0
	}
	sleep = time.Hour
	if b := w.beat; b != nil && b.trusts {
		sleep = b.sent + w.giveUpAfter() - now
	} else if w.listening && w.beat == nil {
		sleep = w.lastBeat + w.Heartbeat - now
	}
	return idle, 0, 0, max(sleep, 0)
}

const (
	// beatSQL renews the lease (creating the row if it is new or was
	// pruned), records acknowledgements, draws a token and notifies it to
	// the instance's own channel, in one transaction.
	beatSQL = `WITH r AS (
		INSERT INTO instances AS i (id, lease_expires_at, acked_token, started_at, updated_at)
		VALUES ($1, now() + $2::bigint * interval '1 microsecond', $3, now(), now())
		ON CONFLICT (id) DO UPDATE SET lease_expires_at = excluded.lease_expires_at,
			acked_token = greatest(i.acked_token, excluded.acked_token), updated_at = excluded.updated_at
		RETURNING 1
	), t AS (SELECT nextval('fence_tokens') AS n)
	SELECT t.n, pg_notify($4, $5 || ' ' || t.n)::text FROM r, t`
	ackSQL     = `UPDATE instances SET acked_token = greatest(acked_token, $2), updated_at = now() WHERE id = $1`
	releaseSQL = `UPDATE instances SET lease_expires_at = least(lease_expires_at, now()), updated_at = now() WHERE id = $1`
)

// writeLoop renews the lease, acknowledges tokens and releases the lease,
// one statement at a time on its own connection: a release can never be
// overtaken by a renewal sent before it.
func (w *Watcher) writeLoop(ctx context.Context, conn *pgx.Conn) {
	defer w.wg.Done()
	defer func() {
		if conn != nil {
			closeConn(conn)
		}
	}()
	backoff := 100 * time.Millisecond
	for {
		if conn == nil {
			var ok bool
			if conn, ok = redial(ctx, &backoff, w.connect, func(err error) {
				w.log.Warn("revocation fence: cannot reach the database to renew this instance's lease; verifying every key against the database", "err", err)
			}); !ok {
				return
			}
			if conn == nil {
				continue
			}
		}
		a, arg, nonce, sleep := w.next()
		if a == idle {
			t := time.NewTimer(sleep)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-w.wake:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		if err := w.write(ctx, conn, a, arg, nonce); err != nil {
			if ctx.Err() != nil {
				return
			}
			w.log.Warn("revocation fence: lost the connection that renews this instance's lease", "err", err)
			closeConn(conn)
			conn = nil
		}
	}
}

// write runs one statement. Each is bounded by the lease: past it the
// trust the statement could extend has ended anyway.
func (w *Watcher) write(ctx context.Context, conn *pgx.Conn, a action, arg int64, nonce uint64) error {
	ctx, cancel := context.WithTimeout(ctx, w.Lease)
	defer cancel()
	switch a {
	case doRelease:
		if _, err := conn.Exec(ctx, releaseSQL, w.id); err != nil {
			return err
		}
		w.mu.Lock()
		w.released = max(w.released, uint64(arg))
		w.mu.Unlock()
	case doBeat:
		var tok int64
		var notified string
		err := conn.QueryRow(ctx, beatSQL, w.id, w.Lease.Microseconds(), arg, w.beatChannel, strconv.FormatUint(nonce, 10)).Scan(&tok, &notified)
		w.mu.Lock()
		defer w.mu.Unlock()
		if err != nil {
			// It may have committed all the same; its return grants nothing,
			// and the lease it may have renewed is released on reconnecting,
			// trust first.
			if w.beat != nil && w.beat.nonce == nonce {
				w.beat = nil
			}
			w.trust.Store(0)
			w.releases++
			return err
		}
		w.acked = max(w.acked, arg)
	case doAck:
		if _, err := conn.Exec(ctx, ackSQL, w.id, arg); err != nil {
			return err
		}
		w.mu.Lock()
		w.acked = max(w.acked, arg)
		w.mu.Unlock()
	}
	return nil
}
