// Package testbrowser starts, for tests only, one headless Debian Chromium
// with a fresh profile, driven through chromedp, and records the console
// errors and uncaught exceptions of the pages it shows. Nothing downloads a
// browser: without Chromium a test skips, except under CI, where it fails
// (.ci/run installs it).
package testbrowser

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser is one running Chromium, stopped when the test ends.
type Browser struct {
	// Ctx drives the browser's first tab; it expires with the timeout
	// given to Start.
	Ctx context.Context

	mu     sync.Mutex
	errors []string
}

// Path finds Debian's chromium (or PATCHBAY_CHROMIUM). Without it tb skips,
// or fails under CI.
func Path(tb testing.TB) string {
	tb.Helper()
	for _, p := range []string{os.Getenv("PATCHBAY_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		tb.Fatal("chromium is not installed (apt-get install -y chromium); CI must run the browser tests")
	}
	tb.Skip("chromium is not installed (apt-get install -y chromium): skipping the browser test")
	return ""
}

// Start launches Chromium headless with the flags a test machine needs (no
// sandbox, GPU, QUIC, first-run, background networking, component
// updates or sync), a window of width×height, and a profile of its own.
func Start(tb testing.TB, width, height int, timeout time.Duration) *Browser {
	tb.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Path(tb)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(tb.TempDir()), chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	tb.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	b := &Browser{Ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == "error" || m.IsException() {
				b.mu.Lock()
				b.errors = append(b.errors, m.String())
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// TakeConsoleErrors returns the console errors and uncaught exceptions
// seen since the last call, after a moment for the last page's messages
// to arrive.
func (b *Browser) TakeConsoleErrors() []string {
	time.Sleep(50 * time.Millisecond)
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.errors
	b.errors = nil
	return out
}
