package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/patchbay-dev/patchbay/internal/app"
	"github.com/patchbay-dev/patchbay/internal/config"
	"github.com/patchbay-dev/patchbay/internal/logging"
)

func serveCmd(cio cmdIO, args []string) error {
	var cfg config.Config
	fs := cfg.FlagSet("serve", cio.env, true)
	// -h prints the flags and stops: it must not go on to start a server.
	if err := parseFlags(cio, fs, args); err != nil || helpAsked(args) {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments; got %q", fs.Args())
	}
	if err := cfg.Validate(true); err != nil {
		return usagef("%v", err)
	}
	log, err := logging.New(cio.stderr, logging.Options{Format: cfg.LogFormat, Level: cfg.LogLevel})
	if err != nil {
		return usagef("%v", err)
	}
	srv, err := startServer(cio.ctx, cfg, log)
	if err != nil {
		return err
	}
	// Until the owner has a password, every start prints a fresh one-time
	// link to set it (to the terminal, never to the log).
	if tok, err := srv.app.Service.OwnerSetup(cio.ctx, srv.app.Org.ID); err != nil {
		log.Warn("cannot make the owner's setup link", "err", err)
	} else if tok != "" {
		fmt.Fprintf(cio.stderr, "\nSet the owner's dashboard password (this link works once, for 7 days):\n  %s\n\n", signupLink(publicURL(cio.env, "http://"+srv.Addr), tok))
	}
	<-cio.ctx.Done()
	log.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

// running is a started server.
type running struct {
	Addr     string
	app      *app.App
	http     *http.Server
	serveErr chan error
}

// startServer binds the address first (a bad address touches no data),
// opens the database, and serves until Shutdown.
func startServer(ctx context.Context, cfg config.Config, log *slog.Logger) (*running, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", cfg.Addr, err)
	}
	a, err := app.Open(ctx, cfg, log, app.Options{})
	if err != nil {
		ln.Close()
		return nil, err
	}
	if err := a.Start(ctx); err != nil {
		ln.Close()
		a.Close()
		return nil, err
	}
	r := &running{
		Addr: ln.Addr().String(), app: a,
		http: &http.Server{
			Handler:           a.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			WriteTimeout:      120 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		serveErr: make(chan error, 1),
	}
	go func() { r.serveErr <- r.http.Serve(ln) }()
	log.Info("patchbay listening", "addr", r.Addr, "database", a.Database(), "org", a.Org.ID)
	return r, nil
}

// Shutdown stops accepting requests, lets in-flight ones finish, flushes
// last-use times and closes the database.
func (r *running) Shutdown(ctx context.Context) error {
	err := r.http.Shutdown(ctx)
	if serr := <-r.serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return errors.Join(err, r.app.Close())
}

// publicURL is where browsers reach this patchbay, for the links the CLI
// prints: PATCHBAY_PUBLIC_URL, else fallback.
func publicURL(env func(string) string, fallback string) string {
	if u := strings.TrimSuffix(env("PATCHBAY_PUBLIC_URL"), "/"); u != "" {
		return u
	}
	return fallback
}

func signupLink(base, token string) string { return base + "/signup?token=" + token }
