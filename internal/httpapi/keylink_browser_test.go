package httpapi_test

// The hosted connect page in real Chromium: the end user opens the link,
// sees masked inputs, enters a wrong key (the form comes back with the
// problem and without the key), then the right one, and lands on the
// developer's callback with status=success.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/patchbay-dev/patchbay/internal/testbrowser"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// headless starts one headless Chromium (internal/testbrowser) and returns
// its context and the console errors it saw so far.
func headless(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	b := testbrowser.Start(t, 1024, 800, 60*time.Second)
	var mu sync.Mutex
	var seen []string
	return b.Ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, b.TakeConsoleErrors()...)
		return append([]string(nil), seen...)
	}
}

func TestBrowserKeyLink(t *testing.T) {
	ctx, consoleErrors := headless(t)
	e := startKeyLinks(t, testserver.SQLite)
	a := e.a

	// The developer's callback page, on its own origin.
	var mu sync.Mutex
	var landed []url.Values
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/connected" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		landed = append(landed, r.URL.Query())
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>Back at the app</title><p id="back">Back at the app</p>`))
	}))
	t.Cleanup(cb.Close)
	id, link := e.link(t, e.ac, "browser-user", cb.URL+"/connected")

	run := func(step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	eval := func(step, js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return v
	}
	key, sub := chromedp.CSS(`#field-generic_api_key`), chromedp.CSS(`#field-subdomain`)

	run("open the link", chromedp.Navigate(link), chromedp.WaitVisible(key))
	if got := eval("read the key input's type", `document.querySelector('#field-generic_api_key').type`); got != "password" {
		t.Errorf("the API key input has type %q, want password", got)
	}
	if got := eval("read the subdomain input's type", `document.querySelector('#field-subdomain').type`); got != "text" {
		t.Errorf("the subdomain input has type %q, want text", got)
	}
	if got := eval("read the labels", `Array.from(document.querySelectorAll('label')).map(l => l.textContent.trim()).join('|')`); got != "Freshdesk Subdomain *(required)|API Key *(required)" {
		t.Errorf("labels %q", got)
	}
	if got := eval("read the style", `getComputedStyle(document.querySelector('button')).backgroundColor`); got != "rgb(43, 108, 212)" {
		t.Errorf("the page's own style did not apply (button background %q): the CSP hash does not match it", got)
	}

	// A wrong key: the form comes back saying so, the key field empty.
	run("send a wrong key",
		chromedp.SendKeys(sub, "acme"), chromedp.SendKeys(key, fdWrongKey),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`#problem`)))
	if got := eval("read the problem", `document.querySelector('#problem').textContent`); !strings.Contains(got, "Freshdesk did not accept these credentials") {
		t.Errorf("after a wrong key the page says %q", got)
	}
	if got := eval("read the key field", `document.querySelector('#field-generic_api_key').value`); got != "" {
		t.Errorf("the key field was re-filled with %d characters", len(got))
	}
	if got := eval("read the subdomain", `document.querySelector('#field-subdomain').value`); got != "acme" {
		t.Errorf("the subdomain field holds %q after the refusal, want acme", got)
	}
	a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "INITIATED")

	// The right key: the browser lands on the callback.
	run("send the right key",
		chromedp.SendKeys(key, fdRightKey),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`#back`)))
	loc := eval("read the location", `location.href`)
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, cb.URL+"/connected?") || u.Query().Get("status") != "success" || u.Query().Get("connected_account_id") != id {
		t.Errorf("the browser landed on %q, want the callback with status=success and connected_account_id=%s", loc, id)
	}
	if got := eval("read the referrer", `document.referrer`); got != "" {
		t.Errorf("the callback page sees the referrer %q: the link token would leak", got)
	}
	mu.Lock()
	n := len(landed)
	mu.Unlock()
	if n != 1 {
		t.Errorf("the callback was reached %d times, want once", n)
	}
	r := a.get("/api/v3.1/connected_accounts/" + id).want(200)
	r.eq("status", "ACTIVE")
	checkMasked(t, "state.val.generic_api_key", r.str("state.val.generic_api_key"), fdRightKey)

	// Back to the link: already used.
	run("open the link again", chromedp.Navigate(link), chromedp.WaitReady(chromedp.CSS(`body`)))
	if got := eval("read the page", `document.body.innerText`); !strings.Contains(got, "already used") {
		t.Errorf("the used link shows %q", got)
	}
	for _, msg := range consoleErrors() {
		if strings.Contains(msg, "Content Security Policy") || strings.Contains(msg, "Refused") {
			t.Errorf("console: %s", msg)
		}
	}
}
