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
// over table (aliased as alias) whose conditions are in where.
func (a *args) page(table, alias string, where []string, p patchbay.Page) (cond []string, order string) {
	cmp, dir := ">", "ASC"
	if p.Desc {
		cmp, dir = "<", "DESC"
	}
	if p.After != "" {
		// $1 is the project in every paged listing: a cursor naming another
		// project's record matches nothing.
		where = append(where, "("+alias+".created_at, "+alias+".id) "+cmp+" (SELECT created_at, id FROM "+table+" WHERE project_id = $1 AND id = "+a.add(p.After)+")")
	}
	order = " ORDER BY " + alias + ".created_at " + dir + ", " + alias + ".id " + dir
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

// authConfigRecordCols are an auth config's columns (alias ac), its
// connection count and its sealed credentials (LEFT JOIN secrets s).
const authConfigRecordCols = `ac.id, ac.project_id, ac.toolkit, ac.name, ac.mode, ac.managed, ac.disabled, ac.settings, ac.created_by, ac.created_at, ac.updated_at,
	COALESCE((SELECT n FROM connection_counts c WHERE c.project_id = ac.project_id AND c.auth_config_id = ac.id), 0), s.term, s.sealed`

// authConfigRecordFrom reads the auth configs in src (a table, or a
// derived table holding a page of it) as ac, with their credentials.
func authConfigRecordFrom(src, credField string) string {
	return ` FROM ` + src + ` ac LEFT JOIN secrets s ON s.project_id = ac.project_id AND s.record = ac.id AND s.field = ` + credField
}

func scanAuthConfigRecord(sc interface{ Scan(...any) error }) (*patchbay.AuthConfigRecord, error) {
	var (
		rec      patchbay.AuthConfigRecord
		term     sql.NullInt64
		sealed   []byte
		settings string
		ac       patchbay.AuthConfig
	)
	if err := sc.Scan(&ac.ID, &ac.ProjectID, &ac.Toolkit, &ac.Name, &ac.Mode, &ac.Managed, &ac.Disabled, &settings, &ac.CreatedBy, &ac.CreatedAt, &ac.UpdatedAt,
		&rec.Connections, &term, &sealed); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(settings), &ac.Settings); err != nil {
		return nil, err
	}
	ac.CreatedAt, ac.UpdatedAt = ac.CreatedAt.UTC(), ac.UpdatedAt.UTC()
	rec.AuthConfig = &ac
	if term.Valid {
		rec.Credentials = &patchbay.StoredSecret{Ref: patchbay.CredentialsRef(ac.ProjectID, ac.ID), Term: uint32(term.Int64), Sealed: sealed}
	}
	return &rec, nil
}

func (s *DB) GetAuthConfigRecord(ctx context.Context, projectID, id string) (*patchbay.AuthConfigRecord, error) {
	rec, err := scanAuthConfigRecord(s.q.QueryRowContext(ctx, `SELECT `+authConfigRecordCols+authConfigRecordFrom("auth_configs", "$3")+
		` WHERE ac.project_id = $1 AND ac.id = $2`, projectID, id, patchbay.FieldCredentials))
	if isNoRows(err) {
		return nil, notFound("Auth config", id)
	}
	return rec, err
}

func (s *DB) ListAuthConfigs(ctx context.Context, f patchbay.AuthConfigFilter) ([]*patchbay.AuthConfigRecord, int, error) {
	var a args
	where := []string{"ac.project_id = " + a.add(f.ProjectID)}
	if f.Toolkit != "" {
		where = append(where, "ac.toolkit = "+a.add(lower(f.Toolkit)))
	}
	if f.Managed != nil {
		where = append(where, "ac.managed = "+a.add(*f.Managed))
	}
	if !f.ShowDisabled {
		where = append(where, "ac.disabled = "+a.add(false))
	}
	if f.Mode != "" {
		where = append(where, "ac.mode = "+a.add(string(f.Mode)))
	}
	if f.Search != "" {
		where = append(where, "lower(ac.name) LIKE "+a.add("%"+escapeLike(lower(f.Search))+"%")+" ESCAPE '\\'")
	}
	total, err := s.count(ctx, "auth_configs ac", where, a)
	if err != nil {
		return nil, 0, err
	}
	cred := a.add(patchbay.FieldCredentials)
	cond, order := a.page("auth_configs", "ac", where, f.Page)
	// As in ListConnectedAccounts: the page first, then its joins.
	dir := " ASC"
	if f.Page.Desc {
		dir = " DESC"
	}
	from := authConfigRecordFrom(`(SELECT * FROM auth_configs ac WHERE `+strings.Join(cond, " AND ")+order+`)`, cred)
	rows, err := s.q.QueryContext(ctx, `SELECT `+authConfigRecordCols+from+` ORDER BY ac.created_at`+dir+`, ac.id`+dir, a...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*patchbay.AuthConfigRecord
	for rows.Next() {
		rec, err := scanAuthConfigRecord(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, rec)
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
		if _, err := t.q.ExecContext(ctx, `DELETE FROM connection_counts WHERE project_id = $1 AND auth_config_id = $2`, projectID, id); err != nil {
			return err
		}
		if err := t.DeleteSecret(ctx, patchbay.CredentialsRef(projectID, id)); err != nil {
			return err
		}
		res, err := t.q.ExecContext(ctx, `DELETE FROM auth_configs WHERE project_id = $1 AND id = $2`, projectID, id)
		return affected(res, err, "Auth config", id)
	})
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

// labelsJSON encodes labels for the labels column. A label holding U+0000
// is refused on every store: its JSON escape is stored fine, but PostgreSQL's
// jsonb cannot convert it, so one such account would make every
// label-filtered listing of its project fail.
func labelsJSON(l []string) (string, error) {
	if l == nil {
		l = []string{}
	}
	for _, label := range l {
		if strings.ContainsRune(label, 0) {
			return "", patchbay.Errorf(patchbay.EINVALID, "A label may not contain U+0000.")
		}
	}
	b, err := json.Marshal(l)
	return string(b), err
}

func (s *DB) CreateConnectedAccount(ctx context.Context, ca *patchbay.ConnectedAccount) error {
	labels, err := labelsJSON(ca.Labels)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(tx patchbay.Store) error {
		t := tx.(*DB)
		_, err := t.q.ExecContext(ctx, `INSERT INTO connected_accounts
		(id, project_id, auth_config_id, toolkit, mode, user_id, status, status_reason, disabled, alias, labels, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			ca.ID, ca.ProjectID, ca.AuthConfigID, ca.Toolkit, string(ca.Mode), ca.UserID, string(ca.Status), ca.StatusReason,
			ca.Disabled, ca.Alias, labels, ts(ca.CreatedAt), ts(ca.UpdatedAt))
		if err != nil {
			return s.wrap(err, "connected account exists")
		}
		return t.addConnections(ctx, ca.ProjectID, ca.AuthConfigID, 1)
	})
}

// addConnections moves an auth config's connection count by delta. Call
// it in the transaction that adds or removes the accounts.
func (s *DB) addConnections(ctx context.Context, projectID, authConfigID string, delta int) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO connection_counts (project_id, auth_config_id, n) VALUES ($1, $2, $3)
		ON CONFLICT (project_id, auth_config_id) DO UPDATE SET n = connection_counts.n + $3`, projectID, authConfigID, delta)
	return err
}

// connRecordFrom reads the accounts in src (a table, or a derived table
// holding a page of it) as ca, joined with their auth config (ac) and, when
// credField is not "", its sealed credentials (s).
func connRecordFrom(src, credField string) (cols, from string) {
	cols = connCols + `, ac.managed, ac.disabled`
	from = ` FROM ` + src + ` ca JOIN auth_configs ac ON ac.project_id = ca.project_id AND ac.id = ca.auth_config_id`
	if credField != "" {
		cols += `, s.term, s.sealed`
		from += ` LEFT JOIN secrets s ON s.project_id = ca.project_id AND s.record = ca.id AND s.field = ` + credField
	}
	return cols, from
}

func scanConnRecord(sc interface{ Scan(...any) error }, withCreds bool, extra ...any) (*patchbay.ConnectionRecord, error) {
	var (
		rec    patchbay.ConnectionRecord
		term   sql.NullInt64
		sealed []byte
	)
	dest := []any{&rec.AuthConfigManaged, &rec.AuthConfigDisabled}
	if withCreds {
		dest = append(dest, &term, &sealed)
	}
	ca, err := scanConn(sc, append(dest, extra...)...)
	if err != nil {
		return nil, err
	}
	rec.ConnectedAccount = ca
	if term.Valid {
		rec.Credentials = &patchbay.StoredSecret{Ref: patchbay.CredentialsRef(ca.ProjectID, ca.ID), Term: uint32(term.Int64), Sealed: sealed}
	}
	return &rec, nil
}

func (s *DB) GetConnectedAccount(ctx context.Context, projectID, id string) (*patchbay.ConnectionRecord, error) {
	cols, from := connRecordFrom("connected_accounts", "$3")
	rec, err := scanConnRecord(s.q.QueryRowContext(ctx, `SELECT `+cols+from+` WHERE ca.project_id = $1 AND ca.id = $2`,
		projectID, id, patchbay.FieldCredentials), true)
	if isNoRows(err) {
		return nil, notFound("Connected account", id)
	}
	return rec, err
}

func (s *DB) LockConnectedAccount(ctx context.Context, projectID, id string) (*patchbay.ConnectionRecord, error) {
	// The account row alone is locked: FOR UPDATE may not reach the
	// nullable side of the credentials' outer join.
	var got string
	err := s.q.QueryRowContext(ctx, `SELECT id FROM connected_accounts WHERE project_id = $1 AND id = $2`+s.d.ForUpdate, projectID, id).Scan(&got)
	if isNoRows(err) {
		return nil, notFound("Connected account", id)
	} else if err != nil {
		return nil, err
	}
	return s.GetConnectedAccount(ctx, projectID, id)
}

// connWhere renders f's conditions over the accounts aliased t.
func (s *DB) connWhere(a *args, f patchbay.ConnectionFilter, t string) []string {
	where := []string{t + ".project_id = " + a.add(f.ProjectID)}
	if len(f.IDs) > 0 {
		where = append(where, a.in(t+".id", f.IDs))
	}
	if len(f.UserIDs) > 0 {
		where = append(where, a.in(t+".user_id", f.UserIDs))
	}
	if len(f.AuthConfigIDs) > 0 {
		where = append(where, a.in(t+".auth_config_id", f.AuthConfigIDs))
	}
	if len(f.Toolkits) > 0 {
		ts := make([]string, len(f.Toolkits))
		for i, tk := range f.Toolkits {
			ts[i] = lower(tk)
		}
		where = append(where, a.in(t+".toolkit", ts))
	}
	if len(f.Statuses) > 0 {
		ss := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			ss[i] = string(st)
		}
		where = append(where, a.in(t+".status", ss))
	}
	if len(f.Labels) > 0 {
		where = append(where, "EXISTS (SELECT 1 FROM "+s.d.JSONArrayElements(t+".labels")+" WHERE "+a.in("value", f.Labels)+")")
	}
	if f.Disabled != nil {
		where = append(where, t+".disabled = "+a.add(*f.Disabled))
	}
	return where
}

// ListConnectedAccounts reads a page and the total in one query: the total
// is an uncorrelated subquery the database evaluates once. Only a page past
// the end (no row to carry it) costs a second query.
func (s *DB) ListConnectedAccounts(ctx context.Context, f patchbay.ConnectionFilter) ([]*patchbay.ConnectionRecord, int, error) {
	var a args
	where := s.connWhere(&a, f, "ca")
	var total string
	if !countsSuffice(f) {
		total = `(SELECT count(*) FROM connected_accounts c2 WHERE ` + strings.Join(s.connWhere(&a, f, "c2"), " AND ") + `)`
	} else {
		// Unfiltered but for the project and its auth configs: the kept
		// counts answer without touching an index entry per account.
		cw := "cc.project_id = " + a.add(f.ProjectID)
		if len(f.AuthConfigIDs) > 0 {
			cw += " AND " + a.in("cc.auth_config_id", f.AuthConfigIDs)
		}
		total = `(SELECT CAST(COALESCE(sum(n), 0) AS BIGINT) FROM connection_counts cc WHERE ` + cw + `)`
	}
	cred := ""
	if f.WithCredentials {
		cred = a.add(patchbay.FieldCredentials)
	}
	cond, order := a.page("connected_accounts", "ca", where, f.Page)
	// The page is chosen first, in a derived table, and only its rows are
	// joined: whatever the planner believes about table sizes (a fresh
	// PostgreSQL schema has no statistics), the joins touch page-many rows.
	dir := " ASC"
	if f.Page.Desc {
		dir = " DESC"
	}
	cols, from := connRecordFrom(`(SELECT * FROM connected_accounts ca WHERE `+strings.Join(cond, " AND ")+order+`)`, cred)
	rows, err := s.q.QueryContext(ctx, `SELECT `+cols+`, `+total+from+` ORDER BY ca.created_at`+dir+`, ca.id`+dir, a...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var (
		out []*patchbay.ConnectionRecord
		n   int64 = -1
	)
	for rows.Next() {
		rec, err := scanConnRecord(rows, f.WithCredentials, &n)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if n < 0 {
		var b args
		c, err := s.count(ctx, "connected_accounts c2", s.connWhere(&b, f, "c2"), b)
		return out, c, err
	}
	return out, int(n), nil
}

// countsSuffice reports whether f selects by project and auth config
// only, so connection_counts holds its total.
func countsSuffice(f patchbay.ConnectionFilter) bool {
	return len(f.IDs) == 0 && len(f.UserIDs) == 0 && len(f.Toolkits) == 0 && len(f.Statuses) == 0 && len(f.Labels) == 0 && f.Disabled == nil
}

func (s *DB) UpdateConnectedAccount(ctx context.Context, ca *patchbay.ConnectedAccount) error {
	labels, err := labelsJSON(ca.Labels)
	if err != nil {
		return err
	}
	res, err := s.q.ExecContext(ctx, `UPDATE connected_accounts SET status = $1, status_reason = $2, disabled = $3, alias = $4, labels = $5, updated_at = $6
		WHERE project_id = $7 AND id = $8`,
		string(ca.Status), ca.StatusReason, ca.Disabled, ca.Alias, labels, ts(ca.UpdatedAt), ca.ProjectID, ca.ID)
	return affected(res, err, "Connected account", ca.ID)
}

func (s *DB) DeleteConnectedAccount(ctx context.Context, projectID, id string) error {
	return s.InTx(ctx, func(tx patchbay.Store) error {
		t := tx.(*DB)
		if err := t.DeleteSecret(ctx, patchbay.CredentialsRef(projectID, id)); err != nil {
			return err
		}
		var acID string
		err := t.q.QueryRowContext(ctx, `DELETE FROM connected_accounts WHERE project_id = $1 AND id = $2 RETURNING auth_config_id`, projectID, id).Scan(&acID)
		if isNoRows(err) {
			return notFound("Connected account", id)
		}
		if err != nil {
			return err
		}
		return t.addConnections(ctx, projectID, acID, -1)
	})
}

func (s *DB) DeleteSecret(ctx context.Context, ref patchbay.SecretRef) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM secrets WHERE project_id = $1 AND record = $2 AND field = $3`, ref.ProjectID, ref.Record, ref.Field)
	return err
}
