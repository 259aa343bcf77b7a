package patchbay

import (
	"context"
	"time"
)

// AuthConfig is a project's way of connecting users to one toolkit: the
// scheme, and the developer's own settings for it (e.g. OAuth client
// credentials), sealed.
type AuthConfig struct {
	ID        string // "ac_…"
	ProjectID string
	Toolkit   string // toolkit slug
	Name      string
	Mode      AuthMode
	// Managed is true for an auth config using the toolkit's default
	// scheme with no developer credentials (Composio's "default" type).
	Managed  bool
	Disabled bool
	// Settings holds non-secret options as JSON (tool access lists, tool
	// router flag); patchbay stores them and returns them.
	Settings  AuthConfigSettings
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AuthConfigSettings are an auth config's non-secret options.
type AuthConfigSettings struct {
	ToolsForConnection     []string `json:"tools_for_connected_account_creation,omitempty"`
	ToolsForExecution      []string `json:"tools_available_for_execution,omitempty"`
	RestrictToTools        []string `json:"restrict_to_following_tools,omitempty"`
	IsEnabledForToolRouter bool     `json:"is_enabled_for_tool_router,omitempty"`
	Scopes                 []string `json:"scopes,omitempty"`
}

// ConnectionStatus is a connected account's state.
type ConnectionStatus string

const (
	StatusInitializing ConnectionStatus = "INITIALIZING"
	StatusInitiated    ConnectionStatus = "INITIATED"
	StatusActive       ConnectionStatus = "ACTIVE"
	StatusFailed       ConnectionStatus = "FAILED"
	StatusExpired      ConnectionStatus = "EXPIRED"
	StatusInactive     ConnectionStatus = "INACTIVE"
	StatusRevoked      ConnectionStatus = "REVOKED"
)

// ConnectionStatuses lists every status, for validating filters.
var ConnectionStatuses = []ConnectionStatus{StatusInitializing, StatusInitiated, StatusActive, StatusFailed, StatusExpired, StatusInactive, StatusRevoked}

// ConnectedAccount is one end user's connection to a toolkit through an
// auth config. Its credentials are sealed apart (see CredentialsRef).
type ConnectedAccount struct {
	ID           string // "ca_…"
	ProjectID    string
	AuthConfigID string
	Toolkit      string
	Mode         AuthMode
	UserID       string // the developer's id for the end user (legacy: entityId)
	Status       ConnectionStatus
	StatusReason string
	Disabled     bool
	Alias        string
	Labels       []string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Field names under which sealed credentials are stored.
const FieldCredentials = "credentials"

// CredentialsRef is where a record's credentials are sealed.
func CredentialsRef(projectID, recordID string) SecretRef {
	return SecretRef{ProjectID: projectID, Record: recordID, Field: FieldCredentials}
}

// AuthConfigFilter selects auth configs of a project.
type AuthConfigFilter struct {
	ProjectID    string
	Toolkit      string // "" for any; case-insensitive
	Managed      *bool
	ShowDisabled bool
	Search       string // substring of the name, case-insensitive
	Mode         AuthMode
	Page         Page
}

// ConnectionFilter selects connected accounts of a project. Empty lists
// match everything.
type ConnectionFilter struct {
	ProjectID     string
	IDs           []string
	UserIDs       []string
	AuthConfigIDs []string
	Toolkits      []string
	Statuses      []ConnectionStatus
	// Labels: accounts carrying at least one of them.
	Labels []string
	// Disabled: nil for any, else only accounts with that flag.
	Disabled *bool
	Page     Page
	// WithCredentials asks for each account's sealed credentials.
	WithCredentials bool
}

// AuthConfigRecord is an auth config as stored, with its sealed
// credentials (nil when it has none) and how many accounts connect
// through it.
type AuthConfigRecord struct {
	*AuthConfig
	Connections int
	Credentials *StoredSecret
}

// ConnectionRecord is a connected account as stored, with its auth
// config's flags and its sealed credentials (nil when it has none, or when
// not asked for).
type ConnectionRecord struct {
	*ConnectedAccount
	AuthConfigManaged  bool
	AuthConfigDisabled bool
	Credentials        *StoredSecret
}

// Page is keyset paging: After is the ID of the last item seen ("" to
// start), Limit the page size (0 for all), Desc the order by creation.
type Page struct {
	After  string
	Limit  int
	Offset int // for page-numbered legacy listings; used only when After is ""
	Desc   bool
}

// ConnectionStore is the part of the Store that keeps auth configs and
// connected accounts. Every method is scoped by project; another project's
// IDs answer ENOTFOUND.
type ConnectionStore interface {
	CreateAuthConfig(ctx context.Context, ac *AuthConfig) error
	GetAuthConfig(ctx context.Context, projectID, id string) (*AuthConfig, error)
	// GetAuthConfigRecord returns an auth config with its sealed
	// credentials and connection count, in one query.
	GetAuthConfigRecord(ctx context.Context, projectID, id string) (*AuthConfigRecord, error)
	// ListAuthConfigs returns a page of matches, each with its sealed
	// credentials and connection count, and the total count.
	ListAuthConfigs(ctx context.Context, f AuthConfigFilter) ([]*AuthConfigRecord, int, error)
	// LockAuthConfig locks an auth config until the transaction ends, so
	// checks made under the lock (one ACTIVE account per user) hold.
	// ENOTFOUND if it does not exist. Call it inside InTx.
	LockAuthConfig(ctx context.Context, projectID, id string) error
	// UpdateAuthConfig saves name, disabled, settings and updated_at.
	UpdateAuthConfig(ctx context.Context, ac *AuthConfig) error
	// DeleteAuthConfig deletes an auth config with its connected accounts
	// and their sealed credentials.
	DeleteAuthConfig(ctx context.Context, projectID, id string) error

	CreateConnectedAccount(ctx context.Context, ca *ConnectedAccount) error
	// GetConnectedAccount returns an account with its auth config's flags
	// and its sealed credentials, in one query.
	GetConnectedAccount(ctx context.Context, projectID, id string) (*ConnectionRecord, error)
	// ListConnectedAccounts returns a page of matches (with credentials
	// when f.WithCredentials) and the total count, filtering in the query.
	ListConnectedAccounts(ctx context.Context, f ConnectionFilter) ([]*ConnectionRecord, int, error)
	// UpdateConnectedAccount saves status, status_reason, disabled, alias,
	// labels and updated_at.
	UpdateConnectedAccount(ctx context.Context, ca *ConnectedAccount) error
	// DeleteConnectedAccount deletes an account and its sealed credentials.
	DeleteConnectedAccount(ctx context.Context, projectID, id string) error
	// DeleteSecret removes a sealed value; no error if there is none.
	DeleteSecret(ctx context.Context, ref SecretRef) error
}
