package httpapi

import (
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// Config wires a Server.
type Config struct {
	Service *patchbay.Service
	Log     *slog.Logger
	Now     func() time.Time
	// LeakReportsPerMinute limits leaked-key reports per client address
	// (default 10).
	LeakReportsPerMinute int
	// Renders keeps rendered reads (default: 32 MiB, unmetered).
	Renders *httpserver.RenderCache
}

// ConnectFormsPerMinute limits connect form submissions per client
// address: each may ask the app to check a credential.
const ConnectFormsPerMinute = 30

// DefaultRenderBytes is the size of the render cache New makes when Config
// brings none.
const DefaultRenderBytes = 32 << 20

// Server is the Composio-compatible wire: two surfaces, legacy (/api/v1,
// /api/v2, composio-core) and current (/api/v3.1, also served as /api/v3,
// @composio/core), each with its own route table and error envelope.
type Server struct {
	svc   *patchbay.Service
	log   *slog.Logger
	leaks *httpserver.Limiter
	// linkPosts limits connect form submissions per client address.
	linkPosts *httpserver.Limiter
	// toolkitJSON caches each toolkit's encoded v3.1 object by slug.
	toolkitJSON sync.Map
	// renders keeps rendered reads under their data's version.
	renders *httpserver.RenderCache
	// sessions keeps session info answers by credential ID.
	sessions     sync.Map
	sessionCount atomic.Int64
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{svc: cfg.Service, log: cfg.Log, renders: cfg.Renders}
	if s.renders == nil {
		s.renders = httpserver.NewRenderCache(DefaultRenderBytes, nil)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	perMinute := cfg.LeakReportsPerMinute
	if perMinute == 0 {
		perMinute = 10
	}
	s.leaks = httpserver.NewLimiter(perMinute, now)
	s.linkPosts = httpserver.NewLimiter(ConnectFormsPerMinute, now)
	return s
}

// Mount puts both surfaces on hs. Each prefix is also mounted bare
// ("/api/v1"), so that path answers 404 in its surface's envelope rather
// than the mux's redirect to "/api/v1/".
func (s *Server) Mount(hs *httpserver.Server) {
	hs.Mount(s.legacySurface(), "/api/v1/", "/api/v1", "/api/v2/", "/api/v2")
	hs.Mount(s.v3Surface(), "/api/v3/", "/api/v3", "/api/v3.1/", "/api/v3.1")
}

// principal is the authenticated principal of a request behind a key.
func principal(r *http.Request) *patchbay.Principal { return httpserver.Principal(r) }

func (s *Server) key(need httpserver.KeyNeed, h httpserver.HandlerFunc) httpserver.HandlerFunc {
	return httpserver.RequireKey(s.svc, need, h)
}

// legacySurface is the legacy API's route table (composio-core 0.5.x).
func (s *Server) legacySurface() *httpserver.Surface {
	sf := httpserver.NewSurface(s.log, legacyEnvelope)
	project := func(pattern string, h httpserver.HandlerFunc) { sf.Handle(pattern, s.key(httpserver.NeedProject, h)) }

	project("GET /api/v1/api_keys", s.legacyListKeys)
	project("POST /api/v1/api_keys", s.legacyCreateKey)
	project("DELETE /api/v1/api_keys/{id}", s.legacyRevokeKey)
	project("POST /api/v1/api_keys/{id}/regenerate", s.legacyRegenerateKey)
	project("GET /api/v1/client/auth/client_info", s.legacyClientInfo)

	project("GET /api/v1/apps", s.legacyListApps)
	project("GET /api/v1/apps/list/categories", s.legacyAppCategories)
	project("GET /api/v1/apps/list/enums", s.legacyAppEnums)
	project("GET /api/v1/apps/{name}", s.legacyGetApp)
	project("POST /api/v2/integrations/create", s.legacyCreateIntegration)
	project("POST /api/v2/integrations/get-or-create", s.legacyGetOrCreateIntegration)
	project("POST /api/v1/integrations", s.legacyCreateV1Integration)
	project("GET /api/v1/integrations", s.legacyListIntegrations)
	project("GET /api/v1/integrations/{id}", s.legacyGetIntegration)
	project("DELETE /api/v1/integrations/{id}", s.legacyDeleteIntegration)
	project("POST /api/v2/connectedAccounts/initiateConnection", s.legacyInitiateConnection)
	project("POST /api/v1/connectedAccounts", s.legacyCreateConnection)
	project("GET /api/v1/connectedAccounts", s.legacyListConnections)
	project("GET /api/v1/connectedAccounts/{id}", s.legacyGetConnection)
	project("DELETE /api/v1/connectedAccounts/{id}", s.legacyDeleteConnection)
	project("POST /api/v1/connectedAccounts/{id}/disable", s.legacySetConnectionDisabled(true))
	project("POST /api/v1/connectedAccounts/{id}/enable", s.legacySetConnectionDisabled(false))
	project("POST /api/v1/connectedAccounts/{id}/reinitiate", s.legacyReinitiate)
	project("GET /api/v1/connectedAccounts/{id}/info", s.legacyConnectionInfo)

	project("GET /api/v2/actions", s.legacyListActions)
	project("GET /api/v2/actions/{name}", s.legacyGetAction)
	project("POST /api/v2/actions/{name}/execute", s.legacyExecuteAction)
	project("POST /api/v2/actions/proxy", s.legacyProxy)
	project("GET /api/v1/triggers", s.legacyListTriggers)
	return sf
}

// v3Surface is the current API's route table (@composio/core). Every
// /api/v3.1 route is also served under /api/v3.
func (s *Server) v3Surface() *httpserver.Surface {
	sf := httpserver.NewSurface(s.log, v3Envelope)
	v3 := func(method, path string, h httpserver.HandlerFunc) {
		sf.Handle(method+" /api/v3.1"+path, h)
		sf.Handle(method+" /api/v3"+path, h)
	}
	project := func(method, path string, h httpserver.HandlerFunc) {
		v3(method, path, s.key(httpserver.NeedProject, h))
	}
	org := func(method, path string, h httpserver.HandlerFunc) { v3(method, path, s.key(httpserver.NeedOrg, h)) }
	anyKey := func(method, path string, h httpserver.HandlerFunc) { v3(method, path, s.key(httpserver.NeedAny, h)) }

	v3("POST", "/api_key_revocation", s.revokeLeaked)
	anyKey("GET", "/auth/session/info", s.sessionInfo)
	org("GET", "/org/owner/project/list", s.listProjects)
	org("POST", "/org/owner/project/new", s.createProject)
	org("GET", "/org/owner/project/{id}", s.getProject)
	org("DELETE", "/org/owner/project/{id}", s.deleteProject)
	org("POST", "/org/owner/project/{id}/regenerate_api_key", s.regenerateProjectKey)
	anyKey("GET", "/audit_logs", s.listAudit)

	project("GET", "/toolkits", s.listToolkits)
	project("GET", "/toolkits/categories", s.toolkitCategories)
	project("POST", "/toolkits/multi", s.multiToolkits)
	project("GET", "/toolkits/{slug}", s.getToolkit)
	project("GET", "/tools", s.listTools)
	project("GET", "/tools/enum", s.toolsEnum)
	project("GET", "/tools/{slug}", s.getTool)
	project("POST", "/tools/execute/proxy", s.proxyExecute)
	project("POST", "/tools/execute/{slug}", s.executeTool)
	project("POST", "/logs/tool_execution", s.searchLogs)
	project("GET", "/logs/tool_execution/{id}", s.getLog)
	project("POST", "/auth_configs", s.createAuthConfig)
	project("GET", "/auth_configs", s.listAuthConfigs)
	project("GET", "/auth_configs/{id}", s.getAuthConfig)
	project("PATCH", "/auth_configs/{id}", s.updateAuthConfig)
	project("PATCH", "/auth_configs/{id}/{status}", s.setAuthConfigStatus)
	project("DELETE", "/auth_configs/{id}", s.deleteAuthConfig)
	project("POST", "/connected_accounts", s.createConnection)
	project("POST", "/connected_accounts/link", s.createLink)
	v3("GET", "/connect/{token}", s.openConnectLink)
	v3("POST", "/connect/{token}", s.submitConnectLink)
	v3("GET", "/toolkits/auth/callback", s.oauthCallback)
	project("GET", "/connected_accounts", s.listConnections)
	project("GET", "/connected_accounts/{id}", s.getConnection)
	project("PATCH", "/connected_accounts/{id}/status", s.setConnectionStatus)
	project("POST", "/connected_accounts/{id}/refresh", s.refreshConnection)
	project("POST", "/connected_accounts/{id}/revoke", s.revokeConnection)
	project("DELETE", "/connected_accounts/{id}", s.deleteConnection)

	// MCP server configurations: /mcp/servers/* are matched before
	// /mcp/{id} (the more specific pattern wins).
	project("POST", "/mcp/servers/custom", s.createCustomMCPServer)
	project("POST", "/mcp/servers", s.createMCPServer)
	project("GET", "/mcp/servers", s.listMCPServers)
	project("POST", "/mcp/servers/generate", s.generateMCPURLs)
	project("GET", "/mcp/{id}", s.getMCPServer)
	project("PATCH", "/mcp/{id}", s.updateMCPServer)
	project("DELETE", "/mcp/{id}", s.deleteMCPServer)
	project("POST", "/tool_router/session", s.createSession)
	project("GET", "/tool_router/session/{id}", s.getSession)
	project("DELETE", "/tool_router/session/{id}", s.deleteSession)
	project("PATCH", "/tool_router/session/{id}", s.toolRouterUnavailable)
	for _, rest := range []string{"attach", "execute", "execute_meta", "link", "proxy_execute", "search", "tools", "toolkits", "config_history"} {
		project("POST", "/tool_router/session/{id}/"+rest, s.toolRouterUnavailable)
		project("GET", "/tool_router/session/{id}/"+rest, s.toolRouterUnavailable)
	}
	project("POST", "/tool_router/session/{id}/mounts/{mount}/{action}", s.toolRouterUnavailable)
	return sf
}
