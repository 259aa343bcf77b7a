// Package sqlite is patchbay's embedded default store: SQLite in WAL mode
// through the pure-Go modernc.org/sqlite driver, with embedded migrations.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"sync"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a patchbay.Store on one SQLite file.
type Store struct {
	*sqlstore.DB
	// revocations counts committed revocations for every process using
	// the file, so watchers notice one without a query (see Watcher).
	revocations *counter
	// writes counts committed writes (all but execution logs) for every
	// process using the file; a read version kept in versions is current
	// while the count it was read at is (see ReadVersion).
	writes   *counter
	versions sync.Map // organization id → keptVersion
	path     string
}

// keptVersion is an organization's read version and the write count it
// was read at.
type keptVersion struct{ v, at uint64 }

var _ patchbay.Store = (*Store)(nil)

var dialect = &sqlstore.Dialect{
	JSONArrayElements: func(col string) string { return "json_each(" + col + ")" },
	Name:              "sqlite",
	TableExists:       `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = $1`,
	// Transactions begin IMMEDIATE on the one writer connection: they
	// serialize, so no row locks are needed.
	ForUpdate: "",
	IsUniqueViolation: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
}

// Open opens (creating if needed) the database file at path and checks that
// it answers. It does not migrate: call Migrate.
func Open(ctx context.Context, path string) (*Store, error) {
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"busy_timeout(10000)", // writers queue rather than fail under contention
		"foreign_keys(1)",
		"synchronous(NORMAL)",   // durable across crashes in WAL mode; loses at most the last commits on power loss
		"mmap_size(1073741824)", // read pages through the OS page cache (1 GiB of address space): lookups stay flat as tables grow
		"cache_size(-16384)",    // 16 MiB of page cache per connection
	} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate") // take the write lock at BEGIN: no deadlocked upgrades
	dsn := "file:" + path + "?" + q.Encode()
	writer, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// One writer connection: SQLite serializes writers anyway, and queueing
	// them in Go is far cheaper than its busy handler's sleeps.
	writer.SetMaxOpenConns(1)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	reader, err := sql.Open("sqlite", dsn)
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	reader.SetMaxOpenConns(8)
	reader.SetMaxIdleConns(8)
	revocations, err := openCounter(path + "-revocations")
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, err
	}
	writes, err := openCounter(path + "-writes")
	if err != nil {
		writer.Close()
		reader.Close()
		revocations.close()
		return nil, err
	}
	st := &Store{revocations: revocations, writes: writes, path: path}
	d := *dialect
	d.RevokeCommitted = st.markRevocation
	if shared {
		d.Wrote = st.markWrite
	}
	st.DB = sqlstore.NewSplit(writer, reader, &d)
	return st, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// markRevocation counts a revocation for other processes. It runs after
// the revoking transaction commits and before the revoke call returns.
func (s *Store) markRevocation(string) {
	if err := s.revocations.add(); err != nil {
		// Watchers also check the database itself at least once a second,
		// so a lost mark delays, but does not lose, the revocation.
		slog.Error("sqlite: cannot count a revocation for other processes", "err", err)
	}
}

// markWrite counts a committed write for other processes' kept read
// versions. It runs after the commit and before the write returns.
func (s *Store) markWrite() {
	if err := s.writes.add(); err != nil {
		// Without the mark, no process could trust a kept version: forget
		// them all and read the table until the counter works again.
		slog.Error("sqlite: cannot count a write for other processes", "err", err)
		s.versions.Clear()
	}
}

// ReadVersion is the organization's read version. A version read before is
// kept until any process commits a write (the write counter moves): every
// write goes through a store that counts it after its commit, so a reader
// that sees the old count reads a version at least as new as that commit.
// Only the write counter is loaded on the way, one atomic load where the
// file can be memory-mapped.
func (s *Store) ReadVersion(ctx context.Context, orgID string) (int64, error) {
	if !shared {
		return s.DB.ReadVersion(ctx, orgID)
	}
	at, err := s.writes.load()
	if err != nil {
		return s.DB.ReadVersion(ctx, orgID)
	}
	if k, ok := s.versions.Load(orgID); ok && k.(keptVersion).at == at {
		return int64(k.(keptVersion).v), nil
	}
	// The count is loaded before the query: a write that commits while it
	// runs moves the count past the one kept, and the next call reads again.
	v, err := s.DB.ReadVersion(ctx, orgID)
	if err != nil {
		return 0, err
	}
	s.versions.Store(orgID, keptVersion{v: uint64(v), at: at})
	return v, nil
}

// Close closes the database and the counters.
func (s *Store) Close() error {
	return errors.Join(s.DB.Close(), s.revocations.close(), s.writes.close())
}

// Migrate brings the schema up to date.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	err = s.DB.Migrate(ctx, sub)
	if shared {
		s.markWrite() // a migration may move versions too
	}
	return err
}
