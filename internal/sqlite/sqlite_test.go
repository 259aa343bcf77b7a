package sqlite_test

import (
	"context"
	"sync"
	"testing"
	"time"

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

// TestReadVersionAcrossProcesses: a read version kept by one store is not
// served once another store on the same file (another process: the CLI, a
// second instance) has committed a write, nor once it wrote itself.
func TestReadVersionAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	path := testdb.SQLitePath(t)
	a, b := MustOpen(t, path), MustOpen(t, path)
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	org := storetest.MustOrg(t, a)
	version := func(s *sqlite.Store) int64 {
		t.Helper()
		v, err := s.ReadVersion(ctx, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v0 := version(a)
	if again := version(a); again != v0 {
		t.Fatalf("two reads with no write between: %d then %d", v0, again)
	}
	storetest.MustMember(t, b, org.ID, patchbay.RoleOwner) // written through the other store
	v1 := version(a)
	if v1 <= v0 {
		t.Fatalf("after a write through another store: read version %d, want more than %d", v1, v0)
	}
	storetest.MustProject(t, a, org.ID, time.Now())
	if v2 := version(a); v2 <= v1 {
		t.Fatalf("after its own write: read version %d, want more than %d", v2, v1)
	}
	// Execution logs are no read's business: appending them keeps the
	// version and the kept copy.
	v3 := version(b)
	if err := b.AppendExecutionLogs(ctx, []*patchbay.ExecutionLog{{ID: "log_1", ProjectID: "prj_x", Kind: patchbay.LogKindProxy,
		Toolkit: "github", Status: patchbay.LogSucceeded, At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if v4 := version(a); v4 != v3 {
		t.Errorf("after an execution log: read version %d, want it unchanged at %d", v4, v3)
	}
}
