package catalog

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

var (
	slugRE         = regexp.MustCompile(`^[a-z0-9_]+$`)
	categorySlugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	fieldNameRE    = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)
	headerNameRE   = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
)

// hostLabelExample is the pattern suggested for fields used in a base URL.
const hostLabelExample = `^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$`

// implementedModes are the auth modes patchbay can connect with.
var implementedModes = []patchbay.AuthMode{
	patchbay.AuthAPIKey, patchbay.AuthBearerToken, patchbay.AuthBasic, patchbay.AuthOAuth2, patchbay.AuthNoAuth,
}

// reservedHeaders are never injected: they describe the connection or the
// message framing, not credentials, and Host would retarget the request.
var reservedHeaders = []string{"host", "content-length", "transfer-encoding", "connection", "te", "upgrade", "trailer"}

// Validate checks the rules a toolkit must satisfy beyond the shape
// toolkit.schema.json describes: placeholders name fields of their scheme,
// fields that shape the base URL cannot move it to another host, secrets
// are injected and never part of a URL, and each auth mode has what it
// needs. It returns nil, or every problem joined, each naming the toolkit.
func Validate(t *patchbay.Toolkit) error {
	v := &validator{slug: t.Slug}
	v.toolkit(t)
	return errors.Join(v.errs...)
}

type validator struct {
	slug string
	errs []error
}

// problemf records a problem; where is "" or the part of the toolkit it
// is in, such as `OAUTH2 scheme`.
func (v *validator) problemf(where, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if where != "" {
		msg = where + ": " + msg
	}
	v.errs = append(v.errs, fmt.Errorf("toolkit %q: %s", v.slug, msg))
}

func (v *validator) toolkit(t *patchbay.Toolkit) {
	if !slugRE.MatchString(t.Slug) {
		v.problemf("", "slug must match %s", slugRE)
	}
	if strings.TrimSpace(t.Name) == "" {
		v.problemf("", "name is empty")
	}
	if strings.TrimSpace(t.Description) == "" {
		v.problemf("", "description is empty")
	}
	if msg := checkFixedURL(t.Logo); msg != "" {
		v.problemf("", "logo %s", msg)
	}
	if msg := checkFixedURL(t.AppURL); msg != "" {
		v.problemf("", "app_url %s", msg)
	}
	if len(t.Categories) == 0 {
		v.problemf("", "has no categories")
	}
	seenCategory := map[string]bool{}
	for _, c := range t.Categories {
		if !categorySlugRE.MatchString(c.Slug) {
			v.problemf("", "category slug %q must match %s", c.Slug, categorySlugRE)
		}
		if strings.TrimSpace(c.Name) == "" {
			v.problemf("", "category %q has no name", c.Slug)
		}
		if seenCategory[c.Slug] {
			v.problemf("", "category %q is listed twice", c.Slug)
		}
		seenCategory[c.Slug] = true
	}
	if t.GetCurrentUserEndpoint != "" {
		if msg := checkPath(t.GetCurrentUserEndpoint); msg != "" {
			v.problemf("", "get_current_user_endpoint %s", msg)
		}
	}
	if len(t.AuthSchemes) == 0 {
		v.problemf("", "has no auth schemes")
	}
	modes := map[patchbay.AuthMode]bool{}
	names := map[string]bool{}
	for i := range t.AuthSchemes {
		s := &t.AuthSchemes[i]
		if modes[s.Mode] {
			v.problemf("", "has more than one %s scheme", s.Mode)
		}
		modes[s.Mode] = true
		if names[s.Name] {
			v.problemf("", "scheme name %q is used twice", s.Name)
		}
		names[s.Name] = true
		v.scheme(s)
	}
	if modes[patchbay.AuthNoAuth] && len(t.AuthSchemes) > 1 {
		v.problemf("", "a NO_AUTH scheme cannot be combined with other schemes")
	}
}

func (v *validator) scheme(s *patchbay.AuthScheme) {
	where := fmt.Sprintf("%s scheme", s.Mode)
	if !slices.Contains(implementedModes, s.Mode) {
		if slices.Contains(patchbay.KnownAuthModes, s.Mode) {
			v.problemf(where, "mode %s is not supported by patchbay (supported: %v)", s.Mode, implementedModes)
		} else {
			v.problemf(where, "unknown mode %q", s.Mode)
		}
		return
	}
	if !slugRE.MatchString(s.Name) {
		v.problemf(where, "name %q must match %s", s.Name, slugRE)
	}

	fields := v.fields(where, s.Fields)
	v.baseURL(where, s.BaseURL, fields)
	injected := v.inject(where, s.Inject, fields)

	injectsSecret := false
	for _, f := range s.Fields {
		switch {
		case !f.Secret:
		case injected[f.Name]:
			injectsSecret = true
		case f.Scope == patchbay.ScopeConnection:
			v.problemf(where, "secret field %q is never used in inject, so the credential would not reach the app", f.Name)
		}
	}
	if s.Mode != patchbay.AuthNoAuth && !injectsSecret {
		v.problemf(where, "inject uses no secret field, so requests would carry no credential")
	}

	if tr := s.TestRequest; tr != nil {
		if tr.Method != "GET" && tr.Method != "HEAD" {
			v.problemf(where, "test_request method %q must be GET or HEAD (it is sent to check credentials)", tr.Method)
		}
		if msg := checkPath(tr.Path); msg != "" {
			v.problemf(where, "test_request path %s", msg)
		}
	}

	switch s.Mode {
	case patchbay.AuthAPIKey, patchbay.AuthBearerToken, patchbay.AuthBasic:
		if !slices.ContainsFunc(s.Fields, func(f patchbay.Field) bool { return f.Scope == patchbay.ScopeConnection && f.Required }) {
			v.problemf(where, "needs at least one required connection-scope field for the credential the end user supplies")
		}
		if s.Mode == patchbay.AuthBasic {
			switch b := s.Inject.Basic; {
			case b == nil:
				v.problemf(where, "must inject HTTP basic auth (inject.basic)")
			case b.Username == "":
				v.problemf(where, "inject.basic.username is empty")
			}
		}
		if s.OAuth2 != nil {
			v.problemf(where, "has an oauth2 block, which only OAUTH2 schemes use")
		}
	case patchbay.AuthOAuth2:
		v.oauth2(where, s)
	case patchbay.AuthNoAuth:
		if len(s.Fields) > 0 {
			v.problemf(where, "must have no fields")
		}
		if in := s.Inject; len(in.Headers) > 0 || len(in.Query) > 0 || in.Basic != nil || in.PathPrefix != "" {
			v.problemf(where, "must inject nothing")
		}
		if s.OAuth2 != nil {
			v.problemf(where, "has an oauth2 block, which only OAUTH2 schemes use")
		}
	}
}

// fields checks each field on its own and returns them by name.
func (v *validator) fields(where string, fields []patchbay.Field) map[string]*patchbay.Field {
	byName := make(map[string]*patchbay.Field, len(fields))
	for i := range fields {
		f := &fields[i]
		if !fieldNameRE.MatchString(f.Name) {
			v.problemf(where, "field name %q must match %s", f.Name, fieldNameRE)
		}
		if _, dup := byName[f.Name]; dup {
			v.problemf(where, "field %q is defined twice", f.Name)
		}
		byName[f.Name] = f
		if strings.TrimSpace(f.DisplayName) == "" {
			v.problemf(where, "field %q has no display_name", f.Name)
		}
		if strings.TrimSpace(f.Description) == "" {
			v.problemf(where, "field %q has no description", f.Name)
		}
		if f.Type != "string" && f.Type != "boolean" && f.Type != "number" {
			v.problemf(where, "field %q has type %q; want string, boolean or number", f.Name, f.Type)
		}
		if f.Scope != patchbay.ScopeConnection && f.Scope != patchbay.ScopeAuthConfig {
			v.problemf(where, "field %q has scope %q; want %q or %q", f.Name, f.Scope, patchbay.ScopeConnection, patchbay.ScopeAuthConfig)
		}
		if f.Pattern != "" {
			if _, err := regexp.Compile(`^(?:` + f.Pattern + `)$`); err != nil {
				v.problemf(where, "field %q has an invalid pattern: %v", f.Name, err)
				continue
			}
			if f.Default != nil && !f.Valid(*f.Default) {
				v.problemf(where, "field %q: default %q does not match its pattern %q", f.Name, *f.Default, f.Pattern)
			}
		}
	}
	v.aliases(where, fields, byName)
	return byName
}

// aliases checks that every alias names one field only: not a field of the
// scheme, nor an alias of another, so a value given under it (or stored
// under it by an earlier patchbay) has one place to go.
func (v *validator) aliases(where string, fields []patchbay.Field, byName map[string]*patchbay.Field) {
	aliasOf := map[string]string{}
	for _, f := range fields {
		for _, a := range f.Aliases {
			if !fieldNameRE.MatchString(a) {
				v.problemf(where, "field %q: alias %q must match %s", f.Name, a, fieldNameRE)
			}
			if _, isField := byName[a]; isField {
				v.problemf(where, "field %q: alias %q is the name of a field", f.Name, a)
				continue
			}
			if other, dup := aliasOf[a]; dup {
				v.problemf(where, "field %q: alias %q is already an alias of field %q", f.Name, a, other)
				continue
			}
			aliasOf[a] = f.Name
		}
	}
}

// baseURL checks that the base URL is a fixed https origin whose
// placeholders can only ever fill in host-safe labels.
func (v *validator) baseURL(where, raw string, fields map[string]*patchbay.Field) {
	names, ok := v.placeholders(where, "base_url", raw)
	if !ok {
		return
	}
	sample := map[string]string{}
	for _, n := range names {
		sample[n] = "x"
	}
	if msg := checkBaseURL(patchbay.Expand(raw, sample)); msg != "" {
		v.problemf(where, "base_url %q %s", raw, msg)
	}
	for _, n := range names {
		f, ok := fields[n]
		switch {
		case !ok:
			v.problemf(where, "base_url uses {{%s}}, which is not a field of this scheme", n)
		case f.Secret:
			v.problemf(where, "secret field %q must not appear in base_url; inject it instead", n)
		case !f.Required:
			v.problemf(where, "field %q is used in base_url, so it must be required", n)
		default:
			v.safeField(where, "base_url", f, hostSafe, "a host-safe label such as "+hostLabelExample+", so a value cannot redirect credentials to another host")
		}
	}
}

// inject checks the injection templates and returns the fields they use.
func (v *validator) inject(where string, in patchbay.Injection, fields map[string]*patchbay.Field) map[string]bool {
	used := map[string]bool{}
	use := func(what, tmpl string) []string {
		names, ok := v.placeholders(where, what, tmpl)
		if !ok {
			return nil
		}
		for _, n := range names {
			if _, ok := fields[n]; !ok {
				v.problemf(where, "%s uses {{%s}}, which is not a field of this scheme", what, n)
				continue
			}
			used[n] = true
		}
		return names
	}
	for _, name := range sortedKeys(in.Headers) {
		what := fmt.Sprintf("inject header %q", name)
		if !headerNameRE.MatchString(name) {
			v.problemf(where, "%s is not a valid header name", what)
		}
		if slices.Contains(reservedHeaders, strings.ToLower(name)) {
			v.problemf(where, "%s cannot be injected", what)
		}
		use(what, in.Headers[name])
	}
	for _, name := range sortedKeys(in.Query) {
		if name == "" {
			v.problemf(where, "inject query has an empty parameter name")
		}
		use(fmt.Sprintf("inject query %q", name), in.Query[name])
	}
	if b := in.Basic; b != nil {
		use("inject.basic.username", b.Username)
		use("inject.basic.password", b.Password)
	}
	if p := in.PathPrefix; p != "" {
		if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.ContainsAny(p, "?#\\ \t\r\n") {
			v.problemf(where, "inject.path_prefix %q must start with '/', not end with '/', and hold no query, fragment, backslash or space", p)
		}
		for _, n := range use("inject.path_prefix", p) {
			f, ok := fields[n]
			if !ok {
				continue
			}
			if !f.Required {
				v.problemf(where, "field %q is used in inject.path_prefix, so it must be required", n)
				continue
			}
			v.safeField(where, "inject.path_prefix", f, pathSafe, "characters that stay inside one path segment")
		}
	}
	for _, tmpl := range templateValues(in) {
		if strings.ContainsAny(tmpl, "\r\n") {
			v.problemf(where, "inject template %q holds a line break", tmpl)
		}
	}
	return used
}

// safeField checks that every value of f stays within allowed, because it
// is spliced into a URL (at what).
func (v *validator) safeField(where, what string, f *patchbay.Field, allowed func(rune) bool, want string) {
	if f.Pattern == "" {
		v.problemf(where, "field %q is used in %s but has no pattern; give it one that allows only %s", f.Name, what, want)
		return
	}
	r, found, err := firstAdmitted(f.Pattern, allowed)
	if err != nil {
		return // reported by fields
	}
	if found {
		v.problemf(where, "field %q is used in %s but its pattern %q admits %q; allow only %s", f.Name, what, f.Pattern, r, want)
		return
	}
	if f.Valid("") {
		v.problemf(where, "field %q is used in %s but its pattern %q admits the empty value", f.Name, what, f.Pattern)
	}
}

// placeholders returns the field names a template uses, reporting
// malformed placeholders such as "{{api key}}" or an unclosed "{{".
func (v *validator) placeholders(where, what, tmpl string) ([]string, bool) {
	if rest := patchbay.Expand(tmpl, nil); strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		v.problemf(where, "%s %q has a malformed placeholder; write {{field_name}}", what, tmpl)
		return nil, false
	}
	return patchbay.Placeholders(tmpl), true
}

func (v *validator) oauth2(where string, s *patchbay.AuthScheme) {
	o := s.OAuth2
	if o == nil {
		v.problemf(where, "needs an oauth2 block with authorization_url and token_url")
	} else {
		for _, u := range []struct{ what, raw string }{{"authorization_url", o.AuthorizationURL}, {"token_url", o.TokenURL}} {
			if msg := checkFixedURL(u.raw); msg != "" {
				v.problemf(where, "oauth2.%s %s", u.what, msg)
			}
		}
		if o.RevocationURL != "" {
			if msg := checkFixedURL(o.RevocationURL); msg != "" {
				v.problemf(where, "oauth2.revocation_url %s", msg)
			}
		}
		if o.RevocationAuth != "" && o.RevocationAuth != "header" && o.RevocationAuth != "body" {
			v.problemf(where, "oauth2.revocation_auth %q must be \"header\" or \"body\"", o.RevocationAuth)
		}
		if o.ScopeSeparator != "" && o.ScopeSeparator != " " && o.ScopeSeparator != "," {
			v.problemf(where, "oauth2.scope_separator %q must be \" \" or \",\"", o.ScopeSeparator)
		}
		for _, sc := range o.DefaultScopes {
			if sc == "" || strings.ContainsAny(sc, " ,\t\r\n") {
				v.problemf(where, "oauth2.default_scopes entry %q must be one non-empty scope", sc)
			}
		}
	}
	for _, want := range []struct {
		name   string
		secret bool
	}{{"client_id", false}, {"client_secret", true}} {
		f, ok := s.Field(want.name)
		switch {
		case !ok:
			v.problemf(where, "needs an auth_config-scope field %q", want.name)
		case f.Scope != patchbay.ScopeAuthConfig:
			v.problemf(where, "field %q must have scope %q: it belongs to the developer's OAuth app, not to the end user", want.name, patchbay.ScopeAuthConfig)
		case !f.Required:
			v.problemf(where, "field %q must be required", want.name)
		case want.secret && !f.Secret:
			v.problemf(where, "field %q must be secret", want.name)
		}
	}
	for _, f := range s.Fields {
		if f.Scope == patchbay.ScopeConnection && f.Required {
			v.problemf(where, "field %q is a required connection-scope field, but OAUTH2 connections get their credential from the OAuth flow", f.Name)
		}
	}
}

// checkFixedURL returns "" if raw is an absolute https URL without
// placeholders, user info or fragment, else what is wrong with it.
func checkFixedURL(raw string) string {
	if strings.Contains(raw, "{{") {
		return fmt.Sprintf("%q must be a fixed URL without placeholders", raw)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || strings.ContainsAny(raw, " \t\r\n\\"):
		return fmt.Sprintf("%q is not a valid URL", raw)
	case u.Scheme != "https" || u.Host == "" || u.Opaque != "":
		return fmt.Sprintf("%q must be an absolute https URL", raw)
	case u.User != nil:
		return fmt.Sprintf("%q must not hold user info", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Sprintf("%q must not have a fragment", raw)
	}
	return ""
}

// checkBaseURL is checkFixedURL for a base URL with its placeholders
// filled in: requests are resolved against it, so it has no query and no
// trailing slash.
func checkBaseURL(filled string) string {
	if msg := checkFixedURL(filled); msg != "" {
		return strings.TrimPrefix(msg, fmt.Sprintf("%q ", filled))
	}
	u, _ := url.Parse(filled)
	switch {
	case u.RawQuery != "" || u.ForceQuery:
		return "must not have a query"
	case strings.HasSuffix(filled, "/"):
		return "must not end with '/' (request paths start with one)"
	}
	return ""
}

// checkPath returns "" if p is a path relative to a base URL.
func checkPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "?# \t\r\n\\") {
		return fmt.Sprintf("%q must be a path starting with '/' without query, fragment, backslash or space", p)
	}
	return ""
}

func templateValues(in patchbay.Injection) []string {
	var out []string
	for _, k := range sortedKeys(in.Headers) {
		out = append(out, in.Headers[k])
	}
	for _, k := range sortedKeys(in.Query) {
		out = append(out, in.Query[k])
	}
	if in.Basic != nil {
		out = append(out, in.Basic.Username, in.Basic.Password)
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
