package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// Project is a project of an organization: its own API keys, auth configs
// and connected accounts. The project endpoints need an organization key
// (WithOrgAPIKey).
type Project struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"` // the organization owner's
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// WebhookURL is "" when none is set.
	WebhookURL string `json:"webhook_url"`
	// WebhookSecret is masked; "" when there is none.
	WebhookSecret  string `json:"webhook_secret"`
	WebhookVersion string `json:"webhook_version"`
	Deleted        bool   `json:"deleted"`
	// APIKeys are the project's active keys, masked. Only Project fills
	// them.
	APIKeys []ProjectKey `json:"api_keys"`
}

// UnmarshalJSON reads the wire form, where the webhook fields may be null.
func (p *Project) UnmarshalJSON(b []byte) error {
	type plain Project
	w := struct {
		*plain
		WebhookURL    *string `json:"webhook_url"`
		WebhookSecret *string `json:"webhook_secret"`
	}{plain: (*plain)(p)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	p.WebhookURL, p.WebhookSecret = str(w.WebhookURL), str(w.WebhookSecret)
	return nil
}

// ProjectKey is an API key of a project, masked.
type ProjectKey struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Key       string    `json:"key"` // masked
	CreatedAt time.Time `json:"created_at"`
}

// ProjectListParams page through Projects.
type ProjectListParams struct {
	Cursor string // NextCursor of the previous page
	Limit  int    // page size, at most 50 (the default)
}

// ProjectPage is a page of projects. The project listing reports no
// totals: only Items and NextCursor are set.
type ProjectPage = Page[Project]

// Projects lists the organization's projects, oldest first.
func (c *Client) Projects(ctx context.Context, p ProjectListParams) (*ProjectPage, error) {
	q := query{}
	q.str("cursor", p.Cursor)
	q.int("limit", p.Limit)
	var out struct {
		Data       []Project `json:"data"` // not "items", as in Composio's API
		NextCursor *string   `json:"next_cursor"`
	}
	if err := c.do(ctx, request{method: "GET", path: v3 + "/org/owner/project/list", query: url.Values(q), auth: authOrg}, &out); err != nil {
		return nil, err
	}
	page := &ProjectPage{Items: out.Data, NextCursor: str(out.NextCursor)}
	if page.Items == nil {
		page.Items = []Project{}
	}
	return page, nil
}

// NewProject is a project just created, with its first API key when one
// was asked for. Its String and GoString methods hide APIKey.
type NewProject struct {
	ID   string
	Name string
	// APIKey is the plaintext project key ("" if none was asked for).
	// Store it now: it is not shown again.
	APIKey string
}

func (p NewProject) String() string {
	key := ""
	if p.APIKey != "" {
		key = "[REDACTED]"
	}
	return fmt.Sprintf("{ID:%s Name:%q APIKey:%s}", p.ID, p.Name, key)
}

func (p NewProject) GoString() string { return "client.NewProject" + p.String() }

// CreateProject creates a project, with a project API key when withKey is
// set. ErrForbidden unless the organization key acts for an owner or
// admin; ErrInvalid for a bad name.
func (c *Client) CreateProject(ctx context.Context, name string, withKey bool) (*NewProject, error) {
	body := map[string]any{"name": name, "should_create_api_key": withKey}
	var out struct {
		ID     string  `json:"id"`
		Name   string  `json:"name"`
		APIKey *string `json:"api_key"`
	}
	if err := c.do(ctx, request{method: "POST", path: v3 + "/org/owner/project/new", auth: authOrg, body: body}, &out); err != nil {
		return nil, err
	}
	return &NewProject{ID: out.ID, Name: out.Name, APIKey: str(out.APIKey)}, nil
}

// Project returns a project with its keys (masked). ErrNotFound for a
// project outside the organization.
func (c *Client) Project(ctx context.Context, id string) (*Project, error) {
	var p Project
	if err := c.do(ctx, request{method: "GET", path: pathf(v3+"/org/owner/project/%s", id), auth: authOrg}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// DeleteProject deletes a project and revokes its keys. ErrNotFound for a
// project outside the organization.
func (c *Client) DeleteProject(ctx context.Context, id string) error {
	return c.do(ctx, request{method: "DELETE", path: pathf(v3+"/org/owner/project/%s", id), auth: authOrg}, nil)
}

// RegenerateProjectKey revokes the project's active keys and returns a new
// one, once. ErrNotFound for a project outside the organization.
func (c *Client) RegenerateProjectKey(ctx context.Context, id string) (*NewAPIKey, error) {
	var out struct {
		APIKey struct {
			ID        string    `json:"id"`
			Name      string    `json:"name"`
			Key       string    `json:"key"`
			CreatedAt time.Time `json:"created_at"`
		} `json:"api_key"`
	}
	if err := c.do(ctx, request{method: "POST", path: pathf(v3+"/org/owner/project/%s/regenerate_api_key", id), auth: authOrg}, &out); err != nil {
		return nil, err
	}
	k := out.APIKey
	return &NewAPIKey{ID: k.ID, Name: k.Name, ProjectID: id, CreatedAt: k.CreatedAt, Key: k.Key}, nil
}
