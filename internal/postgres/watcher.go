package postgres

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// DefaultHeartbeat is how often a Watcher confirms its listener. An
// instance cut off from PostgreSQL without noticing trusts its cache for at
// most three heartbeats; each costs one round trip.
const DefaultHeartbeat = 250 * time.Millisecond

// Watcher listens for revocations made by other instances. It holds one
// connection in LISTEN and confirms it is alive every Heartbeat; Sync trusts
// the cache only while the last confirmation is recent. After a reconnect it
// catches up from the revocation log, so nothing revoked while it was deaf
// stays cached.
type Watcher struct {
	store     *Store
	log       *slog.Logger
	Heartbeat time.Duration // default DefaultHeartbeat

	alive atomic.Int64 // unix nanos of the last confirmation; 0 = not listening

	mu       sync.Mutex // guards seq and the callbacks
	seq      int64
	evict    func(string)
	evictAll func()

	cancel context.CancelFunc
	done   chan struct{}
}

var _ patchbay.Watcher = (*Watcher)(nil)

// NewWatcher returns a Watcher over s.
func (s *Store) NewWatcher(log *slog.Logger) *Watcher {
	return &Watcher{store: s, log: log, Heartbeat: DefaultHeartbeat}
}

// Start connects, listens and returns once the first LISTEN is confirmed
// (or fails with the reason).
func (w *Watcher) Start(ctx context.Context, evict func(string), evictAll func()) error {
	w.evict, w.evictAll = evict, evictAll
	seq, err := w.store.RevocationSeq(ctx)
	if err != nil {
		return err
	}
	w.seq = seq
	conn, err := w.listen(ctx)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan struct{})
	go w.run(runCtx, conn)
	return nil
}

// Sync reports whether the watcher has confirmed within three heartbeats
// that it is listening.
func (w *Watcher) Sync(context.Context) bool {
	last := w.alive.Load()
	return last != 0 && time.Since(time.Unix(0, last)) < 3*w.Heartbeat
}

// Close stops listening. Sync reports false from then on.
func (w *Watcher) Close() error {
	if w.cancel != nil {
		w.cancel()
		<-w.done
	}
	// run returns on cancellation without clearing alive; nothing listens
	// now, so the last confirmation must not vouch for the cache.
	w.alive.Store(0)
	return nil
}

func (w *Watcher) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, w.store.url)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	// Catch up on anything revoked before LISTEN took effect.
	if err := w.catchUp(ctx); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	w.alive.Store(time.Now().UnixNano())
	return conn, nil
}

func (w *Watcher) catchUp(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids, seq, err := w.store.RevocationsSince(ctx, w.seq)
	if err != nil {
		return err
	}
	for _, id := range ids {
		w.evict(id)
	}
	w.seq = seq
	return nil
}

func (w *Watcher) run(ctx context.Context, conn *pgx.Conn) {
	defer close(w.done)
	backoff := 100 * time.Millisecond
	for {
		if conn == nil {
			w.alive.Store(0)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			var err error
			if conn, err = w.listen(ctx); err != nil {
				w.log.Warn("revocation listener: reconnect failed; verifying every key against the database", "err", err)
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
			backoff = 100 * time.Millisecond
			w.log.Info("revocation listener: listening again")
		}
		if err := w.wait(ctx, conn); err != nil {
			conn.Close(context.Background())
			conn = nil
			if ctx.Err() != nil {
				return
			}
			w.alive.Store(0)
			w.log.Warn("revocation listener: connection lost; verifying every key against the database", "err", err)
		}
	}
}

// wait handles notifications for one heartbeat, then confirms the
// connection with a round trip.
func (w *Watcher) wait(ctx context.Context, conn *pgx.Conn) error {
	wctx, cancel := context.WithTimeout(ctx, w.Heartbeat)
	n, err := conn.WaitForNotification(wctx)
	cancel()
	switch {
	case err == nil:
		w.evict(n.Payload)
		w.alive.Store(time.Now().UnixNano())
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case wctx.Err() == nil:
		return err // a real failure, not the heartbeat timeout
	}
	// A ping cut short closes the connection, so give it the whole window
	// Sync tolerates rather than one heartbeat.
	pctx, cancel := context.WithTimeout(ctx, 3*w.Heartbeat)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		return err
	}
	w.alive.Store(time.Now().UnixNano())
	return nil
}
