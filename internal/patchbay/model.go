package patchbay

import "time"

// Organization owns projects, members and organization API keys.
type Organization struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Project is the tenant boundary: every project-scoped record carries its
// project ID and every lookup is scoped by it.
type Project struct {
	ID        string
	OrgID     string
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt *time.Time
}

// Role is a member's role in an organization.
type Role string

const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleAdmin || r == RoleMember }


// Member is a person in an organization.
type Member struct {
	ID        string
	OrgID     string
	Email     string
	Name      string
	Role      Role
	CreatedAt time.Time
}

// KeyKind tells what an API key authenticates as.
type KeyKind string

const (
	KeyKindProject KeyKind = "project" // ak_…: acts within one project
	KeyKindOrg     KeyKind = "org"     // oak_…: acts on the organization (project administration)
)

// APIKey is a stored API key. The plaintext is never stored: only its
// SHA-256 and a short display prefix. A key acts with the role of the member
// who owns it (CreatedBy).
type APIKey struct {
	ID         string
	Kind       KeyKind
	OrgID      string
	ProjectID  string // "" for organization keys
	Name       string
	Prefix     string   // display prefix, e.g. "ak_7fQx"
	Hash       [32]byte // SHA-256 of the plaintext key
	CreatedBy  string   // member ID; the key acts with this member's role
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	RevokedBy  string // member ID, or "leak-report" for leaked-key revocation
}

// Revoked reports whether the key has been revoked.
func (k *APIKey) Revoked() bool { return k.RevokedAt != nil }

// Masked is the key's display form: its prefix followed by a mask.
func (k *APIKey) Masked() string { return k.Prefix + "…" }

// Status is "active" or "revoked".
func (k *APIKey) Status() string {
	if k.Revoked() {
		return "revoked"
	}
	return "active"
}

// RevokedByLeakReport is the RevokedBy of keys revoked through the public
// leaked-key endpoint, where nobody is authenticated.
const RevokedByLeakReport = "leak-report"

// AuditEvent records who did what to which record, when and from where.
type AuditEvent struct {
	ID        string
	OrgID     string
	ProjectID string // "" for organization-level events
	ActorID   string // member ID, or "" for unauthenticated events
	ActorKey  string // API key ID the actor used, or "" for the CLI
	Action    string // e.g. "api_key.revoke"
	TargetID  string
	IP        string
	At        time.Time
}

// Audit actions.
const (
	ActionKeyCreate     = "api_key.create"
	ActionKeyRevoke     = "api_key.revoke"
	ActionKeyRegenerate = "api_key.regenerate"
	ActionKeyLeaked     = "api_key.revoke_leaked"
	ActionProjectCreate = "project.create"
	ActionProjectDelete = "project.delete"
	ActionMemberCreate  = "member.create"

	ActionAuthConfigCreate  = "auth_config.create"
	ActionAuthConfigUpdate  = "auth_config.update"
	ActionAuthConfigEnable  = "auth_config.enable"
	ActionAuthConfigDisable = "auth_config.disable"
	ActionAuthConfigDelete  = "auth_config.delete"

	ActionConnectionCreate     = "connected_account.create"
	ActionConnectionEnable     = "connected_account.enable"
	ActionConnectionDisable    = "connected_account.disable"
	ActionConnectionReinitiate = "connected_account.reinitiate"
	ActionConnectionRefresh    = "connected_account.refresh"
	ActionConnectionRevoke     = "connected_account.revoke"
	ActionConnectionDelete     = "connected_account.delete"

	ActionKeyringRotate = "keyring.rotate"
)

// KeyTerm is one term of the keyring: a data key wrapped by the root key.
type KeyTerm struct {
	Term      uint32
	Wrapped   []byte
	CreatedAt time.Time
}

// StoredSecret is a sealed value with the ref it is bound to and the key term
// that sealed it.
type StoredSecret struct {
	Ref    SecretRef
	Term   uint32
	Sealed Sealed
}
