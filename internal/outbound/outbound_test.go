package outbound

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// app is a toolkit whose one scheme sends a bearer token.
var app = &patchbay.Toolkit{Slug: "app", Name: "App", AuthSchemes: []patchbay.AuthScheme{{
	Mode: patchbay.AuthBearerToken, BaseURL: "https://api.app.test",
	Fields: []patchbay.Field{{Name: "token", Type: "string", Required: true, Secret: true, Scope: patchbay.ScopeConnection}},
	Inject: patchbay.Injection{Headers: map[string]string{"Authorization": "Bearer {{token}}"}},
}}}

var creds = map[string]string{"token": "tok-SECRETVALUE-0123456789"}

func get(path string) *patchbay.UpstreamRequest {
	return &patchbay.UpstreamRequest{Method: "GET", Path: path}
}

// countingListener accepts connections on loopback and counts them.
func countingListener(t *testing.T) (addr string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), accepted
}

// TestGuardRefusesEveryForbiddenClass: after DNS resolution, the dial is
// refused for loopback, private, link-local (the metadata address
// included), CGNAT, IPv6 unique-local and link-local addresses, and
// nothing is sent.
func TestGuardRefusesEveryForbiddenClass(t *testing.T) {
	loop, hits := countingListener(t)
	_, port, _ := net.SplitHostPort(loop)
	for _, host := range []string{
		"127.0.0.1:" + port, "[::1]:" + port, "localhost:" + port, // loopback, by address and by name
		"10.1.2.3:9", "172.16.0.1:9", "192.168.1.1:9", // private
		"169.254.169.254:80", // link-local: cloud metadata
		"100.64.0.1:9",       // CGNAT
		"[fd00::1]:9",        // IPv6 unique local
		"[fe80::1]:9",        // IPv6 link-local
		"0.0.0.0:" + port,    // unspecified
	} {
		c := New(Config{Overrides: map[string]string{"app": "http://" + host}, Timeout: 2 * time.Second})
		_, err := c.Call(context.Background(), app, &app.AuthSchemes[0], creds, get("/x"))
		if code := patchbay.ErrorCode(err); code != patchbay.EFORBIDDEN {
			t.Errorf("%s: error %v (code %q), want the guard's EFORBIDDEN", host, err, code)
		}
		if err != nil && strings.Contains(err.Error(), creds["token"]) {
			t.Errorf("%s: the error carries the credential", host)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback listener accepted %d connections", n)
	}
}

// TestNoRedirectIsFollowed: an app's redirect comes back to the caller as
// it is; the credential never travels to where it points.
func TestNoRedirectIsFollowed(t *testing.T) {
	target, hits := countingListener(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+target+"/steal", http.StatusFound)
	}))
	defer upstream.Close()
	c := New(Config{Overrides: map[string]string{"app": upstream.URL}, AllowHosts: []string{"127.0.0.1"}})
	resp, err := c.Call(context.Background(), app, &app.AuthSchemes[0], creds, get("/x"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusFound || !strings.HasSuffix(resp.Header.Get("Location"), "/steal") {
		t.Errorf("status %d, Location %q: want the redirect itself", resp.Status, resp.Header.Get("Location"))
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect's target got %d connections", n)
	}
}

// TestCallInjectsAndLimits: the credential is injected over what the
// caller set, an answer over the cap fails the call, and a timeout says so
// without the URL.
func TestCallInjectsAndLimits(t *testing.T) {
	var gotAuth atomic.Value
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/big":
			w.Write(make([]byte, 2048))
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		default:
			w.Write([]byte(`{}`))
		}
	}))
	defer upstream.Close()
	c := New(Config{Overrides: map[string]string{"app": upstream.URL}, AllowHosts: []string{"127.0.0.1"}, MaxResponseBytes: 1024, Timeout: 100 * time.Millisecond})
	req := get("/ok")
	req.Header = http.Header{"Authorization": {"Bearer forged"}}
	if _, err := c.Call(context.Background(), app, &app.AuthSchemes[0], creds, req); err != nil {
		t.Fatal(err)
	}
	if got := gotAuth.Load(); got != "Bearer "+creds["token"] {
		t.Errorf("the app got Authorization %q, want the connection's", got)
	}
	if _, err := c.Call(context.Background(), app, &app.AuthSchemes[0], creds, get("/big")); patchbay.ErrorCode(err) != patchbay.EUNAVAILABLE || !strings.Contains(err.Error(), "1024") {
		t.Errorf("an answer over the cap: %v", err)
	}
	_, err := c.Call(context.Background(), app, &app.AuthSchemes[0], creds, get("/slow"))
	if patchbay.ErrorCode(err) != patchbay.EUNAVAILABLE || !strings.Contains(patchbay.ErrorMessage(err), "did not answer") {
		t.Errorf("a slow app: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("the error names the URL: %v", err)
	}
}

// TestRetryAfter: an idempotent call answered 429 with a short Retry-After
// is sent once more; a POST never is.
func TestRetryAfter(t *testing.T) {
	var calls atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 || r.Method == "POST" {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer upstream.Close()
	c := New(Config{Overrides: map[string]string{"app": upstream.URL}, AllowHosts: []string{"127.0.0.1"}})
	resp, err := c.Call(context.Background(), app, &app.AuthSchemes[0], creds, get("/x"))
	if err != nil || resp.Status != 200 || calls.Load() != 2 {
		t.Fatalf("GET: status %v, err %v, %d calls; want 200 after one retry", resp, err, calls.Load())
	}
	calls.Store(10)
	resp, err = c.Call(context.Background(), app, &app.AuthSchemes[0], creds, &patchbay.UpstreamRequest{Method: "POST", Path: "/x", Body: []byte(`{}`)})
	if err != nil || resp.Status != http.StatusTooManyRequests || calls.Load() != 11 {
		t.Fatalf("POST: status %v, err %v, %d calls; want the 429, sent once", resp, err, calls.Load()-10)
	}
}

// TestOwnBaseURL: a connection's own base URL (the "full" field) replaces
// the scheme's; the operator's override still wins; one with user info is
// refused.
func TestOwnBaseURL(t *testing.T) {
	c := New(Config{})
	sc := &app.AuthSchemes[0]
	u, err := c.BaseURL(app, sc, map[string]string{"full": "https://gitlab.acme.example/api/v4/"})
	if err != nil || u.String() != "https://gitlab.acme.example/api/v4" {
		t.Errorf("own base URL: %v, %v", u, err)
	}
	if _, err := c.BaseURL(app, sc, map[string]string{"full": "https://user:pw@gitlab.acme.example"}); err == nil {
		t.Error("a base URL with user info was accepted")
	}
	o := New(Config{Overrides: map[string]string{"app": "https://mirror.example"}})
	if u, _ := o.BaseURL(app, sc, map[string]string{"full": "https://gitlab.acme.example"}); u.String() != "https://mirror.example" {
		t.Errorf("with an override: %v", u)
	}
}
