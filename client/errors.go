package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Sentinels for the usual failure classes; test with errors.Is:
//
//	if errors.Is(err, client.ErrNotFound) { … }
//
// An *Error matches the sentinel of its status code. ErrInvalid matches 400
// and 422.
var (
	ErrInvalid      error = statusClass(http.StatusBadRequest)
	ErrUnauthorized error = statusClass(http.StatusUnauthorized)
	ErrForbidden    error = statusClass(http.StatusForbidden)
	ErrNotFound     error = statusClass(http.StatusNotFound)
	ErrConflict     error = statusClass(http.StatusConflict)
)

// Errors the client raises itself, without or after asking the server.
var (
	// ErrMultipleConnections: the user already has an ACTIVE account on the
	// auth config and InitiateConnection was not told to allow another.
	// The error is a *MultipleConnectionsError.
	ErrMultipleConnections = errors.New("patchbay: the user already has an active connected account on this auth config")
	// ErrConnectionFailed: a connection being waited for ended FAILED,
	// EXPIRED or REVOKED. The error is a *ConnectionFailedError.
	ErrConnectionFailed = errors.New("patchbay: connection failed")
	// ErrNoAuthScheme: the toolkit has no auth scheme of the requested
	// name, so there are no fields to show.
	ErrNoAuthScheme = errors.New("patchbay: no such auth scheme")
)

// statusClass is the type of the status sentinels.
type statusClass int

func (s statusClass) Error() string {
	return "patchbay: " + strings.ToLower(http.StatusText(int(s)))
}

// Error is an error answer from the server. Message is the server's
// explanation; it never contains the client's API keys.
type Error struct {
	StatusCode int    // the HTTP status
	Message    string // the server's message
	Code       int    // the numeric error code of the v3 envelope (0 if none)
	Slug       string // the error class, e.g. "not_found" or "invalid"
	RequestID  string // the server's request ID, for its logs
}

func (e *Error) Error() string {
	class := e.Slug
	if class == "" {
		class = strings.ToLower(http.StatusText(e.StatusCode))
	}
	s := fmt.Sprintf("patchbay: %d %s: %s", e.StatusCode, class, e.Message)
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	return s
}

// Is reports whether target is the sentinel of e's status class.
func (e *Error) Is(target error) bool {
	s, ok := target.(statusClass)
	if !ok {
		return false
	}
	if s == http.StatusBadRequest && e.StatusCode == http.StatusUnprocessableEntity {
		return true
	}
	return e.StatusCode == int(s)
}

// parseError reads either error envelope: the v3 one
// {"error":{"message","code","slug","status","request_id"}} or the legacy
// one {"message","name","type","status","requestId"}. Anything else (a
// proxy's HTML page, plain text) becomes the message, shortened.
func parseError(resp *http.Response, body []byte) *Error {
	e := &Error{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	var env struct {
		Error     json.RawMessage `json:"error"`
		Message   *string         `json:"message"`
		Type      string          `json:"type"`
		RequestID string          `json:"requestId"`
		ReqID     string          `json:"request_id"`
	}
	if json.Unmarshal(body, &env) == nil {
		var v3e struct {
			Message   string `json:"message"`
			Code      int    `json:"code"`
			Slug      string `json:"slug"`
			RequestID string `json:"request_id"`
		}
		if len(env.Error) > 0 && env.Error[0] == '{' && json.Unmarshal(env.Error, &v3e) == nil {
			e.Message, e.Code, e.Slug = v3e.Message, v3e.Code, v3e.Slug
			e.RequestID = firstNonEmpty(v3e.RequestID, e.RequestID)
			return e.withDefaultMessage()
		}
		if env.Message != nil {
			e.Message, e.Slug = *env.Message, env.Type
			e.RequestID = firstNonEmpty(env.RequestID, env.ReqID, e.RequestID)
			return e.withDefaultMessage()
		}
	}
	e.Message = shorten(strings.TrimSpace(string(body)), 200)
	return e.withDefaultMessage()
}

func (e *Error) withDefaultMessage() *Error {
	if e.Message == "" {
		e.Message = http.StatusText(e.StatusCode)
	}
	return e
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// MultipleConnectionsError is returned by InitiateConnection when the user
// already has an ACTIVE account on the auth config. It matches
// ErrMultipleConnections, and also ErrConflict when the server refused.
type MultipleConnectionsError struct {
	UserID       string
	AuthConfigID string
	// ConnectedAccountID is an existing ACTIVE account ("" when the server
	// refused the connection and did not say which).
	ConnectedAccountID string
	// Err is the server's 409, when it was the server that refused.
	Err error
}

func (e *MultipleConnectionsError) Error() string {
	s := fmt.Sprintf("patchbay: user %q already has an ACTIVE connected account", e.UserID)
	if e.ConnectedAccountID != "" {
		s += " (" + e.ConnectedAccountID + ")"
	}
	return s + " on auth config " + e.AuthConfigID + "; set AllowMultiple to add another"
}

func (e *MultipleConnectionsError) Is(target error) bool { return target == ErrMultipleConnections }
func (e *MultipleConnectionsError) Unwrap() error        { return e.Err }

// ConnectionFailedError is returned by WaitForConnection when the account
// ends in FAILED, EXPIRED or REVOKED. It matches ErrConnectionFailed.
type ConnectionFailedError struct {
	ID           string // the connected account
	Status       string // FAILED, EXPIRED or REVOKED
	StatusReason string // the server's reason, "" if none
}

func (e *ConnectionFailedError) Error() string {
	s := fmt.Sprintf("patchbay: connected account %s is %s", e.ID, e.Status)
	if e.StatusReason != "" {
		s += ": " + e.StatusReason
	}
	return s
}

func (e *ConnectionFailedError) Is(target error) bool { return target == ErrConnectionFailed }
