package catalog

import (
	"slices"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func field(name string, scope patchbay.FieldScope, secret bool, pattern string) patchbay.Field {
	return patchbay.Field{Name: name, DisplayName: name, Type: "string", Description: "The " + name + ".",
		Required: true, Secret: secret, Scope: scope, Pattern: pattern}
}

func apiKeyScheme() patchbay.AuthScheme {
	return patchbay.AuthScheme{
		Mode: patchbay.AuthAPIKey, Name: "acme_api_key",
		BaseURL: "https://{{subdomain}}.acme.example/api/v1",
		Fields: []patchbay.Field{
			field("subdomain", patchbay.ScopeConnection, false, hostLabelExample),
			field("api_key", patchbay.ScopeConnection, true, ""),
		},
		Inject:      patchbay.Injection{Headers: map[string]string{"Authorization": "Bearer {{api_key}}"}},
		TestRequest: &patchbay.TestRequest{Method: "GET", Path: "/me"},
	}
}

func oauth2Scheme() patchbay.AuthScheme {
	token := field("access_token", patchbay.ScopeConnection, true, "")
	token.Required = false
	return patchbay.AuthScheme{
		Mode: patchbay.AuthOAuth2, Name: "acme_oauth2",
		BaseURL: "https://api.acme.example/v1",
		Fields: []patchbay.Field{
			field("client_id", patchbay.ScopeAuthConfig, false, ""),
			field("client_secret", patchbay.ScopeAuthConfig, true, ""),
			token,
		},
		Inject: patchbay.Injection{Headers: map[string]string{"Authorization": "Bearer {{access_token}}"}},
		OAuth2: &patchbay.OAuth2Provider{
			AuthorizationURL: "https://acme.example/oauth/authorize",
			TokenURL:         "https://acme.example/oauth/token",
			DefaultScopes:    []string{"read", "write"},
		},
	}
}

func basicScheme() patchbay.AuthScheme {
	return patchbay.AuthScheme{
		Mode: patchbay.AuthBasic, Name: "acme_basic",
		BaseURL: "https://api.acme.example",
		Fields: []patchbay.Field{
			field("username", patchbay.ScopeConnection, false, ""),
			field("password", patchbay.ScopeConnection, true, ""),
		},
		Inject: patchbay.Injection{Basic: &patchbay.BasicInjection{Username: "{{username}}", Password: "{{password}}"}},
	}
}

func pathScheme() patchbay.AuthScheme {
	return patchbay.AuthScheme{
		Mode: patchbay.AuthBearerToken, Name: "acme_bearer_token",
		BaseURL: "https://bots.acme.example",
		Fields:  []patchbay.Field{field("token", patchbay.ScopeConnection, true, `^[0-9]+:[A-Za-z0-9_-]+$`)},
		Inject:  patchbay.Injection{PathPrefix: "/bot{{token}}"},
	}
}

func noAuthScheme() patchbay.AuthScheme {
	return patchbay.AuthScheme{Mode: patchbay.AuthNoAuth, Name: "acme_no_auth", BaseURL: "https://news.acme.example/v0"}
}

// validToolkit is a toolkit that passes Validate; each case breaks it.
func validToolkit() *patchbay.Toolkit {
	return &patchbay.Toolkit{
		Slug: "acme", Name: "Acme", Description: "Acme makes everything.",
		Logo: "https://logos.composio.dev/api/acme", AppURL: "https://acme.example",
		Categories:             []patchbay.Category{{Slug: "developer-tools", Name: "Developer Tools"}},
		GetCurrentUserEndpoint: "/me",
		AuthSchemes:            []patchbay.AuthScheme{oauth2Scheme(), apiKeyScheme(), basicScheme(), pathScheme()},
	}
}

// scheme returns the toolkit's scheme of the given mode.
func scheme(t *patchbay.Toolkit, mode patchbay.AuthMode) *patchbay.AuthScheme {
	s, ok := t.Scheme(mode)
	if !ok {
		panic("no " + string(mode) + " scheme")
	}
	return s
}

func fieldOf(t *patchbay.Toolkit, mode patchbay.AuthMode, name string) *patchbay.Field {
	f, ok := scheme(t, mode).Field(name)
	if !ok {
		panic("no field " + name)
	}
	return f
}

func only(s patchbay.AuthScheme) func(*patchbay.Toolkit) {
	return func(t *patchbay.Toolkit) { t.AuthSchemes = []patchbay.AuthScheme{s} }
}

func TestValidateAccepts(t *testing.T) {
	for name, tk := range map[string]*patchbay.Toolkit{
		"every scheme kind": validToolkit(),
		"no auth": func() *patchbay.Toolkit {
			tk := validToolkit()
			only(noAuthScheme())(tk)
			return tk
		}(),
	} {
		if err := Validate(tk); err != nil {
			t.Errorf("%s: Validate = %v, want nil", name, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	api, oauth, basic := patchbay.AuthAPIKey, patchbay.AuthOAuth2, patchbay.AuthBasic
	cases := []struct {
		name   string
		mutate func(*patchbay.Toolkit)
		want   string
	}{
		// Toolkit.
		{"slug with capitals", func(t *patchbay.Toolkit) { t.Slug = "Acme" }, `slug must match`},
		{"empty name", func(t *patchbay.Toolkit) { t.Name = " " }, `name is empty`},
		{"http logo", func(t *patchbay.Toolkit) { t.Logo = "http://acme.example/logo.png" }, `logo "http://acme.example/logo.png" must be an absolute https URL`},
		{"no categories", func(t *patchbay.Toolkit) { t.Categories = nil }, `has no categories`},
		{"bad category slug", func(t *patchbay.Toolkit) { t.Categories[0].Slug = "Dev Tools" }, `category slug "Dev Tools" must match`},
		{"current user endpoint not a path", func(t *patchbay.Toolkit) { t.GetCurrentUserEndpoint = "https://evil.example/me" }, `get_current_user_endpoint "https://evil.example/me" must be a path`},
		{"no schemes", func(t *patchbay.Toolkit) { t.AuthSchemes = nil }, `has no auth schemes`},
		{"duplicate mode", func(t *patchbay.Toolkit) {
			s := apiKeyScheme()
			s.Name = "acme_api_key_2"
			t.AuthSchemes = append(t.AuthSchemes, s)
		}, `has more than one API_KEY scheme`},
		{"duplicate scheme name", func(t *patchbay.Toolkit) { scheme(t, basic).Name = "acme_api_key" }, `scheme name "acme_api_key" is used twice`},
		{"no auth mixed with others", func(t *patchbay.Toolkit) { t.AuthSchemes = append(t.AuthSchemes, noAuthScheme()) }, `NO_AUTH scheme cannot be combined`},
		{"unsupported mode", func(t *patchbay.Toolkit) { scheme(t, basic).Mode = "OAUTH1" }, `OAUTH1 scheme: mode OAUTH1 is not supported by patchbay`},
		{"unknown mode", func(t *patchbay.Toolkit) { scheme(t, basic).Mode = "MAGIC" }, `unknown mode "MAGIC"`},

		// Fields.
		{"duplicate field", func(t *patchbay.Toolkit) {
			s := scheme(t, basic)
			s.Fields = append(s.Fields, s.Fields[0])
		}, `BASIC scheme: field "username" is defined twice`},
		{"field name with space", func(t *patchbay.Toolkit) { fieldOf(t, basic, "username").Name = "user name" }, `field name "user name" must match`},
		{"unknown field type", func(t *patchbay.Toolkit) { fieldOf(t, basic, "username").Type = "int" }, `field "username" has type "int"`},
		{"unknown scope", func(t *patchbay.Toolkit) { fieldOf(t, basic, "username").Scope = "user" }, `field "username" has scope "user"`},
		{"invalid pattern", func(t *patchbay.Toolkit) { fieldOf(t, basic, "username").Pattern = "[a-z" }, `field "username" has an invalid pattern`},
		{"default outside pattern", func(t *patchbay.Toolkit) {
			f := fieldOf(t, basic, "username")
			f.Pattern, f.Default = "^[a-z]+$", new(string)
			*f.Default = "Bob"
		}, `field "username": default "Bob" does not match its pattern`},
		{"alias with space", func(t *patchbay.Toolkit) { fieldOf(t, basic, "username").Aliases = []string{"user name"} }, `field "username": alias "user name" must match`},
		{"alias names a field", func(t *patchbay.Toolkit) { fieldOf(t, basic, "username").Aliases = []string{"password"} }, `field "username": alias "password" is the name of a field`},
		{"alias of two fields", func(t *patchbay.Toolkit) {
			fieldOf(t, basic, "username").Aliases = []string{"login"}
			fieldOf(t, basic, "password").Aliases = []string{"secret", "login"}
		}, `field "password": alias "login" is already an alias of field "username"`},

		// base_url.
		{"http base url", func(t *patchbay.Toolkit) { scheme(t, basic).BaseURL = "http://api.acme.example" }, `BASIC scheme: base_url "http://api.acme.example" must be an absolute https URL`},
		{"base url with query", func(t *patchbay.Toolkit) { scheme(t, basic).BaseURL = "https://api.acme.example?v=1" }, `base_url "https://api.acme.example?v=1" must not have a query`},
		{"base url with user info", func(t *patchbay.Toolkit) { scheme(t, basic).BaseURL = "https://me@api.acme.example" }, `must not hold user info`},
		{"base url trailing slash", func(t *patchbay.Toolkit) { scheme(t, basic).BaseURL = "https://api.acme.example/" }, `must not end with '/'`},
		{"base url unknown placeholder", func(t *patchbay.Toolkit) { scheme(t, api).BaseURL = "https://{{region}}.acme.example" }, `API_KEY scheme: base_url uses {{region}}, which is not a field of this scheme`},
		{"base url malformed placeholder", func(t *patchbay.Toolkit) { scheme(t, api).BaseURL = "https://{{sub domain}}.acme.example" }, `base_url "https://{{sub domain}}.acme.example" has a malformed placeholder`},
		{"base url field without pattern", func(t *patchbay.Toolkit) { fieldOf(t, api, "subdomain").Pattern = "" }, `field "subdomain" is used in base_url but has no pattern`},
		{"base url field admits dot", func(t *patchbay.Toolkit) { fieldOf(t, api, "subdomain").Pattern = `^[a-z.]+$` }, `field "subdomain" is used in base_url but its pattern "^[a-z.]+$" admits '.'`},
		{"base url field admits slash", func(t *patchbay.Toolkit) { fieldOf(t, api, "subdomain").Pattern = `.+` }, `its pattern ".+" admits '/'`},
		{"base url field admits at", func(t *patchbay.Toolkit) { fieldOf(t, api, "subdomain").Pattern = `[a-z@]+` }, `admits '@'`},
		{"base url field admits colon", func(t *patchbay.Toolkit) { fieldOf(t, api, "subdomain").Pattern = `[a-z0-9:]+` }, `admits ':'`},
		{"base url field admits question mark", func(t *patchbay.Toolkit) { fieldOf(t, api, "subdomain").Pattern = `[a-z]+\??` }, `admits '?'`},
		{"base url field admits hash", func(t *patchbay.Toolkit) { fieldOf(t, api, "subdomain").Pattern = `[a-z#]+` }, `admits '#'`},
		{"base url field admits all but slash", func(t *patchbay.Toolkit) { fieldOf(t, api, "subdomain").Pattern = `[^/]+` }, `admits '@'`},
		{"base url field admits empty", func(t *patchbay.Toolkit) { fieldOf(t, api, "subdomain").Pattern = `[a-z]*` }, `admits the empty value`},
		{"base url field optional", func(t *patchbay.Toolkit) { fieldOf(t, api, "subdomain").Required = false }, `field "subdomain" is used in base_url, so it must be required`},
		{"secret in base url", func(t *patchbay.Toolkit) { scheme(t, api).BaseURL = "https://api.acme.example/{{api_key}}" }, `secret field "api_key" must not appear in base_url`},

		// inject.
		{"inject unknown placeholder", func(t *patchbay.Toolkit) {
			scheme(t, api).Inject.Headers["Authorization"] = "Bearer {{apikey}}"
		}, `API_KEY scheme: inject header "Authorization" uses {{apikey}}, which is not a field of this scheme`},
		{"inject names an alias", func(t *patchbay.Toolkit) {
			fieldOf(t, api, "api_key").Aliases = []string{"key"}
			scheme(t, api).Inject.Headers["Authorization"] = "Bearer {{key}}"
		}, `inject header "Authorization" uses {{key}}, which is not a field of this scheme`},
		{"inject malformed placeholder", func(t *patchbay.Toolkit) {
			scheme(t, api).Inject.Headers["Authorization"] = "Bearer {{api_key"
		}, `inject header "Authorization" "Bearer {{api_key" has a malformed placeholder`},
		{"inject host header", func(t *patchbay.Toolkit) { scheme(t, api).Inject.Headers["Host"] = "evil.example" }, `inject header "Host" cannot be injected`},
		{"inject bad header name", func(t *patchbay.Toolkit) { scheme(t, api).Inject.Headers["X Key"] = "{{api_key}}" }, `inject header "X Key" is not a valid header name`},
		{"inject line break", func(t *patchbay.Toolkit) {
			scheme(t, api).Inject.Headers["X-Extra"] = "a\r\nEvil: yes"
		}, `holds a line break`},
		{"secret never injected", func(t *patchbay.Toolkit) {
			s := scheme(t, api)
			s.Fields = append(s.Fields, field("api_secret", patchbay.ScopeConnection, true, ""))
		}, `API_KEY scheme: secret field "api_secret" is never used in inject`},
		{"no secret injected", func(t *patchbay.Toolkit) {
			scheme(t, api).Inject.Headers = map[string]string{"X-Subdomain": "{{subdomain}}"}
		}, `inject uses no secret field`},
		{"path prefix unknown placeholder", func(t *patchbay.Toolkit) {
			scheme(t, patchbay.AuthBearerToken).Inject.PathPrefix = "/bot{{tok}}"
		}, `inject.path_prefix uses {{tok}}, which is not a field of this scheme`},
		{"path prefix field admits slash", func(t *patchbay.Toolkit) {
			fieldOf(t, patchbay.AuthBearerToken, "token").Pattern = `[0-9]+:.+`
		}, `field "token" is used in inject.path_prefix but its pattern "[0-9]+:.+" admits '/'`},
		{"path prefix field admits dot", func(t *patchbay.Toolkit) {
			fieldOf(t, patchbay.AuthBearerToken, "token").Pattern = `[0-9.]+`
		}, `admits '.'`},
		{"path prefix with trailing slash", func(t *patchbay.Toolkit) {
			scheme(t, patchbay.AuthBearerToken).Inject.PathPrefix = "/bot{{token}}/"
		}, `inject.path_prefix "/bot{{token}}/" must start with '/', not end with '/'`},

		// test_request.
		{"test request POST", func(t *patchbay.Toolkit) { scheme(t, api).TestRequest.Method = "POST" }, `test_request method "POST" must be GET or HEAD`},
		{"test request absolute", func(t *patchbay.Toolkit) { scheme(t, api).TestRequest.Path = "//evil.example/me" }, `test_request path "//evil.example/me" must be a path`},

		// Per mode.
		{"api key without required connection field", func(t *patchbay.Toolkit) {
			s := scheme(t, api)
			s.BaseURL = "https://api.acme.example"
			s.Fields = []patchbay.Field{field("api_key", patchbay.ScopeAuthConfig, true, "")}
		}, `API_KEY scheme: needs at least one required connection-scope field`},
		{"basic without basic inject", func(t *patchbay.Toolkit) {
			scheme(t, basic).Inject = patchbay.Injection{Headers: map[string]string{"X-Password": "{{password}}"}}
		}, `BASIC scheme: must inject HTTP basic auth (inject.basic)`},
		{"oauth2 block on api key", func(t *patchbay.Toolkit) { scheme(t, api).OAuth2 = oauth2Scheme().OAuth2 }, `API_KEY scheme: has an oauth2 block`},
		{"oauth2 without block", func(t *patchbay.Toolkit) { scheme(t, oauth).OAuth2 = nil }, `OAUTH2 scheme: needs an oauth2 block`},
		{"oauth2 http token url", func(t *patchbay.Toolkit) { scheme(t, oauth).OAuth2.TokenURL = "http://acme.example/token" }, `OAUTH2 scheme: oauth2.token_url "http://acme.example/token" must be an absolute https URL`},
		{"oauth2 templated authorization url", func(t *patchbay.Toolkit) {
			scheme(t, oauth).OAuth2.AuthorizationURL = "https://{{access_token}}.acme.example/authorize"
		}, `oauth2.authorization_url "https://{{access_token}}.acme.example/authorize" must be a fixed URL`},
		{"oauth2 bad separator", func(t *patchbay.Toolkit) { scheme(t, oauth).OAuth2.ScopeSeparator = ";" }, `oauth2.scope_separator ";"`},
		{"oauth2 scope with space", func(t *patchbay.Toolkit) { scheme(t, oauth).OAuth2.DefaultScopes = []string{"read write"} }, `oauth2.default_scopes entry "read write"`},
		{"oauth2 without client secret", func(t *patchbay.Toolkit) {
			s := scheme(t, oauth)
			s.Fields = slices.DeleteFunc(s.Fields, func(f patchbay.Field) bool { return f.Name == "client_secret" })
		}, `OAUTH2 scheme: needs an auth_config-scope field "client_secret"`},
		{"oauth2 client id from the end user", func(t *patchbay.Toolkit) { fieldOf(t, oauth, "client_id").Scope = patchbay.ScopeConnection }, `field "client_id" must have scope "auth_config"`},
		{"oauth2 client secret not secret", func(t *patchbay.Toolkit) { fieldOf(t, oauth, "client_secret").Secret = false }, `field "client_secret" must be secret`},
		{"oauth2 required connection field", func(t *patchbay.Toolkit) { fieldOf(t, oauth, "access_token").Required = true }, `OAUTH2 scheme: field "access_token" is a required connection-scope field`},
		{"no auth with fields", func(t *patchbay.Toolkit) {
			s := noAuthScheme()
			s.Fields = []patchbay.Field{field("api_key", patchbay.ScopeConnection, false, "")}
			only(s)(t)
		}, `NO_AUTH scheme: must have no fields`},
		{"no auth injecting", func(t *patchbay.Toolkit) {
			s := noAuthScheme()
			s.Inject.Headers = map[string]string{"User-Agent": "patchbay"}
			only(s)(t)
		}, `NO_AUTH scheme: must inject nothing`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk := validToolkit()
			c.mutate(tk)
			err := Validate(tk)
			if err == nil {
				t.Fatalf("Validate = nil, want an error containing %q", c.want)
			}
			got := err.Error()
			if !strings.Contains(got, `toolkit "`+tk.Slug+`": `) {
				t.Errorf("error does not name the toolkit:\n%s", got)
			}
			if !strings.Contains(got, c.want) {
				t.Errorf("error does not say %q:\n%s", c.want, got)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	tk := validToolkit()
	tk.Logo = "http://acme.example/logo.png"
	fieldOf(tk, patchbay.AuthAPIKey, "subdomain").Pattern = `.+`
	err := Validate(tk)
	if err == nil {
		t.Fatal("Validate = nil, want two problems")
	}
	for _, want := range []string{"logo", `field "subdomain" is used in base_url`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestFirstAdmitted(t *testing.T) {
	cases := []struct {
		pattern string
		allowed func(rune) bool
		want    rune // 0: nothing outside allowed
	}{
		{hostLabelExample, hostSafe, 0},
		{`^[a-z]{2,4}[0-9]{1,3}$`, hostSafe, 0},
		{`acme|beta-1`, hostSafe, 0},
		{`[a-z.]+`, hostSafe, '.'},
		{`.*`, hostSafe, '/'},
		{`[^/]+`, hostSafe, '@'},
		{`\w+`, hostSafe, '_'},
		{`[a-z]+\.example`, hostSafe, '.'},
		{`(?i)k`, hostSafe, '\u212A'}, // KELVIN SIGN folds to k
		{`é`, hostSafe, 'é'},
		{`[0-9]+:[A-Za-z0-9_-]+`, pathSafe, 0},
		{`[0-9]+:\S+`, pathSafe, '/'},
	}
	for _, c := range cases {
		got, found, err := firstAdmitted(c.pattern, c.allowed)
		if err != nil {
			t.Errorf("firstAdmitted(%q): %v", c.pattern, err)
			continue
		}
		if !found {
			got = 0
		}
		if got != c.want {
			t.Errorf("firstAdmitted(%q) = %q, want %q", c.pattern, got, c.want)
		}
	}
}
