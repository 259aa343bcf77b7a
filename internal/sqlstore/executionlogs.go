package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

const execLogCols = `id, project_id, kind, tool, toolkit, connected_account_id, user_id, status, message, upstream_status, duration_us, request, response, at`

func (s *DB) AppendExecutionLogs(ctx context.Context, logs []*patchbay.ExecutionLog) error {
	if len(logs) == 0 {
		return nil
	}
	// One transaction, one short statement per row: the statement is
	// prepared once and kept, where a many-row statement would be prepared
	// afresh for every batch size (and binding its parameters by name is
	// most of SQLite's work).
	const insert = `INSERT INTO execution_logs (` + execLogCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`
	return s.inTx(ctx, false, func(tx patchbay.Store) error {
		t := tx.(*DB)
		sqlTx, ok := t.q.(*sql.Tx)
		if !ok {
			return fmt.Errorf("sqlstore: execution logs outside a transaction")
		}
		st, err := sqlTx.PrepareContext(ctx, insert)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, e := range logs {
			if _, err := st.ExecContext(ctx, e.ID, e.ProjectID, e.Kind, e.Tool, e.Toolkit, e.ConnectedAccountID, e.UserID, e.Status, e.Message,
				e.UpstreamStatus, e.Duration.Microseconds(), nullJSON(e.Request), nullJSON(e.Response), ts(e.At)); err != nil {
				return err
			}
		}
		return nil
	})
}

func nullJSON(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

func (s *DB) ListExecutionLogs(ctx context.Context, f patchbay.ExecutionLogFilter) ([]*patchbay.ExecutionLog, error) {
	var a args
	where := []string{"project_id = " + a.add(f.ProjectID)}
	if len(f.Tools) > 0 {
		up := make([]string, len(f.Tools))
		for i, t := range f.Tools {
			up[i] = strings.ToUpper(t)
		}
		where = append(where, a.in("tool", up))
	}
	if len(f.Toolkits) > 0 {
		lo := make([]string, len(f.Toolkits))
		for i, t := range f.Toolkits {
			lo[i] = lower(t)
		}
		where = append(where, a.in("toolkit", lo))
	}
	if len(f.UserIDs) > 0 {
		where = append(where, a.in("user_id", f.UserIDs))
	}
	if f.ConnectedAccountID != "" {
		where = append(where, "connected_account_id = "+a.add(f.ConnectedAccountID))
	}
	if f.Status != "" {
		where = append(where, "status = "+a.add(f.Status))
	}
	if !f.From.IsZero() {
		where = append(where, "at >= "+a.add(ts(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, "at <= "+a.add(ts(f.To)))
	}
	if c := f.After; c != nil {
		at := a.add(ts(c.At))
		where = append(where, "(at < "+at+" OR (at = "+at+" AND id < "+a.add(c.ID)+"))")
	}
	return queryAll(ctx, s.q, scanExecLog, `SELECT `+execLogCols+` FROM execution_logs WHERE `+strings.Join(where, " AND ")+
		` ORDER BY at DESC, id DESC LIMIT `+limitArg(f.Limit), a...)
}

func (s *DB) GetExecutionLog(ctx context.Context, projectID, id string) (*patchbay.ExecutionLog, error) {
	e, err := scanExecLog(s.q.QueryRowContext(ctx, `SELECT `+execLogCols+` FROM execution_logs WHERE project_id = $1 AND id = $2`, projectID, id))
	if isNoRows(err) {
		return nil, notFound("Execution log", id)
	}
	return e, err
}

func (s *DB) PruneExecutionLogs(ctx context.Context, before time.Time) (int, error) {
	res, err := s.q.ExecContext(ctx, `DELETE FROM execution_logs WHERE at < $1`, ts(before))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func scanExecLog(sc interface{ Scan(...any) error }) (*patchbay.ExecutionLog, error) {
	var (
		e        patchbay.ExecutionLog
		us       int64
		req, res sql.NullString
	)
	if err := sc.Scan(&e.ID, &e.ProjectID, &e.Kind, &e.Tool, &e.Toolkit, &e.ConnectedAccountID, &e.UserID, &e.Status, &e.Message,
		&e.UpstreamStatus, &us, &req, &res, &e.At); err != nil {
		return nil, err
	}
	e.Duration = time.Duration(us) * time.Microsecond
	if req.Valid {
		e.Request = []byte(req.String)
	}
	if res.Valid {
		e.Response = []byte(res.String)
	}
	e.At = e.At.UTC()
	return &e, nil
}
