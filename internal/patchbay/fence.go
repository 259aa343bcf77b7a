package patchbay

import "context"

// Fence makes a revocation hold on every instance before the revoke call
// returns. A store shared by several processes that cache verified keys
// implements it (internal/postgres); a store whose every process sees a
// revocation synchronously on its next request (internal/sqlite) needs none.
type Fence interface {
	// AwaitRevocations returns once every other live instance has
	// acknowledged evicting every key revoked before the call, or has
	// stopped trusting its key cache because its lease ran out. It is
	// bounded by the lease (see the implementation), or by ctx.
	AwaitRevocations(ctx context.Context) error
}
