package sqlite

import (
	"context"
	"database/sql"
	"sync"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// Watcher notices revocations made by any other connection or process on
// the same file (the CLI, another instance), using PRAGMA data_version: a
// connection sees it change exactly when someone else committed. Each Sync
// costs one pragma on a dedicated connection; when the version moved, the
// revocation log says which keys to evict.
type Watcher struct {
	store *Store

	mu       sync.Mutex // guards conn, version, seq and the evict callbacks
	conn     *sql.Conn
	version  int64
	seq      int64
	evict    func(string)
	evictAll func()
}

var _ patchbay.Watcher = (*Watcher)(nil)

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
	if err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&w.version); err != nil {
		return err
	}
	w.seq, err = w.store.RevocationSeq(ctx)
	return err
}

// Sync evicts keys revoked since the last call. It returns false (read the
// store) if it cannot tell.
func (w *Watcher) Sync(ctx context.Context) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		return false
	}
	var v int64
	if err := w.conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return false
	}
	if v == w.version {
		return true
	}
	ids, seq, err := w.store.RevocationsSince(ctx, w.seq)
	if err != nil {
		return false
	}
	for _, id := range ids {
		w.evict(id)
	}
	w.version, w.seq = v, seq
	return true
}

// Close releases the pinned connection.
func (w *Watcher) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		return nil
	}
	err := w.conn.Close()
	w.conn = nil
	return err
}
