package patchbay

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Service holds patchbay's rules and is the only way into the domain: who
// may do what (Policy), how keys are issued and revoked, how credentials
// are checked and sealed, and that every change is audited. Surfaces (the
// Composio wire, the CLI, later the dashboard and MCP) call it with the
// acting Principal; it alone calls the Store.
type Service struct {
	store     Store
	sealer    Sealer
	keyring   Keyring // nil when the sealer cannot rotate
	catalog   Catalog
	checker   CredentialChecker
	caller    Caller
	oauth     OAuthClient
	oauthApps OAuthApps
	hasher    PasswordHasher
	execLog   *execLogger
	records   versioned[*ConnectionRecord] // connected accounts' records for tool calls
	payloads  versioned[bool]              // projects that omit log payloads
	mcp       versioned[*MCPServer]        // MCP server configurations, by project and ID
	mcpLinks  mcpLinks                     // connect links MCP hints handed out, for reuse
	fence     Fence
	auth      *Authenticator
	// mcpURLLifetime is how long signed MCP URLs work.
	mcpURLLifetime time.Duration
	now            func() time.Time
	rand           io.Reader
	log            *slog.Logger

	revocations atomic.Uint64 // keys this instance revoked, for metrics

	dummyOnce sync.Once // dummy is a password hash for unknown emails
	dummy     string
}

// Stats are the Service's counters since it was made.
type Stats struct {
	Revocations uint64
}

// Stats reports the Service's counters.
func (s *Service) Stats() Stats { return Stats{Revocations: s.revocations.Load()} }

// Config wires a Service. Store, Sealer and Catalog are required.
type Config struct {
	Store   Store
	Sealer  Sealer // if it is also a Keyring, the keyring commands work
	Catalog Catalog
	// Checker tries credentials against the app (validate_credentials);
	// nil means credentials cannot be checked.
	Checker CredentialChecker
	// Caller sends tools' and proxied requests to apps; nil means tools
	// cannot run.
	Caller Caller
	// OAuth speaks OAuth 2.0 to providers; nil means OAuth2 connections
	// cannot be made (only imported tokens).
	OAuth OAuthClient
	// OAuthApps are the operator's managed OAuth apps by toolkit slug.
	OAuthApps OAuthApps
	// Passwords hashes dashboard passwords; nil means nobody can sign in.
	Passwords PasswordHasher
	// Logs tune execution logging.
	Logs LogOptions
	// Watcher tells the key cache about revocations made by other
	// processes; nil only for a store no other process writes to.
	Watcher Watcher
	// Fence makes a revoke wait until every other instance has evicted the
	// key (internal/postgres); nil when every process sees a revocation on
	// its next request (internal/sqlite).
	Fence Fence
	Auth  AuthOptions
	// MCPURLLifetime is how long a signed per-user MCP URL works
	// (default DefaultMCPURLLifetime).
	MCPURLLifetime time.Duration
	Now            func() time.Time // default time.Now
	Rand           io.Reader        // default crypto/rand
	Log            *slog.Logger     // default discards
}

// Keyring is a Sealer whose keys can be rotated (internal/keyring).
type Keyring interface {
	Sealer
	// Rotate adds a key term and makes it the active one.
	Rotate(ctx context.Context) (uint32, error)
	// Reencrypt moves up to batch values off older terms.
	Reencrypt(ctx context.Context, batch int) (int, error)
}

// NewService returns a Service for cfg. Start it to watch for revocations.
func NewService(cfg Config) *Service {
	s := &Service{
		store: cfg.Store, sealer: cfg.Sealer, catalog: cfg.Catalog, checker: cfg.Checker, caller: cfg.Caller, oauth: cfg.OAuth, oauthApps: cfg.OAuthApps, hasher: cfg.Passwords, fence: cfg.Fence,
		now: cfg.Now, rand: cfg.Rand, log: cfg.Log,
	}
	s.keyring, _ = cfg.Sealer.(Keyring)
	s.mcpURLLifetime = cfg.MCPURLLifetime
	if s.mcpURLLifetime <= 0 {
		s.mcpURLLifetime = DefaultMCPURLLifetime
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.auth = newAuthenticator(cfg.Store, cfg.Watcher, s.now, s.log, cfg.Auth, s.resolveKey)
	s.execLog = newExecLogger(cfg.Store, cfg.Logs, s.log.Warn)
	return s
}

// Start begins watching for revocations and flushing key last-use times.
// A Service that is never started (the CLI) still verifies keys, reading
// each from the store.
func (s *Service) Start(ctx context.Context) error {
	if err := s.auth.Start(ctx); err != nil {
		return err
	}
	s.execLog.start()
	return nil
}

// Close stops what Start started and flushes pending last-use times and
// execution logs.
func (s *Service) Close() error {
	s.execLog.close()
	return s.auth.Close()
}

// Authenticator is the Service's key verifier, for surfaces' metrics.
func (s *Service) Authenticator() *Authenticator { return s.auth }

// Ping checks that the database answers (readiness).
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

func (s *Service) audit(ctx context.Context, tx Store, p *Principal, action, projectID, target string) error {
	id, err := NewID(PrefixAudit, s.rand)
	if err != nil {
		return err
	}
	return tx.AppendAudit(ctx, &AuditEvent{
		ID: id, OrgID: p.OrgID, ProjectID: projectID, ActorID: p.Member.ID, ActorKey: p.Credential.ID,
		Action: action, TargetID: target, IP: p.IP, At: s.now(),
	})
}

// projectScope resolves the project an operation acts on: projectID, or
// the principal's own project when projectID is "". A principal bound to a
// project reaches no other (ENOTFOUND, as if it did not exist); one that
// spans the organization reaches the organization's live projects.
func (s *Service) projectScope(ctx context.Context, p *Principal, projectID string) (string, error) {
	return s.projectScopeIn(ctx, s.store, p, projectID)
}

// projectScopeIn is projectScope reading through st (a transaction that
// may hold a project it created).
func (s *Service) projectScopeIn(ctx context.Context, st Store, p *Principal, projectID string) (string, error) {
	switch {
	case projectID == "" && p.ProjectID == "":
		return "", Errorf(EINVALID, "This operation needs a project: use a project API key, or name the project.")
	case projectID == "" || projectID == p.ProjectID:
		return p.ProjectID, nil
	case p.ProjectID != "":
		return "", Errorf(ENOTFOUND, "Project %s not found.", projectID)
	}
	if _, err := st.GetProject(ctx, p.OrgID, projectID); err != nil {
		return "", err
	}
	return projectID, nil
}

// can is authorize followed by projectScope.
func (s *Service) can(ctx context.Context, p *Principal, perm Permission, projectID string) (string, error) {
	if err := authorize(p, perm); err != nil {
		return "", err
	}
	return s.projectScope(ctx, p, projectID)
}

// ValidateName checks a human-given name: 1 to 128 characters after trimming.
func ValidateName(what, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", Errorf(EINVALID, "%s is required.", what)
	case !utf8.ValidString(name) || strings.IndexByte(name, 0) >= 0:
		return "", Errorf(EINVALID, "%s must be valid UTF-8 without NUL characters.", what)
	case utf8.RuneCountInString(name) > 128:
		return "", Errorf(EINVALID, "%s must be at most 128 characters.", what)
	}
	return name, nil
}
