package patchbay

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// AuthOptions tunes an Authenticator. Zero values take the defaults.
type AuthOptions struct {
	// CacheTTL bounds how long a verification is reused even when the
	// Watcher is healthy: defence in depth, not the revocation mechanism.
	CacheTTL time.Duration // default 5m
	// MaxEntries bounds the cache; past it, verifications are not cached.
	MaxEntries int // default 100,000
	// TouchEvery is the resolution of last_used_at: a key's use is recorded
	// at most once per TouchEvery, and recorded uses are flushed to the store
	// in one batch every TouchEvery, so there is no write per request.
	TouchEvery time.Duration // default 30s
}

// Authenticator verifies API keys. Verified keys are cached in memory; the
// cache is evicted synchronously by Revoked on this instance and through the
// Watcher for revocations made elsewhere. When the Watcher cannot vouch for
// the cache, every request reads the store (fail closed).
type Authenticator struct {
	store   Store
	watcher Watcher
	now     func() time.Time
	log     *slog.Logger
	cfg     AuthOptions
	// resolve builds the principal of a verified key (its project's facts
	// included), once per cache fill.
	resolve func(ctx context.Context, k *APIKey, m *Member) (*Principal, error)

	// Counters for metrics.
	hits, misses, failures atomic.Uint64

	mu      sync.RWMutex // guards entries, byID and gen
	entries map[[32]byte]*cacheEntry
	byID    map[string][32]byte
	// gen counts evictions. A verification read from the store is cached
	// only if gen has not moved since the read began, so a revocation that
	// lands between the read and the insert cannot be undone by the insert.
	gen uint64

	touchMu sync.Mutex // guards touched
	touched map[string]time.Time

	stop chan struct{}
	done chan struct{}
}

type cacheEntry struct {
	p        *Principal // shared by every request that hits the entry: read-only
	keyID    string
	cachedAt time.Time
	lastUse  atomic.Int64 // unix nanos of the last recorded use
}

// newAuthenticator returns an Authenticator over store. watcher may be nil
// only for a store no other process writes to (tests).
func newAuthenticator(store Store, watcher Watcher, now func() time.Time, log *slog.Logger, cfg AuthOptions,
	resolve func(context.Context, *APIKey, *Member) (*Principal, error)) *Authenticator {
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 5 * time.Minute
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = 100_000
	}
	if cfg.TouchEvery == 0 {
		cfg.TouchEvery = 30 * time.Second
	}
	return &Authenticator{
		store: store, watcher: watcher, now: now, log: log, cfg: cfg, resolve: resolve,
		entries: make(map[[32]byte]*cacheEntry),
		byID:    make(map[string][32]byte),
		touched: make(map[string]time.Time),
	}
}

// Start begins watching for revocations and flushing last-use times. Stop it
// with Close.
func (a *Authenticator) Start(ctx context.Context) error {
	if a.watcher != nil {
		if err := a.watcher.Start(ctx, a.evict, a.evictAll); err != nil {
			return err
		}
	}
	a.stop, a.done = make(chan struct{}), make(chan struct{})
	go a.flushLoop()
	return nil
}

// Close stops the Authenticator and flushes pending last-use times.
func (a *Authenticator) Close() error {
	if a.stop != nil {
		close(a.stop)
		<-a.done
		a.stop = nil
	} else {
		a.Flush(context.Background())
	}
	if a.watcher != nil {
		return a.watcher.Close()
	}
	return nil
}

var (
	errNoKey      = Errorf(EUNAUTHORIZED, "Missing API key: send it in the X-API-KEY header.")
	errUnknownKey = Errorf(EUNAUTHORIZED, "Invalid API key: no such key.")
	errRevokedKey = Errorf(EUNAUTHORIZED, "Invalid or revoked API key.")
)

// Authenticate verifies a raw key. Every failure is EUNAUTHORIZED and its
// message never contains the key. The Principal may be shared with other
// requests: callers must not modify it.
func (a *Authenticator) Authenticate(ctx context.Context, raw string) (*Principal, error) {
	p, err := a.authenticate(ctx, raw)
	if err != nil && ErrorCode(err) == EUNAUTHORIZED {
		a.failures.Add(1)
	}
	return p, err
}

func (a *Authenticator) authenticate(ctx context.Context, raw string) (*Principal, error) {
	if raw == "" {
		return nil, errNoKey
	}
	_, h, err := VerifyKeyFormat(raw)
	if err != nil {
		return nil, err
	}
	now := a.now()

	trusted := a.watcher == nil || a.watcher.Sync(ctx)
	if trusted {
		a.mu.RLock()
		e := a.entries[h]
		a.mu.RUnlock()
		if e != nil && now.Sub(e.cachedAt) < a.cfg.CacheTTL {
			a.hits.Add(1)
			a.recordUse(e, now)
			return e.p, nil
		}
	}
	a.misses.Add(1)

	a.mu.RLock()
	gen := a.gen
	a.mu.RUnlock()
	key, member, err := a.store.LookupAPIKey(ctx, h)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return nil, errUnknownKey
	case err != nil:
		return nil, err
	}
	// The hash matched through an index; compare again in constant time so
	// the decision never rests on a variable-time comparison.
	if subtle.ConstantTimeCompare(key.Hash[:], h[:]) != 1 {
		return nil, errUnknownKey
	}
	if key.Revoked() {
		return nil, errRevokedKey
	}
	p, err := a.resolve(ctx, key, member)
	if err != nil {
		return nil, err
	}
	e := &cacheEntry{p: p, cachedAt: now, keyID: key.ID}
	if trusted {
		a.mu.Lock()
		if len(a.entries) >= a.cfg.MaxEntries {
			a.sweep(now)
		}
		if a.gen == gen && len(a.entries) < a.cfg.MaxEntries {
			a.entries[h] = e
			a.byID[key.ID] = h
		}
		a.mu.Unlock()
	}
	a.recordUse(e, now)
	return e.p, nil
}

// authenticateID verifies a key known by its ID (the key a signed MCP URL
// acts as), not its plaintext: the key must exist in the project and be
// live. It shares the cache, and its eviction, with Authenticate.
func (a *Authenticator) authenticateID(ctx context.Context, orgID, projectID, keyID string) (*Principal, error) {
	now := a.now()
	trusted := a.watcher == nil || a.watcher.Sync(ctx)
	if trusted {
		a.mu.RLock()
		var e *cacheEntry
		if h, ok := a.byID[keyID]; ok {
			e = a.entries[h]
		}
		a.mu.RUnlock()
		if e != nil && now.Sub(e.cachedAt) < a.cfg.CacheTTL && e.p.OrgID == orgID && e.p.ProjectID == projectID {
			a.hits.Add(1)
			a.recordUse(e, now)
			return e.p, nil
		}
	}
	a.misses.Add(1)
	a.mu.RLock()
	gen := a.gen
	a.mu.RUnlock()
	key, err := a.store.GetAPIKey(ctx, orgID, projectID, keyID)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return nil, errUnknownKey
	case err != nil:
		return nil, err
	case key.Revoked():
		return nil, errRevokedKey
	}
	member, err := a.store.GetMember(ctx, orgID, key.CreatedBy)
	if err != nil {
		return nil, err
	}
	p, err := a.resolve(ctx, key, member)
	if err != nil {
		return nil, err
	}
	e := &cacheEntry{p: p, cachedAt: now, keyID: key.ID}
	if trusted {
		a.mu.Lock()
		if a.gen == gen && len(a.entries) < a.cfg.MaxEntries {
			a.entries[key.Hash] = e
			a.byID[key.ID] = key.Hash
		}
		a.mu.Unlock()
	}
	a.recordUse(e, now)
	return e.p, nil
}

// Revoked evicts a key revoked on this instance. The Service calls it after
// the revocation commits and before the revoke call returns.
func (a *Authenticator) Revoked(keyID string) { a.evict(keyID) }

func (a *Authenticator) evict(keyID string) {
	a.mu.Lock()
	a.gen++
	if h, ok := a.byID[keyID]; ok {
		delete(a.entries, h)
		delete(a.byID, keyID)
	}
	a.mu.Unlock()
}

func (a *Authenticator) evictAll() {
	a.mu.Lock()
	a.gen++
	clear(a.entries)
	clear(a.byID)
	a.mu.Unlock()
}

// sweep drops expired entries; if none expired, it drops them all, so a
// full cache keeps serving recent keys instead of freezing. a.mu is held.
func (a *Authenticator) sweep(now time.Time) {
	for h, e := range a.entries {
		if now.Sub(e.cachedAt) >= a.cfg.CacheTTL {
			delete(a.entries, h)
			delete(a.byID, e.keyID)
		}
	}
	if len(a.entries) >= a.cfg.MaxEntries {
		clear(a.entries)
		clear(a.byID)
	}
}

// AuthStats are an Authenticator's counters since it was made.
type AuthStats struct {
	CacheHits, CacheMisses, Failures uint64
	Cached                           int
}

// Stats reports the Authenticator's counters.
func (a *Authenticator) Stats() AuthStats {
	return AuthStats{CacheHits: a.hits.Load(), CacheMisses: a.misses.Load(), Failures: a.failures.Load(), Cached: a.CachedKeys()}
}

// CachedKeys reports how many verifications are cached.
func (a *Authenticator) CachedKeys() int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.entries)
}

// recordUse notes a use at most once per TouchEvery per cached entry, so the
// hot path is one atomic load.
func (a *Authenticator) recordUse(e *cacheEntry, now time.Time) {
	last := e.lastUse.Load()
	if now.UnixNano()-last < int64(a.cfg.TouchEvery) {
		return
	}
	if !e.lastUse.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	a.touchMu.Lock()
	a.touched[e.keyID] = now
	a.touchMu.Unlock()
}

func (a *Authenticator) flushLoop() {
	defer close(a.done)
	t := time.NewTicker(a.cfg.TouchEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			a.Flush(context.Background())
		case <-a.stop:
			a.Flush(context.Background())
			return
		}
	}
}

// Flush writes recorded last-use times to the store in one batch.
func (a *Authenticator) Flush(ctx context.Context) {
	a.touchMu.Lock()
	batch := a.touched
	a.touched = make(map[string]time.Time)
	a.touchMu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := a.store.TouchAPIKeys(ctx, batch); err != nil {
		a.log.Warn("recording API key use", "keys", len(batch), "err", err)
	}
}

// Trusted reports whether the cache may be trusted right now: the Watcher
// vouches for it (on PostgreSQL: the instance holds a fresh lease).
func (a *Authenticator) Trusted(ctx context.Context) bool {
	return a.watcher == nil || a.watcher.Sync(ctx)
}
