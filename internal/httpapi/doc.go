// Package httpapi is patchbay's HTTP surface: the Composio-compatible wire
// API (legacy /api/v1 and /api/v2; current /api/v3.1, also served as
// /api/v3), health endpoints, and the plumbing around them (request IDs,
// authentication, body limits, access logs, error envelopes).
//
// Handlers return error; one adapter per surface writes failures in that
// surface's envelope. Wire types live here, apart from the domain types,
// with one conversion per resource.
package httpapi
