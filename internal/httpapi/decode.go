package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// decodeJSON reads the request body into v. Unknown fields are ignored (the
// official SDKs send some); malformed JSON, wrong types, trailing data and
// bodies over the limit are client errors that say what is wrong. An empty
// body decodes as {} when optional is set.
func decodeJSON(r *http.Request, v any, optional bool) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if isMaxBytes(err) {
			return errorf(patchbay.ETOOLARGE, "Request body is too large (the limit is %d bytes).", maxBytesLimit(err))
		}
		return errorf(patchbay.EINVALID, "Could not read the request body.")
	}
	return decodeBytes(body, v, optional)
}

func maxBytesLimit(err error) int64 {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return mb.Limit
	}
	return 0
}

func decodeBytes(body []byte, v any, optional bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return errorf(patchbay.EINVALID, "Request body is required: send a JSON object.")
	}
	if hasNULEscape(body) {
		return errorf(patchbay.EINVALID, "Invalid JSON: strings may not contain the NUL character (\\u0000).")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err, v)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(patchbay.EINVALID, "Invalid JSON: unexpected data after the JSON object.")
	}
	return nil
}

// hasNULEscape reports whether a JSON text carries U+0000 in a string. JSON
// can carry it only as the escape \u0000 (a raw control character is a
// syntax error), so this looks for that escape not itself escaped, i.e.
// preceded by an even number of backslashes. No patchbay value may hold a
// NUL, and PostgreSQL text cannot store one.
func hasNULEscape(body []byte) bool {
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(`\u0000`))
		if j < 0 {
			return false
		}
		at := i + j
		n := 0
		for k := at - 1; k >= 0 && body[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return true
		}
		i = at + 1
	}
}

// jsonError turns encoding/json errors into messages that name the problem
// without echoing the body (it may hold secrets). v is the decoding target.
func jsonError(err error, v any) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return errorf(patchbay.EINVALID, "Invalid JSON at byte %d: %s.", syn.Offset, strings.TrimPrefix(syn.Error(), "invalid character "))
	case errors.As(err, &typ):
		field := wirePath(typ.Field, v)
		if strings.HasPrefix(typ.Value, "number ") {
			// encoding/json appends the literal ("number 1e400"); it is the
			// caller's data, maybe a credential, so it is not echoed.
			if field == "" {
				return errorf(patchbay.EINVALID, "Invalid JSON: a number is out of range.")
			}
			return errorf(patchbay.EINVALID, "Field %q must be %s within range.", field, jsonTypeName(typ.Type.Kind().String()))
		}
		if field == "" {
			return errorf(patchbay.EINVALID, "Invalid JSON: the body must be a JSON object, not %s.", typ.Value)
		}
		return errorf(patchbay.EINVALID, "Field %q must be %s, not %s.", field, jsonTypeName(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(patchbay.EINVALID, "Invalid JSON: the body ends early.")
	}
	return errorf(patchbay.EINVALID, "Invalid JSON: %s.", err.Error())
}

// wirePath removes from an error's field path the Go names encoding/json
// puts there for embedded structs (legacyInitiateRequest embeds
// legacyIntegrationRequest): the client sent, and knows, only JSON names.
func wirePath(path string, v any) string {
	if path == "" {
		return ""
	}
	embedded := map[string]bool{}
	embeddedNames(reflect.TypeOf(v), map[reflect.Type]bool{}, embedded)
	parts := strings.Split(path, ".")
	out := parts[:0]
	for _, p := range parts {
		if !embedded[p] {
			out = append(out, p)
		}
	}
	return strings.Join(out, ".")
}

func embeddedNames(t reflect.Type, seen map[reflect.Type]bool, out map[string]bool) {
	for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct || seen[t] {
		return
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			out[f.Name] = true
		}
		embeddedNames(f.Type, seen, out)
	}
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	}
	return "of type " + kind
}

// queryInt parses an optional integer query parameter within [lo, hi].
func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errorf(patchbay.EINVALID, "Query parameter %s must be an integer from %d to %d; got %q.", name, lo, hi, patchbay.Truncate(s, 40))
	}
	return n, nil
}

// queryPageSize parses an optional page size of at least 1. A size above
// hi is clamped to hi, not refused: the Python SDK always asks for
// pageSize=99999999 to mean "all of them".
func queryPageSize(r *http.Request, name string, def, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil && strings.Trim(s, "0123456789") == "" {
		n, err = hi, nil // all digits, beyond int: as large as it gets
	}
	if err != nil || n < 1 {
		return 0, errorf(patchbay.EINVALID, "Query parameter %s must be a positive integer; got %q.", name, patchbay.Truncate(s, 40))
	}
	return min(n, hi), nil
}

// requireString checks a required string field of a decoded body.
func requireString(field string, v *string) (string, error) {
	if v == nil {
		return "", errorf(patchbay.EINVALID, "Field %q is required.", field)
	}
	return *v, nil
}

// queryBool parses an optional boolean query parameter.
func queryBool(r *http.Request, name string) (*bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, errorf(patchbay.EINVALID, "Query parameter %s must be true or false; got %q.", name, patchbay.Truncate(s, 40))
	}
	return &b, nil
}

// queryList collects a list parameter sent as CSV (a=x,y), repeated
// (a=x&a=y) or in bracket form (a[]=x).
func queryList(r *http.Request, name string) []string {
	q := r.URL.Query()
	var out []string
	for _, key := range []string{name, name + "[]"} {
		for _, v := range q[key] {
			for _, part := range strings.Split(v, ",") {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
		}
	}
	return out
}

// statusList validates connection status filters.
func statusList(vals []string, param string) ([]patchbay.ConnectionStatus, error) {
	out := make([]patchbay.ConnectionStatus, 0, len(vals))
	for _, v := range vals {
		st := patchbay.ConnectionStatus(strings.ToUpper(v))
		if !slices.Contains(patchbay.ConnectionStatuses, st) {
			return nil, errorf(patchbay.EINVALID, "%s: %q is not a status; use one of %s.", param, patchbay.Truncate(v, 40), statusNames())
		}
		out = append(out, st)
	}
	return out, nil
}

func statusNames() string {
	names := make([]string, len(patchbay.ConnectionStatuses))
	for i, s := range patchbay.ConnectionStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// pathID returns a path parameter, refusing the literal placeholders the
// legacy SDK sends when an id is missing (e.g. "{integrationId}").
func pathID(r *http.Request, name, what string) (string, error) {
	v := r.PathValue(name)
	if v == "" || strings.HasPrefix(v, "{") {
		return "", errorf(patchbay.ENOTFOUND, "%s %q not found.", what, patchbay.Truncate(v, 60))
	}
	return v, nil
}
