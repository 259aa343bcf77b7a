package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// env is a running patchbay and clients for its three test keys.
type env struct {
	srv    *testserver.Server
	c      *client.Client // project key, owner role
	org    *client.Client // organization key
	member *client.Client // project key, member role
	rec    *recorder      // what c sent
	keys   []string       // every key the test knows, for leak checks
}

// eachBackend runs f against a fresh patchbay on every store.
func eachBackend(t *testing.T, f func(t *testing.T, e *env)) {
	t.Helper()
	eachBackendWith(t, testserver.Options{}, f)
}

func eachBackendWith(t *testing.T, opts testserver.Options, f func(t *testing.T, e *env)) {
	t.Helper()
	for _, b := range testserver.Backends {
		t.Run(string(b), func(t *testing.T) {
			srv := testserver.Start(t, b, opts)
			rec := &recorder{next: http.DefaultTransport}
			e := &env{
				srv:    srv,
				rec:    rec,
				c:      mustNew(t, srv.URL, client.WithAPIKey(srv.OwnerKey), client.WithHTTPClient(&http.Client{Transport: rec})),
				org:    mustNew(t, srv.URL, client.WithOrgAPIKey(srv.OrgKey)),
				member: mustNew(t, srv.URL, client.WithAPIKey(srv.MemberKey)),
				keys:   []string{srv.OwnerKey, srv.OrgKey, srv.MemberKey},
			}
			f(t, e)
		})
	}
}

func mustNew(t testing.TB, url string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(url, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", url, err)
	}
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr checks that err is an *Error of the sentinel's class, whose text
// holds none of the keys and contains every fragment.
func (e *env) wantErr(t testing.TB, err, sentinel error, fragments ...string) *client.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("got %v, want %v", err, sentinel)
	}
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("got %T (%v), want a *client.Error", err, err)
	}
	if ce.RequestID == "" || ce.Message == "" || ce.Slug == "" {
		t.Errorf("error %#v lacks a request ID, message or slug", ce)
	}
	for _, f := range fragments {
		if !strings.Contains(ce.Message, f) {
			t.Errorf("message %q does not contain %q", ce.Message, f)
		}
	}
	e.noKeys(t, err.Error())
	return ce
}

func (e *env) noKeys(t testing.TB, s string) {
	t.Helper()
	for _, k := range e.keys {
		if k != "" && strings.Contains(s, k) {
			t.Errorf("%q contains an API key", s)
		}
	}
}

// recorder is a transport that keeps every request it carries.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Clone(), body})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts []client.Option
		ok   bool
	}{
		{"http://127.0.0.1:8080", nil, true},
		{"http://localhost:8080/", nil, true},
		{"http://[::1]:8080/prefix/", nil, true},
		{"https://patchbay.example.com", nil, true},
		{"http://patchbay.example.com", nil, false},
		{"http://patchbay.example.com", []client.Option{client.WithInsecureHTTP()}, true},
		{"patchbay.example.com", nil, false},
		{"ftp://patchbay.example.com", nil, false},
		{"https://patchbay.example.com/?x=1", nil, false},
		{"https://user:pw@patchbay.example.com", nil, false},
		{"", nil, false},
	} {
		_, err := client.New(tc.url, tc.opts...)
		if (err == nil) != tc.ok {
			t.Errorf("New(%q): err = %v, want ok = %t", tc.url, err, tc.ok)
		}
	}
	const key = "ak_0123456789abcdefghijklmnopqrstu\n"
	_, err := client.New("https://patchbay.example.com", client.WithAPIKey(key))
	if err == nil || strings.Contains(err.Error(), strings.TrimSpace(key)) {
		t.Errorf("New with a key holding a newline: err = %v, want an error without the key", err)
	}
}

func TestClientStringHidesKeys(t *testing.T) {
	const pk, ok = "ak_secretsecretsecretsecretsecret12", "oak_secretsecretsecretsecretsecret1"
	c := mustNew(t, "https://patchbay.example.com", client.WithAPIKey(pk), client.WithOrgAPIKey(ok))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
		for _, v := range []any{c, *c} {
			s := fmt.Sprintf(verb, v)
			if strings.Contains(s, "secret") {
				t.Errorf("Sprintf(%s, %T) = %s: it shows a key", verb, v, s)
			}
		}
	}
	if got, want := c.String(), "patchbay.Client(https://patchbay.example.com, x-api-key, x-org-api-key)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestToolkits(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		tk, err := e.c.Toolkit(ctx(t), "serpapi")
		must(t, err)
		if tk.Slug != "serpapi" || tk.Name != "SerpApi" || tk.Meta.Logo == "" || len(tk.Meta.Categories) == 0 || tk.Meta.Categories[0].Slug == "" {
			t.Errorf("Toolkit(serpapi) = %+v", tk)
		}
		if len(tk.AuthConfigDetails) != 1 || tk.AuthConfigDetails[0].Mode != client.SchemeAPIKey || !slices.Equal(tk.AuthSchemes, []string{"API_KEY"}) {
			t.Errorf("serpapi schemes: %+v, details %+v", tk.AuthSchemes, tk.AuthConfigDetails)
		}

		_, err = e.c.Toolkit(ctx(t), "no-such-toolkit")
		ce := e.wantErr(t, err, client.ErrNotFound, "no-such-toolkit")
		if ce.StatusCode != 404 || ce.Code != 404 || ce.Slug != "not_found" {
			t.Errorf("unknown toolkit: %#v", ce)
		}

		// Every toolkit once, over pages of 5.
		var seen []string
		p := client.ToolkitListParams{Limit: 5}
		total := -1
		for pages := 0; ; pages++ {
			page, err := e.c.Toolkits(ctx(t), p)
			must(t, err)
			if pages > 100 {
				t.Fatal("paging does not end")
			}
			total = page.TotalItems
			if len(page.Items) > 5 || page.CurrentPage != pages+1 {
				t.Errorf("page %d: %d items, current page %d", pages+1, len(page.Items), page.CurrentPage)
			}
			for _, tk := range page.Items {
				if tk.AuthConfigDetails != nil {
					t.Errorf("list item %s carries auth_config_details", tk.Slug)
				}
				seen = append(seen, tk.Slug)
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
		sorted := slices.Clone(seen)
		slices.Sort(sorted)
		if len(seen) != total || len(slices.Compact(sorted)) != total || !slices.Contains(seen, "serpapi") {
			t.Errorf("paged %d toolkits (%v), want %d distinct ones including serpapi", len(seen), seen, total)
		}

		page, err := e.c.Toolkits(ctx(t), client.ToolkitListParams{Search: "SERP"})
		must(t, err)
		if len(page.Items) != 1 || page.Items[0].Slug != "serpapi" || page.NextCursor != "" {
			t.Errorf("Search SERP: %+v", page)
		}
		page, err = e.c.Toolkits(ctx(t), client.ToolkitListParams{Category: "analytics"})
		must(t, err)
		if len(page.Items) == 0 || !slices.ContainsFunc(page.Items, func(tk client.Toolkit) bool { return tk.Slug == "serpapi" }) {
			t.Errorf("Category analytics: %+v", page.Items)
		}
		_, err = e.c.Toolkits(ctx(t), client.ToolkitListParams{Cursor: "not-a-cursor"})
		e.wantErr(t, err, client.ErrInvalid, "cursor")
		_, err = e.c.Toolkits(ctx(t), client.ToolkitListParams{Limit: 5000})
		e.wantErr(t, err, client.ErrInvalid, "limit")
	})
}

func TestFields(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		fields, err := e.c.ConnectionFields(ctx(t), "serpapi", client.SchemeAPIKey)
		must(t, err)
		if len(fields) != 1 || fields[0].Name != "generic_api_key" || !fields[0].Required || !fields[0].IsSecret || fields[0].DisplayName != "API Key" {
			t.Errorf("serpapi connection fields: %+v", fields)
		}
		fields, err = e.c.ConnectionFields(ctx(t), "jira", client.SchemeBasic)
		must(t, err)
		if got := names(fields); !slices.Equal(got, []string{"subdomain", "username", "password"}) {
			t.Errorf("jira BASIC fields: %v", got)
		}
		fields, err = e.c.ConnectionFields(ctx(t), "github", client.SchemeOAuth2)
		must(t, err)
		if len(fields) != 1 || fields[0].Name != "access_token" || fields[0].Required {
			t.Errorf("github OAUTH2 connection fields: %+v", fields)
		}
		fields, err = e.c.AuthConfigFields(ctx(t), "github", client.SchemeOAuth2)
		must(t, err)
		if got := names(fields); !slices.Equal(got, []string{"client_id", "client_secret"}) || !fields[0].Required {
			t.Errorf("github OAUTH2 auth config fields: %+v", fields)
		}
		fields, err = e.c.AuthConfigFields(ctx(t), "serpapi", client.SchemeAPIKey)
		must(t, err)
		if len(fields) != 0 {
			t.Errorf("serpapi auth config fields: %+v, want none", fields)
		}
		// "" is the toolkit's first scheme.
		fields, err = e.c.ConnectionFields(ctx(t), "serpapi", "")
		must(t, err)
		if len(fields) != 1 {
			t.Errorf("serpapi default scheme fields: %+v", fields)
		}

		_, err = e.c.ConnectionFields(ctx(t), "serpapi", client.SchemeOAuth2)
		if !errors.Is(err, client.ErrNoAuthScheme) || !strings.Contains(err.Error(), "API_KEY") {
			t.Errorf("serpapi OAUTH2: %v, want ErrNoAuthScheme naming API_KEY", err)
		}
		_, err = e.c.AuthConfigFields(ctx(t), "no-such-toolkit", client.SchemeAPIKey)
		e.wantErr(t, err, client.ErrNotFound)
	})
}

// TestFieldOrder pins the required-first order against a server that
// lists a scheme's fields in both groups.
func TestFieldOrder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"slug":"x","name":"X","meta":{},"auth_config_details":[
			{"mode":"OAUTH2","fields":{"connected_account_initiation":{"required":[],"optional":[]}}},
			{"mode":"API_KEY","fields":{
				"auth_config_creation":{"required":[{"name":"c"}],"optional":[]},
				"connected_account_initiation":{
					"required":[{"name":"a","required":false},{"name":"b"}],
					"optional":[{"name":"o","required":true,"default":"v"}]}}}]}`)
	}))
	defer srv.Close()
	c := mustNew(t, srv.URL, client.WithAPIKey("ak_x"))
	fields, err := c.ConnectionFields(ctx(t), "x", client.SchemeAPIKey)
	must(t, err)
	var got []string
	for _, f := range fields {
		got = append(got, fmt.Sprintf("%s:%t", f.Name, f.Required))
	}
	if want := []string{"a:true", "b:true", "o:false"}; !slices.Equal(got, want) {
		t.Errorf("fields = %v, want %v", got, want)
	}
	if fields[2].Default == nil || *fields[2].Default != "v" {
		t.Errorf("default of o = %v, want v", fields[2].Default)
	}
	fields, err = c.ConnectionFields(ctx(t), "x", "")
	must(t, err)
	if len(fields) != 0 {
		t.Errorf(`scheme "" = %v, want the first scheme's (no) fields`, fields)
	}
}

func names(fs []client.AuthField) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

func TestAuthConfigs(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.rec.reset()
		ac, err := e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "serpapi", AuthScheme: client.SchemeAPIKey, Name: "Search"})
		must(t, err)
		if ac.ID == "" || ac.AuthScheme != "API_KEY" || ac.IsComposioManaged || ac.Type != "custom" || ac.Toolkit.Slug != "serpapi" || ac.Status != "ENABLED" {
			t.Errorf("CreateAuthConfig = %+v", ac)
		}
		// The wire body is the official SDK's: camelCase authScheme and
		// credentials present (empty) for a custom auth config.
		var body map[string]map[string]any
		must(t, json.Unmarshal(e.rec.all()[0].Body, &body))
		if body["toolkit"]["slug"] != "serpapi" || body["auth_config"]["type"] != "use_custom_auth" || body["auth_config"]["authScheme"] != "API_KEY" || body["auth_config"]["credentials"] == nil {
			t.Errorf("create body = %s", e.rec.all()[0].Body)
		}

		got, err := e.c.AuthConfig(ctx(t), ac.ID)
		must(t, err)
		if got.ID != ac.ID || got.Name != "Search" || got.Status != "ENABLED" || got.CreatedAt.IsZero() || got.NoOfConnections != 0 || got.Toolkit.Logo == "" {
			t.Errorf("AuthConfig = %+v", got)
		}

		managed, err := e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "github", Managed: true})
		must(t, err)
		if !managed.IsComposioManaged || managed.Type != "default" || managed.AuthScheme != "BEARER_TOKEN" {
			t.Errorf("managed github auth config = %+v", managed)
		}
		oauth, err := e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "github", AuthScheme: client.SchemeOAuth2,
			Credentials: map[string]string{"client_id": "Iv1.0123456789abcdef", "client_secret": "0123456789abcdef0123456789abcdef01234567"}})
		must(t, err)
		got, err = e.c.AuthConfig(ctx(t), oauth.ID)
		must(t, err)
		if got.Credentials["client_id"] == "" || got.Credentials["client_secret"] == "0123456789abcdef0123456789abcdef01234567" {
			t.Errorf("OAuth2 credentials = %v, want client_secret masked", got.Credentials)
		}

		name := "Renamed"
		tools := []string{"SERPAPI_SEARCH"}
		upd, err := e.c.UpdateAuthConfig(ctx(t), ac.ID, client.UpdateAuthConfigParams{Name: &name, RestrictToFollowingTools: &tools})
		must(t, err)
		if upd.Name != "Renamed" || !slices.Equal(upd.RestrictToFollowingTools, tools) {
			t.Errorf("UpdateAuthConfig = %+v", upd)
		}
		empty := []string{}
		upd, err = e.c.UpdateAuthConfig(ctx(t), ac.ID, client.UpdateAuthConfigParams{RestrictToFollowingTools: &empty})
		must(t, err)
		if upd.Name != "Renamed" || len(upd.RestrictToFollowingTools) != 0 {
			t.Errorf("UpdateAuthConfig clearing tools = %+v", upd)
		}

		dis, err := e.c.DisableAuthConfig(ctx(t), ac.ID)
		must(t, err)
		if dis.Status != "DISABLED" {
			t.Errorf("DisableAuthConfig: status %s", dis.Status)
		}
		list, err := e.c.AuthConfigs(ctx(t), client.AuthConfigListParams{Toolkit: "serpapi"})
		must(t, err)
		if len(list.Items) != 0 {
			t.Errorf("listing hides disabled auth configs, got %+v", list.Items)
		}
		list, err = e.c.AuthConfigs(ctx(t), client.AuthConfigListParams{Toolkit: "serpapi", ShowDisabled: true})
		must(t, err)
		if len(list.Items) != 1 || list.Items[0].ID != ac.ID {
			t.Errorf("ShowDisabled listing = %+v", list.Items)
		}
		en, err := e.c.EnableAuthConfig(ctx(t), ac.ID)
		must(t, err)
		if en.Status != "ENABLED" {
			t.Errorf("EnableAuthConfig: status %s", en.Status)
		}

		// Paging: three auth configs, two per page.
		var ids []string
		p := client.AuthConfigListParams{Limit: 2}
		for {
			page, err := e.c.AuthConfigs(ctx(t), p)
			must(t, err)
			if page.TotalItems != 3 || page.TotalPages != 2 {
				t.Errorf("page totals: %d items, %d pages", page.TotalItems, page.TotalPages)
			}
			for _, a := range page.Items {
				ids = append(ids, a.ID)
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
		slices.Sort(ids)
		if want := sortedStrings(ac.ID, managed.ID, oauth.ID); !slices.Equal(ids, want) {
			t.Errorf("paged ids %v, want %v", ids, want)
		}

		must(t, e.c.DeleteAuthConfig(ctx(t), ac.ID))
		_, err = e.c.AuthConfig(ctx(t), ac.ID)
		e.wantErr(t, err, client.ErrNotFound, ac.ID)
		e.wantErr(t, e.c.DeleteAuthConfig(ctx(t), ac.ID), client.ErrNotFound)
		_, err = e.c.EnableAuthConfig(ctx(t), ac.ID)
		e.wantErr(t, err, client.ErrNotFound)
		_, err = e.c.DisableAuthConfig(ctx(t), ac.ID)
		e.wantErr(t, err, client.ErrNotFound)
		_, err = e.c.UpdateAuthConfig(ctx(t), ac.ID, client.UpdateAuthConfigParams{Name: &name})
		e.wantErr(t, err, client.ErrNotFound)

		_, err = e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{AuthScheme: client.SchemeAPIKey})
		e.wantErr(t, err, client.ErrInvalid, "toolkit.slug")
		_, err = e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "serpapi"})
		e.wantErr(t, err, client.ErrInvalid, "authScheme")
		_, err = e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "github", AuthScheme: client.SchemeOAuth2})
		e.wantErr(t, err, client.ErrInvalid, "client_id", "client_secret")
		_, err = e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "serpapi", AuthScheme: client.SchemeOAuth2})
		e.wantErr(t, err, client.ErrInvalid, "API_KEY")
	})
}

func sortedStrings(ss ...string) []string {
	slices.Sort(ss)
	return ss
}

// serpapiConfig creates a custom API_KEY auth config for serpapi.
func (e *env) serpapiConfig(t testing.TB) string {
	t.Helper()
	ac, err := e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "serpapi", AuthScheme: client.SchemeAPIKey})
	must(t, err)
	return ac.ID
}

const userKey = "5f4dcc3b5aa765d61d8327deb882cf99"

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
		_, err = e.c.InitiateConnection(ctx(t), "user-3", acID, client.InitiateOptions{Scheme: client.SchemeAPIKey, Credentials: map[string]string{"apikey": userKey}})
		e.wantErr(t, err, client.ErrInvalid, `"apikey" is not a field`, "generic_api_key")
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

func TestExpectedParamsForUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		// No auth config yet: one is created.
		p, err := e.c.ExpectedParamsForUser(ctx(t), "serpapi", client.SchemeAPIKey, "")
		must(t, err)
		if p.AuthConfigID == "" || p.AuthScheme != "API_KEY" || len(p.Fields) != 1 || p.Fields[0].Name != "generic_api_key" || !p.Fields[0].Required {
			t.Errorf("ExpectedParamsForUser = %+v", p)
		}
		ac, err := e.c.AuthConfig(ctx(t), p.AuthConfigID)
		must(t, err)
		if ac.Type != "custom" || ac.AuthScheme != "API_KEY" || ac.Toolkit.Slug != "serpapi" {
			t.Errorf("created auth config %+v", ac)
		}
		// Then it is found, not created again.
		again, err := e.c.ExpectedParamsForUser(ctx(t), "serpapi", client.SchemeAPIKey, "")
		must(t, err)
		if again.AuthConfigID != p.AuthConfigID {
			t.Errorf("second call used %s, want %s", again.AuthConfigID, p.AuthConfigID)
		}
		list, err := e.c.AuthConfigs(ctx(t), client.AuthConfigListParams{Toolkit: "serpapi", ShowDisabled: true})
		must(t, err)
		if len(list.Items) != 1 {
			t.Errorf("%d serpapi auth configs, want 1", len(list.Items))
		}

		// A config of another scheme is passed over; a disabled one too.
		gh, err := e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "github", AuthScheme: client.SchemeOAuth2,
			Credentials: map[string]string{"client_id": "id", "client_secret": "secret"}})
		must(t, err)
		bearer, err := e.c.ExpectedParamsForUser(ctx(t), "github", client.SchemeBearerToken, "")
		must(t, err)
		if bearer.AuthConfigID == gh.ID || bearer.AuthScheme != "BEARER_TOKEN" || len(bearer.Fields) != 1 || bearer.Fields[0].Name != "token" {
			t.Errorf("github BEARER_TOKEN = %+v", bearer)
		}
		_, err = e.c.DisableAuthConfig(ctx(t), bearer.AuthConfigID)
		must(t, err)
		fresh, err := e.c.ExpectedParamsForUser(ctx(t), "github", client.SchemeBearerToken, "")
		must(t, err)
		if fresh.AuthConfigID == bearer.AuthConfigID {
			t.Errorf("a disabled auth config was used")
		}

		// An explicit auth config id is used as is.
		byID, err := e.c.ExpectedParamsForUser(ctx(t), "", "", gh.ID)
		must(t, err)
		if byID.AuthConfigID != gh.ID || byID.AuthScheme != "OAUTH2" || len(byID.Fields) != 1 || byID.Fields[0].Name != "access_token" {
			t.Errorf("by id = %+v", byID)
		}
		if _, err := e.c.ExpectedParamsForUser(ctx(t), "serpapi", "", gh.ID); err == nil {
			t.Error("an auth config of another toolkit was accepted")
		}
		_, err = e.c.ExpectedParamsForUser(ctx(t), "serpapi", client.SchemeAPIKey, "ac_doesnotexist")
		e.wantErr(t, err, client.ErrNotFound)

		// With no scheme, any of the toolkit's auth configs will do.
		anyScheme, err := e.c.ExpectedParamsForUser(ctx(t), "serpapi", "", "")
		must(t, err)
		if anyScheme.AuthConfigID != p.AuthConfigID {
			t.Errorf(`scheme "" used %s, want %s`, anyScheme.AuthConfigID, p.AuthConfigID)
		}
		// ...and a missing one is created managed.
		managed, err := e.c.ExpectedParamsForUser(ctx(t), "tavily", "", "")
		must(t, err)
		if managed.AuthScheme != "API_KEY" {
			t.Errorf("tavily default = %+v", managed)
		}

		_, err = e.c.ExpectedParamsForUser(ctx(t), "no-such-toolkit", client.SchemeAPIKey, "")
		e.wantErr(t, err, client.ErrNotFound)
		if _, err = e.c.ExpectedParamsForUser(ctx(t), "serpapi", client.SchemeOAuth2, ""); !errors.Is(err, client.ErrNoAuthScheme) {
			t.Errorf("serpapi OAUTH2: %v, want ErrNoAuthScheme", err)
		}
		// OAUTH2 auth configs need app credentials: none can be created.
		_, err = e.c.ExpectedParamsForUser(ctx(t), "slack", client.SchemeOAuth2, "")
		e.wantErr(t, err, client.ErrInvalid, "client_id")
	})
}

func TestAPIKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		keys, err := e.c.APIKeys(ctx(t))
		must(t, err)
		var listed []string
		for _, k := range keys {
			listed = append(listed, k.Name)
			if k.Revoked || k.Status == "" || k.ProjectID != e.srv.Project.ID || k.CreatedAt.IsZero() || !strings.HasPrefix(k.Key, "ak_") || len(k.Key) > 12 {
				t.Errorf("listed key %+v", k)
			}
		}
		if !slices.Contains(listed, "owner") || !slices.Contains(listed, "member") {
			t.Errorf("listed %v, want owner and member", listed)
		}

		nk, err := e.c.CreateAPIKey(ctx(t), "ci")
		must(t, err)
		e.keys = append(e.keys, nk.Key)
		if nk.ID == "" || nk.Name != "ci" || nk.ProjectID != e.srv.Project.ID || !strings.HasPrefix(nk.Key, "ak_") || nk.CreatedAt.IsZero() {
			t.Errorf("CreateAPIKey = %s", nk)
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			for _, v := range []any{nk, *nk} {
				e.noKeys(t, fmt.Sprintf(verb, v))
			}
		}
		ci := mustNew(t, e.srv.URL, client.WithAPIKey(nk.Key))
		s, err := ci.Session(ctx(t))
		must(t, err)
		if s.APIKey.ID != nk.ID || s.APIKey.Name != "ci" {
			t.Errorf("the new key's session: %+v", s.APIKey)
		}
		keys, err = e.c.APIKeys(ctx(t))
		must(t, err)
		if keys[0].ID != nk.ID || strings.Contains(keys[0].Key, nk.Key[4:]) {
			t.Errorf("newest key %+v, want %s masked", keys[0], nk.ID)
		}

		must(t, e.c.RevokeAPIKey(ctx(t), nk.ID))
		_, err = ci.Toolkits(ctx(t), client.ToolkitListParams{})
		e.wantErr(t, err, client.ErrUnauthorized)
		keys, err = e.c.APIKeys(ctx(t))
		must(t, err)
		if i := slices.IndexFunc(keys, func(k client.APIKey) bool { return k.ID == nk.ID }); i < 0 || !keys[i].Revoked || keys[i].RevokedAt == nil {
			t.Errorf("revoked key not listed as revoked: %+v", keys)
		}

		// A member may use the project but not manage its keys.
		_, err = e.member.Toolkits(ctx(t), client.ToolkitListParams{Limit: 1})
		must(t, err)
		_, err = e.member.CreateAPIKey(ctx(t), "nope")
		ce := e.wantErr(t, err, client.ErrForbidden)
		if ce.StatusCode != 403 || ce.Slug != "forbidden" {
			t.Errorf("member CreateAPIKey: %#v", ce)
		}
		e.wantErr(t, e.member.RevokeAPIKey(ctx(t), nk.ID), client.ErrForbidden)

		_, err = e.c.CreateAPIKey(ctx(t), " ")
		e.wantErr(t, err, client.ErrInvalid, "name")
		e.wantErr(t, e.c.RevokeAPIKey(ctx(t), "key_doesnotexist"), client.ErrNotFound)
	})
}

func TestReportLeakedKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		nk, err := e.c.CreateAPIKey(ctx(t), "leaky")
		must(t, err)
		e.keys = append(e.keys, nk.Key)
		leaky := mustNew(t, e.srv.URL, client.WithAPIKey(nk.Key))
		_, err = leaky.Toolkits(ctx(t), client.ToolkitListParams{Limit: 1})
		must(t, err)

		// Anyone may report, without a key; unknown keys change nothing.
		anon := mustNew(t, e.srv.URL)
		must(t, anon.ReportLeakedKeys(ctx(t), []string{nk.Key, "ak_notarealkey", "hello"}))
		_, err = leaky.Toolkits(ctx(t), client.ToolkitListParams{Limit: 1})
		e.wantErr(t, err, client.ErrUnauthorized)
		_, err = e.c.Toolkits(ctx(t), client.ToolkitListParams{Limit: 1})
		must(t, err)

		e.wantErr(t, anon.ReportLeakedKeys(ctx(t), nil), client.ErrInvalid, "api_keys")
	})
}

func TestSession(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s, err := e.c.Session(ctx(t))
		must(t, err)
		if s.Project == nil || s.Project.ID != e.srv.Project.ID || s.APIKey.Name != "owner" || s.APIKey.ProjectID != e.srv.Project.ID ||
			s.OrgMember.Email != "owner@example.com" || s.OrgMember.Role != "owner" || strings.Contains(s.APIKey.Key, e.srv.OwnerKey[4:]) {
			t.Errorf("project key session = %+v (project %+v)", s, s.Project)
		}
		s, err = e.org.Session(ctx(t))
		must(t, err)
		if s.Project != nil || s.APIKey.Name != "org" || s.APIKey.ProjectID != "" {
			t.Errorf("org key session = %+v", s)
		}
		s, err = e.member.Session(ctx(t))
		must(t, err)
		if s.OrgMember.Role != "member" {
			t.Errorf("member session = %+v", s.OrgMember)
		}
		// With both keys set, each call still sends exactly one.
		both := mustNew(t, e.srv.URL, client.WithAPIKey(e.srv.OwnerKey), client.WithOrgAPIKey(e.srv.OrgKey))
		s, err = both.Session(ctx(t))
		must(t, err)
		if s.APIKey.Name != "owner" {
			t.Errorf("with both keys, Session used %s, want the project key", s.APIKey.Name)
		}
		_, err = both.Projects(ctx(t), client.ProjectListParams{})
		must(t, err)
		_, err = both.Toolkits(ctx(t), client.ToolkitListParams{Limit: 1})
		must(t, err)
	})
}

func TestProjects(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		np, err := e.org.CreateProject(ctx(t), "staging", true)
		must(t, err)
		e.keys = append(e.keys, np.APIKey)
		if np.ID == "" || np.Name != "staging" || !strings.HasPrefix(np.APIKey, "ak_") {
			t.Errorf("CreateProject = %s", np)
		}
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			e.noKeys(t, fmt.Sprintf(verb, np))
		}
		staging := mustNew(t, e.srv.URL, client.WithAPIKey(np.APIKey))
		s, err := staging.Session(ctx(t))
		must(t, err)
		if s.Project == nil || s.Project.ID != np.ID {
			t.Errorf("the new project's key acts for %+v", s.Project)
		}
		// Projects are isolated: the default project's configs are not
		// visible from staging.
		acID := e.serpapiConfig(t)
		_, err = staging.AuthConfig(ctx(t), acID)
		e.wantErr(t, err, client.ErrNotFound)

		bare, err := e.org.CreateProject(ctx(t), "bare", false)
		must(t, err)
		if bare.APIKey != "" || bare.String() != fmt.Sprintf(`{ID:%s Name:"bare" APIKey:}`, bare.ID) {
			t.Errorf("CreateProject without a key = %s", bare)
		}

		p, err := e.org.Project(ctx(t), np.ID)
		must(t, err)
		if p.ID != np.ID || p.Name != "staging" || p.OrgID != e.srv.Org.ID || p.Deleted || p.WebhookVersion == "" || len(p.APIKeys) != 1 || strings.Contains(p.APIKeys[0].Key, np.APIKey[4:]) {
			t.Errorf("Project = %+v", p)
		}

		// Paging through the organization's three projects, one at a time.
		var ids []string
		lp := client.ProjectListParams{Limit: 1}
		for {
			page, err := e.org.Projects(ctx(t), lp)
			must(t, err)
			if len(page.Items) > 1 {
				t.Errorf("page of %d projects, want 1", len(page.Items))
			}
			for _, p := range page.Items {
				ids = append(ids, p.ID)
			}
			if page.NextCursor == "" || len(ids) > 10 {
				break
			}
			lp.Cursor = page.NextCursor
		}
		if want := []string{e.srv.Project.ID, np.ID, bare.ID}; !slices.Equal(ids, want) {
			t.Errorf("paged projects %v, want %v", ids, want)
		}

		nk, err := e.org.RegenerateProjectKey(ctx(t), np.ID)
		must(t, err)
		e.keys = append(e.keys, nk.Key)
		if nk.ProjectID != np.ID || !strings.HasPrefix(nk.Key, "ak_") || nk.Key == np.APIKey {
			t.Errorf("RegenerateProjectKey = %s", nk)
		}
		_, err = staging.Session(ctx(t))
		e.wantErr(t, err, client.ErrUnauthorized)
		_, err = mustNew(t, e.srv.URL, client.WithAPIKey(nk.Key)).Session(ctx(t))
		must(t, err)

		must(t, e.org.DeleteProject(ctx(t), np.ID))
		_, err = mustNew(t, e.srv.URL, client.WithAPIKey(nk.Key)).Session(ctx(t))
		e.wantErr(t, err, client.ErrUnauthorized)
		e.wantErr(t, e.org.DeleteProject(ctx(t), np.ID), client.ErrNotFound)
		_, err = e.org.Project(ctx(t), "proj_doesnotexist")
		e.wantErr(t, err, client.ErrNotFound)
		_, err = e.org.RegenerateProjectKey(ctx(t), "proj_doesnotexist")
		e.wantErr(t, err, client.ErrNotFound)
		_, err = e.org.CreateProject(ctx(t), "", false)
		e.wantErr(t, err, client.ErrInvalid, "name")

		// Organization endpoints need the organization key.
		_, err = e.c.Projects(ctx(t), client.ProjectListParams{})
		e.wantErr(t, err, client.ErrUnauthorized, "x-org-api-key")
		_, err = e.org.Toolkits(ctx(t), client.ToolkitListParams{})
		e.wantErr(t, err, client.ErrUnauthorized, "x-api-key")
	})
}

// TestUnauthorized: a wrong key gets 401 on both API generations, and the
// key never shows in the error.
func TestUnauthorized(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		// A key of the right shape whose checksum fails, and one that was
		// never issued.
		wrong := e.srv.OwnerKey[:len(e.srv.OwnerKey)-1] + flip(e.srv.OwnerKey[len(e.srv.OwnerKey)-1:])
		for _, key := range []string{wrong, "ak_definitelynotakey", "not-even-a-key"} {
			e.keys = append(e.keys, key)
			bad := mustNew(t, e.srv.URL, client.WithAPIKey(key), client.WithOrgAPIKey(key))
			calls := map[string]func() error{
				"Toolkit":          func() error { _, err := bad.Toolkit(ctx(t), "serpapi"); return err },
				"AuthConfigs":      func() error { _, err := bad.AuthConfigs(ctx(t), client.AuthConfigListParams{}); return err },
				"ConnectedAccount": func() error { _, err := bad.ConnectedAccount(ctx(t), "ca_x"); return err },
				"InitiateConnection": func() error {
					_, err := bad.InitiateConnection(ctx(t), "u", "ac_x", client.InitiateOptions{})
					return err
				},
				"APIKeys (legacy envelope)": func() error { _, err := bad.APIKeys(ctx(t)); return err },
				"Session":                   func() error { _, err := bad.Session(ctx(t)); return err },
				"Projects":                  func() error { _, err := bad.Projects(ctx(t), client.ProjectListParams{}); return err },
			}
			for name, call := range calls {
				err := call()
				ce := e.wantErr(t, err, client.ErrUnauthorized)
				if ce.StatusCode != 401 || ce.Slug != "unauthorized" || errors.Is(err, client.ErrNotFound) || errors.Is(err, client.ErrForbidden) {
					t.Errorf("%s with key %q: %#v", name, key, ce)
				}
			}
		}
		// No key at all.
		_, err := mustNew(t, e.srv.URL).Toolkits(ctx(t), client.ToolkitListParams{})
		e.wantErr(t, err, client.ErrUnauthorized, "x-api-key")
	})
}

func flip(s string) string {
	if s == "a" {
		return "b"
	}
	return "a"
}

// TestErrorEnvelopes parses what servers other than patchbay may send.
func TestErrorEnvelopes(t *testing.T) {
	const key = "ak_topsecrettopsecrettopsecret1234"
	for _, tc := range []struct {
		name, ctype, body string
		status            int
		header            string // X-Request-Id
		want              client.Error
		is                error
	}{
		{"v3", "application/json", `{"error":{"message":"Connected account ca_x not found","code":1803,"slug":"","status":404,"request_id":"r1","suggested_fix":"","errors":[]}}`,
			404, "", client.Error{StatusCode: 404, Message: "Connected account ca_x not found", Code: 1803, RequestID: "r1"}, client.ErrNotFound},
		{"legacy", "application/json", `{"message":"Invalid or revoked API key","name":"UnauthorizedError","type":"unauthorized","status":401,"requestId":"r2"}`,
			401, "", client.Error{StatusCode: 401, Message: "Invalid or revoked API key", Slug: "unauthorized", RequestID: "r2"}, client.ErrUnauthorized},
		{"plain JSON", "application/json", `{"message":"gone","status":409,"request_id":"r3"}`,
			409, "", client.Error{StatusCode: 409, Message: "gone", RequestID: "r3"}, client.ErrConflict},
		{"text", "text/plain", "upstream timed out\n", 502, "hdr",
			client.Error{StatusCode: 502, Message: "upstream timed out", RequestID: "hdr"}, nil},
		{"empty", "", "", 403, "", client.Error{StatusCode: 403, Message: "Forbidden"}, client.ErrForbidden},
		{"422", "application/json", `{"error":{"message":"bad"}}`, 422, "", client.Error{StatusCode: 422, Message: "bad"}, client.ErrInvalid},
		{"error string", "application/json", `{"error":"nope"}`, 400, "", client.Error{StatusCode: 400, Message: `{"error":"nope"}`}, client.ErrInvalid},
		{"echoed key", "application/json", `{"error":{"message":"bad key ` + key + `"}}`, 401, "",
			client.Error{StatusCode: 401, Message: "bad key [REDACTED]"}, client.ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				if tc.header != "" {
					w.Header().Set("X-Request-Id", tc.header)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			_, err := mustNew(t, srv.URL, client.WithAPIKey(key)).Toolkit(ctx(t), "x")
			var ce *client.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *client.Error", err)
			}
			if *ce != tc.want {
				t.Errorf("got %#v, want %#v", *ce, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
			for _, s := range []error{client.ErrInvalid, client.ErrUnauthorized, client.ErrForbidden, client.ErrNotFound, client.ErrConflict} {
				if s != tc.is && errors.Is(err, s) {
					t.Errorf("%v also matches %v", err, s)
				}
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("%q contains the key", err)
			}
		})
	}
}

func TestBadResponses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html>a captive portal</html>")
	}))
	defer srv.Close()
	_, err := mustNew(t, srv.URL, client.WithAPIKey("ak_x")).Toolkit(ctx(t), "x")
	if err == nil || !strings.Contains(err.Error(), "decode") || !strings.Contains(err.Error(), "text/html") {
		t.Errorf("HTML instead of JSON: %v", err)
	}
	srv.Close()
	_, err = mustNew(t, srv.URL, client.WithAPIKey("ak_x")).Toolkit(ctx(t), "x")
	var ce *client.Error
	if err == nil || errors.As(err, &ce) {
		t.Errorf("server down: %v, want a transport error", err)
	}
}

// TestRequests checks paths, escaping, headers and the redirect rule.
func TestRequests(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []*http.Request
	)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"slug":"x","meta":{}}`)
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/away"):
			http.Redirect(w, r, other.URL+"/api/v3.1/toolkits/x", http.StatusFound)
		case strings.HasSuffix(r.URL.Path, "/home"):
			http.Redirect(w, r, "/prefix/api/v3.1/toolkits/x", http.StatusFound)
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"slug":"x","meta":{},"items":[],"data":[]}`)
		}
	}))
	defer srv.Close()
	c := mustNew(t, srv.URL+"/prefix/", client.WithAPIKey("ak_project"), client.WithOrgAPIKey("oak_org"), client.WithUserAgent("myapp/1.2"))

	last := func() *http.Request {
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1]
	}
	_, err := c.Toolkit(ctx(t), "a/b c")
	must(t, err)
	r := last()
	if r.URL.EscapedPath() != "/prefix/api/v3.1/toolkits/a%2Fb%20c" {
		t.Errorf("path = %s", r.URL.EscapedPath())
	}
	if r.Header.Get("X-Api-Key") != "ak_project" || r.Header.Get("X-Org-Api-Key") != "" || r.Header.Get("User-Agent") != "myapp/1.2 patchbay-go/"+client.Version ||
		r.Header.Get("Accept") != "application/json" || r.Header.Get("Content-Type") != "" {
		t.Errorf("headers = %v", r.Header)
	}
	_, err = c.Projects(ctx(t), client.ProjectListParams{})
	must(t, err)
	if r := last(); r.Header.Get("X-Api-Key") != "" || r.Header.Get("X-Org-Api-Key") != "oak_org" {
		t.Errorf("org call headers = %v", r.Header)
	}
	_, err = c.ConnectedAccounts(ctx(t), client.ConnectedAccountListParams{UserIDs: []string{"a", "b"}, Statuses: []string{"ACTIVE", "INITIATED"}, Limit: 3})
	must(t, err)
	if q := last().URL.RawQuery; q != "limit=3&statuses=ACTIVE%2CINITIATED&user_ids=a%2Cb" {
		t.Errorf("query = %s", q)
	}
	_, err = c.EnableAuthConfig(ctx(t), "ac_1")
	must(t, err)
	if r := last(); r.Method != "PATCH" || r.URL.Path != "/prefix/api/v3.1/auth_configs/ac_1/ENABLED" || r.ContentLength != 0 {
		t.Errorf("EnableAuthConfig sent %s %s with %d bytes", r.Method, r.URL.Path, r.ContentLength)
	}
	must(t, c.ReportLeakedKeys(ctx(t), []string{"ak_leaked"}))
	if r := last(); r.Header.Get("X-Api-Key") != "" || r.Header.Get("X-Org-Api-Key") != "" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("leak report headers = %v", r.Header)
	}

	// A redirect within the origin keeps the key; one elsewhere drops it.
	c2 := mustNew(t, srv.URL, client.WithAPIKey("ak_project"))
	_, err = c2.Toolkit(ctx(t), "home")
	must(t, err)
	if r := last(); r.URL.Path != "/prefix/api/v3.1/toolkits/x" || r.Header.Get("X-Api-Key") != "ak_project" {
		t.Errorf("same-origin redirect: %s with key %q", r.URL.Path, r.Header.Get("X-Api-Key"))
	}
	_, err = c2.Toolkit(ctx(t), "away")
	must(t, err)
	if r := last(); r.Host != strings.TrimPrefix(other.URL, "http://") || r.Header.Get("X-Api-Key") != "" {
		t.Errorf("cross-origin redirect reached %s with key %q", r.Host, r.Header.Get("X-Api-Key"))
	}
	// A caller's CheckRedirect still runs.
	c3 := mustNew(t, srv.URL, client.WithAPIKey("ak_project"), client.WithHTTPClient(&http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("no redirects here") },
	}))
	if _, err := c3.Toolkit(ctx(t), "away"); err == nil || !strings.Contains(err.Error(), "no redirects here") {
		t.Errorf("caller's CheckRedirect: %v", err)
	}
}

func TestErrorIs(t *testing.T) {
	for status, want := range map[int]error{400: client.ErrInvalid, 422: client.ErrInvalid, 401: client.ErrUnauthorized, 403: client.ErrForbidden, 404: client.ErrNotFound, 409: client.ErrConflict} {
		err := error(&client.Error{StatusCode: status})
		if !errors.Is(err, want) {
			t.Errorf("%d is not %v", status, want)
		}
		if errors.Is(fmt.Errorf("wrapped: %w", err), want) != true {
			t.Errorf("wrapped %d is not %v", status, want)
		}
	}
	if errors.Is(&client.Error{StatusCode: 500}, client.ErrInvalid) || errors.Is(&client.Error{StatusCode: 401}, client.ErrForbidden) {
		t.Error("a status matched another class")
	}
	if got := (&client.Error{StatusCode: 404, Slug: "not_found", Message: "gone", RequestID: "r"}).Error(); got != "patchbay: 404 not_found: gone (request r)" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&client.Error{StatusCode: 502, Message: "bad gateway"}).Error(); got != "patchbay: 502 bad gateway: bad gateway" {
		t.Errorf("Error() = %q", got)
	}
}
