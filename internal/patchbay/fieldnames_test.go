package patchbay_test

import (
	"context"
	"maps"
	"net/http"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"

	shipped "github.com/patchbay-dev/patchbay/internal/catalog"
	"github.com/patchbay-dev/patchbay/internal/outbound"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// storeToolkit is a toolkit as an earlier patchbay defined it (fields shop,
// api_key and app_secret) or, when now, as it is defined today: the fields
// renamed to subdomain, generic_api_key and client_secret, each keeping
// its old name as an alias.
func storeToolkit(now bool) *patchbay.Toolkit {
	shop, key, secret := "shop", "api_key", "app_secret"
	aliases := func(string) []string { return nil }
	if now {
		shop, key, secret = "subdomain", "generic_api_key", "client_secret"
		aliases = func(old string) []string { return []string{old} }
	}
	return &patchbay.Toolkit{Slug: "store", Name: "Store", AuthSchemes: []patchbay.AuthScheme{{
		Mode: patchbay.AuthAPIKey, BaseURL: "https://{{" + shop + "}}.store.test/admin",
		Fields: []patchbay.Field{
			{Name: shop, Aliases: aliases("shop"), DisplayName: "Shop", Type: "string", Required: true, Scope: patchbay.ScopeConnection, Pattern: `^[a-z0-9-]+$`},
			{Name: key, Aliases: aliases("api_key"), DisplayName: "Access token", Type: "string", Required: true, Secret: true, Scope: patchbay.ScopeConnection},
			{Name: secret, Aliases: aliases("app_secret"), DisplayName: "App secret", Type: "string", Required: true, Secret: true, Scope: patchbay.ScopeAuthConfig},
		},
		Inject:      patchbay.Injection{Headers: map[string]string{"X-Store-Token": "{{" + key + "}}"}},
		TestRequest: &patchbay.TestRequest{Method: "GET", Path: "/shop.json"},
	}}}
}

// recordingChecker accepts every credential check and keeps the
// credentials of the last one.
type recordingChecker struct{ creds map[string]string }

func (c *recordingChecker) Check(_ context.Context, _ *patchbay.Toolkit, _ *patchbay.AuthScheme, creds map[string]string) (bool, string, error) {
	c.creds = maps.Clone(creds)
	return true, "", nil
}

// TestCredentialsStoredUnderOldNames: credentials sealed by an earlier
// patchbay, under the names the fields had then, are read under the
// current names: in the masked views, in the base URL, and in the request
// that reaches the app.
func TestCredentialsStoredUnderOldNames(t *testing.T) {
	e := MustEnv(t)
	p := e.MustProjectPrincipal(e.owner, e.project.ID)
	const token, appSecret = "store-token-0123456789abcdef", "store-app-secret-0123456789"

	then := storeToolkit(false)
	earlier := e.newService(func(cfg *patchbay.Config) { cfg.Catalog = catalog{"store": then} })
	ac, err := earlier.CreateAuthConfig(e.ctx, p, patchbay.NewAuthConfig{Toolkit: "store", Mode: patchbay.AuthAPIKey, Credentials: map[string]any{"app_secret": appSecret}})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := earlier.Connect(e.ctx, p, patchbay.NewConnection{AuthConfigID: ac.ID, UserID: "u1", Values: map[string]any{"shop": "acme", "api_key": token}})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := earlier.ConnectedAccount(e.ctx, p, ca.ID); err != nil || !maps.Equal(v.Credentials, map[string]string{"shop": "acme", "api_key": patchbay.MaskValue(token)}) {
		t.Fatalf("the earlier patchbay stored %v, %v; want shop and api_key", v, err)
	}

	now := storeToolkit(true)
	checker := &recordingChecker{}
	current := e.newService(func(cfg *patchbay.Config) { cfg.Catalog, cfg.Checker = catalog{"store": now}, checker })

	wantMasked := map[string]string{"subdomain": "acme", "generic_api_key": patchbay.MaskValue(token)}
	v, err := current.ConnectedAccount(e.ctx, p, ca.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(v.Credentials, wantMasked) || v.BaseURL != "https://acme.store.test/admin" {
		t.Errorf("connected account = credentials %v, base URL %q; want %v, https://acme.store.test/admin", v.Credentials, v.BaseURL, wantMasked)
	}
	list, _, err := current.ListConnectedAccounts(e.ctx, p, patchbay.ConnectionFilter{}, true)
	if err != nil || len(list) != 1 || !maps.Equal(list[0].Credentials, wantMasked) || list[0].BaseURL != v.BaseURL {
		t.Errorf("listed = %v, %v; want the account with credentials %v", list, err, wantMasked)
	}
	acv, err := current.AuthConfig(e.ctx, p, ac.ID)
	if err != nil || !maps.Equal(acv.Credentials, map[string]string{"client_secret": patchbay.MaskValue(appSecret)}) {
		t.Errorf("auth config = %v, %v; want client_secret masked", acv, err)
	}

	// What reaches the app: RefreshConnection hands the stored credentials
	// to the checker, which builds the request from the current templates.
	if _, err := current.RefreshConnection(e.ctx, p, ca.ID, true); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"subdomain": "acme", "generic_api_key": token}; !maps.Equal(checker.creds, want) {
		t.Fatalf("credentials checked = %v, want %v", checker.creds, want)
	}
	sc := &now.AuthSchemes[0]
	base, err := outbound.New(outbound.Config{}).BaseURL(now, sc, checker.creds)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("GET", base.String()+sc.TestRequest.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	outbound.Inject(req, sc, checker.creds)
	if got := req.URL.String(); got != "https://acme.store.test/admin/shop.json" {
		t.Errorf("request URL = %s", got)
	}
	if got := req.Header.Get("X-Store-Token"); got != token {
		t.Errorf("X-Store-Token = %q, want the stored token", got)
	}
}

// TestCanonical: a value under an alias moves to its field's name; the
// name wins over an alias and an earlier alias over a later one; keys that
// name no field stay; the input is left alone.
func TestCanonical(t *testing.T) {
	sc := &patchbay.AuthScheme{Fields: []patchbay.Field{
		{Name: "generic_api_key", Aliases: []string{"api_key", "apiKey"}},
		{Name: "subdomain", Aliases: []string{"shop"}},
	}}
	cases := []struct{ in, want map[string]string }{
		{map[string]string{"api_key": "k", "shop": "s"}, map[string]string{"generic_api_key": "k", "subdomain": "s"}},
		{map[string]string{"generic_api_key": "new", "api_key": "old"}, map[string]string{"generic_api_key": "new"}},
		{map[string]string{"apiKey": "later", "api_key": "earlier"}, map[string]string{"generic_api_key": "earlier"}},
		{map[string]string{"region": "eu", "apiKey": "k"}, map[string]string{"region": "eu", "generic_api_key": "k"}},
		{map[string]string{}, map[string]string{}},
	}
	for _, c := range cases {
		in := maps.Clone(c.in)
		if got := sc.Canonical(c.in); !maps.Equal(got, c.want) {
			t.Errorf("Canonical(%v) = %v, want %v", c.in, got, c.want)
		}
		if !maps.Equal(in, c.in) {
			t.Errorf("Canonical changed its input to %v", c.in)
		}
	}
}

// exampleOf returns a value f accepts: a fixed one when it has no pattern,
// else one built from the pattern (the first branch of alternatives, the
// fewest repetitions, letters and digits where a class allows them).
func exampleOf(t *testing.T, f *patchbay.Field) string {
	t.Helper()
	if f.Pattern == "" {
		return "sample-value-0123"
	}
	re, err := syntax.Parse(f.Pattern, syntax.Perl)
	if err != nil {
		t.Fatalf("field %s: pattern %q: %v", f.Name, f.Pattern, err)
	}
	var b strings.Builder
	writeExample(&b, re.Simplify())
	if v := b.String(); f.Valid(v) {
		return v
	}
	t.Fatalf("field %s: made %q from pattern %q, which does not match it", f.Name, b.String(), f.Pattern)
	return ""
}

func writeExample(b *strings.Builder, re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		b.WriteRune(classExample(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('a')
	case syntax.OpCapture, syntax.OpPlus, syntax.OpAlternate:
		writeExample(b, re.Sub[0])
	case syntax.OpRepeat:
		for range re.Min {
			writeExample(b, re.Sub[0])
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			writeExample(b, sub)
		}
	} // empty, anchors, star and quest write nothing
}

// classExample picks a, 0 or A if the class (pairs of rune ranges) holds
// one, else its first printable ASCII character, else its first rune.
func classExample(ranges []rune) rune {
	in := func(r rune) bool {
		for i := 0; i+1 < len(ranges); i += 2 {
			if ranges[i] <= r && r <= ranges[i+1] {
				return true
			}
		}
		return false
	}
	for _, r := range "a0A" + "!\"#$%&'()*+,-./:;<=>?@[]^_`{|}~" {
		if in(r) {
			return r
		}
	}
	return ranges[0]
}

// TestCatalogAliases: every alias of every shipped toolkit is accepted on
// input, by the field check connections and auth configs go through, and
// its value is answered under the field's current name, as it is stored.
// The aliases promised to code written against Composio's older names
// must stay in the catalog.
func TestCatalogAliases(t *testing.T) {
	promised := []struct {
		toolkit string
		mode    patchbay.AuthMode
		alias   string
		field   string // the current name
	}{
		{"airtable", patchbay.AuthAPIKey, "token", "generic_api_key"},
		{"brevo", patchbay.AuthAPIKey, "api_key", "generic_api_key"},
		{"exa", patchbay.AuthAPIKey, "api_key", "generic_api_key"},
		{"firecrawl", patchbay.AuthAPIKey, "api_key", "generic_api_key"},
		{"hubspot", patchbay.AuthAPIKey, "token", "generic_api_key"},
		{"jira", patchbay.AuthAPIKey, "username", "generic_id"},
		{"jira", patchbay.AuthAPIKey, "password", "generic_api_key"},
		{"linear", patchbay.AuthAPIKey, "api_key", "generic_api_key"},
		{"mailchimp", patchbay.AuthAPIKey, "dc", "subdomain"},
		{"mailchimp", patchbay.AuthAPIKey, "api_key", "generic_api_key"},
		{"notion", patchbay.AuthAPIKey, "api_key", "generic_api_key"},
		{"pipedrive", patchbay.AuthAPIKey, "api_key", "generic_api_key"},
		{"sendgrid", patchbay.AuthAPIKey, "apiKey", "generic_api_key"},
		{"sendgrid", patchbay.AuthAPIKey, "api_key", "generic_api_key"},
		{"serpapi", patchbay.AuthAPIKey, "api_key", "generic_api_key"},
		{"serpapi", patchbay.AuthAPIKey, "apikey", "generic_api_key"},
		{"shopify", patchbay.AuthAPIKey, "shop", "subdomain"},
		{"shopify", patchbay.AuthAPIKey, "api_key", "generic_api_key"},
		{"shopify", patchbay.AuthAPIKey, "admin_api_access_token", "generic_api_key"},
		{"stripe", patchbay.AuthAPIKey, "api_key", "generic_api_key"},
		{"tavily", patchbay.AuthAPIKey, "api_key", "generic_api_key"},
	}
	cat := shipped.Default()
	for _, p := range promised {
		f, ok := (*patchbay.Field)(nil), false
		if tk, found := cat.Toolkit(p.toolkit); found {
			if sc, found := tk.Scheme(p.mode); found {
				f, ok = sc.Field(p.alias)
			}
		}
		if !ok || f.Name != p.field || !slices.Contains(f.Aliases, p.alias) {
			t.Errorf("%q is not an alias of %s's %s field %s (found %v)", p.alias, p.toolkit, p.mode, p.field, f)
		}
	}
	for _, tk := range cat.Toolkits() {
		for i := range tk.AuthSchemes {
			sc := &tk.AuthSchemes[i]
			for j := range sc.Fields {
				f := &sc.Fields[j]
				for _, alias := range f.Aliases {
					t.Run(tk.Slug+"/"+string(sc.Mode)+"/"+alias, func(t *testing.T) { checkAlias(t, tk, sc, f, alias) })
				}
			}
		}
	}
}

// checkAlias gives f's value under alias, every other required field of
// its scope under its current name, and wants all of them back under
// their current names; a value stored under alias is shown under f's.
func checkAlias(t *testing.T, tk *patchbay.Toolkit, sc *patchbay.AuthScheme, f *patchbay.Field, alias string) {
	values := map[string]any{}
	want := map[string]string{}
	for _, other := range sc.FieldsFor(f.Scope) {
		switch {
		case other.Required || other.Name == f.Name:
			v := exampleOf(t, &other)
			values[other.Name], want[other.Name] = v, v
		case other.Default != nil && *other.Default != "":
			want[other.Name] = *other.Default
		}
	}
	delete(values, f.Name)
	values[alias] = want[f.Name]

	got, err := patchbay.CheckFields(tk, sc, f.Scope, values)
	if err != nil {
		t.Fatalf("CheckFields(%v) = %v", values, err)
	}
	if !maps.Equal(got, want) {
		t.Errorf("CheckFields(%v) = %v, want %v (under the current names)", values, got, want)
	}
	masked := patchbay.MaskCredentials(sc, sc.Canonical(map[string]string{alias: want[f.Name]}))
	if _, ok := masked[f.Name]; !ok || len(masked) != 1 {
		t.Errorf("a value stored under %q is answered as %v, want it under %q", alias, masked, f.Name)
	}
}
