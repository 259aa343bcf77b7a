package patchbay

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MCP endpoints. A configuration's URL is MCPPathPrefix + id + MCPPathSuffix
// on patchbay's public origin, with the user in ?user_id=; a signed
// per-user URL adds ?sig=.
const (
	MCPPathPrefix = "/v3/mcp/"
	MCPPathSuffix = "/mcp"
)

// MCPURL is the URL of a configuration for user (all users, with
// x-api-key and ?user_id=, when user is ""), without a signature.
func MCPURL(origin, serverID, user string, managed bool) string {
	u := strings.TrimSuffix(origin, "/") + MCPPathPrefix + url.PathEscape(serverID) + MCPPathSuffix
	if user == "" {
		return u
	}
	// Composio's order: the helper-actions flag first, then the user.
	q := "user_id=" + url.QueryEscape(user)
	if managed {
		q = "include_composio_helper_actions=true&" + q
	}
	return u + "?" + q
}

// MCPURLs are what generating a configuration's user URLs answers.
type MCPURLs struct {
	Base  string   // the configuration's URL, no query
	Users []string // one signed URL per user, in the order asked
}

// GenerateMCPURLs issues signed, expiring MCP URLs of a configuration for
// users. A signed URL needs no header: it carries the user, the ID of the
// API key that generated it (never the key) and its expiry, under an HMAC
// with the configuration's sealed key. It stops working when it expires,
// when that API key is revoked, or when the configuration is deleted.
// Only a project API key may generate them (the URL acts as it); EINVALID
// for a bad user ID or none, ENOTFOUND for an unknown configuration.
func (s *Service) GenerateMCPURLs(ctx context.Context, p *Principal, id string, userIDs []string, managed bool, origin string) (*MCPURLs, error) {
	projectID, err := s.can(ctx, p, ManageMCPServers, "")
	if err != nil {
		return nil, err
	}
	if p.Credential.Kind != CredentialProjectKey || p.Credential.ID == "" {
		return nil, Errorf(EINVALID, "Signed MCP URLs act as the project API key that generates them: generate them with a project API key (x-api-key).")
	}
	if len(userIDs) == 0 || len(userIDs) > 100 {
		return nil, Errorf(EINVALID, "user_ids must name 1 to 100 users.")
	}
	for _, u := range userIDs {
		if err := ValidateUserID(u); err != nil {
			return nil, err
		}
	}
	m, err := s.store.GetMCPServer(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	key, err := s.mcpURLKey(ctx, m)
	if err != nil {
		return nil, err
	}
	exp := s.now().Add(s.mcpURLLifetime).Unix()
	out := &MCPURLs{Base: MCPURL(origin, m.ID, "", false)}
	for _, u := range userIDs {
		sig := p.Credential.ID + "." + strconv.FormatInt(exp, 10) + "." + mcpSignature(key, m.ID, u, p.Credential.ID, exp)
		out.Users = append(out.Users, MCPURL(origin, m.ID, u, managed)+"&sig="+sig)
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		return s.audit(ctx, tx, p, ActionMCPServerGenerate, projectID, m.ID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mcpSignature is the base64url HMAC-SHA256, under a configuration's key,
// of what a signed URL grants: the configuration, the user, the API key it
// acts as and the expiry, NUL-separated (none of them can hold a NUL).
func mcpSignature(key []byte, serverID, user, keyID string, exp int64) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("patchbay-mcp-url/v1\x00" + serverID + "\x00" + user + "\x00" + keyID + "\x00" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// mcpURLKey opens the configuration's signing key.
func (s *Service) mcpURLKey(ctx context.Context, m *MCPServer) ([]byte, error) {
	ref := SecretRef{ProjectID: m.ProjectID, Record: m.ID, Field: FieldMCPURLKey}
	st, err := s.store.GetSecret(ctx, ref)
	if err != nil {
		return nil, err
	}
	pt, err := s.sealer.Open(ref, st.Sealed)
	if err != nil {
		return nil, err
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(pt.Reveal()), &v); err != nil || v["key"] == "" {
		return nil, &Error{Code: EINTERNAL, Message: "decode MCP URL key", Err: err}
	}
	return []byte(v["key"]), nil
}

// MCPRequest is what an MCP request presents.
type MCPRequest struct {
	ServerID  string
	UserID    string // ?user_id=
	Signature string // ?sig=, "" for none
	APIKey    string // x-api-key, "" for none
	IP        string
}

// MCPAccess is an authenticated MCP request: who acts, through which
// configuration, for which user.
type MCPAccess struct {
	Principal *Principal // a copy, with the request's IP
	Server    *MCPServer // shared with other requests: read-only
	UserID    string
	version   int64 // the organization's read version when opened, -1 if not read
}

var (
	errMCPNoAuth = Errorf(EUNAUTHORIZED, "Missing credentials: send a project API key in the x-api-key header, or use a signed MCP URL (POST /api/v3.1/mcp/servers/generate).")
	errMCPBadURL = Errorf(EUNAUTHORIZED, "Invalid MCP URL signature: generate a new URL (POST /api/v3.1/mcp/servers/generate).")
)

// OpenMCP authenticates an MCP request, on every request (MCP over HTTP is
// served stateless, so a revoked key or a deleted configuration is refused
// on the next message even of a live client session): with a project API
// key, the user comes from ?user_id=; with a signed URL, the signature must
// hold under the configuration's key, be unexpired, and the API key that
// generated it must still be live. EUNAUTHORIZED for every credential
// failure (a signed URL of a deleted configuration included); ENOTFOUND
// for an unknown configuration behind a valid key; EINVALID for a bad
// user ID.
func (s *Service) OpenMCP(ctx context.Context, r MCPRequest) (*MCPAccess, error) {
	var (
		p       *Principal
		m       *MCPServer
		version int64 = -1
	)
	switch {
	case r.APIKey != "":
		kp, err := s.Authenticate(ctx, r.APIKey)
		if err != nil {
			return nil, err
		}
		if kp.Credential.Kind != CredentialProjectKey {
			return nil, Errorf(EUNAUTHORIZED, "MCP needs a project API key (ak_…) in x-api-key; an organization key was sent.")
		}
		c := kp.WithIP(r.IP)
		p = &c
		if _, err := s.can(ctx, p, ExecuteTools, ""); err != nil {
			return nil, err
		}
		if version, err = s.store.ReadVersion(ctx, p.OrgID); err != nil {
			return nil, err
		}
		if m, err = s.mcpServer(ctx, p.ProjectID, r.ServerID, version); err != nil {
			return nil, err
		}
		if r.Signature != "" {
			// A signed URL used with a key must still be a valid one.
			if _, err := s.checkMCPSignature(ctx, m, r); err != nil {
				return nil, err
			}
		}
	case r.Signature != "":
		var err error
		if m, err = s.store.FindMCPServer(ctx, r.ServerID); err != nil {
			if ErrorCode(err) == ENOTFOUND {
				return nil, errMCPBadURL
			}
			return nil, err
		}
		keyID, err := s.checkMCPSignature(ctx, m, r)
		if err != nil {
			return nil, err
		}
		kp, err := s.auth.authenticateID(ctx, m.OrgID, m.ProjectID, keyID)
		if err != nil {
			return nil, err
		}
		c := kp.WithIP(r.IP)
		p = &c
		if _, err := s.can(ctx, p, ExecuteTools, ""); err != nil {
			return nil, err
		}
	default:
		return nil, errMCPNoAuth
	}
	if r.UserID == "" {
		return nil, Errorf(EINVALID, "user_id is required: add ?user_id=<the end user's id> to the MCP URL.")
	}
	if err := ValidateUserID(r.UserID); err != nil {
		return nil, err
	}
	return &MCPAccess{Principal: p, Server: m, UserID: r.UserID, version: version}, nil
}

// mcpServer is GetMCPServer through a cache kept under the organization's
// read version, which every change to a configuration bumps.
func (s *Service) mcpServer(ctx context.Context, projectID, id string, version int64) (*MCPServer, error) {
	key := projectID + "\x00" + id
	if m, ok := s.mcp.get(key, version); ok {
		return m, nil
	}
	m, err := s.store.GetMCPServer(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	s.mcp.put(key, version, m)
	return m, nil
}

// ExecuteMCPTool runs a tool for the access's user as ExecuteTool does (the
// same checks, account choice, injection and log), reusing the read
// version the access was opened at. The tool must be one the
// configuration serves (EINVALID otherwise).
func (s *Service) ExecuteMCPTool(ctx context.Context, a *MCPAccess, tool string, args map[string]any) (*ToolResult, error) {
	t, err := s.Tool(a.Principal, tool)
	if err != nil {
		return nil, err
	}
	if !MCPAllows(a.Server, t) {
		return nil, Errorf(EINVALID, "MCP server %s does not serve tool %s.", a.Server.ID, t.Slug)
	}
	return s.executeTool(ctx, a.Principal, ToolCall{Tool: t.Slug, UserID: a.UserID, Arguments: args}, a.version)
}

// checkMCPSignature verifies r's signature for m and returns the API key
// ID it names.
func (s *Service) checkMCPSignature(ctx context.Context, m *MCPServer, r MCPRequest) (string, error) {
	parts := strings.Split(r.Signature, ".")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], PrefixKey) {
		return "", errMCPBadURL
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return "", errMCPBadURL
	}
	key, err := s.mcpURLKey(ctx, m)
	if ErrorCode(err) == ENOTFOUND {
		return "", errMCPBadURL // deleted under us
	}
	if err != nil {
		return "", err
	}
	want := mcpSignature(key, m.ID, r.UserID, parts[0], exp)
	if !hmac.Equal([]byte(want), []byte(parts[2])) {
		return "", errMCPBadURL
	}
	if s.now().Unix() >= exp {
		return "", Errorf(EUNAUTHORIZED, "This MCP URL expired at %s: generate a new one (POST /api/v3.1/mcp/servers/generate).", time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	return parts[0], nil
}

// MCPTools are the tools a configuration serves: its allowed tools, or
// every tool of its toolkits when it allows all, ordered by toolkit and
// slug.
func (s *Service) MCPTools(a *MCPAccess) ([]*Tool, error) {
	m := a.Server
	if len(m.Toolkits) == 0 {
		return []*Tool{}, nil // a session whose user has connected nothing yet
	}
	tools, _, err := s.Tools(a.Principal, ToolFilter{Toolkits: m.Toolkits, Slugs: m.AllowedTools})
	return tools, err
}

// MCPAllows reports whether a configuration serves the tool slug.
func MCPAllows(m *MCPServer, t *Tool) bool {
	if len(m.AllowedTools) > 0 {
		return slices.Contains(m.AllowedTools, t.Slug)
	}
	return slices.Contains(m.Toolkits, strings.ToLower(t.Toolkit))
}

// MCPConnectHint tells an agent how the user gets connected to toolkit,
// after a call failed for want of an account: with managed auth and an
// OAuth2 auth config for the toolkit (the configuration's own, else the
// project's only enabled one), it starts a connection and gives its
// connect link; otherwise it says which auth config to connect through.
func (s *Service) MCPConnectHint(ctx context.Context, a *MCPAccess, toolkit, origin string) string {
	base := "User " + strconv.Quote(Truncate(a.UserID, 80)) + " has not connected " + toolkit + " yet."
	ac := s.mcpAuthConfig(ctx, a, toolkit)
	if ac == nil {
		return base + " Create an auth config for " + toolkit + " and connect the user (POST /api/v3.1/connected_accounts), then call the tool again."
	}
	if a.Server.ManagedAuth && ac.Mode == AuthOAuth2 {
		if link := s.mcpConnectLink(ctx, a, ac, origin); link != "" {
			return base + " Ask the user to open this link to connect their account, then call the tool again: " + link
		}
	}
	return base + " Connect the user through auth config " + ac.ID + " (POST /api/v3.1/connected_accounts or /api/v3.1/connected_accounts/link), then call the tool again."
}

// mcpLinkReuse is how long before its expiry a connect link an MCP hint
// handed out is still handed out again: long enough for the user to open
// it.
const mcpLinkReuse = 2 * time.Minute

// mcpConnectLink is a connect link for the access's user through ac. An
// agent that calls an unconnected tool again gets the link it got before,
// while that link has a few minutes left and its account is still
// INITIATED, rather than a new account and link each time. The links are
// kept in this instance's memory only, never stored.
func (s *Service) mcpConnectLink(ctx context.Context, a *MCPAccess, ac *AuthConfig, origin string) string {
	key := ac.ProjectID + "\x00" + ac.ID + "\x00" + a.UserID + "\x00" + origin
	now := s.now()
	if l, ok := s.mcpLinks.get(key, now.Add(mcpLinkReuse)); ok {
		if rec, err := s.store.GetConnectedAccount(ctx, ac.ProjectID, l.accountID); err == nil && rec.Status == StatusInitiated {
			return l.url
		}
	}
	ca, err := s.Connect(ctx, a.Principal, NewConnection{AuthConfigID: ac.ID, UserID: a.UserID, OAuth: OAuthStart{Origin: origin}})
	if err != nil || ca.Link == nil {
		return ""
	}
	s.mcpLinks.put(key, mcpLink{url: ca.Link.URL, accountID: ca.ID, expires: ca.Link.ExpiresAt}, now)
	return ca.Link.URL
}

// mcpLinks are the connect links MCP hints handed out, by project, auth
// config, user and origin, until they expire.
type mcpLinks struct {
	mu    sync.Mutex
	links map[string]mcpLink
}

type mcpLink struct {
	url, accountID string
	expires        time.Time
}

// get is the link under key if it is still valid at until.
func (m *mcpLinks) get(key string, until time.Time) (mcpLink, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.links[key]
	return l, ok && until.Before(l.expires)
}

// put keeps l under key, first dropping the expired links when there are
// many.
func (m *mcpLinks) put(key string, l mcpLink, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.links == nil {
		m.links = map[string]mcpLink{}
	}
	if len(m.links) >= 4096 {
		for k, old := range m.links {
			if !now.Before(old.expires) {
				delete(m.links, k)
			}
		}
	}
	m.links[key] = l
}

func (s *Service) mcpAuthConfig(ctx context.Context, a *MCPAccess, toolkit string) *AuthConfig {
	for _, id := range a.Server.AuthConfigIDs {
		ac, err := s.store.GetAuthConfig(ctx, a.Server.ProjectID, id)
		if err == nil && strings.EqualFold(ac.Toolkit, toolkit) && !ac.Disabled {
			return ac
		}
	}
	recs, _, err := s.store.ListAuthConfigs(ctx, AuthConfigFilter{ProjectID: a.Server.ProjectID, Toolkit: toolkit, Page: Page{Limit: 2}})
	if err != nil || len(recs) != 1 || recs[0].Disabled {
		return nil
	}
	return recs[0].AuthConfig
}
