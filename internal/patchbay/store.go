package patchbay

import (
	"context"
	"time"
)

// Store persists the domain. Implementations: internal/sqlite (default) and
// internal/postgres (several instances behind a load balancer). Both run the
// contract suite in internal/storetest.
//
// Lookups are scoped: a record of another organization or project answers
// exactly like an unknown one (ENOTFOUND).
type Store interface {
	ConnectionStore
	OAuthStore
	MCPStore
	ToolRouterStore

	// InTx runs fn in one transaction; fn's error rolls it back.
	InTx(ctx context.Context, fn func(tx Store) error) error

	CreateOrganization(ctx context.Context, o *Organization) error
	// FirstOrganization returns the oldest organization, ENOTFOUND if none.
	FirstOrganization(ctx context.Context) (*Organization, error)
	GetOrganization(ctx context.Context, id string) (*Organization, error)

	CreateProject(ctx context.Context, p *Project) error
	// GetProject returns a live (not deleted) project of org. ENOTFOUND otherwise.
	GetProject(ctx context.Context, orgID, id string) (*Project, error)
	// ListProjects returns live projects of org ordered by creation, after
	// the cursor (a project ID, "" for the start), at most limit.
	ListProjects(ctx context.Context, orgID, after string, limit int) ([]*Project, error)
	// SetProjectLogPayloads says whether a live project's execution logs
	// omit payloads. ENOTFOUND if there is none.
	SetProjectLogPayloads(ctx context.Context, orgID, id string, omit bool, at time.Time) error
	// DeleteProject marks a live project deleted. ENOTFOUND if there is none.
	DeleteProject(ctx context.Context, orgID, id string, at time.Time) error

	CreateMember(ctx context.Context, m *Member) error
	GetMember(ctx context.Context, orgID, id string) (*Member, error)
	// GetMemberByEmail matches the email case-insensitively.
	GetMemberByEmail(ctx context.Context, orgID, email string) (*Member, error)
	ListMembers(ctx context.Context, orgID string) ([]*Member, error)
	// ReadVersion returns the organization's read version: it grows with
	// every committed change to anything a read of the organization shows
	// (keys and their use, members, projects, auth configs, connected
	// accounts, sealed values), whoever writes it: the schema's triggers
	// keep it. 0 for an unknown organization.
	ReadVersion(ctx context.Context, orgID string) (int64, error)
	// MemberPassword returns a member's password hash, "" if none is set.
	MemberPassword(ctx context.Context, memberID string) (string, error)
	// SetMemberPassword sets a member's password hash.
	SetMemberPassword(ctx context.Context, memberID, hash string) error
	// MembersByEmail finds the members with an email, in every
	// organization, matching case-insensitively.
	MembersByEmail(ctx context.Context, email string) ([]*Member, error)
	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns a session by its ID. ENOTFOUND if there is none.
	GetSession(ctx context.Context, id string) (*Session, error)
	DeleteSession(ctx context.Context, id string) error
	CreateInvite(ctx context.Context, inv *Invite) error
	// GetInvite returns an invite by its ID. ENOTFOUND if there is none.
	GetInvite(ctx context.Context, id string) (*Invite, error)
	// UseInvite marks an unused invite used. ECONFLICT if it was used.
	UseInvite(ctx context.Context, id string, at time.Time) error
	// AppendExecutionLogs writes execution logs in one batch.
	AppendExecutionLogs(ctx context.Context, logs []*ExecutionLog) error
	// ListExecutionLogs lists a project's logs matching f, newest first.
	ListExecutionLogs(ctx context.Context, f ExecutionLogFilter) ([]*ExecutionLog, error)
	// GetExecutionLog returns one of a project's logs. ENOTFOUND if none.
	GetExecutionLog(ctx context.Context, projectID, id string) (*ExecutionLog, error)
	// PruneExecutionLogs deletes logs older than before and says how many.
	PruneExecutionLogs(ctx context.Context, before time.Time) (int, error)
	// OrgOwner returns the organization's first owner (by creation) with
	// one indexed query. ENOTFOUND if it has none.
	OrgOwner(ctx context.Context, orgID string) (*Member, error)

	CreateAPIKey(ctx context.Context, k *APIKey) error
	// GetAPIKey returns a key of org (and of project, when projectID is not
	// ""), revoked or not. ENOTFOUND otherwise.
	GetAPIKey(ctx context.Context, orgID, projectID, id string) (*APIKey, error)
	// LockAPIKey is GetAPIKey, also locking the key's row until the
	// transaction ends, so a check made on it holds. Call it inside InTx.
	LockAPIKey(ctx context.Context, orgID, projectID, id string) (*APIKey, error)
	// LookupAPIKey finds a key by its hash, with the member it acts as.
	// ENOTFOUND when no key has the hash. A revoked key is returned as such.
	LookupAPIKey(ctx context.Context, hash [32]byte) (*APIKey, *Member, error)
	// ListAPIKeys returns the keys matching f, newest first, each with the
	// member it acts as, in one query.
	ListAPIKeys(ctx context.Context, f KeyFilter) ([]KeyRecord, error)
	// RevokeAPIKey marks a key revoked at the given time by the given member
	// and returns it. A key revoked before keeps its first revocation and is
	// returned unchanged. The revocation is announced to other instances
	// (see Watcher) when the transaction commits.
	RevokeAPIKey(ctx context.Context, orgID, projectID, id, by string, at time.Time) (*APIKey, error)
	// TouchAPIKeys records last-use times in one batch, never moving a
	// last_used_at backwards.
	TouchAPIKeys(ctx context.Context, used map[string]time.Time) error

	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns events of org (and of project, when not ""), newest
	// first, at most limit.
	ListAudit(ctx context.Context, orgID, projectID string, limit int) ([]*AuditEvent, error)

	// KeyTerms returns every keyring term, oldest first. On a database that
	// has never been migrated it returns none and no error, so the root key
	// can be checked before anything is written.
	KeyTerms(ctx context.Context) ([]KeyTerm, error)
	// CreateKeyTerm adds a term. ECONFLICT if the term exists.
	CreateKeyTerm(ctx context.Context, t KeyTerm) error

	// PutSecret inserts or replaces the sealed value at s.Ref.
	PutSecret(ctx context.Context, s StoredSecret) error
	// GetSecret returns the sealed value at ref. ENOTFOUND if none.
	GetSecret(ctx context.Context, ref SecretRef) (StoredSecret, error)
	// ProjectSecrets returns, in one query, the sealed value of field held
	// by each of the given projects themselves (Record = ProjectID), by
	// project ID; projects without one are absent.
	ProjectSecrets(ctx context.Context, field string, projectIDs []string) (map[string]StoredSecret, error)
	// SecretsBelowTerm returns up to limit values sealed under a term older
	// than term, for re-encryption.
	SecretsBelowTerm(ctx context.Context, term uint32, limit int) ([]StoredSecret, error)
	// ReplaceSecret swaps old for new at old.Ref only if the stored value is
	// still old (compare-and-swap); it reports whether it did.
	ReplaceSecret(ctx context.Context, old, new StoredSecret) (bool, error)
	// CountSecretsByTerm reports how many values each term seals.
	CountSecretsByTerm(ctx context.Context) (map[uint32]int, error)

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// KeyFilter selects API keys. OrgID is required.
type KeyFilter struct {
	OrgID          string
	ProjectID      string  // "" with Kind=KeyKindOrg, or to list all kinds of the org
	Kind           KeyKind // "" for any
	IncludeRevoked bool
}

// Watcher tells an Authenticator when its cached verifications may be stale,
// so that no request succeeds with a key after its revocation has returned.
// internal/sqlite watches SQLite's data version; internal/postgres listens
// for notifications sent by RevokeAPIKey.
type Watcher interface {
	// Start begins watching. evict is called with the ID of each key revoked
	// elsewhere; evictAll when revocations may have been missed.
	Start(ctx context.Context, evict func(keyID string), evictAll func()) error
	// Sync is called before a cached verification is trusted. It may deliver
	// pending evictions synchronously. It returns false when the cache cannot
	// be trusted right now (the caller then reads the store: fail closed).
	Sync(ctx context.Context) bool
	// Close stops watching.
	Close() error
}

// Page is keyset paging: After is the ID of the last item seen ("" to
// start), Limit the page size (0 for all), Desc the order by creation.
type Page struct {
	After  string
	Limit  int
	Offset int // for page-numbered legacy listings; used only when After is ""
	Desc   bool
}

// ConnectionStore is the part of the Store that keeps auth configs and
// connected accounts. Every method is scoped by project; another project's
// IDs answer ENOTFOUND.
type ConnectionStore interface {
	CreateAuthConfig(ctx context.Context, ac *AuthConfig) error
	GetAuthConfig(ctx context.Context, projectID, id string) (*AuthConfig, error)
	// GetAuthConfigRecord returns an auth config with its sealed
	// credentials and connection count, in one query.
	GetAuthConfigRecord(ctx context.Context, projectID, id string) (*AuthConfigRecord, error)
	// ListAuthConfigs returns a page of matches, each with its sealed
	// credentials and connection count, and the total count.
	ListAuthConfigs(ctx context.Context, f AuthConfigFilter) ([]*AuthConfigRecord, int, error)
	// LockAuthConfig locks an auth config until the transaction ends, so
	// checks made under the lock (one ACTIVE account per user) hold.
	// ENOTFOUND if it does not exist. Call it inside InTx.
	LockAuthConfig(ctx context.Context, projectID, id string) error
	// UpdateAuthConfig saves name, disabled, settings and updated_at.
	UpdateAuthConfig(ctx context.Context, ac *AuthConfig) error
	// DeleteAuthConfig deletes an auth config with its connected accounts
	// and their sealed credentials.
	DeleteAuthConfig(ctx context.Context, projectID, id string) error

	CreateConnectedAccount(ctx context.Context, ca *ConnectedAccount) error
	// GetConnectedAccount returns an account with its auth config's flags
	// and its sealed credentials, in one query.
	GetConnectedAccount(ctx context.Context, projectID, id string) (*ConnectionRecord, error)
	// LockConnectedAccount locks an account until the transaction ends
	// (SELECT … FOR UPDATE on PostgreSQL; SQLite's single writer
	// serializes transactions) and returns it as GetConnectedAccount does,
	// read under the lock. ENOTFOUND if it does not exist. Call it inside
	// InTx.
	LockConnectedAccount(ctx context.Context, projectID, id string) (*ConnectionRecord, error)
	// ListConnectedAccounts returns a page of matches (with credentials
	// when f.WithCredentials) and the total count, filtering in the query.
	ListConnectedAccounts(ctx context.Context, f ConnectionFilter) ([]*ConnectionRecord, int, error)
	// UpdateConnectedAccount saves status, status_reason, disabled, alias,
	// labels and updated_at.
	UpdateConnectedAccount(ctx context.Context, ca *ConnectedAccount) error
	// DeleteConnectedAccount deletes an account and its sealed credentials.
	DeleteConnectedAccount(ctx context.Context, projectID, id string) error
	// DeleteSecret removes a sealed value; no error if there is none.
	DeleteSecret(ctx context.Context, ref SecretRef) error
}
