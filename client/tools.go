package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Tool is one action of a toolkit (GITHUB_CREATE_AN_ISSUE, …) that an
// agent can call through ExecuteTool.
type Tool struct {
	Slug        string `json:"slug"` // e.g. "GITHUB_CREATE_AN_ISSUE"
	Name        string `json:"name"`
	Description string `json:"description"`
	Toolkit     struct {
		Slug string `json:"slug"`
		Name string `json:"name"`
		Logo string `json:"logo"`
	} `json:"toolkit"`
	// InputParameters is the JSON Schema of the tool's arguments.
	InputParameters json.RawMessage `json:"input_parameters"`
	// OutputParameters is the JSON Schema of an execution's answer: the
	// {data, successful, error} envelope.
	OutputParameters json.RawMessage `json:"output_parameters"`
	Version          string          `json:"version"`
	Tags             []string        `json:"tags"` // e.g. "important", "readOnlyHint"
	// NoAuth reports a tool whose toolkit needs no connected account.
	NoAuth bool `json:"no_auth"`
}

// ToolListParams filter Tools; each list matches any of its values. Zero
// values are left out.
type ToolListParams struct {
	Toolkits []string // toolkit slugs
	Slugs    []string // tool slugs
	Tags     []string
	// Important keeps only the tools tagged "important" of the toolkits
	// that tag any so; a toolkit that tags none lists all of its tools.
	Important bool
	Search    string // words that must all appear in the slug, name or description
	Limit     int    // page size; the server's default is 100
	Cursor    string // NextCursor of the previous page
}

// ToolPage is a page of tools.
type ToolPage = Page[Tool]

// Tools lists tools, a page at a time. ErrInvalid for an unknown toolkit
// or a bad cursor or limit.
func (c *Client) Tools(ctx context.Context, p ToolListParams) (*ToolPage, error) {
	q := query{}
	q.list("toolkit_slug", p.Toolkits)
	q.list("tool_slugs", p.Slugs)
	q.list("tags", p.Tags)
	q.bool("important", p.Important)
	q.str("query", p.Search)
	q.int("limit", p.Limit)
	q.str("cursor", p.Cursor)
	var w wirePage[Tool]
	if err := c.do(ctx, request{method: "GET", path: v3 + "/tools", query: url.Values(q), auth: authProject}, &w); err != nil {
		return nil, err
	}
	return w.page(), nil
}

// Tool returns a tool with its input and output schemas. version is ""
// or "latest" for the current version, or a version the tool has.
// ErrNotFound for an unknown slug or a version the tool does not have.
func (c *Client) Tool(ctx context.Context, slug, version string) (*Tool, error) {
	if slug == "" {
		return nil, errors.New("patchbay: Tool needs a tool slug")
	}
	q := query{}
	q.str("version", version)
	var t Tool
	if err := c.do(ctx, request{method: "GET", path: pathf(v3+"/tools/%s", slug), query: url.Values(q), auth: authProject}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ExecuteParams describe one execution of a tool. Name the user, the
// connected account, or both; a tool of a toolkit without auth needs
// neither.
type ExecuteParams struct {
	// UserID runs the tool as the user's one ACTIVE, enabled account of
	// the tool's toolkit.
	UserID string
	// ConnectedAccountID runs it as that account (which must be the
	// user's, when UserID is set too).
	ConnectedAccountID string
	// Version is "" (sent as "latest") or a version the tool has.
	Version string
	// Arguments match the tool's InputParameters; nil sends none.
	Arguments map[string]any
}

// ExecuteResult is the outcome of an execution.
type ExecuteResult struct {
	// Data is what the app answered, in the shape of the tool's output
	// schema; it may hold the app's error body when Successful is false.
	Data map[string]any
	// Error says why the app did not carry out the call ("" when it
	// did), e.g. "GitHub answered HTTP 404: Not Found.".
	Error      string
	Successful bool
	LogID      string // the execution's log entry on the server
}

// ExecuteTool runs a tool with the credentials of a connected account,
// which patchbay injects; the caller never sees them. An app that refuses
// the call (an HTTP error of its own, an unreachable host) is not an
// error: the result has Successful false and Error saying why.
//
// The server's refusals are *Error values: ErrNotFound for an unknown
// tool or version, ErrInvalid for arguments that do not match the schema
// or an account that cannot be used (disabled, not ACTIVE, another
// toolkit's, or one of several when only UserID is given). When no
// account matches, IsNoConnectedAccount reports true (the error is also
// ErrInvalid).
func (c *Client) ExecuteTool(ctx context.Context, slug string, p ExecuteParams) (*ExecuteResult, error) {
	if slug == "" {
		return nil, errors.New("patchbay: ExecuteTool needs a tool slug")
	}
	args := p.Arguments
	if args == nil {
		args = map[string]any{}
	}
	body := struct {
		UserID             string         `json:"user_id"`
		ConnectedAccountID string         `json:"connected_account_id,omitempty"`
		Version            string         `json:"version"`
		Arguments          map[string]any `json:"arguments"`
	}{p.UserID, p.ConnectedAccountID, firstNonEmpty(p.Version, "latest"), args}
	var out struct {
		Data       map[string]any `json:"data"`
		Error      *string        `json:"error"`
		Successful bool           `json:"successful"`
		LogID      string         `json:"log_id"`
	}
	if err := c.do(ctx, request{method: "POST", path: pathf(v3+"/tools/execute/%s", slug), auth: authProject, body: body}, &out); err != nil {
		return nil, err
	}
	res := &ExecuteResult{Data: out.Data, Error: str(out.Error), Successful: out.Successful, LogID: out.LogID}
	if res.Data == nil {
		res.Data = map[string]any{}
	}
	return res, nil
}

// The v3 error of a call that needs a connected account and finds none.
const (
	noAccountCode = 1803
	noAccountSlug = "connected_account_not_found"
)

// IsNoConnectedAccount reports whether err (or an error it wraps) is the
// server's answer that no connected account matches a call: the user has
// no ACTIVE, enabled account of the tool's toolkit, or the named account
// does not exist. Connect the user (InitiateConnection) and call again.
func IsNoConnectedAccount(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Code == noAccountCode || e.Slug == noAccountSlug)
}

// ProxyParams describe a request to any endpoint of a connected account's
// app, sent with the account's credentials.
type ProxyParams struct {
	ConnectedAccountID string // required
	// Endpoint is a path relative to the account's base URL (e.g.
	// "/user/repos?per_page=5"), or an absolute URL on the same origin and
	// under the base path; any other URL is refused with ErrInvalid.
	Endpoint string
	// Method is GET, POST, PUT, PATCH, DELETE or HEAD; "" is GET.
	Method string
	// Headers are sent to the app, except Authorization and Cookie: the
	// server drops them, as only the account's credentials authenticate.
	Headers map[string]string
	// Query is added to the endpoint's own query.
	Query map[string]string
	// Body is sent as JSON; nil sends none.
	Body any
}

// ProxyResult is the app's answer as it came.
type ProxyResult struct {
	Status  int               // the app's HTTP status
	Headers map[string]string // lower-case names; repeated headers joined with ", "
	// Data is the body: decoded JSON, or a string for text; nil when the
	// body is empty or binary.
	Data any
	// Binary holds a body that is neither JSON nor text; nil otherwise.
	Binary *ProxyBinary
}

// ProxyBinary is a binary body of a proxied answer.
type ProxyBinary struct {
	URL         string // a data: URL holding the bytes
	ContentType string
	Size        int // the body's length in bytes
}

// Bytes decodes the body from its data: URL (base64 or percent-encoded).
// It fails on a URL of another scheme, which it does not fetch, on a
// malformed one, and when the decoded length is not Size.
func (b *ProxyBinary) Bytes() ([]byte, error) {
	rest, ok := strings.CutPrefix(b.URL, "data:")
	if !ok {
		scheme, _, _ := strings.Cut(b.URL, ":")
		return nil, fmt.Errorf("patchbay: binary body is at a %s URL, not in a data: URL; fetch it yourself", shorten(scheme, 20))
	}
	meta, payload, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, errors.New("patchbay: malformed data: URL (no comma)")
	}
	var data []byte
	var err error
	if strings.HasSuffix(strings.ToLower(meta), ";base64") {
		data, err = base64.StdEncoding.DecodeString(payload)
		if err != nil {
			data, err = base64.RawStdEncoding.DecodeString(payload)
		}
	} else {
		var s string
		s, err = url.PathUnescape(payload)
		data = []byte(s)
	}
	if err != nil {
		return nil, fmt.Errorf("patchbay: malformed data: URL: %w", err)
	}
	if b.Size > 0 && len(data) != b.Size {
		return nil, fmt.Errorf("patchbay: binary body decodes to %d bytes, the server announced %d", len(data), b.Size)
	}
	return data, nil
}

// Proxy sends a request to a connected account's app with the account's
// credentials, which patchbay injects, and returns the app's answer. An
// app's error status is not an error: it is the result's Status.
//
// ErrInvalid for an endpoint on another origin, a bad method or no
// ConnectedAccountID; IsNoConnectedAccount reports an unknown account.
func (c *Client) Proxy(ctx context.Context, p ProxyParams) (*ProxyResult, error) {
	type param struct {
		Name  string `json:"name"`
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	params := make([]param, 0, len(p.Headers)+len(p.Query))
	for _, set := range []struct {
		where string
		m     map[string]string
	}{{"header", p.Headers}, {"query", p.Query}} {
		names := make([]string, 0, len(set.m))
		for k := range set.m {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			params = append(params, param{k, set.where, set.m[k]})
		}
	}
	body := struct {
		ConnectedAccountID string  `json:"connected_account_id"`
		Endpoint           string  `json:"endpoint"`
		Method             string  `json:"method"`
		Parameters         []param `json:"parameters"`
		Body               any     `json:"body,omitempty"`
	}{p.ConnectedAccountID, p.Endpoint, strings.ToUpper(firstNonEmpty(p.Method, "GET")), params, p.Body}
	var out struct {
		Status     int               `json:"status"`
		Headers    map[string]string `json:"headers"`
		Data       any               `json:"data"`
		BinaryData *struct {
			URL         string `json:"url"`
			ContentType string `json:"content_type"`
			Size        int    `json:"size"`
		} `json:"binary_data"`
	}
	if err := c.do(ctx, request{method: "POST", path: v3 + "/tools/execute/proxy", auth: authProject, body: body}, &out); err != nil {
		return nil, err
	}
	res := &ProxyResult{Status: out.Status, Headers: out.Headers, Data: out.Data}
	if res.Headers == nil {
		res.Headers = map[string]string{}
	}
	if b := out.BinaryData; b != nil {
		res.Binary = &ProxyBinary{URL: b.URL, ContentType: b.ContentType, Size: b.Size}
	}
	return res, nil
}

// OpenAITool is a tool as an OpenAI function definition, the element of
// the "tools" list of a chat completion request. It marshals to
// {"type":"function","function":{"name","description","parameters"}}.
type OpenAITool struct {
	Type     string         `json:"type"` // "function"
	Function OpenAIFunction `json:"function"`
}

// OpenAIFunction is the function of an OpenAITool.
type OpenAIFunction struct {
	Name        string          `json:"name"` // the tool's slug: pass it to ExecuteTool
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"` // the tool's input schema
}

// ToolSchema returns t as an OpenAI function definition: its slug as the
// name, its description, and its input parameters as the parameters (an
// empty object schema when t has none). A model's tool call then names
// the slug and carries the arguments for ExecuteTool.
func ToolSchema(t Tool) OpenAITool {
	params := t.InputParameters
	if trimmed := strings.TrimSpace(string(params)); trimmed == "" || trimmed == "null" {
		params = json.RawMessage(`{"type":"object","properties":{}}`)
	}
	return OpenAITool{Type: "function", Function: OpenAIFunction{Name: t.Slug, Description: t.Description, Parameters: params}}
}
