package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// Password is every test member's password.
const Password = "correct horse battery staple"

// eachBackend runs fn once per store.
func eachBackend(t *testing.T, fn func(t *testing.T, b testserver.Backend)) {
	t.Helper()
	for _, b := range testserver.Backends {
		t.Run(string(b), func(t *testing.T) { fn(t, b) })
	}
}

// browser is a signed-in (or not) HTTP client of the dashboard, with its
// own cookies and without following redirects.
type browser struct {
	t    *testing.T
	srv  *testserver.Server
	http *http.Client
	csrf string // the session's CSRF token, read from the last page
}

func newBrowser(t *testing.T, srv *testserver.Server) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, srv: srv, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is one answer.
type page struct {
	Status   int
	Location string
	Body     string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	p := &page{Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(body)}
	if m := csrfRE.FindStringSubmatch(p.Body); m != nil {
		b.csrf = m[1]
	}
	return p
}

// get loads a page.
func (b *browser) get(path string) *page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.srv.URL+path, nil)
	return b.do(req)
}

// post submits a form with the session's CSRF token (unless form sets
// csrf itself), from the dashboard's origin.
func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, set := form["csrf"]; !set && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.srv.URL)
	return b.do(req)
}

// want checks the status.
func (p *page) want(t *testing.T, status int) *page {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d; body:\n%s", p.Status, status, tail(p.Body))
	}
	return p
}

// has checks that the page says each of parts.
func (p *page) has(t *testing.T, parts ...string) *page {
	t.Helper()
	for _, s := range parts {
		if !strings.Contains(p.Body, s) {
			t.Errorf("the page does not say %q:\n%s", s, tail(p.Body))
		}
	}
	return p
}

// lacks checks that the page says none of parts.
func (p *page) lacks(t *testing.T, parts ...string) *page {
	t.Helper()
	for _, s := range parts {
		if strings.Contains(p.Body, s) {
			t.Errorf("the page says %q", s)
		}
	}
	return p
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}

// member makes a member of the server's organization with role who can
// sign in with Password, and returns their email.
func member(t *testing.T, srv *testserver.Server, email string, role patchbay.Role) string {
	t.Helper()
	ctx := context.Background()
	cli, err := srv.Service.CLIPrincipal(ctx, srv.Org.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := srv.Service.CreateInvite(ctx, cli, email, role)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.Service.AcceptInvite(ctx, tok, strings.Split(email, "@")[0], Password, "test"); err != nil {
		t.Fatal(err)
	}
	return email
}

// signIn signs b in as email and returns the page it lands on.
func (b *browser) signIn(email string) *page {
	b.t.Helper()
	p := b.post("/signin", url.Values{"email": {email}, "password": {Password}, "next": {"/"}})
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("sign in as %s: status %d\n%s", email, p.Status, tail(p.Body))
	}
	return b.follow(p)
}

// follow follows redirects from p.
func (b *browser) follow(p *page) *page {
	b.t.Helper()
	for i := 0; p.Location != "" && i < 5; i++ {
		p = b.get(p.Location)
	}
	return p
}

// start runs a patchbay with an owner who can sign in, and returns it and
// the owner's email.
func start(t *testing.T, bk testserver.Backend) (*testserver.Server, string) {
	t.Helper()
	srv := testserver.Start(t, bk, testserver.Options{})
	return srv, member(t, srv, "owner@example.com", patchbay.RoleOwner)
}

// projectPath is a path under the server's default project.
func projectPath(srv *testserver.Server, rest string) string {
	return "/projects/" + srv.Project.ID + rest
}
