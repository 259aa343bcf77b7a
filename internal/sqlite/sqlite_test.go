package sqlite_test

import (
	"context"
	"sync"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/sqlite"
	"github.com/patchbay-dev/patchbay/internal/storetest"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) patchbay.Store { return testdb.SQLite(t) })
}

// MustOpen opens the database at path, closed when t ends.
func MustOpen(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestKeyTermsBeforeMigrate(t *testing.T) {
	s := MustOpen(t, testdb.SQLitePath(t))
	terms, err := s.KeyTerms(context.Background())
	if terms != nil || err != nil {
		t.Errorf("KeyTerms on a never-migrated database = %v, %v; want nil, nil", terms, err)
	}
}

func TestMigrateTwice(t *testing.T) {
	ctx := context.Background()
	s := testdb.SQLite(t)
	k := storetest.MustAPIKey(t, s)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if _, err := s.GetAPIKey(ctx, k.OrgID, k.ProjectID, k.ID); err != nil {
		t.Errorf("GetAPIKey after the second Migrate: %v", err)
	}
	assertMigratedOnce(t, s)
}

// TestMigrateConcurrently starts two processes on one new file at once.
func TestMigrateConcurrently(t *testing.T) {
	path := testdb.SQLitePath(t)
	stores := []*sqlite.Store{MustOpen(t, path), MustOpen(t, path)}
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(context.Background()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: %v", i, err)
		}
	}
	assertMigratedOnce(t, stores[0])
}

func assertMigratedOnce(t *testing.T, s *sqlite.Store) {
	t.Helper()
	var n, distinct int
	if err := s.SQL().QueryRow(`SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != distinct {
		t.Errorf("schema_migrations has %d rows for %d versions, want one row per version", n, distinct)
	}
}
