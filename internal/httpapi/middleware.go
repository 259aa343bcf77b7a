package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

type ctxKey int

// ctxRequest carries a *requestState: set once per request by outer and
// filled in by later layers, so the request is copied (WithContext) once.
const ctxRequest ctxKey = 0

// requestState is what the layers learn about a request.
type requestState struct {
	id        string
	principal *patchbay.Principal // set by requireKey
}

func state(ctx context.Context) *requestState {
	st, _ := ctx.Value(ctxRequest).(*requestState)
	if st == nil {
		return &requestState{}
	}
	return st
}

func requestID(ctx context.Context) string { return state(ctx).id }

// principal returns the authenticated principal of a request that went
// through requireKey.
func principal(r *http.Request) *patchbay.Principal { return state(r.Context()).principal }

// validRequestID accepts a client's request ID if it is short printable
// ASCII, so it can be echoed and logged safely.
func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// newRequestID returns a random UUID (version 4).
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // UUID version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:16])
	return string(out[:])
}

// statusRecorder remembers the status a handler wrote, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// outer wraps every request: request ID, body limit, panic recovery and the
// access log. The access log records method, path (never the query, which
// may carry secrets), status, size and duration; never headers or bodies.
func (s *Server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		rid := r.Header.Get("X-Request-Id")
		if !validRequestID(rid) {
			rid = newRequestID()
		}
		w.Header()["X-Request-Id"] = []string{rid}
		r = r.WithContext(context.WithValue(r.Context(), ctxRequest, &requestState{id: rid}))
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic serving request", "request_id", rid, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if rec.status == 0 {
					s.writeError(rec, r, &patchbay.Error{Code: patchbay.EINTERNAL, Message: "panic"})
				}
			}
			if s.accessLog {
				s.log.InfoContext(r.Context(), "request", "request_id", rid, "method", r.Method, "path", r.URL.Path,
					"status", rec.status, "bytes", rec.bytes, "duration", time.Since(start), "remote", clientIP(r))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// clientIP is the peer address of the connection. X-Forwarded-For is not
// trusted: patchbay does not know which proxies are yours.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// handlerFunc is a handler that returns its failure.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// serve adapts a handlerFunc: a returned error is written in the request's
// surface envelope.
func (s *Server) serve(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// keyNeed says which kind of API key a route accepts.
type keyNeed int

const (
	needProject keyNeed = iota // x-api-key with a project key (ak_)
	needOrg                    // x-org-api-key (or x-api-key) with an organization key (oak_)
	needAny                    // either
)

var errMultipleAuth = errorf(patchbay.EUNAUTHORIZED, "Multiple authentication modes were provided: send either x-api-key or x-org-api-key, not both.")

// requireKey authenticates the request before h runs.
func (s *Server) requireKey(need keyNeed, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		projectKey, orgKey := r.Header.Get("X-Api-Key"), r.Header.Get("X-Org-Api-Key")
		if projectKey != "" && orgKey != "" {
			return errMultipleAuth
		}
		raw := projectKey + orgKey
		if raw == "" {
			if need == needOrg {
				return errorf(patchbay.EUNAUTHORIZED, "Missing API key: send an organization API key in the x-org-api-key header.")
			}
			return errorf(patchbay.EUNAUTHORIZED, "Missing API key: send it in the x-api-key header.")
		}
		p, err := s.auth.Authenticate(r.Context(), raw)
		if err != nil {
			return err
		}
		switch {
		case need == needProject && p.Key.Kind != patchbay.KeyKindProject:
			return errorf(patchbay.EUNAUTHORIZED, "This endpoint needs a project API key (ak_…) in x-api-key; an organization key was sent.")
		case need == needOrg && p.Key.Kind != patchbay.KeyKindOrg:
			return errorf(patchbay.EUNAUTHORIZED, "This endpoint needs an organization API key (oak_…) in x-org-api-key; a project key was sent.")
		}
		state(r.Context()).principal = p
		return h(w, r)
	}
}

// actor is the domain actor of an authenticated request.
func actor(r *http.Request) patchbay.Actor {
	return patchbay.ActorFrom(principal(r), clientIP(r))
}
