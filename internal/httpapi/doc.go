// Package httpapi is the Composio-compatible wire: two surfaces on the
// shared plumbing of internal/httpserver, the legacy API (/api/v1 and
// /api/v2, composio-core) and the current one (/api/v3.1, also served as
// /api/v3, @composio/core), each with its own route table and error
// envelope.
//
// Handlers decode the wire request, call the Service with the request's
// principal and convert the domain's view to wire JSON; they return error
// and the surface writes failures. Wire types live here, apart from the
// domain types, with one conversion per resource.
package httpapi
