// Package patchbay holds the domain of the patchbay server: its nouns
// (organizations, projects, members, API keys, audit events, toolkits, auth
// configs, connected accounts, sealed secrets), its error codes, the
// interfaces that adapters implement (Store, Sealer, Keyring, Watcher,
// Fence, Catalog, CredentialChecker), and the Service, the only door to the
// store.
//
// Every Service method a surface calls takes the acting Principal (a
// member, through a credential, bound to a project or to the whole
// organization) and checks it against Policy, the one table of who may do
// what, and against the principal's scope. The exceptions act before there
// is a principal: Bootstrap, Authenticate, RevokeLeakedKeys (anyone may
// report a leaked key) and CLIPrincipal.
//
// It imports only the standard library. Adapters (sqlite, postgres,
// keyring, catalog, outbound, the HTTP surfaces) depend on it; it depends on
// none of them.
package patchbay
