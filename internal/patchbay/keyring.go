package patchbay

import (
	"context"
	"strconv"
	"time"
)

// KeyTerm is one term of the keyring: a data key wrapped by the root key.
type KeyTerm struct {
	Term      uint32
	Wrapped   []byte
	CreatedAt time.Time
}

// RotateKeyring adds a key term, makes it the one new values are sealed
// with, and re-encrypts up to batch older values (running servers finish
// the rest in the background). Only owners may. It returns the new term and
// how many values it moved; a failure after the rotation keeps the
// rotation and is returned with the term.
func (s *Service) RotateKeyring(ctx context.Context, p *Principal, batch int) (term uint32, moved int, err error) {
	if err := authorize(p, ManageKeyring); err != nil {
		return 0, 0, err
	}
	if s.keyring == nil {
		return 0, 0, Errorf(EINVALID, "This server's sealer cannot rotate keys.")
	}
	if term, err = s.keyring.Rotate(ctx); err != nil {
		return 0, 0, err
	}
	if err := s.audit(ctx, s.store, p, ActionKeyringRotate, "", "term:"+strconv.FormatUint(uint64(term), 10)); err != nil {
		return term, 0, err
	}
	moved, err = s.keyring.Reencrypt(ctx, batch)
	return term, moved, err
}

// KeyringStatus reports the active key term and how many sealed values
// each term holds. Only owners may.
func (s *Service) KeyringStatus(ctx context.Context, p *Principal) (active uint32, counts map[uint32]int, err error) {
	if err := authorize(p, ManageKeyring); err != nil {
		return 0, nil, err
	}
	counts, err = s.store.CountSecretsByTerm(ctx)
	return s.sealer.ActiveTerm(), counts, err
}
