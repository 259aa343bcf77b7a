package patchbay

import (
	"errors"
	"fmt"
)

// Error codes. Each surface maps a code to a status in exactly one place.
const (
	EINVALID      = "invalid"                     // the request is malformed or names something impossible
	EUNAUTHORIZED = "unauthorized"                // no, or no valid, credential
	EFORBIDDEN    = "forbidden"                   // a valid credential whose role may not do this
	ENOTFOUND     = "not_found"                   // no such thing in the caller's scope
	ECONFLICT     = "conflict"                    // the thing exists already, or its state forbids the change
	ETOOLARGE     = "too_large"                   // the request body is over the limit
	ERATELIMIT    = "rate_limited"                // too many requests
	EUNAVAILABLE  = "unavailable"                 // a dependency is down; retrying may help
	EINTERNAL     = "internal"                    // a bug; the message never reaches a client
	ENOACCOUNT    = "connected_account_not_found" // a call needs a connected account and none matches
)

// Error is a domain error: a code and a message that is safe to show a client.
// Err, when set, is the underlying cause; it is logged, never shown.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted client message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err. Errors without a
// domain code yield a generic message, so internal text never leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "Internal error."
}
