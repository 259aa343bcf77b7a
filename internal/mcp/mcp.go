// Package mcp is patchbay's Model Context Protocol surface: a user's tools
// over Streamable HTTP, served by the official MCP Go SDK in stateless
// mode, so the current protocol revision (no initialize, no session) and
// the older ones deployed clients still send (initialize, then requests)
// are both answered, and every HTTP request is authenticated on its own.
//
// A configuration's endpoint is /v3/mcp/{id}/mcp (also /v3/mcp/{id}), a
// tool router session's /tool_router/{id}/mcp (with the project key). A
// request is authenticated before any JSON-RPC is read, through
// Service.OpenMCP: a project API key in x-api-key with the user in
// ?user_id=, or a signed per-user URL (?user_id=&sig=). tools/list serves
// the configuration's tools with their catalog JSON Schemas; tools/call
// runs Service.ExecuteMCPTool, the path POST /tools/execute takes. Like every
// surface it reaches the domain only through the Service.
package mcp

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// Config wires a Server.
type Config struct {
	Service *patchbay.Service
	Log     *slog.Logger
	Version string // patchbay's version, as the MCP serverInfo
	// MaxBody caps a JSON-RPC request body (default 1 MiB, as the rest of
	// patchbay).
	MaxBody int64
}

// Server is the MCP surface. One SDK server serves every configuration:
// the tools methods are answered by a middleware from the request's
// authenticated access, so no per-request server or tool registry is
// built.
type Server struct {
	svc     *patchbay.Service
	log     *slog.Logger
	handler http.Handler
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{svc: cfg.Service, log: cfg.Log}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	version := cfg.Version
	if version == "" {
		version = "dev"
	}
	maxBody := cfg.MaxBody
	if maxBody == 0 {
		maxBody = 1 << 20
	}
	// The SDK logs every session's start and end at Info: in stateless
	// mode, three lines per request. It gets warnings and errors only; the
	// access log already has one line per request.
	sdkLog := slog.New(warnOnly{s.log.Handler()})
	srv := sdk.NewServer(&sdk.Implementation{Name: "patchbay", Title: "patchbay", Version: version}, &sdk.ServerOptions{
		Instructions: "Tools of the apps this user connected through patchbay. Each tool's result is JSON: {data, error, successful, log_id}.",
		Capabilities: &sdk.ServerCapabilities{Tools: &sdk.ToolCapabilities{}},
		Logger:       sdkLog,
	})
	srv.AddReceivingMiddleware(s.tools)
	s.handler = sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv }, &sdk.StreamableHTTPOptions{
		// Stateless: the 2026-07-28 revision needs it, older clients
		// still initialize (with no session ID to keep), and nothing
		// outlives the request that authenticated it.
		Stateless:           true,
		JSONResponse:        true,
		Logger:              sdkLog,
		MaxRequestBodyBytes: maxBody,
		// patchbay runs behind proxies and on loopback in tests with any
		// Host; requests are authenticated by key or signature, not by
		// where they come from.
		DisableLocalhostProtection: true,
	})
	return s
}

// warnOnly passes on the records of Warn and above.
type warnOnly struct{ slog.Handler }

func (h warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnOnly) WithAttrs(as []slog.Attr) slog.Handler { return warnOnly{h.Handler.WithAttrs(as)} }
func (h warnOnly) WithGroup(name string) slog.Handler    { return warnOnly{h.Handler.WithGroup(name)} }

// Mount puts the surface on hs.
func (s *Server) Mount(hs *httpserver.Server) {
	sf := httpserver.NewSurface(s.log, envelope)
	sf.Handle(patchbay.MCPPathPrefix+"{id}"+patchbay.MCPPathSuffix, s.serve)
	sf.Handle(patchbay.MCPPathPrefix+"{id}", s.serve)
	sf.Handle(patchbay.ToolRouterMCPPath("{id}"), s.serveSession)
	hs.Mount(sf, patchbay.MCPPathPrefix, "/tool_router/")
}

type ctxKey struct{}

// request is what the tools middleware learns about its HTTP request.
type request struct {
	access *patchbay.MCPAccess
	origin string
}

// serve authenticates the request, then hands it to the SDK. A refused
// credential is a 401 before any JSON-RPC is read.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	a, err := s.svc.OpenMCP(r.Context(), patchbay.MCPRequest{
		ServerID: r.PathValue("id"), UserID: q.Get("user_id"), Signature: q.Get("sig"),
		APIKey: r.Header.Get("X-Api-Key"), IP: httpserver.ClientIP(r),
	})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	ctx := context.WithValue(r.Context(), ctxKey{}, &request{access: a, origin: httpserver.PublicOrigin(r)})
	s.handler.ServeHTTP(w, r.WithContext(ctx))
	return nil
}

// serveSession is serve for a tool router session's endpoint: the
// session's project key in x-api-key (the headers @composio/core puts in
// session.mcp), the user from the session.
func (s *Server) serveSession(w http.ResponseWriter, r *http.Request) error {
	a, err := s.svc.OpenToolRouterMCP(r.Context(), r.Header.Get("X-Api-Key"), r.PathValue("id"), httpserver.ClientIP(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	ctx := context.WithValue(r.Context(), ctxKey{}, &request{access: a, origin: httpserver.PublicOrigin(r)})
	s.handler.ServeHTTP(w, r.WithContext(ctx))
	return nil
}

// envelope writes a failure before JSON-RPC as a JSON-RPC error object
// (with no id), which MCP clients show as is.
func envelope(w http.ResponseWriter, r *http.Request, f *httpserver.Failure) {
	httpserver.WriteJSON(w, f.Status, map[string]any{
		"jsonrpc": "2.0", "id": nil,
		"error": map[string]any{"code": -32001, "message": f.Message, "data": map[string]any{"status": f.Status, "code": f.Code, "request_id": f.RequestID}},
	})
}

// tools answers tools/list and tools/call from the request's access and
// passes every other method to the SDK.
func (s *Server) tools(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		rq, _ := ctx.Value(ctxKey{}).(*request)
		switch {
		case rq == nil:
			return next(ctx, method, req)
		case method == "tools/list":
			return s.listTools(rq)
		case method == "tools/call":
			call, ok := req.(*sdk.CallToolRequest)
			if !ok || call.Params == nil {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "tools/call needs params {name, arguments}."}
			}
			return s.callTool(ctx, rq, call.Params)
		}
		return next(ctx, method, req)
	}
}

func (s *Server) listTools(rq *request) (*sdk.ListToolsResult, error) {
	tools, err := s.svc.MCPTools(rq.access)
	if err != nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: patchbay.ErrorMessage(err)}
	}
	out := make([]*sdk.Tool, 0, len(tools))
	for _, t := range tools {
		out = append(out, toMCPTool(t))
	}
	return &sdk.ListToolsResult{Tools: out}, nil
}

// toMCPTool is a catalog tool as MCP lists it: named by its slug, with the
// input schema GET /tools shows, and hints from its HTTP method.
func toMCPTool(t *patchbay.Tool) *sdk.Tool {
	method := strings.ToUpper(t.Request.Method)
	readOnly := method == http.MethodGet || method == http.MethodHead
	destructive := method == http.MethodDelete
	open := true
	return &sdk.Tool{
		Name: t.Slug, Title: t.Name, Description: t.Description, InputSchema: json.RawMessage(t.InputParameters),
		Annotations: &sdk.ToolAnnotations{
			Title: t.Name, ReadOnlyHint: readOnly, DestructiveHint: &destructive, OpenWorldHint: &open,
			IdempotentHint: readOnly || method == http.MethodPut || destructive,
		},
	}
}

// callTool runs a tool for the access's user. An unknown or disallowed
// tool is the JSON-RPC error -32602; anything else that goes wrong is a
// tool result with isError and the domain's message, which never holds a
// secret (internal causes read "Internal error.").
func (s *Server) callTool(ctx context.Context, rq *request, params *sdk.CallToolParamsRaw) (*sdk.CallToolResult, error) {
	a := rq.access
	t, err := s.svc.Tool(a.Principal, params.Name)
	if err != nil || !patchbay.MCPAllows(a.Server, t) {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "Unknown tool " + patchbay.Truncate(params.Name, 80) + ": tools/list names the tools of this MCP server."}
	}
	args := map[string]any{}
	if raw := strings.TrimSpace(string(params.Arguments)); raw != "" && raw != "null" {
		if err := json.Unmarshal(params.Arguments, &args); err != nil {
			return textError("Invalid arguments for " + t.Slug + ": they must be a JSON object."), nil
		}
	}
	res, err := s.svc.ExecuteMCPTool(ctx, a, t.Slug, args)
	switch {
	case patchbay.ErrorCode(err) == patchbay.ENOACCOUNT:
		return textError(s.svc.MCPConnectHint(ctx, a, t.Toolkit, rq.origin)), nil
	case err != nil:
		if patchbay.ErrorCode(err) == patchbay.EINTERNAL {
			s.log.ErrorContext(ctx, "MCP tool call failed", "tool", t.Slug, "err", err)
		}
		return textError(patchbay.ErrorMessage(err)), nil
	}
	out := map[string]any{"data": res.Data, "successful": res.Successful, "error": nil, "log_id": res.LogID}
	if !res.Successful {
		out["error"] = res.Error
	}
	b, err := json.Marshal(out)
	if err != nil {
		return textError("The tool's answer could not be encoded as JSON."), nil
	}
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(b)}}, StructuredContent: json.RawMessage(b), IsError: !res.Successful}, nil
}

func textError(msg string) *sdk.CallToolResult {
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: msg}}, IsError: true}
}
