package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// Watcher notices revocations made by any other connection or process on
// the same file (the CLI, another instance).
//
// Every revocation increments a counter shared by all processes through a
// memory-mapped file next to the database, after it commits
// (Store.markRevocation), so Sync costs one atomic load: when the count
// moved, the revocation log says which keys to evict. As a safety net for a
// lost mark, at least once a second Sync also compares PRAGMA data_version,
// which changes exactly when another connection committed.
type Watcher struct {
	store *Store

	live   atomic.Bool   // between Start and Close
	marker atomic.Uint64 // the revocation count at the last catch-up
	// checked is when the database was last compared (unix nanos).
	checked atomic.Int64

	mu       sync.Mutex // guards conn, version, seq and the evict callbacks
	conn     *sql.Conn
	version  int64
	seq      int64
	evict    func(string)
	evictAll func()
}

var _ patchbay.Watcher = (*Watcher)(nil)

// safetyNet is how often Sync compares data_version even when the marker
// did not move.
const safetyNet = time.Second

// NewWatcher returns a Watcher over s.
func (s *Store) NewWatcher() *Watcher { return &Watcher{store: s} }

// Start pins a connection and records where the revocation log stands.
func (w *Watcher) Start(ctx context.Context, evict func(string), evictAll func()) error {
	conn, err := w.store.SQL().Conn(ctx)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conn, w.evict, w.evictAll = conn, evict, evictAll
	size, err := w.markerSize()
	if err != nil {
		return err
	}
	if err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&w.version); err != nil {
		return err
	}
	if w.seq, err = w.store.RevocationSeq(ctx); err != nil {
		return err
	}
	w.marker.Store(size)
	w.checked.Store(time.Now().UnixNano())
	w.live.Store(true)
	return nil
}

func (w *Watcher) markerSize() (uint64, error) { return w.store.revocations.load() }

// Sync evicts keys revoked since the last call, synchronously. It returns
// false (read the store) if it cannot tell.
func (w *Watcher) Sync(ctx context.Context) bool {
	size, err := w.markerSize()
	if err != nil {
		return false
	}
	if size == w.marker.Load() && time.Since(time.Unix(0, w.checked.Load())) < safetyNet {
		return w.live.Load()
	}
	return w.catchUp(ctx, size)
}

// catchUp reads the revocation log when the marker moved or the safety net
// is due. The marker size is read before the log, so a revocation that
// lands in between moves the marker again and is caught next time.
func (w *Watcher) catchUp(ctx context.Context, size uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		return false
	}
	var v int64
	if err := w.conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return false
	}
	if v != w.version || size != w.marker.Load() {
		ids, seq, err := w.store.RevocationsSince(ctx, w.seq)
		if err != nil {
			return false
		}
		for _, id := range ids {
			w.evict(id)
		}
		w.version, w.seq = v, seq
		w.marker.Store(size)
	}
	w.checked.Store(time.Now().UnixNano())
	return true
}

// Close releases the pinned connection.
func (w *Watcher) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.live.Store(false)
	if w.conn == nil {
		return nil
	}
	err := w.conn.Close()
	w.conn = nil
	return err
}
