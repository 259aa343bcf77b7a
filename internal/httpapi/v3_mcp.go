package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// v3MCPServer is an MCP server configuration on the v3.1 wire (the
// contract's §2.1): every field present, arrays never null.
type v3MCPServer struct {
	ID                     string            `json:"id"`
	Name                   string            `json:"name"`
	AuthConfigIDs          []string          `json:"auth_config_ids"`
	AllowedTools           []string          `json:"allowed_tools"`
	MCPURL                 string            `json:"mcp_url"`
	Toolkits               []string          `json:"toolkits"`
	ToolkitIcons           map[string]string `json:"toolkit_icons"`
	Commands               v3MCPCommands     `json:"commands"`
	CreatedAt              string            `json:"created_at"`
	UpdatedAt              string            `json:"updated_at"`
	ServerInstanceCount    int               `json:"server_instance_count"`
	ManagedAuthViaComposio bool              `json:"managed_auth_via_composio"`
	Deleted                bool              `json:"deleted"`
}

// v3MCPCommands are ready-made client setup commands. None carries the
// API key: the developer puts theirs in.
type v3MCPCommands struct {
	Claude   string `json:"claude"`
	Cursor   string `json:"cursor"`
	Windsurf string `json:"windsurf"`
}

// v3MCPCreated is the 201 answer of POST /mcp/servers/custom.
type v3MCPCreated struct {
	ID            string        `json:"id"`
	Name          string        `json:"name"`
	AuthConfigIDs []string      `json:"auth_config_ids"`
	AllowedTools  []string      `json:"allowed_tools"`
	MCPURL        string        `json:"mcp_url"`
	Commands      v3MCPCommands `json:"commands"`
}

// mcpCommands are the setup commands for a configuration's URL.
func mcpCommands(name, mcpURL string) v3MCPCommands {
	slug := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(name), " ", "-"))
	entry := func(urlKey string) string {
		b, _ := json.Marshal(map[string]any{"mcpServers": map[string]any{slug: map[string]any{
			urlKey: mcpURL + "?user_id=<user id>", "headers": map[string]string{"x-api-key": "<your patchbay project API key>"},
		}}})
		return string(b)
	}
	return v3MCPCommands{
		Claude:   `claude mcp add --transport http ` + slug + ` "` + mcpURL + `?user_id=<user id>" --header "x-api-key: <your patchbay project API key>"`,
		Cursor:   entry("url"),
		Windsurf: entry("serverUrl"),
	}
}

func (s *Server) toV3MCPServer(r *http.Request, m *patchbay.MCPServer) v3MCPServer {
	u := patchbay.MCPURL(publicOrigin(r), m.ID, "", false)
	icons := map[string]string{}
	for _, slug := range m.Toolkits {
		if tk, err := s.svc.FindToolkit(principal(r), slug); err == nil {
			icons[slug] = tk.Logo
		}
	}
	return v3MCPServer{
		ID: m.ID, Name: m.Name, AuthConfigIDs: nonNil(m.AuthConfigIDs), AllowedTools: nonNil(m.AllowedTools), MCPURL: u,
		Toolkits: nonNil(m.Toolkits), ToolkitIcons: icons, Commands: mcpCommands(m.Name, u),
		CreatedAt: wireTime(m.CreatedAt), UpdatedAt: wireTime(m.UpdatedAt), ManagedAuthViaComposio: m.ManagedAuth,
	}
}

// v3MCPBody is the body of POST /mcp/servers/custom, POST /mcp/servers and
// PATCH /mcp/{id}. @composio/core sends managed_auth_via_composio; older
// callers managed_auth_by_composio: both are read.
type v3MCPBody struct {
	Name          *string   `json:"name"`
	Toolkits      *[]string `json:"toolkits"`
	AuthConfigIDs *[]string `json:"auth_config_ids"`
	AllowedTools  *[]string `json:"allowed_tools"`
	NoAuthApps    *[]string `json:"no_auth_apps"`
	ManagedVia    *bool     `json:"managed_auth_via_composio"`
	ManagedBy     *bool     `json:"managed_auth_by_composio"`
}

func (b *v3MCPBody) managed() *bool {
	if b.ManagedVia != nil {
		return b.ManagedVia
	}
	return b.ManagedBy
}

func list(l *[]string) []string {
	if l == nil {
		return nil
	}
	return *l
}

func (s *Server) newMCPServer(r *http.Request) (*patchbay.MCPServer, error) {
	var b v3MCPBody
	if err := decodeJSON(r, &b, false); err != nil {
		return nil, err
	}
	name, err := requireString("name", b.Name)
	if err != nil {
		return nil, err
	}
	n := patchbay.NewMCPServer{Name: name, Toolkits: append(list(b.Toolkits), list(b.NoAuthApps)...),
		AuthConfigIDs: list(b.AuthConfigIDs), AllowedTools: list(b.AllowedTools), ManagedAuth: true}
	if m := b.managed(); m != nil {
		n.ManagedAuth = *m
	}
	return s.svc.CreateMCPServer(r.Context(), principal(r), n)
}

// createCustomMCPServer: POST /mcp/servers/custom (composio.mcp.create).
func (s *Server) createCustomMCPServer(w http.ResponseWriter, r *http.Request) error {
	m, err := s.newMCPServer(r)
	if err != nil {
		return err
	}
	u := patchbay.MCPURL(publicOrigin(r), m.ID, "", false)
	writeJSON(w, http.StatusCreated, v3MCPCreated{ID: m.ID, Name: m.Name, AuthConfigIDs: nonNil(m.AuthConfigIDs),
		AllowedTools: nonNil(m.AllowedTools), MCPURL: u, Commands: mcpCommands(m.Name, u)})
	return nil
}

// createMCPServer: POST /mcp/servers (the raw client's create): the item.
func (s *Server) createMCPServer(w http.ResponseWriter, r *http.Request) error {
	m, err := s.newMCPServer(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.toV3MCPServer(r, m))
	return nil
}

// listMCPServers: GET /mcp/servers?page_no=&limit=&toolkits=&auth_config_ids=&name=
// (composio.mcp.list): page-number pagination.
func (s *Server) listMCPServers(w http.ResponseWriter, r *http.Request) error {
	page, err := queryInt(r, "page_no", 1, 1, 1_000_000)
	if err != nil {
		return err
	}
	limit, err := queryPageSize(r, "limit", 10, 100)
	if err != nil {
		return err
	}
	f := patchbay.MCPServerFilter{Name: r.URL.Query().Get("name"), Toolkits: queryList(r, "toolkits"),
		AuthConfigIDs: queryList(r, "auth_config_ids"), Page: patchbay.Page{Limit: limit, Offset: (page - 1) * limit}}
	servers, total, err := s.svc.ListMCPServers(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	items := make([]v3MCPServer, 0, len(servers))
	for _, m := range servers {
		items = append(items, s.toV3MCPServer(r, m))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "current_page": page, "total_pages": (total + limit - 1) / limit,
		"total_items": total})
	return nil
}

// getMCPServer: GET /mcp/{id} (composio.mcp.get).
func (s *Server) getMCPServer(w http.ResponseWriter, r *http.Request) error {
	m, err := s.svc.GetMCPServer(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toV3MCPServer(r, m))
	return nil
}

// updateMCPServer: PATCH /mcp/{id} (composio.mcp.update): only the keys
// sent change; lists replace.
func (s *Server) updateMCPServer(w http.ResponseWriter, r *http.Request) error {
	var b v3MCPBody
	if err := decodeJSON(r, &b, true); err != nil {
		return err
	}
	u := patchbay.MCPServerPatch{Name: b.Name, Toolkits: b.Toolkits, AuthConfigIDs: b.AuthConfigIDs, AllowedTools: b.AllowedTools, ManagedAuth: b.managed()}
	m, err := s.svc.UpdateMCPServer(r.Context(), principal(r), r.PathValue("id"), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toV3MCPServer(r, m))
	return nil
}

// deleteMCPServer: DELETE /mcp/{id} (composio.mcp.delete).
func (s *Server) deleteMCPServer(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.svc.DeleteMCPServer(r.Context(), principal(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "deleted": true})
	return nil
}

// generateMCPURLs: POST /mcp/servers/generate (composio.mcp.generate):
// one signed URL per user, in order.
func (s *Server) generateMCPURLs(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		ServerID   *string  `json:"mcp_server_id"`
		UserIDs    []string `json:"user_ids"`
		AccountIDs []string `json:"connected_account_ids"`
		ManagedBy  *bool    `json:"managed_auth_by_composio"`
		ManagedVia *bool    `json:"managed_auth_via_composio"`
	}
	if err := decodeJSON(r, &b, false); err != nil {
		return err
	}
	id, err := requireString("mcp_server_id", b.ServerID)
	if err != nil {
		return err
	}
	if len(b.AccountIDs) > 0 {
		return errorf(patchbay.EINVALID, "Per-account MCP URLs (connected_account_ids) are not available on patchbay yet; generate per-user URLs with user_ids.")
	}
	managed := true
	if b.ManagedBy != nil {
		managed = *b.ManagedBy
	} else if b.ManagedVia != nil {
		managed = *b.ManagedVia
	}
	urls, err := s.svc.GenerateMCPURLs(r.Context(), principal(r), id, b.UserIDs, managed, publicOrigin(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"mcp_url": urls.Base, "connected_account_urls": []string{}, "user_ids_url": urls.Users})
	return nil
}

// v3Session is a tool router session on the wire: what @composio/core
// reads (session_id, mcp, config, config_version).
type v3Session struct {
	SessionID       string         `json:"session_id"`
	MCP             v3SessionMCP   `json:"mcp"`
	Config          map[string]any `json:"config"`
	ConfigVersion   int            `json:"config_version"`
	ToolRouterTools []string       `json:"tool_router_tools"`
}

type v3SessionMCP struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

func toV3Session(r *http.Request, ts *patchbay.ToolRouterSession) v3Session {
	toolkits := map[string]any{"enable": nonNil(ts.Toolkits)}
	return v3Session{
		SessionID: ts.ID, MCP: v3SessionMCP{Type: "http", URL: publicOrigin(r) + patchbay.ToolRouterMCPPath(ts.ID)},
		Config: map[string]any{"user_id": ts.UserID, "toolkits": toolkits, "manage_connections": map[string]bool{"enable": ts.ManageConnections},
			"workbench": map[string]bool{"enable": false}},
		ConfigVersion: 1, ToolRouterTools: []string{},
	}
}

// createSession: POST /tool_router/session (composio.create,
// sessions.create). The session's MCP URL is on the origin the client
// called, so the SDK attaches its key headers. What patchbay cannot do yet
// (a toolkit deny list, custom tools) is refused with a 400 naming it.
func (s *Server) createSession(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		UserID            *string         `json:"user_id"`
		Toolkits          json.RawMessage `json:"toolkits"`
		ManageConnections *struct {
			Enable *bool `json:"enable"`
		} `json:"manage_connections"`
		Experimental *struct {
			CustomTools    json.RawMessage `json:"custom_tools"`
			CustomToolkits json.RawMessage `json:"custom_toolkits"`
		} `json:"experimental"`
	}
	if err := decodeJSON(r, &b, false); err != nil {
		return err
	}
	user, err := requireString("user_id", b.UserID)
	if err != nil {
		return err
	}
	n := patchbay.NewToolRouterSession{UserID: user, ManageConnections: true}
	if m := b.ManageConnections; m != nil && m.Enable != nil {
		n.ManageConnections = *m.Enable
	}
	if raw := strings.TrimSpace(string(b.Toolkits)); raw != "" && raw != "null" {
		var tk struct {
			Enable  []string `json:"enable"`
			Disable []string `json:"disable"`
		}
		if err := json.Unmarshal(b.Toolkits, &n.Toolkits); err != nil {
			if err := json.Unmarshal(b.Toolkits, &tk); err != nil {
				return errorf(patchbay.EINVALID, "toolkits must be a list of toolkit slugs or {enable: [...]}.")
			}
			if len(tk.Disable) > 0 {
				return errorf(patchbay.EINVALID, "toolkits.disable is not available on patchbay yet: list the toolkits to enable instead.")
			}
			n.Toolkits = tk.Enable
		}
	}
	if e := b.Experimental; e != nil && (len(e.CustomTools) > 0 && string(e.CustomTools) != "null" || len(e.CustomToolkits) > 0 && string(e.CustomToolkits) != "null") {
		return errorf(patchbay.EINVALID, "Custom tools in sessions (experimental.custom_tools, custom_toolkits) are not available on patchbay yet.")
	}
	ts, err := s.svc.CreateToolRouterSession(r.Context(), principal(r), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toV3Session(r, ts))
	return nil
}

// getSession: GET /tool_router/session/{id} (sessions.use).
func (s *Server) getSession(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.svc.ToolRouterSession(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toV3Session(r, ts))
	return nil
}

// deleteSession: DELETE /tool_router/session/{id} (sessions.delete).
func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.svc.DeleteToolRouterSession(r.Context(), principal(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"session_id": id, "deleted": true})
	return nil
}

// toolRouterUnavailable answers the session endpoints patchbay does not
// serve yet: they work on Composio's COMPOSIO_* meta tools (search,
// execute_meta, …) or on features patchbay lacks (custom tools, mounts).
func (s *Server) toolRouterUnavailable(w http.ResponseWriter, r *http.Request) error {
	return errorf(patchbay.EINVALID, "This tool router session endpoint is not available on patchbay yet: it needs Composio's meta tools or session features patchbay does not have. "+
		"Use the session's MCP URL (session.mcp), which serves the session's toolkits' tools, or the tools API (/api/v3.1/tools).")
}
