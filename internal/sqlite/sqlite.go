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
	path        string
}

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
	st := &Store{revocations: revocations, path: path}
	d := *dialect
	d.RevokeCommitted = st.markRevocation
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

// Close closes the database and the revocation counter.
func (s *Store) Close() error {
	return errors.Join(s.DB.Close(), s.revocations.close())
}

// Migrate brings the schema up to date.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return s.DB.Migrate(ctx, sub)
}
