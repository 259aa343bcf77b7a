package httpapi

import (
	"crypto/sha1"
	"fmt"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// catalogVersion is the version the catalog reports for every toolkit.
const catalogVersion = "20261123_00"

// catalogEpoch is the created_at/updated_at of built-in toolkits.
const catalogEpoch = "2026-11-23T00:00:00.000Z"

// stableUUID derives a UUID (version 5 layout, SHA-1) from a name, so a
// toolkit has the same legacy appId on every instance.
func stableUUID(name string) string {
	h := sha1.Sum([]byte("patchbay-toolkit:" + name))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// legacyField is composio-core's auth-scheme field / ExpectedInputFieldsDTO.
// The display name goes under both spellings: the Node SDK reads
// display_name, the Python SDK's model requires displayName.
type legacyField struct {
	Name                 string  `json:"name"`
	DisplayName          string  `json:"displayName"`
	DisplayNameSnake     string  `json:"display_name"`
	Description          string  `json:"description"`
	Type                 string  `json:"type"`
	Required             bool    `json:"required"`
	ExpectedFromCustomer bool    `json:"expected_from_customer"`
	IsSecret             bool    `json:"is_secret"`
	Default              *string `json:"default"`
}

func toLegacyFields(fs []patchbay.Field) []legacyField {
	out := make([]legacyField, 0, len(fs))
	for _, f := range fs {
		out = append(out, legacyField{
			Name: f.Name, DisplayName: f.DisplayName, DisplayNameSnake: f.DisplayName, Description: f.Description, Type: orString(f.Type, "string"),
			Required: f.Required, ExpectedFromCustomer: f.Scope == patchbay.ScopeConnection, IsSecret: f.Secret, Default: f.Default,
		})
	}
	return out
}

func orString(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

type legacyScheme struct {
	Mode       string        `json:"mode"`
	AuthMode   string        `json:"auth_mode"`
	SchemeName string        `json:"scheme_name"`
	Name       string        `json:"name"`
	Proxy      wireProxy     `json:"proxy"`
	Fields     []legacyField `json:"fields"`
}

type wireProxy struct {
	BaseURL string `json:"base_url"`
}

// legacyApp is composio-core's app object (AppInfoResponseDto).
type legacyApp struct {
	AppID                  string         `json:"appId"`
	Key                    string         `json:"key"`
	Name                   string         `json:"name"`
	DisplayName            string         `json:"displayName"`
	Description            string         `json:"description"`
	Logo                   string         `json:"logo"`
	Categories             []string       `json:"categories"`
	Tags                   []string       `json:"tags"`
	Enabled                bool           `json:"enabled"`
	NoAuth                 bool           `json:"no_auth"`
	AuthSchemes            []legacyScheme `json:"auth_schemes"`
	TestConnectors         []any          `json:"testConnectors"`
	Docs                   string         `json:"docs"`
	Status                 string         `json:"status"`
	GetCurrentUserEndpoint *string        `json:"get_current_user_endpoint"`
	Meta                   map[string]any `json:"meta"`
}

func toLegacyApp(tk *patchbay.Toolkit) legacyApp {
	out := legacyApp{
		AppID: stableUUID(tk.Slug), Key: tk.Slug, Name: tk.Slug, DisplayName: tk.Name, Description: tk.Description,
		Logo: tk.Logo, Categories: make([]string, 0, len(tk.Categories)), Tags: []string{}, Enabled: true, NoAuth: tk.NoAuth(),
		AuthSchemes: make([]legacyScheme, 0, len(tk.AuthSchemes)), TestConnectors: []any{}, Docs: tk.AppURL, Status: "active",
		Meta: map[string]any{"is_custom_app": false, "triggersCount": 0, "actionsCount": 0},
	}
	if tk.GetCurrentUserEndpoint != "" {
		out.GetCurrentUserEndpoint = &tk.GetCurrentUserEndpoint
	}
	for _, c := range tk.Categories {
		out.Categories = append(out.Categories, c.Slug)
	}
	for _, sc := range tk.AuthSchemes {
		out.AuthSchemes = append(out.AuthSchemes, legacyScheme{
			Mode: string(sc.Mode), AuthMode: string(sc.Mode), SchemeName: sc.Name, Name: sc.Name,
			Proxy: wireProxy{BaseURL: sc.BaseURL}, Fields: toLegacyFields(sc.Fields),
		})
	}
	return out
}

// v3Field is the v3.1 auth field. Note the mixed casing of the wire.
type v3Field struct {
	Name        string  `json:"name"`
	DisplayName string  `json:"displayName"`
	Type        string  `json:"type"`
	Description string  `json:"description"`
	Required    bool    `json:"required"`
	Default     *string `json:"default"`
	IsSecret    bool    `json:"is_secret"`
}

type v3FieldGroup struct {
	Required []v3Field `json:"required"`
	Optional []v3Field `json:"optional"`
}

func toV3Group(fs []patchbay.Field) v3FieldGroup {
	g := v3FieldGroup{Required: []v3Field{}, Optional: []v3Field{}}
	for _, f := range fs {
		wf := v3Field{Name: f.Name, DisplayName: f.DisplayName, Type: orString(f.Type, "string"), Description: f.Description,
			Required: f.Required, Default: f.Default, IsSecret: f.Secret}
		if f.Required {
			g.Required = append(g.Required, wf)
		} else {
			g.Optional = append(g.Optional, wf)
		}
	}
	return g
}

type v3AuthDetail struct {
	Mode   string    `json:"mode"`
	Name   string    `json:"name"`
	Proxy  wireProxy `json:"proxy"`
	Fields struct {
		AuthConfigCreation         v3FieldGroup `json:"auth_config_creation"`
		ConnectedAccountInitiation v3FieldGroup `json:"connected_account_initiation"`
	} `json:"fields"`
}

type v3Category struct {
	ID   string `json:"id,omitempty"`
	Slug string `json:"slug,omitempty"`
	Name string `json:"name"`
}

type v3ToolkitMeta struct {
	CreatedAt         string       `json:"created_at"`
	UpdatedAt         string       `json:"updated_at"`
	Description       string       `json:"description"`
	Logo              string       `json:"logo"`
	AppURL            string       `json:"app_url"`
	Categories        []v3Category `json:"categories"`
	TriggersCount     int          `json:"triggers_count"`
	ToolsCount        int          `json:"tools_count"`
	Version           string       `json:"version"`
	AvailableVersions []string     `json:"available_versions"`
}

type v3Deprecated struct {
	ToolkitID                 string `json:"toolkitId"`
	GetCurrentUserEndpoint    string `json:"getCurrentUserEndpoint,omitempty"`
	RawProxyInfoByAuthSchemes []any  `json:"rawProxyInfoByAuthSchemes"`
}

// v3Toolkit serves both the detail and the list item; the list omits
// auth_config_details and uses {id, name} categories.
type v3Toolkit struct {
	Slug                         string         `json:"slug"`
	Name                         string         `json:"name"`
	Type                         string         `json:"type"`
	Enabled                      bool           `json:"enabled"`
	IsLocalToolkit               bool           `json:"is_local_toolkit"`
	NoAuth                       bool           `json:"no_auth"`
	AuthSchemes                  []string       `json:"auth_schemes"`
	ComposioManagedAuthSchemes   []string       `json:"composio_managed_auth_schemes"`
	ComposioManagedAuth          *[]any         `json:"composio_managed_auth,omitempty"` // detail only; a pointer so [] is not omitted
	AuthConfigDetails            []v3AuthDetail `json:"auth_config_details,omitempty"`
	GetCurrentUserEndpoint       string         `json:"get_current_user_endpoint,omitempty"`
	GetCurrentUserEndpointMethod string         `json:"get_current_user_endpoint_method,omitempty"`
	Meta                         v3ToolkitMeta  `json:"meta"`
	Deprecated                   v3Deprecated   `json:"deprecated"`
}

func toV3Toolkit(tk *patchbay.Toolkit, detail bool) v3Toolkit {
	out := v3Toolkit{
		Slug: tk.Slug, Name: tk.Name, Type: "native", Enabled: true, NoAuth: tk.NoAuth(),
		AuthSchemes: make([]string, 0, len(tk.AuthSchemes)), ComposioManagedAuthSchemes: []string{},
		Meta: v3ToolkitMeta{
			CreatedAt: catalogEpoch, UpdatedAt: catalogEpoch, Description: tk.Description, Logo: tk.Logo, AppURL: tk.AppURL,
			Categories: make([]v3Category, 0, len(tk.Categories)), Version: catalogVersion, AvailableVersions: []string{catalogVersion},
		},
		Deprecated: v3Deprecated{ToolkitID: stableUUID(tk.Slug), GetCurrentUserEndpoint: tk.GetCurrentUserEndpoint, RawProxyInfoByAuthSchemes: []any{}},
	}
	for _, sc := range tk.AuthSchemes {
		out.AuthSchemes = append(out.AuthSchemes, string(sc.Mode))
	}
	if sc, err := patchbay.DefaultScheme(tk); err == nil {
		out.ComposioManagedAuthSchemes = append(out.ComposioManagedAuthSchemes, string(sc.Mode))
	}
	for _, c := range tk.Categories {
		if detail {
			out.Meta.Categories = append(out.Meta.Categories, v3Category{Slug: c.Slug, Name: c.Name})
		} else {
			out.Meta.Categories = append(out.Meta.Categories, v3Category{ID: c.Slug, Name: c.Name})
		}
	}
	if !detail {
		return out
	}
	out.ComposioManagedAuth = &[]any{}
	if tk.GetCurrentUserEndpoint != "" {
		out.GetCurrentUserEndpoint, out.GetCurrentUserEndpointMethod = tk.GetCurrentUserEndpoint, "GET"
	}
	out.AuthConfigDetails = make([]v3AuthDetail, 0, len(tk.AuthSchemes))
	for i := range tk.AuthSchemes {
		sc := &tk.AuthSchemes[i]
		d := v3AuthDetail{Mode: string(sc.Mode), Name: sc.Name, Proxy: wireProxy{BaseURL: sc.BaseURL}}
		d.Fields.AuthConfigCreation = toV3Group(sc.FieldsFor(patchbay.ScopeAuthConfig))
		d.Fields.ConnectedAccountInitiation = toV3Group(sc.FieldsFor(patchbay.ScopeConnection))
		out.AuthConfigDetails = append(out.AuthConfigDetails, d)
	}
	return out
}
