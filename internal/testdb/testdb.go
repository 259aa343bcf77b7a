// Package testdb opens fresh, migrated stores for tests: a SQLite file in a
// temporary directory, or a PostgreSQL schema of its own in the database
// named by PATCHBAY_TEST_POSTGRES_URL. Without that variable PostgreSQL
// tests skip, except under CI, where they fail: CI must run them.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for schema setup

	"github.com/patchbay-dev/patchbay/internal/postgres"
	"github.com/patchbay-dev/patchbay/internal/sqlite"
)

// SQLitePath returns the path of a fresh SQLite file in t's temp dir.
func SQLitePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "patchbay.db")
}

// SQLite returns a migrated SQLite store, closed when t ends.
func SQLite(t testing.TB) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// PostgresURL returns the URL of a fresh, empty schema in the test database
// (dropped when t ends), or skips the test when no test database is
// configured, failing instead under CI.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("PATCHBAY_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PATCHBAY_TEST_POSTGRES_URL is not set, and CI must run the PostgreSQL tests")
		}
		t.Skip("PATCHBAY_TEST_POSTGRES_URL is not set")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema (is PostgreSQL at PATCHBAY_TEST_POSTGRES_URL running?): %v", err)
	}
	t.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Postgres returns a migrated store on a fresh schema, closed when t ends.
func Postgres(t testing.TB) *postgres.Store {
	t.Helper()
	ctx := context.Background()
	s, err := postgres.Open(ctx, PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}
