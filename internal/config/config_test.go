package config

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// parse reads a configuration as a command does: flags over env, then
// Validate. It returns the parse error, if any, else Validate's.
func parse(t *testing.T, serve bool, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	var c Config
	fs := c.FlagSet("test", func(k string) string { return env[k] }, serve)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.Validate(serve)
}

// TestBadEnvNamesTheVariable: every environment variable config reads
// rejects a bad value with an error naming the variable, not the flag the
// user did not pass.
func TestBadEnvNamesTheVariable(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-file")
	cases := []struct {
		key, value string
		serve      bool
		want       string
	}{
		{"PATCHBAY_ACCESS_LOG", "maybe", true, `PATCHBAY_ACCESS_LOG must be true or false; got "maybe"`},
		{"PATCHBAY_ACCESS_LOG", "yes", true, `PATCHBAY_ACCESS_LOG must be true or false; got "yes"`},
		{"PATCHBAY_ADDR", "nonsense", true, `PATCHBAY_ADDR "nonsense" is not HOST:PORT`},
		{"PATCHBAY_ADDR", "127.0.0.1:99999", true, `PATCHBAY_ADDR "127.0.0.1:99999": port must be a number`},
		{"PATCHBAY_ADDR", "bad_host!:80", true, `PATCHBAY_ADDR "bad_host!:80": "bad_host!" is not an IP address or host name`},
		{"PATCHBAY_LOG_LEVEL", "loud", true, `PATCHBAY_LOG_LEVEL must be debug, info, warn or error; got "loud"`},
		{"PATCHBAY_LOG_FORMAT", "xml", true, `PATCHBAY_LOG_FORMAT must be text or json; got "xml"`},
		{"PATCHBAY_LOG_FORMAT", "xml", false, `PATCHBAY_LOG_FORMAT must be text or json; got "xml"`},
		{"PATCHBAY_DATA_DIR", "  ", false, "PATCHBAY_DATA_DIR must not be empty"},
		{"PATCHBAY_DATABASE_URL", "mysql://x", false, "PATCHBAY_DATABASE_URL must be a postgres:// or postgresql:// URL"},
		{"PATCHBAY_DATABASE_URL", "mysql://x", true, "PATCHBAY_DATABASE_URL must be a postgres:// or postgresql:// URL"},
		{"PATCHBAY_UPSTREAM_OVERRIDES", "github=ftp://x", true, `PATCHBAY_UPSTREAM_OVERRIDES: upstream override "github=ftp://x" must be SLUG=http(s)://host[/path]`},
		{"PATCHBAY_UPSTREAM_OVERRIDES", "a=http://ok,nourl", true, `PATCHBAY_UPSTREAM_OVERRIDES: upstream override "nourl"`},
		{"PATCHBAY_OUTBOUND_ALLOW_HOSTS", "ok.example,http://x.example", true, `PATCHBAY_OUTBOUND_ALLOW_HOSTS: outbound allow host "http://x.example" must be a host name or an IP address`},
		{"PATCHBAY_OUTBOUND_ALLOW_HOSTS", "x.example:8080", true, `PATCHBAY_OUTBOUND_ALLOW_HOSTS: outbound allow host "x.example:8080"`},
		{"PATCHBAY_ROOT_KEY_FILE", missing, false, "PATCHBAY_ROOT_KEY_FILE: stat " + missing},
	}
	for _, c := range cases {
		_, err := parse(t, c.serve, map[string]string{c.key: c.value})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%q (serve %v): error %v; want it to contain %q", c.key, c.value, c.serve, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "--") {
			t.Errorf("%s=%q (serve %v): error %q names a flag that was not given", c.key, c.value, c.serve, err)
		}
	}

	// Both root key variables at once.
	_, err := parse(t, false, map[string]string{"PATCHBAY_ROOT_KEY": "k", "PATCHBAY_ROOT_KEY_FILE": os.Args[0]})
	if err == nil || !strings.Contains(err.Error(), "set PATCHBAY_ROOT_KEY or PATCHBAY_ROOT_KEY_FILE, not both") {
		t.Errorf("both root key variables: %v", err)
	}
}

// TestBadFlagNamesTheFlag: a bad flag value names the flag, also when the
// environment holds a good value for it.
func TestBadFlagNamesTheFlag(t *testing.T) {
	good := map[string]string{
		"PATCHBAY_ADDR": "127.0.0.1:9000", "PATCHBAY_ACCESS_LOG": "true", "PATCHBAY_LOG_LEVEL": "warn",
		"PATCHBAY_LOG_FORMAT": "json", "PATCHBAY_DATABASE_URL": "postgres://h/db",
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--access-log=maybe"}, `invalid boolean value "maybe" for -access-log`},
		{[]string{"--addr", "nonsense"}, `--addr "nonsense" is not HOST:PORT`},
		{[]string{"--log-level", "loud"}, `--log-level must be debug, info, warn or error; got "loud"`},
		{[]string{"--log-format", "xml"}, `--log-format must be text or json; got "xml"`},
		{[]string{"--database-url", "mysql://x"}, "--database-url must be a postgres:// or postgresql:// URL"},
		{[]string{"--database-url", "", "--data-dir", ""}, "--data-dir must not be empty"},
		{[]string{"--upstream-override", "nourl"}, `invalid value "nourl" for flag -upstream-override`},
		{[]string{"--outbound-allow-host", "http://x"}, `invalid value "http://x" for flag -outbound-allow-host`},
	}
	for _, c := range cases {
		for _, env := range []map[string]string{nil, good} {
			_, err := parse(t, true, env, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%q (env %v): error %v; want it to contain %q", c.args, env, err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), "PATCHBAY_") {
				t.Errorf("%q (env %v): error %q names an environment variable, not the flag", c.args, env, err)
			}
		}
	}
}

// TestFlagsWin: a flag overrides its variable, and then a bad value in the
// variable is no error.
func TestFlagsWin(t *testing.T) {
	env := map[string]string{"PATCHBAY_ACCESS_LOG": "maybe", "PATCHBAY_ADDR": "nonsense", "PATCHBAY_LOG_FORMAT": "xml", "PATCHBAY_LOG_LEVEL": "loud"}
	c, err := parse(t, true, env, "--access-log", "--addr", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug")
	if err != nil {
		t.Fatal(err)
	}
	if !c.AccessLog || c.Addr != "127.0.0.1:0" || c.LogFormat != "json" || c.LogLevel != "debug" {
		t.Fatalf("got %+v", c)
	}
}

// TestEnv: every variable's good value arrives in Config.
func TestEnv(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "root.key")
	if err := os.WriteFile(keyFile, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"PATCHBAY_ADDR":                 "0.0.0.0:9000",
		"PATCHBAY_ACCESS_LOG":           "1",
		"PATCHBAY_DATA_DIR":             "/var/lib/patchbay",
		"PATCHBAY_DATABASE_URL":         "postgresql://u@h/db",
		"PATCHBAY_LOG_FORMAT":           "json",
		"PATCHBAY_LOG_LEVEL":            "WARN",
		"PATCHBAY_UPSTREAM_OVERRIDES":   "GitHub=http://127.0.0.1:9/gh, slack=https://proxy.example/slack",
		"PATCHBAY_OUTBOUND_ALLOW_HOSTS": "mirror.internal, 127.0.0.1,::1",
		"PATCHBAY_ROOT_KEY_FILE":        keyFile,
		"PATCHBAY_OAUTH_APPS_FILE":      "/etc/patchbay/oauth-apps.json",
	}
	c, err := parse(t, true, env, "--outbound-allow-host", "other.internal")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Addr: "0.0.0.0:9000", AccessLog: true, DataDir: "/var/lib/patchbay", DatabaseURL: "postgresql://u@h/db",
		LogFormat: "json", LogLevel: "WARN", RootKeyFile: keyFile,
		UpstreamOverrides:  map[string]string{"github": "http://127.0.0.1:9/gh", "slack": "https://proxy.example/slack"},
		OutboundAllowHosts: []string{"mirror.internal", "127.0.0.1", "::1", "other.internal"},
		OutboundTimeout:    30 * time.Second, LogRetention: 720 * time.Hour, LogPayloads: true,
		OAuthAppsFile: "/etc/patchbay/oauth-apps.json",
	}
	got := c
	got.envErr, got.flags, got.fromEnv, got.flagEnvErr = nil, nil, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

// TestDefaults: with an empty environment, the documented defaults hold.
func TestDefaults(t *testing.T) {
	c, err := parse(t, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./patchbay-data" || c.DatabaseURL != "" ||
		c.LogFormat != "text" || c.LogLevel != "info" || c.AccessLog {
		t.Fatalf("defaults: %+v", c)
	}
}

// TestAdminFlags: admin commands have the shared flags only, and ignore the
// server's variables, bad or not.
func TestAdminFlags(t *testing.T) {
	var c Config
	fs := c.FlagSet("keys list", func(string) string { return "" }, false)
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if want := []string{"data-dir", "database-url", "log-format"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("admin flags %v, want %v", names, want)
	}
	env := map[string]string{"PATCHBAY_ACCESS_LOG": "maybe", "PATCHBAY_ADDR": "nonsense", "PATCHBAY_LOG_LEVEL": "loud",
		"PATCHBAY_UPSTREAM_OVERRIDES": "bad", "PATCHBAY_OUTBOUND_ALLOW_HOSTS": "http://x"}
	if _, err := parse(t, false, env); err != nil {
		t.Fatalf("admin command with bad server-only variables: %v", err)
	}
}

func TestRedactedDatabaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                                 "",
		"postgres://u:hunter2@h/db":        "postgres://u:xxxxx@h/db",
		"postgres://u@h/db?password=x&a=b": "postgres://u@h/db?a=b&password=xxxxx",
	} {
		c := Config{DatabaseURL: in}
		if got := c.RedactedDatabaseURL(); got != want {
			t.Errorf("RedactedDatabaseURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestREADMEListsSettings: every variable and flag config reads is in the
// README's table.
func TestREADMEListsSettings(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	vars := regexp.MustCompile(`"(PATCHBAY_[A-Z_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(vars) == 0 {
		t.Fatal("no variables found in config.go")
	}
	for _, v := range vars {
		if !strings.Contains(string(readme), "| `"+v[1]+"` |") {
			t.Errorf("README.md's table lacks %s", v[1])
		}
	}
	var c Config
	c.FlagSet("serve", func(string) string { return "" }, true).VisitAll(func(f *flag.Flag) {
		if !strings.Contains(string(readme), "| `--"+f.Name) {
			t.Errorf("README.md's table lacks --%s", f.Name)
		}
	})
}

// TestDurations: the duration settings parse from flags and environment,
// and a bad value names where it came from.
func TestDurations(t *testing.T) {
	c, err := parse(t, true, map[string]string{"PATCHBAY_OUTBOUND_TIMEOUT": "5s", "PATCHBAY_EXECUTION_LOG_RETENTION": "0"})
	if err != nil {
		t.Fatal(err)
	}
	if c.OutboundTimeout != 5*time.Second || c.LogRetention != 0 || !c.LogPayloads {
		t.Errorf("from the environment: timeout %v, retention %v, payloads %v", c.OutboundTimeout, c.LogRetention, c.LogPayloads)
	}
	c, err = parse(t, true, nil, "--outbound-timeout", "90s", "--execution-log-payloads=false")
	if err != nil {
		t.Fatal(err)
	}
	if c.OutboundTimeout != 90*time.Second || c.LogRetention != 720*time.Hour || c.LogPayloads {
		t.Errorf("from flags: timeout %v, retention %v, payloads %v", c.OutboundTimeout, c.LogRetention, c.LogPayloads)
	}
	_, err = parse(t, true, map[string]string{"PATCHBAY_OUTBOUND_TIMEOUT": "soon"})
	if err == nil || !strings.Contains(err.Error(), "PATCHBAY_OUTBOUND_TIMEOUT") {
		t.Errorf("a bad PATCHBAY_OUTBOUND_TIMEOUT: %v", err)
	}
	if _, err := parse(t, true, nil, "--execution-log-retention", "-1h"); err == nil || !strings.Contains(err.Error(), "execution-log-retention") {
		t.Errorf("a negative --execution-log-retention: %v", err)
	}
}
