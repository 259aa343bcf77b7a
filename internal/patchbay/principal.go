package patchbay

import (
	"context"
	"time"
)

// CredentialKind names how a principal proved who it is.
type CredentialKind string

const (
	CredentialProjectKey CredentialKind = "project_api_key" // ak_… in x-api-key
	CredentialOrgKey     CredentialKind = "org_api_key"     // oak_… in x-org-api-key
	CredentialCLI        CredentialKind = "cli"             // the admin commands, on the database directly
	CredentialSystem     CredentialKind = "system"          // patchbay itself (bootstrap, leak reports)
)

// Credential is what a principal presented, as surfaces may show it: never
// the secret itself.
type Credential struct {
	Kind      CredentialKind
	ID        string // the API key's ID; "" for the CLI and the system
	Name      string
	Masked    string // the key's display prefix and an ellipsis
	CreatedAt time.Time
}

// ProjectView is a project with what surfaces show beside it: its
// organization owner's email and its webhook signing secret, masked.
type ProjectView struct {
	Project             *Project
	OwnerEmail          string
	MaskedWebhookSecret string // "" when the project has none
}

// Principal is who performs an operation: a member of an organization,
// acting through a credential, bound to one project or to the whole
// organization. Every Service method takes one; the Service decides from
// it, and from the policy table, what is allowed.
//
// A Principal verified from an API key is cached with the key (see
// Authenticator) and shared by concurrent requests: treat it as read-only
// and copy it to set IP.
type Principal struct {
	Credential Credential
	Member     Member // whose role applies
	OrgID      string
	// ProjectID is the project the credential is bound to; "" when it spans
	// the organization (an organization key, the CLI).
	ProjectID string
	// Project is the bound project as verified, evicted with the
	// credential; nil when ProjectID is "".
	Project *ProjectView
	IP      string // the client's address, "cli", or ""
}

// Role is the principal's role in its organization.
func (p *Principal) Role() Role { return p.Member.Role }

// WithIP returns a copy of p that acts from ip.
func (p *Principal) WithIP(ip string) Principal {
	c := *p
	c.IP = ip
	return c
}

// systemPrincipal acts for patchbay itself: leaked-key reports, which no
// member makes.
func systemPrincipal(orgID, projectID, ip string) *Principal {
	return &Principal{Credential: Credential{Kind: CredentialSystem}, OrgID: orgID, ProjectID: projectID, IP: ip}
}

// keyPrincipal is the principal of a verified API key acting as member.
func keyPrincipal(k *APIKey, m *Member, project *ProjectView) *Principal {
	kind := CredentialProjectKey
	if k.Kind == KeyKindOrg {
		kind = CredentialOrgKey
	}
	return &Principal{
		Credential: Credential{Kind: kind, ID: k.ID, Name: k.Name, Masked: k.Masked(), CreatedAt: k.CreatedAt},
		Member:     *m, OrgID: k.OrgID, ProjectID: k.ProjectID, Project: project,
	}
}

// Authenticate verifies a raw API key and returns the principal it acts
// as, from the cache when it can be trusted. Every failure is EUNAUTHORIZED
// and its message never contains the key. The Principal is shared: copy it
// (WithIP) to change it.
func (s *Service) Authenticate(ctx context.Context, raw string) (*Principal, error) {
	return s.auth.Authenticate(ctx, raw)
}

// resolveKey builds the principal of a verified key, with its project's
// facts, so requests about "my project" need no read of their own. A key's
// project cannot change under it: deleting the project revokes the key,
// which evicts this principal.
func (s *Service) resolveKey(ctx context.Context, k *APIKey, m *Member) (*Principal, error) {
	var view *ProjectView
	if k.ProjectID != "" {
		proj, err := s.store.GetProject(ctx, k.OrgID, k.ProjectID)
		if ErrorCode(err) == ENOTFOUND {
			return nil, errRevokedKey // its project is gone, and so is the key
		}
		if err != nil {
			return nil, err
		}
		owner, err := s.ownerEmail(ctx, k.OrgID)
		if err != nil {
			return nil, err
		}
		if view, err = s.projectView(ctx, proj, owner); err != nil {
			return nil, err
		}
	}
	return keyPrincipal(k, m, view), nil
}
