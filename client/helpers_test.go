package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/client"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// env is a running patchbay and clients for its three test keys.
type env struct {
	srv    *testserver.Server
	c      *client.Client // project key, owner role
	org    *client.Client // organization key
	member *client.Client // project key, member role
	rec    *recorder      // what c sent
	keys   []string       // every key the test knows, for leak checks
}

// eachBackend runs f against a fresh patchbay on every store.
func eachBackend(t *testing.T, f func(t *testing.T, e *env)) {
	t.Helper()
	eachBackendWith(t, testserver.Options{}, f)
}

func eachBackendWith(t *testing.T, opts testserver.Options, f func(t *testing.T, e *env)) {
	t.Helper()
	for _, b := range testserver.Backends {
		t.Run(string(b), func(t *testing.T) {
			srv := testserver.Start(t, b, opts)
			rec := &recorder{next: http.DefaultTransport}
			e := &env{
				srv:    srv,
				rec:    rec,
				c:      mustNew(t, srv.URL, client.WithAPIKey(srv.OwnerKey), client.WithHTTPClient(&http.Client{Transport: rec})),
				org:    mustNew(t, srv.URL, client.WithOrgAPIKey(srv.OrgKey)),
				member: mustNew(t, srv.URL, client.WithAPIKey(srv.MemberKey)),
				keys:   []string{srv.OwnerKey, srv.OrgKey, srv.MemberKey},
			}
			f(t, e)
		})
	}
}

func mustNew(t testing.TB, url string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(url, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", url, err)
	}
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr checks that err is an *Error of the sentinel's class, whose text
// holds none of the keys and contains every fragment.
func (e *env) wantErr(t testing.TB, err, sentinel error, fragments ...string) *client.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("got %v, want %v", err, sentinel)
	}
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("got %T (%v), want a *client.Error", err, err)
	}
	if ce.RequestID == "" || ce.Message == "" || ce.Slug == "" {
		t.Errorf("error %#v lacks a request ID, message or slug", ce)
	}
	for _, f := range fragments {
		if !strings.Contains(ce.Message, f) {
			t.Errorf("message %q does not contain %q", ce.Message, f)
		}
	}
	e.noKeys(t, err.Error())
	return ce
}

func (e *env) noKeys(t testing.TB, s string) {
	t.Helper()
	for _, k := range e.keys {
		if k != "" && strings.Contains(s, k) {
			t.Errorf("%q contains an API key", s)
		}
	}
}

// recorder is a transport that keeps every request it carries.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Clone(), body})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// serpapiConfig creates a custom API_KEY auth config for serpapi.
func (e *env) serpapiConfig(t testing.TB) string {
	t.Helper()
	ac, err := e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "serpapi", AuthScheme: client.SchemeAPIKey})
	must(t, err)
	return ac.ID
}

const userKey = "5f4dcc3b5aa765d61d8327deb882cf99"
