package patchbay

import (
	"context"
)

// Project secrets are sealed in the secret store under these fields.
const FieldWebhookSecret = "webhook_secret"

// CreatedProject is a new project with, when asked for, its first key.
type CreatedProject struct {
	Project *Project
	Key     *APIKey  // nil unless a key was requested
	Token   KeyToken // the key's plaintext, shown once
}

// CreateProject creates a project in org with a sealed webhook signing
// secret, and a first API key when withKey is set. Only owners and admins may.
func (s *Service) CreateProject(ctx context.Context, a Actor, orgID, name string, withKey bool) (*CreatedProject, error) {
	if err := a.mayManageKeys(orgID); err != nil {
		return nil, err
	}
	out := &CreatedProject{}
	err := s.Store.InTx(ctx, func(tx Store) error {
		var err error
		if out.Project, err = s.createProject(ctx, tx, a, orgID, name); err != nil {
			return err
		}
		if !withKey {
			return nil
		}
		out.Key, out.Token, err = s.createKey(ctx, tx, a, NewKey{Kind: KeyKindProject, OrgID: orgID, ProjectID: out.Project.ID, Name: "default"})
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, ActionKeyCreate, orgID, out.Project.ID, out.Key.ID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) createProject(ctx context.Context, tx Store, a Actor, orgID, name string) (*Project, error) {
	name, err := ValidateName("name", name)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	p := &Project{OrgID: orgID, Name: name, CreatedAt: now, UpdatedAt: now}
	if p.ID, err = NewID(PrefixProject, s.Rand); err != nil {
		return nil, err
	}
	if err := tx.CreateProject(ctx, p); err != nil {
		return nil, err
	}
	raw, err := NewID("whsec_", s.Rand)
	if err != nil {
		return nil, err
	}
	ref := SecretRef{ProjectID: p.ID, Record: p.ID, Field: FieldWebhookSecret}
	// Read the term before sealing: if a rotation lands in between, the row
	// under-reports its term and re-encryption rewrites it. Read after, it
	// could claim a newer term than sealed it, and re-encryption would
	// never move the value off the old term.
	term := s.Sealer.ActiveTerm()
	sealed, err := s.Sealer.Seal(ref, NewSecret(raw))
	if err != nil {
		return nil, err
	}
	if err := tx.PutSecret(ctx, StoredSecret{Ref: ref, Term: term, Sealed: sealed}); err != nil {
		return nil, err
	}
	return p, s.audit(ctx, tx, a, ActionProjectCreate, orgID, p.ID, p.ID)
}

// Project returns a live project of the actor's organization.
func (s *Service) Project(ctx context.Context, a Actor, id string) (*Project, error) {
	return s.Store.GetProject(ctx, a.Member.OrgID, id)
}

// WebhookSecret opens a project's webhook signing secret.
func (s *Service) WebhookSecret(ctx context.Context, p *Project) (Secret, error) {
	ref := SecretRef{ProjectID: p.ID, Record: p.ID, Field: FieldWebhookSecret}
	st, err := s.Store.GetSecret(ctx, ref)
	if err != nil {
		return Secret{}, err
	}
	return s.Sealer.Open(ref, st.Sealed)
}

// DeleteProject deletes a project and revokes all of its keys. Only owners
// and admins may. ENOTFOUND for an unknown or deleted project.
func (s *Service) DeleteProject(ctx context.Context, a Actor, orgID, id string) error {
	if err := a.mayManageKeys(orgID); err != nil {
		return err
	}
	var revoked []string
	err := s.Store.InTx(ctx, func(tx Store) error {
		keys, err := tx.ListAPIKeys(ctx, KeyFilter{OrgID: orgID, ProjectID: id, Kind: KeyKindProject})
		if err != nil {
			return err
		}
		if err := tx.DeleteProject(ctx, orgID, id, s.Now()); err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := s.revoke(ctx, tx, a, orgID, id, k.ID); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, a, ActionKeyRevoke, orgID, id, k.ID); err != nil {
				return err
			}
			revoked = append(revoked, k.ID)
		}
		return s.audit(ctx, tx, a, ActionProjectDelete, orgID, id, id)
	})
	if err != nil {
		return err
	}
	return s.evict(ctx, revoked...)
}
