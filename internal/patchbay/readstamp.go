package patchbay

import "context"

// A ReadStamp says what a principal's reads show at one moment, so that a
// surface can keep an answer it rendered and serve it again while nothing
// behind it has changed. Scope is the organization and project the
// principal's reads are confined to; Version is the organization's read
// version (Store.ReadVersion), which grows with every committed change to
// anything a read shows, whichever instance or admin command made it.
//
// A surface may keep an answer under (its request, Scope) with Version, and
// serve it to a later request with the same request and Scope only if that
// request's own stamp, taken before serving, has the same Version. Because
// the stamp is taken before the read it vouches for, a change committed in
// between leaves the kept answer newer than its Version, never older: the
// next stamp differs and the answer is rendered again.
//
// Nothing a read shows may depend on anything but the database, the
// catalog and the request: not the time of day, not the principal beyond its
// scope and its permission.
type ReadStamp struct {
	Scope   string
	Version int64
}

// ReadStamp authorizes perm for p, as the read it stamps would, and
// returns the stamp. It costs one primary-key lookup.
func (s *Service) ReadStamp(ctx context.Context, p *Principal, perm Permission) (ReadStamp, error) {
	if err := authorize(p, perm); err != nil {
		return ReadStamp{}, err
	}
	v, err := s.store.ReadVersion(ctx, p.OrgID)
	if err != nil {
		return ReadStamp{}, err
	}
	return ReadStamp{Scope: p.OrgID + "/" + p.ProjectID, Version: v}, nil
}
