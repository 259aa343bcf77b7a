package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/catalog"
	"github.com/patchbay-dev/patchbay/internal/outbound"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// recordedCall is a request a fake app received.
type recordedCall struct {
	method, path string
	query        url.Values
	header       http.Header
	body         []byte
}

// scriptedApp is a fake of every app at once: each toolkit under its own
// path prefix (/<slug>), answering whatever the test scripted last and
// recording what it receives.
type scriptedApp struct {
	*httptest.Server
	mu     sync.Mutex
	calls  []recordedCall
	status int
	header http.Header
	body   []byte
}

func newScriptedApp(t *testing.T) *scriptedApp {
	app := &scriptedApp{}
	app.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		app.mu.Lock()
		defer app.mu.Unlock()
		app.calls = append(app.calls, recordedCall{method: r.Method, path: r.URL.EscapedPath(), query: r.URL.Query(), header: r.Header.Clone(), body: body})
		for k, vs := range app.header {
			w.Header()[k] = vs
		}
		w.WriteHeader(app.status)
		w.Write(app.body)
	}))
	t.Cleanup(app.Close)
	return app
}

// script sets the next answers.
func (a *scriptedApp) script(status int, header http.Header, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls, a.status, a.header, a.body = nil, status, header, body
}

func (a *scriptedApp) received() []recordedCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]recordedCall(nil), a.calls...)
}

// sampleFor returns a value for f that fits its pattern: its default, or
// the shortest string the pattern's syntax tree spells (with at least 24
// characters where the pattern repeats freely). Secrets are registered
// as values that must never come back.
func sampleFor(t *testing.T, a *api, tk string, f patchbay.Field) string {
	t.Helper()
	if f.Default != nil && *f.Default != "" && f.Valid(*f.Default) {
		return *f.Default
	}
	v := "acme"
	if f.Secret {
		v = fmt.Sprintf("%s-%s-SECRETVALUE-0123456789", tk, f.Name)
	}
	if f.Pattern != "" {
		re, err := syntax.Parse(f.Pattern, syntax.Perl)
		if err != nil {
			t.Fatalf("%s: field %s's pattern: %v", tk, f.Name, err)
		}
		var b strings.Builder
		spell(&b, re.Simplify())
		v = b.String()
	}
	if !f.Valid(v) {
		t.Fatalf("%s: the sample %q does not fit field %s's pattern %s", tk, v, f.Name, f.Pattern)
	}
	if f.Secret {
		a.secret(v)
	}
	return v
}

// spell writes a string re matches.
func spell(b *strings.Builder, re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		r := re.Rune[0]
		// Prefer a letter or digit inside the class, for readable values.
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if lo, hi := re.Rune[i], re.Rune[i+1]; lo <= 'a' && 'a' <= hi {
				r = 'a'
				break
			} else if lo <= '0' && '0' <= hi {
				r = '0'
			}
		}
		b.WriteRune(r)
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('a')
	case syntax.OpCapture:
		spell(b, re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			spell(b, sub)
		}
	case syntax.OpAlternate:
		spell(b, re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		n := re.Min
		if re.Op == syntax.OpPlus || re.Op == syntax.OpStar {
			n = 24
		}
		if re.Op == syntax.OpRepeat && (re.Max == -1 || re.Max >= 24) {
			n = max(re.Min, 24)
		}
		for range n {
			spell(b, re.Sub[0])
		}
	}
}

// toolConnection connects a user to tk for running its tools, through its
// first scheme the user can fill in (an OAuth scheme with an imported
// token otherwise), and returns the account, the scheme and the values.
func toolConnection(t *testing.T, a *api, tk *patchbay.Toolkit) (string, *patchbay.AuthScheme, map[string]string) {
	t.Helper()
	sc := &tk.AuthSchemes[0]
	for i := range tk.AuthSchemes {
		if tk.AuthSchemes[i].Mode.UserSupplied() {
			sc = &tk.AuthSchemes[i]
			break
		}
	}
	if sc.Mode == patchbay.AuthNoAuth {
		return "", sc, map[string]string{}
	}
	acCreds := map[string]any{}
	for _, f := range sc.FieldsFor(patchbay.ScopeAuthConfig) {
		acCreds[f.Name] = sampleFor(t, a, tk.Slug, f)
	}
	acBody := map[string]any{"type": "use_custom_auth", "authScheme": string(sc.Mode), "credentials": acCreds}
	ac := a.post("/api/v3.1/auth_configs", authConfigBody(tk.Slug, acBody)).want(201).str("auth_config.id")
	values := map[string]string{}
	val := map[string]any{}
	for _, f := range sc.FieldsFor(patchbay.ScopeConnection) {
		if !f.Required && f.Name != patchbay.FieldAccessToken {
			continue
		}
		values[f.Name] = sampleFor(t, a, tk.Slug, f)
		val[f.Name] = values[f.Name]
	}
	for k, v := range acCreds {
		values[k] = v.(string)
	}
	id := a.connect(ac, "tool-user", string(sc.Mode), val)
	return id, sc, values
}

var placeholderRE = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}`)

func expand(tmpl string, values map[string]string) string {
	return placeholderRE.ReplaceAllStringFunc(tmpl, func(m string) string {
		return values[placeholderRE.FindStringSubmatch(m)[1]]
	})
}

// TestEveryToolAgainstItsApp executes every shipped tool's every example
// through POST /api/v3.1/tools/execute/{slug} against a fake of its app,
// and checks what the app received (method, path, query, the tool's
// headers, the injected credential, the body) and what the call returned.
func TestEveryToolAgainstItsApp(t *testing.T) {
	cat := catalog.Default()
	app := newScriptedApp(t)
	overrides := map[string]string{}
	for _, tk := range cat.Toolkits() {
		overrides[tk.Slug] = app.URL + "/" + tk.Slug
	}
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{Outbound: outbound.Config{Overrides: overrides, AllowHosts: []string{"127.0.0.1"}}})
		ran := 0
		for _, tk := range cat.Toolkits() {
			tools := cat.ToolsOf(tk.Slug)
			if len(tools) == 0 {
				continue
			}
			account, sc, values := toolConnection(t, a, tk)
			escaped := map[string]string{}
			for k, v := range values {
				escaped[k] = url.PathEscape(v)
			}
			prefix := "/" + tk.Slug + strings.TrimSuffix(expand(sc.Inject.PathPrefix, escaped), "/")
			for _, tool := range tools {
				for i, ex := range tool.Examples {
					name := fmt.Sprintf("%s example %d", tool.Slug, i)
					runExample(t, a, app, name, tool, ex, account, sc, values, prefix)
					ran++
				}
			}
		}
		if ran == 0 {
			t.Fatal("no tool example ran")
		}
	})
}

func runExample(t *testing.T, a *api, app *scriptedApp, name string, tool *patchbay.Tool, ex patchbay.ToolExample,
	account string, sc *patchbay.AuthScheme, values map[string]string, prefix string) {
	t.Helper()
	var body []byte
	if ex.Response.Body != nil {
		body = []byte(canon(t, ex.Response.Body))
	}
	app.script(ex.Response.Status, http.Header{"Content-Type": {"application/json"}}, body)
	req := map[string]any{"arguments": ex.Arguments, "user_id": "tool-user", "version": tool.Version}
	if account != "" {
		req["connected_account_id"] = account
	}
	r := a.post("/api/v3.1/tools/execute/"+tool.Slug, req)
	if r.Status != 200 {
		t.Errorf("%s: status %d: %s", name, r.Status, r.Raw)
		return
	}
	ok := ex.Response.Status >= 200 && ex.Response.Status < 300
	if r.at("successful") != ok {
		t.Errorf("%s: successful = %v, want %v (%s)", name, r.at("successful"), ok, r.Raw)
	}
	if ok && canon(t, r.at("data")) != canon(t, ex.Data) {
		t.Errorf("%s: data = %s, want %s", name, canon(t, r.at("data")), canon(t, ex.Data))
	}
	calls := app.received()
	if len(calls) != 1 {
		t.Errorf("%s: the app received %d requests, want 1", name, len(calls))
		return
	}
	c := calls[0]
	got := patchbay.ExampleRequest{Method: c.method, Path: strings.TrimPrefix(c.path, prefix)}
	if !strings.HasPrefix(c.path, prefix) {
		t.Errorf("%s: path %s is not under %s", name, c.path, prefix)
	}
	// The query without what the scheme injects.
	q := map[string]string{}
	for k, vs := range c.query {
		if _, injected := sc.Inject.Query[k]; !injected {
			q[k] = strings.Join(vs, "&")
		}
	}
	if len(q) > 0 {
		got.Query = q
	}
	got.Headers = map[string]string{}
	for k := range ex.Request.Headers {
		got.Headers[k] = c.header.Get(k)
	}
	if err := catalog.DecodeBody(c.header.Get("Content-Type"), c.body, &got); err != nil {
		t.Errorf("%s: the body sent does not decode: %v", name, err)
	}
	if err := catalog.SameRequest(got, ex.Request); err != nil {
		t.Errorf("%s: the app received %s %s: %v", name, c.method, c.path, err)
	}
	// The credential travels as the scheme says.
	for h, tmpl := range sc.Inject.Headers {
		if want := expand(tmpl, values); c.header.Get(h) != want {
			t.Errorf("%s: header %s = %q, want the injected credential", name, h, c.header.Get(h))
		}
	}
	for k, tmpl := range sc.Inject.Query {
		if want := expand(tmpl, values); c.query.Get(k) != want {
			t.Errorf("%s: query %s = %q, want the injected credential", name, k, c.query.Get(k))
		}
	}
	if bi := sc.Inject.Basic; bi != nil {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(expand(bi.Username, values)+":"+expand(bi.Password, values)))
		if c.header.Get("Authorization") != want {
			t.Errorf("%s: basic auth %q, want the injected credential", name, c.header.Get("Authorization"))
		}
	}
}

// noArgExempt are toolkits whose API has no call without an argument, so
// their connection is checked through another toolkit's tool.
var noArgExempt = map[string]string{
	"googlesheets": "every Sheets call names a spreadsheet; list them with GOOGLEDRIVE_LIST_FILES",
	"googledocs":   "every Docs call names a document; list them with GOOGLEDRIVE_LIST_FILES",
}

// TestToolsCatalogCoverage: the catalog has the tools agents need, and
// every toolkit's tools can be checked with one call.
func TestToolsCatalogCoverage(t *testing.T) {
	cat := catalog.Default()
	tools := cat.Tools()
	counts := map[string]int{}
	noArg := map[string]bool{}
	important := map[string]int{}
	for _, tool := range tools {
		counts[tool.Toolkit]++
		var schema struct {
			Required []string `json:"required"`
		}
		if err := json.Unmarshal(tool.InputParameters, &schema); err != nil {
			t.Fatal(err)
		}
		if len(schema.Required) == 0 && (tool.Request.Method == "GET" || slices.Contains(tool.Tags, "readOnlyHint")) {
			noArg[tool.Toolkit] = true
		}
		if tool.Important() {
			important[tool.Toolkit]++
		}
	}
	var missing []string
	for _, tk := range cat.Toolkits() {
		switch {
		case counts[tk.Slug] == 0:
			missing = append(missing, tk.Slug+" (no tools)")
		case counts[tk.Slug] < 5:
			missing = append(missing, fmt.Sprintf("%s (%d tools, want 5)", tk.Slug, counts[tk.Slug]))
		case !noArg[tk.Slug] && noArgExempt[tk.Slug] == "":
			missing = append(missing, tk.Slug+" (no read tool without arguments)")
		case important[tk.Slug] == 0:
			missing = append(missing, tk.Slug+" (no tool tagged important)")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("toolkits short of tools: %s", strings.Join(missing, ", "))
	}
	if counts["github"] < 40 {
		t.Errorf("github has %d tools, want at least 40", counts["github"])
	}
	if len(tools) < 250 {
		t.Errorf("the catalog has %d tools, want at least 250", len(tools))
	}
	t.Logf("%d tools over %d toolkits", len(tools), len(counts))
}

// TestUnreachableAppIsAResult: an app whose address the guard refuses is a
// result that is not successful, on execute and on the legacy proxy (which
// the legacy Node SDK could not read as a 403), and nothing is sent.
func TestUnreachableAppIsAResult(t *testing.T) {
	a := start(t, testserver.SQLite, testserver.Options{Outbound: outbound.Config{Overrides: map[string]string{"github": "http://10.1.2.3:9"}}})
	ac := a.createAuthConfig("github", "BEARER_TOKEN", nil)
	id := a.connect(ac, "u", "BEARER_TOKEN", map[string]any{"token": a.secret("ghp_SECRETVALUE_blocked_0123456789abcd")})
	r := a.post("/api/v3.1/tools/execute/GITHUB_GET_THE_AUTHENTICATED_USER", map[string]any{"user_id": "u"}).want(200)
	r.eq("successful", false)
	if !strings.Contains(r.str("error"), "refuses to connect") {
		t.Errorf("execute: error %q", r.str("error"))
	}
	p := a.post("/api/v2/actions/proxy", map[string]any{"connectedAccountId": id, "endpoint": "/user", "method": "GET"}).want(200)
	p.eq("successful", false)
	p.eq("data", map[string]any{})
}
