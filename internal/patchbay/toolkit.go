package patchbay

import (
	"regexp"
	"slices"
	"strings"
)

// AuthMode is an authentication scheme, named as Composio names them.
type AuthMode string

const (
	AuthAPIKey      AuthMode = "API_KEY"
	AuthBearerToken AuthMode = "BEARER_TOKEN"
	AuthBasic       AuthMode = "BASIC"
	AuthOAuth2      AuthMode = "OAUTH2"
	AuthNoAuth      AuthMode = "NO_AUTH"
)

// UserSupplied reports whether connections of this mode are made from
// credentials the end user hands over (ACTIVE at once, no redirect).
func (m AuthMode) UserSupplied() bool {
	return m == AuthAPIKey || m == AuthBearerToken || m == AuthBasic || m == AuthNoAuth
}

// KnownAuthModes are every scheme name the Composio wire allows; patchbay
// implements the ones above and rejects the rest clearly.
var KnownAuthModes = []AuthMode{"OAUTH2", "OAUTH1", "OAUTH1A", "API_KEY", "BASIC", "BILLCOM_AUTH", "BEARER_TOKEN",
	"GOOGLE_SERVICE_ACCOUNT", "NO_AUTH", "BASIC_WITH_JWT", "CALCOM_AUTH", "SERVICE_ACCOUNT", "SAML", "DCR_OAUTH", "S2S_OAUTH2"}

// Toolkit describes one app: what it is and how to authenticate to it.
type Toolkit struct {
	Slug        string     `json:"slug"` // lowercase, Composio's slug
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Logo        string     `json:"logo"`
	AppURL      string     `json:"app_url"`
	Categories  []Category `json:"categories"`
	// GetCurrentUserEndpoint, when set, is a GET path that identifies the
	// connected user; informational.
	GetCurrentUserEndpoint string       `json:"get_current_user_endpoint,omitempty"`
	AuthSchemes            []AuthScheme `json:"auth_schemes"`
}

// Category groups toolkits.
type Category struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// Scheme returns the toolkit's scheme of the given mode.
func (t *Toolkit) Scheme(mode AuthMode) (*AuthScheme, bool) {
	for i := range t.AuthSchemes {
		if t.AuthSchemes[i].Mode == mode {
			return &t.AuthSchemes[i], true
		}
	}
	return nil, false
}

// NoAuth reports whether the toolkit needs no credentials at all.
func (t *Toolkit) NoAuth() bool {
	return len(t.AuthSchemes) == 1 && t.AuthSchemes[0].Mode == AuthNoAuth
}

// AuthScheme is one way to authenticate to a toolkit.
type AuthScheme struct {
	Mode AuthMode `json:"mode"`
	Name string   `json:"name"` // e.g. "serpapi_api_key"
	// BaseURL is the API root requests are resolved against. It may hold
	// {{field}} placeholders filled from connection fields (a Shopify shop,
	// a Zendesk subdomain), each validated by its field's Pattern.
	BaseURL string  `json:"base_url"`
	Fields  []Field `json:"fields"`
	// Inject says how credentials reach the upstream request. Templates
	// use {{field}} placeholders.
	Inject Injection `json:"inject"`
	// TestRequest, when set, is an authenticated request that succeeds only
	// with valid credentials (validate_credentials).
	TestRequest *TestRequest `json:"test_request,omitempty"`
	// OAuth2 describes the provider for OAUTH2 schemes.
	OAuth2 *OAuth2Provider `json:"oauth2,omitempty"`
}

// FieldsFor returns the fields supplied at the given moment.
func (s *AuthScheme) FieldsFor(scope FieldScope) []Field {
	var out []Field
	for _, f := range s.Fields {
		if f.Scope == scope {
			out = append(out, f)
		}
	}
	return out
}

// Field returns the field with the given name or alias.
func (s *AuthScheme) Field(name string) (*Field, bool) {
	for i := range s.Fields {
		if s.Fields[i].Name == name || slices.Contains(s.Fields[i].Aliases, name) {
			return &s.Fields[i], true
		}
	}
	return nil, false
}

// Canonical returns values keyed by the scheme's current field names: a
// value held under an alias (credentials sealed by an earlier patchbay,
// when the field had another name) is read as the field's. The current
// name wins over an alias, and an earlier alias over a later one; keys
// that name no field of the scheme are kept as they are. values is not
// changed.
func (s *AuthScheme) Canonical(values map[string]string) map[string]string {
	out := make(map[string]string, len(values))
	for k, v := range values {
		if _, ok := s.Field(k); !ok {
			out[k] = v
		}
	}
	for i := range s.Fields {
		f := &s.Fields[i]
		for _, n := range f.Names() {
			if v, ok := values[n]; ok {
				out[f.Name] = v
				break
			}
		}
	}
	return out
}

// FieldScope tells who supplies a field and when.
type FieldScope string

const (
	// ScopeConnection fields come from the end user when a connection is
	// made (expected_from_customer: true), e.g. an api_key.
	ScopeConnection FieldScope = "connection"
	// ScopeAuthConfig fields belong to the developer's auth config
	// (expected_from_customer: false), e.g. an OAuth client_secret.
	ScopeAuthConfig FieldScope = "auth_config"
)

// Field is one input of an auth scheme.
type Field struct {
	Name        string     `json:"name"`
	DisplayName string     `json:"display_name"`
	Type        string     `json:"type"` // "string", "boolean", "number"
	Description string     `json:"description"`
	Required    bool       `json:"required"`
	Default     *string    `json:"default"`
	Secret      bool       `json:"is_secret"`
	Scope       FieldScope `json:"scope"`
	// Aliases are other names accepted for the field on input, so code
	// written for either of Composio's names (api_key, generic_api_key)
	// works. Values are stored under Name.
	Aliases []string `json:"aliases,omitempty"`
	// Pattern, when set, is a regular expression the whole value must match
	// (mandatory for fields used in BaseURL, so a value cannot redirect
	// credentials to another host).
	Pattern string `json:"pattern,omitempty"`
}

// Names returns the field's name followed by its aliases.
func (f *Field) Names() []string {
	return append([]string{f.Name}, f.Aliases...)
}

// Valid reports whether v matches the field's pattern (if any).
func (f *Field) Valid(v string) bool {
	if f.Pattern == "" {
		return true
	}
	re, err := regexp.Compile(`^(?:` + f.Pattern + `)$`)
	return err == nil && re.MatchString(v)
}

// Injection is how credentials are put on an upstream request.
type Injection struct {
	Headers map[string]string `json:"headers,omitempty"`
	Query   map[string]string `json:"query,omitempty"`
	Basic   *BasicInjection   `json:"basic,omitempty"`
	// PathPrefix, when set, is a template put between the base URL's path
	// and every request path, for APIs that carry the credential in the
	// path (Telegram: "/bot{{api_key}}"). It is kept out of BaseURL so a
	// secret never appears in a base URL, which is shown on the wire.
	PathPrefix string `json:"path_prefix,omitempty"`
}

// BasicInjection sends HTTP basic auth built from templates.
type BasicInjection struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// TestRequest is a request that proves credentials work.
type TestRequest struct {
	Method string `json:"method"`
	Path   string `json:"path"` // relative to the base URL
}

// OAuth2Provider describes an OAuth 2.0 authorization server.
type OAuth2Provider struct {
	AuthorizationURL string   `json:"authorization_url"`
	TokenURL         string   `json:"token_url"`
	DefaultScopes    []string `json:"default_scopes"`
	ScopeSeparator   string   `json:"scope_separator,omitempty"` // default " "
	// RevocationURL is the provider's token revocation endpoint (RFC
	// 7009), "" where it has none; RevocationAuth says how the client
	// authenticates there: "header" (HTTP Basic, the default) or "body"
	// (client_id and client_secret in the form).
	RevocationURL  string `json:"revocation_url,omitempty"`
	RevocationAuth string `json:"revocation_auth,omitempty"`
}

var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}`)

// Placeholders lists the {{field}} names a template uses.
func Placeholders(template string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(template, -1) {
		out = append(out, m[1])
	}
	return out
}

// Expand fills a template's placeholders from values; missing ones become "".
func Expand(template string, values map[string]string) string {
	if !strings.Contains(template, "{{") {
		return template
	}
	return placeholder.ReplaceAllStringFunc(template, func(m string) string {
		return values[placeholder.FindStringSubmatch(m)[1]]
	})
}

// Catalog is the set of toolkits patchbay knows.
type Catalog interface {
	// Toolkit finds a toolkit by slug, case-insensitively.
	Toolkit(slug string) (*Toolkit, bool)
	// Toolkits lists every toolkit, ordered by slug.
	Toolkits() []*Toolkit
	// Tool finds a tool by slug, case-insensitively.
	Tool(slug string) (*Tool, bool)
	// Tools lists every tool, ordered by toolkit, then slug.
	Tools() []*Tool
	// ToolsOf lists a toolkit's tools, ordered by slug.
	ToolsOf(toolkit string) []*Tool
}
