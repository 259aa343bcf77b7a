package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

type v3ToolkitRef struct {
	Slug         string  `json:"slug"`
	Logo         string  `json:"logo"`
	AuthGuideURL *string `json:"auth_guide_url"`
	AuthHintURL  *string `json:"auth_hint_url"`
}

type v3ToolAccess struct {
	ToolsForConnectedAccountCreation []string `json:"tools_for_connected_account_creation"`
	ToolsAvailableForExecution       []string `json:"tools_available_for_execution"`
}

// v3AuthConfig is the v3.1 auth config object; credentials are masked.
type v3AuthConfig struct {
	ID                       string            `json:"id"`
	UUID                     string            `json:"uuid"`
	Type                     string            `json:"type"`
	Name                     string            `json:"name"`
	Toolkit                  v3ToolkitRef      `json:"toolkit"`
	AuthScheme               string            `json:"auth_scheme"`
	IsComposioManaged        bool              `json:"is_composio_managed"`
	Credentials              map[string]string `json:"credentials"`
	ProxyConfig              *struct{}         `json:"proxy_config"`
	Status                   string            `json:"status"`
	CreatedBy                string            `json:"created_by"`
	CreatedAt                string            `json:"created_at"`
	LastUpdatedAt            string            `json:"last_updated_at"`
	NoOfConnections          int               `json:"no_of_connections"`
	ExpectedInputFields      []any             `json:"expected_input_fields"`
	RestrictToFollowingTools []string          `json:"restrict_to_following_tools"`
	ToolAccessConfig         v3ToolAccess      `json:"tool_access_config"`
	IsEnabledForToolRouter   bool              `json:"is_enabled_for_tool_router"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) toV3AuthConfig(ctx context.Context, ac *patchbay.AuthConfig, connections int) (v3AuthConfig, error) {
	tk, sc, err := s.svc.Scheme(ac.Toolkit, ac.Mode)
	if err != nil {
		return v3AuthConfig{}, err
	}
	creds, err := s.svc.AuthConfigCredentials(ctx, ac)
	if err != nil {
		return v3AuthConfig{}, err
	}
	typ, status := "custom", "ENABLED"
	if ac.Managed {
		typ = "default"
	}
	if ac.Disabled {
		status = "DISABLED"
	}
	return v3AuthConfig{
		ID: ac.ID, UUID: stableUUID("auth_config:" + ac.ID), Type: typ, Name: ac.Name,
		Toolkit:    v3ToolkitRef{Slug: tk.Slug, Logo: tk.Logo},
		AuthScheme: string(ac.Mode), IsComposioManaged: ac.Managed, Credentials: patchbay.MaskCredentials(sc, creds),
		Status: status, CreatedBy: ac.CreatedBy, CreatedAt: wireTime(ac.CreatedAt), LastUpdatedAt: wireTime(ac.UpdatedAt),
		NoOfConnections: connections, ExpectedInputFields: []any{}, RestrictToFollowingTools: nonNil(ac.Settings.RestrictToTools),
		ToolAccessConfig: v3ToolAccess{
			ToolsForConnectedAccountCreation: nonNil(ac.Settings.ToolsForConnection),
			ToolsAvailableForExecution:       nonNil(ac.Settings.ToolsForExecution),
		},
		IsEnabledForToolRouter: ac.Settings.IsEnabledForToolRouter,
	}, nil
}

func (s *Server) writeV3AuthConfig(w http.ResponseWriter, r *http.Request, ac *patchbay.AuthConfig) error {
	counts, err := s.svc.Store.CountConnections(r.Context(), ac.ProjectID, []string{ac.ID})
	if err != nil {
		return err
	}
	out, err := s.toV3AuthConfig(r.Context(), ac, counts[ac.ID])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type v3ToolAccessRequest struct {
	ToolsForConnectedAccountCreation []string `json:"tools_for_connected_account_creation"`
	ToolsAvailableForExecution       []string `json:"tools_available_for_execution"`
}

type createAuthConfigRequest struct {
	Toolkit *struct {
		Slug *string `json:"slug"`
	} `json:"toolkit"`
	AuthConfig *struct {
		Type                     *string              `json:"type"`
		Name                     *string              `json:"name"`
		AuthScheme               *string              `json:"authScheme"`
		AuthSchemeSnake          *string              `json:"auth_scheme"`
		Credentials              map[string]any       `json:"credentials"`
		IsEnabledForToolRouter   *bool                `json:"is_enabled_for_tool_router"`
		ToolAccessConfig         *v3ToolAccessRequest `json:"tool_access_config"`
		RestrictToFollowingTools []string             `json:"restrict_to_following_tools"`
	} `json:"auth_config"`
}

// createAuthConfig: POST /auth_configs.
func (s *Server) createAuthConfig(w http.ResponseWriter, r *http.Request) error {
	var req createAuthConfigRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	if req.Toolkit == nil || req.Toolkit.Slug == nil || *req.Toolkit.Slug == "" {
		return errorf(patchbay.EINVALID, "toolkit.slug is required.")
	}
	n := patchbay.NewAuthConfig{Toolkit: *req.Toolkit.Slug, Managed: true}
	if c := req.AuthConfig; c != nil {
		typ := "use_composio_managed_auth"
		if c.Type != nil {
			typ = *c.Type
		}
		switch typ {
		case "use_composio_managed_auth":
		case "use_custom_auth":
			n.Managed = false
		default:
			return errorf(patchbay.EINVALID, "auth_config.type must be use_custom_auth or use_composio_managed_auth; got %q.", truncate(typ, 40))
		}
		for _, m := range []*string{c.AuthScheme, c.AuthSchemeSnake} {
			if m != nil && *m != "" {
				n.Mode = patchbay.AuthMode(strings.ToUpper(*m))
			}
		}
		if c.Name != nil {
			n.Name = *c.Name
		}
		n.Credentials = c.Credentials
		n.Settings.RestrictToTools = c.RestrictToFollowingTools
		if c.IsEnabledForToolRouter != nil {
			n.Settings.IsEnabledForToolRouter = *c.IsEnabledForToolRouter
		}
		if t := c.ToolAccessConfig; t != nil {
			n.Settings.ToolsForConnection, n.Settings.ToolsForExecution = t.ToolsForConnectedAccountCreation, t.ToolsAvailableForExecution
		}
	}
	ac, err := s.svc.CreateAuthConfig(r.Context(), actor(r), principal(r).Key.ProjectID, n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"toolkit": map[string]string{"slug": ac.Toolkit},
		"auth_config": map[string]any{
			"id": ac.ID, "auth_scheme": string(ac.Mode), "is_composio_managed": ac.Managed,
			"restrict_to_following_tools": nonNil(ac.Settings.RestrictToTools),
		},
	})
	return nil
}

// getAuthConfig: GET /auth_configs/{id}.
func (s *Server) getAuthConfig(w http.ResponseWriter, r *http.Request) error {
	ac, err := s.svc.Store.GetAuthConfig(r.Context(), principal(r).Key.ProjectID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.writeV3AuthConfig(w, r, ac)
}

// listAuthConfigs: GET /auth_configs?toolkit_slug=&is_composio_managed=&show_disabled=&search=&cursor=&limit=.
func (s *Server) listAuthConfigs(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", 50, 1, 1000)
	if err != nil {
		return err
	}
	page, after, err := decodeCursor(r)
	if err != nil {
		return err
	}
	managed, err := queryBool(r, "is_composio_managed")
	if err != nil {
		return err
	}
	showDisabled, err := queryBool(r, "show_disabled")
	if err != nil {
		return err
	}
	projectID := principal(r).Key.ProjectID
	f := patchbay.AuthConfigFilter{
		ProjectID: projectID, Toolkit: r.URL.Query().Get("toolkit_slug"), Managed: managed,
		ShowDisabled: showDisabled != nil && *showDisabled, Search: r.URL.Query().Get("search"),
		Page: patchbay.Page{After: after, Limit: limit + 1},
	}
	acs, total, err := s.svc.Store.ListAuthConfigs(r.Context(), f)
	if err != nil {
		return err
	}
	out := v3Page{TotalPages: totalPages(total, limit), CurrentPage: page, TotalItems: total}
	if len(acs) > limit {
		acs = acs[:limit]
		out.NextCursor = encodeCursor(page+1, acs[limit-1].ID)
	}
	counts, err := s.svc.Store.CountConnections(r.Context(), projectID, authConfigIDs(acs))
	if err != nil {
		return err
	}
	items := make([]v3AuthConfig, 0, len(acs))
	for _, ac := range acs {
		v, err := s.toV3AuthConfig(r.Context(), ac, counts[ac.ID])
		if err != nil {
			return err
		}
		items = append(items, v)
	}
	out.Items = items
	writeJSON(w, http.StatusOK, out)
	return nil
}

type updateAuthConfigRequest struct {
	Type                     *string              `json:"type"`
	Name                     *string              `json:"name"`
	Credentials              map[string]any       `json:"credentials"`
	IsEnabledForToolRouter   *bool                `json:"is_enabled_for_tool_router"`
	ToolAccessConfig         *v3ToolAccessRequest `json:"tool_access_config"`
	RestrictToFollowingTools []string             `json:"restrict_to_following_tools"`
	Scopes                   []string             `json:"scopes"`
}

// updateAuthConfig: PATCH /auth_configs/{id}.
func (s *Server) updateAuthConfig(w http.ResponseWriter, r *http.Request) error {
	var req updateAuthConfigRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	projectID, id := principal(r).Key.ProjectID, r.PathValue("id")
	current, err := s.svc.Store.GetAuthConfig(r.Context(), projectID, id)
	if err != nil {
		return err
	}
	settings := current.Settings
	if req.IsEnabledForToolRouter != nil {
		settings.IsEnabledForToolRouter = *req.IsEnabledForToolRouter
	}
	if t := req.ToolAccessConfig; t != nil {
		settings.ToolsForConnection, settings.ToolsForExecution = t.ToolsForConnectedAccountCreation, t.ToolsAvailableForExecution
	}
	if req.RestrictToFollowingTools != nil {
		settings.RestrictToTools = req.RestrictToFollowingTools
	}
	if req.Scopes != nil {
		settings.Scopes = req.Scopes
	}
	ac, err := s.svc.UpdateAuthConfig(r.Context(), projectID, id, patchbay.AuthConfigUpdate{
		Name: req.Name, Credentials: req.Credentials, Settings: &settings,
	})
	if err != nil {
		return err
	}
	return s.writeV3AuthConfig(w, r, ac)
}

// setAuthConfigStatus: PATCH /auth_configs/{id}/{status}, status ENABLED or DISABLED.
func (s *Server) setAuthConfigStatus(w http.ResponseWriter, r *http.Request) error {
	var disabled bool
	switch st := r.PathValue("status"); st {
	case "ENABLED":
	case "DISABLED":
		disabled = true
	default:
		return errorf(patchbay.EINVALID, "Status must be ENABLED or DISABLED; got %q.", truncate(st, 40))
	}
	ac, err := s.svc.SetAuthConfigDisabled(r.Context(), principal(r).Key.ProjectID, r.PathValue("id"), disabled)
	if err != nil {
		return err
	}
	return s.writeV3AuthConfig(w, r, ac)
}

// deleteAuthConfig: DELETE /auth_configs/{id}, with its connected accounts.
func (s *Server) deleteAuthConfig(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Store.DeleteAuthConfig(r.Context(), principal(r).Key.ProjectID, r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}
