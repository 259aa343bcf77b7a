package dashboard

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func init() {
	sections = append(sections, func(s *Server, sf *httpserver.Surface) {
		sf.Handle("GET /projects/{pid}/logs", s.inProject(s.logsPage))
	})
}

// logsPerPage is how many logs the table lists at once.
const logsPerPage = 50

// Chart bounds: 24 hourly buckets ending now, counted from at most
// chartMaxPages pages of the Service's largest page.
const (
	chartBuckets  = 24
	chartBucket   = time.Hour
	chartPageSize = 1000
	chartMaxPages = 10
)

// logRow is one execution log as the table shows it.
type logRow struct {
	ID, At, Tool, Toolkit, UserID, Account string
	Proxy, Failed                          bool
	Upstream, Duration, Message            string
}

// logFilters are the page's filters, as the form shows them.
type logFilters struct {
	UserID, Toolkit, Tool, Status string
}

func (f logFilters) any() bool {
	return f.UserID != "" || f.Toolkit != "" || f.Tool != "" || f.Status != ""
}

// query is the filters as a query string, without the cursor.
func (f logFilters) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"user_id": f.UserID, "toolkit": f.Toolkit, "tool": f.Tool, "status": f.Status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

func (f logFilters) apply(ef *patchbay.ExecutionLogFilter) {
	if f.UserID != "" {
		ef.UserIDs = []string{f.UserID}
	}
	if f.Toolkit != "" {
		ef.Toolkits = []string{f.Toolkit}
	}
	if f.Tool != "" {
		ef.Tools = []string{f.Tool}
	}
	ef.Status = f.Status
}

type logsData struct {
	Filters logFilters
	// Filtered says whether any filter is set; Paged whether the table
	// starts after a cursor.
	Filtered, Paged bool
	Logs            []logRow
	// Older is the link to the next, older page ("" on the last).
	Older string
	// Newest is the link back to the first page of the same filters.
	Newest string
	Chart  *logChart
}

// logChart is the executions-over-time chart, drawn by the server as
// SVG, with its numbers as text for screen readers.
type logChart struct {
	Summary          string // "142 executions, 3 failed, in the last 24 hours"
	Total, Failed    int
	AtLeast          bool // more logs than the chart counts
	Buckets          []chartBucketView
	Width, Height    int
	PlotTop, PlotBot int
	PlotLeft         int
	Max              int
	YMid             string
	YMidAt           int
	XLabels          []chartLabel
	LegendY          int
	LegendFailX      int
}

type chartBucketView struct {
	Label               string // "14:37–15:37 UTC"
	Total, Failed, OK   int
	X, W                int
	TotalY, TotalH      string
	FailedY, FailedH    string
	HasTotal, HasFailed bool
}

type chartLabel struct {
	X      int
	Text   string
	Anchor string
}

// parseLogCursor reads the "after" parameter: the At (RFC 3339) and ID of
// the last log of the previous page.
func parseLogCursor(v string) (*patchbay.ExecutionLogCursor, error) {
	at, id, ok := strings.Cut(v, "|")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil || id == "" {
		return nil, patchbay.Errorf(patchbay.EINVALID, "This page of logs is not one the dashboard links to: start again from the newest logs.")
	}
	return &patchbay.ExecutionLogCursor{At: t, ID: id}, nil
}

func logCursor(e *patchbay.ExecutionLog) string {
	return e.At.UTC().Format(time.RFC3339Nano) + "|" + e.ID
}

// logsPage: GET /projects/{pid}/logs?user_id=&toolkit=&tool=&status=&after=
func (s *Server) logsPage(w http.ResponseWriter, r *http.Request, q *req) error {
	qs := r.URL.Query()
	f := logFilters{UserID: strings.TrimSpace(qs.Get("user_id")), Toolkit: strings.TrimSpace(qs.Get("toolkit")),
		Tool: strings.TrimSpace(qs.Get("tool")), Status: strings.TrimSpace(qs.Get("status"))}
	d := logsData{Filters: f, Filtered: f.any()}
	base := "/projects/" + q.p.ProjectID + "/logs"
	d.Newest = base
	if enc := f.query().Encode(); enc != "" {
		d.Newest += "?" + enc
	}
	q.view.Title, q.view.Nav, q.view.Data = "Execution logs", "logs", &d

	ef := patchbay.ExecutionLogFilter{Limit: logsPerPage + 1}
	f.apply(&ef)
	if after := qs.Get("after"); after != "" {
		cur, err := parseLogCursor(after)
		if err != nil {
			q.view.Error = patchbay.ErrorMessage(err)
			return s.render(w, r, http.StatusBadRequest, "logs", q.view)
		}
		ef.After, d.Paged = cur, true
	}
	logs, err := s.svc.ExecutionLogs(r.Context(), q.p, ef)
	if patchbay.ErrorCode(err) == patchbay.EINVALID {
		q.view.Error = patchbay.ErrorMessage(err)
		return s.render(w, r, http.StatusBadRequest, "logs", q.view)
	}
	if err != nil {
		return err
	}
	if len(logs) > logsPerPage {
		logs = logs[:logsPerPage]
		older := f.query()
		older.Set("after", logCursor(logs[len(logs)-1]))
		d.Older = base + "?" + older.Encode()
	}
	d.Logs = make([]logRow, 0, len(logs))
	for _, e := range logs {
		d.Logs = append(d.Logs, toLogRow(e))
	}
	if d.Chart, err = s.logChart(r, q, f); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "logs", q.view)
}

func toLogRow(e *patchbay.ExecutionLog) logRow {
	row := logRow{ID: e.ID, At: e.At.UTC().Format("2006-01-02 15:04:05 UTC"), Tool: e.Tool, Toolkit: e.Toolkit,
		UserID: e.UserID, Account: e.ConnectedAccountID, Failed: e.Status == patchbay.LogFailed,
		Duration: logDuration(e.Duration), Message: patchbay.Truncate(e.Message, 300), Upstream: "none"}
	if e.Kind == patchbay.LogKindProxy || e.Tool == "" {
		row.Proxy, row.Tool = true, "proxy"
	}
	if e.UpstreamStatus != 0 {
		row.Upstream = strconv.Itoa(e.UpstreamStatus)
	}
	return row
}

// logDuration shows a call's duration: milliseconds under 10 s, else seconds.
func logDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "<1 ms"
	case d < 10*time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}

// logChart counts the filtered logs of the last 24 hours per hour.
func (s *Server) logChart(r *http.Request, q *req, f logFilters) (*logChart, error) {
	now := s.now().UTC()
	from := now.Add(-chartBuckets * chartBucket)
	totals, failed := make([]int, chartBuckets), make([]int, chartBuckets)
	ef := patchbay.ExecutionLogFilter{From: from, To: now, Limit: chartPageSize}
	f.apply(&ef)
	c := &logChart{}
	for page := 0; ; page++ {
		if page == chartMaxPages {
			c.AtLeast = true
			break
		}
		logs, err := s.svc.ExecutionLogs(r.Context(), q.p, ef)
		if err != nil {
			return nil, err
		}
		for _, e := range logs {
			i := int(e.At.Sub(from) / chartBucket)
			if i < 0 || i >= chartBuckets {
				continue
			}
			totals[i]++
			if e.Status == patchbay.LogFailed {
				failed[i]++
			}
		}
		if len(logs) < chartPageSize {
			break
		}
		last := logs[len(logs)-1]
		ef.After = &patchbay.ExecutionLogCursor{At: last.At, ID: last.ID}
	}
	drawChart(c, from, totals, failed)
	return c, nil
}

// Chart geometry, in SVG user units.
const (
	chartW      = 720
	chartH      = 200
	chartLeft   = 40
	chartRight  = 8
	chartTop    = 28
	chartBottom = 168
)

func drawChart(c *logChart, from time.Time, totals, failed []int) {
	c.Width, c.Height, c.PlotTop, c.PlotBot, c.PlotLeft, c.LegendY = chartW, chartH, chartTop, chartBottom, chartLeft, 14
	c.LegendFailX = chartLeft + 110
	for i := range totals {
		c.Total += totals[i]
		c.Failed += failed[i]
		c.Max = max(c.Max, totals[i])
	}
	scale := max(c.Max, 1)
	if c.Max >= 2 {
		c.YMid = strconv.Itoa(c.Max / 2)
		c.YMidAt = chartBottom - (chartBottom-chartTop)*(c.Max/2)/c.Max
	}
	slot := (chartW - chartLeft - chartRight) / len(totals)
	plotH := float64(chartBottom - chartTop)
	for i := range totals {
		start := from.Add(time.Duration(i) * chartBucket)
		b := chartBucketView{
			Label: start.Format("Jan 2 15:04") + "–" + start.Add(chartBucket).Format("15:04") + " UTC",
			Total: totals[i], Failed: failed[i], OK: totals[i] - failed[i],
			X: chartLeft + i*slot + 2, W: slot - 4,
			HasTotal: totals[i] > 0, HasFailed: failed[i] > 0,
		}
		th := plotH * float64(totals[i]) / float64(scale)
		fh := plotH * float64(failed[i]) / float64(scale)
		b.TotalY, b.TotalH = chartCoord(float64(chartBottom)-th), chartCoord(th)
		b.FailedY, b.FailedH = chartCoord(float64(chartBottom)-fh), chartCoord(fh)
		c.Buckets = append(c.Buckets, b)
	}
	c.XLabels = []chartLabel{
		{X: chartLeft, Text: "24 h ago", Anchor: "start"},
		{X: chartLeft + slot*len(totals)/2, Text: "12 h ago", Anchor: "middle"},
		{X: chartLeft + slot*len(totals), Text: "now", Anchor: "end"},
	}
	n := strconv.Itoa(c.Total)
	if c.AtLeast {
		n = "at least " + n
	}
	c.Summary = fmt.Sprintf("%s %s, %d failed, in the last 24 hours", n, logPlural(c.Total, "execution", "executions"), c.Failed)
}

func chartCoord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func logPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
