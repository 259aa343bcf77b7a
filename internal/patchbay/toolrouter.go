package patchbay

import (
	"context"
	"strings"
	"time"
)

// ToolRouterSession is a Composio tool router session (composio.create): a
// user and the toolkits an agent gets for them over MCP. Composio serves a
// session's MCP endpoint with its COMPOSIO_* meta tools, which patchbay
// does not have; patchbay serves the toolkits' own tools there instead.
type ToolRouterSession struct {
	ID        string // "trs_…"
	OrgID     string
	ProjectID string
	UserID    string
	// Toolkits are the enabled toolkits' slugs; empty means the toolkits
	// the user has an ACTIVE connected account for, at each request.
	Toolkits          []string
	ManageConnections bool // an unconnected toolkit's call answers a connect link
	CreatedBy         string
	CreatedAt         time.Time
}

// ToolRouterStore keeps tool router sessions, scoped by project.
type ToolRouterStore interface {
	CreateToolRouterSession(ctx context.Context, s *ToolRouterSession) error
	// GetToolRouterSession returns a session of project. ENOTFOUND otherwise.
	GetToolRouterSession(ctx context.Context, projectID, id string) (*ToolRouterSession, error)
	// DeleteToolRouterSession deletes a session. ENOTFOUND if none.
	DeleteToolRouterSession(ctx context.Context, projectID, id string) error
}

// Audit actions of tool router sessions.
const (
	ActionToolRouterSessionCreate = "tool_router_session.create"
	ActionToolRouterSessionDelete = "tool_router_session.delete"
)

// PrefixToolRouter prefixes tool router session IDs, as Composio's.
const PrefixToolRouter = "trs_"

// ToolRouterMCPPath is a session's MCP endpoint on patchbay's origin.
func ToolRouterMCPPath(id string) string { return "/tool_router/" + id + "/mcp" }

// NewToolRouterSession is a session to create.
type NewToolRouterSession struct {
	UserID            string
	Toolkits          []string // enabled toolkits; empty for the user's connected ones
	ManageConnections bool
}

// CreateToolRouterSession creates a session for a user of the principal's
// project. EINVALID for a bad user ID or an unknown toolkit.
func (s *Service) CreateToolRouterSession(ctx context.Context, p *Principal, n NewToolRouterSession) (*ToolRouterSession, error) {
	projectID, err := s.can(ctx, p, ExecuteTools, "")
	if err != nil {
		return nil, err
	}
	if err := ValidateUserID(n.UserID); err != nil {
		return nil, err
	}
	if len(n.Toolkits) > 100 {
		return nil, Errorf(EINVALID, "A session enables at most 100 toolkits.")
	}
	toolkits := []string{}
	for _, slug := range n.Toolkits {
		tk, ok := s.catalog.Toolkit(strings.TrimSpace(slug))
		if !ok {
			return nil, Errorf(EINVALID, "Unknown toolkit %q in toolkits.enable.", Truncate(slug, 60))
		}
		toolkits = append(toolkits, tk.Slug)
	}
	id, err := NewID(PrefixToolRouter, s.rand)
	if err != nil {
		return nil, err
	}
	ts := &ToolRouterSession{ID: id, OrgID: p.OrgID, ProjectID: projectID, UserID: n.UserID, Toolkits: toolkits,
		ManageConnections: n.ManageConnections, CreatedBy: p.Member.ID, CreatedAt: s.now()}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateToolRouterSession(ctx, ts); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionToolRouterSessionCreate, projectID, ts.ID)
	})
	if err != nil {
		return nil, err
	}
	return ts, nil
}

// ToolRouterSession returns a session of the principal's project.
// ENOTFOUND otherwise.
func (s *Service) ToolRouterSession(ctx context.Context, p *Principal, id string) (*ToolRouterSession, error) {
	projectID, err := s.can(ctx, p, ExecuteTools, "")
	if err != nil {
		return nil, err
	}
	return s.store.GetToolRouterSession(ctx, projectID, id)
}

// DeleteToolRouterSession deletes a session; its MCP endpoint stops
// answering. ENOTFOUND if there is none.
func (s *Service) DeleteToolRouterSession(ctx context.Context, p *Principal, id string) error {
	projectID, err := s.can(ctx, p, ExecuteTools, "")
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Store) error {
		if err := tx.DeleteToolRouterSession(ctx, projectID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionToolRouterSessionDelete, projectID, id)
	})
}

// OpenToolRouterMCP authenticates a request to a session's MCP endpoint:
// a project API key of the session's project (another project's session
// answers ENOTFOUND). The access serves the session's toolkits, or the
// toolkits the user has ACTIVE accounts for, for the session's user.
func (s *Service) OpenToolRouterMCP(ctx context.Context, apiKey, sessionID, ip string) (*MCPAccess, error) {
	if apiKey == "" {
		return nil, Errorf(EUNAUTHORIZED, "Missing API key: send the project API key in the x-api-key header (session.mcp.headers holds it).")
	}
	kp, err := s.Authenticate(ctx, apiKey)
	if err != nil {
		return nil, err
	}
	if kp.Credential.Kind != CredentialProjectKey {
		return nil, Errorf(EUNAUTHORIZED, "MCP needs a project API key (ak_…) in x-api-key; an organization key was sent.")
	}
	c := kp.WithIP(ip)
	p := &c
	if _, err := s.can(ctx, p, ExecuteTools, ""); err != nil {
		return nil, err
	}
	ts, err := s.store.GetToolRouterSession(ctx, p.ProjectID, sessionID)
	if err != nil {
		return nil, err
	}
	toolkits := ts.Toolkits
	if len(toolkits) == 0 {
		recs, _, err := s.store.ListConnectedAccounts(ctx, ConnectionFilter{ProjectID: p.ProjectID, UserIDs: []string{ts.UserID},
			Statuses: []ConnectionStatus{StatusActive}, Disabled: new(bool), Page: Page{Limit: 1000}})
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if slug := strings.ToLower(r.Toolkit); !containsString(toolkits, slug) {
				toolkits = append(toolkits, slug)
			}
		}
	}
	m := &MCPServer{ID: ts.ID, OrgID: ts.OrgID, ProjectID: ts.ProjectID, Name: "tool router session", Toolkits: toolkits,
		AuthConfigIDs: []string{}, AllowedTools: []string{}, ManagedAuth: ts.ManageConnections}
	return &MCPAccess{Principal: p, Server: m, UserID: ts.UserID, version: -1}, nil
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
