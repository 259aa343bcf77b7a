package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// legacyAction is a tool as the legacy SDKs read it (ActionDetails in the
// Node SDK, ActionModel in the Python SDK): name is the upper-case slug,
// appName the lower-case toolkit slug, and parameters and response carry
// title, type and properties, which the Python SDK requires.
type legacyAction struct {
	Name              string          `json:"name"`
	DisplayName       string          `json:"displayName"`
	Description       string          `json:"description"`
	Parameters        json.RawMessage `json:"parameters"`
	Response          json.RawMessage `json:"response"`
	AppKey            string          `json:"appKey"`
	AppName           string          `json:"appName"`
	AppID             string          `json:"appId"`
	Version           string          `json:"version"`
	AvailableVersions []string        `json:"available_versions"`
	NoAuth            bool            `json:"no_auth"`
	Logo              string          `json:"logo"`
	Tags              []string        `json:"tags"`
	Deprecated        bool            `json:"deprecated"`
	Enabled           bool            `json:"enabled"`
}

// titled returns schema with a title, which the Python SDK requires on
// both parameters and response.
func titled(schema json.RawMessage, title string) json.RawMessage {
	var m map[string]any
	if json.Unmarshal(schema, &m) != nil || m == nil {
		m = map[string]any{"type": "object", "properties": map[string]any{}}
	}
	if _, ok := m["title"]; !ok {
		m["title"] = title
	}
	if _, ok := m["properties"]; !ok {
		m["properties"] = map[string]any{}
	}
	b, _ := json.Marshal(m)
	return b
}

func toLegacyAction(tk *patchbay.Toolkit, t *patchbay.Tool) legacyAction {
	return legacyAction{
		Name: t.Slug, DisplayName: t.Name, Description: t.Description,
		Parameters: titled(t.InputParameters, t.Name+"Request"), Response: titled(outputEnvelope(t.OutputParameters), t.Name+"Response"),
		AppKey: tk.Slug, AppName: tk.Slug, AppID: stableUUID(tk.Slug), Version: t.Version, AvailableVersions: []string{t.Version},
		NoAuth: tk.NoAuth(), Logo: tk.Logo, Tags: t.Tags, Enabled: true,
	}
}

// legacyDefaultActions bounds a listing that names no app and no action
// (the Node SDK sends one when an SDK bug drops its filter).
const legacyDefaultActions = 50

// legacyListActions: GET /api/v2/actions[?apps=&actions=&tags=&useCase=&limit=&filterImportantActions=].
// With apps, every action of those apps (the Python SDK's get_tools needs
// them all); without a filter, a bounded first page.
func (s *Server) legacyListActions(w http.ResponseWriter, r *http.Request) error {
	apps, actions := queryList(r, "apps"), queryList(r, "actions")
	def := 1000
	if len(apps) == 0 && len(actions) == 0 {
		def = legacyDefaultActions
	}
	limit, err := queryPageSize(r, "limit", def, 1000)
	if err != nil {
		return err
	}
	important, err := queryBool(r, "filterImportantActions")
	if err != nil {
		return err
	}
	f := patchbay.ToolFilter{
		Toolkits: apps, Slugs: actions, Tags: queryList(r, "tags"), Search: r.URL.Query().Get("useCase"),
		Important: important != nil && *important, Limit: limit,
	}
	p := principal(r)
	tools, total, err := s.svc.Tools(p, f)
	if err != nil {
		return err
	}
	items, err := wireTools(s.svc, p, tools, toLegacyAction)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "page": 1, "totalPages": totalPages(total, limit)})
	return nil
}

// legacyGetAction: GET /api/v2/actions/{name}: one object, matched
// ignoring case. An unknown one is a 404 whose message says "Not Found",
// which the Python SDK reads as an unknown action.
func (s *Server) legacyGetAction(w http.ResponseWriter, r *http.Request) error {
	name, err := pathID(r, "name", "Action")
	if err != nil {
		return err
	}
	p := principal(r)
	t, err := s.svc.Tool(p, name)
	if err != nil {
		return errorf(patchbay.ENOTFOUND, "Action %q Not Found.", patchbay.Truncate(name, 80))
	}
	if err := checkToolVersion(r, t); err != nil {
		return err
	}
	tk, err := s.svc.FindToolkit(p, t.Toolkit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toLegacyAction(tk, t))
	return nil
}

type legacyExecuteRequest struct {
	ConnectedAccountID *string        `json:"connectedAccountId"`
	EntityID           *string        `json:"entityId"`
	AppName            *string        `json:"appName"`
	Input              map[string]any `json:"input"`
	Text               *string        `json:"text"`
	Version            *string        `json:"version"`
	AuthConfig         any            `json:"authConfig"`
	SessionInfo        any            `json:"sessionInfo"`
	AllowTracing       *bool          `json:"allowTracing"`
}

// legacyExecuteResponse is ActionExecutionResDto: data always an object
// (the Node SDK iterates it), successful under both spellings.
type legacyExecuteResponse struct {
	Data        map[string]any `json:"data"`
	Error       *string        `json:"error"`
	Successful  bool           `json:"successful"`
	Successfull bool           `json:"successfull"`
	LogID       string         `json:"logId,omitempty"`
}

// legacyExecuteAction: POST /api/v2/actions/{name}/execute.
func (s *Server) legacyExecuteAction(w http.ResponseWriter, r *http.Request) error {
	name, err := pathID(r, "name", "Action")
	if err != nil {
		return err
	}
	var req legacyExecuteRequest
	if err := decodeJSON(r, &req, true); err != nil {
		return err
	}
	if err := unsupportedExecuteParts(str(req.Text), req.Input, req.AuthConfig, nil); err != nil {
		return err
	}
	p := principal(r)
	if app := str(req.AppName); app != "" {
		t, err := s.svc.Tool(p, name)
		if err != nil {
			return errorf(patchbay.ENOTFOUND, "Action %q Not Found.", patchbay.Truncate(name, 80))
		}
		if !strings.EqualFold(app, t.Toolkit) {
			return errorf(patchbay.EINVALID, "Action %s belongs to app %s, not %s.", t.Slug, t.Toolkit, patchbay.Truncate(app, 60))
		}
	}
	version := str(req.Version)
	if version == "latest:base" {
		version = "latest"
	}
	res, err := s.svc.ExecuteTool(r.Context(), p, patchbay.ToolCall{
		Tool: name, Version: version, ConnectedAccountID: str(req.ConnectedAccountID), UserID: str(req.EntityID), Arguments: req.Input,
	})
	if err != nil {
		return legacyName(err, patchbay.ENOACCOUNT, "ConnectedAccountNotFoundError")
	}
	out := legacyExecuteResponse{Data: res.Data, Successful: res.Successful, Successfull: res.Successful, LogID: res.LogID}
	if !res.Successful {
		out.Error = &res.Error
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type legacyProxyRequest struct {
	ConnectedAccountID *string          `json:"connectedAccountId"`
	Endpoint           *string          `json:"endpoint"`
	Method             *string          `json:"method"`
	Parameters         []proxyParameter `json:"parameters"`
	Body               json.RawMessage  `json:"body"`
}

// legacyProxy: POST /api/v2/actions/proxy. The answer is
// ActionExecutionResDto-shaped: the app's body as data, successful for a
// 2xx, and the status.
func (s *Server) legacyProxy(w http.ResponseWriter, r *http.Request) error {
	var req legacyProxyRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	call, err := proxyCall(str(req.ConnectedAccountID), str(req.Endpoint), str(req.Method), req.Parameters)
	if err != nil {
		return err
	}
	call.Body, call.ContentType = proxyBody(req.Body)
	resp, err := s.svc.Proxy(r.Context(), principal(r), call)
	if errors.Is(err, patchbay.ErrUnreachable) {
		// The app did not answer, or its address is refused: a result, as
		// for execute (the legacy Node SDK breaks on a 403 or a 503).
		msg := patchbay.ErrorMessage(err)
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{}, "successful": false, "successfull": false, "error": msg, "status": 0})
		return nil
	}
	if err != nil {
		return err
	}
	answer := proxyAnswer(resp)
	ok := resp.Status >= 200 && resp.Status < 300
	out := map[string]any{"data": answer["data"], "status": resp.Status, "headers": answer["headers"], "successful": ok, "successfull": ok, "error": nil}
	if bin, isBin := answer["binary_data"]; isBin {
		out["binary_data"] = bin
	}
	if out["data"] == nil {
		out["data"] = map[string]any{}
	}
	if !ok {
		out["error"] = http.StatusText(resp.Status)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// legacyListTriggers: GET /api/v1/triggers. patchbay has no triggers: an
// empty list.
func (s *Server) legacyListTriggers(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.svc.Toolkits(principal(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []any{})
	return nil
}
