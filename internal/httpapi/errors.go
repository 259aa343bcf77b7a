package httpapi

import (
	"errors"
	"net/http"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

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

// legacyEnvelope writes a failure as the legacy API does:
// {"message", "name", "type", "status", "requestId"}, plus details on a 400.
func legacyEnvelope(w http.ResponseWriter, r *http.Request, f *httpserver.Failure) {
	le := legacyError{Message: f.Message, Name: legacyNames[f.Status], Type: f.Code, Status: f.Status, RequestID: f.RequestID}
	var named *legacyNamedError
	if errors.As(f.Err, &named) {
		le.Name = named.name
	}
	if f.Status == http.StatusBadRequest {
		le.Details = []string{f.Message}
	}
	writeJSON(w, f.Status, le)
}

// v3Envelope writes a failure as the v3.1 API does: {"error": {…}}.
// A missing connected account carries Composio's code 1803, the only
// code @composio/core reads (ComposioConnectedAccountNotFoundError).
func v3Envelope(w http.ResponseWriter, r *http.Request, f *httpserver.Failure) {
	code := f.Status
	if f.Code == patchbay.ENOACCOUNT {
		code = 1803
	}
	writeJSON(w, f.Status, v3Error{Error: v3ErrorBody{Message: f.Message, Code: code, Slug: f.Code, Status: f.Status, RequestID: f.RequestID, Errors: []any{}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) { httpserver.WriteJSON(w, status, v) }

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
