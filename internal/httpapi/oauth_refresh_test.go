package httpapi_test

// Refreshing OAuth2 tokens against the go-oauth2 authorization server:
// before a call that needs them, on demand, once for concurrent callers,
// and an account EXPIRED when the provider rejects its refresh token.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// secrets registers every token the provider issued as never to be shown
// by e's server, or by also.
func (e *oauthEnv) secrets(also ...*api) {
	for _, v := range e.prov.AllTokens() {
		for _, a := range append([]*api{e.a}, also...) {
			a.secret(v)
		}
	}
}

// connect runs a whole consent for user and returns the ACTIVE account
// with the tokens the provider granted.
func (e *oauthEnv) connect(t *testing.T, user string) (id, access, refresh string) {
	t.Helper()
	id, link := e.initiate(t, user, "")
	back := hopTo(t, e.a, e.toProvider(t, link).String())
	if status, _, body := hop(t, e.a, back.String()); status != 200 {
		t.Fatalf("callback: %d %s", status, body)
	}
	e.secrets()
	e.a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "ACTIVE")
	access, refresh = e.prov.Tokens()
	if refresh == "" {
		t.Fatal("the provider granted no refresh token")
	}
	return id, access, refresh
}

const refreshTool = "/api/v3.1/tools/execute/GITHUB_GET_THE_AUTHENTICATED_USER"

// lastBearer is the Authorization the fake GitHub saw last.
func (e *oauthEnv) lastBearer() string {
	reqs := e.github.requests()
	if len(reqs) == 0 {
		return ""
	}
	return reqs[len(reqs)-1].Header.Get("Authorization")
}

func TestOAuthRefresh(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		e := startOAuth(t, b)
		e.prov.ShortLived()
		a := e.a
		call := func(id string) *response {
			t.Helper()
			return a.post(refreshTool, map[string]any{"connected_account_id": id, "arguments": map[string]any{}})
		}

		t.Run("before a call", func(t *testing.T) {
			id, first, _ := e.connect(t, "refresh-user")
			n := e.prov.RefreshGrants()
			call(id).want(200).eq("successful", true)
			e.secrets()
			fresh, _ := e.prov.Tokens()
			if got := e.prov.RefreshGrants(); got != n+1 {
				t.Fatalf("the provider saw %d refresh grants, want 1", got-n)
			}
			if fresh == first || e.lastBearer() != "Bearer "+fresh {
				t.Errorf("the call did not carry the refreshed access token")
			}
			// The new token lasts an hour: the next call uses it as it is.
			call(id).want(200).eq("successful", true)
			if got := e.prov.RefreshGrants(); got != n+1 || e.lastBearer() != "Bearer "+fresh {
				t.Errorf("a second call refreshed again (%d grants) or did not carry the refreshed token", got-n)
			}
			r := a.get("/api/v3.1/connected_accounts/" + id).want(200)
			r.eq("status", "ACTIVE")
			checkMasked(t, "state.val.access_token", r.str("state.val.access_token"), fresh)
			// The refreshed tokens are sealed: in no row in clear.
			_, rt := e.prov.Tokens()
			row, err := a.srv.Store.GetSecret(context.Background(), patchbay.CredentialsRef(a.projectID, id))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(row.Sealed, []byte(fresh)) || bytes.Contains(row.Sealed, []byte(rt)) {
				t.Error("the sealed credentials hold a refreshed token in clear")
			}
			if b == testserver.SQLite {
				for _, suffix := range []string{"", "-wal"} {
					raw, _ := os.ReadFile(a.srv.DSN + suffix)
					if bytes.Contains(raw, []byte(fresh)) || bytes.Contains(raw, []byte(rt)) {
						t.Errorf("the database file%s holds a refreshed token in clear", suffix)
					}
				}
			}
		})

		t.Run("before a proxied call", func(t *testing.T) {
			id, first, _ := e.connect(t, "proxy-user")
			n := e.prov.RefreshGrants()
			a.post("/api/v3.1/tools/execute/proxy", map[string]any{"connected_account_id": id, "endpoint": "/user", "method": "GET", "parameters": []any{}}).want(200)
			e.secrets()
			fresh, _ := e.prov.Tokens()
			if e.prov.RefreshGrants() != n+1 || fresh == first || e.lastBearer() != "Bearer "+fresh {
				t.Errorf("the proxied call made %d refresh grants and carried a %d-byte Authorization, want 1 and the refreshed token", e.prov.RefreshGrants()-n, len(e.lastBearer()))
			}
		})

		t.Run("rejected", func(t *testing.T) {
			id, _, rt := e.connect(t, "rejected-user")
			if err := e.prov.Manager.RemoveRefreshToken(context.Background(), rt); err != nil {
				t.Fatal(err)
			}
			before := len(e.github.requests())
			r := call(id)
			if r.Status < 400 || r.Status > 499 {
				t.Fatalf("a call with a rejected refresh token: %d %s, want a 4xx", r.Status, r.Raw)
			}
			if !strings.Contains(string(r.Raw), "reconnect") || !strings.Contains(string(r.Raw), "EXPIRED") {
				t.Errorf("the answer %s does not say the account is EXPIRED and must be reconnected", r.Raw)
			}
			if len(e.github.requests()) != before {
				t.Error("the app was called with an expired token")
			}
			acc := a.get("/api/v3.1/connected_accounts/" + id).want(200)
			acc.eq("status", "EXPIRED")
			// go-oauth2 answers a revoked refresh token with a 401.
			if reason := acc.str("status_reason"); !strings.Contains(reason, "refresh") || !strings.Contains(reason, "answered 401") {
				t.Errorf("status_reason = %q, want the rejected refresh", reason)
			}
			if !strings.Contains(a.rec.log.String(), "EXPIRED") {
				t.Error("the server log does not record the account EXPIRED")
			}
			events, err := a.srv.Store.ListAudit(context.Background(), a.srv.Org.ID, a.projectID, 20)
			if err != nil {
				t.Fatal(err)
			}
			audited := false
			for _, ev := range events {
				audited = audited || (ev.TargetID == id && ev.Action == patchbay.ActionConnectionRefresh)
			}
			if !audited {
				t.Error("the account's expiry is not in the audit log")
			}
			// EXPIRED stays EXPIRED: no further refresh is tried.
			n := e.prov.RefreshGrants()
			call(id).want(400)
			a.post("/api/v3.1/connected_accounts/"+id+"/refresh", map[string]any{}).want(400)
			if e.prov.RefreshGrants() != n {
				t.Error("an EXPIRED account was refreshed")
			}
		})

		t.Run("invalid_grant", func(t *testing.T) {
			id, _, _ := e.connect(t, "invalid-grant-user")
			e.prov.Set(false, true)
			defer e.prov.Set(false, false)
			r := call(id)
			if r.Status != 400 || !strings.Contains(string(r.Raw), "reconnect") {
				t.Errorf("a call whose refresh is answered invalid_grant: %d %s, want a 400 saying to reconnect", r.Status, r.Raw)
			}
			acc := a.get("/api/v3.1/connected_accounts/" + id).want(200)
			acc.eq("status", "EXPIRED")
			if reason := acc.str("status_reason"); !strings.Contains(reason, "400 invalid_grant") {
				t.Errorf("status_reason = %q, want the invalid_grant answer", reason)
			}
		})

		t.Run("on demand", func(t *testing.T) {
			id, first, _ := e.connect(t, "ondemand-user")
			n := e.prov.RefreshGrants()
			r := a.post("/api/v3.1/connected_accounts/"+id+"/refresh", map[string]any{}).want(200)
			r.eq("status", "ACTIVE")
			e.secrets()
			fresh, _ := e.prov.Tokens()
			if e.prov.RefreshGrants() != n+1 || fresh == first {
				t.Fatalf("refresh: %d grants, want 1 and a new token", e.prov.RefreshGrants()-n)
			}
			call(id).want(200).eq("successful", true)
			if e.prov.RefreshGrants() != n+1 || e.lastBearer() != "Bearer "+fresh {
				t.Error("the call after an on-demand refresh did not use its token as it is")
			}
		})

		t.Run("disabled not refreshed", func(t *testing.T) {
			id, _, _ := e.connect(t, "disabled-user")
			a.post("/api/v1/connectedAccounts/"+id+"/disable", nil).want(200)
			n := e.prov.RefreshGrants()
			a.post("/api/v3.1/connected_accounts/"+id+"/refresh", map[string]any{}).want(400)
			call(id).want(400)
			if e.prov.RefreshGrants() != n {
				t.Error("a disabled account was refreshed")
			}
			a.post("/api/v3.1/connected_accounts/"+id+"/revoke", map[string]any{}).want(200)
			a.post("/api/v1/connectedAccounts/"+id+"/enable", nil).want(200)
			a.post("/api/v3.1/connected_accounts/"+id+"/refresh", map[string]any{}).want(200).eq("status", "REVOKED")
			call(id).want(400)
			if e.prov.RefreshGrants() != n {
				t.Error("a revoked account was refreshed")
			}
			a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "REVOKED")
		})

		t.Run("concurrent calls", func(t *testing.T) {
			id, _, _ := e.connect(t, "concurrent-user")
			n := e.prov.RefreshGrants()
			const callers = 8
			var wg sync.WaitGroup
			results := make([]string, callers)
			start := make(chan struct{})
			for i := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					results[i] = rawExecute(a, id)
				}()
			}
			close(start)
			wg.Wait()
			for i, r := range results {
				if r != "" {
					t.Errorf("caller %d: %s", i, r)
				}
			}
			e.secrets()
			if got := e.prov.RefreshGrants(); got != n+1 {
				t.Errorf("%d concurrent calls made %d refresh grants, want 1", callers, got-n)
			}
			fresh, _ := e.prov.Tokens()
			reqs := e.github.requests()
			for _, r := range reqs[len(reqs)-callers:] {
				if r.Header.Get("Authorization") != "Bearer "+fresh {
					t.Error("a concurrent call did not carry the one refreshed token")
				}
			}
			a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "ACTIVE")
		})

		// Last: it stops the provider.
		t.Run("token endpoint unreachable", func(t *testing.T) {
			id, _, _ := e.connect(t, "unreachable-user")
			e.prov.Close()
			r := call(id).want(200)
			r.eq("successful", false)
			if !strings.Contains(r.str("error"), "Could not reach github's OAuth token endpoint") {
				t.Errorf("error = %q, want the unreachable app's", r.str("error"))
			}
			a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "ACTIVE")
		})
	})
}

// Two patchbay instances on one PostgreSQL database, each with callers
// at once, refresh an account once between them: the row lock holds
// across instances.
func TestOAuthRefreshTwoInstances(t *testing.T) {
	e := startOAuth(t, testserver.Postgres)
	e.prov.ShortLived()
	opts := e.opts
	opts.Join = e.a.srv
	other := start(t, testserver.Postgres, opts)
	id, _, _ := e.connect(t, "replicated-user")
	other.secret(e.a.srv.OwnerKey)
	n := e.prov.RefreshGrants()
	const callers = 4
	var wg sync.WaitGroup
	results := make([]string, 2*callers)
	begin := make(chan struct{})
	for i := range 2 * callers {
		inst := e.a
		if i%2 == 1 {
			inst = other
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-begin
			results[i] = rawExecute(inst, id)
		}()
	}
	close(begin)
	wg.Wait()
	for i, r := range results {
		if r != "" {
			t.Errorf("caller %d: %s", i, r)
		}
	}
	e.secrets(other)
	if got := e.prov.RefreshGrants(); got != n+1 {
		t.Errorf("%d calls on two instances made %d refresh grants, want 1", 2*callers, got-n)
	}
	fresh, _ := e.prov.Tokens()
	reqs := e.github.requests()
	for _, r := range reqs[len(reqs)-2*callers:] {
		if r.Header.Get("Authorization") != "Bearer "+fresh {
			t.Error("a call did not carry the one refreshed token")
		}
	}
	other.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "ACTIVE")
}

// rawExecute runs the tool from any goroutine; "" when it succeeded, or
// what went wrong.
func rawExecute(a *api, id string) string {
	body := strings.NewReader(`{"connected_account_id":"` + id + `","arguments":{}}`)
	req, err := http.NewRequest("POST", a.srv.URL+refreshTool, body)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", a.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a.rec.add(string(raw))
	var out struct {
		Successful bool `json:"successful"`
	}
	if res.StatusCode != 200 || json.Unmarshal(raw, &out) != nil || !out.Successful {
		return res.Status + " " + string(raw)
	}
	return ""
}
