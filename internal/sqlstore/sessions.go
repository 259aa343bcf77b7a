package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func (s *DB) MemberPassword(ctx context.Context, memberID string) (string, error) {
	var hash string
	err := s.q.QueryRowContext(ctx, `SELECT password_hash FROM members WHERE id = $1`, memberID).Scan(&hash)
	if isNoRows(err) {
		return "", notFound("Member", memberID)
	}
	return hash, err
}

func (s *DB) SetMemberPassword(ctx context.Context, memberID, hash string) error {
	res, err := s.q.ExecContext(ctx, `UPDATE members SET password_hash = $1 WHERE id = $2`, hash, memberID)
	return affected(res, err, "Member", memberID)
}

func (s *DB) MembersByEmail(ctx context.Context, email string) ([]*patchbay.Member, error) {
	return queryAll(ctx, s.q, scanMember, `SELECT `+memberCols+` FROM members WHERE email_lower = $1 ORDER BY created_at, id`, lower(email))
}

func (s *DB) CreateSession(ctx context.Context, x *patchbay.Session) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO sessions (id, org_id, member_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		x.ID, x.OrgID, x.MemberID, x.CSRF, ts(x.CreatedAt), ts(x.ExpiresAt))
	return err
}

func (s *DB) GetSession(ctx context.Context, id string) (*patchbay.Session, error) {
	var x patchbay.Session
	err := s.q.QueryRowContext(ctx, `SELECT id, org_id, member_id, csrf, created_at, expires_at FROM sessions WHERE id = $1`, id).
		Scan(&x.ID, &x.OrgID, &x.MemberID, &x.CSRF, &x.CreatedAt, &x.ExpiresAt)
	if isNoRows(err) {
		return nil, notFound("Session", "")
	}
	x.CreatedAt, x.ExpiresAt = x.CreatedAt.UTC(), x.ExpiresAt.UTC()
	return &x, err
}

func (s *DB) DeleteSession(ctx context.Context, id string) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, id)
	return err
}

func (s *DB) CreateInvite(ctx context.Context, inv *patchbay.Invite) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO invites (id, org_id, email, role, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		inv.ID, inv.OrgID, inv.Email, string(inv.Role), inv.CreatedBy, ts(inv.CreatedAt), ts(inv.ExpiresAt))
	return err
}

func (s *DB) GetInvite(ctx context.Context, id string) (*patchbay.Invite, error) {
	var (
		inv  patchbay.Invite
		role string
		used sql.NullTime
	)
	err := s.q.QueryRowContext(ctx, `SELECT id, org_id, email, role, created_by, created_at, expires_at, used_at FROM invites WHERE id = $1`, id).
		Scan(&inv.ID, &inv.OrgID, &inv.Email, &role, &inv.CreatedBy, &inv.CreatedAt, &inv.ExpiresAt, &used)
	if isNoRows(err) {
		return nil, notFound("Invite", "")
	}
	if err != nil {
		return nil, err
	}
	inv.Role, inv.CreatedAt, inv.ExpiresAt = patchbay.Role(role), inv.CreatedAt.UTC(), inv.ExpiresAt.UTC()
	if used.Valid {
		t := used.Time.UTC()
		inv.UsedAt = &t
	}
	return &inv, nil
}

func (s *DB) UseInvite(ctx context.Context, id string, at time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE invites SET used_at = $1 WHERE id = $2 AND used_at IS NULL`, ts(at), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return patchbay.Errorf(patchbay.ECONFLICT, "This sign-up link was used already.")
	}
	return nil
}
