package patchbay

import (
	"context"
	"time"
)

// Project is the tenant boundary: every project-scoped record carries its
// project ID and every lookup is scoped by it.
type Project struct {
	ID        string
	OrgID     string
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt *time.Time
	// OmitLogPayloads keeps tools' arguments and results out of the
	// project's execution logs, whatever the instance keeps.
	OmitLogPayloads bool
}

// Project secrets are sealed in the secret store under these fields.
const FieldWebhookSecret = "webhook_secret"

// CreatedProject is a new project with, when asked for, its first key.
type CreatedProject struct {
	Project *Project
	Key     *APIKey  // nil unless a key was requested
	Token   KeyToken // the key's plaintext, shown once
}

// CreateProject creates a project in the principal's organization with a
// sealed webhook signing secret, and a first API key when withKey is set.
// Only owners and admins may.
func (s *Service) CreateProject(ctx context.Context, p *Principal, name string, withKey bool) (*CreatedProject, error) {
	if err := authorize(p, ManageProjects); err != nil {
		return nil, err
	}
	out := &CreatedProject{}
	err := s.store.InTx(ctx, func(tx Store) error {
		var err error
		if out.Project, err = s.createProject(ctx, tx, p, name); err != nil {
			return err
		}
		if !withKey {
			return nil
		}
		out.Key, out.Token, err = s.createKey(ctx, tx, p, NewKey{Kind: KeyKindProject, ProjectID: out.Project.ID, Name: "default"})
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionKeyCreate, out.Project.ID, out.Key.ID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) createProject(ctx context.Context, tx Store, p *Principal, name string) (*Project, error) {
	name, err := ValidateName("name", name)
	if err != nil {
		return nil, err
	}
	now := s.now()
	proj := &Project{OrgID: p.OrgID, Name: name, CreatedAt: now, UpdatedAt: now}
	if proj.ID, err = NewID(PrefixProject, s.rand); err != nil {
		return nil, err
	}
	if err := tx.CreateProject(ctx, proj); err != nil {
		return nil, err
	}
	raw, err := NewID("whsec_", s.rand)
	if err != nil {
		return nil, err
	}
	ref := webhookRef(proj.ID)
	// Read the term before sealing: if a rotation lands in between, the row
	// under-reports its term and re-encryption rewrites it. Read after, it
	// could claim a newer term than sealed it, and re-encryption would
	// never move the value off the old term.
	term := s.sealer.ActiveTerm()
	sealed, err := s.sealer.Seal(ref, NewSecret(raw))
	if err != nil {
		return nil, err
	}
	if err := tx.PutSecret(ctx, StoredSecret{Ref: ref, Term: term, Sealed: sealed}); err != nil {
		return nil, err
	}
	return proj, s.audit(ctx, tx, p, ActionProjectCreate, proj.ID, proj.ID)
}

func webhookRef(projectID string) SecretRef {
	return SecretRef{ProjectID: projectID, Record: projectID, Field: FieldWebhookSecret}
}

// Project returns a live project of the principal's organization (its own,
// for a principal bound to a project), with its owner's email and masked
// webhook secret. For the principal's own project it answers from what
// was verified with the credential, without reading the store.
func (s *Service) Project(ctx context.Context, p *Principal, id string) (*ProjectView, error) {
	if err := authorize(p, ViewProjects); err != nil {
		return nil, err
	}
	// projectScope reads nothing for the principal's own project ("" or
	// its ID); the ID it returns is the one to read.
	id, err := s.projectScope(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if id == p.ProjectID && p.Project != nil {
		return p.Project, nil
	}
	proj, err := s.store.GetProject(ctx, p.OrgID, id)
	if err != nil {
		return nil, err
	}
	owner, err := s.ownerEmail(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	return s.projectView(ctx, proj, owner)
}

// ListProjects lists live projects of the principal's organization ordered
// by creation, after the project named by cursor ("" for the start), at most
// limit (1 to 50), and the cursor of the next page ("" at the end).
// EINVALID for a cursor that names no project of the organization.
func (s *Service) ListProjects(ctx context.Context, p *Principal, cursor string, limit int) ([]*ProjectView, string, error) {
	if err := authorize(p, ViewProjects); err != nil {
		return nil, "", err
	}
	if p.ProjectID != "" {
		return nil, "", Errorf(EFORBIDDEN, "Listing the organization's projects needs an organization API key.")
	}
	if limit <= 0 || limit > 10_000 {
		limit = 50
	}
	if cursor != "" {
		if _, err := s.store.GetProject(ctx, p.OrgID, cursor); err != nil {
			return nil, "", Errorf(EINVALID, "Query parameter cursor does not name a project of this organization.")
		}
	}
	projects, err := s.store.ListProjects(ctx, p.OrgID, cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(projects) > limit {
		projects = projects[:limit]
		next = projects[limit-1].ID
	}
	owner, err := s.ownerEmail(ctx, p.OrgID)
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, len(projects))
	for i, proj := range projects {
		ids[i] = proj.ID
	}
	secrets, err := s.store.ProjectSecrets(ctx, FieldWebhookSecret, ids)
	if err != nil {
		return nil, "", err
	}
	out := make([]*ProjectView, 0, len(projects))
	for _, proj := range projects {
		v, err := s.newProjectView(proj, owner, secrets[proj.ID])
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	return out, next, nil
}

// ownerEmail is the email of the organization's first owner, "" if none.
func (s *Service) ownerEmail(ctx context.Context, orgID string) (string, error) {
	m, err := s.store.OrgOwner(ctx, orgID)
	switch {
	case err == nil:
		return m.Email, nil
	case ErrorCode(err) == ENOTFOUND:
		return "", nil
	}
	return "", err
}

func (s *Service) projectView(ctx context.Context, proj *Project, ownerEmail string) (*ProjectView, error) {
	st, err := s.store.GetSecret(ctx, webhookRef(proj.ID))
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return &ProjectView{Project: proj, OwnerEmail: ownerEmail}, nil
	case err != nil:
		return nil, err
	}
	return s.newProjectView(proj, ownerEmail, st)
}

// newProjectView masks the project's webhook secret st (zero when it has
// none).
func (s *Service) newProjectView(proj *Project, ownerEmail string, st StoredSecret) (*ProjectView, error) {
	v := &ProjectView{Project: proj, OwnerEmail: ownerEmail}
	if st.Sealed == nil {
		return v, nil
	}
	secret, err := s.sealer.Open(st.Ref, st.Sealed)
	if err != nil {
		return nil, err
	}
	v.MaskedWebhookSecret = MaskSecret(secret)
	return v, nil
}

// MaskSecret keeps a secret's first characters (its type prefix and a few
// more) and hides the rest.
func MaskSecret(s Secret) string {
	v := s.Reveal()
	n := min(len(v)/4, 10)
	return v[:n] + "…"
}

// DeleteProject deletes a project and revokes all of its keys. Only owners
// and admins may. ENOTFOUND for an unknown or deleted project.
func (s *Service) DeleteProject(ctx context.Context, p *Principal, id string) error {
	projectID, err := s.can(ctx, p, ManageProjects, id)
	if err != nil {
		return err
	}
	var revoked []string
	err = s.store.InTx(ctx, func(tx Store) error {
		keys, err := tx.ListAPIKeys(ctx, KeyFilter{OrgID: p.OrgID, ProjectID: projectID, Kind: KeyKindProject})
		if err != nil {
			return err
		}
		if err := tx.DeleteProject(ctx, p.OrgID, projectID, s.now()); err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := s.revoke(ctx, tx, p, k.OrgID, projectID, k.ID); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, p, ActionKeyRevoke, projectID, k.ID); err != nil {
				return err
			}
			revoked = append(revoked, k.ID)
		}
		return s.audit(ctx, tx, p, ActionProjectDelete, projectID, projectID)
	})
	if err != nil {
		return err
	}
	return s.evict(ctx, revoked...)
}

// WebhookSecret opens a project's webhook signing secret, for signing the
// events patchbay sends. Only owners and admins may.
func (s *Service) WebhookSecret(ctx context.Context, p *Principal, projectID string) (Secret, error) {
	projectID, err := s.can(ctx, p, ManageProjects, projectID)
	if err != nil {
		return Secret{}, err
	}
	st, err := s.store.GetSecret(ctx, webhookRef(projectID))
	if err != nil {
		return Secret{}, err
	}
	return s.sealer.Open(st.Ref, st.Sealed)
}
