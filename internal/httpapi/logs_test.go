package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/outbound"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// TestExecutionLogs: every tool execution and proxied call is logged with
// what ran, for whom, how it ended and how long it took; payloads are
// redacted and never hold the connection's credential; the v3.1 logs
// endpoints filter and page them.
func TestExecutionLogs(t *testing.T) {
	app := newScriptedApp(t)
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{Outbound: outbound.Config{Overrides: map[string]string{"github": app.URL}, AllowHosts: []string{"127.0.0.1"}}})
		ac := a.createAuthConfig("github", "BEARER_TOKEN", nil)
		token := a.secret("ghp_SECRETVALUE_logs_0123456789abcdefghij")
		account := a.connect(ac, "log-user", "BEARER_TOKEN", map[string]any{"token": token})

		app.script(201, http.Header{"Content-Type": {"application/json"}}, []byte(`{"number":8}`))
		body := map[string]any{"user_id": "log-user", "arguments": map[string]any{"owner": "o", "repo": "r", "title": "t", "body": "password: hunter2 " + strings.Repeat("x", 2000)}}
		ok := a.post("/api/v3.1/tools/execute/GITHUB_CREATE_AN_ISSUE", body).want(200)
		logID := ok.str("log_id")
		app.script(404, http.Header{"Content-Type": {"application/json"}}, []byte(`{"message":"Not Found"}`))
		failed := a.post("/api/v3.1/tools/execute/GITHUB_GET_THE_AUTHENTICATED_USER", map[string]any{"user_id": "log-user", "arguments": map[string]any{}}).want(200)
		failed.eq("successful", false)
		a.post("/api/v3.1/tools/execute/GITHUB_CREATE_AN_ISSUE", map[string]any{"user_id": "log-user", "arguments": map[string]any{"owner": 5}}).v3err(400, "owner")
		app.script(200, http.Header{"Content-Type": {"application/json"}}, []byte(`{}`))
		a.post("/api/v3.1/tools/execute/proxy", map[string]any{"connected_account_id": account, "endpoint": "/rate_limit", "method": "GET", "parameters": []any{}}).want(200)

		all := a.post("/api/v3.1/logs/tool_execution", map[string]any{"limit": 10}).want(200)
		logs := all.list("logs")
		if len(logs) != 4 {
			t.Fatalf("%d logs, want 4: %s", len(logs), all.Raw)
		}
		newest := logs[0].(map[string]any)
		if newest["type"] != "tool.proxy" || newest["status"] != "success" {
			t.Errorf("the newest log is %v", newest)
		}
		byStatus := a.post("/api/v3.1/logs/tool_execution", map[string]any{"filters": []any{map[string]any{"field": "status", "operator": "==", "value": "failed"}}}).want(200)
		if n := len(byStatus.list("logs")); n != 2 {
			t.Errorf("%d failed logs, want 2 (the 404 and the invalid arguments)", n)
		}
		byTool := a.post("/api/v3.1/logs/tool_execution", map[string]any{"filters": []any{
			map[string]any{"field": "tool_slug", "operator": "==", "value": "GITHUB_CREATE_AN_ISSUE"},
			map[string]any{"field": "user_id", "operator": "==", "value": "log-user"},
		}}).want(200)
		if n := len(byTool.list("logs")); n != 2 {
			t.Errorf("%d logs of GITHUB_CREATE_AN_ISSUE, want 2", n)
		}
		// Paging: two pages of two, then nothing.
		page1 := a.post("/api/v3.1/logs/tool_execution", map[string]any{"limit": 2}).want(200)
		page2 := a.post("/api/v3.1/logs/tool_execution", map[string]any{"limit": 2, "cursor": page1.str("next_cursor")}).want(200)
		got := append(page1.ids("logs"), page2.ids("logs")...)
		if canon(t, got) != canon(t, all.ids("logs")) {
			t.Errorf("paged ids %v, want %v", got, all.ids("logs"))
		}
		a.post("/api/v3.1/logs/tool_execution", map[string]any{"filters": []any{map[string]any{"field": "tool_slug", "operator": "contains", "value": "X"}}}).v3err(400, "==")

		one := a.get("/api/v3.1/logs/tool_execution/" + logID).want(200)
		one.eq("status", "success")
		one.eq("metadata.tool_slug", "GITHUB_CREATE_AN_ISSUE")
		one.eq("metadata.connected_account_id", account)
		one.eq("metadata.upstream_status", float64(201))
		one.eq("data.request.owner", "o")
		one.eq("data.response.number", float64(8))
		if s := one.str("data.request.body"); len(s) > 1100 {
			t.Errorf("a 2 KB argument is logged whole (%d bytes)", len(s))
		}
		if strings.Contains(string(one.Raw), token) || strings.Contains(string(all.Raw), token) {
			t.Error("a log carries the connection's credential")
		}
		a.get("/api/v3.1/logs/tool_execution/log_missing").v3err(404)
		// Another project sees none of them.
		other := a.newProject("logs-other")
		if n := len(other.post("/api/v3.1/logs/tool_execution", map[string]any{}).want(200).list("logs")); n != 0 {
			t.Errorf("another project sees %d logs", n)
		}
		other.get("/api/v3.1/logs/tool_execution/" + logID).v3err(404)
	})
}

// TestExecutionLogsWithoutPayloads: with payloads off, logs keep metadata
// only.
func TestExecutionLogsWithoutPayloads(t *testing.T) {
	app := newScriptedApp(t)
	a := start(t, testserver.SQLite, testserver.Options{OmitLogPayloads: true,
		Outbound: outbound.Config{Overrides: map[string]string{"github": app.URL}, AllowHosts: []string{"127.0.0.1"}}})
	ac := a.createAuthConfig("github", "BEARER_TOKEN", nil)
	a.connect(ac, "u", "BEARER_TOKEN", map[string]any{"token": a.secret("ghp_SECRETVALUE_nopayload_0123456789ab")})
	app.script(200, http.Header{"Content-Type": {"application/json"}}, []byte(`{"login":"octocat"}`))
	id := a.post("/api/v3.1/tools/execute/GITHUB_GET_THE_AUTHENTICATED_USER", map[string]any{"user_id": "u"}).want(200).str("log_id")
	one := a.get("/api/v3.1/logs/tool_execution/" + id).want(200)
	one.eq("status", "success")
	one.eq("data", map[string]any{})
}

// TestProjectOmitsLogPayloads: a project set to omit payloads logs its
// calls without arguments or results, from the next call on, and keeps them
// again when set back.
func TestProjectOmitsLogPayloads(t *testing.T) {
	app := newScriptedApp(t)
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{Outbound: outbound.Config{Overrides: map[string]string{"github": app.URL}, AllowHosts: []string{"127.0.0.1"}}})
		ac := a.createAuthConfig("github", "BEARER_TOKEN", nil)
		a.connect(ac, "u", "BEARER_TOKEN", map[string]any{"token": a.secret("ghp_SECRETVALUE_omit_0123456789abcdefgh")})
		ctx := context.Background()
		cli, err := a.srv.Service.CLIPrincipal(ctx, a.srv.Org.ID)
		if err != nil {
			t.Fatal(err)
		}
		run := func() *response {
			app.script(200, http.Header{"Content-Type": {"application/json"}}, []byte(`{"login":"octocat"}`))
			id := a.post("/api/v3.1/tools/execute/GITHUB_GET_THE_AUTHENTICATED_USER", map[string]any{"user_id": "u"}).want(200).str("log_id")
			return a.get("/api/v3.1/logs/tool_execution/" + id).want(200)
		}
		run().eq("data.response.login", "octocat")
		if err := a.srv.Service.SetLogPayloads(ctx, cli, a.projectID, false); err != nil {
			t.Fatal(err)
		}
		omitted := run()
		omitted.eq("data", map[string]any{})
		omitted.eq("metadata.tool_slug", "GITHUB_GET_THE_AUTHENTICATED_USER")
		if err := a.srv.Service.SetLogPayloads(ctx, cli, a.projectID, true); err != nil {
			t.Fatal(err)
		}
		run().eq("data.response.login", "octocat")
	})
}
