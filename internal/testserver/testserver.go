// Package testserver runs a complete in-process patchbay (store, keyring,
// catalog, service, HTTP API) on a loopback port for tests, on SQLite or on
// a PostgreSQL schema of its own, with an owner key, an organization key and
// a member-role key ready.
package testserver

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/catalog"
	"github.com/patchbay-dev/patchbay/internal/httpapi"
	"github.com/patchbay-dev/patchbay/internal/keyring"
	"github.com/patchbay-dev/patchbay/internal/outbound"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/postgres"
	"github.com/patchbay-dev/patchbay/internal/sqlite"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

// Backend names a store.
type Backend string

const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Backends are the stores every API test runs on.
var Backends = []Backend{SQLite, Postgres}

// Options tune Start.
type Options struct {
	Log      io.Writer       // where server logs go (default: discarded)
	Outbound outbound.Config // upstream overrides and allowed hosts
	Auth     patchbay.AuthOptions
}

// Server is a running patchbay.
type Server struct {
	URL     string
	Service *patchbay.Service
	Auth    *patchbay.Authenticator
	Store   patchbay.Store
	Org     *patchbay.Organization
	Project *patchbay.Project
	Owner   *patchbay.Member

	OwnerKey  string // project key acting as the owner
	OrgKey    string // organization key acting as the owner
	MemberKey string // project key acting as a member-role member

	// Handler is the HTTP API itself, for in-process benchmarks.
	Handler http.Handler

	// DSN opens the same database for a test's own SQL: a SQLite file
	// path or a PostgreSQL URL.
	DSN string
}

type migrator interface {
	patchbay.Store
	Migrate(ctx context.Context) error
}

// Start runs a patchbay on backend until t ends.
func Start(t testing.TB, backend Backend, opts Options) *Server {
	t.Helper()
	var (
		st      migrator
		watcher patchbay.Watcher
		dsn     string
	)
	ctx := context.Background()
	log := newLogger(opts)
	switch backend {
	case SQLite:
		dsn = testdb.SQLitePath(t)
		s, err := sqlite.Open(ctx, dsn)
		must(t, err)
		t.Cleanup(func() { s.Close() })
		must(t, s.Migrate(ctx))
		st, watcher = s, s.NewWatcher()
	case Postgres:
		dsn = testdb.PostgresURL(t)
		s, err := postgres.Open(ctx, dsn)
		must(t, err)
		t.Cleanup(func() { s.Close() })
		must(t, s.Migrate(ctx))
		st, watcher = s, s.NewWatcher(log)
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	s, err := assemble(st, watcher, log, opts, t.Cleanup)
	if err != nil {
		t.Fatal(err)
	}
	s.DSN = dsn
	return s
}

// StartMain runs a patchbay for code that has no testing.TB: a TestMain,
// or the examples of a package. Only the SQLite backend is offered (in a
// temporary directory); stop shuts the server down and removes its files.
func StartMain(backend Backend, opts Options) (s *Server, stop func(), err error) {
	if backend != SQLite {
		return nil, nil, fmt.Errorf("testserver: StartMain supports %s only, not %q", SQLite, backend)
	}
	var cleanups []func()
	undo := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	defer func() {
		if err != nil {
			undo()
		}
	}()
	dir, err := os.MkdirTemp("", "patchbay-testserver-")
	if err != nil {
		return nil, nil, err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	ctx := context.Background()
	dsn := filepath.Join(dir, "patchbay.db")
	st, err := sqlite.Open(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	cleanups = append(cleanups, func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		return nil, nil, err
	}
	s, err = assemble(st, st.NewWatcher(), newLogger(opts), opts, func(f func()) { cleanups = append(cleanups, f) })
	if err != nil {
		return nil, nil, err
	}
	s.DSN = dsn
	return s, undo, nil
}

func newLogger(opts Options) *slog.Logger {
	w := opts.Log
	if w == nil {
		w = io.Discard
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// assemble builds the keyring, catalog, service and HTTP server over a
// migrated store, bootstraps an organization and creates the test keys.
// cleanup registers what to undo when the server is done (run last-first).
func assemble(st migrator, watcher patchbay.Watcher, log *slog.Logger, opts Options, cleanup func(func())) (*Server, error) {
	ctx := context.Background()
	root, err := keyring.NewRootKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	rk, err := keyring.ParseRootKey(root)
	if err != nil {
		return nil, err
	}
	kr, err := keyring.Open(ctx, st, rk, rand.Reader, time.Now)
	if err != nil {
		return nil, err
	}
	cat, err := catalog.Load()
	if err != nil {
		return nil, err
	}
	auth := patchbay.NewAuthenticator(st, watcher, time.Now, log, opts.Auth)
	if err := auth.Start(ctx); err != nil {
		return nil, err
	}
	cleanup(func() { auth.Close() })
	svc := &patchbay.Service{Store: st, Sealer: kr, Catalog: cat, Checker: outbound.New(opts.Outbound), Auth: auth,
		Now: time.Now, Rand: rand.Reader, Log: log}
	if f, ok := st.(patchbay.Fence); ok {
		svc.Fence = f
	}
	org, _, err := svc.Bootstrap(ctx, "owner@example.com")
	if err != nil {
		return nil, err
	}
	owner, err := svc.Owner(ctx, org.ID)
	if err != nil {
		return nil, err
	}
	projects, err := st.ListProjects(ctx, org.ID, "", 1)
	if err != nil {
		return nil, err
	}
	api := httpapi.New(httpapi.Config{Service: svc, Auth: auth, Log: log, Now: time.Now, AccessLog: true,
		Ready: func(ctx context.Context) error { return st.Ping(ctx) }})
	hs := httptest.NewServer(api)
	cleanup(hs.Close)

	s := &Server{URL: hs.URL, Handler: api, Service: svc, Auth: auth, Store: st, Org: org, Project: projects[0], Owner: owner}
	a := patchbay.Actor{Member: *owner, IP: "test"}
	if s.OwnerKey, err = s.newKey(a, patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: org.ID, ProjectID: s.Project.ID, Name: "owner"}); err != nil {
		return nil, err
	}
	if s.OrgKey, err = s.newKey(a, patchbay.NewKey{Kind: patchbay.KeyKindOrg, OrgID: org.ID, Name: "org"}); err != nil {
		return nil, err
	}
	member, err := svc.AddMember(ctx, a, org.ID, "member@example.com", "Member", patchbay.RoleMember)
	if err != nil {
		return nil, err
	}
	if s.MemberKey, err = s.newKey(a, patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: org.ID, ProjectID: s.Project.ID, Name: "member", Owner: member}); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) newKey(a patchbay.Actor, nk patchbay.NewKey) (string, error) {
	_, tok, err := s.Service.CreateAPIKey(context.Background(), a, nk)
	if err != nil {
		return "", err
	}
	return tok.Secret.Reveal(), nil
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
