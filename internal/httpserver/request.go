package httpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

type ctxKey int

// ctxRequest carries a *requestState: set once per request by outer and
// filled in by later layers, so the request is copied (WithContext) once.
const ctxRequest ctxKey = 0

// requestState is what the layers learn about a request.
type requestState struct {
	id      string
	surface *Surface
	// principal is the authenticated principal, copied from the shared
	// cached one with this request's address; valid when authed.
	principal patchbay.Principal
	authed    bool
}

func state(ctx context.Context) *requestState {
	st, _ := ctx.Value(ctxRequest).(*requestState)
	if st == nil {
		return &requestState{}
	}
	return st
}

// RequestID is the request's ID: the client's X-Request-Id when it is
// short printable ASCII, else a random UUID.
func RequestID(ctx context.Context) string { return state(ctx).id }

// Principal returns the principal of a request that went through
// RequireKey, nil otherwise.
func Principal(r *http.Request) *patchbay.Principal {
	st := state(r.Context())
	if !st.authed {
		return nil
	}
	return &st.principal
}

// ClientIP is the peer address of the connection. X-Forwarded-For is not
// trusted: patchbay does not know which proxies are yours.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

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

// statusRecorder remembers the status a handler wrote, for the access log
// and metrics.
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

// PublicOrigin is patchbay's origin as the client reached it (scheme and
// Host, https behind a proxy that says so), for the URLs a surface hands
// out: connect links, the OAuth callback, MCP URLs.
func PublicOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
