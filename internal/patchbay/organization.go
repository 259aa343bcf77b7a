package patchbay

import (
	"context"
	"time"
)

// Organization owns projects, members and organization API keys.
type Organization struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Bootstrap makes sure an organization with a project and an owner exists.
// It is idempotent and reports whether it created anything.
func (s *Service) Bootstrap(ctx context.Context, ownerEmail string) (org *Organization, created bool, err error) {
	org, err = s.store.FirstOrganization(ctx)
	if err == nil {
		return org, false, nil
	}
	if ErrorCode(err) != ENOTFOUND {
		return nil, false, err
	}
	now := s.now()
	org = &Organization{Name: "Default organization", CreatedAt: now}
	if org.ID, err = NewID(PrefixOrg, s.rand); err != nil {
		return nil, false, err
	}
	owner := &Member{OrgID: org.ID, Email: ownerEmail, Name: "Owner", Role: RoleOwner, CreatedAt: now}
	if owner.ID, err = NewID(PrefixMember, s.rand); err != nil {
		return nil, false, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		if err := tx.CreateMember(ctx, owner); err != nil {
			return err
		}
		p := &Principal{Credential: Credential{Kind: CredentialSystem}, Member: *owner, OrgID: org.ID, IP: "bootstrap"}
		_, err := s.createProject(ctx, tx, p, "Default project")
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return org, true, nil
}

// FirstOrganization returns the installation's oldest organization, the
// one the CLI administers.
func (s *Service) FirstOrganization(ctx context.Context) (*Organization, error) {
	return s.store.FirstOrganization(ctx)
}

// CLIPrincipal is the principal the admin commands act as: the first owner
// of org, through the CLI, spanning the organization.
func (s *Service) CLIPrincipal(ctx context.Context, orgID string) (*Principal, error) {
	m, err := s.store.OrgOwner(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return &Principal{Credential: Credential{Kind: CredentialCLI, Name: "cli"}, Member: *m, OrgID: orgID, IP: "cli"}, nil
}
