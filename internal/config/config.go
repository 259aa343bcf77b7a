// Package config reads patchbay's settings from flags and environment
// variables (flags win) and validates them before anything is opened.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// Config is the settings shared by `patchbay serve` and the admin commands.
type Config struct {
	Addr        string // HOST:PORT to listen on (serve only)
	DataDir     string // where the SQLite database and the development root key live
	DatabaseURL string // postgres://… to use PostgreSQL; "" for SQLite in DataDir
	RootKey     string // root key material (PATCHBAY_ROOT_KEY); never logged
	RootKeyFile string // or a file holding it (PATCHBAY_ROOT_KEY_FILE)
	LogFormat   string // text or json
	LogLevel    string
	AccessLog   bool
	// UpstreamOverrides replaces toolkits' base URLs, "slug=URL,slug=URL"
	// (PATCHBAY_UPSTREAM_OVERRIDES).
	UpstreamOverrides map[string]string
	// OutboundAllowHosts may be dialled although they resolve to private or
	// loopback addresses (PATCHBAY_OUTBOUND_ALLOW_HOSTS, comma-separated).
	OutboundAllowHosts []string

	envErr error // problems found in the environment by FlagSet
}

// Env is the environment lookup, injectable for tests.
type Env func(string) string

// FlagSet returns the flags of a command, with defaults from env, bound to c.
func (c *Config) FlagSet(name string, env Env, serve bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	def := func(key, fallback string) string {
		if v := env(key); v != "" {
			return v
		}
		return fallback
	}
	if serve {
		fs.StringVar(&c.Addr, "addr", def("PATCHBAY_ADDR", "127.0.0.1:8080"), "`HOST:PORT` to listen on (env PATCHBAY_ADDR)")
		accessLog, _ := strconv.ParseBool(def("PATCHBAY_ACCESS_LOG", "false"))
		fs.BoolVar(&c.AccessLog, "access-log", accessLog, "log one line per request (env PATCHBAY_ACCESS_LOG)")
	}
	fs.StringVar(&c.DataDir, "data-dir", def("PATCHBAY_DATA_DIR", "./patchbay-data"), "`DIR` for the SQLite database and the development root key (env PATCHBAY_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("PATCHBAY_DATABASE_URL"), "PostgreSQL `URL` (postgres://…); empty for SQLite in the data dir (env PATCHBAY_DATABASE_URL)")
	fs.StringVar(&c.LogFormat, "log-format", def("PATCHBAY_LOG_FORMAT", "text"), "log format, text or json (env PATCHBAY_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", def("PATCHBAY_LOG_LEVEL", "info"), "debug, info, warn or error (env PATCHBAY_LOG_LEVEL)")
	fs.Func("upstream-override", "`SLUG=URL`: call toolkit SLUG at URL instead of its base URL (repeatable; env PATCHBAY_UPSTREAM_OVERRIDES, comma-separated)", c.addOverride)
	fs.Func("outbound-allow-host", "`HOST` that outbound calls may reach even on a private address (repeatable; env PATCHBAY_OUTBOUND_ALLOW_HOSTS)", func(h string) error {
		c.OutboundAllowHosts = append(c.OutboundAllowHosts, strings.TrimSpace(h))
		return nil
	})
	for _, o := range splitList(env("PATCHBAY_UPSTREAM_OVERRIDES")) {
		if err := c.addOverride(o); err != nil {
			c.envErr = errors.Join(c.envErr, fmt.Errorf("PATCHBAY_UPSTREAM_OVERRIDES: %w", err))
		}
	}
	c.OutboundAllowHosts = append(c.OutboundAllowHosts, splitList(env("PATCHBAY_OUTBOUND_ALLOW_HOSTS"))...)
	c.RootKey = env("PATCHBAY_ROOT_KEY")
	c.RootKeyFile = env("PATCHBAY_ROOT_KEY_FILE")
	return fs
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *Config) addOverride(v string) error {
	slug, raw, ok := strings.Cut(v, "=")
	u, err := url.Parse(strings.TrimSpace(raw))
	if !ok || strings.TrimSpace(slug) == "" || err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("upstream override %q must be SLUG=http(s)://host[/path]", v)
	}
	if c.UpstreamOverrides == nil {
		c.UpstreamOverrides = map[string]string{}
	}
	c.UpstreamOverrides[strings.ToLower(strings.TrimSpace(slug))] = u.String()
	return nil
}

// Validate checks the settings without opening anything.
func (c *Config) Validate(serve bool) error {
	errs := []error{c.envErr}
	if serve {
		if err := validateAddr(c.Addr); err != nil {
			errs = append(errs, err)
		}
	}
	if c.DatabaseURL == "" && strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, errors.New("--data-dir must not be empty"))
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, errors.New("--database-url must be a postgres:// or postgresql:// URL"))
		}
	}
	if c.RootKey != "" && c.RootKeyFile != "" {
		errs = append(errs, errors.New("set PATCHBAY_ROOT_KEY or PATCHBAY_ROOT_KEY_FILE, not both"))
	}
	if c.RootKeyFile != "" {
		if _, err := os.Stat(c.RootKeyFile); err != nil {
			errs = append(errs, fmt.Errorf("PATCHBAY_ROOT_KEY_FILE: %w", err))
		}
	}
	return errors.Join(errs...)
}

func validateAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q is not HOST:PORT: %v", addr, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("--addr %q: port must be a number from 0 to 65535", addr)
	}
	if host != "" && net.ParseIP(host) == nil && !validHostname(host) {
		return fmt.Errorf("--addr %q: %q is not an IP address or host name", addr, host)
	}
	return nil
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

// RedactedDatabaseURL is the database URL without its password, for logs.
// A password may also come as a query parameter (password=, sslpassword=),
// which PostgreSQL's drivers accept; those are masked too.
func (c *Config) RedactedDatabaseURL() string {
	if c.DatabaseURL == "" {
		return ""
	}
	u, err := url.Parse(c.DatabaseURL)
	if err != nil {
		return "(unparseable)"
	}
	q, masked := u.Query(), false
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q.Set(k, "xxxxx")
			masked = true
		}
	}
	if masked {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
