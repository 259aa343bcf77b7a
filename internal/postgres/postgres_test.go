package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/postgres"
	"github.com/patchbay-dev/patchbay/internal/storetest"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) patchbay.Store { return testdb.Postgres(t) })
}

// MustOpen connects to url, closed when t ends.
func MustOpen(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestKeyTermsBeforeMigrate(t *testing.T) {
	s := MustOpen(t, testdb.PostgresURL(t))
	terms, err := s.KeyTerms(context.Background())
	if terms != nil || err != nil {
		t.Errorf("KeyTerms on a never-migrated schema = %v, %v; want nil, nil", terms, err)
	}
}

func TestMigrateTwice(t *testing.T) {
	ctx := context.Background()
	s := testdb.Postgres(t)
	k := storetest.MustAPIKey(t, s)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if _, err := s.GetAPIKey(ctx, k.OrgID, k.ProjectID, k.ID); err != nil {
		t.Errorf("GetAPIKey after the second Migrate: %v", err)
	}
	assertMigratedOnce(t, s)
}

// TestMigrateConcurrently starts instances together on a fresh schema, as
// a deployment of several replicas does. Repeated because the race is in
// the first statements.
func TestMigrateConcurrently(t *testing.T) {
	for range 5 {
		url := testdb.PostgresURL(t)
		stores := []*postgres.Store{MustOpen(t, url), MustOpen(t, url), MustOpen(t, url)}
		errs := make([]error, len(stores))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, s := range stores {
			wg.Go(func() {
				<-start
				errs[i] = s.Migrate(context.Background())
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Migrate %d: %v", i, err)
			}
		}
		assertMigratedOnce(t, stores[0])
	}
}

func assertMigratedOnce(t *testing.T, s *postgres.Store) {
	t.Helper()
	var n, distinct int
	if err := s.SQL().QueryRow(`SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != distinct {
		t.Errorf("schema_migrations has %d rows for %d versions, want one row per version", n, distinct)
	}
}
