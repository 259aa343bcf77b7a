package patchbay

import (
	"context"
	"strings"
	"time"
)

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

// AddMember adds a member to the principal's organization. Only owners and
// admins may. EINVALID for a bad email or role, ECONFLICT for an email in
// use.
func (s *Service) AddMember(ctx context.Context, p *Principal, email, name string, role Role) (*Member, error) {
	if err := authorize(p, ManageMembers); err != nil {
		return nil, err
	}
	email = strings.TrimSpace(email)
	if at := strings.IndexByte(email, '@'); at < 1 || at == len(email)-1 || len(email) > 254 {
		return nil, Errorf(EINVALID, "email %q is not an email address.", email)
	}
	if !role.Valid() {
		return nil, Errorf(EINVALID, "role must be one of owner, admin, member; got %q.", role)
	}
	if _, err := s.store.GetMemberByEmail(ctx, p.OrgID, email); err == nil {
		return nil, Errorf(ECONFLICT, "A member with email %s exists already.", email)
	}
	m := &Member{OrgID: p.OrgID, Email: email, Name: name, Role: role, CreatedAt: s.now()}
	var err error
	if m.ID, err = NewID(PrefixMember, s.rand); err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateMember(ctx, m); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionMemberCreate, "", m.ID)
	})
	return m, err
}

// ListMembers lists the members of the principal's organization.
func (s *Service) ListMembers(ctx context.Context, p *Principal) ([]*Member, error) {
	if err := authorize(p, ViewMembers); err != nil {
		return nil, err
	}
	return s.store.ListMembers(ctx, p.OrgID)
}

// MemberByEmail finds a member of the principal's organization by email,
// case-insensitively. ENOTFOUND if there is none.
func (s *Service) MemberByEmail(ctx context.Context, p *Principal, email string) (*Member, error) {
	if err := authorize(p, ViewMembers); err != nil {
		return nil, err
	}
	return s.store.GetMemberByEmail(ctx, p.OrgID, email)
}
