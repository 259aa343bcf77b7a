package dashboard_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// apiStatus calls the API with key and returns the status.
func apiStatus(t *testing.T, srv *testserver.Server, key string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/api/v3.1/connected_accounts", nil)
	req.Header.Set("x-api-key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

var newKeyRE = regexp.MustCompile(`id="new-key" class="mono" readonly value="(ak_[^"]+)"`)

// TestKeysPage: an owner creates a key, which is shown once; revoking it
// through the form makes the API refuse it at once, and its row then says
// Revoked with no options; a member sees no options and a forced revoke is
// a 403.
func TestKeysPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk testserver.Backend) {
		srv, owner := start(t, bk)
		b := newBrowser(t, srv)
		b.signIn(owner).want(t, 200).has(t, "API keys", "owner", "Options for key owner")

		created := b.post(projectPath(srv, "/keys"), url.Values{"name": {"agent"}}).want(t, 200)
		created.has(t, "shown only this once", "Copy the new key agent")
		m := newKeyRE.FindStringSubmatch(created.Body)
		if m == nil {
			t.Fatalf("the new key is not on the page:\n%s", tail(created.Body))
		}
		key := m[1]
		if apiStatus(t, srv, key) != 200 {
			t.Fatal("the new key does not work")
		}
		again := b.get(projectPath(srv, "/keys")).want(t, 200)
		again.lacks(t, key)
		again.has(t, "agent")

		id := regexp.MustCompile(`<tr data-key="([^"]+)">\s*<td>agent</td>`).FindStringSubmatch(again.Body)
		if id == nil {
			t.Fatal("no row for the key agent")
		}
		b.get(projectPath(srv, "/keys/"+id[1]+"/revoke")).want(t, 200).has(t, "cannot be undone")
		done := b.post(projectPath(srv, "/keys/"+id[1]+"/revoke"), nil).want(t, http.StatusSeeOther)
		after := b.follow(done).want(t, 200)
		after.has(t, "is revoked", "Revoked")
		row := after.Body[strings.Index(after.Body, `data-key="`+id[1]+`"`):]
		row = row[:strings.Index(row, "</tr>")]
		if strings.Contains(row, "Options for key") || !strings.Contains(row, "by "+owner) {
			t.Errorf("the revoked key's row: %s", row)
		}
		if got := apiStatus(t, srv, key); got != 401 {
			t.Errorf("the revoked key gets %d, want 401", got)
		}

		// A member sees the keys but no options, and cannot revoke.
		mb := newBrowser(t, srv)
		mb.signIn(member(t, srv, "dev@example.com", patchbay.RoleMember)).want(t, 200).has(t, "owner").lacks(t, "Options for key", "Create key")
		ownerRow := regexp.MustCompile(`<tr data-key="([^"]+)">\s*<td>owner</td>`).FindStringSubmatch(mb.get(projectPath(srv, "/keys")).Body)
		if ownerRow == nil {
			t.Fatal("no row for the owner key")
		}
		mb.post(projectPath(srv, "/keys/"+ownerRow[1]+"/revoke"), nil).want(t, http.StatusForbidden).has(t, "Only owners and admins")
		if apiStatus(t, srv, srv.OwnerKey) != 200 {
			t.Error("a member's forced revoke revoked the key")
		}
	})
}

// TestFormsNeedTheSession: a form without the session's CSRF token, or
// from another origin, is refused and changes nothing; signing out ends
// the session on the server, so its cookie no longer works.
func TestFormsNeedTheSession(t *testing.T) {
	srv, owner := start(t, testserver.SQLite)
	b := newBrowser(t, srv)
	b.signIn(owner)
	b.post(projectPath(srv, "/keys"), url.Values{"name": {"forged"}, "csrf": {"wrong"}}).want(t, http.StatusForbidden).has(t, "expired")
	req, _ := http.NewRequest("POST", srv.URL+projectPath(srv, "/keys"), strings.NewReader(url.Values{"name": {"cross"}, "csrf": {b.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	b.do(req).want(t, http.StatusForbidden).has(t, "another site")
	b.get(projectPath(srv, "/keys")).lacks(t, "forged", "cross")

	u, _ := url.Parse(srv.URL)
	cookies := b.http.Jar.Cookies(u)
	b.post("/signout", nil).want(t, http.StatusSeeOther)
	replay := newBrowser(t, srv)
	replay.http.Jar.SetCookies(u, cookies)
	p := replay.get(projectPath(srv, "/keys")).want(t, http.StatusSeeOther)
	if !strings.HasPrefix(p.Location, "/signin") {
		t.Errorf("a signed-out session's cookie goes to %q, want the sign-in page", p.Location)
	}
	// Sign-in failures say the same for a wrong password and an unknown email.
	for _, email := range []string{owner, "nobody@example.com"} {
		f := newBrowser(t, srv).post("/signin", url.Values{"email": {email}, "password": {"wrong password!!"}})
		f.want(t, http.StatusUnauthorized).has(t, "Wrong email or password")
	}
}

// TestSignInIsRateLimited: after ten attempts in a minute from one
// address, sign-in answers 429 without checking the password, even the
// right one.
func TestSignInIsRateLimited(t *testing.T) {
	srv, owner := start(t, testserver.SQLite)
	b := newBrowser(t, srv)
	// Ten attempts a minute per address, refilled one every six seconds:
	// the eleventh comes too soon unless bcrypt on a loaded machine spread
	// the first ten over six seconds, so the 429 may come a little later.
	limitedAt := 0
	for i := 1; i <= 20 && limitedAt == 0; i++ {
		switch p := b.post("/signin", url.Values{"email": {owner}, "password": {"a wrong password"}}); p.Status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			limitedAt = i
		default:
			t.Fatalf("attempt %d: status %d, want 401 or 429", i, p.Status)
		}
	}
	switch {
	case limitedAt == 0:
		t.Fatal("20 wrong passwords in a row, none refused as too many")
	case limitedAt <= 10:
		t.Fatalf("refused as too many at attempt %d, want the first 10 allowed", limitedAt)
	}
	// Limited, even the right password waits.
	b.post("/signin", url.Values{"email": {owner}, "password": {Password}}).want(t, http.StatusTooManyRequests).has(t, "Too many sign-in attempts")
}
