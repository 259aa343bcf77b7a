package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/patchbay-dev/patchbay/internal/outbound"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// Tokens of the fake GitHub's two users. The app answers /user with the
// login its bearer token belongs to, so a call made with the wrong user's
// credentials shows.
var tokens = map[string]string{
	"ghp_alice0123456789abcdefghijklmnopqrstu": "alice-gh",
	"ghp_bob00123456789abcdefghijklmnopqrstuv": "bob-gh",
}

// fakeGitHub records the bearer tokens it is called with.
type fakeGitHub struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
}

func newFakeGitHub(t testing.TB) *fakeGitHub {
	f := &fakeGitHub{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		f.auth = append(f.auth, tok)
		f.mu.Unlock()
		login, ok := tokens[tok]
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message":"Bad credentials"}`)
			return
		}
		if r.URL.Path != "/user" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"Not Found"}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"login": login, "id": 1})
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGitHub) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auth...)
}

// pb is a running patchbay and the owner's project key.
type pb struct {
	t   testing.TB
	srv *testserver.Server
	log *testserver.SyncBuffer
}

func (p *pb) call(method, path, key string, body any) (int, map[string]any) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		p.t.Fatalf("%s %s: %d, not a JSON object: %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func (p *pb) must(status int, method, path, key string, body any) map[string]any {
	p.t.Helper()
	got, out := p.call(method, path, key, body)
	if got != status {
		p.t.Fatalf("%s %s = %d %v, want %d", method, path, got, out, status)
	}
	return out
}

// headerTransport adds a header to every request of an MCP client.
type headerTransport struct {
	name, value string
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if h.name != "" {
		r.Header.Set(h.name, h.value)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// connect opens a go-sdk client session on endpoint, sending key in
// x-api-key unless it is "".
func connect(t *testing.T, endpoint, key string) *sdk.ClientSession {
	t.Helper()
	hc := &http.Client{Transport: headerTransport{}}
	if key != "" {
		hc.Transport = headerTransport{"X-Api-Key", key}
	}
	c := sdk.NewClient(&sdk.Implementation{Name: "patchbay-test", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &sdk.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc}, nil)
	if err != nil {
		t.Fatalf("connecting to %s: %v", endpoint, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func text(res *sdk.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func canon(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(x)
	return string(b)
}

// TestMCP drives patchbay's MCP endpoint with the official go-sdk client
// on each store: initialize, the configuration's tools with their
// GET /tools schemas, a call against a fake app with the user's own
// credentials, a validation error, unconnected toolkits (with and without
// a connect link), two users kept apart, signed URLs, a revoked key
// refused at once on a live session and on its URLs, and a deleted
// configuration. No secret reaches the server log.
func TestMCP(t *testing.T) {
	for _, b := range testserver.Backends {
		t.Run(string(b), func(t *testing.T) { testMCP(t, b) })
	}
}

func testMCP(t *testing.T, backend testserver.Backend) {
	ctx := context.Background()
	gh := newFakeGitHub(t)
	log := &testserver.SyncBuffer{}
	srv := testserver.Start(t, backend, testserver.Options{Log: log, Outbound: outbound.Config{
		Overrides: map[string]string{"github": gh.URL}, AllowHosts: []string{"127.0.0.1"},
	}})
	p := &pb{t: t, srv: srv, log: log}
	owner := srv.OwnerKey

	oauthAC := p.must(201, "POST", "/api/v3.1/auth_configs", owner, map[string]any{"toolkit": map[string]any{"slug": "github"},
		"auth_config": map[string]any{"type": "use_custom_auth", "authScheme": "OAUTH2", "credentials": map[string]any{"client_id": "dev-client", "client_secret": "dev-secret-0123456789"}}})["auth_config"].(map[string]any)["id"].(string)
	bearerAC := p.must(201, "POST", "/api/v3.1/auth_configs", owner, map[string]any{"toolkit": map[string]any{"slug": "github"},
		"auth_config": map[string]any{"type": "use_custom_auth", "authScheme": "BEARER_TOKEN", "credentials": map[string]any{}}})["auth_config"].(map[string]any)["id"].(string)
	for tok, login := range tokens {
		user := strings.TrimSuffix(login, "-gh")
		p.must(201, "POST", "/api/v3.1/connected_accounts", owner, map[string]any{"auth_config": map[string]any{"id": bearerAC},
			"connection": map[string]any{"user_id": user, "state": map[string]any{"authScheme": "BEARER_TOKEN", "val": map[string]any{"status": "ACTIVE", "token": tok}}}})
	}
	allowed := []string{"GITHUB_GET_THE_AUTHENTICATED_USER", "GITHUB_GET_A_REPOSITORY", "SLACK_TEST_AUTH"}
	created := p.must(201, "POST", "/api/v3.1/mcp/servers/custom", owner, map[string]any{"name": "agent tools", "toolkits": []string{"slack"},
		"auth_config_ids": []string{oauthAC, bearerAC}, "allowed_tools": allowed, "managed_auth_via_composio": true})
	id, base := created["id"].(string), created["mcp_url"].(string)
	if base != srv.URL+"/v3/mcp/"+id+"/mcp" {
		t.Fatalf("mcp_url = %q, want the origin called and /v3/mcp/{id}/mcp", base)
	}

	alice := connect(t, base+"?user_id=alice", owner)
	if got := alice.InitializeResult(); got == nil || got.ServerInfo == nil || got.ServerInfo.Name != "patchbay" || got.Capabilities.Tools == nil {
		t.Fatalf("InitializeResult = %+v", got)
	}

	// tools/list: exactly the allowed tools, with GET /tools' schemas.
	lt, err := alice.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	listed := p.must(200, "GET", "/api/v3.1/tools?tool_slugs="+strings.Join(allowed, ","), owner, nil)["items"].([]any)
	want := map[string]string{}
	for _, it := range listed {
		m := it.(map[string]any)
		want[m["slug"].(string)] = canon(t, m["input_parameters"])
	}
	if len(lt.Tools) != len(allowed) || len(want) != len(allowed) {
		t.Fatalf("tools/list gave %d tools, GET /tools %d; want %d", len(lt.Tools), len(want), len(allowed))
	}
	for _, tool := range lt.Tools {
		if got := canon(t, tool.InputSchema); got != want[tool.Name] {
			t.Errorf("%s: inputSchema %s, GET /tools says %s", tool.Name, got, want[tool.Name])
		}
		if tool.Annotations == nil || (tool.Name == "GITHUB_GET_THE_AUTHENTICATED_USER" && !tool.Annotations.ReadOnlyHint) {
			t.Errorf("%s: annotations %+v, want readOnlyHint on a GET", tool.Name, tool.Annotations)
		}
	}

	// tools/call runs the tool with alice's token, and bob's with his,
	// and logs the execution as POST /tools/execute does.
	var logIDs []string
	for user, cs := range map[string]*sdk.ClientSession{"alice": alice, "bob": connect(t, base+"?user_id=bob", owner)} {
		before := len(gh.calls())
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "GITHUB_GET_THE_AUTHENTICATED_USER", Arguments: map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Data       map[string]any `json:"data"`
			Successful bool           `json:"successful"`
			LogID      string         `json:"log_id"`
		}
		if err := json.Unmarshal([]byte(text(res)), &out); err != nil || res.IsError || !out.Successful || out.Data["login"] != user+"-gh" || out.LogID == "" {
			t.Errorf("%s: tools/call = %s (isError %v, %v); want %s-gh's data", user, text(res), res.IsError, err, user)
		}
		if canon(t, res.StructuredContent) != canon(t, json.RawMessage(text(res))) {
			t.Errorf("%s: structuredContent %s differs from the text %s", user, canon(t, res.StructuredContent), text(res))
		}
		logIDs = append(logIDs, out.LogID)
		calls := gh.calls()[before:]
		if len(calls) != 1 || tokens[calls[0]] != user+"-gh" {
			t.Errorf("%s: the app was called with %d requests, tokens of %v", user, len(calls), calls)
		}
	}

	for _, id := range logIDs {
		lg := p.must(200, "GET", "/api/v3.1/logs/tool_execution/"+id, owner, nil)
		if !strings.Contains(canon(t, lg), "GITHUB_GET_THE_AUTHENTICATED_USER") {
			t.Errorf("execution log %s = %v, want the tool", id, lg)
		}
	}

	// A validation error is a tool error naming the argument.
	res, err := alice.CallTool(ctx, &sdk.CallToolParams{Name: "GITHUB_GET_A_REPOSITORY", Arguments: map[string]any{"owner": "octo"}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(text(res), "repo") || !strings.Contains(text(res), "Invalid arguments") {
		t.Errorf("a missing argument: %s (isError %v)", text(res), res.IsError)
	}
	// A tool the configuration does not allow is unknown: JSON-RPC
	// -32602, which the 2026-07-28 revision also answers with HTTP 400.
	_, err = alice.CallTool(ctx, &sdk.CallToolParams{Name: "GITHUB_GET_A_USER", Arguments: map[string]any{"username": "x"}})
	if err == nil || !strings.Contains(err.Error(), "Unknown tool GITHUB_GET_A_USER") {
		t.Errorf("a tool outside the configuration: %v, want the unknown tool error", err)
	}
	status, body := rawPostBody(t, base+"?user_id=alice", owner, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"GITHUB_GET_A_USER","arguments":{}}}`, "2025-06-18")
	if status != http.StatusOK || !strings.Contains(body, `"code":-32602`) {
		t.Errorf("a tool outside the configuration at 2025-06-18: %d %s, want JSON-RPC -32602", status, body)
	}

	// Unconnected: carol has no GitHub account; the configuration's OAuth2
	// auth config gives her a connect link. Slack has no auth config.
	carol := connect(t, base+"?user_id=carol", owner)
	res, err = carol.CallTool(ctx, &sdk.CallToolParams{Name: "GITHUB_GET_THE_AUTHENTICATED_USER"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(text(res), "has not connected github") || !strings.Contains(text(res), srv.URL+"/api/v3.1/connect/") {
		t.Errorf("an unconnected toolkit with an OAuth2 auth config: %s", text(res))
	}
	// Asked again, the agent gets the same link, not a second account.
	again, err := carol.CallTool(ctx, &sdk.CallToolParams{Name: "GITHUB_GET_THE_AUTHENTICATED_USER"})
	if err != nil {
		t.Fatal(err)
	}
	if text(again) != text(res) {
		t.Errorf("a second call for the unconnected toolkit: %q, want the first call's link again: %q", text(again), text(res))
	}
	pending := p.must(200, "GET", "/api/v3.1/connected_accounts?user_ids=carol&statuses=INITIATED", owner, nil)["items"].([]any)
	if len(pending) != 1 {
		t.Errorf("carol has %d INITIATED accounts after two calls, want 1", len(pending))
	}
	res, err = alice.CallTool(ctx, &sdk.CallToolParams{Name: "SLACK_TEST_AUTH"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(text(res), "has not connected slack") || !strings.Contains(text(res), "auth config") {
		t.Errorf("an unconnected toolkit without an auth config: %s", text(res))
	}

	// Signed URLs: generate, then connect with no header at all.
	gen := p.must(200, "POST", "/api/v3.1/mcp/servers/generate", owner, map[string]any{"mcp_server_id": id, "user_ids": []string{"bob"}, "managed_auth_by_composio": false})
	signed := gen["user_ids_url"].([]any)[0].(string)
	if strings.Contains(signed, owner) || !strings.HasPrefix(signed, base+"?user_id=bob&sig=key_") {
		t.Fatalf("signed URL %q", signed)
	}
	res, err = connect(t, signed, "").CallTool(ctx, &sdk.CallToolParams{Name: "GITHUB_GET_THE_AUTHENTICATED_USER"})
	if err != nil || res.IsError || !strings.Contains(text(res), `"bob-gh"`) {
		t.Errorf("through a signed URL: %v %v", err, res)
	}
	u, _ := url.Parse(signed)
	q := u.Query()
	q.Set("user_id", "alice")
	u.RawQuery = q.Encode()
	if status := rawPost(t, u.String(), "", initialize("2025-06-18")); status != http.StatusUnauthorized {
		t.Errorf("a signed URL with another user: %d, want 401", status)
	}
	if status := rawPost(t, base+"?user_id=alice", "", initialize("2025-06-18")); status != http.StatusUnauthorized {
		t.Errorf("no credential: %d, want 401", status)
	}

	// Revocation: a second key, a live session on it and a URL it signed.
	k := p.must(201, "POST", "/api/v1/api_keys", owner, map[string]any{"name": "agent"})
	key, keyID := k["key"].(string), k["id"].(string)
	live := connect(t, base+"?user_id=alice", key)
	if _, err := live.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	bySecond := p.must(200, "POST", "/api/v3.1/mcp/servers/generate", key, map[string]any{"mcp_server_id": id, "user_ids": []string{"alice"}})["user_ids_url"].([]any)[0].(string)
	if status := rawPost(t, bySecond, "", initialize("2025-06-18")); status != http.StatusOK {
		t.Fatalf("the second key's URL before the revoke: %d", status)
	}
	p.must(200, "DELETE", "/api/v1/api_keys/"+keyID, owner, nil)
	if _, err := live.CallTool(ctx, &sdk.CallToolParams{Name: "GITHUB_GET_THE_AUTHENTICATED_USER"}); err == nil {
		t.Error("a live session of a revoked key still calls tools")
	}
	if _, err := live.ListTools(ctx, nil); err == nil {
		t.Error("a live session of a revoked key still lists tools")
	}
	if status := rawPost(t, bySecond, "", initialize("2025-06-18")); status != http.StatusUnauthorized {
		t.Errorf("a URL signed by a revoked key: %d, want 401", status)
	}

	// The older revision: initialize, then a request naming it.
	status, body = rawPostBody(t, base+"?user_id=alice", owner, initialize("2025-06-18"), "")
	if status != http.StatusOK || !strings.Contains(body, `"protocolVersion":"2025-06-18"`) {
		t.Errorf("initialize at 2025-06-18: %d %s", status, body)
	}
	status, body = rawPostBody(t, base+"?user_id=alice", owner, `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`, "2025-06-18")
	if status != http.StatusOK || !strings.Contains(body, `"GITHUB_GET_A_REPOSITORY"`) {
		t.Errorf("tools/list at 2025-06-18: %d %s", status, body)
	}

	// An empty allowed list serves every tool of the toolkits.
	all := p.must(201, "POST", "/api/v3.1/mcp/servers/custom", owner, map[string]any{"name": "all of slack", "toolkits": []string{"slack"}})
	lt, err = connect(t, all["mcp_url"].(string)+"?user_id=alice", owner).ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	slack := p.must(200, "GET", "/api/v3.1/tools?toolkit_slug=slack&limit=1000", owner, nil)["items"].([]any)
	if len(lt.Tools) != len(slack) || len(slack) == 0 {
		t.Errorf("a configuration allowing all: %d tools, slack has %d", len(lt.Tools), len(slack))
	}

	// Deleting the configuration kills its URLs.
	p.must(200, "DELETE", "/api/v3.1/mcp/"+id, owner, nil)
	if status := rawPost(t, signed, "", initialize("2025-06-18")); status != http.StatusUnauthorized {
		t.Errorf("a signed URL of a deleted configuration: %d, want 401", status)
	}
	if status := rawPost(t, base+"?user_id=alice", owner, initialize("2025-06-18")); status != http.StatusNotFound {
		t.Errorf("a deleted configuration with a key: %d, want 404", status)
	}

	for tok := range tokens {
		if strings.Contains(log.String(), tok) {
			t.Errorf("the server log holds the token %s", tok)
		}
	}
	for _, secret := range []string{owner, key, "dev-secret-0123456789", u.Query().Get("sig")} {
		if strings.Contains(log.String(), secret) {
			t.Errorf("the server log holds the secret %s", secret)
		}
	}
}

func initialize(version string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + version + `","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
}

func rawPost(t *testing.T, endpoint, key, body string) int {
	t.Helper()
	status, _ := rawPostBody(t, endpoint, key, body, "")
	return status
}

func rawPostBody(t *testing.T, endpoint, key, body, version string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", endpoint, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	if version != "" {
		req.Header.Set("MCP-Protocol-Version", version)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestToolRouterSession: a session (POST /api/v3.1/tool_router/session)
// hands out an MCP URL on the origin called; the go-sdk client with the
// project key gets the enabled toolkits' tools for the session's user
// (or, with none enabled, the toolkits the user connected); no key is a
// 401; a deleted session's endpoint answers 404;
// endpoints patchbay lacks answer a 400 saying so.
func TestToolRouterSession(t *testing.T) {
	for _, b := range testserver.Backends {
		t.Run(string(b), func(t *testing.T) { testToolRouterSession(t, b) })
	}
}

func testToolRouterSession(t *testing.T, backend testserver.Backend) {
	ctx := context.Background()
	gh := newFakeGitHub(t)
	srv := testserver.Start(t, backend, testserver.Options{Outbound: outbound.Config{
		Overrides: map[string]string{"github": gh.URL}, AllowHosts: []string{"127.0.0.1"},
	}})
	p := &pb{t: t, srv: srv}
	owner := srv.OwnerKey
	ac := p.must(201, "POST", "/api/v3.1/auth_configs", owner, map[string]any{"toolkit": map[string]any{"slug": "github"},
		"auth_config": map[string]any{"type": "use_custom_auth", "authScheme": "BEARER_TOKEN", "credentials": map[string]any{}}})["auth_config"].(map[string]any)["id"].(string)
	p.must(201, "POST", "/api/v3.1/connected_accounts", owner, map[string]any{"auth_config": map[string]any{"id": ac},
		"connection": map[string]any{"user_id": "alice", "state": map[string]any{"authScheme": "BEARER_TOKEN", "val": map[string]any{"status": "ACTIVE", "token": "ghp_alice0123456789abcdefghijklmnopqrstu"}}}})

	sess := p.must(201, "POST", "/api/v3.1/tool_router/session", owner, map[string]any{"user_id": "alice", "toolkits": map[string]any{"enable": []string{"github"}},
		"manage_connections": map[string]any{"enable": true}})
	id := sess["session_id"].(string)
	mcpInfo := sess["mcp"].(map[string]any)
	if mcpInfo["type"] != "http" || mcpInfo["url"] != srv.URL+"/tool_router/"+id+"/mcp" || sess["config"] == nil {
		t.Fatalf("session = %v", sess)
	}
	cs := connect(t, mcpInfo["url"].(string), owner)
	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	github := p.must(200, "GET", "/api/v3.1/tools?toolkit_slug=github&limit=1000", owner, nil)["items"].([]any)
	if len(lt.Tools) != len(github) {
		t.Errorf("the session lists %d tools, GitHub has %d", len(lt.Tools), len(github))
	}
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "GITHUB_GET_THE_AUTHENTICATED_USER"})
	if err != nil || res.IsError || !strings.Contains(text(res), `"alice-gh"`) {
		t.Errorf("tools/call in the session: %v %v", err, res)
	}

	// No toolkit enabled: the toolkits alice connected.
	all := p.must(201, "POST", "/api/v3.1/tool_router/session", owner, map[string]any{"user_id": "alice"})
	lt, err = connect(t, all["mcp"].(map[string]any)["url"].(string), owner).ListTools(ctx, nil)
	if err != nil || len(lt.Tools) != len(github) {
		t.Errorf("a session of alice's connected toolkits: %v tools, %v", lt, err)
	}
	none := p.must(201, "POST", "/api/v3.1/tool_router/session", owner, map[string]any{"user_id": "nobody"})
	lt, err = connect(t, none["mcp"].(map[string]any)["url"].(string), owner).ListTools(ctx, nil)
	if err != nil || len(lt.Tools) != 0 {
		t.Errorf("a session of a user with nothing connected: %v, %v", lt, err)
	}

	p.must(400, "POST", "/api/v3.1/tool_router/session", owner, map[string]any{"user_id": "alice", "toolkits": map[string]any{"disable": []string{"github"}}})
	p.must(400, "POST", "/api/v3.1/tool_router/session", owner, map[string]any{"user_id": "alice", "toolkits": []string{"nope"}})
	p.must(400, "POST", "/api/v3.1/tool_router/session/"+id+"/search", owner, map[string]any{"queries": []any{}})
	p.must(200, "GET", "/api/v3.1/tool_router/session/"+id, owner, nil)

	p.must(200, "DELETE", "/api/v3.1/tool_router/session/"+id, owner, nil)
	if status := rawPost(t, mcpInfo["url"].(string), owner, initialize("2025-11-25")); status != http.StatusNotFound {
		t.Errorf("a deleted session's endpoint: %d, want 404", status)
	}
	if status := rawPost(t, all["mcp"].(map[string]any)["url"].(string), "", initialize("2025-11-25")); status != http.StatusUnauthorized {
		t.Errorf("a session endpoint without a key: %d, want 401", status)
	}
}

// TestMCPRevokedOnAnotherInstance: two instances on one PostgreSQL
// database; a client connected to B with a key, and a URL that key signed,
// are refused by B as soon as A's revoke call returns.
func TestMCPRevokedOnAnotherInstance(t *testing.T) {
	ctx := context.Background()
	a := testserver.Start(t, testserver.Postgres, testserver.Options{})
	b := testserver.Start(t, testserver.Postgres, testserver.Options{Join: a})
	pa, pbb := &pb{t: t, srv: a}, &pb{t: t, srv: b}
	created := pa.must(201, "POST", "/api/v3.1/mcp/servers/custom", a.OwnerKey, map[string]any{"name": "replicated", "toolkits": []string{"github"}})
	id := created["id"].(string)
	k := pa.must(201, "POST", "/api/v1/api_keys", a.OwnerKey, map[string]any{"name": "agent"})
	key, keyID := k["key"].(string), k["id"].(string)
	onB := b.URL + "/v3/mcp/" + id + "/mcp?user_id=alice"
	live := connect(t, onB, key)
	if _, err := live.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	signed := pbb.must(200, "POST", "/api/v3.1/mcp/servers/generate", key, map[string]any{"mcp_server_id": id, "user_ids": []string{"alice"}})["user_ids_url"].([]any)[0].(string)
	if status := rawPost(t, signed, "", initialize("2025-06-18")); status != http.StatusOK {
		t.Fatalf("the signed URL on B before the revoke: %d", status)
	}
	pa.must(200, "DELETE", "/api/v1/api_keys/"+keyID, a.OwnerKey, nil)
	if _, err := live.ListTools(ctx, nil); err == nil {
		t.Error("B still lists tools for a live session of a key A revoked")
	}
	if status := rawPost(t, signed, "", initialize("2025-06-18")); status != http.StatusUnauthorized {
		t.Errorf("B answers a URL signed by a key A revoked: %d, want 401", status)
	}
}
