package patchbay_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/keyring"
	"github.com/patchbay-dev/patchbay/internal/password"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/sqlite"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

// clock is an injected time source that moves only when told to.
type clock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a Service over a fresh SQLite store, bootstrapped: one organization
// with its owner and default project.
type env struct {
	t       *testing.T
	ctx     context.Context
	st      *sqlite.Store
	kr      *keyring.Keyring
	rootKey patchbay.Secret
	clock   *clock
	log     *slog.Logger
	checker *fakeChecker
	caller  *fakeCaller
	cfg     patchbay.Config // what svc was made from
	svc     *patchbay.Service
	auth    *patchbay.Authenticator // svc's
	org     *patchbay.Organization
	owner   *patchbay.Member
	cli     *patchbay.Principal // the owner, from the CLI: spans the organization
	project *patchbay.Project
	fix     *fixtures // see fx
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// storeKeyring is the keyring as the domain's Keyring, re-encrypting
// through store (as internal/app wires it).
type storeKeyring struct {
	*keyring.Keyring
	store keyring.SecretStore
}

func (k storeKeyring) Reencrypt(ctx context.Context, batch int) (int, error) {
	return k.Keyring.Reencrypt(ctx, k.store, batch)
}

// MustEnv returns a bootstrapped env on its own SQLite file.
func MustEnv(t *testing.T) *env {
	t.Helper()
	return MustEnvWith(t, testdb.SQLite(t), nil)
}

// MustEnvOn returns a bootstrapped env on st.
func MustEnvOn(t *testing.T, st *sqlite.Store) *env {
	t.Helper()
	return MustEnvWith(t, st, nil)
}

// MustEnvWith returns a bootstrapped env on st whose Service is made from
// the default Config as edit changes it (edit may be nil).
func MustEnvWith(t *testing.T, st *sqlite.Store, edit func(e *env, cfg *patchbay.Config)) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), st: st, clock: newClock(), log: testLogger(t), checker: &fakeChecker{}, caller: &fakeCaller{}}
	root, err := keyring.NewRootKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if e.rootKey, err = keyring.ParseRootKey(root); err != nil {
		t.Fatal(err)
	}
	if e.kr, err = keyring.Open(e.ctx, st, e.rootKey, rand.Reader, e.clock.Now); err != nil {
		t.Fatal(err)
	}
	e.cfg = patchbay.Config{
		Store: st, Sealer: storeKeyring{e.kr, st}, Catalog: testCatalog, Checker: e.checker, Caller: e.caller, Passwords: password.Hasher{Cost: 4},
		Now: e.clock.Now, Rand: rand.Reader, Log: e.log,
	}
	if edit != nil {
		edit(e, &e.cfg)
	}
	e.svc = e.newService(nil)
	e.auth = e.svc.Authenticator()
	org, created, err := e.svc.Bootstrap(e.ctx, "owner@example.com")
	if err != nil || !created {
		t.Fatalf("Bootstrap = %v, %v, %v", org, created, err)
	}
	e.org = org
	if e.cli, err = e.svc.CLIPrincipal(e.ctx, org.ID); err != nil {
		t.Fatal(err)
	}
	e.owner = &e.cli.Member
	ps, err := st.ListProjects(e.ctx, org.ID, "", 10)
	if err != nil || len(ps) != 1 {
		t.Fatalf("ListProjects after Bootstrap = %v, %v; want the default project", ps, err)
	}
	e.project = ps[0]
	return e
}

// newService returns another Service (another instance or process) made
// from the env's Config as edit changes it; it is closed when the test
// ends.
func (e *env) newService(edit func(cfg *patchbay.Config)) *patchbay.Service {
	cfg := e.cfg
	if edit != nil {
		edit(&cfg)
	}
	s := patchbay.NewService(cfg)
	e.t.Cleanup(func() { s.Close() })
	return s
}

// newAuth returns the Authenticator of a new Service over store, with the
// env's clock; it is closed when the test ends. Revocations through e.svc
// do not evict it (it belongs to another Service).
func (e *env) newAuth(store patchbay.Store, w patchbay.Watcher, opts patchbay.AuthOptions) *patchbay.Authenticator {
	return e.newService(func(cfg *patchbay.Config) {
		cfg.Store, cfg.Watcher, cfg.Auth = store, w, opts
	}).Authenticator()
}

// MustProjectKey creates a project key in the default project.
func (e *env) MustProjectKey(name string) (*patchbay.KeyRecord, string) {
	e.t.Helper()
	return e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: e.project.ID, Name: name})
}

// MustKey creates a key as the owner, from the CLI, and returns it with
// its plaintext.
func (e *env) MustKey(nk patchbay.NewKey) (*patchbay.KeyRecord, string) {
	e.t.Helper()
	k, tok, err := e.svc.CreateAPIKey(e.ctx, e.cli, nk)
	if err != nil {
		e.t.Fatalf("CreateAPIKey(%+v): %v", nk, err)
	}
	return k, tok.Secret.Reveal()
}

// MustMember adds a member with role to the organization and returns the
// principal of an organization key acting as it, from a client address.
func (e *env) MustMember(email string, role patchbay.Role) *patchbay.Principal {
	e.t.Helper()
	m, err := e.svc.AddMember(e.ctx, e.cli, email, string(role), role)
	if err != nil {
		e.t.Fatalf("AddMember(%s, %s): %v", email, role, err)
	}
	return e.MustKeyPrincipal(patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: email, Owner: m})
}

// MustKeyPrincipal creates the key nk as the owner, verifies it, and
// returns its principal acting from a client address.
func (e *env) MustKeyPrincipal(nk patchbay.NewKey) *patchbay.Principal {
	e.t.Helper()
	_, raw := e.MustKey(nk)
	p := e.MustAuth(e.auth, raw).WithIP("198.51.100.1")
	return &p
}

// MustProjectPrincipal is the principal of a new key of projectID acting
// as m.
func (e *env) MustProjectPrincipal(m *patchbay.Member, projectID string) *patchbay.Principal {
	e.t.Helper()
	return e.MustKeyPrincipal(patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: projectID, Name: "as " + m.Email, Owner: m})
}

// MustAuth authenticates raw with a and fails the test if it is refused.
func (e *env) MustAuth(a *patchbay.Authenticator, raw string) *patchbay.Principal {
	e.t.Helper()
	p, err := a.Authenticate(e.ctx, raw)
	if err != nil {
		e.t.Fatalf("Authenticate: %v", err)
	}
	return p
}

// MustReject checks that a refuses raw with EUNAUTHORIZED and a message
// that does not contain the key.
func (e *env) MustReject(a *patchbay.Authenticator, raw, why string) {
	e.t.Helper()
	p, err := a.Authenticate(e.ctx, raw)
	if err == nil {
		e.t.Fatalf("%s: Authenticate succeeded as key %s", why, p.Credential.ID)
	}
	if got := patchbay.ErrorCode(err); got != patchbay.EUNAUTHORIZED {
		e.t.Fatalf("%s: Authenticate error = %v (code %q), want %q", why, err, got, patchbay.EUNAUTHORIZED)
	}
	if len(raw) >= 8 && (strings.Contains(err.Error(), raw) || strings.Contains(patchbay.ErrorMessage(err), raw)) {
		e.t.Fatalf("%s: error %q contains the key", why, err)
	}
}

// MustGetKey reads a key from the store, revoked or not.
func (e *env) MustGetKey(id string) *patchbay.APIKey {
	e.t.Helper()
	k, err := e.st.GetAPIKey(e.ctx, e.org.ID, "", id)
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

// MustAudit lists the organization's audit events, newest first.
func (e *env) MustAudit() []*patchbay.AuditEvent {
	e.t.Helper()
	evs, err := e.st.ListAudit(e.ctx, e.org.ID, "", 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// newEvents returns the audit events recorded since before was listed.
func (e *env) newEvents(before []*patchbay.AuditEvent) []*patchbay.AuditEvent {
	e.t.Helper()
	seen := map[string]bool{}
	for _, ev := range before {
		seen[ev.ID] = true
	}
	var out []*patchbay.AuditEvent
	for _, ev := range e.MustAudit() {
		if !seen[ev.ID] {
			out = append(out, ev)
		}
	}
	return out
}

// MustAuthConfig creates a managed auth config for the widget toolkit in
// p's project.
func (e *env) MustAuthConfig(p *patchbay.Principal) *patchbay.AuthConfigView {
	e.t.Helper()
	ac, err := e.svc.CreateAuthConfig(e.ctx, p, patchbay.NewAuthConfig{Toolkit: "widget", Managed: true})
	if err != nil {
		e.t.Fatalf("CreateAuthConfig: %v", err)
	}
	return ac
}

// MustConnect connects user through the auth config ac with a widget API
// key.
func (e *env) MustConnect(p *patchbay.Principal, ac, user string) *patchbay.ConnectedAccount {
	e.t.Helper()
	ca, err := e.svc.Connect(e.ctx, p, patchbay.NewConnection{AuthConfigID: ac, UserID: user, Values: map[string]any{"api_key": widgetKey}})
	if err != nil {
		e.t.Fatalf("Connect: %v", err)
	}
	return ca
}

// MustOtherOrg creates a second organization with its own owner and
// project, straight in the store (Bootstrap makes only the first), and
// returns its CLI principal.
func (e *env) MustOtherOrg() (*patchbay.Principal, *patchbay.Project) {
	e.t.Helper()
	now := e.clock.Now()
	org := &patchbay.Organization{ID: "org_other0000000000", Name: "Other", CreatedAt: now}
	owner := &patchbay.Member{ID: "mem_other0000000000", OrgID: org.ID, Email: "owner@other.example", Name: "Other owner", Role: patchbay.RoleOwner, CreatedAt: now}
	if err := e.st.CreateOrganization(e.ctx, org); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.CreateMember(e.ctx, owner); err != nil {
		e.t.Fatal(err)
	}
	p, err := e.svc.CLIPrincipal(e.ctx, org.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	p.IP = "192.0.2.66"
	cp, err := e.svc.CreateProject(e.ctx, p, "Other project", false)
	if err != nil {
		e.t.Fatal(err)
	}
	return p, cp.Project
}

// wantCode fails the test unless err carries code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := patchbay.ErrorCode(err); got != code {
		t.Errorf("%s: error = %v (code %q), want code %q", what, err, got, code)
	}
}

// catalog is a Catalog of fixed toolkits.
type catalog map[string]*patchbay.Toolkit

func (c catalog) Toolkit(slug string) (*patchbay.Toolkit, bool) {
	tk, ok := c[strings.ToLower(slug)]
	return tk, ok
}

func (c catalog) Toolkits() []*patchbay.Toolkit {
	out := make([]*patchbay.Toolkit, 0, len(c))
	for _, slug := range []string{"acme", "widget"} {
		out = append(out, c[slug])
	}
	return out
}

// widget has one tool; acme none.
func (c catalog) Tool(slug string) (*patchbay.Tool, bool) {
	for _, t := range []*patchbay.Tool{instancePing, widgetGet} {
		if strings.EqualFold(slug, t.Slug) {
			return t, true
		}
	}
	return nil, false
}
func (c catalog) Tools() []*patchbay.Tool { return []*patchbay.Tool{instancePing, widgetGet} }
func (c catalog) ToolsOf(toolkit string) []*patchbay.Tool {
	switch strings.ToLower(toolkit) {
	case "widget":
		return []*patchbay.Tool{widgetGet}
	case "instance":
		return []*patchbay.Tool{instancePing}
	}
	return nil
}

// instancePing reads GET /ping of the developer's instance.
var instancePing = &patchbay.Tool{
	Slug: "INSTANCE_PING", Name: "Ping", Description: "Pings the instance.", Toolkit: "instance", Version: "20261201_00",
	InputParameters: json.RawMessage(`{"type":"object","properties":{}}`),
	Request:         patchbay.ToolRequest{Method: "GET", Path: "/ping"},
}

// widgetGet reads one widget: GET /widgets/{id}?verbose=.
var widgetGet = &patchbay.Tool{
	Slug: "WIDGET_GET_WIDGET", Name: "Get a widget", Description: "Reads one widget.", Toolkit: "widget", Version: "20261201_00",
	Tags:            []string{"important"},
	InputParameters: json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"},"verbose":{"type":"boolean"}},"required":["id"]}`),
	Request:         patchbay.ToolRequest{Method: "GET", Path: "/widgets/{id}", Args: map[string]string{"id": "path", "verbose": "query"}},
	Check: func(args map[string]any) []string {
		var v []string
		if _, ok := args["id"].(string); !ok {
			v = append(v, "arguments: missing property 'id' (a string)")
		}
		if x, ok := args["verbose"]; ok {
			if _, isBool := x.(bool); !isBool {
				v = append(v, "arguments.verbose: want a boolean")
			}
		}
		return v
	},
}

// fakeCaller records the calls the Service makes to apps and answers
// them with status and body.
type fakeCaller struct {
	mu     sync.Mutex
	calls  []fakeCall
	status int
	body   string
	err    error
}

type fakeCall struct {
	toolkit string
	creds   map[string]string
	req     *patchbay.UpstreamRequest
}

func (c *fakeCaller) Call(_ context.Context, tk *patchbay.Toolkit, _ *patchbay.AuthScheme, creds map[string]string, r *patchbay.UpstreamRequest) (*patchbay.UpstreamResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, fakeCall{toolkit: tk.Slug, creds: creds, req: r})
	if c.err != nil {
		return nil, c.err
	}
	status := c.status
	if status == 0 {
		status = 200
	}
	return &patchbay.UpstreamResponse{Status: status, Body: []byte(c.body)}, nil
}

func (c *fakeCaller) BaseURL(tk *patchbay.Toolkit, sc *patchbay.AuthScheme, creds map[string]string) (*url.URL, error) {
	return url.Parse(patchbay.Expand(sc.BaseURL, creds))
}

// acme's only scheme needs a developer's secret in the auth config;
// widget's takes the end user's API key and can be validated.
var (
	acme = &patchbay.Toolkit{Slug: "acme", Name: "Acme", AuthSchemes: []patchbay.AuthScheme{{
		Mode:   patchbay.AuthAPIKey,
		Fields: []patchbay.Field{{Name: "client_secret", Type: "string", Required: true, Secret: true, Scope: patchbay.ScopeAuthConfig}},
	}}}
	widget = &patchbay.Toolkit{Slug: "widget", Name: "Widget", AuthSchemes: []patchbay.AuthScheme{{
		Mode: patchbay.AuthAPIKey, BaseURL: "https://api.widget.test",
		Fields: []patchbay.Field{
			{Name: "api_key", DisplayName: "API key", Type: "string", Required: true, Secret: true, Scope: patchbay.ScopeConnection},
			{Name: "region", DisplayName: "Region", Type: "string", Scope: patchbay.ScopeConnection},
		},
		Inject:      patchbay.Injection{Headers: map[string]string{"Authorization": "Bearer {{api_key}}"}},
		TestRequest: &patchbay.TestRequest{Method: "GET", Path: "/me"},
	}}}
	// instance's base URL is the developer's instance, set in the auth
	// config; its users connect with a token.
	instance = &patchbay.Toolkit{Slug: "instance", Name: "Instance", AuthSchemes: []patchbay.AuthScheme{{
		Mode: patchbay.AuthBearerToken, BaseURL: "https://{{subdomain}}.instance.test",
		Fields: []patchbay.Field{
			{Name: "subdomain", Type: "string", Required: true, Scope: patchbay.ScopeAuthConfig},
			{Name: "token", Type: "string", Required: true, Secret: true, Scope: patchbay.ScopeConnection},
		},
		Inject: patchbay.Injection{Headers: map[string]string{"Authorization": "Bearer {{token}}"}},
	}}}
	testCatalog = catalog{"acme": acme, "widget": widget, "instance": instance}
)

const widgetKey = "wk-live-0123456789abcdef"

// fakeChecker answers credential checks as told; by default it accepts.
type fakeChecker struct {
	mu     sync.Mutex // guards the fields below
	reject string     // reject with this reason when not ""
	err    error      // fail to ask when not nil
	calls  int
}

func (c *fakeChecker) Check(_ context.Context, _ *patchbay.Toolkit, _ *patchbay.AuthScheme, _ map[string]string) (bool, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	switch {
	case c.err != nil:
		return false, "", c.err
	case c.reject != "":
		return false, c.reject, nil
	}
	return true, "", nil
}

// set makes the checker reject with reason ("" to accept) or fail with err.
func (c *fakeChecker) set(reason string, err error) {
	c.mu.Lock()
	c.reject, c.err = reason, err
	c.mu.Unlock()
}

// spyStore counts and intercepts the calls an Authenticator makes.
type spyStore struct {
	patchbay.Store
	lookups atomic.Int64
	touches atomic.Int64
	// afterLookup, when set, runs after the real lookup and before its
	// result is returned.
	afterLookup func(k *patchbay.APIKey)
	touched     []map[string]time.Time // guarded by mu
	mu          sync.Mutex
}

func (s *spyStore) LookupAPIKey(ctx context.Context, hash [32]byte) (*patchbay.APIKey, *patchbay.Member, error) {
	s.lookups.Add(1)
	k, m, err := s.Store.LookupAPIKey(ctx, hash)
	if err == nil && s.afterLookup != nil {
		s.afterLookup(k)
	}
	return k, m, err
}

func (s *spyStore) TouchAPIKeys(ctx context.Context, used map[string]time.Time) error {
	s.touches.Add(1)
	s.mu.Lock()
	s.touched = append(s.touched, used)
	s.mu.Unlock()
	return s.Store.TouchAPIKeys(ctx, used)
}
