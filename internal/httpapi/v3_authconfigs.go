package httpapi

import (
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

func toV3AuthConfig(v *patchbay.AuthConfigView) v3AuthConfig {
	typ, status := "custom", "ENABLED"
	if v.Managed {
		typ = "default"
	}
	if v.Disabled {
		status = "DISABLED"
	}
	return v3AuthConfig{
		ID: v.ID, UUID: stableUUID("auth_config:" + v.ID), Type: typ, Name: v.Name,
		Toolkit:    v3ToolkitRef{Slug: v.ToolkitDef.Slug, Logo: v.ToolkitDef.Logo},
		AuthScheme: string(v.Mode), IsComposioManaged: v.Managed, Credentials: v.Credentials,
		Status: status, CreatedBy: v.CreatedBy, CreatedAt: wireTime(v.CreatedAt), LastUpdatedAt: wireTime(v.UpdatedAt),
		NoOfConnections: v.Connections, ExpectedInputFields: []any{}, RestrictToFollowingTools: nonNil(v.Settings.RestrictToTools),
		ToolAccessConfig: v3ToolAccess{
			ToolsForConnectedAccountCreation: nonNil(v.Settings.ToolsForConnection),
			ToolsAvailableForExecution:       nonNil(v.Settings.ToolsForExecution),
		},
		IsEnabledForToolRouter: v.Settings.IsEnabledForToolRouter,
	}
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
			return errorf(patchbay.EINVALID, "auth_config.type must be use_custom_auth or use_composio_managed_auth; got %q.", patchbay.Truncate(typ, 40))
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
	ac, err := s.svc.CreateAuthConfig(r.Context(), principal(r), n)
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
	return s.rendered(w, r, patchbay.ViewAuthConfigs, func() (any, error) {
		v, err := s.svc.AuthConfig(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return toV3AuthConfig(v), nil
	})
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
	f := patchbay.AuthConfigFilter{
		Toolkit: r.URL.Query().Get("toolkit_slug"), Managed: managed,
		ShowDisabled: showDisabled != nil && *showDisabled, Search: r.URL.Query().Get("search"),
		Page: patchbay.Page{After: after, Limit: limit + 1},
	}
	acs, total, err := s.svc.ListAuthConfigs(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	out := v3Page{TotalPages: totalPages(total, limit), CurrentPage: page, TotalItems: total}
	if len(acs) > limit {
		acs = acs[:limit]
		out.NextCursor = encodeCursor(page+1, acs[limit-1].ID)
	}
	items := make([]v3AuthConfig, 0, len(acs))
	for _, v := range acs {
		items = append(items, toV3AuthConfig(v))
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
	edit := func(settings *patchbay.AuthConfigSettings) {
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
	}
	v, err := s.svc.UpdateAuthConfig(r.Context(), principal(r), r.PathValue("id"), patchbay.AuthConfigUpdate{
		Name: req.Name, Credentials: req.Credentials, EditSettings: edit,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toV3AuthConfig(v))
	return nil
}

// setAuthConfigStatus: PATCH /auth_configs/{id}/{status}, status ENABLED or DISABLED.
func (s *Server) setAuthConfigStatus(w http.ResponseWriter, r *http.Request) error {
	var disabled bool
	switch st := r.PathValue("status"); st {
	case "ENABLED":
	case "DISABLED":
		disabled = true
	default:
		return errorf(patchbay.EINVALID, "Status must be ENABLED or DISABLED; got %q.", patchbay.Truncate(st, 40))
	}
	p := principal(r)
	ac, err := s.svc.SetAuthConfigDisabled(r.Context(), p, r.PathValue("id"), disabled)
	if err != nil {
		return err
	}
	v, err := s.svc.AuthConfig(r.Context(), p, ac.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toV3AuthConfig(v))
	return nil
}

// deleteAuthConfig: DELETE /auth_configs/{id}, with its connected accounts.
func (s *Server) deleteAuthConfig(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteAuthConfig(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}
