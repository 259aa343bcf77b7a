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
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/app"
	"github.com/patchbay-dev/patchbay/internal/config"
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
	// OmitLogPayloads keeps only metadata in execution logs, as
	// --execution-log-payloads=false does.
	OmitLogPayloads bool
	// OAuthAppsFile is the managed OAuth apps file, as
	// PATCHBAY_OAUTH_APPS_FILE names it.
	OAuthAppsFile string
	// Join starts a second instance on Join's PostgreSQL database, with
	// its root key and its test keys, as a replica of a deployment.
	Join *Server
}

// Server is a running patchbay.
type Server struct {
	URL     string
	Service *patchbay.Service
	Auth    *patchbay.Authenticator
	// Store is a second handle on the server's database, for a test's
	// own reads and writes; the server reaches it only through Service.
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

	rootKey string
}

// Start runs a patchbay on backend until t ends.
func Start(t testing.TB, backend Backend, opts Options) *Server {
	t.Helper()
	var cfg config.Config
	switch {
	case opts.Join != nil:
		if backend != Postgres || opts.Join.DSN == "" || !strings.Contains(opts.Join.DSN, "://") {
			t.Fatalf("testserver: Join needs two %s instances", Postgres)
		}
		cfg.DatabaseURL = opts.Join.DSN
	case backend == SQLite:
		cfg.DataDir = t.TempDir()
	case backend == Postgres:
		cfg.DatabaseURL = testdb.PostgresURL(t)
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	s, err := start(cfg, opts, t.Cleanup)
	if err != nil {
		t.Fatal(err)
	}
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
	s, err = start(config.Config{DataDir: dir}, opts, func(f func()) { cleanups = append(cleanups, f) })
	if err != nil {
		return nil, nil, err
	}
	return s, undo, nil
}

func newLogger(opts Options) *slog.Logger {
	w := opts.Log
	if w == nil {
		w = io.Discard
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// start opens patchbay exactly as the binary does (app.Open), serves it on
// a loopback port, opens a second handle on the same database for the
// tests' own reads, and creates the test keys. cleanup registers what to
// undo when the server is done (run last-first).
func start(cfg config.Config, opts Options, cleanup func(func())) (*Server, error) {
	ctx := context.Background()
	log := newLogger(opts)
	root, err := keyring.NewRootKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	if opts.Join != nil {
		root = opts.Join.rootKey
	}
	cfg.RootKey, cfg.AccessLog = root, true
	cfg.LogPayloads, cfg.LogRetention = !opts.OmitLogPayloads, 720*time.Hour
	cfg.OAuthAppsFile = opts.OAuthAppsFile
	a, err := app.Open(ctx, cfg, log, app.Options{Auth: opts.Auth, Outbound: &opts.Outbound, OwnerEmail: "owner@example.com"})
	if err != nil {
		return nil, err
	}
	cleanup(func() { a.Close() })
	if err := a.Start(ctx); err != nil {
		return nil, err
	}
	s := &Server{Service: a.Service, Auth: a.Service.Authenticator(), Org: a.Org, DSN: cfg.DatabaseURL, rootKey: root}
	if cfg.DatabaseURL != "" {
		pg, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, err
		}
		cleanup(func() { pg.Close() })
		s.Store = pg
	} else {
		s.DSN = filepath.Join(cfg.DataDir, "patchbay.db")
		lite, err := sqlite.Open(ctx, s.DSN)
		if err != nil {
			return nil, err
		}
		cleanup(func() { lite.Close() })
		s.Store = lite
	}
	s.Handler = a.Handler()
	hs := httptest.NewServer(s.Handler)
	cleanup(hs.Close)
	s.URL = hs.URL
	if j := opts.Join; j != nil {
		s.Owner, s.Project, s.OwnerKey, s.OrgKey, s.MemberKey = j.Owner, j.Project, j.OwnerKey, j.OrgKey, j.MemberKey
		return s, nil
	}

	cli, err := a.CLIPrincipal(ctx)
	if err != nil {
		return nil, err
	}
	cli.IP = "test"
	s.Owner = &cli.Member
	projects, _, err := s.Service.ListProjects(ctx, cli, "", 1)
	if err != nil {
		return nil, err
	}
	s.Project = projects[0].Project
	if s.OwnerKey, err = s.newKey(cli, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: s.Project.ID, Name: "owner"}); err != nil {
		return nil, err
	}
	if s.OrgKey, err = s.newKey(cli, patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "org"}); err != nil {
		return nil, err
	}
	member, err := s.Service.AddMember(ctx, cli, "member@example.com", "Member", patchbay.RoleMember)
	if err != nil {
		return nil, err
	}
	if s.MemberKey, err = s.newKey(cli, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: s.Project.ID, Name: "member", Owner: member}); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) newKey(p *patchbay.Principal, nk patchbay.NewKey) (string, error) {
	_, tok, err := s.Service.CreateAPIKey(context.Background(), p, nk)
	if err != nil {
		return "", err
	}
	return tok.Secret.Reveal(), nil
}
