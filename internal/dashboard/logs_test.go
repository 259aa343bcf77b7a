package dashboard_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/outbound"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// logsApp is a fake GitHub on loopback answering every call with the
// status it is set to.
type logsApp struct {
	*httptest.Server
	status atomic.Int32
}

func newLogsApp(t *testing.T) *logsApp {
	app := &logsApp{}
	app.status.Store(200)
	app.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		st := int(app.status.Load())
		w.WriteHeader(st)
		if st >= 400 {
			w.Write([]byte(`{"message":"Not Found"}`))
			return
		}
		w.Write([]byte(`{"login":"octocat"}`))
	}))
	t.Cleanup(app.Close)
	return app
}

// logsAPI calls patchbay's API with the owner's project key, wants status
// and returns the decoded answer.
func logsAPI(t *testing.T, srv *testserver.Server, path string, body any, status int) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-api-key", srv.OwnerKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != status {
		t.Fatalf("POST %s: status %d, want %d: %v", path, res.StatusCode, status, out)
	}
	return out
}

// logsConnect connects user to GitHub with a bearer token and returns the
// account's id.
func logsConnect(t *testing.T, srv *testserver.Server, acID, user, token string) string {
	t.Helper()
	out := logsAPI(t, srv, "/api/v3.1/connected_accounts", map[string]any{
		"auth_config": map[string]any{"id": acID},
		"connection":  map[string]any{"user_id": user, "state": map[string]any{"authScheme": "BEARER_TOKEN", "val": map[string]any{"status": "ACTIVE", "token": token}}},
	}, 201)
	return out["id"].(string)
}

// logsExecute runs GITHUB_GET_THE_AUTHENTICATED_USER for user.
func logsExecute(t *testing.T, srv *testserver.Server, user string) {
	t.Helper()
	logsAPI(t, srv, "/api/v3.1/tools/execute/GITHUB_GET_THE_AUTHENTICATED_USER", map[string]any{"user_id": user, "arguments": map[string]any{}}, 200)
}

var (
	logRowRE   = regexp.MustCompile(`<tr data-log="([^"]+)">`)
	bucketRE   = regexp.MustCompile(`data-total="(\d+)" data-failed="(\d+)"`)
	chartRE    = regexp.MustCompile(`<svg class="chart"[^>]* role="img" aria-label="([^"]+)"`)
	chartRowRE = regexp.MustCompile(`<tr><td>[^<]+</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>`)
	olderRE    = regexp.MustCompile(`<a href="([^"]+)" rel="next">Older logs</a>`)
)

func logIDs(p *page) []string {
	var ids []string
	for _, m := range logRowRE.FindAllStringSubmatch(p.Body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// chartNumbers sums the chart's bars and its text table, checks they
// agree, and returns the chart's aria-label with the sums.
func chartNumbers(t *testing.T, p *page) (label string, total, failed int) {
	t.Helper()
	m := chartRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no chart with an aria-label:\n%s", tail(p.Body))
	}
	if !strings.Contains(p.Body, "<title>"+m[1]+"</title>") {
		t.Errorf("the chart's title is not its label %q", m[1])
	}
	for _, b := range bucketRE.FindAllStringSubmatch(p.Body, -1) {
		n, _ := strconv.Atoi(b[1])
		f, _ := strconv.Atoi(b[2])
		total, failed = total+n, failed+f
	}
	rows := chartRowRE.FindAllStringSubmatch(p.Body, -1)
	if len(rows) != 24 {
		t.Errorf("the chart's text table has %d hours, want 24", len(rows))
	}
	var tt, tok, tf int
	for _, r := range rows {
		n, _ := strconv.Atoi(r[1])
		ok, _ := strconv.Atoi(r[2])
		f, _ := strconv.Atoi(r[3])
		if n != ok+f {
			t.Errorf("an hour of %d executions has %d succeeded and %d failed", n, ok, f)
		}
		tt, tok, tf = tt+n, tok+ok, tf+f
	}
	if tt != total || tf != failed {
		t.Errorf("the chart's table says %d executions, %d failed; its bars %d, %d", tt, tf, total, failed)
	}
	return m[1], total, failed
}

// TestLogsPage: tools executed through the API against a fake GitHub show
// on the logs page, newest first, with their status, upstream status and
// duration; the chart counts them per hour (its label, bars and text table
// agree with the logs made); each filter narrows the table and the chart;
// the older link pages through; a member sees the same; a bad filter or
// cursor is a 400 and another organization's project a 404.
func TestLogsPage(t *testing.T) {
	app := newLogsApp(t)
	eachBackend(t, func(t *testing.T, bk testserver.Backend) {
		srv := testserver.Start(t, bk, testserver.Options{Outbound: outbound.Config{Overrides: map[string]string{"github": app.URL}, AllowHosts: []string{"127.0.0.1"}}})
		owner := member(t, srv, "owner@example.com", patchbay.RoleOwner)
		b := newBrowser(t, srv)
		b.signIn(owner)

		// Nothing has run yet.
		empty := b.get(projectPath(srv, "/logs")).want(t, 200)
		empty.has(t, "<h1>Execution logs</h1>", "Nothing has run in this project yet", `aria-current="page">Execution logs`,
			`aria-label="0 executions, 0 failed, in the last 24 hours"`, `<label for="filter-status">Status</label>`)
		empty.lacks(t, "<table class=\"logs\">", "Older logs")

		ac := logsAPI(t, srv, "/api/v3.1/auth_configs", map[string]any{"toolkit": map[string]any{"slug": "github"},
			"auth_config": map[string]any{"type": "use_custom_auth", "authScheme": "BEARER_TOKEN", "credentials": map[string]any{}}}, 201)
		acID := ac["auth_config"].(map[string]any)["id"].(string)
		token := "ghp_SECRETVALUE_dashlogs_0123456789abcdefgh"
		account := logsConnect(t, srv, acID, "log-user", token)
		logsConnect(t, srv, acID, "other-user", token+"2")

		// Three successes and a 404 for log-user, one success for
		// other-user, and a proxied call: 6 executions, 1 failed.
		for range 3 {
			logsExecute(t, srv, "log-user")
		}
		app.status.Store(404)
		logsExecute(t, srv, "log-user")
		app.status.Store(200)
		logsExecute(t, srv, "other-user")
		logsAPI(t, srv, "/api/v3.1/tools/execute/proxy", map[string]any{"connected_account_id": account, "endpoint": "/rate_limit", "method": "GET", "parameters": []any{}}, 200)

		all := b.get(projectPath(srv, "/logs")).want(t, 200)
		if ids := logIDs(all); len(ids) != 6 {
			t.Fatalf("%d log rows, want 6:\n%s", len(ids), tail(all.Body))
		}
		all.has(t, `<caption class="visually-hidden">Execution logs of`, `<th scope="col">Upstream</th>`,
			"GITHUB_GET_THE_AUTHENTICATED_USER", `<td class="mono">proxy</td>`, account, "log-user", "other-user",
			`<span class="badge failed">Failed</span>`, `<span class="badge active">Succeeded</span>`, "<td>404</td>", " ms</td>")
		all.lacks(t, token, "Older logs", "Newest logs")
		// The newest row is the proxied call.
		first := all.Body[strings.Index(all.Body, `<tr data-log="`):]
		if first = first[:strings.Index(first, "</tr>")]; !strings.Contains(first, ">proxy<") {
			t.Errorf("the newest row is not the proxied call: %s", first)
		}
		label, total, failed := chartNumbers(t, all)
		if label != "6 executions, 1 failed, in the last 24 hours" || total != 6 || failed != 1 {
			t.Errorf("the chart says %q, its bars %d executions, %d failed; want 6 and 1", label, total, failed)
		}
		// The Service agrees.
		cli, err := srv.Service.CLIPrincipal(t.Context(), srv.Org.ID)
		if err != nil {
			t.Fatal(err)
		}
		pp, err := srv.Service.InProject(t.Context(), cli, srv.Project.ID)
		if err != nil {
			t.Fatal(err)
		}
		made, err := srv.Service.ExecutionLogs(t.Context(), pp, patchbay.ExecutionLogFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(made) != total {
			t.Errorf("the Service has %d logs, the chart %d", len(made), total)
		}

		// Filters narrow the table and the chart, and stay in the form.
		for _, c := range []struct {
			query         string
			rows, failed  int
			label, inForm string
		}{
			{"status=failed", 1, 1, "1 execution, 1 failed", `<option value="failed" selected>`},
			{"status=success", 5, 0, "5 executions, 0 failed", `<option value="success" selected>`},
			{"user_id=other-user", 1, 0, "1 execution, 0 failed", `value="other-user"`},
			{"tool=GITHUB_GET_THE_AUTHENTICATED_USER", 5, 1, "5 executions, 1 failed", `value="GITHUB_GET_THE_AUTHENTICATED_USER"`},
			{"toolkit=github&user_id=log-user&status=success", 4, 0, "4 executions, 0 failed", `value="log-user"`},
		} {
			p := b.get(projectPath(srv, "/logs?"+c.query)).want(t, 200)
			p.has(t, c.inForm, "Clear the filters", "matching the filters")
			if n := len(logIDs(p)); n != c.rows {
				t.Errorf("%s: %d rows, want %d", c.query, n, c.rows)
			}
			if label, total, failed := chartNumbers(t, p); total != c.rows || failed != c.failed || !strings.HasPrefix(label, c.label) {
				t.Errorf("%s: the chart says %q (%d, %d)", c.query, label, total, failed)
			}
		}
		b.get(projectPath(srv, "/logs?user_id=nobody")).want(t, 200).has(t, "No logs match these filters.", "0 executions, 0 failed")
		b.get(projectPath(srv, "/logs?status=maybe")).want(t, 400).has(t, `role="alert"`, "status must be")
		b.get(projectPath(srv, "/logs?after=garbage")).want(t, 400).has(t, "start again from the newest logs")
		b.get("/projects/prj_elsewhere/logs").want(t, 404)

		// A member sees the same logs.
		mb := newBrowser(t, srv)
		mb.signIn(member(t, srv, "dev@example.com", patchbay.RoleMember))
		mp := mb.get(projectPath(srv, "/logs")).want(t, 200)
		if n := len(logIDs(mp)); n != 6 {
			t.Errorf("a member sees %d logs, want 6", n)
		}
		mp.has(t, "6 executions, 1 failed, in the last 24 hours")

		// Past a page: the older link lists the rest, once each.
		for range 50 {
			logsExecute(t, srv, "log-user")
		}
		p1 := b.get(projectPath(srv, "/logs")).want(t, 200)
		ids := logIDs(p1)
		if len(ids) != 50 {
			t.Fatalf("the first page has %d rows, want 50", len(ids))
		}
		if label, total, _ := chartNumbers(t, p1); total != 56 || !strings.HasPrefix(label, "56 executions, 1 failed") {
			t.Errorf("the chart says %q (%d)", label, total)
		}
		m := olderRE.FindStringSubmatch(p1.Body)
		if m == nil {
			t.Fatalf("no older link:\n%s", tail(p1.Body))
		}
		older := strings.ReplaceAll(m[1], "&amp;", "&")
		if u, err := url.Parse(older); err != nil || u.Query().Get("after") == "" {
			t.Errorf("the older link %q has no cursor", older)
		}
		p2 := b.get(older).want(t, 200)
		p2.has(t, "Newest logs", "older page").lacks(t, "Older logs")
		seen := map[string]bool{}
		for _, id := range append(ids, logIDs(p2)...) {
			if seen[id] {
				t.Errorf("log %s is listed twice", id)
			}
			seen[id] = true
		}
		if len(seen) != 56 {
			t.Errorf("the two pages list %d logs, want 56", len(seen))
		}
		// Paging keeps the filters.
		f1 := b.get(projectPath(srv, "/logs?user_id=log-user")).want(t, 200)
		fm := olderRE.FindStringSubmatch(f1.Body)
		if fm == nil || !strings.Contains(fm[1], "user_id=log-user") {
			t.Fatalf("the filtered older link: %v", fm)
		}
		f2 := b.get(strings.ReplaceAll(fm[1], "&amp;", "&")).want(t, 200)
		if n := len(logIDs(f2)); n != 5 { // 55 for log-user (the proxied call too), 50 on the first page
			t.Errorf("the filtered second page has %d rows, want 5", n)
		}
		f2.lacks(t, "other-user</td>")
	})
}
