package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// Config wires a Server.
type Config struct {
	Service *patchbay.Service
	Auth    *patchbay.Authenticator
	Log     *slog.Logger
	Now     func() time.Time
	// Ready reports whether the instance can serve (database reachable).
	Ready func(ctx context.Context) error
	// MaxBody caps request bodies (default 1 MiB).
	MaxBody int64
	// AccessLog logs one line per request.
	AccessLog bool
	// LeakReportsPerMinute limits leaked-key reports per client address
	// (default 10).
	LeakReportsPerMinute int
}

// Server serves patchbay's HTTP API.
type Server struct {
	svc       *patchbay.Service
	auth      *patchbay.Authenticator
	log       *slog.Logger
	now       func() time.Time
	ready     func(ctx context.Context) error
	maxBody   int64
	accessLog bool
	leaks     *limiter
	handler   http.Handler
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		svc: cfg.Service, auth: cfg.Auth, log: cfg.Log, now: cfg.Now, ready: cfg.Ready,
		maxBody: cfg.MaxBody, accessLog: cfg.AccessLog,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBody == 0 {
		s.maxBody = 1 << 20
	}
	perMinute := cfg.LeakReportsPerMinute
	if perMinute == 0 {
		perMinute = 10
	}
	s.leaks = newLimiter(perMinute, s.now)
	s.handler = s.outer(s.routes())
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// routes is the whole route table. Every /api/v3.1 route is also served
// under /api/v3.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h handlerFunc) { mux.Handle(pattern, s.serve(h)) }
	v3 := func(method, path string, h handlerFunc) {
		handle(method+" /api/v3.1"+path, h)
		handle(method+" /api/v3"+path, h)
	}

	handle("GET /healthz", s.healthz)
	handle("GET /readyz", s.readyz)

	// Legacy API (composio-core 0.5.x).
	handle("GET /api/v1/api_keys", s.requireKey(needProject, s.legacyListKeys))
	handle("POST /api/v1/api_keys", s.requireKey(needProject, s.legacyCreateKey))
	handle("DELETE /api/v1/api_keys/{id}", s.requireKey(needProject, s.legacyRevokeKey))
	handle("POST /api/v1/api_keys/{id}/regenerate", s.requireKey(needProject, s.legacyRegenerateKey))
	handle("GET /api/v1/client/auth/client_info", s.requireKey(needProject, s.legacyClientInfo))

	// Current API (@composio/core).
	v3("POST", "/api_key_revocation", s.revokeLeaked)
	v3("GET", "/auth/session/info", s.requireKey(needAny, s.sessionInfo))
	v3("GET", "/org/owner/project/list", s.requireKey(needOrg, s.listProjects))
	v3("POST", "/org/owner/project/new", s.requireKey(needOrg, s.createProject))
	v3("GET", "/org/owner/project/{id}", s.requireKey(needOrg, s.getProject))
	v3("DELETE", "/org/owner/project/{id}", s.requireKey(needOrg, s.deleteProject))
	v3("POST", "/org/owner/project/{id}/regenerate_api_key", s.requireKey(needOrg, s.regenerateProjectKey))
	v3("GET", "/audit_logs", s.requireKey(needAny, s.listAudit))

	// Toolkits, auth configs and connected accounts: legacy.
	legacy := func(pattern string, h handlerFunc) { handle(pattern, s.requireKey(needProject, h)) }
	legacy("GET /api/v1/apps", s.legacyListApps)
	legacy("GET /api/v1/apps/list/categories", s.legacyAppCategories)
	legacy("GET /api/v1/apps/list/enums", s.legacyAppEnums)
	legacy("GET /api/v1/apps/{name}", s.legacyGetApp)
	legacy("POST /api/v2/integrations/create", s.legacyCreateIntegration)
	legacy("POST /api/v2/integrations/get-or-create", s.legacyGetOrCreateIntegration)
	legacy("GET /api/v1/integrations", s.legacyListIntegrations)
	legacy("GET /api/v1/integrations/{id}", s.legacyGetIntegration)
	legacy("DELETE /api/v1/integrations/{id}", s.legacyDeleteIntegration)
	legacy("POST /api/v2/connectedAccounts/initiateConnection", s.legacyInitiateConnection)
	legacy("POST /api/v1/connectedAccounts", s.legacyCreateConnection)
	legacy("GET /api/v1/connectedAccounts", s.legacyListConnections)
	legacy("GET /api/v1/connectedAccounts/{id}", s.legacyGetConnection)
	legacy("DELETE /api/v1/connectedAccounts/{id}", s.legacyDeleteConnection)
	legacy("POST /api/v1/connectedAccounts/{id}/disable", s.legacySetConnectionDisabled(true))
	legacy("POST /api/v1/connectedAccounts/{id}/enable", s.legacySetConnectionDisabled(false))
	legacy("POST /api/v1/connectedAccounts/{id}/reinitiate", s.legacyReinitiate)

	// Toolkits, auth configs and connected accounts: v3.1.
	project := func(method, path string, h handlerFunc) { v3(method, path, s.requireKey(needProject, h)) }
	project("GET", "/toolkits", s.listToolkits)
	project("GET", "/toolkits/categories", s.toolkitCategories)
	project("POST", "/toolkits/multi", s.multiToolkits)
	project("GET", "/toolkits/{slug}", s.getToolkit)
	project("POST", "/auth_configs", s.createAuthConfig)
	project("GET", "/auth_configs", s.listAuthConfigs)
	project("GET", "/auth_configs/{id}", s.getAuthConfig)
	project("PATCH", "/auth_configs/{id}", s.updateAuthConfig)
	project("PATCH", "/auth_configs/{id}/{status}", s.setAuthConfigStatus)
	project("DELETE", "/auth_configs/{id}", s.deleteAuthConfig)
	project("POST", "/connected_accounts", s.createConnection)
	project("GET", "/connected_accounts", s.listConnections)
	project("GET", "/connected_accounts/{id}", s.getConnection)
	project("PATCH", "/connected_accounts/{id}/status", s.setConnectionStatus)
	project("POST", "/connected_accounts/{id}/refresh", s.refreshConnection)
	project("POST", "/connected_accounts/{id}/revoke", s.revokeConnection)
	project("DELETE", "/connected_accounts/{id}", s.deleteConnection)

	mux.Handle("/", s.serve(func(w http.ResponseWriter, r *http.Request) error {
		return s.noRoute(mux, w, r)
	}))
	return mux
}

var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

// noRoute answers a request no route matched: 405 with Allow when the path
// exists for other methods, else 404, in JSON either way.
func (s *Server) noRoute(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) error {
	var allow []string
	for _, m := range methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return &patchbay.Error{Code: patchbay.EINVALID, Message: "Method " + r.Method + " is not allowed on " + patchbay.RedactKeys(truncate(r.URL.Path, 200)) + ".", Err: errMethod}
	}
	// The path is echoed to help the caller, never a key pasted into it.
	return errorf(patchbay.ENOTFOUND, "No route for %s %s.", r.Method, patchbay.RedactKeys(truncate(r.URL.Path, 200)))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.Warn("not ready", "err", err)
			return &patchbay.Error{Code: patchbay.EUNAVAILABLE, Message: "Not ready: the database does not answer.", Err: err}
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
