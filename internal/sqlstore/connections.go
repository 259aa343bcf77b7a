package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// args accumulates query arguments and hands out their placeholders.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// in renders "col IN ($i, …)" for a non-empty list.
func (a *args) in(col string, vals []string) string {
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = a.add(v)
	}
	return col + " IN (" + strings.Join(ph, ", ") + ")"
}

// page appends keyset (or offset) paging over (created_at, id) to a query
// whose conditions are in where.
func (a *args) page(table string, where []string, p patchbay.Page) (cond []string, order string) {
	cmp, dir := ">", "ASC"
	if p.Desc {
		cmp, dir = "<", "DESC"
	}
	if p.After != "" {
		// $1 is the project in every paged listing: a cursor naming another
		// project's record matches nothing.
		where = append(where, "(created_at, id) "+cmp+" (SELECT created_at, id FROM "+table+" WHERE project_id = $1 AND id = "+a.add(p.After)+")")
	}
	order = " ORDER BY created_at " + dir + ", id " + dir
	if p.Limit > 0 {
		order += " LIMIT " + strconv.Itoa(p.Limit)
		if p.After == "" && p.Offset > 0 {
			order += " OFFSET " + strconv.Itoa(p.Offset)
		}
	}
	return where, order
}

const authConfigCols = `id, project_id, toolkit, name, mode, managed, disabled, settings, created_by, created_at, updated_at`

func scanAuthConfig(sc interface{ Scan(...any) error }) (*patchbay.AuthConfig, error) {
	var (
		ac       patchbay.AuthConfig
		settings string
	)
	if err := sc.Scan(&ac.ID, &ac.ProjectID, &ac.Toolkit, &ac.Name, &ac.Mode, &ac.Managed, &ac.Disabled, &settings, &ac.CreatedBy, &ac.CreatedAt, &ac.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(settings), &ac.Settings); err != nil {
		return nil, err
	}
	ac.CreatedAt, ac.UpdatedAt = ac.CreatedAt.UTC(), ac.UpdatedAt.UTC()
	return &ac, nil
}

func (s *DB) CreateAuthConfig(ctx context.Context, ac *patchbay.AuthConfig) error {
	settings, err := json.Marshal(ac.Settings)
	if err != nil {
		return err
	}
	_, err = s.q.ExecContext(ctx, `INSERT INTO auth_configs (`+authConfigCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		ac.ID, ac.ProjectID, ac.Toolkit, ac.Name, string(ac.Mode), ac.Managed, ac.Disabled, string(settings), ac.CreatedBy, ts(ac.CreatedAt), ts(ac.UpdatedAt))
	return s.wrap(err, "auth config exists")
}

func (s *DB) GetAuthConfig(ctx context.Context, projectID, id string) (*patchbay.AuthConfig, error) {
	ac, err := scanAuthConfig(s.q.QueryRowContext(ctx, `SELECT `+authConfigCols+` FROM auth_configs WHERE project_id = $1 AND id = $2`, projectID, id))
	if isNoRows(err) {
		return nil, notFound("Auth config", id)
	}
	return ac, err
}

func (s *DB) ListAuthConfigs(ctx context.Context, f patchbay.AuthConfigFilter) ([]*patchbay.AuthConfig, int, error) {
	var a args
	where := []string{"project_id = " + a.add(f.ProjectID)}
	if f.Toolkit != "" {
		where = append(where, "toolkit = "+a.add(lower(f.Toolkit)))
	}
	if f.Managed != nil {
		where = append(where, "managed = "+a.add(*f.Managed))
	}
	if !f.ShowDisabled {
		where = append(where, "disabled = "+a.add(false))
	}
	if f.Mode != "" {
		where = append(where, "mode = "+a.add(string(f.Mode)))
	}
	if f.Search != "" {
		where = append(where, "lower(name) LIKE "+a.add("%"+escapeLike(lower(f.Search))+"%")+" ESCAPE '\\'")
	}
	total, err := s.count(ctx, "auth_configs", where, a)
	if err != nil {
		return nil, 0, err
	}
	cond, order := a.page("auth_configs", where, f.Page)
	rows, err := s.q.QueryContext(ctx, `SELECT `+authConfigCols+` FROM auth_configs WHERE `+strings.Join(cond, " AND ")+order, a...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*patchbay.AuthConfig
	for rows.Next() {
		ac, err := scanAuthConfig(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, ac)
	}
	return out, total, rows.Err()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (s *DB) count(ctx context.Context, table string, where []string, a args) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE `+strings.Join(where, " AND "), a...).Scan(&n)
	return n, err
}

func (s *DB) LockAuthConfig(ctx context.Context, projectID, id string) error {
	var got string
	err := s.q.QueryRowContext(ctx, `SELECT id FROM auth_configs WHERE project_id = $1 AND id = $2`+s.d.ForUpdate, projectID, id).Scan(&got)
	if isNoRows(err) {
		return notFound("Auth config", id)
	}
	return err
}

func (s *DB) UpdateAuthConfig(ctx context.Context, ac *patchbay.AuthConfig) error {
	settings, err := json.Marshal(ac.Settings)
	if err != nil {
		return err
	}
	res, err := s.q.ExecContext(ctx, `UPDATE auth_configs SET name = $1, disabled = $2, settings = $3, updated_at = $4 WHERE project_id = $5 AND id = $6`,
		ac.Name, ac.Disabled, string(settings), ts(ac.UpdatedAt), ac.ProjectID, ac.ID)
	return affected(res, err, "Auth config", ac.ID)
}

func affected(res sql.Result, err error, what, id string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(what, id)
	}
	return nil
}

func (s *DB) DeleteAuthConfig(ctx context.Context, projectID, id string) error {
	return s.InTx(ctx, func(tx patchbay.Store) error {
		t := tx.(*DB)
		if _, err := t.q.ExecContext(ctx, `DELETE FROM secrets WHERE project_id = $1 AND field = $2 AND record IN
			(SELECT id FROM connected_accounts WHERE project_id = $1 AND auth_config_id = $3)`, projectID, patchbay.FieldCredentials, id); err != nil {
			return err
		}
		if _, err := t.q.ExecContext(ctx, `DELETE FROM connected_accounts WHERE project_id = $1 AND auth_config_id = $2`, projectID, id); err != nil {
			return err
		}
		if err := t.DeleteSecret(ctx, patchbay.CredentialsRef(projectID, id)); err != nil {
			return err
		}
		res, err := t.q.ExecContext(ctx, `DELETE FROM auth_configs WHERE project_id = $1 AND id = $2`, projectID, id)
		return affected(res, err, "Auth config", id)
	})
}

func (s *DB) CountConnections(ctx context.Context, projectID string, ids []string) (map[string]int, error) {
	out := make(map[string]int, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var a args
	where := "project_id = " + a.add(projectID) + " AND " + a.in("auth_config_id", ids)
	rows, err := s.q.QueryContext(ctx, `SELECT auth_config_id, count(*) FROM connected_accounts WHERE `+where+` GROUP BY auth_config_id`, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			n  int
		)
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

const connCols = `ca.id, ca.project_id, ca.auth_config_id, ca.toolkit, ca.mode, ca.user_id, ca.status, ca.status_reason, ca.disabled, ca.alias, ca.labels, ca.created_at, ca.updated_at`

func scanConn(sc interface{ Scan(...any) error }, extra ...any) (*patchbay.ConnectedAccount, error) {
	var (
		ca     patchbay.ConnectedAccount
		labels string
	)
	dest := append([]any{&ca.ID, &ca.ProjectID, &ca.AuthConfigID, &ca.Toolkit, &ca.Mode, &ca.UserID, &ca.Status, &ca.StatusReason, &ca.Disabled, &ca.Alias, &labels, &ca.CreatedAt, &ca.UpdatedAt}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(labels), &ca.Labels); err != nil {
		return nil, err
	}
	ca.CreatedAt, ca.UpdatedAt = ca.CreatedAt.UTC(), ca.UpdatedAt.UTC()
	return &ca, nil
}

func labelsJSON(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func (s *DB) CreateConnectedAccount(ctx context.Context, ca *patchbay.ConnectedAccount) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO connected_accounts
		(id, project_id, auth_config_id, toolkit, mode, user_id, status, status_reason, disabled, alias, labels, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		ca.ID, ca.ProjectID, ca.AuthConfigID, ca.Toolkit, string(ca.Mode), ca.UserID, string(ca.Status), ca.StatusReason,
		ca.Disabled, ca.Alias, labelsJSON(ca.Labels), ts(ca.CreatedAt), ts(ca.UpdatedAt))
	return s.wrap(err, "connected account exists")
}

func (s *DB) GetConnectedAccount(ctx context.Context, projectID, id string) (*patchbay.ConnectedAccount, *patchbay.StoredSecret, error) {
	var (
		term   sql.NullInt64
		sealed []byte
	)
	ca, err := scanConn(s.q.QueryRowContext(ctx, `SELECT `+connCols+`, s.term, s.sealed FROM connected_accounts ca
		LEFT JOIN secrets s ON s.project_id = ca.project_id AND s.record = ca.id AND s.field = $3
		WHERE ca.project_id = $1 AND ca.id = $2`, projectID, id, patchbay.FieldCredentials), &term, &sealed)
	if isNoRows(err) {
		return nil, nil, notFound("Connected account", id)
	}
	if err != nil {
		return nil, nil, err
	}
	if !term.Valid {
		return ca, nil, nil
	}
	return ca, &patchbay.StoredSecret{Ref: patchbay.CredentialsRef(projectID, id), Term: uint32(term.Int64), Sealed: sealed}, nil
}

func (s *DB) ListConnectedAccounts(ctx context.Context, f patchbay.ConnectionFilter) ([]*patchbay.ConnectedAccount, int, error) {
	var a args
	where := []string{"project_id = " + a.add(f.ProjectID)}
	if len(f.IDs) > 0 {
		where = append(where, a.in("id", f.IDs))
	}
	if len(f.UserIDs) > 0 {
		where = append(where, a.in("user_id", f.UserIDs))
	}
	if len(f.AuthConfigIDs) > 0 {
		where = append(where, a.in("auth_config_id", f.AuthConfigIDs))
	}
	if len(f.Toolkits) > 0 {
		ts := make([]string, len(f.Toolkits))
		for i, t := range f.Toolkits {
			ts[i] = lower(t)
		}
		where = append(where, a.in("toolkit", ts))
	}
	if len(f.Statuses) > 0 {
		ss := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			ss[i] = string(st)
		}
		where = append(where, a.in("status", ss))
	}
	if f.Disabled != nil {
		where = append(where, "disabled = "+a.add(*f.Disabled))
	}
	total, err := s.count(ctx, "connected_accounts", where, a)
	if err != nil {
		return nil, 0, err
	}
	cond, order := a.page("connected_accounts", where, f.Page)
	rows, err := s.q.QueryContext(ctx, `SELECT `+connCols+` FROM connected_accounts ca WHERE `+strings.Join(cond, " AND ")+order, a...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*patchbay.ConnectedAccount
	for rows.Next() {
		ca, err := scanConn(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, ca)
	}
	return out, total, rows.Err()
}

func (s *DB) UpdateConnectedAccount(ctx context.Context, ca *patchbay.ConnectedAccount) error {
	res, err := s.q.ExecContext(ctx, `UPDATE connected_accounts SET status = $1, status_reason = $2, disabled = $3, alias = $4, labels = $5, updated_at = $6
		WHERE project_id = $7 AND id = $8`,
		string(ca.Status), ca.StatusReason, ca.Disabled, ca.Alias, labelsJSON(ca.Labels), ts(ca.UpdatedAt), ca.ProjectID, ca.ID)
	return affected(res, err, "Connected account", ca.ID)
}

func (s *DB) DeleteConnectedAccount(ctx context.Context, projectID, id string) error {
	return s.InTx(ctx, func(tx patchbay.Store) error {
		t := tx.(*DB)
		if err := t.DeleteSecret(ctx, patchbay.CredentialsRef(projectID, id)); err != nil {
			return err
		}
		res, err := t.q.ExecContext(ctx, `DELETE FROM connected_accounts WHERE project_id = $1 AND id = $2`, projectID, id)
		return affected(res, err, "Connected account", id)
	})
}

func (s *DB) ConnectionSecrets(ctx context.Context, projectID string, ids []string) (map[string]patchbay.StoredSecret, error) {
	out := make(map[string]patchbay.StoredSecret, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var a args
	where := "project_id = " + a.add(projectID) + " AND field = " + a.add(patchbay.FieldCredentials) + " AND " + a.in("record", ids)
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
		out[st.Ref.Record] = st
	}
	return out, rows.Err()
}

func (s *DB) DeleteSecret(ctx context.Context, ref patchbay.SecretRef) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM secrets WHERE project_id = $1 AND record = $2 AND field = $3`, ref.ProjectID, ref.Record, ref.Field)
	return err
}
