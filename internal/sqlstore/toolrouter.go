package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

const toolRouterCols = `id, org_id, project_id, user_id, toolkits, manage_connections, created_by, created_at`

func (s *DB) CreateToolRouterSession(ctx context.Context, t *patchbay.ToolRouterSession) error {
	toolkits, err := jsonStrings(t.Toolkits)
	if err != nil {
		return err
	}
	_, err = s.q.ExecContext(ctx, `INSERT INTO tool_router_sessions (`+toolRouterCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		t.ID, t.OrgID, t.ProjectID, t.UserID, toolkits, t.ManageConnections, t.CreatedBy, ts(t.CreatedAt))
	return s.wrap(err, "Tool router session exists")
}

func (s *DB) GetToolRouterSession(ctx context.Context, projectID, id string) (*patchbay.ToolRouterSession, error) {
	var (
		t        patchbay.ToolRouterSession
		toolkits string
	)
	err := s.q.QueryRowContext(ctx, `SELECT `+toolRouterCols+` FROM tool_router_sessions WHERE project_id = $1 AND id = $2`, projectID, id).Scan(
		&t.ID, &t.OrgID, &t.ProjectID, &t.UserID, &toolkits, &t.ManageConnections, &t.CreatedBy, &t.CreatedAt)
	if isNoRows(err) {
		return nil, notFound("Tool router session", patchbay.Truncate(id, 60))
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(toolkits), &t.Toolkits); err != nil {
		return nil, err
	}
	if t.Toolkits == nil {
		t.Toolkits = []string{}
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return &t, nil
}

func (s *DB) DeleteToolRouterSession(ctx context.Context, projectID, id string) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM tool_router_sessions WHERE project_id = $1 AND id = $2`, projectID, id)
	return affectedOne(res, err, "Tool router session", patchbay.Truncate(id, 60))
}
