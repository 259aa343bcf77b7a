package patchbay_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/keyring"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/sqlite"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

// clock is an injected time source that moves only when told to.
type clock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a Service over a fresh SQLite store, bootstrapped: one organization
// with its owner and default project.
type env struct {
	t       *testing.T
	ctx     context.Context
	st      *sqlite.Store
	kr      *keyring.Keyring
	rootKey patchbay.Secret
	clock   *clock
	log     *slog.Logger
	svc     *patchbay.Service
	auth    *patchbay.Authenticator
	org     *patchbay.Organization
	owner   *patchbay.Member
	actor   patchbay.Actor // the owner, from the CLI
	project *patchbay.Project
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// MustEnv returns a bootstrapped env on its own SQLite file.
func MustEnv(t *testing.T) *env {
	t.Helper()
	return MustEnvOn(t, testdb.SQLite(t))
}

// MustEnvOn returns a bootstrapped env on st.
func MustEnvOn(t *testing.T, st *sqlite.Store) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), st: st, clock: newClock(), log: testLogger(t)}
	root, err := keyring.NewRootKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if e.rootKey, err = keyring.ParseRootKey(root); err != nil {
		t.Fatal(err)
	}
	if e.kr, err = keyring.Open(e.ctx, st, e.rootKey, rand.Reader, e.clock.Now); err != nil {
		t.Fatal(err)
	}
	e.auth = e.newAuth(st, nil, patchbay.AuthOptions{})
	e.svc = &patchbay.Service{Store: st, Sealer: e.kr, Auth: e.auth, Now: e.clock.Now, Rand: rand.Reader, Log: e.log}
	org, created, err := e.svc.Bootstrap(e.ctx, "owner@example.com")
	if err != nil || !created {
		t.Fatalf("Bootstrap = %v, %v, %v", org, created, err)
	}
	e.org = org
	if e.owner, err = e.svc.Owner(e.ctx, org.ID); err != nil {
		t.Fatal(err)
	}
	e.actor = patchbay.Actor{Member: *e.owner, IP: "cli"}
	ps, err := st.ListProjects(e.ctx, org.ID, "", 10)
	if err != nil || len(ps) != 1 {
		t.Fatalf("ListProjects after Bootstrap = %v, %v; want the default project", ps, err)
	}
	e.project = ps[0]
	return e
}

// newAuth returns an Authenticator over store with the env's clock; it is
// closed when the test ends. It does not become the Service's: set svc.Auth.
func (e *env) newAuth(store patchbay.Store, w patchbay.Watcher, cfg patchbay.AuthOptions) *patchbay.Authenticator {
	a := patchbay.NewAuthenticator(store, w, e.clock.Now, e.log, cfg)
	e.t.Cleanup(func() { a.Close() })
	return a
}

// MustProjectKey creates a project key in the default project.
func (e *env) MustProjectKey(name string) (*patchbay.APIKey, string) {
	e.t.Helper()
	return e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: e.org.ID, ProjectID: e.project.ID, Name: name})
}

// MustKey creates a key as the owner and returns it with its plaintext.
func (e *env) MustKey(nk patchbay.NewKey) (*patchbay.APIKey, string) {
	e.t.Helper()
	k, tok, err := e.svc.CreateAPIKey(e.ctx, e.actor, nk)
	if err != nil {
		e.t.Fatalf("CreateAPIKey(%+v): %v", nk, err)
	}
	return k, tok.Secret.Reveal()
}

// MustMember adds a member with role to the organization.
func (e *env) MustMember(email string, role patchbay.Role) patchbay.Actor {
	e.t.Helper()
	m, err := e.svc.AddMember(e.ctx, e.actor, e.org.ID, email, string(role), role)
	if err != nil {
		e.t.Fatalf("AddMember(%s, %s): %v", email, role, err)
	}
	return patchbay.Actor{Member: *m, IP: "198.51.100.1"}
}

// MustAuth authenticates raw with a and fails the test if it is refused.
func (e *env) MustAuth(a *patchbay.Authenticator, raw string) *patchbay.Principal {
	e.t.Helper()
	p, err := a.Authenticate(e.ctx, raw)
	if err != nil {
		e.t.Fatalf("Authenticate: %v", err)
	}
	return p
}

// MustReject checks that a refuses raw with EUNAUTHORIZED and a message
// that does not contain the key.
func (e *env) MustReject(a *patchbay.Authenticator, raw, why string) {
	e.t.Helper()
	p, err := a.Authenticate(e.ctx, raw)
	if err == nil {
		e.t.Fatalf("%s: Authenticate succeeded as key %s", why, p.Key.ID)
	}
	if got := patchbay.ErrorCode(err); got != patchbay.EUNAUTHORIZED {
		e.t.Fatalf("%s: Authenticate error = %v (code %q), want %q", why, err, got, patchbay.EUNAUTHORIZED)
	}
	if len(raw) >= 8 && (strings.Contains(err.Error(), raw) || strings.Contains(patchbay.ErrorMessage(err), raw)) {
		e.t.Fatalf("%s: error %q contains the key", why, err)
	}
}

// MustGetKey reads a key from the store, revoked or not.
func (e *env) MustGetKey(id string) *patchbay.APIKey {
	e.t.Helper()
	k, err := e.st.GetAPIKey(e.ctx, e.org.ID, "", id)
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

// MustAudit lists the organization's audit events, newest first.
func (e *env) MustAudit() []*patchbay.AuditEvent {
	e.t.Helper()
	evs, err := e.st.ListAudit(e.ctx, e.org.ID, "", 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// spyStore counts and intercepts the calls an Authenticator makes.
type spyStore struct {
	patchbay.Store
	lookups atomic.Int64
	touches atomic.Int64
	// afterLookup, when set, runs after the real lookup and before its
	// result is returned.
	afterLookup func(k *patchbay.APIKey)
	touched     []map[string]time.Time // guarded by mu
	mu          sync.Mutex
}

func (s *spyStore) LookupAPIKey(ctx context.Context, hash [32]byte) (*patchbay.APIKey, *patchbay.Member, error) {
	s.lookups.Add(1)
	k, m, err := s.Store.LookupAPIKey(ctx, hash)
	if err == nil && s.afterLookup != nil {
		s.afterLookup(k)
	}
	return k, m, err
}

func (s *spyStore) TouchAPIKeys(ctx context.Context, used map[string]time.Time) error {
	s.touches.Add(1)
	s.mu.Lock()
	s.touched = append(s.touched, used)
	s.mu.Unlock()
	return s.Store.TouchAPIKeys(ctx, used)
}
