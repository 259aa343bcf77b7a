package patchbay

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// Service holds patchbay's rules: who may do what, how keys are issued and
// revoked, and that every key event is audited. Surfaces (HTTP, CLI) call it;
// it calls the Store.
type Service struct {
	Store   Store
	Sealer  Sealer
	Catalog Catalog
	// Checker tries credentials against the app (validate_credentials);
	// nil means credentials cannot be checked.
	Checker CredentialChecker
	Auth    *Authenticator // may be nil in tools that serve no requests (the CLI)
	// Fence, when set, makes a revoke wait until every other instance has
	// evicted the key (internal/postgres); nil when every process sees a
	// revocation on its next request (internal/sqlite).
	Fence Fence
	Now     func() time.Time
	Rand    io.Reader
	Log     *slog.Logger
}

// Actor is who performs an operation: a member, through an API key or the CLI.
type Actor struct {
	Member Member
	KeyID  string // "" when acting from the CLI
	IP     string // client address, or "cli"
}

// ActorFrom returns the Actor of an authenticated request.
func ActorFrom(p *Principal, ip string) Actor {
	return Actor{Member: p.Member, KeyID: p.Key.ID, IP: ip}
}

func (a Actor) mayManageKeys(orgID string) error {
	if a.Member.OrgID != orgID {
		return Errorf(ENOTFOUND, "Not found.")
	}
	if !a.Member.Role.CanManageKeys() {
		return Errorf(EFORBIDDEN, "Only owners and admins may do this; your role is %s.", a.Member.Role)
	}
	return nil
}

func (s *Service) audit(ctx context.Context, tx Store, a Actor, action, orgID, projectID, target string) error {
	id, err := NewID(PrefixAudit, s.Rand)
	if err != nil {
		return err
	}
	return tx.AppendAudit(ctx, &AuditEvent{
		ID: id, OrgID: orgID, ProjectID: projectID, ActorID: a.Member.ID, ActorKey: a.KeyID,
		Action: action, TargetID: target, IP: a.IP, At: s.Now(),
	})
}

// ValidateName checks a human-given name: 1 to 128 characters after trimming.
func ValidateName(what, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", Errorf(EINVALID, "%s is required.", what)
	case !utf8.ValidString(name):
		return "", Errorf(EINVALID, "%s must be valid UTF-8.", what)
	case utf8.RuneCountInString(name) > 128:
		return "", Errorf(EINVALID, "%s must be at most 128 characters.", what)
	}
	return name, nil
}

// Bootstrap makes sure an organization with a project and an owner exists.
// It is idempotent and reports whether it created anything.
func (s *Service) Bootstrap(ctx context.Context, ownerEmail string) (org *Organization, created bool, err error) {
	org, err = s.Store.FirstOrganization(ctx)
	if err == nil {
		return org, false, nil
	}
	if ErrorCode(err) != ENOTFOUND {
		return nil, false, err
	}
	now := s.Now()
	org = &Organization{Name: "Default organization", CreatedAt: now}
	if org.ID, err = NewID(PrefixOrg, s.Rand); err != nil {
		return nil, false, err
	}
	owner := &Member{OrgID: org.ID, Email: ownerEmail, Name: "Owner", Role: RoleOwner, CreatedAt: now}
	if owner.ID, err = NewID(PrefixMember, s.Rand); err != nil {
		return nil, false, err
	}
	err = s.Store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		if err := tx.CreateMember(ctx, owner); err != nil {
			return err
		}
		_, err := s.createProject(ctx, tx, Actor{Member: *owner, IP: "bootstrap"}, org.ID, "Default project")
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return org, true, nil
}

// Owner returns the first owner of org, the identity the CLI acts as.
func (s *Service) Owner(ctx context.Context, orgID string) (*Member, error) {
	ms, err := s.Store.ListMembers(ctx, orgID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Role == RoleOwner {
			return m, nil
		}
	}
	return nil, Errorf(ENOTFOUND, "Organization %s has no owner.", orgID)
}

// AddMember adds a member to org. Only owners and admins may.
func (s *Service) AddMember(ctx context.Context, a Actor, orgID, email, name string, role Role) (*Member, error) {
	if err := a.mayManageKeys(orgID); err != nil {
		return nil, err
	}
	email = strings.TrimSpace(email)
	if at := strings.IndexByte(email, '@'); at < 1 || at == len(email)-1 || len(email) > 254 {
		return nil, Errorf(EINVALID, "email %q is not an email address.", email)
	}
	if !role.Valid() {
		return nil, Errorf(EINVALID, "role must be one of owner, admin, member; got %q.", role)
	}
	if _, err := s.Store.GetMemberByEmail(ctx, orgID, email); err == nil {
		return nil, Errorf(ECONFLICT, "A member with email %s exists already.", email)
	}
	m := &Member{OrgID: orgID, Email: email, Name: name, Role: role, CreatedAt: s.Now()}
	var err error
	if m.ID, err = NewID(PrefixMember, s.Rand); err != nil {
		return nil, err
	}
	err = s.Store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateMember(ctx, m); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, ActionMemberCreate, orgID, "", m.ID)
	})
	return m, err
}
