package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// KeyLookup is the integer keys are found by: the first 8 bytes of the
// hash. Two keys sharing it (a 2^-64 chance) would conflict on insert.
func KeyLookup(hash [32]byte) int64 { return int64(binary.BigEndian.Uint64(hash[:8])) }

func lower(s string) string { return strings.ToLower(s) }

// limitArg renders a sanitized LIMIT; limits are ints from our own code, but
// clamping keeps a bad caller from asking for everything.
func limitArg(n int) string {
	if n <= 0 || n > 10_000 {
		n = 10_000
	}
	return strconv.Itoa(n)
}

const keyCols = `k.id, k.kind, k.org_id, k.project_id, k.name, k.prefix, k.hash, k.created_by, k.created_at, k.last_used_at, k.revoked_at, k.revoked_by`

func scanKey(sc interface{ Scan(...any) error }, extra ...any) (*patchbay.APIKey, error) {
	var (
		k                 patchbay.APIKey
		hash              []byte
		lastUsed, revoked sql.NullTime
	)
	dest := append([]any{&k.ID, &k.Kind, &k.OrgID, &k.ProjectID, &k.Name, &k.Prefix, &hash, &k.CreatedBy, &k.CreatedAt, &lastUsed, &revoked, &k.RevokedBy}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	copy(k.Hash[:], hash)
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = k.CreatedAt.UTC(), fromNull(lastUsed), fromNull(revoked)
	return &k, nil
}

func (s *DB) CreateAPIKey(ctx context.Context, k *patchbay.APIKey) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO api_keys
		(lookup, id, kind, org_id, project_id, name, prefix, hash, created_by, created_at, last_used_at, revoked_at, revoked_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		KeyLookup(k.Hash), k.ID, string(k.Kind), k.OrgID, k.ProjectID, k.Name, k.Prefix, k.Hash[:], k.CreatedBy,
		ts(k.CreatedAt), tsPtr(k.LastUsedAt), tsPtr(k.RevokedAt), k.RevokedBy)
	return s.wrap(err, "API key exists")
}

func (s *DB) GetAPIKey(ctx context.Context, orgID, projectID, id string) (*patchbay.APIKey, error) {
	return s.getAPIKey(ctx, orgID, projectID, id, "")
}

func (s *DB) LockAPIKey(ctx context.Context, orgID, projectID, id string) (*patchbay.APIKey, error) {
	return s.getAPIKey(ctx, orgID, projectID, id, s.d.ForUpdate)
}

func (s *DB) getAPIKey(ctx context.Context, orgID, projectID, id, suffix string) (*patchbay.APIKey, error) {
	q := `SELECT ` + keyCols + ` FROM api_keys k WHERE k.org_id = $1 AND k.id = $2`
	args := []any{orgID, id}
	if projectID != "" {
		q += ` AND k.project_id = $3`
		args = append(args, projectID)
	}
	k, err := scanKey(s.q.QueryRowContext(ctx, q+suffix, args...))
	if isNoRows(err) {
		return nil, notFound("API key", id)
	}
	return k, err
}

func (s *DB) LookupAPIKey(ctx context.Context, hash [32]byte) (*patchbay.APIKey, *patchbay.Member, error) {
	var m patchbay.Member
	k, err := scanKey(s.q.QueryRowContext(ctx, `SELECT `+keyCols+`, m.id, m.org_id, m.email, m.name, m.role, m.created_at
		FROM api_keys k JOIN members m ON m.id = k.created_by WHERE k.lookup = $1`, KeyLookup(hash)),
		&m.ID, &m.OrgID, &m.Email, &m.Name, &m.Role, &m.CreatedAt)
	if isNoRows(err) {
		return nil, nil, patchbay.Errorf(patchbay.ENOTFOUND, "API key not found.")
	}
	if err != nil {
		return nil, nil, err
	}
	// Found by the narrow lookup column alone (the planner would otherwise
	// prefer the wider hash index); the rest of the hash must match too.
	if subtle.ConstantTimeCompare(k.Hash[:], hash[:]) != 1 {
		return nil, nil, patchbay.Errorf(patchbay.ENOTFOUND, "API key not found.")
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return k, &m, nil
}

func (s *DB) ListAPIKeys(ctx context.Context, f patchbay.KeyFilter) ([]patchbay.KeyRecord, error) {
	q := `SELECT ` + keyCols + `, m.id, m.org_id, m.email, m.name, m.role, m.created_at
		FROM api_keys k LEFT JOIN members m ON m.id = k.created_by AND m.org_id = k.org_id WHERE k.org_id = $1`
	args := []any{f.OrgID}
	if f.ProjectID != "" {
		args = append(args, f.ProjectID)
		q += ` AND k.project_id = $` + strconv.Itoa(len(args))
	}
	if f.Kind != "" {
		args = append(args, string(f.Kind))
		q += ` AND k.kind = $` + strconv.Itoa(len(args))
	}
	if !f.IncludeRevoked {
		q += ` AND k.revoked_at IS NULL`
	}
	q += ` ORDER BY k.created_at DESC, k.id DESC`
	rows, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []patchbay.KeyRecord
	for rows.Next() {
		var (
			mID, mOrg, mEmail, mName, mRole sql.NullString
			mCreated                        sql.NullTime
		)
		k, err := scanKey(rows, &mID, &mOrg, &mEmail, &mName, &mRole, &mCreated)
		if err != nil {
			return nil, err
		}
		rec := patchbay.KeyRecord{APIKey: k}
		if mID.Valid {
			rec.Creator = &patchbay.Member{ID: mID.String, OrgID: mOrg.String, Email: mEmail.String, Name: mName.String,
				Role: patchbay.Role(mRole.String), CreatedAt: mCreated.Time.UTC()}
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

func (s *DB) RevokeAPIKey(ctx context.Context, orgID, projectID, id, by string, at time.Time) (*patchbay.APIKey, error) {
	var out *patchbay.APIKey
	err := s.InTx(ctx, func(tx patchbay.Store) error {
		t := tx.(*DB)
		q := `UPDATE api_keys SET revoked_at = $1, revoked_by = $2 WHERE org_id = $3 AND id = $4 AND revoked_at IS NULL`
		args := []any{ts(at), by, orgID, id}
		if projectID != "" {
			q += ` AND project_id = $5`
			args = append(args, projectID)
		}
		res, err := t.q.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			if _, err := t.q.ExecContext(ctx, `INSERT INTO key_revocations (key_id, revoked_at) VALUES ($1, $2)`, id, ts(at)); err != nil {
				return err
			}
			if t.d.OnRevoke != nil {
				if err := t.d.OnRevoke(ctx, t.q, id); err != nil {
					return err
				}
			}
			if t.d.RevokeCommitted != nil {
				t.afterCommit(func() { t.d.RevokeCommitted(id) })
			}
		}
		out, err = t.GetAPIKey(ctx, orgID, projectID, id)
		return err
	})
	return out, err
}

// RevocationsSince returns the IDs of keys revoked after log position seq,
// and the newest position. Watchers use it to catch up.
func (s *DB) RevocationsSince(ctx context.Context, seq int64) ([]string, int64, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT seq, key_id FROM key_revocations WHERE seq > $1 ORDER BY seq`, seq)
	if err != nil {
		return nil, seq, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			return nil, seq, err
		}
		ids = append(ids, id)
	}
	return ids, seq, rows.Err()
}

// RevocationSeq returns the newest revocation log position (0 if none).
func (s *DB) RevocationSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	err := s.q.QueryRowContext(ctx, `SELECT max(seq) FROM key_revocations`).Scan(&seq)
	return seq.Int64, err
}

func (s *DB) TouchAPIKeys(ctx context.Context, used map[string]time.Time) error {
	return s.InTx(ctx, func(tx patchbay.Store) error {
		t := tx.(*DB)
		for id, at := range used {
			if _, err := t.q.ExecContext(ctx,
				`UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)`,
				ts(at), id); err != nil {
				return err
			}
		}
		return nil
	})
}
