// Package app assembles patchbay: it opens the configured store, checks the
// root key before writing anything, migrates, opens the keyring, builds the
// Service and every HTTP surface over it. The binary (cmd/patchbay) and the
// test server (internal/testserver) both start patchbay through Open, so
// tests run exactly what ships.
package app

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patchbay-dev/patchbay/internal/catalog"
	"github.com/patchbay-dev/patchbay/internal/config"
	"github.com/patchbay-dev/patchbay/internal/keyring"
	"github.com/patchbay-dev/patchbay/internal/outbound"
	"github.com/patchbay-dev/patchbay/internal/password"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/postgres"
	"github.com/patchbay-dev/patchbay/internal/sqlite"
)

// store is what both concrete stores offer the wiring.
type store interface {
	patchbay.Store
	Migrate(ctx context.Context) error
	// Pools are the store's connection pools, for metrics.
	Pools() map[string]*sql.DB
}

// App is an opened patchbay.
type App struct {
	// Service is the domain, the only door to the store.
	Service *patchbay.Service
	// Org is the installation's first organization, the one the CLI
	// administers.
	Org *patchbay.Organization

	cfg     config.Config
	opts    Options
	log     *slog.Logger
	store   store
	watcher patchbay.Watcher
	keyring *keyring.Keyring
	metrics *prometheus.Registry
	bgStop  context.CancelFunc
	bgDone  chan struct{}
}

// Options tune what config.Config does not reach (tests).
type Options struct {
	Auth patchbay.AuthOptions
	// Outbound replaces the outbound settings derived from the config.
	Outbound *outbound.Config
	// LeakReportsPerMinute limits leaked-key reports per address.
	LeakReportsPerMinute int
	// OwnerEmail is the bootstrapped owner's (default owner@patchbay.local).
	OwnerEmail string
}

const devRootKeyFile = "root.key"

// Open opens the configured database, checks the root key against it
// before writing anything (a malformed key creates nothing at all), then
// migrates, opens the keyring and bootstraps an organization, a project and
// an owner on first start.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (*App, error) {
	a := &App{cfg: cfg, log: log, opts: opts}
	// A configured root key is parsed before the data dir or the database
	// is touched: a malformed key must leave a fresh data dir uncreated.
	root, configured, err := configuredRootKey(cfg)
	if err != nil {
		return nil, err
	}
	openCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if cfg.DatabaseURL == "" || !configured {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
	}
	if cfg.DatabaseURL != "" {
		pg, err := postgres.Open(openCtx, cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("database %s is unreachable: %w", cfg.RedactedDatabaseURL(), err)
		}
		a.store, a.watcher = pg, pg.NewWatcher(log)
	} else {
		path := filepath.Join(cfg.DataDir, "patchbay.db")
		lite, err := sqlite.Open(openCtx, path)
		if err != nil {
			return nil, err
		}
		a.store, a.watcher = lite, lite.NewWatcher()
	}
	if !configured {
		if root, err = a.devRootKey(openCtx); err != nil {
			a.store.Close()
			return nil, err
		}
	}
	if err := a.init(openCtx, root); err != nil {
		a.store.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) init(ctx context.Context, root patchbay.Secret) error {
	if err := keyring.Check(ctx, a.store, root); err != nil {
		return err
	}
	if err := a.store.Migrate(ctx); err != nil {
		return err
	}
	var err error
	if a.keyring, err = keyring.Open(ctx, a.store, root, rand.Reader, time.Now); err != nil {
		return err
	}
	cat, err := catalog.Load()
	if err != nil {
		return fmt.Errorf("toolkit catalog: %w", err)
	}
	oc := outbound.Config{Overrides: a.cfg.UpstreamOverrides, AllowHosts: a.cfg.OutboundAllowHosts, Timeout: a.cfg.OutboundTimeout}
	if a.opts.Outbound != nil {
		oc = *a.opts.Outbound
	}
	out := outbound.New(oc)
	apps, err := loadOAuthApps(a.cfg.OAuthAppsFile, cat)
	if err != nil {
		return err
	}
	sc := patchbay.Config{
		Store: a.store, Sealer: sealer{a.keyring, a.store}, Catalog: cat, Checker: out, Caller: out, Passwords: password.New(),
		OAuth: out, OAuthApps: apps,
		Watcher: a.watcher, Auth: a.opts.Auth, Now: time.Now, Rand: rand.Reader, Log: a.log,
		Logs: patchbay.LogOptions{OmitPayloads: !a.cfg.LogPayloads, Retention: a.cfg.LogRetention},
	}
	if f, ok := a.store.(patchbay.Fence); ok {
		sc.Fence = f
	}
	a.Service = patchbay.NewService(sc)
	owner := a.opts.OwnerEmail
	if owner == "" {
		owner = "owner@patchbay.local"
	}
	org, created, err := a.Service.Bootstrap(ctx, owner)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if created {
		a.log.Info("bootstrapped a new installation: organization, default project and owner created", "org", org.ID)
	}
	a.Org = org
	return nil
}

// configuredRootKey parses the root key given by PATCHBAY_ROOT_KEY or
// PATCHBAY_ROOT_KEY_FILE; configured is false when neither is set. It opens
// nothing but the key file.
func configuredRootKey(cfg config.Config) (root patchbay.Secret, configured bool, err error) {
	switch {
	case cfg.RootKey != "":
		k, err := keyring.ParseRootKey(cfg.RootKey)
		if err != nil {
			return k, true, fmt.Errorf("PATCHBAY_ROOT_KEY: %w", err)
		}
		return k, true, nil
	case cfg.RootKeyFile != "":
		k, err := readRootKey(cfg.RootKeyFile)
		return k, true, err
	}
	return patchbay.Secret{}, false, nil
}

// devRootKey is the root key when none is configured: the development key
// file in the data dir, created on a database that has never been sealed.
func (a *App) devRootKey(ctx context.Context) (patchbay.Secret, error) {
	path := filepath.Join(a.cfg.DataDir, devRootKeyFile)
	if _, err := os.Stat(path); err == nil {
		a.warnDevKey(path, false)
		return readRootKey(path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return patchbay.Secret{}, fmt.Errorf("root key file: %w", err)
	}
	terms, err := a.store.KeyTerms(ctx)
	if err != nil {
		return patchbay.Secret{}, fmt.Errorf("read keyring: %w", err)
	}
	if len(terms) > 0 {
		return patchbay.Secret{}, fmt.Errorf("this database's secrets are sealed with a root key, but none is configured: set PATCHBAY_ROOT_KEY or PATCHBAY_ROOT_KEY_FILE, or restore %s", path)
	}
	hexKey, err := keyring.NewRootKey(rand.Reader)
	if err != nil {
		return patchbay.Secret{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return patchbay.Secret{}, fmt.Errorf("create development root key: %w", err)
	}
	if _, err := f.WriteString(hexKey + "\n"); err != nil {
		f.Close()
		return patchbay.Secret{}, err
	}
	if err := f.Close(); err != nil {
		return patchbay.Secret{}, err
	}
	a.warnDevKey(path, true)
	return keyring.ParseRootKey(hexKey)
}

func (a *App) warnDevKey(path string, created bool) {
	verb := "using"
	if created {
		verb = "created"
	}
	a.log.Warn("!!! DEVELOPMENT ONLY: " + verb + " a root key file next to the database (" + path + "). " +
		"Anyone who can read both can decrypt every stored credential. In production set PATCHBAY_ROOT_KEY or PATCHBAY_ROOT_KEY_FILE and keep the key apart from the data.")
}

func readRootKey(path string) (patchbay.Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return patchbay.Secret{}, fmt.Errorf("root key file: %w", err)
	}
	k, err := keyring.ParseRootKey(string(b))
	if err != nil {
		return k, fmt.Errorf("root key file %s: %w", path, err)
	}
	return k, nil
}

// CLIPrincipal is the principal admin commands act as: the organization's
// first owner.
func (a *App) CLIPrincipal(ctx context.Context) (*patchbay.Principal, error) {
	return a.Service.CLIPrincipal(ctx, a.Org.ID)
}

// sealer is the keyring as the domain's Keyring: re-encryption reads and
// writes the store the keyring was opened on.
type sealer struct {
	*keyring.Keyring
	store keyring.SecretStore
}

func (s sealer) Reencrypt(ctx context.Context, batch int) (int, error) {
	return s.Keyring.Reencrypt(ctx, s.store, batch)
}

// Start begins the background work of a serving instance: watching for
// revocations made elsewhere, flushing key last-use times, and refreshing
// the keyring (picking up rotations, re-encrypting old values).
func (a *App) Start(ctx context.Context) error {
	if err := a.Service.Start(ctx); err != nil {
		return fmt.Errorf("start revocation watcher: %w", err)
	}
	bg, stop := context.WithCancel(context.Background())
	a.bgStop, a.bgDone = stop, make(chan struct{})
	go func() {
		defer close(a.bgDone)
		a.keyring.Run(bg, a.store, 10*time.Second, a.log)
	}()
	return nil
}

// Close stops what Start started, flushes last-use times and closes the
// database.
func (a *App) Close() error {
	if a.bgStop != nil {
		a.bgStop()
		<-a.bgDone
		a.bgStop = nil
	}
	return errors.Join(a.Service.Close(), a.store.Close())
}

// Database describes the store for logs, with any password redacted.
func (a *App) Database() string {
	if a.cfg.DatabaseURL != "" {
		return "postgres " + a.cfg.RedactedDatabaseURL()
	}
	return "sqlite " + a.cfg.DataDir
}

// loadOAuthApps reads the operator's managed OAuth apps file ("" for
// none); each slug must be an OAuth2 toolkit of the catalog.
func loadOAuthApps(path string, cat patchbay.Catalog) (patchbay.OAuthApps, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", patchbay.OAuthAppsEnv, err)
	}
	apps, err := patchbay.ParseOAuthApps(data)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", patchbay.OAuthAppsEnv, path, err)
	}
	for slug := range apps {
		tk, ok := cat.Toolkit(slug)
		if !ok {
			return nil, fmt.Errorf("%s %s: %q is not a toolkit of the catalog", patchbay.OAuthAppsEnv, path, slug)
		}
		hasOAuth := false
		for _, sc := range tk.AuthSchemes {
			hasOAuth = hasOAuth || sc.Mode == patchbay.AuthOAuth2 && sc.OAuth2 != nil
		}
		if !hasOAuth {
			return nil, fmt.Errorf("%s %s: toolkit %q has no OAuth2 scheme", patchbay.OAuthAppsEnv, path, slug)
		}
	}
	return apps, nil
}
