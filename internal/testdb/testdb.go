// Package testdb opens fresh, migrated stores for tests: a SQLite file in a
// temporary directory, or a PostgreSQL schema of its own in the test
// database.
//
// The test database is PATCHBAY_TEST_POSTGRES_URL or, when that is unset,
// postgres://postgres@127.0.0.1:5432/test if it answers. If it does not,
// PostgreSQL tests skip, except under CI, where they fail: CI must run
// them. PATCHBAY_TEST_POSTGRES_URL=off skips them on purpose, also under CI.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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

// envURL names the test database; "off" turns the PostgreSQL tests off.
const envURL = "PATCHBAY_TEST_POSTGRES_URL"

// DefaultPostgresURL is the test database used when PATCHBAY_TEST_POSTGRES_URL
// is unset: the one the development machines and CI run.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test"

// defaultURL is what is probed; a variable so that tests can point it at a
// closed port.
var defaultURL = DefaultPostgresURL

// pingTimeout bounds the probe of the default database: a local server
// answers in milliseconds, and a refused port fails at once.
const pingTimeout = 2 * time.Second

var (
	baseOnce sync.Once
	baseURL  string // the test database, "" if there is none
	noBase   string // why there is none
	required bool   // no test database is a failure (CI), not a skip
)

// resolveBase finds the test database, once per process, and says once on
// stderr why PostgreSQL tests skip, if they do.
func resolveBase() {
	baseOnce.Do(func() {
		switch v := os.Getenv(envURL); v {
		case "off":
			noBase = envURL + "=off"
		case "":
			if err := ping(defaultURL); err != nil {
				// One line: pgx spreads a refused connection over several.
				noBase = fmt.Sprintf("%s is not set and %s does not answer (%s)", envURL, redacted(defaultURL), strings.Join(strings.Fields(err.Error()), " "))
				required = os.Getenv("CI") != ""
				break
			}
			baseURL = defaultURL
			// Tests that read the variable themselves see the database
			// found here too.
			os.Setenv(envURL, baseURL)
		default:
			baseURL = v
		}
		if baseURL == "" && !required {
			fmt.Fprintf(os.Stderr, "testdb: PostgreSQL tests skip: %s\n", noBase)
		}
	})
}

func ping(u string) error {
	db, err := sql.Open("pgx", u)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	return db.PingContext(ctx)
}

// PostgresBaseURL returns the URL of the test database itself, or skips the
// test when there is none (failing instead under CI).
func PostgresBaseURL(t testing.TB) string {
	t.Helper()
	resolveBase()
	if baseURL == "" {
		if required {
			t.Fatalf("no PostgreSQL test database, and CI must run the PostgreSQL tests: %s", noBase)
		}
		t.Skip("PostgreSQL tests skip: " + noBase)
	}
	return baseURL
}

// PostgresURL returns the URL of a fresh, empty schema in the test database
// (dropped when t ends), or skips the test when there is no test database
// (failing instead under CI).
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := PostgresBaseURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema (is PostgreSQL at %s running?): %v", redacted(base), err)
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

// redacted is u without its password, for messages.
func redacted(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return p.Redacted()
}
