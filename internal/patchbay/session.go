package patchbay

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// CredentialSession is a dashboard sign-in: a member's browser session.
const CredentialSession CredentialKind = "session"

// PasswordHasher hashes and checks members' dashboard passwords
// (internal/password: bcrypt).
type PasswordHasher interface {
	Hash(password string) (string, error)
	// Verify reports whether password matches hash; a malformed hash
	// matches nothing.
	Verify(hash, password string) bool
}

// A Session is a member signed in to the dashboard. Only the SHA-256 of its
// token is stored (ID); CSRF is the token every form of the session must
// echo.
type Session struct {
	ID        string
	OrgID     string
	MemberID  string
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// An Invite lets one person sign up once, as a member of an organization
// with a role, or set the password of the member the email already names
// (the owner's first sign-in). Only the SHA-256 of its token is stored.
type Invite struct {
	ID        string
	OrgID     string
	Email     string
	Role      Role
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// Session and invite lifetimes, and the shortest password.
const (
	SessionLifetime   = 12 * time.Hour
	InviteLifetime    = 7 * 24 * time.Hour
	MinPasswordLength = 12
)

// Token prefixes: a session cookie's value and an invite link's token.
const (
	prefixSession = "pbs_"
	prefixInvite  = "pbi_"
)

// tokenID is the stored form of a token: the hex SHA-256.
func tokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (s *Service) newToken(prefix string) (string, error) {
	var b [32]byte
	if _, err := s.rand.Read(b[:]); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// CreateInvite makes a one-time sign-up token for email with role in the
// principal's organization. Owners and admins may; only owners may invite
// owners. ECONFLICT if a member with that email can already sign in.
func (s *Service) CreateInvite(ctx context.Context, p *Principal, email string, role Role) (*Invite, string, error) {
	if err := authorize(p, ManageMembers); err != nil {
		return nil, "", err
	}
	email = strings.TrimSpace(email)
	if at := strings.IndexByte(email, '@'); at < 1 || at == len(email)-1 || len(email) > 254 || strings.ContainsAny(email, " \x00") {
		return nil, "", Errorf(EINVALID, "email %q is not an email address.", Truncate(email, 80))
	}
	if !role.Valid() {
		return nil, "", Errorf(EINVALID, "role must be one of owner, admin, member; got %q.", Truncate(string(role), 20))
	}
	if role == RoleOwner && p.Role() != RoleOwner && p.Credential.Kind != CredentialCLI {
		return nil, "", Errorf(EFORBIDDEN, "Only owners may invite owners.")
	}
	if m, err := s.store.GetMemberByEmail(ctx, p.OrgID, email); err == nil {
		if hash, err := s.store.MemberPassword(ctx, m.ID); err == nil && hash != "" {
			return nil, "", Errorf(ECONFLICT, "%s can already sign in.", email)
		}
		role = m.Role // setting the password of an existing member keeps its role
	}
	tok, err := s.newToken(prefixInvite)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	inv := &Invite{ID: tokenID(tok), OrgID: p.OrgID, Email: email, Role: role, CreatedBy: p.Member.ID, CreatedAt: now, ExpiresAt: now.Add(InviteLifetime)}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateInvite(ctx, inv); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionMemberInvite, "", email)
	})
	if err != nil {
		return nil, "", err
	}
	return inv, tok, nil
}

// OwnerSetup returns a one-time sign-up token for the organization's first
// owner when no owner can sign in yet, and "" otherwise: the link the
// first start prints.
func (s *Service) OwnerSetup(ctx context.Context, orgID string) (string, error) {
	owner, err := s.store.OrgOwner(ctx, orgID)
	if err != nil {
		return "", err
	}
	if hash, err := s.store.MemberPassword(ctx, owner.ID); err != nil || hash != "" {
		return "", err
	}
	p := &Principal{Credential: Credential{Kind: CredentialCLI}, Member: *owner, OrgID: orgID, IP: "setup"}
	_, tok, err := s.CreateInvite(ctx, p, owner.Email, RoleOwner)
	return tok, err
}

// InviteFor returns the unused, unexpired invite of a token. ENOTFOUND
// otherwise, naming no detail a guesser could use.
func (s *Service) InviteFor(ctx context.Context, token string) (*Invite, error) {
	gone := Errorf(ENOTFOUND, "This sign-up link is not valid: it was used already, has expired, or was never issued.")
	if !strings.HasPrefix(token, prefixInvite) {
		return nil, gone
	}
	inv, err := s.store.GetInvite(ctx, tokenID(token))
	if ErrorCode(err) == ENOTFOUND {
		return nil, gone
	}
	if err != nil {
		return nil, err
	}
	if inv.UsedAt != nil || !s.now().Before(inv.ExpiresAt) {
		return nil, gone
	}
	return inv, nil
}

// AcceptInvite uses an invite: it creates the member (or sets the password
// of the member the email names) and signs them in. EINVALID for a
// password shorter than MinPasswordLength or a bad name.
func (s *Service) AcceptInvite(ctx context.Context, token, name, password, ip string) (string, *Session, error) {
	inv, err := s.InviteFor(ctx, token)
	if err != nil {
		return "", nil, err
	}
	if err := checkPassword(password); err != nil {
		return "", nil, err
	}
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > 128 || strings.ContainsRune(name, 0) {
		return "", nil, Errorf(EINVALID, "name must be at most 128 characters, without NUL characters.")
	}
	hash, err := s.hasher.Hash(password)
	if err != nil {
		return "", nil, err
	}
	var member *Member
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.UseInvite(ctx, inv.ID, s.now()); err != nil {
			return err
		}
		m, err := tx.GetMemberByEmail(ctx, inv.OrgID, inv.Email)
		switch {
		case ErrorCode(err) == ENOTFOUND:
			m = &Member{OrgID: inv.OrgID, Email: inv.Email, Name: name, Role: inv.Role, CreatedAt: s.now()}
			if m.ID, err = NewID(PrefixMember, s.rand); err != nil {
				return err
			}
			if err := tx.CreateMember(ctx, m); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		member = m
		if err := tx.SetMemberPassword(ctx, m.ID, hash); err != nil {
			return err
		}
		actor := &Principal{Credential: Credential{Kind: CredentialSession}, Member: *m, OrgID: inv.OrgID, IP: ip}
		return s.audit(ctx, tx, actor, ActionMemberSignUp, "", m.ID)
	})
	if err != nil {
		return "", nil, err
	}
	return s.startSession(ctx, member)
}

func checkPassword(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return Errorf(EINVALID, "The password must be at least %d characters long.", MinPasswordLength)
	case len(pw) > 72:
		return Errorf(EINVALID, "The password may be at most 72 bytes long.")
	case strings.ContainsRune(pw, 0):
		return Errorf(EINVALID, "The password may not contain NUL characters.")
	}
	return nil
}

// errSignIn is the one answer to every failed sign-in, so it tells nobody
// which emails have accounts.
var errSignIn = Errorf(EUNAUTHORIZED, "Wrong email or password.")

// SignIn checks a member's email and password and starts a session, in
// the organization orgID names or, with "", the first whose member the
// password opens. The same EUNAUTHORIZED whatever was wrong; the same work
// is done for an unknown email, so timing tells nothing either.
func (s *Service) SignIn(ctx context.Context, email, password, orgID string) (string, *Session, error) {
	members, err := s.store.MembersByEmail(ctx, strings.TrimSpace(email))
	if err != nil {
		return "", nil, err
	}
	for _, m := range members {
		if orgID != "" && m.OrgID != orgID {
			continue
		}
		hash, err := s.store.MemberPassword(ctx, m.ID)
		if err != nil {
			return "", nil, err
		}
		if hash != "" && s.hasher.Verify(hash, password) {
			return s.startSession(ctx, m)
		}
	}
	if len(members) == 0 {
		s.hasher.Verify(s.dummyHash(), password)
	}
	return "", nil, errSignIn
}

// dummyHash is a hash no password matches, made once, for unknown emails.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = s.hasher.Hash("no member has this password: " + s.newID(""))
	})
	return s.dummy
}

func (s *Service) startSession(ctx context.Context, m *Member) (string, *Session, error) {
	tok, err := s.newToken(prefixSession)
	if err != nil {
		return "", nil, err
	}
	csrf, err := s.newToken("")
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	sess := &Session{ID: tokenID(tok), OrgID: m.OrgID, MemberID: m.ID, CSRF: csrf, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", nil, err
	}
	return tok, sess, nil
}

// SessionPrincipal verifies a session token and returns its member as a
// principal spanning the organization, with the session (for its CSRF
// token). EUNAUTHORIZED for an unknown, expired or signed-out session, or
// a member who is gone.
func (s *Service) SessionPrincipal(ctx context.Context, token, ip string) (*Principal, *Session, error) {
	expired := Errorf(EUNAUTHORIZED, "Your session has ended: sign in again.")
	if !strings.HasPrefix(token, prefixSession) {
		return nil, nil, expired
	}
	sess, err := s.store.GetSession(ctx, tokenID(token))
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil, expired
	}
	if err != nil {
		return nil, nil, err
	}
	if !s.now().Before(sess.ExpiresAt) {
		_ = s.store.DeleteSession(ctx, sess.ID)
		return nil, nil, expired
	}
	m, err := s.store.GetMember(ctx, sess.OrgID, sess.MemberID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil, expired
	}
	if err != nil {
		return nil, nil, err
	}
	p := &Principal{Credential: Credential{Kind: CredentialSession, ID: "sess_" + sess.ID[:12], Name: "dashboard", CreatedAt: sess.CreatedAt},
		Member: *m, OrgID: sess.OrgID, IP: ip}
	return p, sess, nil
}

// SameCSRF reports whether a form's CSRF token is the session's, in
// constant time.
func SameCSRF(sess *Session, token string) bool {
	return sess != nil && token != "" && subtle.ConstantTimeCompare([]byte(sess.CSRF), []byte(token)) == 1
}

// SignOut ends a session; ending one that has ended already is no error.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if !strings.HasPrefix(token, prefixSession) {
		return nil
	}
	return s.store.DeleteSession(ctx, tokenID(token))
}

// InProject returns a copy of an organization-wide principal bound to one
// of its live projects. ENOTFOUND for a project outside the organization.
func (s *Service) InProject(ctx context.Context, p *Principal, projectID string) (*Principal, error) {
	if p == nil {
		return nil, errNoPrincipal
	}
	if p.ProjectID != "" {
		if p.ProjectID != projectID {
			return nil, Errorf(ENOTFOUND, "Project %s not found.", Truncate(projectID, 60))
		}
		return p, nil
	}
	pv, err := s.Project(ctx, p, projectID)
	if err != nil {
		return nil, err
	}
	c := *p
	c.ProjectID, c.Project = projectID, pv
	return &c, nil
}

// OrgChoice is an organization a signed-in member's email also belongs to.
type OrgChoice struct {
	ID, Name string
	Current  bool
}

// Organizations lists the organizations whose members have the principal's
// email, the principal's own marked current: the dashboard's organization
// switcher (switching signs in to the other membership).
func (s *Service) Organizations(ctx context.Context, p *Principal) ([]OrgChoice, error) {
	if p == nil {
		return nil, errNoPrincipal
	}
	members, err := s.store.MembersByEmail(ctx, p.Member.Email)
	if err != nil {
		return nil, err
	}
	var out []OrgChoice
	for _, m := range members {
		org, err := s.store.GetOrganization(ctx, m.OrgID)
		if err != nil {
			return nil, err
		}
		out = append(out, OrgChoice{ID: org.ID, Name: org.Name, Current: org.ID == p.OrgID})
	}
	return out, nil
}
