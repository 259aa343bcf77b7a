// Package config reads patchbay's settings from flags and environment
// variables (flags win) and validates them before anything is opened.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
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
	// OutboundTimeout bounds one call to an app (PATCHBAY_OUTBOUND_TIMEOUT).
	OutboundTimeout time.Duration
	// LogRetention is how long execution logs are kept, 0 for ever
	// (PATCHBAY_EXECUTION_LOG_RETENTION); LogPayloads keeps their redacted
	// arguments and data (PATCHBAY_EXECUTION_LOG_PAYLOADS).
	LogRetention time.Duration
	LogPayloads  bool
	// OAuthAppsFile names the operator's managed OAuth apps, a JSON file
	// (PATCHBAY_OAUTH_APPS_FILE).
	OAuthAppsFile string

	envErr error // problems found in the environment by FlagSet

	// flags is the parsed command line, to tell which flags were given.
	flags *flag.FlagSet
	// fromEnv maps a flag to the environment variable its default came
	// from, so that errors name what the user actually set.
	fromEnv map[string]string
	// flagEnvErr holds bad environment defaults of flags; each is an error
	// only if its flag was not given (flags win).
	flagEnvErr map[string]error
}

// Env is the environment lookup, injectable for tests.
type Env func(string) string

// FlagSet returns the flags of a command, with defaults from env, bound to
// c. serve adds the flags only the server uses (listening, request logging,
// outbound calls); the others are shared with the admin commands.
func (c *Config) FlagSet(name string, env Env, serve bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.flags, c.fromEnv, c.flagEnvErr = fs, map[string]string{}, map[string]error{}
	def := func(flagName, key, fallback string) string {
		if v := env(key); v != "" {
			c.fromEnv[flagName] = key
			return v
		}
		return fallback
	}
	if serve {
		fs.StringVar(&c.Addr, "addr", def("addr", "PATCHBAY_ADDR", "127.0.0.1:8080"), "`HOST:PORT` to listen on (env PATCHBAY_ADDR)")
		accessLog, err := strconv.ParseBool(def("access-log", "PATCHBAY_ACCESS_LOG", "false"))
		if err != nil {
			c.flagEnvErr["access-log"] = fmt.Errorf("PATCHBAY_ACCESS_LOG must be true or false; got %q", env("PATCHBAY_ACCESS_LOG"))
		}
		fs.BoolVar(&c.AccessLog, "access-log", accessLog, "log one line per request (env PATCHBAY_ACCESS_LOG)")
		fs.StringVar(&c.LogLevel, "log-level", def("log-level", "PATCHBAY_LOG_LEVEL", "info"), "log `LEVEL`: debug, info, warn or error (env PATCHBAY_LOG_LEVEL)")
		fs.Func("upstream-override", "`SLUG=URL`: call toolkit SLUG at URL instead of its base URL (repeatable; env PATCHBAY_UPSTREAM_OVERRIDES, comma-separated)", c.addOverride)
		fs.Func("outbound-allow-host", "`HOST` that outbound calls may reach even on a private address (repeatable; env PATCHBAY_OUTBOUND_ALLOW_HOSTS, comma-separated)", c.addAllowHost)
		c.durationVar(fs, env, &c.OutboundTimeout, "outbound-timeout", "PATCHBAY_OUTBOUND_TIMEOUT", 30*time.Second,
			"longest `DURATION` one call to an app may take (env PATCHBAY_OUTBOUND_TIMEOUT)")
		c.durationVar(fs, env, &c.LogRetention, "execution-log-retention", "PATCHBAY_EXECUTION_LOG_RETENTION", 30*24*time.Hour,
			"how long execution logs are kept, as a `DURATION`; 0 keeps them for ever (env PATCHBAY_EXECUTION_LOG_RETENTION)")
		payloads, err := strconv.ParseBool(def("execution-log-payloads", "PATCHBAY_EXECUTION_LOG_PAYLOADS", "true"))
		if err != nil {
			c.flagEnvErr["execution-log-payloads"] = fmt.Errorf("PATCHBAY_EXECUTION_LOG_PAYLOADS must be true or false; got %q", env("PATCHBAY_EXECUTION_LOG_PAYLOADS"))
		}
		fs.BoolVar(&c.LogPayloads, "execution-log-payloads", payloads, "keep tools' redacted arguments and results in the execution logs (env PATCHBAY_EXECUTION_LOG_PAYLOADS)")
		fs.StringVar(&c.OAuthAppsFile, "oauth-apps-file", def("oauth-apps-file", "PATCHBAY_OAUTH_APPS_FILE", ""),
			"JSON `FILE` of managed OAuth apps: {\"SLUG\": {\"client_id\", \"client_secret\", \"scopes\", \"authorization_url\", \"token_url\"}} (env PATCHBAY_OAUTH_APPS_FILE)")
		for _, o := range splitList(env("PATCHBAY_UPSTREAM_OVERRIDES")) {
			if err := c.addOverride(o); err != nil {
				c.envErr = errors.Join(c.envErr, fmt.Errorf("PATCHBAY_UPSTREAM_OVERRIDES: %w", err))
			}
		}
		for _, h := range splitList(env("PATCHBAY_OUTBOUND_ALLOW_HOSTS")) {
			if err := c.addAllowHost(h); err != nil {
				c.envErr = errors.Join(c.envErr, fmt.Errorf("PATCHBAY_OUTBOUND_ALLOW_HOSTS: %w", err))
			}
		}
	}
	fs.StringVar(&c.DataDir, "data-dir", def("data-dir", "PATCHBAY_DATA_DIR", "./patchbay-data"), "`DIR` for the SQLite database and the development root key (env PATCHBAY_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", def("database-url", "PATCHBAY_DATABASE_URL", ""), "PostgreSQL `URL` (postgres://…); empty for SQLite in the data dir (env PATCHBAY_DATABASE_URL)")
	fs.StringVar(&c.LogFormat, "log-format", def("log-format", "PATCHBAY_LOG_FORMAT", "text"), "log `FORMAT`, text or json (env PATCHBAY_LOG_FORMAT)")
	c.RootKey = env("PATCHBAY_ROOT_KEY")
	c.RootKeyFile = env("PATCHBAY_ROOT_KEY_FILE")
	return fs
}

// given reports whether flag name was on the command line.
func (c *Config) given(name string) bool {
	found := false
	if c.flags != nil && c.flags.Parsed() {
		c.flags.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	}
	return found
}

// source names where the value of flag name came from, for errors: the
// environment variable if it supplied the value, else the flag.
func (c *Config) source(name string) string {
	if key, ok := c.fromEnv[name]; ok && !c.given(name) {
		return key
	}
	return "--" + name
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

func (c *Config) addAllowHost(h string) error {
	h = strings.TrimSpace(h)
	if net.ParseIP(h) == nil && !validHostname(h) {
		return fmt.Errorf("outbound allow host %q must be a host name or an IP address (no scheme or port)", h)
	}
	c.OutboundAllowHosts = append(c.OutboundAllowHosts, h)
	return nil
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

// Validate checks the settings without opening anything. An error names
// the flag or the environment variable the bad value came from.
func (c *Config) Validate(serve bool) error {
	errs := []error{c.envErr}
	names := make([]string, 0, len(c.flagEnvErr))
	for name := range c.flagEnvErr {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !c.given(name) {
			errs = append(errs, c.flagEnvErr[name])
		}
	}
	if serve {
		if err := validateAddr(c.source("addr"), c.Addr); err != nil {
			errs = append(errs, err)
		}
		if c.LogLevel != "" {
			var l slog.Level
			if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
				errs = append(errs, fmt.Errorf("%s must be debug, info, warn or error; got %q", c.source("log-level"), c.LogLevel))
			}
		}
	}
	if c.DatabaseURL == "" && strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, fmt.Errorf("%s must not be empty", c.source("data-dir")))
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, fmt.Errorf("%s must be a postgres:// or postgresql:// URL", c.source("database-url")))
		}
	}
	switch c.LogFormat {
	case "", "text", "json":
	default:
		errs = append(errs, fmt.Errorf("%s must be text or json; got %q", c.source("log-format"), c.LogFormat))
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

// validateAddr checks addr, which came from src (a flag or variable name).
func validateAddr(src, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q is not HOST:PORT: %v", src, addr, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%s %q: port must be a number from 0 to 65535", src, addr)
	}
	if host != "" && net.ParseIP(host) == nil && !validHostname(host) {
		return fmt.Errorf("%s %q: %q is not an IP address or host name", src, addr, host)
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

// durationVar binds a duration flag whose default may come from the
// environment variable key; a bad or negative value names its source.
func (c *Config) durationVar(fs *flag.FlagSet, env Env, p *time.Duration, name, key string, fallback time.Duration, usage string) {
	v := fallback
	if raw := env(key); raw != "" {
		c.fromEnv[name] = key
		d, err := time.ParseDuration(raw)
		if err != nil || d < 0 {
			c.flagEnvErr[name] = fmt.Errorf("%s must be a duration such as 30s or 720h; got %q", key, raw)
		} else {
			v = d
		}
	}
	fs.Func(name, usage+fmt.Sprintf(" (default %s)", fallback), func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return fmt.Errorf("must be a duration such as 30s or 720h; got %q", s)
		}
		*p = d
		return nil
	})
	*p = v
}
