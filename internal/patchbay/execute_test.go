package patchbay_test

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// wantError is wantCode that also checks the message names parts, and
// stops the test on a wrong code.
func wantError(t *testing.T, what string, err error, code string, parts ...string) {
	t.Helper()
	if got := patchbay.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not say %q", what, err, p)
		}
	}
}

// TestExecuteToolPicksTheAccount: without an account id the user's one
// ACTIVE account of the toolkit runs the call, with its credentials opened
// for the call only; no account, several, or an unusable one are clear
// errors and nothing is sent.
func TestExecuteToolPicksTheAccount(t *testing.T) {
	e := MustEnv(t)
	owner := e.fx().owner
	ac := e.MustAuthConfig(owner)
	call := patchbay.ToolCall{Tool: "widget_get_widget", UserID: "alice", Arguments: map[string]any{"id": "w 1", "verbose": true}}

	_, err := e.svc.ExecuteTool(e.ctx, owner, call)
	wantError(t, "no account", err, patchbay.ENOACCOUNT, "alice", "widget")

	ca := e.MustConnect(owner, ac.ID, "alice")
	e.caller.body = `{"id":"w 1","name":"Sprocket"}`
	res, err := e.svc.ExecuteTool(e.ctx, owner, call)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Successful || res.Data["name"] != "Sprocket" || res.Error != "" || !strings.HasPrefix(res.LogID, "log_") {
		t.Errorf("result = %+v", res)
	}
	if n := len(e.caller.calls); n != 1 {
		t.Fatalf("%d calls to the app, want 1", n)
	}
	got := e.caller.calls[0]
	if got.creds["api_key"] != widgetKey || got.req.Path != "/widgets/w%201" || got.req.Query.Get("verbose") != "true" || got.req.Method != "GET" {
		t.Errorf("the app got %+v with %v", got.req, got.creds)
	}

	// By account id, and the id must fit the user and the toolkit.
	call.ConnectedAccountID = ca.ID
	if _, err := e.svc.ExecuteTool(e.ctx, owner, call); err != nil {
		t.Fatal(err)
	}
	bob := call
	bob.UserID = "bob"
	_, err = e.svc.ExecuteTool(e.ctx, owner, bob)
	wantError(t, "another user's account", err, patchbay.EINVALID, ca.ID)
	missing := call
	missing.ConnectedAccountID = "ca_missing"
	_, err = e.svc.ExecuteTool(e.ctx, owner, missing)
	wantError(t, "unknown account", err, patchbay.ENOACCOUNT, "ca_missing")

	// Two ACTIVE accounts and none chosen.
	second := e.MustConnect(owner, ac.ID, "alice")
	call.ConnectedAccountID = ""
	_, err = e.svc.ExecuteTool(e.ctx, owner, call)
	wantError(t, "two accounts", err, patchbay.EINVALID, ca.ID, second.ID, "connected_account_id")

	// A disabled account is refused, whoever names it.
	if _, err := e.svc.SetConnectionDisabled(e.ctx, owner, second.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ExecuteTool(e.ctx, owner, call); err != nil {
		t.Fatalf("with the second account disabled, the first should run: %v", err)
	}
	call.ConnectedAccountID = second.ID
	before := len(e.caller.calls)
	_, err = e.svc.ExecuteTool(e.ctx, owner, call)
	wantError(t, "disabled account", err, patchbay.EINVALID, "disabled")
	if len(e.caller.calls) != before {
		t.Error("a call was sent with a disabled account")
	}
}

// TestExecuteToolChecksArguments: every violation is listed and nothing is
// sent; an unknown version or tool is ENOTFOUND.
func TestExecuteToolChecksArguments(t *testing.T) {
	e := MustEnv(t)
	owner := e.fx().owner
	ca := e.MustConnect(owner, e.MustAuthConfig(owner).ID, "alice")
	_, err := e.svc.ExecuteTool(e.ctx, owner, patchbay.ToolCall{Tool: "WIDGET_GET_WIDGET", ConnectedAccountID: ca.ID, Arguments: map[string]any{"verbose": "yes"}})
	wantError(t, "bad arguments", err, patchbay.EINVALID, "'id'", "verbose")
	_, err = e.svc.ExecuteTool(e.ctx, owner, patchbay.ToolCall{Tool: "WIDGET_GET_WIDGET", ConnectedAccountID: ca.ID, Arguments: map[string]any{"id": "x", "colour": "red"}})
	wantError(t, "an argument with no place", err, patchbay.EINVALID, "colour")
	if n := len(e.caller.calls); n != 0 {
		t.Errorf("%d calls sent for invalid arguments", n)
	}
	_, err = e.svc.ExecuteTool(e.ctx, owner, patchbay.ToolCall{Tool: "WIDGET_GET_WIDGET", Version: "19990101_00", ConnectedAccountID: ca.ID, Arguments: map[string]any{"id": "x"}})
	wantError(t, "unknown version", err, patchbay.ENOTFOUND, "19990101_00", "20261201_00")
	_, err = e.svc.ExecuteTool(e.ctx, owner, patchbay.ToolCall{Tool: "WIDGET_NOPE", ConnectedAccountID: ca.ID})
	wantError(t, "unknown tool", err, patchbay.ENOTFOUND, "WIDGET_NOPE")
}

// TestExecuteToolReportsTheApp: an app's error answer or a failure to reach
// it is a result that is not successful, with the status and the app's
// message, and never the credential.
func TestExecuteToolReportsTheApp(t *testing.T) {
	e := MustEnv(t)
	owner := e.fx().owner
	ca := e.MustConnect(owner, e.MustAuthConfig(owner).ID, "alice")
	call := patchbay.ToolCall{Tool: "WIDGET_GET_WIDGET", ConnectedAccountID: ca.ID, Arguments: map[string]any{"id": "x"}}

	e.caller.status, e.caller.body = 404, `{"message":"No such widget"}`
	res, err := e.svc.ExecuteTool(e.ctx, owner, call)
	if err != nil {
		t.Fatal(err)
	}
	if res.Successful || !strings.Contains(res.Error, "HTTP 404") || !strings.Contains(res.Error, "No such widget") || res.Data == nil || res.UpstreamStatus != 404 {
		t.Errorf("404 result = %+v", res)
	}

	e.caller.err = &patchbay.Error{Code: patchbay.EUNAVAILABLE, Message: "Widget did not answer within 30s.", Err: errors.Join(patchbay.ErrUnreachable, errors.New("timeout "+widgetKey))}
	res, err = e.svc.ExecuteTool(e.ctx, owner, call)
	if err != nil {
		t.Fatal(err)
	}
	if res.Successful || res.Error != "Widget did not answer within 30s." || res.Data == nil {
		t.Errorf("timeout result = %+v", res)
	}
	if strings.Contains(res.Error, widgetKey) {
		t.Error("the result carries the credential")
	}
}

// TestProxy: the endpoint is relative to the connection's base URL or on
// its origin; another origin is refused; the caller's Authorization and
// Cookie never reach the app.
func TestProxy(t *testing.T) {
	e := MustEnv(t)
	owner := e.fx().owner
	ca := e.MustConnect(owner, e.MustAuthConfig(owner).ID, "alice")
	headers := http.Header{"Authorization": {"Bearer stolen"}, "Cookie": {"a=b"}, "X-Trace": {"t1"}}
	for _, endpoint := range []string{"/widgets?colour=red", "widgets?colour=red", "https://api.widget.test/widgets?colour=red"} {
		if _, err := e.svc.Proxy(e.ctx, owner, patchbay.ProxyCall{ConnectedAccountID: ca.ID, Endpoint: endpoint, Method: "get", Headers: headers}); err != nil {
			t.Fatalf("%s: %v", endpoint, err)
		}
		got := e.caller.calls[len(e.caller.calls)-1].req
		if got.Path != "/widgets" || got.Query.Get("colour") != "red" || got.Method != "GET" {
			t.Errorf("%s: the app got %s %s?%s", endpoint, got.Method, got.Path, got.Query.Encode())
		}
		if got.Header.Get("Authorization") != "" || got.Header.Get("Cookie") != "" || got.Header.Get("X-Trace") != "t1" {
			t.Errorf("%s: headers sent %v", endpoint, got.Header)
		}
	}
	for _, endpoint := range []string{"https://evil.example/widgets", "http://api.widget.test/widgets", "//evil.example/x", "/a/../../admin"} {
		before := len(e.caller.calls)
		_, err := e.svc.Proxy(e.ctx, owner, patchbay.ProxyCall{ConnectedAccountID: ca.ID, Endpoint: endpoint, Method: "GET"})
		wantError(t, endpoint, err, patchbay.EINVALID)
		if len(e.caller.calls) != before {
			t.Errorf("%s reached the app", endpoint)
		}
	}
	_, err := e.svc.Proxy(e.ctx, owner, patchbay.ProxyCall{ConnectedAccountID: ca.ID, Endpoint: "/x", Method: "TRACE"})
	wantError(t, "TRACE", err, patchbay.EINVALID, "method")
}

// TestExecuteToolScrubsEchoedCredentials: an app that echoes the
// connection's credential (SerpApi's account endpoint does) never hands it
// to the caller, through a tool or the proxy.
func TestExecuteToolScrubsEchoedCredentials(t *testing.T) {
	e := MustEnv(t)
	owner := e.fx().owner
	ca := e.MustConnect(owner, e.MustAuthConfig(owner).ID, "alice")
	e.caller.body = `{"api_key":"` + widgetKey + `","note":"key ` + widgetKey + ` in use"}`
	res, err := e.svc.ExecuteTool(e.ctx, owner, patchbay.ToolCall{Tool: "WIDGET_GET_WIDGET", ConnectedAccountID: ca.ID, Arguments: map[string]any{"id": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Data["api_key"]; got != patchbay.MaskValue(widgetKey) {
		t.Errorf("data.api_key = %v, want the masked key", got)
	}
	resp, err := e.svc.Proxy(e.ctx, owner, patchbay.ProxyCall{ConnectedAccountID: ca.ID, Endpoint: "/account", Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(resp.Body), widgetKey) {
		t.Errorf("the proxy answer carries the credential: %s", resp.Body)
	}
}

// TestExecuteToolUsesTheAuthConfigsInstance: a base URL the auth config
// shapes (Salesforce's instance) is filled from the auth config's values.
func TestExecuteToolUsesTheAuthConfigsInstance(t *testing.T) {
	e := MustEnv(t)
	owner := e.fx().owner
	ac, err := e.svc.CreateAuthConfig(e.ctx, owner, patchbay.NewAuthConfig{Toolkit: "instance", Mode: patchbay.AuthBearerToken,
		Credentials: map[string]any{"subdomain": "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := e.svc.Connect(e.ctx, owner, patchbay.NewConnection{AuthConfigID: ac.ID, UserID: "u", Values: map[string]any{"token": "tok-0123456789"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ExecuteTool(e.ctx, owner, patchbay.ToolCall{Tool: "INSTANCE_PING", ConnectedAccountID: ca.ID}); err != nil {
		t.Fatal(err)
	}
	got := e.caller.calls[len(e.caller.calls)-1].creds
	if got["subdomain"] != "acme" || got["token"] != "tok-0123456789" {
		t.Errorf("the call's values = %v, want the auth config's subdomain and the user's token", got)
	}
}

// TestExecuteToolSeesEveryChange: the account records kept for tool calls
// follow every committed change, also one made behind the Service's back
// (another instance, an admin command): a disabled account stops at once.
func TestExecuteToolSeesEveryChange(t *testing.T) {
	e := MustEnv(t)
	owner := e.fx().owner
	ca := e.MustConnect(owner, e.MustAuthConfig(owner).ID, "alice")
	byUser := patchbay.ToolCall{Tool: "WIDGET_GET_WIDGET", UserID: "alice", Arguments: map[string]any{"id": "x"}}
	byID := patchbay.ToolCall{Tool: "WIDGET_GET_WIDGET", ConnectedAccountID: ca.ID, Arguments: map[string]any{"id": "x"}}
	for _, call := range []patchbay.ToolCall{byUser, byID, byUser, byID} {
		if _, err := e.svc.ExecuteTool(e.ctx, owner, call); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := e.st.GetConnectedAccount(e.ctx, ca.ProjectID, ca.ID)
	if err != nil {
		t.Fatal(err)
	}
	rec.ConnectedAccount.Disabled = true
	if err := e.st.UpdateConnectedAccount(e.ctx, rec.ConnectedAccount); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.ExecuteTool(e.ctx, owner, byID)
	wantError(t, "by id, after a disable in the store", err, patchbay.EINVALID, "disabled")
	_, err = e.svc.ExecuteTool(e.ctx, owner, byUser)
	wantError(t, "by user, after a disable in the store", err, patchbay.ENOACCOUNT)
}

// TestRedactedNames: argument names that look like secrets' are redacted
// in logs, however they are spelled; others are not.
func TestRedactedNames(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "Pass": true, "client_secret": true, "access_token": true, "api-key": true, "X_API_KEY": true,
		"Authorization": true, "cookie": true, "credentials": true, "private_key": true, "sessionId": true,
		"owner": false, "repo": false, "title": false, "per_page": false, "key": false, "query": false,
	} {
		if got := patchbay.SecretKeyForTest(name); got != want {
			t.Errorf("secretKey(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestLogIDsSortByTime: execution log ids are unique, of one length and
// shape, and sort as their times do (the logs' index grows at its end).
func TestLogIDsSortByTime(t *testing.T) {
	base := time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := range 2000 {
		id := patchbay.NewLogIDAt(base.Add(time.Duration(i*37) * time.Microsecond))
		if !regexp.MustCompile(`^log_[0-9A-Za-z]{20}$`).MatchString(id) {
			t.Fatalf("log id %q: want log_ and 20 letters or digits", id)
		}
		if seen[id] {
			t.Fatalf("log id %q twice", id)
		}
		seen[id] = true
		if id <= prev {
			t.Fatalf("log id %q at +%dµs sorts before %q, one taken earlier", id, i*37, prev)
		}
		prev = id
	}
}
