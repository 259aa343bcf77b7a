package patchbay

import (
	"context"
	"strings"
	"time"
)

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

// NewKey describes a key to create. A project key belongs to ProjectID ("":
// the principal's project); an organization key to no project. Owner, when
// set, is the member the key acts as (default: the principal's member).
type NewKey struct {
	Kind      KeyKind
	ProjectID string
	Name      string
	Owner     *Member
}

// KeyRecord is an API key with the member it acts as (nil if that member
// is gone).
type KeyRecord struct {
	*APIKey
	Creator *Member
}

// CreateAPIKey issues a key and returns it with its plaintext, which is
// shown once and never stored. Only owners and admins may. EINVALID for a
// bad name or kind, ENOTFOUND for an unknown project or member.
func (s *Service) CreateAPIKey(ctx context.Context, p *Principal, nk NewKey) (*KeyRecord, KeyToken, error) {
	var (
		k   *APIKey
		tok KeyToken
	)
	err := s.store.InTx(ctx, func(tx Store) error {
		var err error
		k, tok, err = s.createKey(ctx, tx, p, nk)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionKeyCreate, k.ProjectID, k.ID)
	})
	if err != nil {
		return nil, KeyToken{}, err
	}
	creator := p.Member
	if nk.Owner != nil {
		creator = *nk.Owner
	}
	return &KeyRecord{APIKey: k, Creator: &creator}, tok, nil
}

func (s *Service) createKey(ctx context.Context, tx Store, p *Principal, nk NewKey) (*APIKey, KeyToken, error) {
	if err := authorize(p, ManageAPIKeys); err != nil {
		return nil, KeyToken{}, err
	}
	name, err := ValidateName("name", nk.Name)
	if err != nil {
		return nil, KeyToken{}, err
	}
	switch nk.Kind {
	case KeyKindProject:
		// projectScopeIn reads the project for a principal spanning the
		// organization; a bound principal's project is read here, so a key
		// is never created in a deleted project.
		if nk.ProjectID, err = s.projectScopeIn(ctx, tx, p, nk.ProjectID); err != nil {
			return nil, KeyToken{}, err
		}
		if p.ProjectID != "" {
			if _, err := tx.GetProject(ctx, p.OrgID, nk.ProjectID); err != nil {
				return nil, KeyToken{}, err
			}
		}
	case KeyKindOrg:
		if nk.ProjectID != "" {
			return nil, KeyToken{}, Errorf(EINVALID, "An organization key belongs to no project.")
		}
		if p.ProjectID != "" {
			return nil, KeyToken{}, Errorf(EFORBIDDEN, "A key bound to a project cannot create organization keys.")
		}
	default:
		return nil, KeyToken{}, Errorf(EINVALID, "Key kind must be project or org; got %q.", nk.Kind)
	}
	owner := p.Member
	if nk.Owner != nil {
		if nk.Owner.OrgID != p.OrgID {
			return nil, KeyToken{}, Errorf(ENOTFOUND, "Member not found.")
		}
		owner = *nk.Owner
	}
	if owner.ID == "" {
		return nil, KeyToken{}, Errorf(EINVALID, "A key must act as a member.")
	}
	tok, err := GenerateKey(nk.Kind, s.rand)
	if err != nil {
		return nil, KeyToken{}, err
	}
	k := &APIKey{
		Kind: nk.Kind, OrgID: p.OrgID, ProjectID: nk.ProjectID, Name: name,
		Prefix: tok.DisplayPrefix(), Hash: tok.Hash(), CreatedBy: owner.ID, CreatedAt: s.now(),
	}
	if k.ID, err = NewID(PrefixKey, s.rand); err != nil {
		return nil, KeyToken{}, err
	}
	if err := tx.CreateAPIKey(ctx, k); err != nil {
		return nil, KeyToken{}, err
	}
	return k, tok, nil
}

// KeyQuery selects the keys ListAPIKeys returns.
type KeyQuery struct {
	// ProjectID: "" for the principal's project, or, for a principal that
	// spans the organization, every key of the organization.
	ProjectID      string
	Kind           KeyKind // "" for any
	IncludeRevoked bool
}

// ListAPIKeys lists keys newest first, each with the member it acts as.
// Any role may list; keys are masked by the surfaces.
func (s *Service) ListAPIKeys(ctx context.Context, p *Principal, q KeyQuery) ([]KeyRecord, error) {
	if err := authorize(p, ViewAPIKeys); err != nil {
		return nil, err
	}
	f := KeyFilter{OrgID: p.OrgID, ProjectID: q.ProjectID, Kind: q.Kind, IncludeRevoked: q.IncludeRevoked}
	if q.ProjectID != "" || p.ProjectID != "" {
		var err error
		if f.ProjectID, err = s.projectScope(ctx, p, q.ProjectID); err != nil {
			return nil, err
		}
	}
	return s.store.ListAPIKeys(ctx, f)
}

// RevokeAPIKey revokes a key immediately and permanently: once it returns,
// no request with the key succeeds on any instance (see Fence). Only owners
// and admins may. ENOTFOUND for a key outside the principal's scope (its
// project, or its whole organization). Revoking a revoked key changes
// nothing and returns it.
func (s *Service) RevokeAPIKey(ctx context.Context, p *Principal, id string) (*APIKey, error) {
	if err := authorize(p, ManageAPIKeys); err != nil {
		return nil, err
	}
	var (
		k       *APIKey
		changed bool
	)
	err := s.store.InTx(ctx, func(tx Store) error {
		var err error
		if k, err = tx.LockAPIKey(ctx, p.OrgID, p.ProjectID, id); err != nil {
			return err
		}
		if k.Revoked() {
			return nil // revoked before: nothing changes, nothing to audit
		}
		if k, err = s.revoke(ctx, tx, p, p.OrgID, p.ProjectID, id); err != nil {
			return err
		}
		changed = true
		return s.audit(ctx, tx, p, ActionKeyRevoke, k.ProjectID, k.ID)
	})
	if err != nil {
		return nil, err
	}
	if !changed {
		// Revoked before, and evicted everywhere then; evicting here again
		// costs nothing and covers a process that died between the two.
		s.auth.Revoked(k.ID)
		return k, nil
	}
	if err := s.evict(ctx, k.ID); err != nil {
		return nil, err
	}
	return k, nil
}

func (s *Service) revoke(ctx context.Context, tx Store, p *Principal, orgID, projectID, id string) (*APIKey, error) {
	return tx.RevokeAPIKey(ctx, orgID, projectID, id, p.Member.ID, s.now())
}

// evict makes committed revocations hold: the keys are evicted from this
// instance's cache, then the Fence (if any) waits until every other live
// instance has evicted them too or stopped trusting its cache.
func (s *Service) evict(ctx context.Context, keyIDs ...string) error {
	if len(keyIDs) == 0 {
		return nil
	}
	for _, id := range keyIDs {
		s.auth.Revoked(id)
	}
	s.revocations.Add(uint64(len(keyIDs)))
	if s.fence == nil {
		return nil
	}
	// The revocation is committed whatever the caller's context does now:
	// wait on a context of our own, bounded by the fence's lease.
	return s.fence.AwaitRevocations(context.WithoutCancel(ctx))
}

// RegenerateAPIKey revokes a key and issues a new one with the same name,
// kind, scope and owner, in one transaction. ECONFLICT if the key is revoked.
func (s *Service) RegenerateAPIKey(ctx context.Context, p *Principal, id string) (*KeyRecord, KeyToken, error) {
	if err := authorize(p, ManageAPIKeys); err != nil {
		return nil, KeyToken{}, err
	}
	var (
		nk    *APIKey
		tok   KeyToken
		owner *Member
	)
	err := s.store.InTx(ctx, func(tx Store) error {
		// Locked, so two concurrent regenerations cannot both replace it.
		old, err := tx.LockAPIKey(ctx, p.OrgID, p.ProjectID, id)
		if err != nil {
			return err
		}
		if old.Revoked() {
			return Errorf(ECONFLICT, "API key %s is revoked; create a new key instead.", id)
		}
		if owner, err = tx.GetMember(ctx, p.OrgID, old.CreatedBy); err != nil {
			return err
		}
		if _, err := s.revoke(ctx, tx, p, p.OrgID, old.ProjectID, id); err != nil {
			return err
		}
		nk, tok, err = s.createKey(ctx, tx, p, NewKey{Kind: old.Kind, ProjectID: old.ProjectID, Name: old.Name, Owner: owner})
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionKeyRegenerate, old.ProjectID, old.ID+" -> "+nk.ID)
	})
	if err != nil {
		return nil, KeyToken{}, err
	}
	if err := s.evict(ctx, id); err != nil {
		return nil, KeyToken{}, err
	}
	return &KeyRecord{APIKey: nk, Creator: owner}, tok, nil
}

// RegenerateProjectKey revokes every active key of a project and issues one
// new key, named after the newest revoked one ("default" if there was none).
func (s *Service) RegenerateProjectKey(ctx context.Context, p *Principal, projectID string) (*APIKey, KeyToken, error) {
	if err := authorize(p, ManageAPIKeys); err != nil {
		return nil, KeyToken{}, err
	}
	var (
		revoked []string
		nk      *APIKey
		tok     KeyToken
	)
	err := s.store.InTx(ctx, func(tx Store) error {
		// Scoped inside the transaction; createKey below checks the
		// project is live before the new key is made.
		var err error
		if projectID, err = s.projectScopeIn(ctx, tx, p, projectID); err != nil {
			return err
		}
		keys, err := tx.ListAPIKeys(ctx, KeyFilter{OrgID: p.OrgID, ProjectID: projectID, Kind: KeyKindProject})
		if err != nil {
			return err
		}
		name := "default"
		if len(keys) > 0 {
			name = keys[0].Name
		}
		for _, k := range keys {
			if _, err := s.revoke(ctx, tx, p, p.OrgID, projectID, k.ID); err != nil {
				return err
			}
			// Each revocation is audited, as in DeleteProject: the
			// regenerate event names only the new key.
			if err := s.audit(ctx, tx, p, ActionKeyRevoke, projectID, k.ID); err != nil {
				return err
			}
			revoked = append(revoked, k.ID)
		}
		nk, tok, err = s.createKey(ctx, tx, p, NewKey{Kind: KeyKindProject, ProjectID: projectID, Name: name})
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionKeyRegenerate, projectID, nk.ID)
	})
	if err != nil {
		return nil, KeyToken{}, err
	}
	if err := s.evict(ctx, revoked...); err != nil {
		return nil, KeyToken{}, err
	}
	return nk, tok, nil
}

// MaxLeakedBatch is the most keys one leaked-key report may carry.
const MaxLeakedBatch = 100

// RevokeLeakedKeys revokes every active key among raw (keys found in public,
// reported by anyone, unauthenticated: ip is the reporter's address). It
// returns nothing a caller could use to learn whether a key matched; the
// count is for logs and tests only.
func (s *Service) RevokeLeakedKeys(ctx context.Context, raw []string, ip string) (n int, err error) {
	if len(raw) == 0 {
		return 0, Errorf(EINVALID, "api_keys must list at least one key.")
	}
	if len(raw) > MaxLeakedBatch {
		return 0, Errorf(EINVALID, "api_keys may list at most %d keys; got %d.", MaxLeakedBatch, len(raw))
	}
	var revoked []string
	// Evict on every return: a failure part-way leaves earlier revocations
	// committed, and those keys must stop working now all the same.
	defer func() {
		if ferr := s.evict(ctx, revoked...); ferr != nil && err == nil {
			n, err = 0, ferr
		}
	}()
	for _, r := range raw {
		tok, perr := ParseKey(strings.TrimSpace(r))
		if perr != nil {
			continue // not a patchbay key: nothing to revoke
		}
		key, _, lerr := s.store.LookupAPIKey(ctx, tok.Hash())
		if ErrorCode(lerr) == ENOTFOUND || (lerr == nil && key.Revoked()) {
			continue
		}
		if lerr != nil {
			return 0, lerr
		}
		reporter := systemPrincipal(key.OrgID, key.ProjectID, ip)
		err = s.store.InTx(ctx, func(tx Store) error {
			if _, err := tx.RevokeAPIKey(ctx, key.OrgID, key.ProjectID, key.ID, RevokedByLeakReport, s.now()); err != nil {
				return err
			}
			return s.audit(ctx, tx, reporter, ActionKeyLeaked, key.ProjectID, key.ID)
		})
		if err != nil {
			return 0, err
		}
		revoked = append(revoked, key.ID)
	}
	return len(revoked), nil
}
