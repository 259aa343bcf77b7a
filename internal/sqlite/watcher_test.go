package sqlite_test

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/sqlite"
	"github.com/patchbay-dev/patchbay/internal/storetest"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

// evictions records a Watcher's callbacks, and whether each came while
// Sync was running.
type evictions struct {
	mu      sync.Mutex // guards the fields below
	ids     []string
	all     int
	syncing bool // inside wantSync's call to Sync
	outside int  // callbacks made outside Sync
}

func (e *evictions) evict(id string) { e.record(func() { e.ids = append(e.ids, id) }) }
func (e *evictions) evictAll()       { e.record(func() { e.all++ }) }

func (e *evictions) record(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.syncing {
		e.outside++
	}
	f()
}

func (e *evictions) setSyncing(v bool) { e.mu.Lock(); e.syncing = v; e.mu.Unlock() }

// take returns and forgets what was recorded.
func (e *evictions) take() (ids []string, all int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ids, all = e.ids, e.all
	e.ids, e.all = nil, 0
	return ids, all
}

// wantSync calls Sync and checks its result and the evictions it
// delivered, which must have been made before Sync returned: the caller
// trusts its cache right after.
func wantSync(t *testing.T, w *sqlite.Watcher, ev *evictions, wantOK bool, wantIDs ...string) {
	t.Helper()
	ev.setSyncing(true)
	got := w.Sync(context.Background())
	ev.setSyncing(false)
	if got != wantOK {
		t.Errorf("Sync = %v, want %v", got, wantOK)
	}
	ev.mu.Lock()
	outside := ev.outside
	ev.mu.Unlock()
	if outside != 0 {
		t.Errorf("%d evictions came outside Sync, want all inside", outside)
	}
	ids, all := ev.take()
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("Sync evicted %q, want %q", ids, wantIDs)
	}
	if all != 0 {
		t.Errorf("Sync called evictAll %d times, want 0", all)
	}
}

// twoProcesses opens one migrated file twice: a is the instance under
// test, b another process (its own pool) writing to the same file.
func twoProcesses(t *testing.T) (a, b *sqlite.Store) {
	t.Helper()
	path := testdb.SQLitePath(t)
	a, b = MustOpen(t, path), MustOpen(t, path)
	if err := a.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// MustStart starts a watcher over s recording into ev, closed when t ends.
func MustStart(t *testing.T, s *sqlite.Store, ev *evictions) *sqlite.Watcher {
	t.Helper()
	w := s.NewWatcher()
	if err := w.Start(context.Background(), ev.evict, ev.evictAll); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func revoke(t *testing.T, s patchbay.Store, k *patchbay.APIKey) {
	t.Helper()
	if _, err := s.RevokeAPIKey(context.Background(), k.OrgID, k.ProjectID, k.ID, k.CreatedBy, time.Now()); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
}

func TestWatcherEvictsRevocationsFromAnotherProcess(t *testing.T) {
	a, b := twoProcesses(t)
	before := storetest.MustAPIKey(t, a)
	revoke(t, b, before) // before Start: nothing to evict for it
	k1, k2 := storetest.MustAPIKey(t, a), storetest.MustAPIKey(t, a)
	ev := &evictions{}
	w := MustStart(t, a, ev)
	wantSync(t, w, ev, true)

	revoke(t, b, k1)
	wantSync(t, w, ev, true, k1.ID)
	wantSync(t, w, ev, true)

	// Several revocations between two Syncs, in order; a repeat is no
	// revocation. Revocations through a's own pool count too: the watcher's
	// pinned connection sees them as another connection's commits.
	k3 := storetest.MustAPIKey(t, b)
	revoke(t, b, k2)
	revoke(t, b, k1)
	revoke(t, a, k3)
	wantSync(t, w, ev, true, k2.ID, k3.ID)
}

func TestWatcherSyncWithoutRevocations(t *testing.T) {
	a, b := twoProcesses(t)
	ev := &evictions{}
	w := MustStart(t, a, ev)
	wantSync(t, w, ev, true)
	wantSync(t, w, ev, true)

	// Other writes move the data version but evict nothing.
	storetest.MustAPIKey(t, b)
	wantSync(t, w, ev, true)
}

func TestWatcherSyncAfterClose(t *testing.T) {
	a, b := twoProcesses(t)
	ev := &evictions{}
	w := MustStart(t, a, ev)
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	revoke(t, b, storetest.MustAPIKey(t, b))
	wantSync(t, w, ev, false)
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A revocation whose count was lost (written by a process that could not
// count it, simulated here with plain SQL) is still found by the safety
// net: the data version is compared at least once a second.
func TestWatcherSafetyNetFindsUncountedRevocation(t *testing.T) {
	a, _ := twoProcesses(t)
	k := storetest.MustAPIKey(t, a)
	ev := &evictions{}
	w := MustStart(t, a, ev)
	wantSync(t, w, ev, true)

	db, err := sql.Open("sqlite", "file:"+a.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE api_keys SET revoked_at = $1, revoked_by = 'sql' WHERE id = $2`, time.Now().UTC(), k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO key_revocations (key_id, revoked_at) VALUES ($1, $2)`, k.ID, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		ev.setSyncing(true)
		ok := w.Sync(context.Background())
		ev.setSyncing(false)
		ids, _ := ev.take()
		if !ok {
			t.Fatal("Sync = false")
		}
		if slices.Contains(ids, k.ID) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the uncounted revocation was not evicted within 3s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
