package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Auth schemes (the "mode" of a toolkit's auth scheme, the "auth_scheme"
// of an auth config). Connections with user-supplied credentials use the
// first three.
const (
	SchemeAPIKey      = "API_KEY"
	SchemeBearerToken = "BEARER_TOKEN"
	SchemeBasic       = "BASIC"
	SchemeOAuth2      = "OAUTH2"
	SchemeNoAuth      = "NO_AUTH"
)

// Toolkit is an app that end users connect to (GitHub, SerpApi, …).
type Toolkit struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
	Type string `json:"type"` // "native" or "custom"
	// Enabled reports whether the toolkit can be used on this server.
	Enabled bool `json:"enabled"`
	// NoAuth reports a toolkit that needs no credentials.
	NoAuth bool `json:"no_auth"`
	// AuthSchemes are the modes the toolkit supports, e.g. ["API_KEY"].
	AuthSchemes []string `json:"auth_schemes"`
	// ComposioManagedAuthSchemes are the modes an auth config created
	// with Managed set can use.
	ComposioManagedAuthSchemes []string `json:"composio_managed_auth_schemes"`
	// AuthConfigDetails describe each scheme and its fields. Only Toolkit
	// fills them; the entries of Toolkits have none.
	AuthConfigDetails      []AuthConfigDetail `json:"auth_config_details"`
	GetCurrentUserEndpoint string             `json:"get_current_user_endpoint"`
	Meta                   ToolkitMeta        `json:"meta"`
}

// ToolkitMeta is a toolkit's descriptive data.
type ToolkitMeta struct {
	Description   string     `json:"description"`
	Logo          string     `json:"logo"`
	AppURL        string     `json:"app_url"`
	Categories    []Category `json:"categories"`
	ToolsCount    int        `json:"tools_count"`
	TriggersCount int        `json:"triggers_count"`
	Version       string     `json:"version"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// Category is a toolkit category.
type Category struct {
	Slug string
	Name string
}

// UnmarshalJSON accepts both wire forms: {slug, name} in a toolkit's
// detail and {id, name} in listings.
func (c *Category) UnmarshalJSON(b []byte) error {
	var w struct {
		ID   string `json:"id"`
		Slug string `json:"slug"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	c.Slug, c.Name = firstNonEmpty(w.Slug, w.ID), w.Name
	return nil
}

// AuthConfigDetail is one auth scheme of a toolkit.
type AuthConfigDetail struct {
	Mode  string `json:"mode"` // e.g. "API_KEY"
	Name  string `json:"name"`
	Proxy struct {
		BaseURL string `json:"base_url"`
	} `json:"proxy"`
	Fields struct {
		// AuthConfigCreation are set once per auth config (e.g. OAuth
		// client credentials).
		AuthConfigCreation FieldGroup `json:"auth_config_creation"`
		// ConnectedAccountInitiation are supplied per end user when
		// connecting (e.g. the user's API key).
		ConnectedAccountInitiation FieldGroup `json:"connected_account_initiation"`
	} `json:"fields"`
}

// FieldGroup splits a scheme's fields into required and optional ones.
type FieldGroup struct {
	Required []AuthField `json:"required"`
	Optional []AuthField `json:"optional"`
}

// AuthField is one credential field of an auth scheme.
type AuthField struct {
	Name        string  `json:"name"`        // the key to send, e.g. "api_key"
	DisplayName string  `json:"displayName"` // a label to show the user
	Type        string  `json:"type"`        // "string", "number", "boolean", …
	Description string  `json:"description"`
	Required    bool    `json:"required"`
	Default     *string `json:"default"`   // nil when there is none
	IsSecret    bool    `json:"is_secret"` // mask it in your UI
}

// ToolkitListParams filter Toolkits. Zero values are left out.
type ToolkitListParams struct {
	Category string // a category slug or name
	Search   string // matched against slug, name and description
	Cursor   string // NextCursor of the previous page
	Limit    int    // page size; the server's default is 50
}

// ToolkitPage is a page of toolkits.
type ToolkitPage = Page[Toolkit]

// Toolkit returns a toolkit with its auth schemes and their fields.
// ErrNotFound for an unknown slug.
func (c *Client) Toolkit(ctx context.Context, slug string) (*Toolkit, error) {
	var tk Toolkit
	if err := c.do(ctx, request{method: "GET", path: pathf(v3+"/toolkits/%s", slug), auth: authProject}, &tk); err != nil {
		return nil, err
	}
	return &tk, nil
}

// Toolkits lists toolkits, a page at a time.
func (c *Client) Toolkits(ctx context.Context, p ToolkitListParams) (*ToolkitPage, error) {
	q := query{}
	q.str("category", p.Category)
	q.str("search", p.Search)
	q.str("cursor", p.Cursor)
	q.int("limit", p.Limit)
	var w wirePage[Toolkit]
	if err := c.do(ctx, request{method: "GET", path: v3 + "/toolkits", query: url.Values(q), auth: authProject}, &w); err != nil {
		return nil, err
	}
	return w.page(), nil
}

// ConnectionFields returns the fields an end user supplies to connect to
// the toolkit with scheme ("" for the toolkit's first scheme): the
// required ones first, then the optional ones, as @composio/core's
// getConnectedAccountInitiationFields does. ErrNotFound for an unknown
// toolkit; ErrNoAuthScheme when it has no such scheme.
func (c *Client) ConnectionFields(ctx context.Context, slug, scheme string) ([]AuthField, error) {
	d, err := c.authDetail(ctx, slug, scheme)
	if err != nil {
		return nil, err
	}
	return flatten(d.Fields.ConnectedAccountInitiation), nil
}

// AuthConfigFields returns the fields an auth config of the toolkit with
// scheme is created with, required first; errors as ConnectionFields.
func (c *Client) AuthConfigFields(ctx context.Context, slug, scheme string) ([]AuthField, error) {
	d, err := c.authDetail(ctx, slug, scheme)
	if err != nil {
		return nil, err
	}
	return flatten(d.Fields.AuthConfigCreation), nil
}

func (c *Client) authDetail(ctx context.Context, slug, scheme string) (*AuthConfigDetail, error) {
	tk, err := c.Toolkit(ctx, slug)
	if err != nil {
		return nil, err
	}
	modes := make([]string, 0, len(tk.AuthConfigDetails))
	for i, d := range tk.AuthConfigDetails {
		if scheme == "" || d.Mode == scheme {
			return &tk.AuthConfigDetails[i], nil
		}
		modes = append(modes, d.Mode)
	}
	if len(modes) == 0 {
		return nil, fmt.Errorf("%w: toolkit %s has no auth schemes", ErrNoAuthScheme, tk.Slug)
	}
	return nil, fmt.Errorf("%w: toolkit %s has no %s scheme (it has %s)", ErrNoAuthScheme, tk.Slug, scheme, strings.Join(modes, ", "))
}

// flatten lists required fields, then optional ones, with Required set to
// match the group whatever the field said.
func flatten(g FieldGroup) []AuthField {
	out := make([]AuthField, 0, len(g.Required)+len(g.Optional))
	for _, f := range g.Required {
		f.Required = true
		out = append(out, f)
	}
	for _, f := range g.Optional {
		f.Required = false
		out = append(out, f)
	}
	return out
}
