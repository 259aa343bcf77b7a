// Command pbprof is `patchbay serve` with a CPU profile, for the proxy
// benchmark's -proxy.cpuprofile: it takes serve's flags and --cpuprofile
// FILE, assembles the server through internal/app as the patchbay command
// does (same HTTP server settings, same GC setting), and profiles from
// SIGUSR1 until SIGUSR2 or shutdown (SIGINT, SIGTERM), so that the seeding
// before the measured load stays out of the profile.
//
//	pbprof --cpuprofile FILE --data-dir DIR --addr 127.0.0.1:PORT [serve flags]
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/patchbay-dev/patchbay/internal/app"
	"github.com/patchbay-dev/patchbay/internal/config"
	"github.com/patchbay-dev/patchbay/internal/logging"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pbprof:", err)
		os.Exit(1)
	}
}

func run() error {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400) // as cmd/patchbay does
	}
	var cfg config.Config
	fs := cfg.FlagSet("pbprof", os.Getenv, true)
	profile := fs.String("cpuprofile", "", "write the CPU profile to `FILE`")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if *profile == "" {
		return errors.New("--cpuprofile is required")
	}
	if err := cfg.Validate(true); err != nil {
		return err
	}
	log, err := logging.New(os.Stderr, logging.Options{Format: cfg.LogFormat, Level: cfg.LogLevel})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg, log, app.Options{})
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return errors.Join(err, a.Close())
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("pbprof listening", "addr", ln.Addr().String(), "database", a.Database())

	var f *os.File
	stopProfile := func() {
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
			f = nil
			log.Info("cpu profile written", "file", *profile)
		}
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
	for ctx.Err() == nil {
		select {
		case s := <-sigs:
			if s == syscall.SIGUSR2 {
				stopProfile()
				continue
			}
			if f != nil {
				continue
			}
			if f, err = os.Create(*profile); err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			log.Info("cpu profile started", "file", *profile)
		case <-ctx.Done():
		}
	}
	stopProfile()
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return errors.Join(err, a.Close())
}
