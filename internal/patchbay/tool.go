package patchbay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A Tool is one action an agent can take in an app for a user: an LLM
// function schema (InputParameters) and a declarative mapping from its
// arguments to one HTTP request to the app (Request), and from the app's
// answer back to data (Response). Tools live in the catalog, next to their
// toolkit.
type Tool struct {
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Toolkit     string   `json:"-"` // the toolkit's slug, from the file
	Version     string   `json:"-"` // the toolkit version, from the file
	Tags        []string `json:"tags"`
	// InputParameters and OutputParameters are JSON Schemas (draft
	// 2020-12): the arguments' object, and the data a call returns.
	InputParameters  json.RawMessage `json:"input_parameters"`
	OutputParameters json.RawMessage `json:"output_parameters"`
	Request          ToolRequest     `json:"request"`
	Response         ToolResponse    `json:"response"`
	// Examples pin the mapping: for sample arguments, the exact request
	// the app receives, and for its sample answer, the data returned.
	Examples []ToolExample `json:"examples"`

	// Check validates arguments against InputParameters and returns every
	// violation, each naming its argument. The catalog sets it.
	Check func(args map[string]any) []string `json:"-"`
}

// Important reports whether the tool is among its toolkit's most useful.
func (t *Tool) Important() bool { return slices.Contains(t.Tags, TagImportant) }

// TagImportant marks a toolkit's most useful tools.
const TagImportant = "important"

// ToolRequest says how a call's arguments become a request to the app.
//
// Path is relative to the connection's base URL and names arguments in
// braces: {owner} is one path segment (escaped), {+path} may hold slashes
// (each segment escaped). Args places every argument: "path", "query",
// "header:Name", "body" (a field of the JSON or form body under the
// argument's own name), "query:name" or "body:name" (under another name),
// "body:*" (the argument is the whole body), or "graphql" (a variable of
// GraphQL). An argument that is absent from a call is not sent.
type ToolRequest struct {
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Args   map[string]string `json:"args"`
	// Encoding of the body: "json" (the default) or "form"
	// (application/x-www-form-urlencoded; objects as a[k]=v, lists as
	// a[]=v).
	Encoding string `json:"encoding,omitempty"`
	// ArrayFormat of list arguments in the query: "csv" (a,b: the default)
	// or "repeat" (a=x&a=y).
	ArrayFormat string `json:"array_format,omitempty"`
	// Query and Headers are sent on every call.
	Query   map[string]string `json:"query,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// GraphQL, for GraphQL APIs: the document sent as {"query", "variables"},
	// with the "graphql" arguments as variables.
	GraphQL string `json:"graphql,omitempty"`
}

// ToolResponse says how the app's answer becomes data, which is always a
// JSON object: the body, or the part of it at Pointer (a JSON pointer,
// such as /data for GraphQL); a value that is not an object (a list, a
// string) is put under Wrap (default "items" for a list, "value"
// otherwise); an empty body is {}.
type ToolResponse struct {
	Pointer string `json:"pointer,omitempty"`
	Wrap    string `json:"wrap,omitempty"`
}

// ToolExample is a sample call and what the app sees and answers.
type ToolExample struct {
	Arguments map[string]any  `json:"arguments"`
	Request   ExampleRequest  `json:"request"`
	Response  ExampleResponse `json:"response"`
	// Data is what the call returns for Response.
	Data map[string]any `json:"data"`
}

// ExampleRequest is a request an app receives, as a test compares it.
// Headers lists only the headers the tool itself sets (the credential is
// checked apart, from the scheme).
type ExampleRequest struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   map[string]string `json:"query,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body,omitempty"`
	// Form is the body of a form-encoded request, decoded.
	Form map[string]string `json:"form,omitempty"`
}

// ExampleResponse is an app's sample answer.
type ExampleResponse struct {
	Status int `json:"status"`
	Body   any `json:"body"`
}

// An UpstreamRequest is a tool call made concrete, relative to the
// connection's base URL: what the app receives but the credential.
type UpstreamRequest struct {
	Method      string
	Path        string // escaped, starting with /
	Query       url.Values
	Header      http.Header
	Body        []byte
	ContentType string
}

var pathParam = regexp.MustCompile(`\{(\+?)([A-Za-z0-9_]+)\}`)

// PathParams returns the arguments Path names, in order.
func (r *ToolRequest) PathParams() []string {
	var out []string
	for _, m := range pathParam.FindAllStringSubmatch(r.Path, -1) {
		out = append(out, m[2])
	}
	return out
}

// Location splits an Args entry into where ("path", "query", "header",
// "body", "graphql") and the name the app knows the argument by.
func Location(arg, spec string) (where, name string) {
	where, name, ok := strings.Cut(spec, ":")
	if !ok || name == "" {
		name = arg
	}
	return where, name
}

// Build turns arguments (already checked against the input schema) into the
// request the app receives. EINVALID names an argument that has no place.
func (t *Tool) Build(args map[string]any) (*UpstreamRequest, error) {
	r := &t.Request
	req := &UpstreamRequest{Method: r.Method, Query: url.Values{}, Header: http.Header{}}
	for k, v := range r.Query {
		req.Query.Set(k, v)
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	body := map[string]any{}
	vars := map[string]any{}
	var whole any
	hasWhole := false
	path := r.Path

	names := make([]string, 0, len(args))
	for name := range args {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, arg := range names {
		v := args[arg]
		spec, ok := r.Args[arg]
		if !ok {
			return nil, Errorf(EINVALID, "%s takes no argument %q.", t.Slug, arg)
		}
		if v == nil {
			continue
		}
		where, name := Location(arg, spec)
		switch where {
		case "path":
			s := scalar(v)
			path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(s))
			segs := strings.Split(strings.Trim(s, "/"), "/")
			for i, seg := range segs {
				segs[i] = url.PathEscape(seg)
			}
			path = strings.ReplaceAll(path, "{+"+name+"}", strings.Join(segs, "/"))
		case "query":
			if list, ok := v.([]any); ok {
				if r.ArrayFormat == "repeat" {
					for _, e := range list {
						req.Query.Add(name, scalar(e))
					}
					continue
				}
				parts := make([]string, len(list))
				for i, e := range list {
					parts[i] = scalar(e)
				}
				req.Query.Set(name, strings.Join(parts, ","))
				continue
			}
			req.Query.Set(name, scalar(v))
		case "header":
			req.Header.Set(name, scalar(v))
		case "body":
			if name == "*" {
				whole, hasWhole = v, true
				continue
			}
			body[name] = v
		case "graphql":
			vars[name] = v
		default:
			return nil, Errorf(EINVALID, "%s: argument %q has an unknown place %q.", t.Slug, arg, spec)
		}
	}
	if strings.Contains(path, "{") {
		missing := pathParam.FindAllStringSubmatch(path, -1)
		return nil, Errorf(EINVALID, "%s needs the argument %q.", t.Slug, missing[0][2])
	}
	req.Path = path

	switch {
	case r.GraphQL != "":
		b, err := json.Marshal(map[string]any{"query": r.GraphQL, "variables": vars})
		if err != nil {
			return nil, err
		}
		req.Body, req.ContentType = b, "application/json"
	case hasWhole:
		b, err := json.Marshal(whole)
		if err != nil {
			return nil, err
		}
		req.Body, req.ContentType = b, "application/json"
	case len(body) > 0 && r.Encoding == "form":
		req.Body, req.ContentType = []byte(formEncode(body).Encode()), "application/x-www-form-urlencoded"
	case len(body) > 0:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			return nil, err
		}
		req.Body, req.ContentType = bytes.TrimRight(buf.Bytes(), "\n"), "application/json"
	}
	return req, nil
}

// scalar renders a JSON scalar as a query, header or path value.
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// formEncode flattens a body as form APIs (Stripe, Twilio) expect:
// objects as a[k]=v, lists as a[]=v, nested as deep as given.
func formEncode(body map[string]any) url.Values {
	out := url.Values{}
	var add func(key string, v any)
	add = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				add(key+"["+k+"]", e)
			}
		case []any:
			for _, e := range x {
				add(key+"[]", e)
			}
		default:
			out.Add(key, scalar(v))
		}
	}
	for k, v := range body {
		add(k, v)
	}
	return out
}

// Data maps the app's answer to a call's data: always an object.
func (t *Tool) Data(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		// Not JSON: the text itself.
		return map[string]any{orString(t.Response.Wrap, "value"): string(body)}, nil
	}
	if p := t.Response.Pointer; p != "" {
		var ok bool
		if v, ok = jsonPointer(v, p); !ok {
			return nil, fmt.Errorf("the answer has nothing at %s", p)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case []any:
		return map[string]any{orString(t.Response.Wrap, "items"): x}, nil
	case nil:
		return map[string]any{}, nil
	default:
		return map[string]any{orString(t.Response.Wrap, "value"): x}, nil
	}
}

func orString(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// jsonPointer resolves an RFC 6901 pointer in v.
func jsonPointer(v any, p string) (any, bool) {
	if p == "" || p == "/" {
		return v, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// An UpstreamResponse is an app's answer to one call.
type UpstreamResponse struct {
	Status   int
	Header   http.Header
	Body     []byte
	Duration time.Duration
}

// Caller sends requests to apps with a connection's credentials: tools'
// requests and proxied ones. Implementations guard where they connect.
type Caller interface {
	Call(ctx context.Context, tk *Toolkit, sc *AuthScheme, creds map[string]string, r *UpstreamRequest) (*UpstreamResponse, error)
	// BaseURL is where a connection's requests go: the scheme's base URL
	// filled from the credentials, or the operator's override.
	BaseURL(tk *Toolkit, sc *AuthScheme, creds map[string]string) (*url.URL, error)
}

// Tool finds a tool by slug, case-insensitively. ENOTFOUND if the catalog
// has none.
func (s *Service) Tool(p *Principal, slug string) (*Tool, error) {
	if p == nil {
		return nil, errNoPrincipal
	}
	t, ok := s.catalog.Tool(slug)
	if !ok {
		return nil, Errorf(ENOTFOUND, "Tool %q not found.", Truncate(slug, 80))
	}
	return t, nil
}

// ToolFilter selects tools. Empty fields select everything.
type ToolFilter struct {
	Toolkits  []string // toolkit slugs, any case
	Slugs     []string // tool slugs, any case
	Tags      []string // a tool matches if it has any of them
	Important bool     // only tools tagged important, where the toolkit has any
	// Search matches words in the slug, name and description, all of them,
	// case-insensitively.
	Search string
	// After is the slug the previous page ended with; Limit caps the page
	// (0: no cap).
	After string
	Limit int
}

// Tools lists the catalog's tools that f selects, ordered by toolkit and
// slug, and how many match in all. EINVALID names an unknown toolkit.
func (s *Service) Tools(p *Principal, f ToolFilter) ([]*Tool, int, error) {
	if p == nil {
		return nil, 0, errNoPrincipal
	}
	var pool []*Tool
	if len(f.Toolkits) > 0 {
		for _, slug := range f.Toolkits {
			tk, ok := s.catalog.Toolkit(slug)
			if !ok {
				return nil, 0, Errorf(EINVALID, "Unknown toolkit %q.", Truncate(slug, 60))
			}
			pool = append(pool, s.catalog.ToolsOf(tk.Slug)...)
		}
	} else {
		pool = s.catalog.Tools()
	}
	slugs := map[string]bool{}
	for _, sl := range f.Slugs {
		slugs[strings.ToUpper(strings.TrimSpace(sl))] = true
	}
	words := strings.Fields(strings.ToLower(f.Search))
	// "important" narrows a toolkit only if it marks any tool so: a
	// toolkit without the tag still lists its tools.
	marked := map[string]bool{}
	if f.Important {
		for _, t := range pool {
			if t.Important() {
				marked[t.Toolkit] = true
			}
		}
	}
	var out []*Tool
	for _, t := range pool {
		switch {
		case len(slugs) > 0 && !slugs[t.Slug]:
		case len(f.Tags) > 0 && !slices.ContainsFunc(f.Tags, func(tag string) bool {
			return slices.ContainsFunc(t.Tags, func(x string) bool { return strings.EqualFold(x, tag) })
		}):
		case f.Important && marked[t.Toolkit] && !t.Important():
		case len(words) > 0 && !matchesAll(t, words):
		default:
			out = append(out, t)
		}
	}
	total := len(out)
	if f.After != "" {
		after := strings.ToUpper(f.After)
		i := slices.IndexFunc(out, func(t *Tool) bool { return t.Slug == after })
		if i < 0 {
			return nil, 0, Errorf(EINVALID, "The cursor names no tool of this listing.")
		}
		out = out[i+1:]
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, total, nil
}

func matchesAll(t *Tool, words []string) bool {
	text := strings.ToLower(t.Slug + " " + strings.ReplaceAll(t.Slug, "_", " ") + " " + t.Name + " " + t.Description)
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// ErrUnreachable marks a Caller's failure to get an answer from an app: its
// address is refused by the guard, it did not answer in time, or it could
// not be reached. It is a result of the call, not a fault of the request.
var ErrUnreachable = errors.New("the app could not be reached")
