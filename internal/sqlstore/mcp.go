package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

const mcpServerCols = `id, org_id, project_id, name, toolkits, auth_config_ids, allowed_tools, managed_auth, created_by, created_at, updated_at`

func jsonStrings(l []string) (string, error) {
	if l == nil {
		l = []string{}
	}
	b, err := json.Marshal(l)
	return string(b), err
}

func scanMCPServer(sc interface{ Scan(...any) error }) (*patchbay.MCPServer, error) {
	var (
		m                 patchbay.MCPServer
		toolkits, acs, ts string
	)
	if err := sc.Scan(&m.ID, &m.OrgID, &m.ProjectID, &m.Name, &toolkits, &acs, &ts, &m.ManagedAuth, &m.CreatedBy, &m.CreatedAt, &m.UpdatedAt); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		raw string
		dst *[]string
	}{{toolkits, &m.Toolkits}, {acs, &m.AuthConfigIDs}, {ts, &m.AllowedTools}} {
		if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
			return nil, err
		}
		if *f.dst == nil {
			*f.dst = []string{}
		}
	}
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	return &m, nil
}

func mcpLists(m *patchbay.MCPServer) (toolkits, acs, tools string, err error) {
	if toolkits, err = jsonStrings(m.Toolkits); err != nil {
		return
	}
	if acs, err = jsonStrings(m.AuthConfigIDs); err != nil {
		return
	}
	tools, err = jsonStrings(m.AllowedTools)
	return
}

func (s *DB) CreateMCPServer(ctx context.Context, m *patchbay.MCPServer) error {
	toolkits, acs, tools, err := mcpLists(m)
	if err != nil {
		return err
	}
	_, err = s.q.ExecContext(ctx, `INSERT INTO mcp_servers (`+mcpServerCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		m.ID, m.OrgID, m.ProjectID, m.Name, toolkits, acs, tools, m.ManagedAuth, m.CreatedBy, ts(m.CreatedAt), ts(m.UpdatedAt))
	return s.wrap(err, "MCP server exists")
}

func (s *DB) GetMCPServer(ctx context.Context, projectID, id string) (*patchbay.MCPServer, error) {
	m, err := scanMCPServer(s.q.QueryRowContext(ctx, `SELECT `+mcpServerCols+` FROM mcp_servers WHERE project_id = $1 AND id = $2`, projectID, id))
	if isNoRows(err) {
		return nil, notFound("MCP server", patchbay.Truncate(id, 60))
	}
	return m, err
}

func (s *DB) FindMCPServer(ctx context.Context, id string) (*patchbay.MCPServer, error) {
	m, err := scanMCPServer(s.q.QueryRowContext(ctx, `SELECT `+mcpServerCols+` FROM mcp_servers WHERE id = $1`, id))
	if isNoRows(err) {
		return nil, notFound("MCP server", patchbay.Truncate(id, 60))
	}
	return m, err
}

func (s *DB) ListMCPServers(ctx context.Context, f patchbay.MCPServerFilter) ([]*patchbay.MCPServer, int, error) {
	var a args
	where := []string{"m.project_id = " + a.add(f.ProjectID)}
	if f.Name != "" {
		where = append(where, "lower(m.name) LIKE "+a.add("%"+escapeLike(lower(f.Name))+"%")+" ESCAPE '\\'")
	}
	if len(f.Toolkits) > 0 {
		where = append(where, "EXISTS (SELECT 1 FROM "+s.d.JSONArrayElements("m.toolkits")+" WHERE "+a.in("value", f.Toolkits)+")")
	}
	if len(f.AuthConfigIDs) > 0 {
		where = append(where, "EXISTS (SELECT 1 FROM "+s.d.JSONArrayElements("m.auth_config_ids")+" WHERE "+a.in("value", f.AuthConfigIDs)+")")
	}
	cond := strings.Join(where, " AND ")
	q := `SELECT ` + prefixCols("m.", mcpServerCols) + `, (SELECT COUNT(*) FROM mcp_servers m WHERE ` + cond + `) FROM mcp_servers m WHERE ` + cond +
		` ORDER BY m.created_at, m.id`
	if f.Page.Limit > 0 {
		q += ` LIMIT ` + strconv.Itoa(f.Page.Limit) + ` OFFSET ` + strconv.Itoa(f.Page.Offset)
	}
	rows, err := s.q.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var (
		out   []*patchbay.MCPServer
		total int
	)
	for rows.Next() {
		var m *patchbay.MCPServer
		m, err = scanMCPServer(scanExtra{rows, &total})
		if err != nil {
			return nil, 0, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(out) == 0 {
		// Past the last page the count still matters (total_pages).
		err = s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM mcp_servers m WHERE `+cond, a...).Scan(&total)
	}
	return out, total, err
}

func (s *DB) UpdateMCPServer(ctx context.Context, m *patchbay.MCPServer) error {
	toolkits, acs, tools, err := mcpLists(m)
	if err != nil {
		return err
	}
	res, err := s.q.ExecContext(ctx, `UPDATE mcp_servers SET name = $1, toolkits = $2, auth_config_ids = $3, allowed_tools = $4, managed_auth = $5, updated_at = $6
		WHERE project_id = $7 AND id = $8`, m.Name, toolkits, acs, tools, m.ManagedAuth, ts(m.UpdatedAt), m.ProjectID, m.ID)
	return affectedOne(res, err, "MCP server", m.ID)
}

func (s *DB) DeleteMCPServer(ctx context.Context, projectID, id string) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM mcp_servers WHERE project_id = $1 AND id = $2`, projectID, id)
	return affectedOne(res, err, "MCP server", patchbay.Truncate(id, 60))
}

// affectedOne turns an update or delete that touched no row into ENOTFOUND.
func affectedOne(res sql.Result, err error, what, id string) error {
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

// scanExtra scans a row whose last column is one more value after the
// MCP server's columns.
type scanExtra struct {
	sc    interface{ Scan(...any) error }
	extra any
}

func (x scanExtra) Scan(dst ...any) error { return x.sc.Scan(append(dst, x.extra)...) }

func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, c := range parts {
		parts[i] = prefix + c
	}
	return strings.Join(parts, ", ")
}
