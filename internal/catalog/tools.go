package catalog

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// Tools live in tools/<toolkit>.json, one file per toolkit, in the format
// of tool.schema.json:
//
//	{"toolkit": "github", "version": "20261201_00", "tools": [Tool, ...]}
//
// Each tool's input schema is compiled (draft 2020-12) and becomes its
// argument check; its examples are checked against its own mapping.

//go:embed tools/*.json
var embeddedTools embed.FS

// toolFile is one tools/<toolkit>.json.
type toolFile struct {
	Toolkit string           `json:"toolkit"`
	Version string           `json:"version"`
	Tools   []*patchbay.Tool `json:"tools"`
}

var (
	toolSlugRE    = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	toolVersionRE = regexp.MustCompile(`^\d{8}_\d{2}$`)
	toolMethods   = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	argPlaces     = []string{"path", "query", "header", "body", "graphql"}
)

// OpenAI's limits on a function: its name and its description.
const (
	maxToolSlug        = 64
	maxToolDescription = 1024
)

// loadTools reads every tools/*.json in fsys into c. Each problem is
// reported, naming its file and tool.
func loadTools(fsys fs.FS, c *Catalog) error {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	var errs []error
	c.toolBySlug = map[string]*patchbay.Tool{}
	c.toolsByToolkit = map[string][]*patchbay.Tool{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".json" {
			errs = append(errs, fmt.Errorf("catalog: tools/%s: not a tools file (want <toolkit>.json)", name))
			continue
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("catalog: %w", err))
			continue
		}
		f, err := decodeTools(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("catalog: tools/%s: %w", name, err))
			continue
		}
		if want := f.Toolkit + ".json"; name != want {
			errs = append(errs, fmt.Errorf("catalog: tools/%s: the tools of %q must be in tools/%s", name, f.Toolkit, want))
		}
		tk, ok := c.Toolkit(f.Toolkit)
		if !ok {
			errs = append(errs, fmt.Errorf("catalog: tools/%s: no toolkit %q", name, f.Toolkit))
			continue
		}
		if !toolVersionRE.MatchString(f.Version) {
			errs = append(errs, fmt.Errorf("catalog: tools/%s: version %q, want YYYYMMDD_NN", name, f.Version))
		}
		for _, t := range f.Tools {
			t.Toolkit, t.Version = tk.Slug, f.Version
			if err := prepareTool(tk, t); err != nil {
				errs = append(errs, fmt.Errorf("catalog: tools/%s: %w", name, err))
				continue
			}
			if _, dup := c.toolBySlug[t.Slug]; dup {
				errs = append(errs, fmt.Errorf("catalog: tools/%s: tool %s is defined more than once", name, t.Slug))
				continue
			}
			c.toolBySlug[t.Slug] = t
			c.toolsByToolkit[tk.Slug] = append(c.toolsByToolkit[tk.Slug], t)
			c.tools = append(c.tools, t)
		}
	}
	for _, ts := range c.toolsByToolkit {
		sort.Slice(ts, func(i, j int) bool { return ts[i].Slug < ts[j].Slug })
	}
	sort.Slice(c.tools, func(i, j int) bool {
		if c.tools[i].Toolkit != c.tools[j].Toolkit {
			return c.tools[i].Toolkit < c.tools[j].Toolkit
		}
		return c.tools[i].Slug < c.tools[j].Slug
	})
	return errors.Join(errs...)
}

func decodeTools(data []byte) (*toolFile, error) { return decodeStrict[toolFile](data, "tools") }

// prepareTool checks a tool and compiles its argument check.
func prepareTool(tk *patchbay.Toolkit, t *patchbay.Tool) error {
	var errs []string
	problem := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	if !toolSlugRE.MatchString(t.Slug) || !strings.HasPrefix(t.Slug, strings.ToUpper(tk.Slug)+"_") {
		problem("slug must be upper case and start with %s_", strings.ToUpper(tk.Slug))
	}
	if len(t.Slug) > maxToolSlug {
		problem("slug is %d characters; OpenAI allows %d", len(t.Slug), maxToolSlug)
	}
	if strings.TrimSpace(t.Name) == "" {
		problem("name is empty")
	}
	if d := strings.TrimSpace(t.Description); d == "" || len(t.Description) > maxToolDescription {
		problem("description must be 1 to %d characters", maxToolDescription)
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	input, err := compileSchema(t.Slug+"/input", t.InputParameters)
	if err != nil {
		problem("input_parameters: %v", err)
	}
	if _, err := compileSchema(t.Slug+"/output", t.OutputParameters); err != nil {
		problem("output_parameters: %v", err)
	}
	props, required := schemaProperties(t.InputParameters, problem)
	for name, p := range props {
		if d, _ := p["description"].(string); strings.TrimSpace(d) == "" {
			problem("argument %q has no description", name)
		}
	}
	checkRequest(t, props, required, problem)
	if input != nil {
		t.Check = argumentCheck(input)
		if len(t.Examples) == 0 {
			problem("has no example")
		}
		for i, ex := range t.Examples {
			if v := t.Check(ex.Arguments); len(v) > 0 {
				problem("example %d: arguments fail the input schema: %s", i, strings.Join(v, "; "))
				continue
			}
			if err := checkExample(t, ex); err != nil {
				problem("example %d: %v", i, err)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("tool %s: %s", t.Slug, strings.Join(errs, "; "))
	}
	return nil
}

// compileSchema compiles a JSON Schema (draft 2020-12) whose root is an
// object schema, as LLM function calling requires.
func compileSchema(url string, raw json.RawMessage) (*jsonschema.Schema, error) {
	if len(raw) == 0 {
		return nil, errors.New("missing")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if m, ok := doc.(map[string]any); !ok || m["type"] != "object" {
		return nil, errors.New(`the root must be {"type": "object", ...}`)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// schemaProperties returns the root properties and required names.
func schemaProperties(raw json.RawMessage, problem func(string, ...any)) (map[string]map[string]any, []string) {
	var root struct {
		Properties map[string]map[string]any `json:"properties"`
		Required   []string                  `json:"required"`
	}
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil, nil
	}
	for _, r := range root.Required {
		if _, ok := root.Properties[r]; !ok {
			problem("required argument %q is not a property", r)
		}
	}
	return root.Properties, root.Required
}

// checkRequest checks the mapping: a method, a path, and a place for every
// argument (and an argument for every place).
func checkRequest(t *patchbay.Tool, props map[string]map[string]any, required []string, problem func(string, ...any)) {
	r := &t.Request
	if !slices.Contains(toolMethods, r.Method) {
		problem("request.method %q, want one of %v", r.Method, toolMethods)
	}
	if !strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, "?#") {
		problem("request.path %q must start with / and carry no query", r.Path)
	}
	switch r.Encoding {
	case "", "json", "form":
	default:
		problem("request.encoding %q, want json or form", r.Encoding)
	}
	switch r.ArrayFormat {
	case "", "csv", "repeat":
	default:
		problem("request.array_format %q, want csv or repeat", r.ArrayFormat)
	}
	for name := range props {
		if _, ok := r.Args[name]; !ok {
			problem("argument %q has no place in request.args", name)
		}
	}
	wholeBody := 0
	for arg, spec := range r.Args {
		if _, ok := props[arg]; !ok {
			problem("request.args names %q, which is not an argument", arg)
		}
		where, name := patchbay.Location(arg, spec)
		if !slices.Contains(argPlaces, where) {
			problem("request.args[%q] = %q: the place must be one of %v", arg, spec, argPlaces)
		}
		switch {
		case where == "graphql" && r.GraphQL == "":
			problem("argument %q is a GraphQL variable, but request.graphql is empty", arg)
		case where == "body" && name == "*":
			wholeBody++
		case where == "body" && r.Method == "GET":
			problem("argument %q goes in the body of a %s", arg, r.Method)
		}
	}
	if wholeBody > 1 {
		problem("more than one argument is the whole body")
	}
	for _, p := range r.PathParams() {
		spec, ok := r.Args[p]
		if where, _ := patchbay.Location(p, spec); !ok || where != "path" {
			problem("path names {%s}, which is not a path argument", p)
		}
		if !slices.Contains(required, p) {
			problem("path argument %q must be required", p)
		}
	}
}

// argumentCheck turns a compiled schema into a Tool.Check listing every
// violation, each with its location.
func argumentCheck(sch *jsonschema.Schema) func(map[string]any) []string {
	return func(args map[string]any) []string {
		if args == nil {
			args = map[string]any{}
		}
		// The validator wants its own number type: round-trip through JSON.
		raw, err := json.Marshal(args)
		if err != nil {
			return []string{"arguments are not JSON: " + err.Error()}
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return []string{"arguments are not JSON: " + err.Error()}
		}
		err = sch.Validate(inst)
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			if err != nil {
				return []string{err.Error()}
			}
			return nil
		}
		var out []string
		for _, u := range ve.BasicOutput().Errors {
			if u.Error == nil || len(ve.BasicOutput().Errors) > 1 && isWrapper(u) {
				continue
			}
			where := u.InstanceLocation
			if where == "" {
				where = "arguments"
			} else {
				where = "arguments" + strings.ReplaceAll(where, "/", ".")
			}
			out = append(out, where+": "+u.Error.String())
		}
		sort.Strings(out)
		return slices.Compact(out)
	}
}

// isWrapper reports whether u only says that something below it failed.
func isWrapper(u jsonschema.OutputUnit) bool {
	s := u.Error.String()
	return strings.HasPrefix(s, "validation failed") || strings.Contains(s, "doesn't validate with")
}

// checkExample checks that the tool's mapping sends exactly the example's
// request for its arguments and returns exactly its data for its answer.
func checkExample(t *patchbay.Tool, ex patchbay.ToolExample) error {
	req, err := t.Build(ex.Arguments)
	if err != nil {
		return err
	}
	got, err := ExampleOf(req)
	if err != nil {
		return err
	}
	if err := SameRequest(got, ex.Request); err != nil {
		return err
	}
	body, err := json.Marshal(ex.Response.Body)
	if err != nil {
		return err
	}
	if ex.Response.Body == nil {
		body = nil
	}
	data, err := t.Data(body)
	if err != nil {
		return err
	}
	if !sameJSON(data, ex.Data) {
		return fmt.Errorf("data = %s, want %s", mustJSON(data), mustJSON(ex.Data))
	}
	return nil
}

// ExampleOf describes a request as examples do: the method, the escaped
// path, the query, the tool's own headers, and the body decoded.
func ExampleOf(req *patchbay.UpstreamRequest) (patchbay.ExampleRequest, error) {
	out := patchbay.ExampleRequest{Method: req.Method, Path: req.Path}
	if len(req.Query) > 0 {
		out.Query = map[string]string{}
		for k, vs := range req.Query {
			out.Query[k] = strings.Join(vs, "&")
		}
	}
	if len(req.Header) > 0 {
		out.Headers = map[string]string{}
		for k, vs := range req.Header {
			out.Headers[k] = strings.Join(vs, ", ")
		}
	}
	return out, DecodeBody(req.ContentType, req.Body, &out)
}

// DecodeBody fills e's Body (JSON) or Form (form-encoded) from a body.
func DecodeBody(contentType string, body []byte, e *patchbay.ExampleRequest) error {
	if len(body) == 0 {
		return nil
	}
	if strings.HasPrefix(contentType, "application/x-www-form-urlencoded") {
		vals, err := parseForm(string(body))
		if err != nil {
			return err
		}
		e.Form = vals
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return dec.Decode(&e.Body)
}

// SameRequest compares a request with an example's, naming the first
// difference.
func SameRequest(got, want patchbay.ExampleRequest) error {
	switch {
	case got.Method != want.Method:
		return fmt.Errorf("method %s, want %s", got.Method, want.Method)
	case got.Path != want.Path:
		return fmt.Errorf("path %s, want %s", got.Path, want.Path)
	case !sameJSON(orEmpty(got.Query), orEmpty(want.Query)):
		return fmt.Errorf("query %s, want %s", mustJSON(got.Query), mustJSON(want.Query))
	case !sameJSON(canonHeaders(got.Headers), canonHeaders(want.Headers)):
		return fmt.Errorf("headers %s, want %s", mustJSON(got.Headers), mustJSON(want.Headers))
	case !sameJSON(got.Body, want.Body):
		return fmt.Errorf("body %s, want %s", mustJSON(got.Body), mustJSON(want.Body))
	case !sameJSON(orEmpty(got.Form), orEmpty(want.Form)):
		return fmt.Errorf("form %s, want %s", mustJSON(got.Form), mustJSON(want.Form))
	}
	return nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func canonHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[strings.ToLower(k)] = v
	}
	return out
}

// sameJSON compares two values by their JSON encodings, so numbers of any
// Go type and maps in any order compare equal.
func sameJSON(a, b any) bool {
	return string(canonical(a)) == string(canonical(b))
}

func canonical(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var x any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&x) != nil {
		return raw
	}
	out, _ := json.Marshal(x)
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// parseForm decodes a form body; a key given twice keeps both values,
// joined by "&" as ExampleOf joins a query's.
func parseForm(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(s, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, err
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		if prev, ok := out[key]; ok {
			val = prev + "&" + val
		}
		out[key] = val
	}
	return out, nil
}
