package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// v3Tool is a tool on the v3.1 wire (§4.6). Optional fields the SDK types
// as .optional() are never null.
type v3Tool struct {
	Slug              string          `json:"slug"`
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	HumanDescription  string          `json:"human_description"`
	Toolkit           v3ToolToolkit   `json:"toolkit"`
	InputParameters   json.RawMessage `json:"input_parameters"`
	OutputParameters  json.RawMessage `json:"output_parameters"`
	NoAuth            bool            `json:"no_auth"`
	Version           string          `json:"version"`
	AvailableVersions []string        `json:"available_versions"`
	Scopes            []string        `json:"scopes"`
	Tags              []string        `json:"tags"`
	IsDeprecated      bool            `json:"is_deprecated"`
	Deprecated        v3ToolDeprecate `json:"deprecated"`
}

type v3ToolToolkit struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
	Logo string `json:"logo"`
}

type v3ToolDeprecate struct {
	DisplayName       string            `json:"displayName"`
	Version           string            `json:"version"`
	AvailableVersions []string          `json:"available_versions"`
	IsDeprecated      bool              `json:"is_deprecated"`
	Toolkit           map[string]string `json:"toolkit"`
}

// outputEnvelope wraps a tool's data schema in the {data, error,
// successful} envelope an execution answers with: the Python SDK reads
// the envelope's properties to post-process results, and needs data typed.
func outputEnvelope(data json.RawMessage) json.RawMessage {
	var schema map[string]any
	if json.Unmarshal(data, &schema) != nil || schema == nil {
		schema = map[string]any{"type": "object"}
	}
	if _, ok := schema["description"]; !ok {
		schema["description"] = "What the app returned."
	}
	b, _ := json.Marshal(map[string]any{
		"type":  "object",
		"title": "Result",
		"properties": map[string]any{
			"data":       schema,
			"successful": map[string]any{"type": "boolean", "description": "Whether the app carried out the call."},
			"error":      map[string]any{"type": []string{"string", "null"}, "description": "Why the call failed, or null."},
		},
		"required": []string{"data", "successful"},
	})
	return b
}

func toV3Tool(tk *patchbay.Toolkit, t *patchbay.Tool) v3Tool {
	return v3Tool{
		Slug: t.Slug, Name: t.Name, Description: t.Description, HumanDescription: t.Description,
		Toolkit:         v3ToolToolkit{Slug: tk.Slug, Name: tk.Name, Logo: tk.Logo},
		InputParameters: t.InputParameters, OutputParameters: outputEnvelope(t.OutputParameters),
		NoAuth: tk.NoAuth(), Version: t.Version, AvailableVersions: []string{t.Version}, Scopes: []string{}, Tags: t.Tags,
		Deprecated: v3ToolDeprecate{DisplayName: t.Name, Version: t.Version, AvailableVersions: []string{t.Version},
			Toolkit: map[string]string{"logo": tk.Logo}},
	}
}

// checkToolVersion checks ?version= (or a toolkit_versions naming one)
// against the tool's: only "latest" or the catalog's version exist.
func checkToolVersion(r *http.Request, t *patchbay.Tool) error {
	v := r.URL.Query().Get("version")
	if v == "" || v == "latest" || v == t.Version {
		return nil
	}
	return errorf(patchbay.ENOTFOUND, "Tool %s has no version %q; available: %s (or \"latest\").", t.Slug, patchbay.Truncate(v, 40), t.Version)
}

// listTools: GET /tools?toolkit_slug=&tool_slugs=&tags=&important=&query=&search=&limit=&cursor=&toolkit_versions=.
func (s *Server) listTools(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryPageSize(r, "limit", 100, 1000)
	if err != nil {
		return err
	}
	page, after, err := decodeCursor(r)
	if err != nil {
		return err
	}
	important, err := queryBool(r, "important")
	if err != nil {
		return err
	}
	search := r.URL.Query().Get("query")
	if search == "" {
		search = r.URL.Query().Get("search")
	}
	f := patchbay.ToolFilter{
		Toolkits: queryList(r, "toolkit_slug"), Slugs: queryList(r, "tool_slugs"), Tags: queryList(r, "tags"),
		Important: important != nil && *important, Search: search, After: after, Limit: limit,
	}
	p := principal(r)
	tools, total, err := s.svc.Tools(p, f)
	if err != nil {
		return err
	}
	items, err := wireTools(s.svc, p, tools, toV3Tool)
	if err != nil {
		return err
	}
	out := v3Page{Items: items, TotalItems: total, TotalPages: totalPages(total, limit), CurrentPage: page}
	if len(tools) == limit && (page-1)*limit+len(tools) < total {
		out.NextCursor = encodeCursor(page+1, tools[len(tools)-1].Slug)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getTool: GET /tools/{slug}?version=&toolkit_versions=.
func (s *Server) getTool(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	t, err := s.svc.Tool(p, r.PathValue("slug"))
	if err != nil {
		return err
	}
	if err := checkToolVersion(r, t); err != nil {
		return err
	}
	tk, err := s.svc.FindToolkit(p, t.Toolkit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toV3Tool(tk, t))
	return nil
}

// toolsEnum: GET /tools/enum, every tool slug.
func (s *Server) toolsEnum(w http.ResponseWriter, r *http.Request) error {
	tools, _, err := s.svc.Tools(principal(r), patchbay.ToolFilter{})
	if err != nil {
		return err
	}
	slugs := make([]string, len(tools))
	for i, t := range tools {
		slugs[i] = t.Slug
	}
	writeJSON(w, http.StatusOK, slugs)
	return nil
}

type v3ExecuteRequest struct {
	ConnectedAccountID   *string        `json:"connected_account_id"`
	EntityID             *string        `json:"entity_id"`
	UserID               *string        `json:"user_id"`
	Version              *string        `json:"version"`
	Arguments            map[string]any `json:"arguments"`
	Text                 *string        `json:"text"`
	AllowTracing         *bool          `json:"allow_tracing"`
	CustomAuthParams     any            `json:"custom_auth_params"`
	CustomConnectionData any            `json:"custom_connection_data"`
}

// v3ExecuteResponse is §4.7's answer: data always an object, error
// present (null on success), log_id never null.
type v3ExecuteResponse struct {
	Data       map[string]any `json:"data"`
	Error      *string        `json:"error"`
	Successful bool           `json:"successful"`
	LogID      string         `json:"log_id,omitempty"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// executeTool: POST /tools/execute/{slug}.
func (s *Server) executeTool(w http.ResponseWriter, r *http.Request) error {
	var req v3ExecuteRequest
	if err := decodeJSON(r, &req, true); err != nil {
		return err
	}
	if err := unsupportedExecuteParts(str(req.Text), req.Arguments, req.CustomAuthParams, req.CustomConnectionData); err != nil {
		return err
	}
	user := str(req.UserID)
	if user == "" {
		user = str(req.EntityID)
	}
	res, err := s.svc.ExecuteTool(r.Context(), principal(r), patchbay.ToolCall{
		Tool: r.PathValue("slug"), Version: str(req.Version), ConnectedAccountID: str(req.ConnectedAccountID),
		UserID: user, Arguments: req.Arguments,
	})
	if err != nil {
		return err
	}
	out := v3ExecuteResponse{Data: res.Data, Successful: res.Successful, LogID: res.LogID}
	if !res.Successful {
		out.Error = &res.Error
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// unsupportedExecuteParts refuses, clearly, what patchbay does not do.
func unsupportedExecuteParts(text string, args map[string]any, customAuth, customConn any) error {
	switch {
	case strings.TrimSpace(text) != "" && len(args) == 0:
		return errorf(patchbay.EINVALID, "patchbay does not turn natural-language text into arguments: pass arguments.")
	case customAuth != nil:
		return errorf(patchbay.EINVALID, "custom_auth_params is not supported: connect the user (an ACTIVE connected account) and patchbay injects the credentials.")
	case customConn != nil:
		return errorf(patchbay.EINVALID, "custom_connection_data is not supported: connect the user (an ACTIVE connected account) and patchbay injects the credentials.")
	}
	return nil
}

type proxyParameter struct {
	Name  string `json:"name"`
	Type  string `json:"type"` // v3: "header" | "query"
	In    string `json:"in"`   // legacy spelling
	Value any    `json:"value"`
}

type v3ProxyRequest struct {
	Endpoint           *string          `json:"endpoint"`
	Method             *string          `json:"method"`
	Body               json.RawMessage  `json:"body"`
	ConnectedAccountID *string          `json:"connected_account_id"`
	Parameters         []proxyParameter `json:"parameters"`
	BinaryBody         *struct {
		Base64      string `json:"base64"`
		URL         string `json:"url"`
		ContentType string `json:"content_type"`
	} `json:"binary_body"`
}

// proxyCall turns the wire parameters into a domain call.
func proxyCall(account, endpoint, method string, params []proxyParameter) (patchbay.ProxyCall, error) {
	call := patchbay.ProxyCall{ConnectedAccountID: account, Endpoint: endpoint, Method: method, Headers: http.Header{}, Query: url.Values{}}
	for i, p := range params {
		where := strings.ToLower(p.Type)
		if where == "" {
			where = strings.ToLower(p.In)
		}
		if p.Name == "" {
			return call, errorf(patchbay.EINVALID, "parameters[%d].name is required.", i)
		}
		v := scalarString(p.Value)
		switch where {
		case "header":
			call.Headers.Add(p.Name, v)
		case "query":
			call.Query.Add(p.Name, v)
		default:
			return call, errorf(patchbay.EINVALID, "parameters[%d] (%s) must be in \"header\" or \"query\"; got %q.", i, patchbay.Truncate(p.Name, 40), patchbay.Truncate(where, 20))
		}
	}
	return call, nil
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// proxyBody is a JSON body as sent: absent or null means none.
func proxyBody(raw json.RawMessage) ([]byte, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, ""
	}
	return raw, "application/json"
}

// proxyExecute: POST /tools/execute/proxy.
func (s *Server) proxyExecute(w http.ResponseWriter, r *http.Request) error {
	var req v3ProxyRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	call, err := proxyCall(str(req.ConnectedAccountID), str(req.Endpoint), str(req.Method), req.Parameters)
	if err != nil {
		return err
	}
	call.Body, call.ContentType = proxyBody(req.Body)
	if b := req.BinaryBody; b != nil {
		if b.URL != "" {
			return errorf(patchbay.EINVALID, "binary_body.url is not supported: send the bytes as binary_body.base64.")
		}
		data, err := base64.StdEncoding.DecodeString(b.Base64)
		if err != nil {
			return errorf(patchbay.EINVALID, "binary_body.base64 is not valid base64.")
		}
		call.Body, call.ContentType = data, b.ContentType
	}
	resp, err := s.svc.Proxy(r.Context(), principal(r), call)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, proxyAnswer(resp))
	return nil
}

// proxyAnswer is the app's answer as the v3.1 proxy returns it: status,
// headers, and the body as JSON data, as text, or (binary) as a data: URL
// in binary_data, byte for byte.
func proxyAnswer(resp *patchbay.UpstreamResponse) map[string]any {
	headers := map[string]string{}
	for k, vs := range resp.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	out := map[string]any{"status": resp.Status, "headers": headers}
	if len(resp.Body) == 0 {
		return out
	}
	ct := resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case (strings.Contains(mt, "json") || mt == "") && json.Valid(resp.Body):
		// As the app sent it (compacted on the way out): no decoding, and
		// large integers keep every digit.
		out["data"] = json.RawMessage(resp.Body)
	case (strings.HasPrefix(mt, "text/") || strings.Contains(mt, "xml") || mt == "") && utf8.Valid(resp.Body):
		out["data"] = string(resp.Body)
	default:
		if ct == "" {
			ct = "application/octet-stream"
		}
		out["binary_data"] = map[string]any{
			"url":          "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(resp.Body),
			"content_type": ct,
			"size":         len(resp.Body),
		}
	}
	return out
}

// wireTools converts tools for a wire, each with its toolkit.
func wireTools[T any](svc *patchbay.Service, p *patchbay.Principal, tools []*patchbay.Tool, conv func(*patchbay.Toolkit, *patchbay.Tool) T) ([]T, error) {
	out := make([]T, 0, len(tools))
	for _, t := range tools {
		tk, err := svc.FindToolkit(p, t.Toolkit)
		if err != nil {
			return nil, err
		}
		out = append(out, conv(tk, t))
	}
	return out, nil
}
