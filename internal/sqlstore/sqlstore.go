// Package sqlstore implements patchbay.Store over database/sql. The SQL is
// written once, in the dialect SQLite and PostgreSQL share ($n placeholders,
// ON CONFLICT, RETURNING, row values); internal/sqlite and internal/postgres
// supply a Dialect, the driver and the migrations.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// Dialect is what differs between the databases.
type Dialect struct {
	Name string
	// TableExists is a query with one $1 parameter, the table name, that
	// returns one boolean-ish row.
	TableExists string
	// IsUniqueViolation recognizes a unique-constraint error.
	IsUniqueViolation func(error) bool
	// OnRevoke runs inside the revoking transaction, after the revocation
	// is logged, e.g. to notify other instances on commit. May be nil.
	OnRevoke func(ctx context.Context, q Querier, keyID string) error
	// ForUpdate is appended to a SELECT to lock the rows it reads until the
	// transaction ends ("" where transactions serialize anyway).
	ForUpdate string
	// RevokeCommitted runs after a transaction that revoked keyID commits,
	// e.g. to wake watchers in other processes. May be nil.
	RevokeCommitted func(keyID string)
	// MigrationLock runs first in the migration transaction, e.g. to keep
	// instances that start together from migrating twice. May be "".
	MigrationLock string
	// Wrote runs after every committed write except execution logs' (a
	// transaction, or a statement outside one), e.g. to tell other
	// processes that read versions may have moved. May be nil.
	Wrote func()
	// JSONArrayElements renders a FROM item yielding one row per element of
	// the JSON array of strings in column col, in a column named value.
	JSONArrayElements func(col string) string
}

// Querier is what *sql.DB and *sql.Tx have in common.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is a patchbay.Store over a database, or over one transaction of it.
type DB struct {
	db  *sql.DB // writes and transactions
	rdb *sql.DB // reads outside transactions; the same pool as db unless split
	q   Querier
	d   *Dialect
	// committed collects what to run once the transaction commits; nil
	// outside a transaction.
	committed *[]func()
}

var _ patchbay.Store = (*DB)(nil)

// New returns a Store over one pool. Call Migrate before use.
func New(db *sql.DB, d *Dialect) *DB { return NewSplit(db, db, d) }

// NewSplit returns a Store that writes through writer and reads through
// reader. SQLite wants this: it has one writer at a time, and writers
// contending in one pool wait in its busy handler's sleeps, while a
// single-connection writer pool queues them in Go instead.
func NewSplit(writer, reader *sql.DB, d *Dialect) *DB {
	return &DB{db: writer, rdb: reader, q: &split{w: writer, r: reader, wrote: d.Wrote}, d: d}
}

// split sends statements to the writer and queries to the reader, through
// prepared statements it keeps: SQLite would otherwise compile every query
// anew, a quarter of the CPU of a simple request.
type split struct {
	w, r  *sql.DB
	wrote func()       // Dialect.Wrote
	stmts sync.Map     // query text → *sql.Stmt on r
	n     atomic.Int32 // entries in stmts
}

// maxStmts bounds the cache: queries built with variable IN lists could
// otherwise grow it without end. Past it, queries run unprepared.
const maxStmts = 256

func (s *split) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	if s.n.Load() >= maxStmts {
		return nil
	}
	st, err := s.r.PrepareContext(ctx, query)
	if err != nil {
		return nil // let the unprepared path report the error
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	s.n.Add(1)
	return st
}

func (s *split) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := s.w.ExecContext(ctx, query, args...)
	if s.wrote != nil {
		s.wrote()
	}
	return res, err
}

func (s *split) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, query, args...)
}

func (s *split) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, query, args...)
}

func (s *split) close() {
	s.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
}

// SQL returns the read pool, for adapters' own needs (watchers).
func (s *DB) SQL() *sql.DB { return s.rdb }

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) error { return s.rdb.PingContext(ctx) }

// Close closes the pools.
func (s *DB) Close() error {
	if sp, ok := s.q.(*split); ok {
		sp.close()
	}
	err := s.db.Close()
	if s.rdb != s.db {
		err = errors.Join(err, s.rdb.Close())
	}
	return err
}

// InTx runs fn in a transaction. Inside a transaction it runs fn directly.
func (s *DB) InTx(ctx context.Context, fn func(tx patchbay.Store) error) error {
	return s.inTx(ctx, true, fn)
}

// inTx is InTx; wrote says whether to run Dialect.Wrote after the commit
// (false for writes no read shows, the execution logs).
func (s *DB) inTx(ctx context.Context, wrote bool, fn func(tx patchbay.Store) error) error {
	if _, ok := s.q.(*sql.Tx); ok {
		return fn(s)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	var committed []func()
	if err := fn(&DB{db: s.db, rdb: s.rdb, q: tx, d: s.d, committed: &committed}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if wrote && s.d.Wrote != nil {
		s.d.Wrote()
	}
	for _, f := range committed {
		f()
	}
	return nil
}

// afterCommit runs f once the current transaction commits (at once outside
// a transaction).
func (s *DB) afterCommit(f func()) {
	if s.committed == nil {
		f()
		return
	}
	*s.committed = append(*s.committed, f)
}

// ts normalizes times: UTC, microseconds (PostgreSQL's precision), so both
// stores return the same instants.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func fromNull(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

func notFound(what, id string) error {
	return patchbay.Errorf(patchbay.ENOTFOUND, "%s %s not found.", what, id)
}

// wrap turns driver errors into domain errors where the meaning is known.
func (s *DB) wrap(err error, conflict string) error {
	if err == nil {
		return nil
	}
	if s.d.IsUniqueViolation != nil && s.d.IsUniqueViolation(err) && conflict != "" {
		return &patchbay.Error{Code: patchbay.ECONFLICT, Message: conflict, Err: err}
	}
	return err
}

func (s *DB) tableExists(ctx context.Context, name string) (bool, error) {
	var ok bool
	err := s.q.QueryRowContext(ctx, s.d.TableExists, name).Scan(&ok)
	return ok, err
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// rowScanner is what *sql.Row and *sql.Rows have in common.
type rowScanner = interface{ Scan(...any) error }

// queryAll runs a query and scans every row it returns with scan.
func queryAll[T any](ctx context.Context, q Querier, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Pools are the store's connection pools by role ("read", "write"; one
// "main" pool where reads and writes share it), for metrics.
func (s *DB) Pools() map[string]*sql.DB {
	if s.rdb == nil || s.rdb == s.db {
		return map[string]*sql.DB{"main": s.db}
	}
	return map[string]*sql.DB{"write": s.db, "read": s.rdb}
}
