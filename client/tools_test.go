package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/patchbay-dev/patchbay/client"
	"github.com/patchbay-dev/patchbay/internal/outbound"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

func TestTools(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		// GitHub's important tools, over pages of 5, each once.
		e.rec.reset()
		p := client.ToolListParams{Toolkits: []string{"github"}, Important: true, Limit: 5}
		var seen []string
		total := -1
		for pages := 1; ; pages++ {
			if pages > 50 {
				t.Fatal("paging does not end")
			}
			page, err := e.c.Tools(ctx(t), p)
			must(t, err)
			if total >= 0 && page.TotalItems != total {
				t.Errorf("page %d: total %d, was %d", pages, page.TotalItems, total)
			}
			total = page.TotalItems
			if len(page.Items) == 0 || len(page.Items) > 5 || page.CurrentPage != pages {
				t.Errorf("page %d: %d items, current page %d", pages, len(page.Items), page.CurrentPage)
			}
			for _, tl := range page.Items {
				if tl.Toolkit.Slug != "github" || !slices.Contains(tl.Tags, "important") {
					t.Errorf("item %s of toolkit %s, tags %v", tl.Slug, tl.Toolkit.Slug, tl.Tags)
				}
				seen = append(seen, tl.Slug)
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
		distinct := slices.Compact(slices.Sorted(slices.Values(seen)))
		if total <= 5 || len(seen) != total || len(distinct) != total ||
			!slices.Contains(seen, "GITHUB_CREATE_AN_ISSUE") || !slices.Contains(seen, "GITHUB_GET_THE_AUTHENTICATED_USER") {
			t.Errorf("paged %v, want %d distinct important GitHub tools over several pages", seen, total)
		}
		reqs := e.rec.all()
		if len(reqs) < 2 || reqs[0].Method != "GET" || reqs[0].Path != "/api/v3.1/tools" || reqs[0].Query != "important=true&limit=5&toolkit_slug=github" ||
			!strings.Contains(reqs[1].Query, "cursor=") {
			t.Errorf("listing requests: %+v", reqs)
		}

		// Slugs, tags and search; lists go comma-joined.
		e.rec.reset()
		page, err := e.c.Tools(ctx(t), client.ToolListParams{Slugs: []string{"GITHUB_CREATE_AN_ISSUE", "GITHUB_GET_THE_AUTHENTICATED_USER"}})
		must(t, err)
		got := []string{}
		for _, tl := range page.Items {
			got = append(got, tl.Slug)
		}
		slices.Sort(got)
		if !slices.Equal(got, []string{"GITHUB_CREATE_AN_ISSUE", "GITHUB_GET_THE_AUTHENTICATED_USER"}) || page.TotalItems != 2 || page.NextCursor != "" {
			t.Errorf("Slugs: %v (total %d, next %q)", got, page.TotalItems, page.NextCursor)
		}
		if q := e.rec.all()[0].Query; q != "tool_slugs=GITHUB_CREATE_AN_ISSUE%2CGITHUB_GET_THE_AUTHENTICATED_USER" {
			t.Errorf("Slugs query %q", q)
		}
		page, err = e.c.Tools(ctx(t), client.ToolListParams{Toolkits: []string{"github"}, Tags: []string{"issues", "pulls"}})
		must(t, err)
		if len(page.Items) == 0 || !slices.ContainsFunc(page.Items, func(tl client.Tool) bool { return tl.Slug == "GITHUB_CREATE_AN_ISSUE" }) {
			t.Errorf("Tags issues: %d items", len(page.Items))
		}
		for _, tl := range page.Items {
			if !slices.Contains(tl.Tags, "issues") && !slices.Contains(tl.Tags, "pulls") {
				t.Errorf("Tags issues,pulls: %s has tags %v", tl.Slug, tl.Tags)
			}
		}
		page, err = e.c.Tools(ctx(t), client.ToolListParams{Toolkits: []string{"github"}, Search: "authenticated user profile"})
		must(t, err)
		if !slices.ContainsFunc(page.Items, func(tl client.Tool) bool { return tl.Slug == "GITHUB_GET_THE_AUTHENTICATED_USER" }) || len(page.Items) > 5 {
			t.Errorf("Search: %d items", len(page.Items))
		}
		_, err = e.c.Tools(ctx(t), client.ToolListParams{Toolkits: []string{"no-such-app"}})
		e.wantErr(t, err, client.ErrInvalid, "no-such-app")
		_, err = e.c.Tools(ctx(t), client.ToolListParams{Cursor: "not-a-cursor"})
		e.wantErr(t, err, client.ErrInvalid, "cursor")

		// One tool, with its schemas.
		tl, err := e.c.Tool(ctx(t), "GITHUB_CREATE_AN_ISSUE", "")
		must(t, err)
		if tl.Slug != "GITHUB_CREATE_AN_ISSUE" || tl.Name != "Create an issue" || tl.Description == "" || tl.Version == "" || tl.NoAuth ||
			tl.Toolkit.Slug != "github" || tl.Toolkit.Name != "GitHub" || tl.Toolkit.Logo == "" || !slices.Contains(tl.Tags, "issues") {
			t.Errorf("Tool = %+v", tl)
		}
		var in struct {
			Type       string
			Properties map[string]any
			Required   []string
		}
		must(t, json.Unmarshal(tl.InputParameters, &in))
		if in.Type != "object" || in.Properties["title"] == nil || !slices.Equal(in.Required, []string{"owner", "repo", "title"}) {
			t.Errorf("input_parameters = %s", tl.InputParameters)
		}
		var outSchema struct{ Properties map[string]json.RawMessage }
		must(t, json.Unmarshal(tl.OutputParameters, &outSchema))
		if outSchema.Properties["data"] == nil || outSchema.Properties["successful"] == nil {
			t.Errorf("output_parameters = %s", tl.OutputParameters)
		}
		for _, v := range []string{"latest", tl.Version} {
			if same, err := e.c.Tool(ctx(t), "GITHUB_CREATE_AN_ISSUE", v); err != nil || same.Version != tl.Version {
				t.Errorf("Tool(version %q) = %+v, %v", v, same, err)
			}
		}
		e.rec.reset()
		_, err = e.c.Tool(ctx(t), "GITHUB_CREATE_AN_ISSUE", "19990101_00")
		ce := e.wantErr(t, err, client.ErrNotFound, "19990101_00", tl.Version)
		if ce.StatusCode != 404 || ce.Slug != "not_found" || client.IsNoConnectedAccount(err) {
			t.Errorf("wrong version: %#v", ce)
		}
		if r := e.rec.all(); len(r) != 1 || r[0].Path != "/api/v3.1/tools/GITHUB_CREATE_AN_ISSUE" || r[0].Query != "version=19990101_00" {
			t.Errorf("Tool request: %+v", r)
		}
		_, err = e.c.Tool(ctx(t), "GITHUB_NO_SUCH_TOOL", "")
		e.wantErr(t, err, client.ErrNotFound, "GITHUB_NO_SUCH_TOOL")
		if _, err := e.c.Tool(ctx(t), "", ""); err == nil {
			t.Error("Tool with no slug: no error")
		}

		// As an OpenAI function definition.
		b, err := json.Marshal(client.ToolSchema(*tl))
		must(t, err)
		var fn struct {
			Type     string
			Function struct {
				Name, Description string
				Parameters        json.RawMessage
			}
		}
		must(t, json.Unmarshal(b, &fn))
		if fn.Type != "function" || fn.Function.Name != tl.Slug || fn.Function.Description != tl.Description || !sameJSON(t, fn.Function.Parameters, tl.InputParameters) {
			t.Errorf("ToolSchema = %s", b)
		}
	})
}

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var va, vb any
	must(t, json.Unmarshal(a, &va))
	must(t, json.Unmarshal(b, &vb))
	return reflect.DeepEqual(va, vb)
}

func TestToolSchemaWithoutParameters(t *testing.T) {
	b, err := json.Marshal(client.ToolSchema(client.Tool{Slug: "X_PING", Description: "Pings."}))
	must(t, err)
	const want = `{"type":"function","function":{"name":"X_PING","description":"Pings.","parameters":{"type":"object","properties":{}}}}`
	if string(b) != want {
		t.Errorf("ToolSchema = %s, want %s", b, want)
	}
}

// fakeApp is a local stand-in for an app's API that keeps what it was
// sent.
type fakeApp struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newFakeGitHub(t *testing.T) *fakeApp {
	f := &fakeApp{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		f.mu.Unlock()
		w.Header().Set("X-GitHub-Request-Id", "F00D:1")
		switch r.Method + " " + r.URL.Path {
		case "GET /user":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			io.WriteString(w, `{"login":"octocat","id":1,"name":"The Octocat"}`)
		case "POST /repos/octocat/hello-world/issues":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"number":8,"html_url":"https://github.com/octocat/hello-world/issues/8"}`)
		case "GET /user/repos":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `[{"name":"hello-world"},{"name":"spoon-knife"}]`)
		case "POST /markdown":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<p>echo "+string(body)+"</p>")
		case "GET /octocat.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(pngBytes)
		default:
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// pngBytes is a binary body: a PNG signature and every byte value.
var pngBytes = func() []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	for i := 0; i < 256; i++ {
		b = append(b, byte(i), byte(255-i))
	}
	return b
}()

func (f *fakeApp) reset() {
	f.mu.Lock()
	f.reqs = nil
	f.mu.Unlock()
}

func (f *fakeApp) all() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

const ghToken = "ghp_k9Xq2LmN4pR7sT1vW3yZ5aB8cD0eF6gH2jK4"

// githubEnv starts patchbay with GitHub pointed at a fake, and connects
// user "octo-user" with a personal access token through the SDK.
func githubEnv(t *testing.T, f func(t *testing.T, e *env, fake *fakeApp, accountID string)) {
	fake := newFakeGitHub(t)
	opts := testserver.Options{Outbound: outbound.Config{Overrides: map[string]string{"github": fake.URL}, AllowHosts: []string{"127.0.0.1"}}}
	eachBackendWith(t, opts, func(t *testing.T, e *env) {
		e.keys = append(e.keys, ghToken)
		ac, err := e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "github", AuthScheme: client.SchemeBearerToken})
		must(t, err)
		req, err := e.c.InitiateConnection(ctx(t), "octo-user", ac.ID, client.InitiateOptions{
			Scheme: client.SchemeBearerToken, Credentials: map[string]string{"token": ghToken},
		})
		must(t, err)
		if req.Status != client.StatusActive {
			t.Fatalf("GitHub connection is %s", req.Status)
		}
		fake.reset()
		e.rec.reset()
		f(t, e, fake, req.ID)
	})
}

func TestExecuteTool(t *testing.T) {
	githubEnv(t, func(t *testing.T, e *env, fake *fakeApp, accountID string) {
		// As the user's one GitHub account.
		res, err := e.c.ExecuteTool(ctx(t), "GITHUB_CREATE_AN_ISSUE", client.ExecuteParams{
			UserID:    "octo-user",
			Arguments: map[string]any{"owner": "octocat", "repo": "hello-world", "title": "Found a bug", "labels": []string{"bug"}},
		})
		must(t, err)
		if !res.Successful || res.Error != "" || res.Data["number"] != float64(8) || res.Data["html_url"] != "https://github.com/octocat/hello-world/issues/8" ||
			!strings.HasPrefix(res.LogID, "log_") {
			t.Errorf("ExecuteTool = %+v", res)
		}
		got := fake.all()
		if len(got) != 1 {
			t.Fatalf("the fake GitHub got %d requests, want 1", len(got))
		}
		if r := got[0]; r.Method != "POST" || r.Path != "/repos/octocat/hello-world/issues" || r.Header.Get("Authorization") != "Bearer "+ghToken ||
			r.Header.Get("X-Api-Key") != "" {
			t.Errorf("the fake GitHub got %s %s, headers %v", r.Method, r.Path, r.Header)
		}
		var upstream map[string]any
		must(t, json.Unmarshal(got[0].Body, &upstream))
		if len(upstream) != 2 || upstream["title"] != "Found a bug" || fmt.Sprint(upstream["labels"]) != "[bug]" {
			t.Errorf("the fake GitHub got body %s", got[0].Body)
		}
		// What the SDK sent: version "latest", no connected_account_id.
		sent := e.rec.all()
		if len(sent) != 1 || sent[0].Method != "POST" || sent[0].Path != "/api/v3.1/tools/execute/GITHUB_CREATE_AN_ISSUE" {
			t.Fatalf("SDK requests: %+v", sent)
		}
		var body map[string]any
		must(t, json.Unmarshal(sent[0].Body, &body))
		if _, ok := body["connected_account_id"]; ok || body["user_id"] != "octo-user" || body["version"] != "latest" || body["arguments"].(map[string]any)["repo"] != "hello-world" {
			t.Errorf("SDK body %s", sent[0].Body)
		}

		// As a named account, with no arguments and the tool's own version.
		tl, err := e.c.Tool(ctx(t), "GITHUB_GET_THE_AUTHENTICATED_USER", "")
		must(t, err)
		fake.reset()
		e.rec.reset()
		res, err = e.c.ExecuteTool(ctx(t), tl.Slug, client.ExecuteParams{ConnectedAccountID: accountID, Version: tl.Version})
		must(t, err)
		if !res.Successful || res.Data["login"] != "octocat" || res.Error != "" {
			t.Errorf("GET_THE_AUTHENTICATED_USER = %+v", res)
		}
		if got := fake.all(); len(got) != 1 || got[0].Method != "GET" || got[0].Path != "/user" || got[0].Header.Get("Authorization") != "Bearer "+ghToken {
			t.Errorf("the fake GitHub got %+v", got)
		}
		body = nil
		must(t, json.Unmarshal(e.rec.all()[0].Body, &body))
		if body["connected_account_id"] != accountID || body["version"] != tl.Version || fmt.Sprint(body["arguments"]) != "map[]" {
			t.Errorf("SDK body %s", e.rec.all()[0].Body)
		}

		// The app refuses: not an error, but an unsuccessful result naming
		// the status.
		res, err = e.c.ExecuteTool(ctx(t), "GITHUB_GET_A_USER", client.ExecuteParams{UserID: "octo-user", Arguments: map[string]any{"username": "ghost"}})
		must(t, err)
		if res.Successful || !strings.Contains(res.Error, "404") || !strings.Contains(res.Error, "Not Found") || res.Data == nil || res.LogID == "" {
			t.Errorf("a 404 from GitHub: %+v", res)
		}

		// No connected account: the user has none, or the account is unknown.
		fake.reset()
		for name, p := range map[string]client.ExecuteParams{
			"unknown user":    {UserID: "nobody"},
			"unknown account": {ConnectedAccountID: "ca_doesnotexist"},
		} {
			_, err = e.c.ExecuteTool(ctx(t), "GITHUB_GET_THE_AUTHENTICATED_USER", p)
			ce := e.wantErr(t, err, client.ErrInvalid)
			if !client.IsNoConnectedAccount(err) || !client.IsNoConnectedAccount(fmt.Errorf("wrapped: %w", err)) || ce.Code != 1803 || ce.Slug != "connected_account_not_found" {
				t.Errorf("%s: %#v, want IsNoConnectedAccount", name, ce)
			}
		}
		if n := len(fake.all()); n != 0 {
			t.Errorf("calls without an account reached the app %d times", n)
		}

		// Other refusals are not "no connected account".
		_, err = e.c.ExecuteTool(ctx(t), "GITHUB_GET_THE_AUTHENTICATED_USER", client.ExecuteParams{UserID: "octo-user", Version: "19990101_00"})
		e.wantErr(t, err, client.ErrNotFound, "19990101_00")
		if client.IsNoConnectedAccount(err) {
			t.Error("a wrong version is IsNoConnectedAccount")
		}
		_, err = e.c.ExecuteTool(ctx(t), "GITHUB_CREATE_AN_ISSUE", client.ExecuteParams{UserID: "octo-user", Arguments: map[string]any{"owner": "octocat"}})
		e.wantErr(t, err, client.ErrInvalid, "title")
		if client.IsNoConnectedAccount(err) {
			t.Error("missing arguments are IsNoConnectedAccount")
		}
		_, err = e.c.ExecuteTool(ctx(t), "GITHUB_NO_SUCH_TOOL", client.ExecuteParams{UserID: "octo-user"})
		e.wantErr(t, err, client.ErrNotFound)
		for _, err := range []error{nil, errors.New("connected_account_not_found"), client.ErrInvalid, &client.Error{StatusCode: 400, Code: 400, Slug: "invalid"}} {
			if client.IsNoConnectedAccount(err) {
				t.Errorf("IsNoConnectedAccount(%v) = true", err)
			}
		}
		if _, err := e.c.ExecuteTool(ctx(t), "", client.ExecuteParams{UserID: "octo-user"}); err == nil {
			t.Error("ExecuteTool with no slug: no error")
		}
	})
}

func TestProxy(t *testing.T) {
	githubEnv(t, func(t *testing.T, e *env, fake *fakeApp, accountID string) {
		// A relative endpoint with a query of its own, query and header
		// parameters, and an Authorization header of the caller's, which
		// only the connection's may replace.
		res, err := e.c.Proxy(ctx(t), client.ProxyParams{
			ConnectedAccountID: accountID,
			Endpoint:           "/user/repos?per_page=2",
			Headers:            map[string]string{"X-Trace": "t-1", "Authorization": "Bearer stolen-token"},
			Query:              map[string]string{"page": "3", "sort": "updated"},
		})
		must(t, err)
		got := fake.all()
		if len(got) != 1 {
			t.Fatalf("the fake GitHub got %d requests", len(got))
		}
		r := got[0]
		if r.Method != "GET" || r.Path != "/user/repos" || r.Header.Get("Authorization") != "Bearer "+ghToken || r.Header.Get("X-Trace") != "t-1" ||
			strings.Contains(fmt.Sprint(r.Header), "stolen") {
			t.Errorf("the fake GitHub got %s %s, headers %v", r.Method, r.Path, r.Header)
		}
		for _, want := range []string{"per_page=2", "page=3", "sort=updated"} {
			if !slices.Contains(strings.Split(r.Query, "&"), want) {
				t.Errorf("query %q lacks %s", r.Query, want)
			}
		}
		if res.Status != 200 || res.Headers["content-type"] != "application/json" || res.Headers["x-github-request-id"] != "F00D:1" || res.Binary != nil {
			t.Errorf("Proxy = %+v", res)
		}
		if repos, ok := res.Data.([]any); !ok || len(repos) != 2 || repos[0].(map[string]any)["name"] != "hello-world" {
			t.Errorf("Proxy data = %#v", res.Data)
		}
		// The SDK's request: parameters typed and in a stable order.
		var sent struct {
			ConnectedAccountID string `json:"connected_account_id"`
			Endpoint, Method   string
			Parameters         []struct{ Name, Type, Value string }
			Body               json.RawMessage
		}
		must(t, json.Unmarshal(e.rec.all()[0].Body, &sent))
		params := fmt.Sprint(sent.Parameters)
		if sent.ConnectedAccountID != accountID || sent.Endpoint != "/user/repos?per_page=2" || sent.Method != "GET" || sent.Body != nil ||
			params != "[{Authorization header Bearer stolen-token} {X-Trace header t-1} {page query 3} {sort query updated}]" {
			t.Errorf("SDK body %s", e.rec.all()[0].Body)
		}

		// A JSON body, and a text answer.
		fake.reset()
		res, err = e.c.Proxy(ctx(t), client.ProxyParams{ConnectedAccountID: accountID, Endpoint: "markdown", Method: "post", Body: map[string]string{"text": "hi"}})
		must(t, err)
		if got := fake.all(); len(got) != 1 || got[0].Method != "POST" || got[0].Path != "/markdown" || string(got[0].Body) != `{"text":"hi"}` ||
			got[0].Header.Get("Content-Type") != "application/json" {
			t.Errorf("the fake GitHub got %+v", got)
		}
		if res.Status != 200 || res.Data != `<p>echo {"text":"hi"}</p>` {
			t.Errorf("text answer: %+v", res)
		}

		// A binary answer, decoded byte for byte.
		res, err = e.c.Proxy(ctx(t), client.ProxyParams{ConnectedAccountID: accountID, Endpoint: fake.URL + "/octocat.png"})
		must(t, err)
		if res.Status != 200 || res.Data != nil || res.Binary == nil || res.Binary.ContentType != "image/png" || res.Binary.Size != len(pngBytes) ||
			!strings.HasPrefix(res.Binary.URL, "data:image/png;base64,") {
			t.Fatalf("binary answer: %+v", res)
		}
		data, err := res.Binary.Bytes()
		must(t, err)
		if string(data) != string(pngBytes) {
			t.Errorf("decoded %d bytes, want the %d sent", len(data), len(pngBytes))
		}

		// The app's error status is the result's.
		res, err = e.c.Proxy(ctx(t), client.ProxyParams{ConnectedAccountID: accountID, Endpoint: "/nothing/here"})
		must(t, err)
		if res.Status != 404 || res.Data.(map[string]any)["message"] != "Not Found" {
			t.Errorf("a 404 from GitHub: %+v", res)
		}

		// Refusals.
		fake.reset()
		_, err = e.c.Proxy(ctx(t), client.ProxyParams{ConnectedAccountID: accountID, Endpoint: "https://evil.example.com/user"})
		ce := e.wantErr(t, err, client.ErrInvalid, "OriginMismatch", "evil.example.com")
		if ce.StatusCode != 400 {
			t.Errorf("another origin: %#v", ce)
		}
		_, err = e.c.Proxy(ctx(t), client.ProxyParams{ConnectedAccountID: accountID, Endpoint: "/user", Method: "TRACE"})
		e.wantErr(t, err, client.ErrInvalid, "TRACE")
		_, err = e.c.Proxy(ctx(t), client.ProxyParams{Endpoint: "/user"})
		e.wantErr(t, err, client.ErrInvalid, "connected_account_id")
		_, err = e.c.Proxy(ctx(t), client.ProxyParams{ConnectedAccountID: "ca_doesnotexist", Endpoint: "/user"})
		e.wantErr(t, err, client.ErrInvalid, "ca_doesnotexist")
		if !client.IsNoConnectedAccount(err) {
			t.Errorf("unknown account: %v, want IsNoConnectedAccount", err)
		}
		if n := len(fake.all()); n != 0 {
			t.Errorf("refused proxy calls reached the app %d times", n)
		}
	})
}

func TestProxyBinaryBytes(t *testing.T) {
	for _, c := range []struct {
		b    client.ProxyBinary
		want string // "" for an error
	}{
		{client.ProxyBinary{URL: "data:application/octet-stream;base64,AAEC/w==", Size: 4}, "\x00\x01\x02\xff"},
		{client.ProxyBinary{URL: "data:application/octet-stream;base64,AAEC/w"}, "\x00\x01\x02\xff"}, // unpadded
		{client.ProxyBinary{URL: "data:text/plain,a%20b%2Cc"}, "a b,c"},
		{client.ProxyBinary{URL: "data:;base64,AAEC/w==", Size: 3}, ""}, // not the announced size
		{client.ProxyBinary{URL: "data:;base64,not base64!"}, ""},
		{client.ProxyBinary{URL: "data:image/png;base64"}, ""}, // no comma
		{client.ProxyBinary{URL: "https://files.example.com/x.png"}, ""},
	} {
		got, err := c.b.Bytes()
		switch {
		case c.want == "" && err == nil:
			t.Errorf("Bytes(%s) = %q, want an error", c.b.URL, got)
		case c.want != "" && (err != nil || string(got) != c.want):
			t.Errorf("Bytes(%s) = %q, %v, want %q", c.b.URL, got, err, c.want)
		}
	}
}

// Running a tool for an end user: patchbay injects the user's
// credentials, and answers "no connected account" until the user is
// connected.
func ExampleClient_ExecuteTool() {
	ctx := context.Background()
	c, err := client.New(patchbayURL, client.WithAPIKey(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.ExecuteTool(ctx, "GITHUB_CREATE_AN_ISSUE", client.ExecuteParams{
		UserID:    "user-123",
		Arguments: map[string]any{"owner": "octocat", "repo": "hello-world", "title": "Found a bug"},
	})
	switch {
	case client.IsNoConnectedAccount(err):
		fmt.Println("connect the user to GitHub first")
	case err != nil:
		log.Fatal(err)
	case !res.Successful:
		fmt.Println("GitHub refused:", res.Error)
	default:
		fmt.Println("issue", res.Data["number"])
	}

	// Output:
	// connect the user to GitHub first
}

// A tool as an OpenAI function definition, for a chat completion's
// "tools"; the model's call names the slug, to pass to ExecuteTool.
func ExampleToolSchema() {
	ctx := context.Background()
	c, err := client.New(patchbayURL, client.WithAPIKey(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	tool, err := c.Tool(ctx, "GITHUB_GET_THE_AUTHENTICATED_USER", "latest")
	if err != nil {
		log.Fatal(err)
	}
	def := client.ToolSchema(*tool)
	fmt.Println(def.Type, def.Function.Name)
	var params map[string]any
	if err := json.Unmarshal(def.Function.Parameters, &params); err != nil {
		log.Fatal(err)
	}
	fmt.Println("parameters:", params["type"], params["properties"])

	// Output:
	// function GITHUB_GET_THE_AUTHENTICATED_USER
	// parameters: object map[]
}
