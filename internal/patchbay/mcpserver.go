package patchbay

import (
	"context"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"time"
)

// MCPServer is a project's MCP server configuration (Composio's "custom
// MCP server"): which toolkits, auth configs and tools an MCP client gets
// for a user. Its URLs are served by internal/mcp.
type MCPServer struct {
	ID            string // a UUID, as Composio's
	OrgID         string
	ProjectID     string
	Name          string
	Toolkits      []string // toolkit slugs, lower case; never empty
	AuthConfigIDs []string
	// AllowedTools are tool slugs; empty means every tool of Toolkits.
	AllowedTools []string
	// ManagedAuth lets a call for an unconnected toolkit start a
	// connection (a connect link) for the user.
	ManagedAuth bool
	CreatedBy   string // member ID
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// MCPServerFilter selects MCP server configurations of a project. Empty
// lists match everything; a list matches a configuration holding any of
// its entries.
type MCPServerFilter struct {
	ProjectID     string
	Name          string // substring, case-insensitive
	Toolkits      []string
	AuthConfigIDs []string
	Page          Page // Limit and Offset (page-numbered listings)
}

// MCPStore keeps MCP server configurations. Scoped like every other
// lookup: another project's configuration answers ENOTFOUND.
type MCPStore interface {
	CreateMCPServer(ctx context.Context, m *MCPServer) error
	// GetMCPServer returns a configuration of project. ENOTFOUND otherwise.
	GetMCPServer(ctx context.Context, projectID, id string) (*MCPServer, error)
	// FindMCPServer returns a configuration by ID alone, in whatever
	// project holds it: for signed URLs, whose signature the caller checks
	// against that configuration's key before trusting anything else.
	FindMCPServer(ctx context.Context, id string) (*MCPServer, error)
	// ListMCPServers returns a page of matches, oldest first, and the total.
	ListMCPServers(ctx context.Context, f MCPServerFilter) ([]*MCPServer, int, error)
	// UpdateMCPServer saves name, toolkits, auth_config_ids, allowed_tools,
	// managed_auth and updated_at. ENOTFOUND if it does not exist.
	UpdateMCPServer(ctx context.Context, m *MCPServer) error
	// DeleteMCPServer deletes a configuration. ENOTFOUND if none.
	DeleteMCPServer(ctx context.Context, projectID, id string) error
}

// Audit actions of MCP server configurations.
const (
	ActionMCPServerCreate   = "mcp_server.create"
	ActionMCPServerUpdate   = "mcp_server.update"
	ActionMCPServerDelete   = "mcp_server.delete"
	ActionMCPServerGenerate = "mcp_server.generate_urls" // signed per-user URLs were issued
)

// FieldMCPURLKey is the sealed field (record: the configuration) holding
// the HMAC key that signs the configuration's per-user URLs. Deleting the
// configuration deletes it, and so every URL it signed stops working.
const FieldMCPURLKey = "mcp_url_key"

// DefaultMCPURLLifetime is how long a signed per-user MCP URL works when
// Config.MCPURLLifetime is zero: long enough to sit in an MCP client's
// configuration file, short enough that a leaked URL dies on its own.
const DefaultMCPURLLifetime = 30 * 24 * time.Hour

// mcpNameRE is the name rule of Composio's API: 4 to 30 letters, digits,
// spaces and hyphens.
var mcpNameRE = regexp.MustCompile(`^[A-Za-z0-9 -]{4,30}$`)

// NewMCPServer is a configuration to create.
type NewMCPServer struct {
	Name          string
	Toolkits      []string
	AuthConfigIDs []string
	AllowedTools  []string
	ManagedAuth   bool
}

// MCPServerPatch changes the fields that are not nil.
type MCPServerPatch struct {
	Name          *string
	Toolkits      *[]string
	AuthConfigIDs *[]string
	AllowedTools  *[]string
	ManagedAuth   *bool
}

// checkMCPServer validates and normalizes m's lists against the catalog
// and the project: toolkits exist, auth configs are the project's (their
// toolkits join the list), allowed tools exist and belong to a listed
// toolkit. EINVALID names the first problem; ENOTFOUND an unknown auth
// config.
func (s *Service) checkMCPServer(ctx context.Context, m *MCPServer) error {
	if !mcpNameRE.MatchString(m.Name) {
		return Errorf(EINVALID, "name must be 4 to 30 characters: letters, digits, spaces and hyphens.")
	}
	if len(m.Toolkits) > 100 || len(m.AuthConfigIDs) > 100 || len(m.AllowedTools) > 1000 {
		return Errorf(EINVALID, "An MCP server takes at most 100 toolkits, 100 auth configs and 1000 allowed tools.")
	}
	var toolkits []string
	add := func(slug string) {
		if !slices.Contains(toolkits, slug) {
			toolkits = append(toolkits, slug)
		}
	}
	for _, slug := range m.Toolkits {
		tk, ok := s.catalog.Toolkit(strings.TrimSpace(slug))
		if !ok {
			return Errorf(EINVALID, "Unknown toolkit %q in toolkits.", Truncate(slug, 60))
		}
		add(tk.Slug)
	}
	var acs []string
	for _, id := range m.AuthConfigIDs {
		ac, err := s.store.GetAuthConfig(ctx, m.ProjectID, id)
		if ErrorCode(err) == ENOTFOUND {
			return Errorf(EINVALID, "Unknown auth config %q in auth_config_ids.", Truncate(id, 60))
		}
		if err != nil {
			return err
		}
		if !slices.Contains(acs, ac.ID) {
			acs = append(acs, ac.ID)
		}
		add(strings.ToLower(ac.Toolkit))
	}
	if len(toolkits) == 0 {
		return Errorf(EINVALID, "An MCP server needs at least one toolkit or auth config (toolkits, auth_config_ids).")
	}
	var tools []string
	for _, slug := range m.AllowedTools {
		t, ok := s.catalog.Tool(strings.TrimSpace(slug))
		if !ok {
			return Errorf(EINVALID, "Unknown tool %q in allowed_tools.", Truncate(slug, 80))
		}
		if !slices.Contains(toolkits, strings.ToLower(t.Toolkit)) {
			return Errorf(EINVALID, "Tool %s in allowed_tools belongs to toolkit %s, which this MCP server does not list.", t.Slug, t.Toolkit)
		}
		if !slices.Contains(tools, t.Slug) {
			tools = append(tools, t.Slug)
		}
	}
	m.Toolkits, m.AuthConfigIDs, m.AllowedTools = toolkits, orEmpty(acs), orEmpty(tools)
	return nil
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// newUUID returns a random (version 4) UUID.
func (s *Service) newUUID() (string, error) {
	var b [16]byte
	if _, err := s.rand.Read(b[:]); err != nil {
		return "", &Error{Code: EINTERNAL, Message: "generate id", Err: err}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// CreateMCPServer creates an MCP server configuration in the principal's
// project, with a fresh sealed key for its signed URLs. EINVALID names a
// bad name, toolkit, auth config or tool.
func (s *Service) CreateMCPServer(ctx context.Context, p *Principal, n NewMCPServer) (*MCPServer, error) {
	projectID, err := s.can(ctx, p, ManageMCPServers, "")
	if err != nil {
		return nil, err
	}
	now := s.now()
	m := &MCPServer{OrgID: p.OrgID, ProjectID: projectID, Name: strings.TrimSpace(n.Name), Toolkits: n.Toolkits,
		AuthConfigIDs: n.AuthConfigIDs, AllowedTools: n.AllowedTools, ManagedAuth: n.ManagedAuth,
		CreatedBy: p.Member.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.checkMCPServer(ctx, m); err != nil {
		return nil, err
	}
	if m.ID, err = s.newUUID(); err != nil {
		return nil, err
	}
	key, err := s.randomToken(32)
	if err != nil {
		return nil, err
	}
	st, err := s.sealMap(SecretRef{ProjectID: projectID, Record: m.ID, Field: FieldMCPURLKey}, map[string]string{"key": key})
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateMCPServer(ctx, m); err != nil {
			return err
		}
		if err := tx.PutSecret(ctx, st); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionMCPServerCreate, projectID, m.ID)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// GetMCPServer returns one of the project's MCP server configurations.
// ENOTFOUND otherwise.
func (s *Service) GetMCPServer(ctx context.Context, p *Principal, id string) (*MCPServer, error) {
	projectID, err := s.can(ctx, p, ViewMCPServers, "")
	if err != nil {
		return nil, err
	}
	return s.store.GetMCPServer(ctx, projectID, id)
}

// ListMCPServers lists the project's MCP server configurations that f
// selects (its ProjectID is the principal's), and the total.
func (s *Service) ListMCPServers(ctx context.Context, p *Principal, f MCPServerFilter) ([]*MCPServer, int, error) {
	projectID, err := s.can(ctx, p, ViewMCPServers, "")
	if err != nil {
		return nil, 0, err
	}
	f.ProjectID = projectID
	for i, t := range f.Toolkits {
		f.Toolkits[i] = strings.ToLower(strings.TrimSpace(t))
	}
	return s.store.ListMCPServers(ctx, f)
}

// UpdateMCPServer changes a configuration; the lists given replace the
// old ones and are checked as on creation.
func (s *Service) UpdateMCPServer(ctx context.Context, p *Principal, id string, u MCPServerPatch) (*MCPServer, error) {
	projectID, err := s.can(ctx, p, ManageMCPServers, "")
	if err != nil {
		return nil, err
	}
	var m *MCPServer
	err = s.store.InTx(ctx, func(tx Store) error {
		if m, err = tx.GetMCPServer(ctx, projectID, id); err != nil {
			return err
		}
		if u.Name != nil {
			m.Name = strings.TrimSpace(*u.Name)
		}
		if u.Toolkits != nil {
			m.Toolkits = *u.Toolkits
		}
		if u.AuthConfigIDs != nil {
			m.AuthConfigIDs = *u.AuthConfigIDs
		}
		if u.AllowedTools != nil {
			m.AllowedTools = *u.AllowedTools
		}
		if u.ManagedAuth != nil {
			m.ManagedAuth = *u.ManagedAuth
		}
		if err := s.checkMCPServer(ctx, m); err != nil {
			return err
		}
		m.UpdatedAt = s.now()
		if err := tx.UpdateMCPServer(ctx, m); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionMCPServerUpdate, projectID, m.ID)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// DeleteMCPServer deletes a configuration and the key of its signed URLs,
// which stop working at once. ENOTFOUND if there is none.
func (s *Service) DeleteMCPServer(ctx context.Context, p *Principal, id string) error {
	projectID, err := s.can(ctx, p, ManageMCPServers, "")
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Store) error {
		if err := tx.DeleteMCPServer(ctx, projectID, id); err != nil {
			return err
		}
		if err := tx.DeleteSecret(ctx, SecretRef{ProjectID: projectID, Record: id, Field: FieldMCPURLKey}); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionMCPServerDelete, projectID, id)
	})
}
