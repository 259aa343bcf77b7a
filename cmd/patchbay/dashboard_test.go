package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer written by a server and read by a test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var signupRE = regexp.MustCompile(`(http://\S+/signup\?token=pbi_\S+)`)

// serveUntilLink runs `patchbay serve` on e until it has logged that it
// listens, and returns its stderr and a stop function.
func serveUntilLink(t *testing.T, e env) (*lockedBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, e.get, &bytes.Buffer{}, &stderr) }()
	waitFor(t, 20*time.Second, "the server to listen", func() bool { return strings.Contains(stderr.String(), "patchbay listening") })
	time.Sleep(200 * time.Millisecond) // the setup link follows the listening line
	return &stderr, func() { cancel(); <-done }
}

// signUp follows a sign-up link with a password; it must land signed in.
func signUp(t *testing.T, link string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(link)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %v %v", link, res, err)
	}
	res.Body.Close()
	form := url.Values{"token": {u.Query().Get("token")}, "name": {"Owner"}, "password": {"correct horse battery staple"}, "confirm": {"correct horse battery staple"}}
	res, err = noRedirect.PostForm(u.Scheme+"://"+u.Host+"/signup", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Set-Cookie"), "pb_session=") {
		t.Fatalf("signing up: status %d, cookie %q", res.StatusCode, res.Header.Get("Set-Cookie"))
	}
}

// TestServePrintsTheOwnersSetupLink: the first start prints a one-time
// link to set the owner's password, to the terminal and not to the log;
// once used, later starts print none.
func TestServePrintsTheOwnersSetupLink(t *testing.T) {
	e := sqliteEnv(t).with("PATCHBAY_LOG_FORMAT", "json")
	stderr, stop := serveUntilLink(t, e)
	m := signupRE.FindStringSubmatch(stderr.String())
	if m == nil {
		stop()
		t.Fatalf("no setup link on the first start:\n%s", stderr)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(line, "{") && strings.Contains(line, "pbi_") {
			t.Errorf("the setup token is in a log record: %s", line)
		}
	}
	signUp(t, m[1])
	stop()

	stderr, stop = serveUntilLink(t, e)
	defer stop()
	if strings.Contains(stderr.String(), "/signup?token=") {
		t.Errorf("a start after the owner signed up prints a link:\n%s", stderr)
	}
}

// TestMembersInvite: `patchbay members invite` prints a one-time sign-up
// link before the server has ever run, at PATCHBAY_PUBLIC_URL; the link
// then signs the member up with the role.
func TestMembersInvite(t *testing.T) {
	e := sqliteEnv(t)
	r := mustCLI(t, e.with("PATCHBAY_PUBLIC_URL", "https://patchbay.example.com/"), "members", "invite", "--email", "dev@example.com", "--role", "admin")
	if !strings.HasPrefix(r.stdout, "https://patchbay.example.com/signup?token=pbi_") || !strings.Contains(r.stderr, "invited dev@example.com as admin") {
		t.Fatalf("members invite printed %q / %q", r.stdout, r.stderr)
	}
	bad := runCLI(t, e, "members", "invite", "--email", "not-an-email")
	if bad.code == exitOK || !strings.Contains(bad.stderr, "not an email address") {
		t.Errorf("a bad email: exit %d, %q", bad.code, bad.stderr)
	}
	// The same invite, at the running server's address.
	link := strings.TrimSpace(mustCLI(t, e, "members", "invite", "--email", "ops@example.com").stdout)
	stderr, stop := serveUntilLink(t, e)
	defer stop()
	addr := regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`).FindStringSubmatch(stderr.String())
	if addr == nil {
		t.Fatalf("no address in the log:\n%s", stderr)
	}
	signUp(t, strings.Replace(link, "127.0.0.1:8080", addr[1], 1))
}

// TestProjectsLogPayloads: the CLI turns a project's log payloads off and
// on, and names an unknown project.
func TestProjectsLogPayloads(t *testing.T) {
	e := sqliteEnv(t)
	id := strings.TrimSpace(mustCLI(t, e, "projects", "create", "--name", "quiet").stdout)
	if r := mustCLI(t, e, "projects", "log-payloads", "--project", id, "--keep=false"); !strings.Contains(r.stderr, "now omits") {
		t.Errorf("--keep=false: %q", r.stderr)
	}
	if r := mustCLI(t, e, "projects", "log-payloads", "--project", id); !strings.Contains(r.stderr, "now keeps") {
		t.Errorf("--keep: %q", r.stderr)
	}
	if r := runCLI(t, e, "projects", "log-payloads", "--project", "pr_nope"); r.code == exitOK || !strings.Contains(r.stderr, "pr_nope") {
		t.Errorf("an unknown project: exit %d, %q", r.code, r.stderr)
	}
}
