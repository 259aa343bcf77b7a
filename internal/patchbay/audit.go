package patchbay

import (
	"context"
	"time"
)

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
	ActionKeyCreate          = "api_key.create"
	ActionKeyRevoke          = "api_key.revoke"
	ActionKeyRegenerate      = "api_key.regenerate"
	ActionKeyLeaked          = "api_key.revoke_leaked"
	ActionProjectCreate      = "project.create"
	ActionProjectDelete      = "project.delete"
	ActionMemberCreate       = "member.create"
	ActionMemberInvite       = "member.invite"
	ActionProjectLogPayloads = "project.log_payloads"
	ActionMemberSignUp       = "member.sign_up"

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
	ActionConnectionAuthorize  = "connected_account.authorize" // the OAuth callback settled it
	ActionConnectionRevoke     = "connected_account.revoke"
	ActionConnectionDelete     = "connected_account.delete"

	ActionKeyringRotate = "keyring.rotate"
)

// ListAudit lists audit events of the principal's project (of the whole
// organization for a principal that spans it, or of projectID when given),
// newest first. Only owners and admins may.
func (s *Service) ListAudit(ctx context.Context, p *Principal, projectID string, limit int) ([]*AuditEvent, error) {
	if err := authorize(p, ViewAudit); err != nil {
		return nil, err
	}
	if projectID != "" || p.ProjectID != "" {
		var err error
		if projectID, err = s.projectScope(ctx, p, projectID); err != nil {
			return nil, err
		}
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return s.store.ListAudit(ctx, p.OrgID, projectID, limit)
}
