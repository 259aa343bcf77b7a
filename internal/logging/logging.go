// Package logging builds patchbay's slog loggers. Secrets are kept out of
// logs in three layers: code never logs them (headers and bodies are not
// logged at all); patchbay.Secret logs as a marker; and this handler redacts
// attributes with secret-bearing names and any value that looks like a
// patchbay API key, wherever it came from.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// Options configure New.
type Options struct {
	Format string // "text" (default) or "json"
	Level  string // "debug", "info" (default), "warn", "error"
}

// ParseLevel parses a level name.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if s == "" {
		return slog.LevelInfo, nil
	}
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level must be debug, info, warn or error; got %q", s)
	}
	return l, nil
}

// New returns a logger writing to w.
func New(w io.Writer, o Options) (*slog.Logger, error) {
	level, err := ParseLevel(o.Level)
	if err != nil {
		return nil, err
	}
	ho := &slog.HandlerOptions{Level: level, ReplaceAttr: Redact}
	switch o.Format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, fmt.Errorf("log format must be text or json; got %q", o.Format)
}

// sensitive names attributes whose values are always redacted, compared
// case-insensitively with '-' and '_' treated alike. "common" is the header
// in which composio-core sends the API key in clear.
var sensitive = map[string]bool{
	"x_api_key": true, "x_org_api_key": true, "api_key": true, "apikey": true, "common": true,
	"authorization": true, "cookie": true, "set_cookie": true, "password": true, "secret": true,
	"token": true, "access_token": true, "refresh_token": true, "root_key": true, "credentials": true,
	"client_secret": true,
}

const redacted = "[REDACTED]"

// Redact is a slog ReplaceAttr function implementing the rules above.
func Redact(groups []string, a slog.Attr) slog.Attr {
	if sensitiveKey(a.Key) {
		return slog.String(a.Key, redacted)
	}
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); strings.Contains(s, "ak_") {
			return slog.String(a.Key, RedactString(s))
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			if s := err.Error(); strings.Contains(s, "ak_") {
				return slog.String(a.Key, RedactString(s))
			}
		}
	}
	return a
}

// sensitiveKey looks key up in sensitive, normalizing only when it has to:
// this runs for every attribute of every log line.
func sensitiveKey(key string) bool {
	plain := true
	for i := 0; i < len(key); i++ {
		if c := key[i]; c == '-' || c >= 'A' && c <= 'Z' {
			plain = false
			break
		}
	}
	if plain {
		return sensitive[key]
	}
	return sensitive[strings.ReplaceAll(strings.ToLower(key), "-", "_")]
}

// RedactString replaces anything that looks like an API key in s.
func RedactString(s string) string { return patchbay.RedactKeys(s) }
