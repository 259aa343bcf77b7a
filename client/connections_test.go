package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/client"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

func TestInitiateConnection(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		acID := e.serpapiConfig(t)
		opts := client.InitiateOptions{Scheme: client.SchemeAPIKey, Credentials: map[string]string{"generic_api_key": userKey}, Alias: "work"}

		e.rec.reset()
		req, err := e.c.InitiateConnection(ctx(t), "user-1", acID, opts)
		must(t, err)
		if req.ID == "" || req.Status != client.StatusActive || req.RedirectURL != nil {
			t.Errorf("InitiateConnection = %+v", req)
		}
		// The official SDK's sequence: the pre-check listing, then the POST
		// with the state built from the credentials and allow_multiple sent.
		reqs := e.rec.all()
		if len(reqs) != 2 || reqs[0].Method != "GET" || reqs[0].Path != "/api/v3.1/connected_accounts" || reqs[1].Method != "POST" {
			t.Fatalf("requests = %+v", reqs)
		}
		for _, want := range []string{"user_ids=user-1", "auth_config_ids=" + acID, "statuses=ACTIVE"} {
			if !strings.Contains(reqs[0].Query, want) {
				t.Errorf("pre-check query %q lacks %q", reqs[0].Query, want)
			}
		}
		var body struct {
			AuthConfig    struct{ ID string } `json:"auth_config"`
			AllowMultiple *bool               `json:"allow_multiple"`
			Connection    struct {
				UserID string `json:"user_id"`
				Alias  string
				State  struct {
					AuthScheme string         `json:"authScheme"`
					Val        map[string]any `json:"val"`
				}
			}
		}
		must(t, json.Unmarshal(reqs[1].Body, &body))
		if body.AuthConfig.ID != acID || body.AllowMultiple == nil || *body.AllowMultiple || body.Connection.UserID != "user-1" || body.Connection.Alias != "work" ||
			body.Connection.State.AuthScheme != "API_KEY" || body.Connection.State.Val["status"] != "ACTIVE" || body.Connection.State.Val["generic_api_key"] != userKey {
			t.Errorf("POST body = %s", reqs[1].Body)
		}
		for _, r := range reqs {
			if r.Header.Get("X-Api-Key") != e.srv.OwnerKey || r.Header.Get("X-Org-Api-Key") != "" || !strings.HasPrefix(r.Header.Get("User-Agent"), "patchbay-go/") {
				t.Errorf("%s %s headers: %v", r.Method, r.Path, r.Header)
			}
		}

		ca, err := e.c.ConnectedAccount(ctx(t), req.ID)
		must(t, err)
		if ca.ID != req.ID || ca.UserID != "user-1" || ca.Status != "ACTIVE" || ca.StatusReason != "" || ca.Alias != "work" || ca.IsDisabled ||
			ca.Toolkit.Slug != "serpapi" || ca.AuthConfig.ID != acID || ca.AuthConfig.AuthScheme != "API_KEY" || ca.State.AuthScheme != "API_KEY" || ca.CreatedAt.IsZero() {
			t.Errorf("ConnectedAccount = %+v", ca)
		}
		if v, _ := ca.State.Val["generic_api_key"].(string); v == "" || v == userKey {
			t.Errorf("state.val.generic_api_key = %q, want the key masked", v)
		}

		// A second ACTIVE account: refused by the client's pre-check...
		e.rec.reset()
		_, err = e.c.InitiateConnection(ctx(t), "user-1", acID, opts)
		var multi *client.MultipleConnectionsError
		if !errors.Is(err, client.ErrMultipleConnections) || !errors.As(err, &multi) || multi.ConnectedAccountID != req.ID || multi.UserID != "user-1" || multi.AuthConfigID != acID {
			t.Fatalf("second connection: %v, want ErrMultipleConnections naming %s", err, req.ID)
		}
		if n := len(e.rec.all()); n != 1 {
			t.Errorf("refused connection sent %d requests, want only the pre-check", n)
		}
		// ...and by the server when the pre-check does not see it (a race).
		blind := mustNew(t, e.srv.URL, client.WithAPIKey(e.srv.OwnerKey), client.WithHTTPClient(&http.Client{Transport: hidePrecheck{}}))
		_, err = blind.InitiateConnection(ctx(t), "user-1", acID, opts)
		if !errors.Is(err, client.ErrMultipleConnections) || !errors.Is(err, client.ErrConflict) || !errors.As(err, &multi) || multi.Err == nil {
			t.Errorf("server-side refusal: %v, want ErrMultipleConnections wrapping a 409", err)
		}
		// AllowMultiple adds one.
		opts.AllowMultiple = true
		second, err := e.c.InitiateConnection(ctx(t), "user-1", acID, opts)
		must(t, err)
		if second.ID == req.ID || second.Status != "ACTIVE" {
			t.Errorf("AllowMultiple: %+v", second)
		}

		// Without Scheme the credentials go as connection data.
		third, err := e.c.InitiateConnection(ctx(t), "user-2", acID, client.InitiateOptions{Credentials: map[string]string{"generic_api_key": userKey}})
		must(t, err)
		if third.Status != "ACTIVE" {
			t.Errorf("connection without a scheme: %+v", third)
		}

		// The server's validation reaches the caller as ErrInvalid.
		_, err = e.c.InitiateConnection(ctx(t), "user-3", acID, client.InitiateOptions{Scheme: client.SchemeAPIKey})
		e.wantErr(t, err, client.ErrInvalid, "generic_api_key")
		_, err = e.c.InitiateConnection(ctx(t), "user-3", acID, client.InitiateOptions{Scheme: client.SchemeAPIKey, Credentials: map[string]string{"serpapi_key": userKey}})
		e.wantErr(t, err, client.ErrInvalid, `"serpapi_key" is not a field`, "generic_api_key")
		_, err = e.c.InitiateConnection(ctx(t), "user-3", acID, client.InitiateOptions{Scheme: client.SchemeBearerToken, Credentials: map[string]string{"token": userKey}})
		e.wantErr(t, err, client.ErrInvalid, "API_KEY", "BEARER_TOKEN")
		_, err = e.c.InitiateConnection(ctx(t), "", acID, opts)
		e.wantErr(t, err, client.ErrInvalid, "user_id")
		_, err = e.c.InitiateConnection(ctx(t), "user-3", "ac_doesnotexist", opts)
		e.wantErr(t, err, client.ErrNotFound)
		_, err = e.c.DisableAuthConfig(ctx(t), acID)
		must(t, err)
		_, err = e.c.InitiateConnection(ctx(t), "user-3", acID, opts)
		e.wantErr(t, err, client.ErrInvalid, "disabled")

		// Jira's BASIC scheme, with its subdomain.
		jira, err := e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "jira", AuthScheme: client.SchemeBasic})
		must(t, err)
		basic, err := e.c.InitiateConnection(ctx(t), "user-1", jira.ID, client.InitiateOptions{Scheme: client.SchemeBasic,
			Credentials: map[string]string{"subdomain": "acme", "username": "ann@example.com", "password": "hunter2hunter2"}})
		must(t, err)
		ca, err = basic.WaitForConnection(ctx(t), time.Millisecond)
		must(t, err)
		if ca.State.AuthScheme != "BASIC" || ca.State.Val["username"] == nil || ca.State.Val["password"] == "hunter2hunter2" {
			t.Errorf("BASIC account state = %+v", ca.State)
		}
	})
}

// hidePrecheck answers the pre-check listing with no accounts and passes
// everything else to the server.
type hidePrecheck struct{}

func (hidePrecheck) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == "GET" && strings.HasSuffix(req.URL.Path, "/connected_accounts") {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Request: req,
			Body: io.NopCloser(strings.NewReader(`{"items":[],"next_cursor":null,"total_pages":0,"current_page":1,"total_items":0}`))}, nil
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestConnectedAccounts(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		acID := e.serpapiConfig(t)
		opts := client.InitiateOptions{Scheme: client.SchemeAPIKey, Credentials: map[string]string{"generic_api_key": userKey}, AllowMultiple: true}
		var ids []string
		for _, u := range []string{"alice", "alice", "bob", "carol", "carol"} {
			req, err := e.c.InitiateConnection(ctx(t), u, acID, opts)
			must(t, err)
			ids = append(ids, req.ID)
		}

		// Paging, newest first, two at a time.
		var paged []string
		p := client.ConnectedAccountListParams{Limit: 2}
		for pages := 1; ; pages++ {
			page, err := e.c.ConnectedAccounts(ctx(t), p)
			must(t, err)
			if page.TotalItems != 5 || page.TotalPages != 3 || page.CurrentPage != pages {
				t.Errorf("page %d: totals %+v", pages, page)
			}
			for _, ca := range page.Items {
				paged = append(paged, ca.ID)
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
		want := slices.Clone(ids)
		slices.Reverse(want)
		if !slices.Equal(paged, want) {
			t.Errorf("paged %v, want newest first %v", paged, want)
		}

		page, err := e.c.ConnectedAccounts(ctx(t), client.ConnectedAccountListParams{UserIDs: []string{"alice", "bob"}, Toolkits: []string{"serpapi"}, AuthConfigIDs: []string{acID}, Statuses: []string{"ACTIVE"}})
		must(t, err)
		if len(page.Items) != 3 {
			t.Errorf("alice and bob have %d accounts, want 3", len(page.Items))
		}
		for _, ca := range page.Items {
			if ca.UserID == "carol" || ca.Status != "ACTIVE" || ca.StatusReason != "" || ca.Alias != "" {
				t.Errorf("filtered item %+v", ca)
			}
		}
		_, err = e.c.ConnectedAccounts(ctx(t), client.ConnectedAccountListParams{Statuses: []string{"SLEEPY"}})
		e.wantErr(t, err, client.ErrInvalid, "SLEEPY")

		id := ids[0]
		must(t, e.c.DisableConnectedAccount(ctx(t), id))
		ca, err := e.c.ConnectedAccount(ctx(t), id)
		must(t, err)
		if !ca.IsDisabled || ca.Status != "ACTIVE" {
			t.Errorf("disabled account: disabled %t, status %s", ca.IsDisabled, ca.Status)
		}
		must(t, e.c.EnableConnectedAccount(ctx(t), id))
		if ca, err = e.c.ConnectedAccount(ctx(t), id); err != nil || ca.IsDisabled {
			t.Errorf("enabled account: %+v, %v", ca, err)
		}

		ref, err := e.c.RefreshConnectedAccount(ctx(t), id, client.RefreshOptions{})
		must(t, err)
		if ref.ID != id || ref.Status != "ACTIVE" || ref.RedirectURL != nil {
			t.Errorf("RefreshConnectedAccount = %+v", ref)
		}

		kinds, err := e.c.RevokeConnectedAccount(ctx(t), id)
		must(t, err)
		if !slices.Equal(kinds, []string{"credential"}) {
			t.Errorf("revoked %v, want [credential]", kinds)
		}
		kinds, err = e.c.RevokeConnectedAccount(ctx(t), id)
		must(t, err)
		if kinds == nil || len(kinds) != 0 {
			t.Errorf("revoking again revoked %#v, want []", kinds)
		}
		ca, err = e.c.ConnectedAccount(ctx(t), id)
		must(t, err)
		if ca.Status != "REVOKED" || ca.StatusReason == "" {
			t.Errorf("revoked account: status %s, reason %q", ca.Status, ca.StatusReason)
		}

		must(t, e.c.DeleteConnectedAccount(ctx(t), id))
		_, err = e.c.ConnectedAccount(ctx(t), id)
		e.wantErr(t, err, client.ErrNotFound, id)
		const missing = "ca_doesnotexist"
		e.wantErr(t, e.c.DeleteConnectedAccount(ctx(t), missing), client.ErrNotFound)
		e.wantErr(t, e.c.EnableConnectedAccount(ctx(t), missing), client.ErrNotFound)
		e.wantErr(t, e.c.DisableConnectedAccount(ctx(t), missing), client.ErrNotFound)
		_, err = e.c.RevokeConnectedAccount(ctx(t), missing)
		e.wantErr(t, err, client.ErrNotFound)
		_, err = e.c.RefreshConnectedAccount(ctx(t), missing, client.RefreshOptions{})
		e.wantErr(t, err, client.ErrNotFound)

		// Deleting the auth config deletes its accounts.
		must(t, e.c.DeleteAuthConfig(ctx(t), acID))
		_, err = e.c.ConnectedAccount(ctx(t), ids[1])
		e.wantErr(t, err, client.ErrNotFound)
	})
}

func TestWaitForConnection(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		acID := e.serpapiConfig(t)
		connect := func(user string) *client.ConnectionRequest {
			t.Helper()
			req, err := e.c.InitiateConnection(ctx(t), user, acID, client.InitiateOptions{Scheme: client.SchemeAPIKey, Credentials: map[string]string{"generic_api_key": userKey}})
			must(t, err)
			return req
		}
		// setStatus changes an account's status behind the API's back, as
		// an OAuth callback or an expiry would.
		setStatus := func(id, status, reason string) {
			t.Helper()
			rec, err := e.srv.Store.GetConnectedAccount(context.Background(), e.srv.Project.ID, id)
			must(t, err)
			ca := rec.ConnectedAccount
			ca.StatusReason = reason
			switch status { // ca.Status has the domain's type: assign constants
			case "INITIATED":
				ca.Status = "INITIATED"
			case "FAILED":
				ca.Status = "FAILED"
			case "EXPIRED":
				ca.Status = "EXPIRED"
			default:
				t.Fatalf("setStatus: unexpected status %s", status)
			}
			must(t, e.srv.Store.UpdateConnectedAccount(context.Background(), ca))
		}

		// ACTIVE at once.
		req := connect("u-active")
		ca, err := req.WaitForConnection(ctx(t), time.Hour)
		must(t, err)
		if ca.ID != req.ID || ca.Status != "ACTIVE" {
			t.Errorf("WaitForConnection = %+v", ca)
		}

		// INITIATED, then ACTIVE a little later: it polls until then.
		req = connect("u-later")
		setStatus(req.ID, "INITIATED", "")
		e.rec.reset()
		// The owner's project key is the principal that reinitiates it.
		owner, err := e.srv.Service.Authenticate(context.Background(), e.srv.OwnerKey)
		must(t, err)
		go func() {
			time.Sleep(300 * time.Millisecond)
			_, err := e.srv.Service.Reinitiate(context.Background(), owner, req.ID, map[string]any{"generic_api_key": userKey})
			if err != nil {
				t.Error(err)
			}
		}()
		ca, err = req.WaitForConnection(ctx(t), 20*time.Millisecond)
		must(t, err)
		if ca.Status != "ACTIVE" {
			t.Errorf("after polling: %+v", ca)
		}
		if n := len(e.rec.all()); n < 3 {
			t.Errorf("WaitForConnection polled %d times in 300ms at 20ms, want several", n)
		}

		// FAILED and EXPIRED end the wait with the server's reason.
		for _, status := range []string{"FAILED", "EXPIRED"} {
			req = connect("u-" + status)
			setStatus(req.ID, status, "The app rejected the key")
			_, err = req.WaitForConnection(ctx(t), time.Millisecond)
			var cf *client.ConnectionFailedError
			if !errors.Is(err, client.ErrConnectionFailed) || !errors.As(err, &cf) || cf.Status != status || cf.StatusReason != "The app rejected the key" || cf.ID != req.ID {
				t.Errorf("%s: %v, want a ConnectionFailedError with the reason", status, err)
			}
			if err != nil && !strings.Contains(err.Error(), "The app rejected the key") {
				t.Errorf("%s: %q does not carry the reason", status, err)
			}
		}
		// REVOKED too.
		req = connect("u-revoked")
		_, err = e.c.RevokeConnectedAccount(ctx(t), req.ID)
		must(t, err)
		_, err = e.c.WaitForConnection(ctx(t), req.ID, time.Millisecond)
		var cf *client.ConnectionFailedError
		if !errors.As(err, &cf) || cf.Status != "REVOKED" || cf.StatusReason == "" {
			t.Errorf("REVOKED: %v", err)
		}

		// The context's deadline ends a wait that never completes.
		req = connect("u-never")
		setStatus(req.ID, "INITIATED", "")
		short, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = req.WaitForConnection(short, 20*time.Millisecond)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "INITIATED") {
			t.Errorf("deadline: %v, want DeadlineExceeded naming the last status", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("deadline of 150ms returned after %v", d)
		}

		// An unknown account fails at the first poll.
		_, err = e.c.WaitForConnection(ctx(t), "ca_doesnotexist", time.Millisecond)
		e.wantErr(t, err, client.ErrNotFound)
		// A request not made by InitiateConnection has no client.
		if _, err := (&client.ConnectionRequest{ID: req.ID}).WaitForConnection(ctx(t), 0); err == nil {
			t.Error("WaitForConnection on a bare ConnectionRequest: no error")
		}
	})
}

// TestValidate checks credentials against a fake SerpApi that accepts one
// key, through the server's credential check.
func TestValidate(t *testing.T) {
	var good sync.Map // the key the fake app accepts now
	good.Store("k", userKey)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want, _ := good.Load("k")
		if r.URL.Path != "/account" || r.URL.Query().Get("api_key") != want {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"account_id":"1"}`)
	}))
	defer app.Close()
	opts := testserver.Options{}
	opts.Outbound.Overrides = map[string]string{"serpapi": app.URL}
	opts.Outbound.AllowHosts = []string{"127.0.0.1"}
	eachBackendWith(t, opts, func(t *testing.T, e *env) {
		good.Store("k", userKey)
		acID := e.serpapiConfig(t)
		connect := func(user, key string) *client.ConnectionRequest {
			t.Helper()
			req, err := e.c.InitiateConnection(ctx(t), user, acID, client.InitiateOptions{Scheme: client.SchemeAPIKey,
				Credentials: map[string]string{"generic_api_key": key}, Validate: true})
			must(t, err)
			return req
		}
		ok := connect("u-good", userKey)
		if ok.Status != "ACTIVE" {
			t.Errorf("a good key gave %s", ok.Status)
		}
		bad := connect("u-bad", "wrongwrongwrongwrong")
		if bad.Status != "FAILED" {
			t.Errorf("a bad key gave %s", bad.Status)
		}
		_, err := bad.WaitForConnection(ctx(t), time.Millisecond)
		var cf *client.ConnectionFailedError
		if !errors.As(err, &cf) || cf.Status != "FAILED" || !strings.Contains(cf.StatusReason, "rejected the credentials") {
			t.Errorf("waiting on a rejected key: %v", err)
		}

		// The app stops accepting the key: a validating refresh notices.
		ref, err := e.c.RefreshConnectedAccount(ctx(t), ok.ID, client.RefreshOptions{})
		must(t, err)
		if ref.Status != "ACTIVE" {
			t.Errorf("refresh without validation: %s", ref.Status)
		}
		good.Store("k", "another")
		ref, err = e.c.RefreshConnectedAccount(ctx(t), ok.ID, client.RefreshOptions{Validate: true})
		must(t, err)
		if ref.Status != "FAILED" {
			t.Errorf("validating refresh of a rejected key: %s", ref.Status)
		}
		ca, err := e.c.ConnectedAccount(ctx(t), ok.ID)
		must(t, err)
		if ca.Status != "FAILED" || ca.StatusReason == "" {
			t.Errorf("after the refresh: %s (%q)", ca.Status, ca.StatusReason)
		}
	})
}
