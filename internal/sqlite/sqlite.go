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
}

var _ patchbay.Store = (*Store)(nil)

var dialect = &sqlstore.Dialect{
	Name:        "sqlite",
	TableExists: `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = $1`,
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
		"synchronous(NORMAL)", // durable across crashes in WAL mode; loses at most the last commits on power loss
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
	return &Store{DB: sqlstore.NewSplit(writer, reader, dialect)}, nil
}

// Migrate brings the schema up to date.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return s.DB.Migrate(ctx, sub)
}
