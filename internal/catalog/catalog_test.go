package catalog

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// MustLoad loads the embedded catalog or fails the test.
func MustLoad(tb testing.TB) *Catalog {
	tb.Helper()
	c, err := Load()
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return c
}

func TestLoad(t *testing.T) {
	c := MustLoad(t)
	tks := c.Toolkits()
	if len(tks) < 26 {
		t.Errorf("got %d toolkits, want at least 26", len(tks))
	}
	if !slices.IsSortedFunc(tks, func(a, b *patchbay.Toolkit) int { return strings.Compare(a.Slug, b.Slug) }) {
		t.Error("Toolkits() is not ordered by slug")
	}
	for _, tk := range tks {
		got, ok := c.Toolkit(strings.ToUpper(tk.Slug))
		if !ok || got != tk {
			t.Errorf("Toolkit(%q) = %v, %v; want the %s toolkit", strings.ToUpper(tk.Slug), got, ok, tk.Slug)
		}
	}
	if got, ok := c.Toolkit("GitHub"); !ok || got.Slug != "github" {
		t.Errorf(`Toolkit("GitHub") = %v, %v; want github`, got, ok)
	}
	if _, ok := c.Toolkit("no_such_app"); ok {
		t.Error(`Toolkit("no_such_app") found something`)
	}
	if !slices.ContainsFunc(tks, (*patchbay.Toolkit).NoAuth) {
		t.Error("no NO_AUTH toolkit in the catalog")
	}
}

func TestCategories(t *testing.T) {
	c := MustLoad(t)
	cats := c.Categories()
	if !slices.IsSortedFunc(cats, func(a, b patchbay.Category) int { return strings.Compare(a.Slug, b.Slug) }) {
		t.Errorf("Categories() is not ordered by slug: %v", cats)
	}
	if len(slices.CompactFunc(slices.Clone(cats), func(a, b patchbay.Category) bool { return a.Slug == b.Slug })) != len(cats) {
		t.Errorf("Categories() has duplicates: %v", cats)
	}
	used := map[patchbay.Category]bool{}
	for _, tk := range c.Toolkits() {
		for _, cat := range tk.Categories {
			used[cat] = true
			if !slices.Contains(cats, cat) {
				t.Errorf("%s's category %v is missing from Categories()", tk.Slug, cat)
			}
		}
	}
	for _, cat := range cats {
		if !used[cat] {
			t.Errorf("category %v belongs to no toolkit", cat)
		}
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	c := MustLoad(t)
	c.Toolkits()[0] = nil
	c.Categories()[0] = patchbay.Category{}
	if c.Toolkits()[0] == nil || c.Categories()[0].Slug == "" {
		t.Error("changing a returned slice changed the catalog")
	}
}

func TestDefault(t *testing.T) {
	if Default() != Default() {
		t.Error("Default() loads the catalog more than once")
	}
	if _, ok := Default().Toolkit("serpapi"); !ok {
		t.Error("Default() has no serpapi")
	}
}

// TestShippedToolkits pins the auth schemes and connection fields of the
// toolkits patchbay promises, named as Composio names them.
func TestShippedToolkits(t *testing.T) {
	type schemeWant struct {
		mode   patchbay.AuthMode
		fields []string // required connection-scope fields, in order
	}
	var (
		oauth2 = schemeWant{patchbay.AuthOAuth2, nil}
		apiKey = func(f ...string) schemeWant { return schemeWant{patchbay.AuthAPIKey, f} }
		bearer = schemeWant{patchbay.AuthBearerToken, []string{"token"}}
		basic  = func(f ...string) schemeWant { return schemeWant{patchbay.AuthBasic, f} }
	)
	want := map[string][]schemeWant{
		"airtable":   {apiKey("generic_api_key"), bearer},
		"anthropic":  {apiKey("api_key")},
		"asana":      {oauth2, bearer},
		"brevo":      {apiKey("generic_api_key")},
		"discord":    {oauth2},
		"exa":        {apiKey("generic_api_key")},
		"firecrawl":  {apiKey("generic_api_key")},
		"github":     {oauth2, bearer},
		"hackernews": {{patchbay.AuthNoAuth, nil}},
		"hubspot":    {oauth2, apiKey("generic_api_key"), bearer},
		"jira":       {apiKey("subdomain", "generic_id", "generic_api_key"), basic("subdomain", "username", "password")},
		"linear":     {oauth2, apiKey("generic_api_key")},
		"mailchimp":  {apiKey("subdomain", "generic_api_key")},
		"notion":     {oauth2, apiKey("generic_api_key")},
		"openai":     {apiKey("api_key")},
		"pipedrive":  {apiKey("generic_api_key")},
		"sendgrid":   {apiKey("generic_api_key")},
		"serpapi":    {apiKey("generic_api_key")},
		"shopify":    {apiKey("subdomain", "generic_api_key")},
		"slack":      {oauth2, bearer},
		"stripe":     {apiKey("generic_api_key"), oauth2},
		"tavily":     {apiKey("generic_api_key")},
		"telegram":   {apiKey("api_key")},
		"trello":     {apiKey("api_key", "token")},
		"twilio":     {basic("username", "password")},
		"zendesk":    {apiKey("subdomain", "basic_encoded")},
	}
	c := MustLoad(t)
	for slug, schemes := range want {
		tk, ok := c.Toolkit(slug)
		if !ok {
			t.Errorf("toolkit %s is missing", slug)
			continue
		}
		var got []schemeWant
		for _, s := range tk.AuthSchemes {
			sw := schemeWant{mode: s.Mode}
			for _, f := range s.FieldsFor(patchbay.ScopeConnection) {
				if f.Required {
					sw.fields = append(sw.fields, f.Name)
				}
			}
			got = append(got, sw)
		}
		if !slices.EqualFunc(got, schemes, func(a, b schemeWant) bool { return a.mode == b.mode && slices.Equal(a.fields, b.fields) }) {
			t.Errorf("%s: schemes and required connection fields = %v, want %v", slug, got, schemes)
		}
		if want := "https://logos.composio.dev/api/" + slug; tk.Logo != want {
			t.Errorf("%s: logo = %q, want %q", slug, tk.Logo, want)
		}
	}
}

// TestBaseURLsAndTests spot-checks where credentials go and how they are
// checked, for the toolkits the brief names.
func TestBaseURLsAndTests(t *testing.T) {
	cases := []struct {
		slug     string
		mode     patchbay.AuthMode
		baseURL  string
		testPath string
	}{
		{"openai", patchbay.AuthAPIKey, "https://api.openai.com/v1", "/models"},
		{"anthropic", patchbay.AuthAPIKey, "https://api.anthropic.com/v1", "/models"},
		{"stripe", patchbay.AuthAPIKey, "https://api.stripe.com/v1", "/balance"},
		{"github", patchbay.AuthBearerToken, "https://api.github.com", "/user"},
		{"serpapi", patchbay.AuthAPIKey, "https://serpapi.com", "/account"},
		{"shopify", patchbay.AuthAPIKey, "https://{{subdomain}}.myshopify.com/admin/api/2024-10", "/shop.json"},
		{"zendesk", patchbay.AuthAPIKey, "https://{{subdomain}}.zendesk.com/api/v2", "/users/me.json"},
		{"jira", patchbay.AuthAPIKey, "https://{{subdomain}}.atlassian.net", "/rest/api/3/myself"},
		{"jira", patchbay.AuthBasic, "https://{{subdomain}}.atlassian.net", "/rest/api/3/myself"},
		{"mailchimp", patchbay.AuthAPIKey, "https://{{subdomain}}.api.mailchimp.com/3.0", "/ping"},
		{"telegram", patchbay.AuthAPIKey, "https://api.telegram.org", "/getMe"},
	}
	c := MustLoad(t)
	for _, tc := range cases {
		tk, _ := c.Toolkit(tc.slug)
		s, ok := tk.Scheme(tc.mode)
		if !ok {
			t.Errorf("%s has no %s scheme", tc.slug, tc.mode)
			continue
		}
		if s.BaseURL != tc.baseURL {
			t.Errorf("%s %s: base_url = %q, want %q", tc.slug, tc.mode, s.BaseURL, tc.baseURL)
		}
		if s.TestRequest == nil || s.TestRequest.Method != "GET" || s.TestRequest.Path != tc.testPath {
			t.Errorf("%s %s: test_request = %+v, want GET %s", tc.slug, tc.mode, s.TestRequest, tc.testPath)
		}
	}

	anthropic, _ := c.Toolkit("anthropic")
	if h := anthropic.AuthSchemes[0].Inject.Headers; h["x-api-key"] != "{{api_key}}" || h["anthropic-version"] != "2023-06-01" {
		t.Errorf("anthropic injects %v", h)
	}
	serpapi, _ := c.Toolkit("serpapi")
	if q := serpapi.AuthSchemes[0].Inject.Query; q["api_key"] != "{{generic_api_key}}" {
		t.Errorf("serpapi injects query %v", q)
	}
	for _, basic := range []struct {
		slug               string
		mode               patchbay.AuthMode
		username, password string
	}{
		{"jira", patchbay.AuthAPIKey, "{{generic_id}}", "{{generic_api_key}}"},
		{"jira", patchbay.AuthBasic, "{{username}}", "{{password}}"},
		{"twilio", patchbay.AuthBasic, "{{username}}", "{{password}}"},
	} {
		tk, _ := c.Toolkit(basic.slug)
		s, _ := tk.Scheme(basic.mode)
		if b := s.Inject.Basic; b == nil || b.Username != basic.username || b.Password != basic.password {
			t.Errorf("%s %s injects basic %+v, want %s:%s", basic.slug, basic.mode, b, basic.username, basic.password)
		}
	}
	shopify, _ := c.Toolkit("shopify")
	if h := shopify.AuthSchemes[0].Inject.Headers; h["X-Shopify-Access-Token"] != "{{generic_api_key}}" {
		t.Errorf("shopify injects %v", h)
	}
	for _, slug := range []string{"github", "slack"} {
		tk, _ := c.Toolkit(slug)
		s, _ := tk.Scheme(patchbay.AuthOAuth2)
		if s.OAuth2 == nil || len(s.OAuth2.DefaultScopes) == 0 {
			t.Errorf("%s: OAUTH2 scheme has no provider or default scopes", slug)
		}
	}
}

// TestShopValuesStayOnShopify shows what the base_url rule buys: a shop
// name that tries to point elsewhere does not pass the field's pattern.
func TestShopValuesStayOnShopify(t *testing.T) {
	tk, _ := MustLoad(t).Toolkit("shopify")
	shop, _ := tk.AuthSchemes[0].Field("subdomain")
	for _, v := range []string{"acme", "acme-store-2"} {
		if !shop.Valid(v) {
			t.Errorf("shop %q rejected", v)
		}
	}
	for _, v := range []string{"evil.example/x?", "evil.example#", "user@evil.example", "evil.example:443/", "acme.evil", ""} {
		if shop.Valid(v) {
			t.Errorf("shop %q accepted; it would send the token to %s", v,
				patchbay.Expand(tk.AuthSchemes[0].BaseURL, map[string]string{"subdomain": v}))
		}
	}
}

const goodFile = `{
  "slug": "acme", "name": "Acme", "description": "Acme makes everything.",
  "logo": "https://logos.composio.dev/api/acme", "app_url": "https://acme.example",
  "categories": [{"slug": "developer-tools", "name": "Developer Tools"}],
  "auth_schemes": [{"mode": "NO_AUTH", "name": "acme_no_auth", "base_url": "https://api.acme.example", "fields": [], "inject": {}}]
}`

func TestLoadFSRejects(t *testing.T) {
	renamed := func(slug, category string) string {
		s := strings.ReplaceAll(goodFile, "acme", slug)
		return strings.Replace(s, `"name": "Developer Tools"`, `"name": "`+category+`"`, 1)
	}
	cases := []struct {
		name  string
		files fstest.MapFS
		want  []string
	}{
		{"file not named after slug", fstest.MapFS{"acme2.json": {Data: []byte(goodFile)}},
			[]string{`acme2.json: toolkit "acme" must be in a file named acme.json`}},
		{"duplicate slug", fstest.MapFS{"acme.json": {Data: []byte(goodFile)}, "ACME.json": {Data: []byte(goodFile)}},
			[]string{`toolkit "acme" is defined more than once`}},
		{"unknown key", fstest.MapFS{"acme.json": {Data: []byte(strings.Replace(goodFile, `"name": "Acme"`, `"name": "Acme", "colour": "red"`, 1))}},
			[]string{`acme.json: decode: json: unknown field "colour"`}},
		{"trailing data", fstest.MapFS{"acme.json": {Data: []byte(goodFile + "{}")}},
			[]string{`acme.json: decode: unexpected data after the toolkit object`}},
		{"not JSON", fstest.MapFS{"acme.json": {Data: []byte("slug: acme")}},
			[]string{`acme.json: decode:`}},
		{"not a toolkit file", fstest.MapFS{"acme.json": {Data: []byte(goodFile)}, "README.md": {Data: []byte("hi")}},
			[]string{`README.md: not a toolkit file`}},
		{"invalid toolkit", fstest.MapFS{"acme.json": {Data: []byte(strings.Replace(goodFile, `"https://api.acme.example"`, `"http://api.acme.example"`, 1))}},
			[]string{`toolkit "acme": NO_AUTH scheme: base_url "http://api.acme.example" must be an absolute https URL`}},
		{"category named two ways", fstest.MapFS{"acme.json": {Data: []byte(goodFile)}, "beta.json": {Data: []byte(renamed("beta", "Dev Tools"))}},
			[]string{`toolkit "beta": category "developer-tools" is named "Dev Tools", but toolkit "acme" names it "Developer Tools"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadFS(c.files)
			if err == nil {
				t.Fatalf("loadFS = nil error, want %q", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadFSAccepts(t *testing.T) {
	c, err := loadFS(fstest.MapFS{"acme.json": {Data: []byte(goodFile)}})
	if err != nil {
		t.Fatal(err)
	}
	if tk, ok := c.Toolkit("acme"); !ok || !tk.NoAuth() {
		t.Errorf("Toolkit(acme) = %v, %v", tk, ok)
	}
}
