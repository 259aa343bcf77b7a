package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// The revocation fence: a revoke returns only once every other live
// instance has evicted the key, or no longer trusts its cache.
//
// Three kinds of notification reach each Watcher's listening connection:
//
//   - patchbay_key_revoked, payload the key ID, sent inside the revoking
//     transaction (see dialect.OnRevoke);
//   - patchbay_fence_<oid of the fence_tokens sequence>, payload a fence
//     token, sent by AwaitRevocations; the OID keeps deployments in other
//     schemas of the same database from hearing each other's tokens;
//   - patchbay_hb_<instance id>, payload "<nonce> <token>", the instance's
//     own heartbeat, which nobody else listens to.
//
// What PostgreSQL guarantees, and the protocol relies on:
//
//	(P1) A session receives the notifications of committed transactions in
//	     commit order, once LISTEN has taken effect; none of a transaction
//	     that rolled back.
//	(P2) nextval never goes back: a nextval that starts after another one
//	     returned yields a larger value.
//	(P3) A statement sees every transaction that committed before it began.
//
// Acknowledgements. The Watcher handles notifications one at a time, in
// arrival order, and evicts before it reads the next; it records the
// highest token it has handled (from a revoker or from its own
// heartbeat) and writes it to its instances row as acked_token. A revoke
// commits, then draws token n and notifies it. Any token m ≥ n was drawn
// after n's nextval began (P2), so after the revocation committed, and
// its transaction committed later still: by (P1) every listener receives
// the revocation before token m (one that began listening after the
// revocation emptied its cache then instead). So acked_token ≥ n means
// the key is evicted there. (The revocation log's seq cannot serve: seqs are drawn
// inside the revoking transactions, which may commit out of seq order, so
// having handled seq 10 says nothing about a seq 9 committed after it.)
//
// Leases. A heartbeat is one statement that renews the instance's lease
// to now() + Lease in database time and notifies the instance's heartbeat
// channel; the instance notes its local (monotonic) time s before sending
// it. When the notification comes back through the listener, the renewal
// has committed and every notification committed before it has been
// handled (P1); only then does the instance trust its cache, until
// s + Lease − Lease/4. The database's now() for the renewal is later than s
// in real time, so the database lease outlives the local trust by a
// quarter of the lease at least, which absorbs the drift between the two
// clocks (keep the database clock slewed by NTP, not stepped). Only one
// heartbeat is in flight: the next is sent after the previous came back,
// so a deaf listener lets at most one renewal through. A heartbeat that
// is not back by the time the previous one's trust would end is given up:
// the instance stops trusting, then shortens its lease to now() so that
// revokes stop waiting for it; the late heartbeat grants nothing.
//
// Why a returned revoke holds. Let revoke R commit at c, draw token n,
// and return at T after a poll at τ > c; let instance X (not R's own)
// consult its cache at u > T under the trust granted by heartbeat b.
//   - b committed after c: X handled R's revocation before b came back
//     (P1), so before that trust began; or, if X's connection began
//     listening after c, X emptied its cache after that, and every lookup
//     since reads the key as revoked (P3). (The Authenticator's generation
//     counter keeps a lookup that raced an eviction out of the cache.)
//   - b committed before c: R's poll saw b's renewal (P3), lease ≥ s + Lease.
//     Either that lease had expired at τ, so X's trust, which ends before
//     s + Lease, was over before T < u; or X had acknowledged a token ≥ n,
//     so it had evicted the key before T. A release drops the trust before
//     it shortens the lease, so no poll sees a lease shorter than a trust
//     still running.
//   - R saw no row for X: X's first heartbeat committed after τ > c, and X
//     emptied its cache after its LISTEN took effect. If LISTEN preceded c,
//     X handled the revocation before that heartbeat came back; if not,
//     every lookup after the emptying reads the key as revoked (P3).
//     A reconnecting instance empties its cache the same way; Close drops
//     the trust before it deletes the row.
//
// Bound. A healthy instance acknowledges within a few round trips of the
// token's notification. One that is cut off renews its lease no more than
// once after going deaf, so its lease runs out at most Lease after it was
// cut off (sooner when it can still reach the database to release it):
// a revoke waits at most the Lease of the slowest instance (400 ms by
// default), plus one poll interval and a query. A live instance cannot
// keep a revoke waiting beyond that either: its next heartbeat draws a
// token greater than n and acknowledges it on the way back. fenceTimeout
// is a safety net for a protocol violation, never reached otherwise.

var _ patchbay.Fence = (*Store)(nil)

// fenceTimeout bounds AwaitRevocations should instances break the
// protocol (a lease renewed without acknowledgements); instances that
// follow it keep a revoke waiting for at most one lease.
const fenceTimeout = 5 * time.Second

// fenceSQL draws a fence token and notifies it, in one autocommitted
// statement (so after the caller's revocation committed), and counts the
// live instances other than the caller's own ($1): with none, there is
// nothing to wait for. Those alive cannot have acknowledged the token yet.
const fenceSQL = `SELECT t.n, pg_notify('patchbay_fence_' || 'fence_tokens'::regclass::oid, t.n::text)::text,
		(SELECT count(*) FROM instances WHERE lease_expires_at > now() AND id <> ALL($1::text[]))
	FROM (SELECT nextval('fence_tokens') AS n) t`

// waitingSQL counts the live instances, other than the caller's own ($2),
// that have not acknowledged token $1. now() is the statement's start, so
// a lease that runs out during the statement still counts as live.
const waitingSQL = `SELECT count(*) FROM instances
	WHERE lease_expires_at > now() AND acked_token < $1 AND id <> ALL($2::text[])`

// AwaitRevocations returns once every other live instance has handled
// every revocation committed before the call, or its lease has run out so
// that it no longer trusts its cache; the caller's own instances (Watchers
// started on s) are not waited for, since the Service evicts there before
// it calls. It works in a process that runs no Watcher (the CLI). A
// cut-off instance holds it up for at most its lease (DefaultLease) after
// it was cut off; it fails if the database does, or after fenceTimeout.
func (s *Store) AwaitRevocations(ctx context.Context) error {
	db := s.SQL()
	self := s.locals.list()
	var (
		token    int64
		notified string
		live     int
	)
	if err := db.QueryRowContext(ctx, fenceSQL, self).Scan(&token, &notified, &live); err != nil {
		return fmt.Errorf("revocation fence: %w", err)
	}
	if live == 0 {
		return nil
	}
	deadline := time.Now().Add(fenceTimeout)
	for i := 0; ; i++ {
		// Healthy instances answer within a few milliseconds: poll at 1 ms
		// first, then back off to 5 ms for one whose lease must run out.
		t := time.NewTimer(min(time.Millisecond*time.Duration(1+i/8), 5*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("revocation fence: %w", ctx.Err())
		case <-t.C:
		}
		var waiting int
		if err := db.QueryRowContext(ctx, waitingSQL, token, self).Scan(&waiting); err != nil {
			return fmt.Errorf("revocation fence: %w", err)
		}
		if waiting == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("revocation fence: %d instances neither acknowledged the revocation nor let their lease expire within %v", waiting, fenceTimeout)
		}
	}
}

// localInstances records the instances whose Watcher runs on one Store:
// the caller's own, which a revoke evicts directly and need not wait for.
type localInstances struct {
	mu  sync.Mutex // guards ids
	ids map[string]bool
}

func (l *localInstances) add(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ids == nil {
		l.ids = map[string]bool{}
	}
	l.ids[id] = true
}

func (l *localInstances) remove(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.ids, id)
}

// list returns the IDs, never nil (a NULL array would match no row).
func (l *localInstances) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.ids))
	for id := range l.ids {
		out = append(out, id)
	}
	return out
}
