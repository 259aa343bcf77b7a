package client_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/patchbay-dev/patchbay/client"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts []client.Option
		ok   bool
	}{
		{"http://127.0.0.1:8080", nil, true},
		{"http://localhost:8080/", nil, true},
		{"http://[::1]:8080/prefix/", nil, true},
		{"https://patchbay.example.com", nil, true},
		{"http://patchbay.example.com", nil, false},
		{"http://patchbay.example.com", []client.Option{client.WithInsecureHTTP()}, true},
		{"patchbay.example.com", nil, false},
		{"ftp://patchbay.example.com", nil, false},
		{"https://patchbay.example.com/?x=1", nil, false},
		{"https://user:pw@patchbay.example.com", nil, false},
		{"", nil, false},
	} {
		_, err := client.New(tc.url, tc.opts...)
		if (err == nil) != tc.ok {
			t.Errorf("New(%q): err = %v, want ok = %t", tc.url, err, tc.ok)
		}
	}
	const key = "ak_0123456789abcdefghijklmnopqrstu\n"
	_, err := client.New("https://patchbay.example.com", client.WithAPIKey(key))
	if err == nil || strings.Contains(err.Error(), strings.TrimSpace(key)) {
		t.Errorf("New with a key holding a newline: err = %v, want an error without the key", err)
	}
}

func TestClientStringHidesKeys(t *testing.T) {
	const pk, ok = "ak_secretsecretsecretsecretsecret12", "oak_secretsecretsecretsecretsecret1"
	c := mustNew(t, "https://patchbay.example.com", client.WithAPIKey(pk), client.WithOrgAPIKey(ok))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
		for _, v := range []any{c, *c} {
			s := fmt.Sprintf(verb, v)
			if strings.Contains(s, "secret") {
				t.Errorf("Sprintf(%s, %T) = %s: it shows a key", verb, v, s)
			}
		}
	}
	if got, want := c.String(), "patchbay.Client(https://patchbay.example.com, x-api-key, x-org-api-key)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestRequests checks paths, escaping, headers and the redirect rule.
func TestRequests(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []*http.Request
	)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"slug":"x","meta":{}}`)
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/away"):
			http.Redirect(w, r, other.URL+"/api/v3.1/toolkits/x", http.StatusFound)
		case strings.HasSuffix(r.URL.Path, "/home"):
			http.Redirect(w, r, "/prefix/api/v3.1/toolkits/x", http.StatusFound)
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"slug":"x","meta":{},"items":[],"data":[]}`)
		}
	}))
	defer srv.Close()
	c := mustNew(t, srv.URL+"/prefix/", client.WithAPIKey("ak_project"), client.WithOrgAPIKey("oak_org"), client.WithUserAgent("myapp/1.2"))

	last := func() *http.Request {
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1]
	}
	_, err := c.Toolkit(ctx(t), "a/b c")
	must(t, err)
	r := last()
	if r.URL.EscapedPath() != "/prefix/api/v3.1/toolkits/a%2Fb%20c" {
		t.Errorf("path = %s", r.URL.EscapedPath())
	}
	if r.Header.Get("X-Api-Key") != "ak_project" || r.Header.Get("X-Org-Api-Key") != "" || r.Header.Get("User-Agent") != "myapp/1.2 patchbay-go/"+client.Version ||
		r.Header.Get("Accept") != "application/json" || r.Header.Get("Content-Type") != "" {
		t.Errorf("headers = %v", r.Header)
	}
	_, err = c.Projects(ctx(t), client.ProjectListParams{})
	must(t, err)
	if r := last(); r.Header.Get("X-Api-Key") != "" || r.Header.Get("X-Org-Api-Key") != "oak_org" {
		t.Errorf("org call headers = %v", r.Header)
	}
	_, err = c.ConnectedAccounts(ctx(t), client.ConnectedAccountListParams{UserIDs: []string{"a", "b"}, Statuses: []string{"ACTIVE", "INITIATED"}, Limit: 3})
	must(t, err)
	if q := last().URL.RawQuery; q != "limit=3&statuses=ACTIVE%2CINITIATED&user_ids=a%2Cb" {
		t.Errorf("query = %s", q)
	}
	_, err = c.EnableAuthConfig(ctx(t), "ac_1")
	must(t, err)
	if r := last(); r.Method != "PATCH" || r.URL.Path != "/prefix/api/v3.1/auth_configs/ac_1/ENABLED" || r.ContentLength != 0 {
		t.Errorf("EnableAuthConfig sent %s %s with %d bytes", r.Method, r.URL.Path, r.ContentLength)
	}
	must(t, c.ReportLeakedKeys(ctx(t), []string{"ak_leaked"}))
	if r := last(); r.Header.Get("X-Api-Key") != "" || r.Header.Get("X-Org-Api-Key") != "" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("leak report headers = %v", r.Header)
	}

	// A redirect within the origin keeps the key; one elsewhere drops it.
	c2 := mustNew(t, srv.URL, client.WithAPIKey("ak_project"))
	_, err = c2.Toolkit(ctx(t), "home")
	must(t, err)
	if r := last(); r.URL.Path != "/prefix/api/v3.1/toolkits/x" || r.Header.Get("X-Api-Key") != "ak_project" {
		t.Errorf("same-origin redirect: %s with key %q", r.URL.Path, r.Header.Get("X-Api-Key"))
	}
	_, err = c2.Toolkit(ctx(t), "away")
	must(t, err)
	if r := last(); r.Host != strings.TrimPrefix(other.URL, "http://") || r.Header.Get("X-Api-Key") != "" {
		t.Errorf("cross-origin redirect reached %s with key %q", r.Host, r.Header.Get("X-Api-Key"))
	}
	// A caller's CheckRedirect still runs.
	c3 := mustNew(t, srv.URL, client.WithAPIKey("ak_project"), client.WithHTTPClient(&http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("no redirects here") },
	}))
	if _, err := c3.Toolkit(ctx(t), "away"); err == nil || !strings.Contains(err.Error(), "no redirects here") {
		t.Errorf("caller's CheckRedirect: %v", err)
	}
}
