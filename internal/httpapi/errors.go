package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// statuses maps domain codes to HTTP statuses: the only such map. The
// legacy SDK turns any status outside {400,401,404,408,429,500,502} into a
// TypeError, so authentication failures are always 401, never 403.
var statuses = map[string]int{
	patchbay.EINVALID:      http.StatusBadRequest,
	patchbay.EUNAUTHORIZED: http.StatusUnauthorized,
	patchbay.EFORBIDDEN:    http.StatusForbidden,
	patchbay.ENOTFOUND:     http.StatusNotFound,
	patchbay.ECONFLICT:     http.StatusConflict,
	patchbay.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	patchbay.ERATELIMIT:    http.StatusTooManyRequests,
	patchbay.EUNAVAILABLE:  http.StatusServiceUnavailable,
	patchbay.EINTERNAL:     http.StatusInternalServerError,
}

// errMethod marks a request whose path exists for other methods only.
var errMethod = errors.New("method not allowed")

func statusOf(err error) int {
	if errors.Is(err, errMethod) {
		return http.StatusMethodNotAllowed
	}
	if s, ok := statuses[patchbay.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// surface is an API generation; each has its own error envelope.
type surface int

const (
	surfacePlain  surface = iota // health endpoints and unknown paths
	surfaceLegacy                // /api/v1, /api/v2: {"message", "name", "status", "requestId"}
	surfaceV3                    // /api/v3, /api/v3.1: {"error": {"message", "code", "status", "request_id"}}
)

func surfaceOf(path string) surface {
	switch {
	case hasPathPrefix(path, "/api/v1"), hasPathPrefix(path, "/api/v2"):
		return surfaceLegacy
	case hasPathPrefix(path, "/api/v3"), hasPathPrefix(path, "/api/v3.1"):
		return surfaceV3
	}
	return surfacePlain
}

func hasPathPrefix(path, prefix string) bool {
	return len(path) >= len(prefix) && path[:len(prefix)] == prefix && (len(path) == len(prefix) || path[len(prefix)] == '/')
}

// legacyNames are the error names composio-core reads into its messages.
var legacyNames = map[int]string{
	400: "BadRequestError", 401: "UnauthorizedError", 403: "ForbiddenError", 404: "NotFoundError",
	405: "MethodNotAllowedError", 409: "ConflictError", 413: "PayloadTooLargeError", 429: "RateLimitError", 500: "InternalServerError", 503: "ServiceUnavailableError",
}

type legacyError struct {
	Message   string `json:"message"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	Status    int    `json:"status"`
	RequestID string `json:"requestId"`
	// Details is set on 400 only: composio-core builds a 400's description
	// from it alone ("Validation Errors: " + JSON(details)), never from
	// message, so without it the caller would not learn what was wrong.
	Details []string `json:"details,omitempty"`
}

type v3Error struct {
	Error v3ErrorBody `json:"error"`
}

type v3ErrorBody struct {
	Message      string `json:"message"`
	Code         int    `json:"code"`
	Slug         string `json:"slug"`
	Status       int    `json:"status"`
	RequestID    string `json:"request_id"`
	SuggestedFix string `json:"suggested_fix"`
	Errors       []any  `json:"errors"`
}

// writeError writes err in the envelope of the request's surface. Internal
// errors are logged with their cause; the client sees a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	msg := patchbay.ErrorMessage(err)
	rid := requestID(r.Context())
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "request_id", rid, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var body any
	switch surfaceOf(r.URL.Path) {
	case surfaceLegacy:
		le := legacyError{Message: msg, Name: legacyNames[status], Type: patchbay.ErrorCode(err), Status: status, RequestID: rid}
		var named *legacyNamedError
		if errors.As(err, &named) {
			le.Name = named.name
		}
		if status == http.StatusBadRequest {
			le.Details = []string{msg}
		}
		body = le
	case surfaceV3:
		body = v3Error{Error: v3ErrorBody{Message: msg, Code: status, Slug: patchbay.ErrorCode(err), Status: status, RequestID: rid, Errors: []any{}}}
	default:
		body = map[string]any{"message": msg, "status": status, "request_id": rid}
	}
	if status == http.StatusUnauthorized || status == http.StatusConflict {
		// No retry helps a bad credential or a conflict with the current
		// state; @composio/core retries 409s unless told not to
		// (composio-v3.md §1.1, §6.8).
		w.Header().Set("x-should-retry", "false")
	}
	writeJSON(w, status, body)
}

var (
	jsonContentType = []string{"application/json; charset=utf-8"}
	bufPool         = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 { // don't pool the odd huge listing
			buf.Reset()
			bufPool.Put(buf)
		}
	}()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		// Only our own wire types are marshalled; this is a bug.
		slog.Error("marshal response", "err", err)
		buf.Reset()
		buf.WriteString(`{"message":"Internal error."}` + "\n")
		status = http.StatusInternalServerError
	}
	// The canonical key is set directly: this runs for every response.
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// legacyNamedError gives a legacy error body a specific name, where the
// legacy API's types name one (e.g. ApiKeyNotFoundError).
type legacyNamedError struct {
	error
	name string
}

func (e *legacyNamedError) Unwrap() error { return e.error }

// legacyName names err for the legacy envelope when its code is code.
func legacyName(err error, code, name string) error {
	if err != nil && patchbay.ErrorCode(err) == code {
		return &legacyNamedError{error: err, name: name}
	}
	return err
}

// errorf is shorthand for a client error with a formatted message.
func errorf(code, format string, args ...any) error { return patchbay.Errorf(code, format, args...) }

func isMaxBytes(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}
