package dashboard_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testbrowser"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// artifacts is where screenshots go: PATCHBAY_ARTIFACT_DIR, or a
// directory under the system's temporary one.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PATCHBAY_ARTIFACT_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "patchbay-artifacts")
	}
	dir = filepath.Join(dir, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// css is a CSS selector query.
type css = chromedp.CSS

// chrome is one headless Chromium (internal/testbrowser) with the
// dashboard tests' helpers.
type chrome struct {
	t     *testing.T
	ctx   context.Context
	b     *testbrowser.Browser
	shots string
}

func newChrome(t *testing.T) *chrome {
	t.Helper()
	b := testbrowser.Start(t, 1280, 900, 90*time.Second)
	return &chrome{t: t, ctx: b.Ctx, b: b, shots: artifacts(t)}
}

// do runs steps, failing the test with what step names.
func (c *chrome) do(step string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, steps...); err != nil {
		c.shot("failed-" + strings.ReplaceAll(step, " ", "-"))
		c.t.Fatalf("%s: %v", step, err)
	}
}

// get runs one action that returns a value.
func get[T any](c *chrome, step string, a chromedp.Action[T]) T {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, a)
	if err != nil {
		c.t.Fatalf("%s: %v", step, err)
	}
	return v
}

// shot saves a screenshot of the whole page as name.png.
func (c *chrome) shot(name string) {
	c.t.Helper()
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(c.shots, strings.NewReplacer("/", "_", " ", "_").Replace(c.t.Name()+"-"+name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		c.t.Logf("screenshot %s: %v", name, err)
	}
}

// noConsoleErrors fails the test for any console error seen so far but
// those that say one of expected.
func (c *chrome) noConsoleErrors(where string, expected ...string) {
	c.t.Helper()
next:
	for _, e := range c.b.TakeConsoleErrors() {
		for _, x := range expected {
			if strings.Contains(e, x) {
				continue next
			}
		}
		c.t.Errorf("%s: %s", where, e)
	}
}

func (c *chrome) signIn(base, email string) {
	c.t.Helper()
	c.do("sign in as "+email,
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(css(`#email`)),
		chromedp.SendKeys(css(`#email`), email),
		chromedp.SendKeys(css(`#password`), Password),
		chromedp.Submit(css(`#password`)),
		chromedp.WaitVisible(css(`table.keys`)),
	)
}

// TestBrowserRevokeFlow is the seed's walk-through in real Chromium: in
// the project's API keys, a key row's options button opens a menu with
// Revoke; Revoke opens a dialog saying the action is permanent; confirming
// revokes the key at once, the row says Revoked and has no Revoke action,
// and the API refuses the key with 401.
func TestBrowserRevokeFlow(t *testing.T) {
	srv, owner := start(t, testserver.SQLite)
	ctx := context.Background()
	cli, err := srv.Service.CLIPrincipal(ctx, srv.Org.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := srv.Service.CreateAPIKey(ctx, cli, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: srv.Project.ID, Name: "seed-key"})
	if err != nil {
		t.Fatal(err)
	}
	key := tok.Secret.Reveal()
	if apiStatus(t, srv, key) != 200 {
		t.Fatal("the seed key does not work before the revoke")
	}

	c := newChrome(t)
	c.signIn(srv.URL, owner)
	c.shot("1-keys")
	options := css(`button[aria-label="Options for key seed-key"]`)
	c.do("open the options menu", chromedp.Click(options), chromedp.WaitVisible(css(`[role="menu"]:not([hidden]) [role="menuitem"]`)))
	expanded := get(c, "read aria-expanded", chromedp.Evaluate[string](`document.querySelector('button[aria-label="Options for key seed-key"]').getAttribute('aria-expanded')`))
	focused := get(c, "read the focus", chromedp.Evaluate[string](`document.activeElement.textContent.trim()`))
	if expanded != "true" || focused != "Revoke" {
		t.Errorf("after opening the menu: aria-expanded %q, focus on %q; want true and the Revoke item", expanded, focused)
	}
	c.shot("2-menu")
	c.do("choose Revoke", chromedp.Click(css(`[role="menu"]:not([hidden]) [role="menuitem"]`)), chromedp.WaitVisible(css(`dialog[open]`)))
	dialogText := get(c, "read the dialog", chromedp.Text(css(`dialog[open]`)))
	inDialog := get(c, "read the focus", chromedp.Evaluate[string](`document.activeElement.closest('dialog') ? document.activeElement.textContent.trim() : ''`))
	if !strings.Contains(dialogText, "permanent and cannot be undone") {
		t.Errorf("the dialog says %q; want it to warn that revoking is permanent", dialogText)
	}
	if inDialog == "" {
		t.Error("the focus did not move into the dialog")
	}
	c.shot("3-dialog")
	c.do("confirm", chromedp.Click(css(`dialog[open] button[type="submit"]`)), chromedp.WaitVisible(css(`.flash`)))
	flash := get(c, "read the message", chromedp.Text(css(`.flash`)))
	row := get(c, "read the row", chromedp.Evaluate[string](`(() => { for (const tr of document.querySelectorAll('tr[data-key]')) if (tr.cells[0].textContent.trim() === 'seed-key') return tr.textContent.replace(/\s+/g, ' '); return ''; })()`))
	optionsLeft := get(c, "count the options", chromedp.Evaluate[int](`document.querySelectorAll('button[aria-label="Options for key seed-key"]').length`))
	c.shot("4-revoked")
	if !strings.Contains(flash, "revoked") || !strings.Contains(row, "Revoked") || !strings.Contains(row, "by "+owner) {
		t.Errorf("after the revoke: message %q, row %q", flash, row)
	}
	if optionsLeft != 0 {
		t.Error("the revoked key still has its options button")
	}
	if got := apiStatus(t, srv, key); got != 401 {
		t.Errorf("the revoked key gets %d, want 401", got)
	}
	c.noConsoleErrors("the revoke flow")
}

// TestBrowserMemberCannotRevoke: a member sees the keys but no options
// button at all.
func TestBrowserMemberCannotRevoke(t *testing.T) {
	srv, _ := start(t, testserver.SQLite)
	c := newChrome(t)
	c.signIn(srv.URL, member(t, srv, "dev@example.com", patchbay.RoleMember))
	buttons := get(c, "count the options buttons", chromedp.Evaluate[int](`document.querySelectorAll('.menu-button').length`))
	rows := get(c, "count the keys", chromedp.Evaluate[int](`document.querySelectorAll('tr[data-key]').length`))
	c.shot("member-keys")
	if rows == 0 || buttons != 0 {
		t.Errorf("a member sees %d keys and %d options buttons; want the keys and no button", rows, buttons)
	}
	c.noConsoleErrors("the member's keys page")
}

// TestBrowserNewKeyShownOnce: a new key is on the page that answers its
// creation, with a copy button, and on no page after.
func TestBrowserNewKeyShownOnce(t *testing.T) {
	srv, owner := start(t, testserver.SQLite)
	c := newChrome(t)
	c.signIn(srv.URL, owner)
	c.do("create a key", chromedp.SendKeys(css(`#key-name`), "browser-key"), chromedp.Submit(css(`#key-name`)), chromedp.WaitVisible(css(`#new-key`)))
	shown := get(c, "read the key", chromedp.Value(css(`#new-key`)))
	c.do("copy it", chromedp.Click(css(`button[data-copy="new-key"]`)), chromedp.Sleep(200*time.Millisecond))
	copied := get(c, "read the button", chromedp.Text(css(`button[data-copy="new-key"]`)))
	c.shot("new-key")
	if !strings.HasPrefix(shown, "ak_") || apiStatus(t, srv, shown) != 200 {
		t.Fatalf("the page shows %q, which is not a working key", shown)
	}
	if copied != "Copied" {
		t.Errorf("the copy button says %q after a click", copied)
	}
	c.do("reload", chromedp.Navigate(srv.URL+projectPath(srv, "/keys")), chromedp.WaitVisible(css(`table.keys`)))
	if html := get(c, "read the page", chromedp.OuterHTML(css(`html`))); strings.Contains(html, shown) {
		t.Error("the key is on the page again after a reload")
	}
	c.noConsoleErrors("creating a key")
}

// TestBrowserCSRFAndSessionEnd: a form whose CSRF token was tampered with
// is refused; a session ended on the server sends the browser to sign in.
func TestBrowserCSRFAndSessionEnd(t *testing.T) {
	srv, owner := start(t, testserver.SQLite)
	c := newChrome(t)
	c.signIn(srv.URL, owner)
	c.do("submit with a forged token",
		chromedp.SetValue(css(`#key-name`), "forged"),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.querySelector('form.inline input[name=csrf]').value = 'forged') !== ''`))
			return err
		}),
		chromedp.Submit(css(`#key-name`)),
		chromedp.WaitVisible(css(`main h1`)),
	)
	heading := get(c, "read the heading", chromedp.Text(css(`main h1`)))
	c.shot("csrf-refused")
	if heading != "Forbidden" {
		t.Errorf("a forged form lands on %q, want the Forbidden page", heading)
	}
	res, err := chromedp.Call(c.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	ended := false
	for _, ck := range res.Cookies {
		if ck.Name != "pb_session" {
			continue
		}
		if !ck.HTTPOnly || ck.SameSite != network.CookieSameSiteLax {
			t.Errorf("the session cookie is HttpOnly=%v SameSite=%v", ck.HTTPOnly, ck.SameSite)
		}
		sum := sha256.Sum256([]byte(ck.Value))
		if err := srv.Store.DeleteSession(context.Background(), hex.EncodeToString(sum[:])); err != nil {
			t.Fatal(err)
		}
		ended = true
	}
	if !ended {
		t.Fatal("no session cookie")
	}
	c.do("load a page after the session ended", chromedp.Navigate(srv.URL+projectPath(srv, "/keys")), chromedp.WaitVisible(css(`#email`)))
	if url := get(c, "read the address", chromedp.Location()); !strings.Contains(url, "/signin") {
		t.Errorf("after the session ended the page is %s, want the sign-in page", url)
	}
	c.noConsoleErrors("CSRF and session end", "status of 403") // the refused form itself
}

// TestBrowserEveryPage: every section renders, without console errors, on
// a wide and on a narrow window.
func TestBrowserEveryPage(t *testing.T) {
	srv, owner := start(t, testserver.SQLite)
	c := newChrome(t)
	c.signIn(srv.URL, owner)
	for _, width := range []int64{1280, 390} {
		c.do(fmt.Sprintf("window %d", width), chromedp.EmulateViewport(width, 900))
		for _, section := range []string{"keys", "toolkits", "auth-configs", "accounts", "logs", "audit", "members"} {
			c.do(section, chromedp.Navigate(srv.URL+projectPath(srv, "/"+section)), chromedp.WaitVisible(css(`main h1`)))
			title := get(c, "read the title", chromedp.Title())
			c.shot(fmt.Sprintf("%s-%d", section, width))
			if strings.HasPrefix(title, "Not Found") || strings.HasPrefix(title, "Internal") {
				t.Errorf("%s at %dpx: the page is %q", section, width, title)
			}
			c.noConsoleErrors(fmt.Sprintf("%s at %dpx", section, width))
		}
	}
}
