package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/patchbay-dev/patchbay/internal/catalog"
	"github.com/patchbay-dev/patchbay/internal/config"
	"github.com/patchbay-dev/patchbay/internal/keyring"
	"github.com/patchbay-dev/patchbay/internal/outbound"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/postgres"
	"github.com/patchbay-dev/patchbay/internal/sqlite"
)

// store is what both concrete stores offer the wiring.
type store interface {
	patchbay.Store
	Migrate(ctx context.Context) error
}

// app is an opened patchbay: store, keyring, service.
type app struct {
	cfg     config.Config
	log     *slog.Logger
	store   store
	watcher patchbay.Watcher
	keyring *keyring.Keyring
	svc     *patchbay.Service
	org     *patchbay.Organization
}

const devRootKeyFile = "root.key"

// openApp opens the configured database, checks the root key against it
// before writing anything, then migrates and bootstraps.
func openApp(ctx context.Context, cfg config.Config, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log}
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

func (a *app) init(ctx context.Context, root patchbay.Secret) error {
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
	checker := outbound.New(outbound.Config{Overrides: a.cfg.UpstreamOverrides, AllowHosts: a.cfg.OutboundAllowHosts})
	a.svc = &patchbay.Service{Store: a.store, Sealer: a.keyring, Catalog: cat, Checker: checker, Now: time.Now, Rand: rand.Reader, Log: a.log}
	if f, ok := a.store.(patchbay.Fence); ok {
		a.svc.Fence = f
	}
	org, created, err := a.svc.Bootstrap(ctx, "owner@patchbay.local")
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if created {
		a.log.Info("bootstrapped a new installation: organization, default project and owner created", "org", org.ID)
	}
	a.org = org
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
func (a *app) devRootKey(ctx context.Context) (patchbay.Secret, error) {
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

func (a *app) warnDevKey(path string, created bool) {
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

// owner is the identity admin commands act as.
func (a *app) owner(ctx context.Context) (patchbay.Actor, error) {
	m, err := a.svc.Owner(ctx, a.org.ID)
	if err != nil {
		return patchbay.Actor{}, err
	}
	return patchbay.Actor{Member: *m, IP: "cli"}, nil
}

func (a *app) Close() error { return a.store.Close() }
