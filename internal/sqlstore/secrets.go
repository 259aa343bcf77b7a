package sqlstore

import (
	"context"
	"database/sql"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func (s *DB) KeyTerms(ctx context.Context) ([]patchbay.KeyTerm, error) {
	if ok, err := s.tableExists(ctx, "key_terms"); err != nil || !ok {
		return nil, err
	}
	rows, err := s.q.QueryContext(ctx, `SELECT term, wrapped, created_at FROM key_terms ORDER BY term`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []patchbay.KeyTerm
	for rows.Next() {
		var (
			t    patchbay.KeyTerm
			term int64
		)
		if err := rows.Scan(&term, &t.Wrapped, &t.CreatedAt); err != nil {
			return nil, err
		}
		t.Term, t.CreatedAt = uint32(term), t.CreatedAt.UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *DB) CreateKeyTerm(ctx context.Context, t patchbay.KeyTerm) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO key_terms (term, wrapped, created_at) VALUES ($1, $2, $3)`,
		int64(t.Term), t.Wrapped, ts(t.CreatedAt))
	return s.wrap(err, "key term exists (another rotation won the race); retry")
}

func (s *DB) PutSecret(ctx context.Context, st patchbay.StoredSecret) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO secrets (project_id, record, field, term, sealed) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (project_id, record, field) DO UPDATE SET term = excluded.term, sealed = excluded.sealed`,
		st.Ref.ProjectID, st.Ref.Record, st.Ref.Field, int64(st.Term), []byte(st.Sealed))
	return err
}

func scanSecret(sc interface{ Scan(...any) error }) (patchbay.StoredSecret, error) {
	var (
		st     patchbay.StoredSecret
		term   int64
		sealed []byte
	)
	err := sc.Scan(&st.Ref.ProjectID, &st.Ref.Record, &st.Ref.Field, &term, &sealed)
	st.Term, st.Sealed = uint32(term), sealed
	return st, err
}

func (s *DB) GetSecret(ctx context.Context, ref patchbay.SecretRef) (patchbay.StoredSecret, error) {
	st, err := scanSecret(s.q.QueryRowContext(ctx, `SELECT project_id, record, field, term, sealed FROM secrets
		WHERE project_id = $1 AND record = $2 AND field = $3`, ref.ProjectID, ref.Record, ref.Field))
	if isNoRows(err) {
		return st, patchbay.Errorf(patchbay.ENOTFOUND, "Secret %s of %s not found.", ref.Field, ref.Record)
	}
	return st, err
}

func (s *DB) ProjectSecrets(ctx context.Context, field string, projectIDs []string) (map[string]patchbay.StoredSecret, error) {
	out := make(map[string]patchbay.StoredSecret, len(projectIDs))
	if len(projectIDs) == 0 {
		return out, nil
	}
	var a args
	where := "field = " + a.add(field) + " AND record = project_id AND " + a.in("project_id", projectIDs)
	rows, err := s.q.QueryContext(ctx, `SELECT project_id, record, field, term, sealed FROM secrets WHERE `+where, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		st, err := scanSecret(rows)
		if err != nil {
			return nil, err
		}
		out[st.Ref.ProjectID] = st
	}
	return out, rows.Err()
}

func (s *DB) SecretsBelowTerm(ctx context.Context, term uint32, limit int) ([]patchbay.StoredSecret, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT project_id, record, field, term, sealed FROM secrets
		WHERE term < $1 ORDER BY term, project_id, record, field LIMIT `+limitArg(limit), int64(term))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []patchbay.StoredSecret
	for rows.Next() {
		st, err := scanSecret(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

func (s *DB) ReplaceSecret(ctx context.Context, old, new patchbay.StoredSecret) (bool, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE secrets SET term = $1, sealed = $2
		WHERE project_id = $3 AND record = $4 AND field = $5 AND sealed = $6`,
		int64(new.Term), []byte(new.Sealed), old.Ref.ProjectID, old.Ref.Record, old.Ref.Field, []byte(old.Sealed))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (s *DB) CountSecretsByTerm(ctx context.Context) (map[uint32]int, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT term, count(*) FROM secrets GROUP BY term`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uint32]int{}
	for rows.Next() {
		var term, n sql.NullInt64
		if err := rows.Scan(&term, &n); err != nil {
			return nil, err
		}
		out[uint32(term.Int64)] = int(n.Int64)
	}
	return out, rows.Err()
}
