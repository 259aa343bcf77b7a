package patchbay

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"
)

// An ExecutionLog records one tool execution or proxied call: what ran,
// for whom, how it ended and how long it took. Payloads are redacted
// (secret-looking keys masked, long strings cut) and never hold the
// connection's credentials, which are added to the upstream request only.
type ExecutionLog struct {
	ID                 string
	ProjectID          string
	Kind               string // LogKindTool or LogKindProxy
	Tool               string // "" for a proxied call
	Toolkit            string
	ConnectedAccountID string
	UserID             string
	Status             string // LogSucceeded or LogFailed
	Message            string // why it failed, or ""
	UpstreamStatus     int    // the app's HTTP status, 0 if it did not answer
	Duration           time.Duration
	// Request and Response are the redacted arguments and data (nil when
	// payloads are not kept).
	Request, Response json.RawMessage
	At                time.Time

	// request and response are the payloads before redaction, which the
	// background writer does, off the request path. Neither is changed
	// after the call.
	request, response any
}

// Execution log kinds and statuses.
const (
	LogKindTool  = "tool.execution"
	LogKindProxy = "tool.proxy"
	LogSucceeded = "success"
	LogFailed    = "failed"
)

// ExecutionLogFilter selects a project's logs, newest first.
type ExecutionLogFilter struct {
	ProjectID          string
	Tools              []string
	Toolkits           []string
	UserIDs            []string
	ConnectedAccountID string
	Status             string // "" for both
	From, To           time.Time
	// After is the last log of the previous page: the page holds older
	// ones.
	After *ExecutionLogCursor
	Limit int
}

// ExecutionLogCursor is a position in a newest-first listing.
type ExecutionLogCursor struct {
	At time.Time
	ID string
}

// LogOptions tune execution logging.
type LogOptions struct {
	// Payloads keeps redacted arguments and data in the logs (default
	// true through the app's settings; false keeps only metadata).
	OmitPayloads bool
	// Retention is how long logs are kept (0: forever).
	Retention time.Duration
	// FlushEvery and Batch bound how long a log waits to be written and
	// how many are written at once (defaults 250 ms, 200).
	FlushEvery time.Duration
	Batch      int
}

// execLogger writes execution logs off the request path: logs queue in
// memory and are written in batches. A full queue makes the caller write
// the batch itself rather than drop a log.
type execLogger struct {
	store Store
	opts  LogOptions
	log   func(msg string, args ...any)

	mu      sync.Mutex
	pending []*ExecutionLog
	// flushing is held for a whole flush, so a reader's flush waits for a
	// batch the background writer has taken but not yet written.
	flushing sync.Mutex
	kick     chan struct{}
	stop     chan struct{}
	done     chan struct{}
}

// maxPending is how many logs may wait before a caller writes them.
const maxPending = 5000

func newExecLogger(st Store, opts LogOptions, warn func(string, ...any)) *execLogger {
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = 250 * time.Millisecond
	}
	if opts.Batch <= 0 {
		opts.Batch = 200
	}
	return &execLogger{store: st, opts: opts, log: warn, kick: make(chan struct{}, 1)}
}

func (l *execLogger) add(e *ExecutionLog) {
	l.mu.Lock()
	l.pending = append(l.pending, e)
	n := len(l.pending)
	l.mu.Unlock()
	switch {
	case n >= maxPending:
		l.flush(context.Background()) // back-pressure, never a lost log
	case n >= l.opts.Batch:
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// flush writes every pending log.
func (l *execLogger) flush(ctx context.Context) {
	l.flushing.Lock()
	defer l.flushing.Unlock()
	for {
		l.mu.Lock()
		n := min(len(l.pending), l.opts.Batch)
		batch := l.pending[:n:n]
		l.pending = l.pending[n:]
		l.mu.Unlock()
		if n == 0 {
			return
		}
		for _, e := range batch {
			if e.request != nil {
				e.Request, e.request = redact(e.request), nil
			}
			if e.response != nil {
				e.Response, e.response = redact(e.response), nil
			}
		}
		if err := l.store.AppendExecutionLogs(ctx, batch); err != nil {
			l.log("writing execution logs", "logs", len(batch), "err", err)
			return
		}
	}
}

func (l *execLogger) start() {
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTicker(l.opts.FlushEvery)
		defer t.Stop()
		prune := time.NewTicker(time.Hour)
		defer prune.Stop()
		for {
			select {
			case <-t.C:
				l.flush(context.Background())
			case <-l.kick:
				l.flush(context.Background())
			case <-prune.C:
				l.prune(context.Background(), time.Now())
			case <-l.stop:
				l.flush(context.Background())
				return
			}
		}
	}()
}

func (l *execLogger) close() {
	if l.stop == nil {
		l.flush(context.Background())
		return
	}
	close(l.stop)
	<-l.done
	l.stop = nil
}

func (l *execLogger) prune(ctx context.Context, now time.Time) {
	if l.opts.Retention <= 0 {
		return
	}
	if _, err := l.store.PruneExecutionLogs(ctx, now.Add(-l.opts.Retention)); err != nil {
		l.log("pruning execution logs", "err", err)
	}
}

// secretFragments are what an argument name holds, in lower case and
// without - or _, when its value is not logged.
var secretFragments = []string{"pass", "secret", "token", "apikey", "authorization", "cookie", "credential", "privatekey", "session"}

// secretKey reports whether an argument name looks like a secret's. (A
// plain scan: a case-insensitive regular expression here was a tenth of a
// proxied call's CPU.)
func secretKey(name string) bool {
	var buf [64]byte
	b := buf[:0]
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	for _, f := range secretFragments {
		if bytes.Contains(b, []byte(f)) {
			return true
		}
	}
	return false
}

// maxLoggedString is the longest string a payload keeps; maxLoggedPayload
// the largest payload.
const (
	maxLoggedString  = 1000
	maxLoggedPayload = 16 << 10
)

// redact returns v as JSON with secret-looking keys masked and long
// strings cut, or a note in place of a payload over the size limit.
func redact(v any) json.RawMessage {
	b, err := json.Marshal(redactValue(v, ""))
	if err != nil {
		return nil
	}
	if len(b) > maxLoggedPayload {
		b, _ = json.Marshal(map[string]any{"_omitted": "payload larger than 16 KiB", "_bytes": len(b)})
	}
	return b
}

func redactValue(v any, key string) any {
	if key != "" && secretKey(key) {
		if v == nil {
			return nil
		}
		return "[redacted]"
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = redactValue(e, k)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e, "")
		}
		return out
	case string:
		if len(x) > maxLoggedString {
			return Truncate(x, maxLoggedString)
		}
	}
	return v
}

// record queues the log of a call; omit keeps its payloads out (the
// project says so).
func (s *Service) record(e *ExecutionLog, omit bool) {
	if s.execLog == nil {
		return
	}
	if omit || s.execLog.opts.OmitPayloads {
		e.Request, e.Response, e.request, e.response = nil, nil, nil, nil
	}
	s.execLog.add(e)
}

// FlushExecutionLogs writes every queued execution log now.
func (s *Service) FlushExecutionLogs(ctx context.Context) {
	if s.execLog != nil {
		s.execLog.flush(ctx)
	}
}

// ExecutionLogs lists the principal's project's execution logs matching f
// (its ProjectID is ignored), newest first, queued ones included.
func (s *Service) ExecutionLogs(ctx context.Context, p *Principal, f ExecutionLogFilter) ([]*ExecutionLog, error) {
	projectID, err := s.can(ctx, p, ViewConnections, "")
	if err != nil {
		return nil, err
	}
	switch f.Status {
	case "", LogSucceeded, LogFailed:
	default:
		return nil, Errorf(EINVALID, "status must be %q or %q; got %q.", LogSucceeded, LogFailed, Truncate(f.Status, 20))
	}
	s.FlushExecutionLogs(ctx)
	f.ProjectID = projectID
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	return s.store.ListExecutionLogs(ctx, f)
}

// ExecutionLog returns one of the principal's project's logs. ENOTFOUND if
// it has none with that id.
func (s *Service) ExecutionLog(ctx context.Context, p *Principal, id string) (*ExecutionLog, error) {
	projectID, err := s.can(ctx, p, ViewConnections, "")
	if err != nil {
		return nil, err
	}
	s.FlushExecutionLogs(ctx)
	return s.store.GetExecutionLog(ctx, projectID, strings.TrimSpace(id))
}

// SetLogPayloads says whether the principal's project keeps tools'
// redacted arguments and results in its execution logs. Owners and admins
// may; the change is audited and holds for the next call.
func (s *Service) SetLogPayloads(ctx context.Context, p *Principal, projectID string, keep bool) error {
	id, err := s.can(ctx, p, ManageProjects, projectID)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Store) error {
		if err := tx.SetProjectLogPayloads(ctx, p.OrgID, id, !keep, s.now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionProjectLogPayloads, id, id)
	})
}

// omitPayloads reports whether a project keeps payloads out of its logs,
// read under the organization's read version (one primary-key lookup when
// nothing changed).
func (s *Service) omitPayloads(ctx context.Context, orgID, projectID string, version int64) bool {
	if omit, ok := s.payloads.get(projectID, version); ok {
		return omit
	}
	proj, err := s.store.GetProject(ctx, orgID, projectID)
	if err != nil {
		return true // unknown: keep nothing rather than too much
	}
	s.payloads.put(projectID, version, proj.OmitLogPayloads)
	return proj.OmitLogPayloads
}
