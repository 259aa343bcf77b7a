package app_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/app"
	"github.com/patchbay-dev/patchbay/internal/config"
)

// A managed OAuth apps file that names no OAuth2 toolkit, or is malformed,
// stops patchbay before it serves.
func TestOAuthAppsFileRefused(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"nosuchtoolkit": {"client_id": "a", "client_secret": "b"}}`, "is not a toolkit of the catalog"},
		{`{"openai": {"client_id": "a", "client_secret": "b"}}`, "has no OAuth2 scheme"},
		{`{"github": {"client_id": "a"}}`, "client_id and client_secret are required"},
	} {
		dir := t.TempDir()
		file := filepath.Join(dir, "apps.json")
		if err := os.WriteFile(file, []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := config.Config{DataDir: dir, OAuthAppsFile: file}
		a, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Options{})
		if err == nil {
			a.Close()
			t.Errorf("%s: opened, want an error", c.body)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "PATCHBAY_OAUTH_APPS_FILE") {
			t.Errorf("%s: %v, want %q naming PATCHBAY_OAUTH_APPS_FILE", c.body, err, c.want)
		}
	}
}
