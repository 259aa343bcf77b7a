package client

import (
	"context"
	"net/url"
	"time"
)

// AuthConfig is a project's way of connecting users to one toolkit with one
// auth scheme, holding the settings (and, for OAuth, the app credentials)
// shared by every connected account made through it.
type AuthConfig struct {
	ID   string `json:"id"`
	UUID string `json:"uuid"`
	// Type is "custom" (your own credentials) or "default" (managed).
	Type    string `json:"type"`
	Name    string `json:"name"`
	Toolkit struct {
		Slug string `json:"slug"`
		Logo string `json:"logo"`
	} `json:"toolkit"`
	AuthScheme        string `json:"auth_scheme"`
	IsComposioManaged bool   `json:"is_composio_managed"`
	// Credentials are the auth config's credentials, secrets masked.
	Credentials map[string]string `json:"credentials"`
	// Status is "ENABLED" or "DISABLED"; connections through a disabled
	// auth config are refused.
	Status                   string           `json:"status"`
	CreatedBy                string           `json:"created_by"`
	CreatedAt                time.Time        `json:"created_at"`
	LastUpdatedAt            time.Time        `json:"last_updated_at"`
	NoOfConnections          int              `json:"no_of_connections"`
	RestrictToFollowingTools []string         `json:"restrict_to_following_tools"`
	ToolAccessConfig         ToolAccessConfig `json:"tool_access_config"`
	IsEnabledForToolRouter   bool             `json:"is_enabled_for_tool_router"`
}

// Auth config statuses.
const (
	AuthConfigEnabled  = "ENABLED"
	AuthConfigDisabled = "DISABLED"
)

// ToolAccessConfig limits which tools an auth config's accounts may use.
type ToolAccessConfig struct {
	ToolsForConnectedAccountCreation []string `json:"tools_for_connected_account_creation"`
	ToolsAvailableForExecution       []string `json:"tools_available_for_execution"`
}

// CreateAuthConfigParams describe an auth config to create.
type CreateAuthConfigParams struct {
	Toolkit string // required: the toolkit slug
	// AuthScheme is required for a custom auth config; with Managed, ""
	// picks the toolkit's default scheme.
	AuthScheme string
	Name       string // "" for "<Toolkit> Auth Config"
	// Credentials are the scheme's auth-config fields (see
	// AuthConfigFields); nil for none.
	Credentials map[string]string
	// Managed creates a "default" (managed) auth config rather than a
	// custom one.
	Managed bool
}

// CreateAuthConfig creates an auth config. The result carries what the
// server's create answer holds: ID, Type, Toolkit.Slug, AuthScheme,
// IsComposioManaged, Status and RestrictToFollowingTools; call AuthConfig
// for the rest. ErrInvalid names the problem (unknown toolkit or scheme,
// missing or unknown credential fields).
func (c *Client) CreateAuthConfig(ctx context.Context, p CreateAuthConfigParams) (*AuthConfig, error) {
	type wireAuthConfig struct {
		Type        string `json:"type"`
		Name        string `json:"name,omitempty"`
		AuthScheme  string `json:"authScheme,omitempty"`
		Credentials any    `json:"credentials,omitempty"` // omitted when nil
	}
	ac := wireAuthConfig{Type: "use_custom_auth", Name: p.Name, AuthScheme: p.AuthScheme}
	switch {
	case p.Credentials != nil:
		ac.Credentials = p.Credentials
	case !p.Managed:
		ac.Credentials = map[string]string{} // custom configs always carry credentials on the wire
	}
	if p.Managed {
		ac.Type = "use_composio_managed_auth"
	}
	body := map[string]any{"toolkit": map[string]string{"slug": p.Toolkit}, "auth_config": ac}
	var out struct {
		Toolkit struct {
			Slug string `json:"slug"`
		} `json:"toolkit"`
		AuthConfig struct {
			ID                       string   `json:"id"`
			AuthScheme               string   `json:"auth_scheme"`
			IsComposioManaged        bool     `json:"is_composio_managed"`
			RestrictToFollowingTools []string `json:"restrict_to_following_tools"`
		} `json:"auth_config"`
	}
	if err := c.do(ctx, request{method: "POST", path: v3 + "/auth_configs", auth: authProject, body: body}, &out); err != nil {
		return nil, err
	}
	res := &AuthConfig{
		ID: out.AuthConfig.ID, Type: "custom", AuthScheme: out.AuthConfig.AuthScheme, IsComposioManaged: out.AuthConfig.IsComposioManaged,
		Status: AuthConfigEnabled, RestrictToFollowingTools: out.AuthConfig.RestrictToFollowingTools,
	}
	if res.IsComposioManaged {
		res.Type = "default"
	}
	res.Toolkit.Slug = out.Toolkit.Slug
	return res, nil
}

// AuthConfig returns an auth config. ErrNotFound if the project has no such
// auth config.
func (c *Client) AuthConfig(ctx context.Context, id string) (*AuthConfig, error) {
	var ac AuthConfig
	if err := c.do(ctx, request{method: "GET", path: pathf(v3+"/auth_configs/%s", id), auth: authProject}, &ac); err != nil {
		return nil, err
	}
	return &ac, nil
}

// AuthConfigListParams filter AuthConfigs. Zero values are left out.
type AuthConfigListParams struct {
	Toolkit      string // a toolkit slug
	Search       string // matched against the name
	ShowDisabled bool   // include DISABLED auth configs
	Cursor       string // NextCursor of the previous page
	Limit        int    // page size; the server's default is 50
}

// AuthConfigPage is a page of auth configs.
type AuthConfigPage = Page[AuthConfig]

// AuthConfigs lists the project's auth configs, a page at a time.
func (c *Client) AuthConfigs(ctx context.Context, p AuthConfigListParams) (*AuthConfigPage, error) {
	q := query{}
	q.str("toolkit_slug", p.Toolkit)
	q.str("search", p.Search)
	q.bool("show_disabled", p.ShowDisabled)
	q.str("cursor", p.Cursor)
	q.int("limit", p.Limit)
	var w wirePage[AuthConfig]
	if err := c.do(ctx, request{method: "GET", path: v3 + "/auth_configs", query: url.Values(q), auth: authProject}, &w); err != nil {
		return nil, err
	}
	return w.page(), nil
}

// UpdateAuthConfigParams change an auth config; nil fields stay as they
// are.
type UpdateAuthConfigParams struct {
	Name *string
	// Credentials replace all of the auth config's credentials.
	Credentials              map[string]string
	IsEnabledForToolRouter   *bool
	ToolAccessConfig         *ToolAccessConfig
	RestrictToFollowingTools *[]string
}

// UpdateAuthConfig changes an auth config and returns it. ErrNotFound for
// an unknown id; ErrInvalid for credentials that do not fit its scheme.
func (c *Client) UpdateAuthConfig(ctx context.Context, id string, p UpdateAuthConfigParams) (*AuthConfig, error) {
	body := struct {
		Type                     string            `json:"type"`
		Name                     *string           `json:"name,omitempty"`
		Credentials              map[string]string `json:"credentials,omitempty"`
		IsEnabledForToolRouter   *bool             `json:"is_enabled_for_tool_router,omitempty"`
		ToolAccessConfig         *ToolAccessConfig `json:"tool_access_config,omitempty"`
		RestrictToFollowingTools *[]string         `json:"restrict_to_following_tools,omitempty"`
	}{"custom", p.Name, p.Credentials, p.IsEnabledForToolRouter, p.ToolAccessConfig, p.RestrictToFollowingTools}
	var ac AuthConfig
	if err := c.do(ctx, request{method: "PATCH", path: pathf(v3+"/auth_configs/%s", id), auth: authProject, body: body}, &ac); err != nil {
		return nil, err
	}
	return &ac, nil
}

// EnableAuthConfig enables an auth config and returns it. ErrNotFound for
// an unknown id.
func (c *Client) EnableAuthConfig(ctx context.Context, id string) (*AuthConfig, error) {
	return c.setAuthConfigStatus(ctx, id, AuthConfigEnabled)
}

// DisableAuthConfig disables an auth config and returns it: new
// connections through it are refused. ErrNotFound for an unknown id.
func (c *Client) DisableAuthConfig(ctx context.Context, id string) (*AuthConfig, error) {
	return c.setAuthConfigStatus(ctx, id, AuthConfigDisabled)
}

func (c *Client) setAuthConfigStatus(ctx context.Context, id, status string) (*AuthConfig, error) {
	var ac AuthConfig
	if err := c.do(ctx, request{method: "PATCH", path: pathf(v3+"/auth_configs/%s/"+status, id), auth: authProject}, &ac); err != nil {
		return nil, err
	}
	return &ac, nil
}

// DeleteAuthConfig deletes an auth config with its connected accounts.
// ErrNotFound for an unknown id.
func (c *Client) DeleteAuthConfig(ctx context.Context, id string) error {
	return c.do(ctx, request{method: "DELETE", path: pathf(v3+"/auth_configs/%s", id), auth: authProject}, nil)
}
