package dashboard_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// TestBrowserMCPServers walks the MCP servers page in real Chromium: the
// section link, the create form, a user's URL with a working copy button,
// and deletion through the confirmation dialog.
func TestBrowserMCPServers(t *testing.T) {
	srv, owner := start(t, testserver.SQLite)
	c := newChrome(t)
	c.signIn(srv.URL, owner)
	c.do("open the MCP servers section", chromedp.Click(css(`nav.sections a[href$="/mcp"]`)), chromedp.WaitVisible(css(`#mcp-name`)))
	c.do("create a server",
		chromedp.SendKeys(css(`#mcp-name`), "browser tools"),
		chromedp.SendKeys(css(`#mcp-toolkits`), "github"),
		chromedp.SendKeys(css(`#mcp-tools`), "GITHUB_GET_THE_AUTHENTICATED_USER"),
		chromedp.Submit(css(`#mcp-name`)),
		chromedp.WaitVisible(css(`.flash`)),
	)
	flash := get(c, "read the message", chromedp.Text(css(`.flash`)))
	if !strings.Contains(flash, "MCP server browser tools (") {
		t.Fatalf("after creating: %q", flash)
	}
	c.do("show alice's URL", chromedp.SendKeys(css(`#mcp-user`), "alice"), chromedp.Submit(css(`#mcp-user`)), chromedp.WaitVisible(css(`input[id^="mcp-url-"]`)))
	shown := get(c, "read the URL", chromedp.Value(css(`input[id^="mcp-url-"]`)))
	c.do("copy it", chromedp.Click(css(`button[data-copy^="mcp-url-"]`)), chromedp.Sleep(200*time.Millisecond))
	copied := get(c, "read the button", chromedp.Text(css(`button[data-copy^="mcp-url-"]`)))
	config := get(c, "read the client configuration", chromedp.Value(css(`textarea[id^="mcp-config-"]`)))
	c.shot("mcp-user-url")
	u, err := url.Parse(shown)
	if err != nil || !strings.HasPrefix(shown, srv.URL+"/v3/mcp/") || u.Query().Get("user_id") != "alice" {
		t.Errorf("the page shows the URL %q", shown)
	}
	if copied != "Copied" {
		t.Errorf("the copy button says %q after a click", copied)
	}
	if !strings.Contains(config, `"url": "`+shown+`"`) || !strings.Contains(config, `"x-api-key": "<your patchbay project API key>"`) {
		t.Errorf("the client configuration:\n%s", config)
	}

	c.do("open the delete dialog", chromedp.Click(css(`a[data-dialog^="delete-"]`)), chromedp.WaitVisible(css(`dialog[open]`)))
	text := get(c, "read the dialog", chromedp.Text(css(`dialog[open]`)))
	if !strings.Contains(text, "stop working at once") {
		t.Errorf("the dialog says %q", text)
	}
	c.do("confirm", chromedp.Click(css(`dialog[open] button[type="submit"]`)), chromedp.WaitVisible(css(`.flash`)))
	flash = get(c, "read the message", chromedp.Text(css(`.flash`)))
	left := get(c, "count the servers", chromedp.Evaluate[int](`document.querySelectorAll('[data-mcp-server]').length`))
	if !strings.Contains(flash, "is deleted") || left != 0 {
		t.Errorf("after deleting: %q, %d servers left", flash, left)
	}
	c.noConsoleErrors("the MCP servers page")
}
