package dashboard_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// acctCall calls the HTTP API with a JSON body (nil for none) and a key
// in header (x-api-key or x-org-api-key), and returns the status and the
// decoded answer.
func acctCall(t *testing.T, srv *testserver.Server, header, key, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	req.Header.Set(header, key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// acctAuthConfig creates a managed serpapi auth config with key and
// returns its id.
func acctAuthConfig(t *testing.T, srv *testserver.Server, key string) string {
	t.Helper()
	st, out := acctCall(t, srv, "x-api-key", key, "POST", "/api/v3.1/auth_configs",
		map[string]any{"toolkit": map[string]any{"slug": "serpapi"}, "auth_config": map[string]any{"type": "use_composio_managed_auth"}})
	if st != http.StatusCreated {
		t.Fatalf("create an auth config: %d %v", st, out)
	}
	return out["auth_config"].(map[string]any)["id"].(string)
}

// acctConnect connects user through the serpapi auth config acID with the
// API key secret, and returns the account's id.
func acctConnect(t *testing.T, srv *testserver.Server, key, acID, user, secret string) string {
	t.Helper()
	st, out := acctCall(t, srv, "x-api-key", key, "POST", "/api/v3.1/connected_accounts", map[string]any{
		"auth_config": map[string]any{"id": acID},
		"connection": map[string]any{"user_id": user, "state": map[string]any{"authScheme": "API_KEY",
			"val": map[string]any{"status": "ACTIVE", "generic_api_key": secret}}},
	})
	if st != http.StatusCreated {
		t.Fatalf("connect %s: %d %v", user, st, out)
	}
	return out["id"].(string)
}

// acctDisabled asks the API whether an account is disabled.
func acctDisabled(t *testing.T, srv *testserver.Server, id string) bool {
	t.Helper()
	st, out := acctCall(t, srv, "x-api-key", srv.OwnerKey, "GET", "/api/v3.1/connected_accounts/"+id, nil)
	if st != http.StatusOK {
		t.Fatalf("get %s: %d %v", id, st, out)
	}
	return out["is_disabled"].(bool)
}

// acctRow is the table row of account id on p ("" if there is none).
func acctRow(p *page, id string) string {
	i := strings.Index(p.Body, `<tr data-account="`+id+`">`)
	if i < 0 {
		return ""
	}
	row := p.Body[i:]
	return row[:strings.Index(row, "</tr>")]
}

// acctIDs are the accounts listed on p, in order.
func acctIDs(p *page) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr data-account="([^"]+)">`).FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestAccountsPage: the listing with masked credentials (never the
// plaintext), its filters and pages, the empty states, disable (dialog and
// no-script confirmation), enable and delete with their messages, the
// refused actions, and a member's view (members manage connections too).
func TestAccountsPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk testserver.Backend) {
		srv, owner := start(t, bk)
		b := newBrowser(t, srv)
		b.signIn(owner)
		var secrets []string
		clean := func(p *page) *page {
			t.Helper()
			return p.lacks(t, secrets...)
		}
		list := projectPath(srv, "/accounts")

		empty := b.get(list).want(t, 200)
		empty.has(t, "<h1>Connected accounts</h1>", "no connected accounts yet", `aria-current="page">Connected accounts`, `<label for="filter-user">User id</label>`)
		empty.lacks(t, "<table")

		ac := acctAuthConfig(t, srv, srv.OwnerKey)
		ids := map[string]string{} // user → account
		var order []string         // accounts, oldest first
		for i := 1; i <= 11; i++ {
			user := fmt.Sprintf("user-%d", i)
			secret := fmt.Sprintf("serp-SECRET-%02d-0123456789abcdefghij", i)
			secrets = append(secrets, secret)
			ids[user] = acctConnect(t, srv, srv.OwnerKey, ac, user, secret)
			order = append(order, ids[user])
		}
		// user-1 has a second account, which is revoked (its credentials
		// are erased).
		secrets = append(secrets, "serp-SECRET-again-0123456789abcdefghij")
		again := acctConnect(t, srv, srv.OwnerKey, ac, "user-1", secrets[len(secrets)-1])
		if st, out := acctCall(t, srv, "x-api-key", srv.OwnerKey, "POST", "/api/v3.1/connected_accounts/"+again+"/revoke", nil); st != 200 {
			t.Fatalf("revoke: %d %v", st, out)
		}

		// The first page: newest first, credentials masked.
		all := clean(b.get(list).want(t, 200))
		all.has(t, "12 accounts", "page 1 of 1", "SerpApi", "API_KEY", `<span class="badge active">ACTIVE</span>`,
			`<span class="badge revoked">REVOKED</span>`, "generic_api_key: "+patchbay.MaskValue(secrets[0]),
			`<caption class="visually-hidden">Connected accounts of`, `<th scope="col">Credentials</th>`)
		got := acctIDs(all)
		if len(got) != 12 || got[0] != again || got[1] != order[10] || got[11] != order[0] {
			t.Errorf("listed %v, want 12 accounts newest first", got)
		}
		row := acctRow(all, ids["user-2"])
		for _, want := range []string{"user-2", "Enabled", `aria-label="Options for the account ` + ids["user-2"] + ` of user-2"`,
			`aria-label="Disable the account ` + ids["user-2"] + ` of user-2"`, `data-dialog="disable-` + ids["user-2"] + `"`,
			`<dialog id="delete-` + ids["user-2"] + `"`, `name="csrf" value="`} {
			if !strings.Contains(row, want) {
				t.Errorf("the row of user-2 lacks %q: %s", want, row)
			}
		}
		if r := acctRow(all, again); !strings.Contains(r, "None stored") {
			t.Errorf("the revoked account's row: %s", r)
		}

		// Filters.
		byUser := clean(b.get(list+"?user_id=user-1").want(t, 200))
		if got := acctIDs(byUser); len(got) != 2 || got[0] != again || got[1] != ids["user-1"] {
			t.Errorf("user-1's accounts: %v", got)
		}
		byUser.has(t, `value="user-1"`, "2 accounts match these filters", "Clear the filters")
		revoked := clean(b.get(list+"?status=REVOKED").want(t, 200))
		if got := acctIDs(revoked); len(got) != 1 || got[0] != again {
			t.Errorf("revoked accounts: %v", got)
		}
		revoked.has(t, `<option value="REVOKED" selected>`)
		active := b.get(list+"?status=active&toolkit=SerpApi&user_id=user-1").want(t, 200)
		if got := acctIDs(active); len(got) != 1 || got[0] != ids["user-1"] {
			t.Errorf("user-1's active serpapi accounts: %v", got)
		}
		active.has(t, `<option value="serpapi" selected>`, `<option value="ACTIVE" selected>`)
		b.get(list+"?status=FAILED").want(t, 200).has(t, "No connected account matches these filters", "Show every account").lacks(t, "<table")
		b.get(list+"?toolkit=github").want(t, 200).has(t, "No connected account matches these filters")
		b.get(list+"?user_id=nobody").want(t, 200).has(t, "No connected account matches these filters")
		bad := b.get(list+"?status=BOGUS&user_id=user-2").want(t, 400)
		bad.has(t, "The status filter must be one of", "INITIATED", "EXPIRED", "INACTIVE")
		if got := acctIDs(bad); len(got) != 1 || got[0] != ids["user-2"] {
			t.Errorf("a bad status filter lists %v, want the other filters applied", got)
		}
		b.get(list+"?page=zero").want(t, 400).has(t, "The page number must be")
		b.get(list+"?per_page=7").want(t, 400).has(t, "Accounts per page must be")

		// Pages, with the filters kept.
		p1 := clean(b.get(list+"?per_page=10").want(t, 200))
		p1.has(t, "page 1 of 2", `href="`+list+`?page=2&amp;per_page=10" rel="next">Next page</a>`).lacks(t, "Previous page")
		first := acctIDs(p1)
		p2 := clean(b.get(list+"?page=2&per_page=10").want(t, 200))
		p2.has(t, "page 2 of 2", `href="`+list+`?per_page=10" rel="prev">Previous page</a>`).lacks(t, "Next page")
		if second := acctIDs(p2); len(first) != 10 || len(second) != 2 || second[1] != order[0] {
			t.Errorf("pages of 10: %v then %v", first, second)
		}
		b.get(list+"?page=9&per_page=10").want(t, 200).has(t, "past the last page", "Go to the first page", "Previous page")
		b.get(list+"?user_id=user-1&per_page=10").want(t, 200).lacks(t, "Next page")

		// Disable: the no-script confirmation keeps the listing's filters.
		id := ids["user-2"]
		conf := clean(b.get(projectPath(srv, "/accounts/"+id+"/disable?user_id=user-2")).want(t, 200))
		conf.has(t, "Disable the account", "user-2", `href="`+list+`?user_id=user-2">Cancel</a>`,
			`name="back" value="user_id=user-2"`, `aria-label="Disable the account `+id+` of user-2"`)
		done := b.post(projectPath(srv, "/accounts/"+id+"/disable"), url.Values{"back": {"user_id=user-2"}}).want(t, http.StatusSeeOther)
		if done.Location != list+"?user_id=user-2" {
			t.Errorf("after disabling, the browser goes to %q", done.Location)
		}
		after := clean(b.follow(done).want(t, 200))
		after.has(t, "is disabled", `role="status"`)
		row = acctRow(after, id)
		if !strings.Contains(row, `<span class="badge disabled">Disabled</span>`) || !strings.Contains(row, `aria-label="Enable the account `+id+` of user-2"`) ||
			strings.Contains(row, "Disable the account") {
			t.Errorf("the disabled account's row: %s", row)
		}
		if !acctDisabled(t, srv, id) {
			t.Error("the account is not disabled")
		}
		// Disabling it again from the confirmation page says it is already.
		b.follow(b.get(projectPath(srv, "/accounts/"+id+"/disable")).want(t, http.StatusSeeOther)).has(t, "disabled already")

		// Enable.
		en := b.post(projectPath(srv, "/accounts/"+id+"/enable"), url.Values{"back": {"page=2&per_page=10&evil=//x"}}).want(t, http.StatusSeeOther)
		if en.Location != list+"?page=2&per_page=10" {
			t.Errorf("after enabling, the browser goes to %q", en.Location)
		}
		b.follow(en).want(t, 200).has(t, "is enabled")
		if acctDisabled(t, srv, id) {
			t.Error("the account is still disabled")
		}
		if r := acctRow(b.get(list), id); !strings.Contains(r, "Enabled") {
			t.Errorf("the enabled account's row: %s", r)
		}

		// Delete.
		gone := ids["user-3"]
		clean(b.get(projectPath(srv, "/accounts/"+gone+"/delete")).want(t, 200)).has(t, "Delete the account", "cannot be undone", "Delete account")
		del := b.follow(b.post(projectPath(srv, "/accounts/"+gone+"/delete"), nil).want(t, http.StatusSeeOther)).want(t, 200)
		del.has(t, "The account "+gone+" of user-3 is deleted")
		if acctRow(del, gone) != "" {
			t.Error("the deleted account is still listed")
		}
		if st, _ := acctCall(t, srv, "x-api-key", srv.OwnerKey, "GET", "/api/v3.1/connected_accounts/"+gone, nil); st != 404 {
			t.Errorf("the deleted account answers %d, want 404", st)
		}

		// Refused: a forged form, an unknown account, another project's.
		b.post(projectPath(srv, "/accounts/"+id+"/disable"), url.Values{"csrf": {"forged"}}).want(t, http.StatusForbidden)
		if acctDisabled(t, srv, id) {
			t.Error("a forged form disabled the account")
		}
		b.post(projectPath(srv, "/accounts/ca_unknown/delete"), nil).want(t, http.StatusNotFound).has(t, "no connected account")
		b.get(projectPath(srv, "/accounts/ca_unknown/disable")).want(t, http.StatusNotFound)
		st, out := acctCall(t, srv, "x-org-api-key", srv.OrgKey, "POST", "/api/v3.1/org/owner/project/new", map[string]any{"name": "Other", "should_create_api_key": true})
		if st != http.StatusCreated {
			t.Fatalf("create a project: %d %v", st, out)
		}
		otherKey, otherProject := out["api_key"].(string), out["id"].(string)
		secrets = append(secrets, "serp-SECRET-other-0123456789abcdefghij")
		other := acctConnect(t, srv, otherKey, acctAuthConfig(t, srv, otherKey), "user-x", secrets[len(secrets)-1])
		b.post(projectPath(srv, "/accounts/"+other+"/delete"), nil).want(t, http.StatusNotFound)
		b.post(projectPath(srv, "/accounts/"+other+"/disable"), nil).want(t, http.StatusNotFound)
		if acctRow(clean(b.get("/projects/"+otherProject+"/accounts").want(t, 200)), other) == "" {
			t.Error("the other project's page does not list its account")
		}
		if acctRow(b.get(list), other) != "" {
			t.Error("the default project lists another project's account")
		}

		// A member sees the same controls (members manage connections) and
		// uses them.
		mb := newBrowser(t, srv)
		mb.signIn(member(t, srv, "dev@example.com", patchbay.RoleMember))
		mp := clean(mb.get(list).want(t, 200))
		mp.has(t, `aria-label="Options for the account `+ids["user-4"]+` of user-4"`, "generic_api_key: ")
		mb.follow(mb.post(projectPath(srv, "/accounts/"+ids["user-4"]+"/disable"), nil).want(t, http.StatusSeeOther)).has(t, "is disabled")
		if !acctDisabled(t, srv, ids["user-4"]) {
			t.Error("the member's disable did nothing")
		}
	})
}
