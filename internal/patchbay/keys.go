package patchbay

import (
	"context"
	"strings"
)

// NewKey describes a key to create. ProjectID is required for project keys
// and must be "" for organization keys. Owner, when set, is the member the
// key acts as (default: the actor).
type NewKey struct {
	Kind      KeyKind
	OrgID     string
	ProjectID string
	Name      string
	Owner     *Member
}

// CreateAPIKey issues a key and returns it with its plaintext, which is
// shown once and never stored. Only owners and admins may. EINVALID for a
// bad name or kind, ENOTFOUND for an unknown project.
func (s *Service) CreateAPIKey(ctx context.Context, a Actor, nk NewKey) (*APIKey, KeyToken, error) {
	var (
		k   *APIKey
		tok KeyToken
	)
	err := s.Store.InTx(ctx, func(tx Store) error {
		var err error
		k, tok, err = s.createKey(ctx, tx, a, nk)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, ActionKeyCreate, k.OrgID, k.ProjectID, k.ID)
	})
	if err != nil {
		return nil, KeyToken{}, err
	}
	return k, tok, nil
}

func (s *Service) createKey(ctx context.Context, tx Store, a Actor, nk NewKey) (*APIKey, KeyToken, error) {
	if err := a.mayManageKeys(nk.OrgID); err != nil {
		return nil, KeyToken{}, err
	}
	name, err := ValidateName("name", nk.Name)
	if err != nil {
		return nil, KeyToken{}, err
	}
	switch nk.Kind {
	case KeyKindProject:
		if nk.ProjectID == "" {
			return nil, KeyToken{}, Errorf(EINVALID, "A project key needs a project.")
		}
		if _, err := tx.GetProject(ctx, nk.OrgID, nk.ProjectID); err != nil {
			return nil, KeyToken{}, err
		}
	case KeyKindOrg:
		if nk.ProjectID != "" {
			return nil, KeyToken{}, Errorf(EINVALID, "An organization key belongs to no project.")
		}
	default:
		return nil, KeyToken{}, Errorf(EINVALID, "Key kind must be project or org; got %q.", nk.Kind)
	}
	owner := a.Member
	if nk.Owner != nil {
		if nk.Owner.OrgID != nk.OrgID {
			return nil, KeyToken{}, Errorf(ENOTFOUND, "Member not found.")
		}
		owner = *nk.Owner
	}
	tok, err := GenerateKey(nk.Kind, s.Rand)
	if err != nil {
		return nil, KeyToken{}, err
	}
	k := &APIKey{
		Kind: nk.Kind, OrgID: nk.OrgID, ProjectID: nk.ProjectID, Name: name,
		Prefix: tok.DisplayPrefix(), Hash: tok.Hash(), CreatedBy: owner.ID, CreatedAt: s.Now(),
	}
	if k.ID, err = NewID(PrefixKey, s.Rand); err != nil {
		return nil, KeyToken{}, err
	}
	if err := tx.CreateAPIKey(ctx, k); err != nil {
		return nil, KeyToken{}, err
	}
	return k, tok, nil
}

// ListAPIKeys lists keys visible to the actor (any role may list; keys are
// masked by the surfaces).
func (s *Service) ListAPIKeys(ctx context.Context, a Actor, f KeyFilter) ([]*APIKey, error) {
	if a.Member.OrgID != f.OrgID {
		return nil, Errorf(ENOTFOUND, "Not found.")
	}
	return s.Store.ListAPIKeys(ctx, f)
}

// RevokeAPIKey revokes a key immediately and permanently: once it returns,
// no request with the key succeeds on this instance, and other instances are
// told. Only owners and admins may. ENOTFOUND for a key outside the scope
// (projectID "" means any key of the organization). Revoking a revoked key
// changes nothing and returns it.
func (s *Service) RevokeAPIKey(ctx context.Context, a Actor, orgID, projectID, id string) (*APIKey, error) {
	if err := a.mayManageKeys(orgID); err != nil {
		return nil, err
	}
	var k *APIKey
	err := s.Store.InTx(ctx, func(tx Store) error {
		var err error
		if k, err = tx.LockAPIKey(ctx, orgID, projectID, id); err != nil {
			return err
		}
		if k.Revoked() {
			return nil // revoked before: nothing changes, nothing to audit
		}
		if k, err = s.revoke(ctx, tx, a, orgID, projectID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, ActionKeyRevoke, k.OrgID, k.ProjectID, k.ID)
	})
	if err != nil {
		return nil, err
	}
	if err := s.evict(ctx, k.ID); err != nil {
		return nil, err
	}
	return k, nil
}

func (s *Service) revoke(ctx context.Context, tx Store, a Actor, orgID, projectID, id string) (*APIKey, error) {
	return tx.RevokeAPIKey(ctx, orgID, projectID, id, a.Member.ID, s.Now())
}

// evict makes committed revocations hold: the keys are evicted from this
// instance's cache, then the Fence (if any) waits until every other live
// instance has evicted them too or stopped trusting its cache.
func (s *Service) evict(ctx context.Context, keyIDs ...string) error {
	if len(keyIDs) == 0 {
		return nil
	}
	if s.Auth != nil {
		for _, id := range keyIDs {
			s.Auth.Revoked(id)
		}
	}
	if s.Fence == nil {
		return nil
	}
	// The revocation is committed whatever the caller's context does now:
	// wait on a context of our own, bounded by the fence's lease.
	return s.Fence.AwaitRevocations(context.WithoutCancel(ctx))
}

// RegenerateAPIKey revokes a key and issues a new one with the same name,
// kind, scope and owner, in one transaction. ECONFLICT if the key is revoked.
func (s *Service) RegenerateAPIKey(ctx context.Context, a Actor, orgID, projectID, id string) (*APIKey, KeyToken, error) {
	if err := a.mayManageKeys(orgID); err != nil {
		return nil, KeyToken{}, err
	}
	var (
		nk  *APIKey
		tok KeyToken
	)
	err := s.Store.InTx(ctx, func(tx Store) error {
		// Locked, so two concurrent regenerations cannot both replace it.
		old, err := tx.LockAPIKey(ctx, orgID, projectID, id)
		if err != nil {
			return err
		}
		if old.Revoked() {
			return Errorf(ECONFLICT, "API key %s is revoked; create a new key instead.", id)
		}
		owner, err := tx.GetMember(ctx, orgID, old.CreatedBy)
		if err != nil {
			return err
		}
		if _, err := s.revoke(ctx, tx, a, orgID, projectID, id); err != nil {
			return err
		}
		nk, tok, err = s.createKey(ctx, tx, a, NewKey{Kind: old.Kind, OrgID: old.OrgID, ProjectID: old.ProjectID, Name: old.Name, Owner: owner})
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, ActionKeyRegenerate, old.OrgID, old.ProjectID, old.ID+" -> "+nk.ID)
	})
	if err != nil {
		return nil, KeyToken{}, err
	}
	if err := s.evict(ctx, id); err != nil {
		return nil, KeyToken{}, err
	}
	return nk, tok, nil
}

// RegenerateProjectKey revokes every active key of a project and issues one
// new key, named after the newest revoked one ("default" if there was none).
func (s *Service) RegenerateProjectKey(ctx context.Context, a Actor, orgID, projectID string) (*APIKey, KeyToken, error) {
	if err := a.mayManageKeys(orgID); err != nil {
		return nil, KeyToken{}, err
	}
	var (
		revoked []string
		nk      *APIKey
		tok     KeyToken
	)
	err := s.Store.InTx(ctx, func(tx Store) error {
		if _, err := tx.GetProject(ctx, orgID, projectID); err != nil {
			return err
		}
		keys, err := tx.ListAPIKeys(ctx, KeyFilter{OrgID: orgID, ProjectID: projectID, Kind: KeyKindProject})
		if err != nil {
			return err
		}
		name := "default"
		if len(keys) > 0 {
			name = keys[0].Name
		}
		for _, k := range keys {
			if _, err := s.revoke(ctx, tx, a, orgID, projectID, k.ID); err != nil {
				return err
			}
			// Each revocation is audited, as in DeleteProject: the
			// regenerate event names only the new key.
			if err := s.audit(ctx, tx, a, ActionKeyRevoke, orgID, projectID, k.ID); err != nil {
				return err
			}
			revoked = append(revoked, k.ID)
		}
		nk, tok, err = s.createKey(ctx, tx, a, NewKey{Kind: KeyKindProject, OrgID: orgID, ProjectID: projectID, Name: name})
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, ActionKeyRegenerate, orgID, projectID, nk.ID)
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
// reported by anyone). It returns nothing a caller could use to learn
// whether a key matched; the count is for logs and tests only.
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
		tok, err := ParseKey(strings.TrimSpace(r))
		if err != nil {
			continue // not a patchbay key: nothing to revoke
		}
		key, _, err := s.Store.LookupAPIKey(ctx, tok.Hash())
		if ErrorCode(err) == ENOTFOUND || (err == nil && key.Revoked()) {
			continue
		}
		if err != nil {
			return 0, err
		}
		err = s.Store.InTx(ctx, func(tx Store) error {
			if _, err := tx.RevokeAPIKey(ctx, key.OrgID, key.ProjectID, key.ID, RevokedByLeakReport, s.Now()); err != nil {
				return err
			}
			return s.audit(ctx, tx, Actor{IP: ip}, ActionKeyLeaked, key.OrgID, key.ProjectID, key.ID)
		})
		if err != nil {
			return 0, err
		}
		revoked = append(revoked, key.ID)
	}
	return len(revoked), nil
}

// ListAudit lists audit events. Only owners and admins may.
func (s *Service) ListAudit(ctx context.Context, a Actor, orgID, projectID string, limit int) ([]*AuditEvent, error) {
	if err := a.mayManageKeys(orgID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return s.Store.ListAudit(ctx, orgID, projectID, limit)
}
