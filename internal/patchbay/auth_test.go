package patchbay_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/sqlite"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

func TestAuthenticateCreatedKey(t *testing.T) {
	e := MustEnv(t)
	pk, praw := e.MustProjectKey("ci")
	ok, oraw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "admin"})

	for _, c := range []struct {
		raw     string
		key     *patchbay.KeyRecord
		kind    patchbay.CredentialKind
		project string
	}{
		{praw, pk, patchbay.CredentialProjectKey, e.project.ID},
		{oraw, ok, patchbay.CredentialOrgKey, ""},
	} {
		for i := range 2 { // from the store, then from the cache
			p := e.MustAuth(e.auth, c.raw)
			if p.Credential.ID != c.key.ID || p.Credential.Kind != c.kind || p.ProjectID != c.project || p.OrgID != e.org.ID {
				t.Errorf("attempt %d: principal = %+v, want %s %s in project %q", i, p, c.kind, c.key.ID, c.project)
			}
			if p.Credential.Name != c.key.Name || p.Credential.Masked != c.key.Masked() || !p.Credential.CreatedAt.Equal(c.key.CreatedAt) {
				t.Errorf("attempt %d: credential = %+v, want the key's name, masked prefix and creation time", i, p.Credential)
			}
			if strings.Contains(fmt.Sprintf("%+v", p), c.raw) {
				t.Errorf("attempt %d: the principal shows the key", i)
			}
			if p.Member.ID != e.owner.ID || p.Member.Role != patchbay.RoleOwner {
				t.Errorf("attempt %d: principal member = %+v, want the owner", i, p.Member)
			}
		}
	}
	if got := e.auth.CachedKeys(); got != 2 {
		t.Errorf("CachedKeys() = %d, want 2", got)
	}
}

func TestAuthenticateRejects(t *testing.T) {
	e := MustEnv(t)
	spy := &spyStore{Store: e.st}
	auth := e.newAuth(spy, nil, patchbay.AuthOptions{})
	_, raw := e.MustProjectKey("ci")

	e.MustReject(auth, "", "missing key")
	p, err := auth.Authenticate(e.ctx, "")
	if p != nil || !strings.Contains(patchbay.ErrorMessage(err), "Missing") {
		t.Errorf("Authenticate(\"\") = %v, %v; want the missing-key message", p, err)
	}

	// Malformed keys are refused without a store read.
	typo := []byte(raw)
	typo[12] ^= 0x01
	for _, bad := range []string{string(typo), raw[:len(raw)-1], raw + "x", "Bearer " + raw, strings.ToUpper(raw), "ak_nope", "sk_live_" + raw[3:]} {
		e.MustReject(auth, bad, "malformed key")
	}
	if n := spy.lookups.Load(); n != 0 {
		t.Errorf("malformed keys caused %d store lookups, want 0", n)
	}

	// A well-formed key that was never issued.
	for _, kind := range kinds {
		unknown := MustGenerateKey(t, kind).Secret.Reveal()
		e.MustReject(auth, unknown, "unknown "+string(kind)+" key")
	}
	if n := spy.lookups.Load(); n != 2 {
		t.Errorf("unknown keys caused %d store lookups, want 2", n)
	}
	if got := auth.CachedKeys(); got != 0 {
		t.Errorf("CachedKeys() = %d after failures, want 0", got)
	}
	e.MustAuth(auth, raw)
}

// TestRevokedKeyRejectedImmediately is the core guarantee: once
// RevokeAPIKey returns, no request succeeds with the key, though it was
// cached a moment before.
func TestRevokedKeyRejectedImmediately(t *testing.T) {
	e := MustEnv(t)
	k, raw := e.MustProjectKey("ci")
	other, otherRaw := e.MustProjectKey("other")
	for range 3 {
		e.MustAuth(e.auth, raw)
		e.MustAuth(e.auth, otherRaw)
	}
	if got := e.auth.CachedKeys(); got != 2 {
		t.Fatalf("CachedKeys() = %d, want 2 before the revocation", got)
	}
	if _, err := e.svc.RevokeAPIKey(e.ctx, e.cli, k.ID); err != nil {
		t.Fatal(err)
	}
	e.MustReject(e.auth, raw, "revoked key")
	e.MustReject(e.auth, raw, "revoked key, again")
	if p := e.MustAuth(e.auth, otherRaw); p.Credential.ID != other.ID {
		t.Errorf("other key authenticated as %s", p.Credential.ID)
	}
	if got := e.auth.CachedKeys(); got != 1 {
		t.Errorf("CachedKeys() = %d, want 1 (only the other key)", got)
	}
	// Permanent: time passing and the cache cycling change nothing.
	e.clock.Advance(24 * time.Hour)
	e.MustReject(e.auth, raw, "revoked key, a day later")
}

// TestRevokeUnderLoad authenticates a key from many goroutines while
// another revokes it, and counts successes among the attempts that started
// after RevokeAPIKey had returned: there must be none.
func TestRevokeUnderLoad(t *testing.T) {
	const (
		workers = 8
		// Attempts per worker after the revocation returned. Each is a
		// store read, slow under -race; the ones that matter most are the
		// first few, which race with the eviction.
		postAttempts = 20
	)
	for _, mode := range []string{"cached", "expiring"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := MustEnv(t)
			for round := range 2 {
				k, raw := e.MustProjectKey("load")
				e.MustAuth(e.auth, raw)

				var (
					revoked                       atomic.Bool
					before, after, ok, violations atomic.Int64
					unexpected                    atomic.Int64
					firstUnexpected               atomic.Value
					wg                            sync.WaitGroup
					stopChurn                     = make(chan struct{})
					churnDone                     = make(chan struct{})
				)
				if mode == "expiring" {
					// Expire the cache again and again, so that store
					// lookups race with the revocation and its eviction.
					go func() {
						defer close(churnDone)
						for {
							select {
							case <-stopChurn:
								return
							default:
								e.clock.Advance(5 * time.Minute)
								time.Sleep(50 * time.Microsecond)
							}
						}
					}()
				} else {
					close(churnDone)
				}
				for range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for n := 0; n < postAttempts; {
							started := revoked.Load()
							_, err := e.auth.Authenticate(e.ctx, raw)
							if err != nil && patchbay.ErrorCode(err) != patchbay.EUNAUTHORIZED {
								unexpected.Add(1)
								firstUnexpected.CompareAndSwap(nil, err.Error())
							}
							if !started {
								before.Add(1)
								if err == nil {
									ok.Add(1)
								}
								continue
							}
							n++
							after.Add(1)
							if err == nil {
								violations.Add(1)
							}
						}
					}()
				}
				// Let the workers warm up, then revoke mid-stream.
				for deadline := time.Now().Add(5 * time.Second); ok.Load() < int64(50*(round+1)) && time.Now().Before(deadline); {
					time.Sleep(100 * time.Microsecond)
				}
				if _, err := e.svc.RevokeAPIKey(e.ctx, e.cli, k.ID); err != nil {
					t.Fatal(err)
				}
				revoked.Store(true)
				wg.Wait()
				close(stopChurn)
				<-churnDone

				if v := violations.Load(); v != 0 {
					t.Errorf("round %d: %d of %d attempts started after RevokeAPIKey returned and succeeded", round, v, after.Load())
				}
				if u := unexpected.Load(); u != 0 {
					t.Errorf("round %d: %d attempts failed with a non-auth error, first: %v", round, u, firstUnexpected.Load())
				}
				if ok.Load() == 0 {
					t.Errorf("round %d: no attempt succeeded before the revocation (%d attempts): the test proves nothing", round, before.Load())
				}
				if got, want := after.Load(), int64(workers*postAttempts); got != want {
					t.Errorf("round %d: %d post-revocation attempts, want %d", round, got, want)
				}
			}
		})
	}
}

// TestGenerationGuard simulates a store read that raced with a revocation:
// the lookup saw the key active, then the key was revoked and evicted before
// the result came back. The stale result may answer the request in flight,
// but it must not be cached.
func TestGenerationGuard(t *testing.T) {
	e := MustEnv(t)
	spy := &spyStore{Store: e.st}
	svc := e.newService(func(cfg *patchbay.Config) { cfg.Store = spy })
	auth := svc.Authenticator()
	k, raw := e.MustProjectKey("raced")

	spy.afterLookup = func(got *patchbay.APIKey) {
		spy.afterLookup = nil
		// A revocation commits and evicts while the lookup is in flight;
		// got still says the key is active.
		if _, err := svc.RevokeAPIKey(e.ctx, e.cli, got.ID); err != nil {
			t.Error(err)
		}
	}
	if _, err := auth.Authenticate(e.ctx, raw); err != nil {
		t.Fatalf("in-flight attempt: %v (it started before the revocation; either answer is allowed, but the test expects the stale read)", err)
	}
	if got := auth.CachedKeys(); got != 0 {
		t.Fatalf("CachedKeys() = %d after a lookup that raced with an eviction, want 0", got)
	}
	e.MustReject(auth, raw, "key revoked during the lookup")
	if !e.MustGetKey(k.ID).Revoked() {
		t.Fatal("key not revoked in the store")
	}

	// An eviction of an unrelated key during a lookup also blocks the insert
	// (the guard is coarse), but caching resumes on the next lookup.
	_, raw2 := e.MustProjectKey("second")
	spy.afterLookup = func(*patchbay.APIKey) {
		spy.afterLookup = nil
		auth.Revoked("key_unrelated")
	}
	e.MustAuth(auth, raw2)
	if got := auth.CachedKeys(); got != 0 {
		t.Fatalf("CachedKeys() = %d, want 0 after an eviction during the lookup", got)
	}
	e.MustAuth(auth, raw2)
	if got := auth.CachedKeys(); got != 1 {
		t.Fatalf("CachedKeys() = %d, want 1 once no eviction interferes", got)
	}
}

func TestLastUsedFlushedInBatches(t *testing.T) {
	e := MustEnv(t)
	spy := &spyStore{Store: e.st}
	const every = 30 * time.Second
	auth := e.newAuth(spy, nil, patchbay.AuthOptions{TouchEvery: every})
	k1, raw1 := e.MustProjectKey("one")
	k2, raw2 := e.MustProjectKey("two")

	t0 := e.clock.Now()
	for range 50 {
		e.MustAuth(auth, raw1)
		e.MustAuth(auth, raw2)
	}
	if n := spy.touches.Load(); n != 0 {
		t.Fatalf("%d TouchAPIKeys calls before any flush, want 0 (no write per request)", n)
	}
	if k := e.MustGetKey(k1.ID); k.LastUsedAt != nil {
		t.Fatalf("last_used_at = %v before any flush, want unset", k.LastUsedAt)
	}
	auth.Flush(e.ctx)
	if n := spy.touches.Load(); n != 1 {
		t.Fatalf("%d TouchAPIKeys calls after one flush, want 1", n)
	}
	if got := spy.touched[0]; len(got) != 2 || !got[k1.ID].Equal(t0) || !got[k2.ID].Equal(t0) {
		t.Fatalf("flushed batch = %v, want both keys at %v", got, t0)
	}
	for _, id := range []string{k1.ID, k2.ID} {
		if k := e.MustGetKey(id); k.LastUsedAt == nil || !k.LastUsedAt.Equal(t0) {
			t.Fatalf("last_used_at of %s = %v, want %v", id, k.LastUsedAt, t0)
		}
	}

	// Uses within TouchEvery of the recorded one are not recorded again, and
	// a flush with nothing recorded writes nothing.
	e.clock.Advance(every / 2)
	for range 10 {
		e.MustAuth(auth, raw1)
	}
	auth.Flush(e.ctx)
	if n := spy.touches.Load(); n != 1 {
		t.Fatalf("%d TouchAPIKeys calls, want still 1", n)
	}

	// Past TouchEvery the next use is recorded, and flushed in one call.
	e.clock.Advance(every)
	t1 := e.clock.Now()
	for range 10 {
		e.MustAuth(auth, raw1)
	}
	auth.Flush(e.ctx)
	auth.Flush(e.ctx)
	if n := spy.touches.Load(); n != 2 {
		t.Fatalf("%d TouchAPIKeys calls, want 2", n)
	}
	if k := e.MustGetKey(k1.ID); k.LastUsedAt == nil || !k.LastUsedAt.Equal(t1) {
		t.Fatalf("last_used_at = %v, want %v", k.LastUsedAt, t1)
	}
	if k := e.MustGetKey(k2.ID); !k.LastUsedAt.Equal(t0) {
		t.Fatalf("last_used_at of the unused key moved to %v", k.LastUsedAt)
	}
}

func TestCloseFlushesLastUsed(t *testing.T) {
	e := MustEnv(t)
	spy := &spyStore{Store: e.st}
	svc := e.newService(func(cfg *patchbay.Config) {
		cfg.Store, cfg.Auth = spy, patchbay.AuthOptions{TouchEvery: time.Hour}
	})
	if err := svc.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	k, raw := e.MustProjectKey("ci")
	for range 20 {
		e.MustAuth(svc.Authenticator(), raw)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	if n := spy.touches.Load(); n != 1 {
		t.Fatalf("%d TouchAPIKeys calls, want 1 (on Close)", n)
	}
	if got := e.MustGetKey(k.ID).LastUsedAt; got == nil || !got.Equal(e.clock.Now()) {
		t.Fatalf("last_used_at = %v, want %v", got, e.clock.Now())
	}
}

func TestCacheTTLExpiry(t *testing.T) {
	e := MustEnv(t)
	spy := &spyStore{Store: e.st}
	const ttl = time.Minute
	auth := e.newAuth(spy, nil, patchbay.AuthOptions{CacheTTL: ttl})
	k, raw := e.MustProjectKey("ci")

	e.MustAuth(auth, raw)
	e.clock.Advance(ttl - time.Second)
	e.MustAuth(auth, raw)
	if n := spy.lookups.Load(); n != 1 {
		t.Fatalf("%d lookups within the TTL, want 1", n)
	}
	e.clock.Advance(time.Second)
	e.MustAuth(auth, raw)
	if n := spy.lookups.Load(); n != 2 {
		t.Fatalf("%d lookups once the TTL passed, want 2", n)
	}
	e.MustAuth(auth, raw)
	if n := spy.lookups.Load(); n != 2 {
		t.Fatalf("%d lookups after re-caching, want 2", n)
	}

	// A revocation this Authenticator was not told about (no watcher, a
	// write behind its back) is seen at the latest when the TTL runs out.
	if _, err := e.st.RevokeAPIKey(e.ctx, e.org.ID, "", k.ID, e.owner.ID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(ttl)
	e.MustReject(auth, raw, "revoked behind the cache's back, after the TTL")
}

func TestMaxEntries(t *testing.T) {
	e := MustEnv(t)
	auth := e.newAuth(e.st, nil, patchbay.AuthOptions{MaxEntries: 2})
	var raws []string
	for _, name := range []string{"a", "b", "c"} {
		_, raw := e.MustProjectKey(name)
		raws = append(raws, raw)
	}
	for _, raw := range raws {
		e.MustAuth(auth, raw)
		e.MustAuth(auth, raw)
	}
	// The cap holds, and a full cache makes room for new keys rather than
	// freezing with old ones.
	if got := auth.CachedKeys(); got < 1 || got > 2 {
		t.Errorf("CachedKeys() = %d, want 1 or 2 (never over the maximum 2, never frozen empty)", got)
	}
}

// twoStores opens two Stores on one migrated SQLite file, as two processes
// (a server and the CLI, or two instances) would.
func twoStores(t *testing.T) (*sqlite.Store, *sqlite.Store) {
	t.Helper()
	ctx := context.Background()
	path := testdb.SQLitePath(t)
	var stores [2]*sqlite.Store
	for i := range stores {
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores[i] = st
	}
	if err := stores[0].Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return stores[0], stores[1]
}

func TestWatcherSeesRevocationByAnotherProcess(t *testing.T) {
	st1, st2 := twoStores(t)
	e := MustEnvOn(t, st1)
	spy := &spyStore{Store: st1}
	auth := e.newAuth(spy, st1.NewWatcher(), patchbay.AuthOptions{})
	if err := auth.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	k, raw := e.MustProjectKey("ci")
	_, otherRaw := e.MustProjectKey("other")

	for range 5 {
		e.MustAuth(auth, raw)
		e.MustAuth(auth, otherRaw)
	}
	if n := spy.lookups.Load(); n != 2 {
		t.Fatalf("%d lookups, want 2: with a quiet watcher the cache is trusted", n)
	}

	// The other process: its own Store, its own Service, no Authenticator.
	cli := e.newService(func(cfg *patchbay.Config) { cfg.Store, cfg.Sealer = st2, storeKeyring{e.kr, st2} })
	if _, err := cli.RevokeAPIKey(e.ctx, e.cli, k.ID); err != nil {
		t.Fatal(err)
	}
	e.MustReject(auth, raw, "key revoked by another process, next request")
	e.MustAuth(auth, otherRaw)
	if got := auth.CachedKeys(); got != 1 {
		t.Errorf("CachedKeys() = %d, want 1 (the other key stays cached)", got)
	}

	// Unrelated writes by the other process evict nothing.
	before := spy.lookups.Load()
	if _, err := cli.CreateProject(e.ctx, e.cli, "from the CLI", true); err != nil {
		t.Fatal(err)
	}
	e.MustAuth(auth, otherRaw)
	if n := spy.lookups.Load(); n != before {
		t.Errorf("an unrelated write by another process caused %d lookups", n-before)
	}

	// Direct store revocation (no Service) is seen too.
	k3, raw3 := e.MustProjectKey("third")
	e.MustAuth(auth, raw3)
	if _, err := st2.RevokeAPIKey(e.ctx, e.org.ID, "", k3.ID, e.owner.ID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.MustReject(auth, raw3, "key revoked through the other store")
}

// TestWatcherFailsClosed: when the watcher cannot vouch for the cache
// (never started, or closed), every request reads the store.
func TestWatcherFailsClosed(t *testing.T) {
	e := MustEnv(t)
	_, raw := e.MustProjectKey("ci")

	spy := &spyStore{Store: e.st}
	notStarted := e.newAuth(spy, e.st.NewWatcher(), patchbay.AuthOptions{})
	for range 3 {
		e.MustAuth(notStarted, raw)
	}
	if n := spy.lookups.Load(); n != 3 || notStarted.CachedKeys() != 0 {
		t.Fatalf("unstarted watcher: %d lookups, %d cached; want 3, 0", n, notStarted.CachedKeys())
	}

	spy2 := &spyStore{Store: e.st}
	closed := e.newAuth(spy2, e.st.NewWatcher(), patchbay.AuthOptions{})
	if err := closed.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.MustAuth(closed, raw)
	e.MustAuth(closed, raw)
	if n := spy2.lookups.Load(); n != 1 {
		t.Fatalf("started watcher: %d lookups, want 1", n)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	e.MustAuth(closed, raw)
	e.MustAuth(closed, raw)
	if n := spy2.lookups.Load(); n != 3 {
		t.Fatalf("closed watcher: %d lookups, want 3 (every request reads the store)", n)
	}
}
