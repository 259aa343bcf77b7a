package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// v3LogSearch is the body of POST /logs/tool_execution.
type v3LogSearch struct {
	Limit   *int    `json:"limit"`
	Cursor  *string `json:"cursor"`
	Filters []struct {
		Field    string `json:"field"`
		Operator string `json:"operator"`
		Value    string `json:"value"`
	} `json:"filters"`
	TimeRange *struct {
		From *int64 `json:"from"`
		To   *int64 `json:"to"`
	} `json:"time_range"`
}

// v3Log is one log in a listing; v3LogDetail adds the payloads.
type v3Log struct {
	ID        string         `json:"id"`
	Timestamp string         `json:"timestamp"`
	Type      string         `json:"type"`
	Status    string         `json:"status"`
	Level     string         `json:"level"`
	Message   string         `json:"message,omitempty"`
	Metadata  map[string]any `json:"metadata"`
	Metrics   map[string]any `json:"metrics"`
	Parent    any            `json:"parent"`
}

type v3LogDetail struct {
	v3Log
	Context map[string]any   `json:"context"`
	Source  map[string]any   `json:"source"`
	Data    map[string]any   `json:"data"`
	Timings map[string]int64 `json:"timings"`
}

func toV3Log(e *patchbay.ExecutionLog) v3Log {
	level := "info"
	if e.Status == patchbay.LogFailed {
		level = "error"
	}
	meta := map[string]any{"toolkit_slug": e.Toolkit, "user_id": e.UserID, "connected_account_id": e.ConnectedAccountID, "upstream_status": e.UpstreamStatus}
	if e.Tool != "" {
		meta["tool_slug"] = e.Tool
	}
	return v3Log{ID: e.ID, Timestamp: wireTime(e.At), Type: e.Kind, Status: e.Status, Level: level, Message: e.Message,
		Metadata: meta, Metrics: map[string]any{"duration_ms": float64(e.Duration.Microseconds()) / 1000}}
}

// logFilterFields maps the wire's filter fields to the filter.
var logFilterFields = []string{"tool_slug", "toolkit_slug", "user_id", "connected_account_id", "status"}

// searchLogs: POST /logs/tool_execution {limit, cursor, filters, time_range}.
func (s *Server) searchLogs(w http.ResponseWriter, r *http.Request) error {
	var req v3LogSearch
	if err := decodeJSON(r, &req, true); err != nil {
		return err
	}
	f := patchbay.ExecutionLogFilter{Limit: 20}
	if req.Limit != nil {
		if *req.Limit < 1 {
			return errorf(patchbay.EINVALID, "limit must be a positive number.")
		}
		f.Limit = min(*req.Limit, 1000)
	}
	for i, flt := range req.Filters {
		if flt.Operator != "==" {
			return errorf(patchbay.EINVALID, "filters[%d]: patchbay supports the operator \"==\" only; got %q.", i, patchbay.Truncate(flt.Operator, 20))
		}
		switch flt.Field {
		case "tool_slug":
			f.Tools = append(f.Tools, flt.Value)
		case "toolkit_slug":
			f.Toolkits = append(f.Toolkits, flt.Value)
		case "user_id":
			f.UserIDs = append(f.UserIDs, flt.Value)
		case "connected_account_id":
			f.ConnectedAccountID = flt.Value
		case "status":
			f.Status = flt.Value
		default:
			return errorf(patchbay.EINVALID, "filters[%d].field must be one of %s; got %q.", i, strings.Join(logFilterFields, ", "), patchbay.Truncate(flt.Field, 40))
		}
	}
	if tr := req.TimeRange; tr != nil {
		if tr.From != nil {
			f.From = time.UnixMilli(*tr.From)
		}
		if tr.To != nil {
			f.To = time.UnixMilli(*tr.To)
		}
	}
	if c := str(req.Cursor); c != "" {
		cur, err := parseLogCursor(c)
		if err != nil {
			return err
		}
		f.After = cur
	}
	logs, err := s.svc.ExecutionLogs(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	items := make([]v3Log, 0, len(logs))
	for _, e := range logs {
		items = append(items, toV3Log(e))
	}
	out := map[string]any{"logs": items, "next_cursor": nil}
	if len(logs) == f.Limit {
		last := logs[len(logs)-1]
		out["next_cursor"] = base64.RawURLEncoding.EncodeToString([]byte(last.At.Format(time.RFC3339Nano) + "|" + last.ID))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func parseLogCursor(c string) (*patchbay.ExecutionLogCursor, error) {
	bad := errorf(patchbay.EINVALID, "cursor is not a cursor this server issued; pass next_cursor from the previous page.")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, bad
	}
	at, id, ok := strings.Cut(string(b), "|")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil || id == "" {
		return nil, bad
	}
	return &patchbay.ExecutionLogCursor{At: t, ID: id}, nil
}

// getLog: GET /logs/tool_execution/{id}, with the redacted payloads.
func (s *Server) getLog(w http.ResponseWriter, r *http.Request) error {
	e, err := s.svc.ExecutionLog(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	data := map[string]any{}
	for k, raw := range map[string]json.RawMessage{"request": e.Request, "response": e.Response} {
		if raw != nil {
			data[k] = raw
		}
	}
	start := e.At.UnixMilli()
	writeJSON(w, http.StatusOK, v3LogDetail{v3Log: toV3Log(e), Context: map[string]any{}, Source: map[string]any{}, Data: data,
		Timings: map[string]int64{"startTime": start, "endTime": start + e.Duration.Milliseconds()}})
	return nil
}
