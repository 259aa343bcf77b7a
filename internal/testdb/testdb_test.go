package testdb

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// fakeTB records how PostgresBaseURL ended a test; Fatalf and Skip stop it
// by panicking with the recorder, as the real ones stop the goroutine.
type fakeTB struct {
	testing.TB
	how, msg string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.how, f.msg = "fatal", fmt.Sprintf(format, args...)
	panic(f)
}
func (f *fakeTB) Skip(args ...any) {
	f.how, f.msg = "skip", fmt.Sprint(args...)
	panic(f)
}

// resolve runs PostgresBaseURL afresh (as in a new process) with the
// given environment and default, and reports how it ended.
func resolve(t *testing.T, env, ci, def string) (url, how, msg string) {
	t.Setenv("PATCHBAY_TEST_POSTGRES_URL", env)
	t.Setenv("CI", ci)
	saved := defaultURL
	baseOnce, baseURL, noBase, required, defaultURL = sync.Once{}, "", "", false, def
	t.Cleanup(func() { baseOnce, baseURL, noBase, required, defaultURL = sync.Once{}, "", "", false, saved })
	f := &fakeTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != any(f) {
				panic(r)
			}
		}()
		url = PostgresBaseURL(f)
	}()
	return url, f.how, f.msg
}

// TestPostgresBaseURL: an explicit URL is used as is; "off" skips, also
// under CI; an unset variable probes the default, which skips when it does
// not answer, or fails under CI.
func TestPostgresBaseURL(t *testing.T) {
	closed := "postgres://postgres@127.0.0.1:1/test"
	cases := []struct {
		env, ci, def string
		url, how     string
		msg          string
	}{
		{"postgres://u@db.example/x", "", closed, "postgres://u@db.example/x", "", ""},
		{"off", "", closed, "", "skip", "PATCHBAY_TEST_POSTGRES_URL=off"},
		{"off", "true", closed, "", "skip", "PATCHBAY_TEST_POSTGRES_URL=off"},
		{"", "", closed, "", "skip", "PATCHBAY_TEST_POSTGRES_URL is not set and " + closed + " does not answer"},
		{"", "true", closed, "", "fatal", "CI must run the PostgreSQL tests: PATCHBAY_TEST_POSTGRES_URL is not set and " + closed + " does not answer"},
	}
	for _, c := range cases {
		url, how, msg := resolve(t, c.env, c.ci, c.def)
		if url != c.url || how != c.how || !strings.Contains(msg, c.msg) {
			t.Errorf("env %q, CI %q: got (%q, %s, %q), want (%q, %s, containing %q)", c.env, c.ci, url, how, msg, c.url, c.how, c.msg)
		}
	}
}
