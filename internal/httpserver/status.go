package httpserver

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
	patchbay.ENOACCOUNT:    http.StatusBadRequest, // Composio's 1803
}

// ErrMethod marks a request whose path exists for other methods only.
var ErrMethod = errors.New("method not allowed")

// StatusOf is the HTTP status for err's domain code (500 for an error
// without one).
func StatusOf(err error) int {
	if errors.Is(err, ErrMethod) {
		return http.StatusMethodNotAllowed
	}
	if s, ok := statuses[patchbay.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

var (
	jsonContentType = []string{"application/json; charset=utf-8"}
	bufPool         = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// WriteJSON writes v as a JSON response with status, encoded into a pooled
// buffer so a failure to encode never leaves half a body.
func WriteJSON(w http.ResponseWriter, status int, v any) {
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
	WriteJSONBytes(w, status, buf.Bytes())
}

// WriteJSONBytes writes body, already encoded JSON, with status.
func WriteJSONBytes(w http.ResponseWriter, status int, body []byte) {
	// The canonical key is set directly: this runs for every response.
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	w.Write(body)
}

// PlainEnvelope is the envelope of paths outside any API generation
// (health, metrics, unknown paths): {"message", "status", "request_id"}.
func PlainEnvelope(w http.ResponseWriter, r *http.Request, f *Failure) {
	WriteJSON(w, f.Status, map[string]any{"message": f.Message, "status": f.Status, "request_id": f.RequestID})
}
