// Package patchbay holds the domain of the patchbay server: its nouns
// (organizations, projects, members, API keys, audit events, sealed secrets),
// its error codes, the Store and Sealer interfaces that adapters implement, and
// the Service that enforces the rules (authorization, key lifecycle, sealing).
//
// It imports only the standard library. Adapters (sqlite, postgres, keyring,
// httpapi) depend on it; it depends on none of them.
package patchbay
