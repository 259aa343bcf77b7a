package sqlstore

import (
	"context"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func (s *DB) AppendAudit(ctx context.Context, e *patchbay.AuditEvent) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO audit_events
		(id, org_id, project_id, actor_id, actor_key, action, target_id, ip, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.ID, e.OrgID, e.ProjectID, e.ActorID, e.ActorKey, e.Action, e.TargetID, e.IP, ts(e.At))
	return err
}

func (s *DB) ListAudit(ctx context.Context, orgID, projectID string, limit int) ([]*patchbay.AuditEvent, error) {
	q := `SELECT id, org_id, project_id, actor_id, actor_key, action, target_id, ip, at FROM audit_events WHERE org_id = $1`
	args := []any{orgID}
	if projectID != "" {
		q += ` AND project_id = $2`
		args = append(args, projectID)
	}
	q += ` ORDER BY at DESC, id DESC LIMIT ` + limitArg(limit)
	rows, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*patchbay.AuditEvent
	for rows.Next() {
		var e patchbay.AuditEvent
		if err := rows.Scan(&e.ID, &e.OrgID, &e.ProjectID, &e.ActorID, &e.ActorKey, &e.Action, &e.TargetID, &e.IP, &e.At); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		out = append(out, &e)
	}
	return out, rows.Err()
}
