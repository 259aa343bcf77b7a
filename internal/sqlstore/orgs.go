package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func (s *DB) CreateOrganization(ctx context.Context, o *patchbay.Organization) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)`,
		o.ID, o.Name, ts(o.CreatedAt))
	return s.wrap(err, "organization exists")
}

func (s *DB) scanOrg(row *sql.Row, id string) (*patchbay.Organization, error) {
	var o patchbay.Organization
	err := row.Scan(&o.ID, &o.Name, &o.CreatedAt)
	if isNoRows(err) {
		return nil, notFound("Organization", id)
	}
	o.CreatedAt = o.CreatedAt.UTC()
	return &o, err
}

func (s *DB) FirstOrganization(ctx context.Context) (*patchbay.Organization, error) {
	return s.scanOrg(s.q.QueryRowContext(ctx,
		`SELECT id, name, created_at FROM organizations ORDER BY created_at, id LIMIT 1`), "(any)")
}

func (s *DB) GetOrganization(ctx context.Context, id string) (*patchbay.Organization, error) {
	return s.scanOrg(s.q.QueryRowContext(ctx,
		`SELECT id, name, created_at FROM organizations WHERE id = $1`, id), id)
}

const projectCols = `id, org_id, name, created_at, updated_at, deleted_at, omit_log_payloads`

func scanProject(sc interface{ Scan(...any) error }) (*patchbay.Project, error) {
	var (
		p       patchbay.Project
		deleted sql.NullTime
	)
	if err := sc.Scan(&p.ID, &p.OrgID, &p.Name, &p.CreatedAt, &p.UpdatedAt, &deleted, &p.OmitLogPayloads); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt, p.DeletedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC(), fromNull(deleted)
	return &p, nil
}

func (s *DB) CreateProject(ctx context.Context, p *patchbay.Project) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO projects (`+projectCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		p.ID, p.OrgID, p.Name, ts(p.CreatedAt), ts(p.UpdatedAt), tsPtr(p.DeletedAt), p.OmitLogPayloads)
	return s.wrap(err, "project exists")
}

func (s *DB) GetProject(ctx context.Context, orgID, id string) (*patchbay.Project, error) {
	p, err := scanProject(s.q.QueryRowContext(ctx,
		`SELECT `+projectCols+` FROM projects WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL`, orgID, id))
	if isNoRows(err) {
		return nil, notFound("Project", id)
	}
	return p, err
}

func (s *DB) ListProjects(ctx context.Context, orgID, after string, limit int) ([]*patchbay.Project, error) {
	q := `SELECT ` + projectCols + ` FROM projects WHERE org_id = $1 AND deleted_at IS NULL`
	args := []any{orgID}
	if after != "" {
		q += ` AND (created_at, id) > (SELECT created_at, id FROM projects WHERE org_id = $1 AND id = $2)`
		args = append(args, after)
	}
	q += ` ORDER BY created_at, id LIMIT ` + limitArg(limit)
	return queryAll(ctx, s.q, scanProject, q, args...)
}

func (s *DB) DeleteProject(ctx context.Context, orgID, id string, at time.Time) error {
	res, err := s.q.ExecContext(ctx,
		`UPDATE projects SET deleted_at = $1, updated_at = $1 WHERE org_id = $2 AND id = $3 AND deleted_at IS NULL`,
		ts(at), orgID, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound("Project", id)
	}
	return nil
}

const memberCols = `id, org_id, email, name, role, created_at`

func scanMember(sc interface{ Scan(...any) error }) (*patchbay.Member, error) {
	var m patchbay.Member
	if err := sc.Scan(&m.ID, &m.OrgID, &m.Email, &m.Name, &m.Role, &m.CreatedAt); err != nil {
		return nil, err
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return &m, nil
}

func (s *DB) CreateMember(ctx context.Context, m *patchbay.Member) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO members (`+memberCols+`, email_lower) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		m.ID, m.OrgID, m.Email, m.Name, string(m.Role), ts(m.CreatedAt), lower(m.Email))
	return s.wrap(err, "A member with email "+m.Email+" exists already.")
}

func (s *DB) GetMember(ctx context.Context, orgID, id string) (*patchbay.Member, error) {
	m, err := scanMember(s.q.QueryRowContext(ctx,
		`SELECT `+memberCols+` FROM members WHERE org_id = $1 AND id = $2`, orgID, id))
	if isNoRows(err) {
		return nil, notFound("Member", id)
	}
	return m, err
}

func (s *DB) GetMemberByEmail(ctx context.Context, orgID, email string) (*patchbay.Member, error) {
	m, err := scanMember(s.q.QueryRowContext(ctx,
		`SELECT `+memberCols+` FROM members WHERE org_id = $1 AND email_lower = $2`, orgID, lower(email)))
	if isNoRows(err) {
		return nil, notFound("Member", email)
	}
	return m, err
}

func (s *DB) ReadVersion(ctx context.Context, orgID string) (int64, error) {
	var v int64
	err := s.q.QueryRowContext(ctx, `SELECT v FROM read_versions WHERE org_id = $1`, orgID).Scan(&v)
	if isNoRows(err) {
		return 0, nil
	}
	return v, err
}

func (s *DB) OrgOwner(ctx context.Context, orgID string) (*patchbay.Member, error) {
	m, err := scanMember(s.q.QueryRowContext(ctx, `SELECT `+memberCols+` FROM members
		WHERE org_id = $1 AND role = $2 ORDER BY created_at, id LIMIT 1`, orgID, string(patchbay.RoleOwner)))
	if isNoRows(err) {
		return nil, patchbay.Errorf(patchbay.ENOTFOUND, "Organization %s has no owner.", orgID)
	}
	return m, err
}

func (s *DB) ListMembers(ctx context.Context, orgID string) ([]*patchbay.Member, error) {
	return queryAll(ctx, s.q, scanMember, `SELECT `+memberCols+` FROM members WHERE org_id = $1 ORDER BY created_at, id`, orgID)
}

func (s *DB) SetProjectLogPayloads(ctx context.Context, orgID, id string, omit bool, at time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE projects SET omit_log_payloads = $1, updated_at = $2 WHERE org_id = $3 AND id = $4 AND deleted_at IS NULL`,
		omit, ts(at), orgID, id)
	return affected(res, err, "Project", id)
}
