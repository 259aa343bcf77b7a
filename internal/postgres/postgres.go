// Package postgres is patchbay's store for several instances behind a load
// balancer: PostgreSQL through jackc/pgx, with embedded migrations, and a
// LISTEN/NOTIFY watcher that carries revocations between instances.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// channel is the NOTIFY channel revocations are announced on; the payload
// is the revoked key's ID.
const channel = "patchbay_key_revoked"

// Store is a patchbay.Store on a PostgreSQL database.
type Store struct {
	*sqlstore.DB
	url    string
	locals localInstances // the instances whose Watcher runs on this Store
}

var _ patchbay.Store = (*Store)(nil)

var dialect = &sqlstore.Dialect{
	JSONArrayElements: func(col string) string { return "jsonb_array_elements_text(" + col + "::jsonb) AS j(value)" },
	Name:              "postgres",
	TableExists:       `SELECT to_regclass($1) IS NOT NULL`,
	IsUniqueViolation: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == "23505"
	},
	OnRevoke: func(ctx context.Context, q sqlstore.Querier, keyID string) error {
		// Delivered to listeners when, and only if, the transaction commits.
		_, err := q.ExecContext(ctx, `SELECT pg_notify('`+channel+`', $1)`, keyID)
		return err
	},
	ForUpdate: " FOR UPDATE",
	// Instances starting together take turns; the lock ends with the transaction.
	MigrationLock: `SELECT pg_advisory_xact_lock(7243011)`,
}

// Open connects to the database at url (postgres://…) and checks that it
// answers. It does not migrate: call Migrate.
func Open(ctx context.Context, url string) (*Store, error) {
	if _, err := pgconn.ParseConfig(url); err != nil {
		return nil, fmt.Errorf("database URL: %w", redactURLError(err))
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", redactURLError(err))
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres: %w", redactURLError(err))
	}
	return &Store{DB: sqlstore.New(db, dialect), url: url}, nil
}

// redactURLError keeps a password that pgx may echo out of messages.
func redactURLError(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("cannot parse the database URL (check its syntax)")
	}
	return err
}

// Migrate brings the schema up to date.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	return s.DB.Migrate(ctx, sub)
}

func init() { _ = stdlib.GetDefaultDriver() }
