package client

import (
	"context"
	"fmt"
	"time"
)

// APIKey is a project API key as listed: its plaintext is never shown
// again after creation.
type APIKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	ProjectID string     `json:"projectId"`
	Key       string     `json:"key"` // masked: the key's display prefix, e.g. "ak_3kT9…"
	Status    string     `json:"status"`
	Revoked   bool       `json:"revoked"`
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
	LastUsed  *time.Time `json:"lastUsed"`  // nil if never used
	RevokedAt *time.Time `json:"revokedAt"` // nil unless revoked
	Member    *Member    `json:"member"`    // who created the key
}

// Member is a member of an organization.
type Member struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"` // "owner", "admin" or "member"
}

// NewAPIKey is a key just created: the only time its plaintext is known.
// Its String and GoString methods hide Key, so printing one is safe.
type NewAPIKey struct {
	ID        string
	Name      string
	ProjectID string
	CreatedAt time.Time
	// Key is the plaintext key. Store it now: it is not shown again.
	Key string
}

func (k NewAPIKey) String() string {
	return fmt.Sprintf("{ID:%s Name:%q ProjectID:%s Key:[REDACTED]}", k.ID, k.Name, k.ProjectID)
}

func (k NewAPIKey) GoString() string { return "client.NewAPIKey" + k.String() }

// APIKeys lists the project's API keys, newest first, revoked ones
// included. It needs a project key (WithAPIKey).
func (c *Client) APIKeys(ctx context.Context) ([]APIKey, error) {
	var out []APIKey
	if err := c.do(ctx, request{method: "GET", path: legacy + "/api_keys", auth: authProject}, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = []APIKey{}
	}
	return out, nil
}

// CreateAPIKey creates a project API key. ErrForbidden unless the caller's
// key acts for an owner or admin; ErrInvalid for a bad name.
func (c *Client) CreateAPIKey(ctx context.Context, name string) (*NewAPIKey, error) {
	var out struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		ProjectID string    `json:"projectId"`
		Key       string    `json:"key"`
		CreatedAt time.Time `json:"createdAt"`
	}
	body := map[string]string{"name": name}
	if err := c.do(ctx, request{method: "POST", path: legacy + "/api_keys", auth: authProject, body: body}, &out); err != nil {
		return nil, err
	}
	return &NewAPIKey{ID: out.ID, Name: out.Name, ProjectID: out.ProjectID, CreatedAt: out.CreatedAt, Key: out.Key}, nil
}

// RevokeAPIKey revokes a project API key at once and for good; it stays
// listed as revoked. ErrNotFound for an unknown id; ErrForbidden as for
// CreateAPIKey.
func (c *Client) RevokeAPIKey(ctx context.Context, id string) error {
	return c.do(ctx, request{method: "DELETE", path: pathf(legacy+"/api_keys/%s", id), auth: authProject}, nil)
}

// ReportLeakedKeys reports keys (of any project or organization) found
// where they should not be; the server revokes those it knows. It needs
// no credentials and never says whether a key matched. The server
// rate-limits reports per address (429).
func (c *Client) ReportLeakedKeys(ctx context.Context, keys []string) error {
	if keys == nil {
		keys = []string{}
	}
	body := map[string][]string{"api_keys": keys}
	return c.do(ctx, request{method: "POST", path: v3 + "/api_key_revocation", auth: authNone, body: body}, nil)
}

// Session is who the client's key acts as.
type Session struct {
	// Project is the key's project; nil for an organization key.
	Project *Project
	APIKey  SessionKey
	// OrgMember is the member the key acts for.
	OrgMember Member
}

// SessionKey is the key of a Session.
type SessionKey struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	ProjectID   string    `json:"project_id"` // "" for an organization key
	OrgMemberID string    `json:"org_member_id"`
	Key         string    `json:"key"` // masked
	CreatedAt   time.Time `json:"created_at"`
}

// Session returns who the client's key acts as: the project key if one is
// set, else the organization key.
func (c *Client) Session(ctx context.Context) (*Session, error) {
	var out struct {
		Project *Project `json:"project"`
		APIKey  struct {
			SessionKey
			ProjectID *string `json:"project_id"`
		} `json:"api_key"`
		OrgMember Member `json:"org_member"`
	}
	if err := c.do(ctx, request{method: "GET", path: v3 + "/auth/session/info", auth: authAny}, &out); err != nil {
		return nil, err
	}
	s := &Session{Project: out.Project, APIKey: out.APIKey.SessionKey, OrgMember: out.OrgMember}
	s.APIKey.ProjectID = str(out.APIKey.ProjectID)
	return s, nil
}
