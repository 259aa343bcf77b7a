package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/postgres"
	"github.com/patchbay-dev/patchbay/internal/storetest"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

// lease is the lease of the test watchers (their Heartbeat is heartbeat).
const lease = 4 * heartbeat

// fenceSchema is a migrated schema and a store on it that runs no watcher,
// as the CLI does.
func fenceSchema(t *testing.T) (dbURL string, revoker *postgres.Store) {
	t.Helper()
	dbURL = testdb.PostgresURL(t)
	revoker = MustOpen(t, dbURL)
	if err := revoker.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return dbURL, revoker
}

// proxied is dbURL through p, in clear so that p can tell the listener.
func proxied(t *testing.T, dbURL string, p *proxy) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.addr()
	q := u.Query()
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	return u.String()
}

func await(t *testing.T, s *postgres.Store) time.Duration {
	t.Helper()
	start := time.Now()
	if err := s.AwaitRevocations(context.Background()); err != nil {
		t.Fatalf("AwaitRevocations: %v", err)
	}
	return time.Since(start)
}

func lastToken(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(`SELECT last_value FROM fence_tokens`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func ackedToken(t *testing.T, db *sql.DB, in *instance) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(`SELECT acked_token FROM instances WHERE id = $1`, in.watcher.InstanceID()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// leaseExpired reports whether the instance's lease has run out in
// database time (a missing row counts as expired).
func leaseExpired(t *testing.T, db *sql.DB, id string) bool {
	t.Helper()
	var live bool
	err := db.QueryRow(`SELECT lease_expires_at > now() FROM instances WHERE id = $1`, id).Scan(&live)
	if errors.Is(err, sql.ErrNoRows) {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return !live
}

// TestFenceHealthyInstancesAcknowledge revokes from a store without a
// watcher while three instances listen: every AwaitRevocations returns
// after each instance evicted the key and recorded a token drawn after the
// revocation, and promptly, since none has to wait out a lease.
func TestFenceHealthyInstancesAcknowledge(t *testing.T) {
	dbURL, revoker := fenceSchema(t)
	admin := revoker.SQL()
	ins := []*instance{newInstance(t, dbURL), newInstance(t, dbURL), newInstance(t, dbURL)}
	for _, in := range ins {
		in.start(t)
	}
	const rounds = 40
	var took []time.Duration
	for range rounds {
		k := storetest.MustAPIKey(t, revoker)
		before := lastToken(t, admin)
		revoke(t, revoker, k)
		took = append(took, await(t, revoker))
		for i, in := range ins {
			if !in.ev.has(k.ID) {
				t.Fatalf("AwaitRevocations returned before instance %d evicted %s", i, k.ID)
			}
			if got := ackedToken(t, admin, in); got <= before {
				t.Fatalf("instance %d acknowledged token %d, want > %d (drawn after the revocation)", i, got, before)
			}
		}
	}
	slices.Sort(took)
	p50, p90, worst := took[len(took)/2], took[len(took)*9/10-1], took[len(took)-1]
	t.Logf("AwaitRevocations with 3 healthy instances, %d rounds: p50 %v, p90 %v, max %v", rounds, p50, p90, worst)
	// Waiting out a lease would take at least its give-up time (200 ms).
	if p90 > lease/4 {
		t.Errorf("AwaitRevocations p90 %v with healthy instances, want ≤ %v", p90, lease/4)
	}
}

// TestFenceLeaseOutlivesTrust cuts a watcher off two ways and samples its
// lease in the database and its Sync: once the database says the lease has
// run out, the watcher must already have stopped trusting its cache.
func TestFenceLeaseOutlivesTrust(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode freeze
	}{
		{"listener blocked", freezeListeners}, // the writer can still release the lease
		{"all connections blackholed", freezeAll},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dbURL, revoker := fenceSchema(t)
			admin := revoker.SQL()
			p := startProxy(t, mustHost(t, dbURL))
			in := newInstance(t, proxied(t, dbURL, p))
			in.start(t)
			id := in.watcher.InstanceID()

			p.freeze(tc.mode)
			frozenAt := time.Now()
			var untrustedAt, expiredAt time.Duration
			for expiredAt == 0 {
				if time.Since(frozenAt) > 5*time.Second {
					t.Fatalf("the lease did not run out within 5 s of the freeze")
				}
				expired := leaseExpired(t, admin, id) // first the database ...
				trusted := in.watcher.Sync(ctx)       // ... then the watcher
				if expired && trusted {
					t.Fatalf("%v after the freeze the lease had run out in the database while the watcher still trusted its cache", time.Since(frozenAt))
				}
				if !trusted && untrustedAt == 0 {
					untrustedAt = time.Since(frozenAt)
				}
				if expired {
					expiredAt = time.Since(frozenAt)
				}
				time.Sleep(time.Millisecond)
			}
			t.Logf("after the freeze: Sync false from %v, database lease over from %v (trust window %v, lease %v)", untrustedAt, expiredAt, lease*3/4, lease)
			if untrustedAt > lease*3/4+100*time.Millisecond {
				t.Errorf("Sync true %v after the freeze, want false within the trust window %v", untrustedAt, lease*3/4)
			}
			p.thaw(true)
			eventually(t, 10*time.Second, "Sync true after the partition", func() bool { return in.watcher.Sync(ctx) })
		})
	}
}

func mustHost(t *testing.T, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Port() == "" {
		return u.Hostname() + ":5432"
	}
	return u.Host
}

// TestFenceBoundedByStalledInstance revokes while one of three instances
// is cut off: AwaitRevocations returns within the lease of the cut-off,
// after the healthy instances evicted the key, and by then the stalled one
// no longer trusts its cache. After the partition it catches up.
func TestFenceBoundedByStalledInstance(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode freeze
	}{
		{"listener blocked", freezeListeners},
		{"all connections blackholed", freezeAll},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dbURL, revoker := fenceSchema(t)
			p := startProxy(t, mustHost(t, dbURL))
			stalled := newInstance(t, proxied(t, dbURL, p))
			healthy := []*instance{newInstance(t, dbURL), newInstance(t, dbURL)}
			for _, in := range append([]*instance{stalled}, healthy...) {
				in.start(t)
			}
			k := storetest.MustAPIKey(t, revoker)
			mark := stalled.ev.mark()

			p.freeze(tc.mode)
			frozenAt := time.Now()
			revoke(t, revoker, k)
			took := await(t, revoker)
			sinceFreeze := time.Since(frozenAt)
			if stalled.watcher.Sync(ctx) {
				t.Fatal("AwaitRevocations returned while the cut-off instance still trusted its cache")
			}
			if stalled.ev.coveredSince(mark, k.ID) {
				t.Fatal("the cut-off instance heard the revocation: it was not cut off")
			}
			for i, in := range healthy {
				if !in.ev.has(k.ID) {
					t.Fatalf("AwaitRevocations returned before healthy instance %d evicted %s", i, k.ID)
				}
			}
			t.Logf("AwaitRevocations with one instance cut off: %v (%v after the cut; bound: the lease, %v)", took, sinceFreeze, lease)
			if sinceFreeze > lease+200*time.Millisecond {
				t.Errorf("AwaitRevocations returned %v after the cut, want ≤ the lease %v (+200 ms for the query on a loaded machine)", sinceFreeze, lease)
			}

			// A second revocation does not wait again: the lease is over.
			k2 := storetest.MustAPIKey(t, revoker)
			revoke(t, revoker, k2)
			if took := await(t, revoker); took > lease/4 {
				t.Errorf("AwaitRevocations took %v with the cut-off instance's lease already over, want ≤ %v", took, lease/4)
			}

			p.thaw(true)
			eventually(t, 10*time.Second, "Sync true after the partition", func() bool { return stalled.watcher.Sync(ctx) })
			if !stalled.ev.coveredSince(mark, k.ID) || !stalled.ev.coveredSince(mark, k2.ID) {
				t.Fatal("the instance trusts its cache again without having evicted the keys revoked while it was cut off")
			}
			// And it takes part in the fence again.
			k3 := storetest.MustAPIKey(t, revoker)
			revoke(t, revoker, k3)
			await(t, revoker)
			if !stalled.ev.has(k3.ID) {
				t.Fatal("AwaitRevocations returned before the reconnected instance evicted the key")
			}
		})
	}
}

// TestFenceIgnoresExpiredInstances puts rows in the instances table by
// hand: an expired one does not hold a revoke up, a live one that never
// acknowledges holds it up until its lease runs out and no longer, and
// long-expired ones are pruned when a watcher starts.
func TestFenceIgnoresExpiredInstances(t *testing.T) {
	dbURL, revoker := fenceSchema(t)
	admin := revoker.SQL()
	insert := func(id, expiresIn string) {
		t.Helper()
		if _, err := admin.Exec(`INSERT INTO instances (id, lease_expires_at, acked_token, started_at, updated_at)
			VALUES ($1, now() + $2::interval, 0, now(), now())`, id, expiresIn); err != nil {
			t.Fatal(err)
		}
	}
	insert("crashed", "-1 second")
	insert("ancient", "-11 minutes")
	if took := await(t, revoker); took > lease/4 {
		t.Errorf("AwaitRevocations took %v with only expired instances, want ≤ %v", took, lease/4)
	}

	insert("silent", "300 milliseconds")
	took := await(t, revoker)
	t.Logf("AwaitRevocations with a live instance that never acknowledges (lease 300 ms): %v", took)
	if took < 200*time.Millisecond || took > 300*time.Millisecond+lease/4 {
		t.Errorf("AwaitRevocations took %v with a silent instance's lease running 300 ms, want about 300 ms", took)
	}

	in := newInstance(t, dbURL)
	in.start(t)
	var ids []string
	rows, err := admin.Query(`SELECT id FROM instances ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if slices.Contains(ids, "ancient") || !slices.Contains(ids, "crashed") || !slices.Contains(ids, in.watcher.InstanceID()) {
		t.Errorf("instances after a watcher started: %v; want the one expired for 11 minutes pruned, the recent ones kept", ids)
	}

	// Close removes the row, so revokes stop waiting at once.
	in.watcher.Close()
	if !leaseExpired(t, admin, in.watcher.InstanceID()) {
		t.Error("the instance's row outlives Close")
	}
}

// TestFenceSkipsOwnInstance cuts a watcher's listener: a revoke through
// the watcher's own store does not wait for it (the Service evicted there
// already), while a revoke through another store waits until its lease is
// over.
func TestFenceSkipsOwnInstance(t *testing.T) {
	ctx := context.Background()
	dbURL, other := fenceSchema(t)
	p := startProxy(t, mustHost(t, dbURL))
	in := newInstance(t, proxied(t, dbURL, p))
	in.start(t)
	id := in.watcher.InstanceID()

	p.freeze(freezeListeners) // the store's pool still works
	k := storetest.MustAPIKey(t, other)
	revoke(t, in.store, k)
	own := await(t, in.store)
	ownLive := !leaseExpired(t, other.SQL(), id)
	theirs := await(t, other)
	t.Logf("listener cut: AwaitRevocations through the instance's own store %v, through another %v", own, theirs)
	if !ownLive {
		t.Logf("(the instance gave its lease up before the first call returned; the first check says little)")
	} else if own > lease/4 {
		t.Errorf("AwaitRevocations through the instance's own store took %v, want ≤ %v: it waited for its own instance", own, lease/4)
	}
	if !leaseExpired(t, other.SQL(), id) || in.watcher.Sync(ctx) {
		t.Error("AwaitRevocations through another store returned while the cut-off instance held a live lease")
	}
}
