// Package httpserver is the HTTP plumbing every patchbay surface shares:
// request IDs, body limits, panic recovery, access logs, metrics, the one
// table from domain error codes to statuses, API-key authentication and
// rate limits. A surface (the Composio wire, and later the dashboard, MCP,
// OAuth callbacks) brings its own route table and error envelope as a
// Surface and is mounted on a Server under its path prefixes.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// HandlerFunc is a handler that returns its failure; the Surface writes it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Config wires a Server.
type Config struct {
	Log *slog.Logger
	Now func() time.Time // default time.Now
	// MaxBody caps request bodies (default 1 MiB).
	MaxBody int64
	// AccessLog logs one line per request.
	AccessLog bool
	// Metrics records every request; nil records nothing.
	Metrics *Metrics
	// Fallback answers paths no mounted surface claims.
	Fallback *Surface
}

// Server routes requests to the surfaces mounted on it, inside the shared
// layers (request ID, body limit, recovery, access log, metrics).
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	handler http.Handler
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	if cfg.Fallback != nil {
		s.mux.Handle("/", cfg.Fallback)
	}
	s.handler = s.outer(s.mux)
	return s
}

// Mount serves sf for every path under each prefix ("/api/v1/", …) and
// for the exact paths given without a trailing slash.
func (s *Server) Mount(sf *Surface, prefixes ...string) {
	for _, p := range prefixes {
		s.mux.Handle(p, sf)
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// outer wraps every request: request ID, body limit, panic recovery, the
// access log and metrics. The access log records method, path (never the
// query, which may carry secrets), status, size and duration; never headers
// or bodies.
func (s *Server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.cfg.Now()
		rid := r.Header.Get("X-Request-Id")
		if !validRequestID(rid) {
			rid = newRequestID()
		}
		w.Header()["X-Request-Id"] = []string{rid}
		st := &requestState{id: rid}
		r = r.WithContext(context.WithValue(r.Context(), ctxRequest, st))
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.cfg.Log.ErrorContext(r.Context(), "panic serving request", "request_id", rid, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if rec.status == 0 {
					sf := st.surface
					if sf == nil {
						sf = s.cfg.Fallback
					}
					if sf != nil {
						sf.Fail(rec, r, &patchbay.Error{Code: patchbay.EINTERNAL, Message: "panic"})
					} else {
						http.Error(rec, "Internal error.", http.StatusInternalServerError)
					}
				}
			}
			d := s.cfg.Now().Sub(start)
			if s.cfg.Metrics != nil {
				s.cfg.Metrics.observe(r.Pattern, rec.status, d)
			}
			if s.cfg.AccessLog {
				s.cfg.Log.InfoContext(r.Context(), "request", "request_id", rid, "method", r.Method, "path", patchbay.RedactLinkTokens(r.URL.Path),
					"status", rec.status, "bytes", rec.bytes, "duration", d, "remote", ClientIP(r))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// Envelope writes a failure in a surface's own format.
type Envelope func(w http.ResponseWriter, r *http.Request, f *Failure)

// Failure is what a client is told about a failed request.
type Failure struct {
	Status    int
	Code      string // the domain code, e.g. patchbay.ENOTFOUND
	Message   string // safe for the client; internal causes are logged
	RequestID string
	Err       error // the whole error, for envelopes that look deeper
}

// Surface is one route table with its error envelope.
type Surface struct {
	mux *http.ServeMux
	env Envelope
	log *slog.Logger
}

// NewSurface returns an empty Surface whose failures env writes. Paths it
// has no route for answer 405 (with Allow) or 404 in its envelope.
func NewSurface(log *slog.Logger, env Envelope) *Surface {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sf := &Surface{mux: http.NewServeMux(), env: env, log: log}
	sf.mux.Handle("/", sf.adapt(sf.noRoute))
	return sf
}

// Handle registers h for a Go 1.22 pattern ("GET /api/v1/apps/{name}").
func (sf *Surface) Handle(pattern string, h HandlerFunc) { sf.mux.Handle(pattern, sf.adapt(h)) }

func (sf *Surface) adapt(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			sf.Fail(w, r, err)
		}
	})
}

func (sf *Surface) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	state(r.Context()).surface = sf
	// No patchbay identifier, name or filter holds a NUL, and PostgreSQL
	// text cannot store one: refuse it here rather than fail in a query.
	if strings.IndexByte(r.URL.Path, 0) >= 0 || strings.Contains(r.URL.RawQuery, "%00") {
		sf.Fail(w, r, patchbay.Errorf(patchbay.EINVALID, "The request's path or query contains a NUL character (%%00), which no patchbay value may hold."))
		return
	}
	sf.mux.ServeHTTP(w, r)
}

// Fail writes err in the surface's envelope. A 5xx is logged with its cause;
// the client sees only the domain message.
func (sf *Surface) Fail(w http.ResponseWriter, r *http.Request, err error) {
	// A body over MaxBody is the client's fault whichever handler read it.
	var mb *http.MaxBytesError
	if errors.As(err, &mb) && patchbay.ErrorCode(err) == patchbay.EINTERNAL {
		err = &patchbay.Error{Code: patchbay.ETOOLARGE, Message: fmt.Sprintf("Request body is too large (the limit is %d bytes).", mb.Limit), Err: err}
	}
	f := &Failure{Status: StatusOf(err), Code: patchbay.ErrorCode(err), Message: patchbay.ErrorMessage(err), RequestID: RequestID(r.Context()), Err: err}
	if f.Status >= 500 {
		sf.log.ErrorContext(r.Context(), "request failed", "request_id", f.RequestID, "method", r.Method, "path", patchbay.RedactLinkTokens(r.URL.Path), "err", err)
	}
	if f.Status == http.StatusUnauthorized || f.Status == http.StatusConflict {
		// No retry helps a bad credential or a conflict with the current
		// state; @composio/core retries 409s unless told not to.
		w.Header().Set("x-should-retry", "false")
	}
	sf.env(w, r, f)
}

var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

// noRoute answers a request no route matched: 405 with Allow when the path
// exists for other methods, else 404.
func (sf *Surface) noRoute(w http.ResponseWriter, r *http.Request) error {
	var allow []string
	for _, m := range methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := sf.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	// The path is echoed to help the caller, never a key pasted into it.
	path := patchbay.RedactKeys(patchbay.Truncate(r.URL.Path, 200))
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return &patchbay.Error{Code: patchbay.EINVALID, Message: "Method " + r.Method + " is not allowed on " + path + ".", Err: ErrMethod}
	}
	return patchbay.Errorf(patchbay.ENOTFOUND, "No route for %s %s.", r.Method, path)
}
