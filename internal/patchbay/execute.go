package patchbay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// ToolCall is one execution of a tool for a user.
type ToolCall struct {
	Tool string
	// Version is "" or "latest" for the catalog's version, or a concrete
	// one (YYYYMMDD_NN), which must be the catalog's.
	Version string
	// ConnectedAccountID picks the account; without it, the user's one
	// ACTIVE account for the tool's toolkit is used.
	ConnectedAccountID string
	UserID             string
	Arguments          map[string]any
}

// ToolResult is what a call returns. A failure of the app (a 4xx or 5xx
// answer, a timeout) is a result with Successful false and Error saying
// what happened, not an error: the call itself was carried out.
type ToolResult struct {
	Data       map[string]any
	Error      string // "" when Successful
	Successful bool
	LogID      string
	// UpstreamStatus is the app's HTTP status, 0 if it did not answer.
	UpstreamStatus int
	Duration       time.Duration
}

// ExecuteTool runs a tool for a user with the user's credentials, which
// are opened in memory only for the call. Errors, each saying what to do:
// ENOTFOUND for an unknown tool, version or account; EINVALID for
// arguments that fail the tool's schema (every violation listed), an
// account of another toolkit or user, or several accounts with none
// chosen; ENOACCOUNT when the user has no account for the toolkit;
// and EINVALID too for an account or auth config that is disabled or not
// ACTIVE (a 400: the legacy Node SDK breaks on a 409).
func (s *Service) ExecuteTool(ctx context.Context, p *Principal, call ToolCall) (res *ToolResult, err error) {
	return s.executeTool(ctx, p, call, -1)
}

// executeTool is ExecuteTool at the organization's read version known (the
// caller read it for this request), or -1 to read it.
func (s *Service) executeTool(ctx context.Context, p *Principal, call ToolCall, known int64) (res *ToolResult, err error) {
	projectID, err := s.can(ctx, p, ExecuteTools, "")
	if err != nil {
		return nil, err
	}
	t, err := s.Tool(p, call.Tool)
	if err != nil {
		return nil, err
	}
	start := s.now()
	var account string
	version := int64(-1) // the read version, once known
	defer func() {
		e := &ExecutionLog{ProjectID: projectID, Kind: LogKindTool, Tool: t.Slug, Toolkit: t.Toolkit, ConnectedAccountID: account,
			UserID: call.UserID, request: call.Arguments, At: start, Duration: s.now().Sub(start)}
		switch {
		case err != nil:
			e.ID, e.Status, e.Message = s.newLogID(), LogFailed, ErrorMessage(err)
		default:
			e.ID, e.UpstreamStatus, e.response = res.LogID, res.UpstreamStatus, res.Data
			e.Status, e.Message = LogSucceeded, ""
			if !res.Successful {
				e.Status, e.Message = LogFailed, res.Error
			}
		}
		s.record(e, version < 0 || s.omitPayloads(ctx, p.OrgID, projectID, version))
	}()
	if version = known; version < 0 {
		if version, err = s.store.ReadVersion(ctx, p.OrgID); err != nil {
			return nil, err
		}
	}
	if v := call.Version; v != "" && v != "latest" && v != t.Version {
		return nil, Errorf(ENOTFOUND, "Tool %s has no version %q; available: %s (or \"latest\").", t.Slug, Truncate(v, 40), t.Version)
	}
	if call.Arguments == nil {
		call.Arguments = map[string]any{}
	}
	if t.Check != nil {
		if violations := t.Check(call.Arguments); len(violations) > 0 {
			return nil, Errorf(EINVALID, "Invalid arguments for %s: %s.", t.Slug, strings.Join(violations, "; "))
		}
	}
	req, err := t.Build(call.Arguments)
	if err != nil {
		return nil, err
	}
	tk, err := s.toolkit(t.Toolkit)
	if err != nil {
		return nil, err
	}
	conn, err := s.connectionFor(ctx, p, version, projectID, tk, call.ConnectedAccountID, call.UserID)
	if errors.Is(err, ErrUnreachable) {
		// The provider's token endpoint could not be reached for a refresh:
		// the call fails as an unreachable app does.
		account = call.ConnectedAccountID
		return &ToolResult{LogID: s.newLogID(), Data: map[string]any{}, Error: ErrorMessage(err)}, nil
	}
	if err != nil {
		return nil, err
	}
	if conn.account != nil {
		account, call.UserID = conn.account.ID, conn.account.UserID
	}
	res = &ToolResult{LogID: s.newLogID()}
	resp, err := s.caller.Call(ctx, tk, conn.scheme, conn.creds, req)
	if err != nil {
		if !errors.Is(err, ErrUnreachable) {
			return nil, err
		}
		res.Data, res.Error = map[string]any{}, ErrorMessage(err)
		return res, nil
	}
	res.UpstreamStatus, res.Duration = resp.Status, resp.Duration
	// An app may echo the credential (SerpApi's /account does): it never
	// comes back to the caller.
	resp.Body = scrubSecrets(resp.Body, conn.scheme, conn.creds)
	data, derr := t.Data(resp.Body)
	if resp.Status < 200 || resp.Status > 299 {
		if derr != nil {
			data = map[string]any{}
		}
		res.Data, res.Error = data, upstreamError(tk, resp)
		return res, nil
	}
	if derr != nil {
		res.Data, res.Error = map[string]any{}, fmt.Sprintf("%s answered in an unexpected shape: %v.", tk.Name, derr)
		return res, nil
	}
	res.Data, res.Successful = data, true
	return res, nil
}

// connection is an account chosen for a call, with its credentials open.
type connection struct {
	account *ConnectedAccount
	scheme  *AuthScheme
	creds   map[string]string
}

// connectionFor picks the account a call of tk runs with: id, or the
// user's one ACTIVE, enabled account for tk. A toolkit without auth needs
// none.
func (s *Service) connectionFor(ctx context.Context, p *Principal, version int64, projectID string, tk *Toolkit, id, userID string) (*connection, error) {
	if id == "" && tk.NoAuth() {
		return &connection{scheme: &tk.AuthSchemes[0], creds: map[string]string{}}, nil
	}
	// The records (credentials still sealed) are kept under the
	// organization's read version (the caller's): an unchanged account
	// costs nothing more, and any change to it, or to anything else of the
	// organization, reads it afresh.
	var (
		rec *ConnectionRecord
		err error
	)
	if id == "" {
		if userID == "" {
			return nil, Errorf(EINVALID, "Name the user (user_id) or the connected account (connected_account_id) to run this %s tool for.", tk.Name)
		}
		key := projectID + "\x00user\x00" + userID + "\x00" + tk.Slug
		if cached, ok := s.records.get(key, version); ok {
			return s.openConnection(ctx, p, projectID, tk, cached, userID)
		}
		recs, _, err := s.store.ListConnectedAccounts(ctx, ConnectionFilter{
			ProjectID: projectID, UserIDs: []string{userID}, Toolkits: []string{tk.Slug},
			Statuses: []ConnectionStatus{StatusActive}, Disabled: new(bool), Page: Page{Limit: 10}, WithCredentials: true,
		})
		if err != nil {
			return nil, err
		}
		if len(recs) == 1 {
			s.records.put(key, version, recs[0])
		}
		switch len(recs) {
		case 0:
			return nil, Errorf(ENOACCOUNT, "No ACTIVE connected account for user %q and toolkit %s: connect the user first (POST /api/v3.1/connected_accounts).", Truncate(userID, 80), tk.Slug)
		case 1:
			rec = recs[0] // read with its credentials: no second read
		default:
			ids := make([]string, len(recs))
			for i, r := range recs {
				ids[i] = r.ID
			}
			sort.Strings(ids)
			return nil, Errorf(EINVALID, "User %q has %d ACTIVE %s accounts (%s): choose one with connected_account_id.", Truncate(userID, 80), len(ids), tk.Slug, strings.Join(ids, ", "))
		}
	}
	if rec == nil {
		if rec, err = s.accountRecord(ctx, projectID, id, version); err != nil {
			return nil, err
		}
	}
	return s.openConnection(ctx, p, projectID, tk, rec, userID)
}

// accountRecord reads an account with its sealed credentials, or takes it
// from the records kept at version.
func (s *Service) accountRecord(ctx context.Context, projectID, id string, version int64) (*ConnectionRecord, error) {
	key := projectID + "\x00id\x00" + id
	if rec, ok := s.records.get(key, version); ok {
		return rec, nil
	}
	rec, err := s.store.GetConnectedAccount(ctx, projectID, id)
	if code := ErrorCode(err); code == ENOTFOUND {
		return nil, Errorf(ENOACCOUNT, "Connected account %s not found.", Truncate(id, 80))
	} else if err != nil {
		return nil, err
	}
	s.records.put(key, version, rec)
	return rec, nil
}

// versioned keeps values under the organization read version they were
// read at; a value is good only while that version is current. Account
// records keep their credentials sealed: nothing is kept in clear.
type versioned[T any] struct {
	mu sync.Mutex
	m  map[string]versionedEntry[T]
}

type versionedEntry[T any] struct {
	version int64
	v       T
}

// maxVersioned bounds a cache; past it, it starts over.
const maxVersioned = 10000

func (c *versioned[T]) get(key string, version int64) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok && e.version == version {
		return e.v, true
	}
	var zero T
	return zero, false
}

func (c *versioned[T]) put(key string, version int64, v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxVersioned {
		c.m = make(map[string]versionedEntry[T])
	}
	if e, ok := c.m[key]; ok && e.version > version {
		return
	}
	c.m[key] = versionedEntry[T]{version: version, v: v}
}

// openConnection checks that an account record may run a call of tk for
// userID ("" for any user) and opens its credentials.
func (s *Service) openConnection(ctx context.Context, p *Principal, projectID string, tk *Toolkit, rec *ConnectionRecord, userID string) (*connection, error) {
	ca := rec.ConnectedAccount
	switch {
	case !strings.EqualFold(ca.Toolkit, tk.Slug):
		return nil, Errorf(EINVALID, "Connected account %s is a %s account; this tool is %s's.", ca.ID, ca.Toolkit, tk.Slug)
	case userID != "" && ca.UserID != userID:
		return nil, Errorf(EINVALID, "Connected account %s belongs to another user than %q.", ca.ID, Truncate(userID, 80))
	case ca.Disabled:
		return nil, Errorf(EINVALID, "Connected account %s is disabled: enable it first.", ca.ID)
	case rec.AuthConfigDisabled:
		return nil, Errorf(EINVALID, "The auth config of connected account %s is disabled.", ca.ID)
	case ca.Status != StatusActive:
		return nil, Errorf(EINVALID, "Connected account %s is %s, not ACTIVE: reconnect the user.", ca.ID, ca.Status)
	}
	_, sc, err := s.schemeFor(ca.Toolkit, ca.Mode)
	if err != nil {
		return nil, err
	}
	creds, err := s.openCredentials(rec.Credentials, sc)
	if err != nil {
		return nil, err
	}
	if s.needsRefresh(sc, creds) {
		// The access token is expired or about to: renew it first (under
		// the account's lock, once for every caller waiting on it).
		fresh, renewed, err := s.refreshOAuth(ctx, p, projectID, ca.ID, creds[FieldAccessToken], false)
		if err != nil {
			return nil, err
		}
		ca, creds = fresh, renewed
	}
	// A base URL may be shaped by the auth config (Salesforce's instance):
	// its plain values join the connection's.
	if names := authConfigPlaceholders(sc); len(names) > 0 {
		acRec, err := s.store.GetAuthConfigRecord(ctx, projectID, ca.AuthConfigID)
		if err != nil {
			return nil, err
		}
		acCreds, err := s.openCredentials(acRec.Credentials, sc)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if _, set := creds[n]; !set && acCreds[n] != "" {
				creds[n] = acCreds[n]
			}
		}
	}
	return &connection{account: ca, scheme: sc, creds: creds}, nil
}

// authConfigPlaceholders lists the auth config's plain fields that shape
// the base URL: those its template names, and its own base URL (full).
func authConfigPlaceholders(sc *AuthScheme) []string {
	var out []string
	for _, f := range sc.FieldsFor(ScopeAuthConfig) {
		if !f.Secret && (f.Name == FieldBaseURL || strings.Contains(sc.BaseURL, "{{"+f.Name+"}}")) {
			out = append(out, f.Name)
		}
	}
	return out
}

// upstreamError says what an app's error answer was: its status and the
// message its body carries, if it carries one.
func upstreamError(tk *Toolkit, resp *UpstreamResponse) string {
	msg := fmt.Sprintf("%s answered HTTP %d", tk.Name, resp.Status)
	if m := bodyMessage(resp.Body); m != "" {
		msg += ": " + Truncate(m, 300)
	}
	return msg + "."
}

// bodyMessage finds the human message in an app's error body: message,
// error, error.message, error_description, errors[0].message, or a short
// text body.
func bodyMessage(body []byte) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		if s := strings.TrimSpace(string(body)); len(s) > 0 && len(s) <= 300 && !strings.ContainsAny(s, "<{") {
			return s
		}
		return ""
	}
	for _, ptr := range []string{"/message", "/error/message", "/error_description", "/error", "/errors/0/message", "/detail", "/title"} {
		if x, ok := jsonPointer(v, ptr); ok {
			if s, ok := x.(string); ok && s != "" {
				return s
			}
		}
	}
	return ""
}

// newID returns prefix and 16 random URL-safe characters.
func (s *Service) newID(prefix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [16]byte
	if _, err := s.rand.Read(b[:]); err != nil {
		_, _ = rand.Read(b[:])
	}
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = alphabet[int(c)%len(alphabet)]
	}
	return prefix + string(out)
}

// newLogID returns an execution log's id: "log_", the time in
// microseconds as 10 base-62 digits, then 10 random characters. Ids sort
// by time, so the logs' primary-key index grows at its end, as the table
// does: a batch of logs dirties a few pages rather than one per log.
func (s *Service) newLogID() string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" // in byte order
	var b [24]byte
	copy(b[:], "log_")
	us := uint64(max(s.now().UnixMicro(), 0))
	for i := 13; i >= 4; i-- {
		b[i] = digits[us%62]
		us /= 62
	}
	random := s.newID("")
	copy(b[14:], random[:10])
	return string(b[:])
}

// ProxyCall is a request to any endpoint of a connection's app.
type ProxyCall struct {
	ConnectedAccountID string
	// Endpoint is relative to the connection's base URL, or an absolute
	// URL on the same origin.
	Endpoint string
	Method   string
	// Headers and Query are sent as given, but Authorization and Cookie,
	// which only the connection's credentials decide.
	Headers http.Header
	Query   url.Values
	Body    []byte
	// ContentType of Body ("" for none).
	ContentType string
}

// Proxy sends a request to a connection's app with the connection's
// credentials and returns the app's answer as it came. EINVALID for an
// endpoint on another origin (OriginMismatch) or a bad method; the
// account errors of ExecuteTool.
func (s *Service) Proxy(ctx context.Context, p *Principal, call ProxyCall) (resp *UpstreamResponse, err error) {
	projectID, err := s.can(ctx, p, ExecuteTools, "")
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(call.Method)
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead:
	default:
		return nil, Errorf(EINVALID, "method must be GET, POST, PUT, PATCH, DELETE or HEAD; got %q.", Truncate(call.Method, 20))
	}
	if call.ConnectedAccountID == "" {
		return nil, Errorf(EINVALID, "connected_account_id is required: the proxy calls an app as one connected account.")
	}
	version, err := s.store.ReadVersion(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	rec, err := s.accountRecord(ctx, projectID, call.ConnectedAccountID, version)
	if err != nil {
		return nil, err
	}
	tk, err := s.toolkit(rec.Toolkit)
	if err != nil {
		return nil, err
	}
	conn, err := s.openConnection(ctx, p, projectID, tk, rec, "")
	if err != nil {
		return nil, err
	}
	start := s.now()
	defer func() {
		e := &ExecutionLog{ID: s.newLogID(), ProjectID: projectID, Kind: LogKindProxy, Toolkit: tk.Slug, ConnectedAccountID: rec.ID,
			UserID: rec.UserID, Status: LogSucceeded, At: start, Duration: s.now().Sub(start),
			request: map[string]any{"method": method, "endpoint": Truncate(call.Endpoint, 500)}}
		switch {
		case err != nil:
			e.Status, e.Message = LogFailed, ErrorMessage(err)
		case resp.Status >= 400:
			e.Status, e.UpstreamStatus, e.Message = LogFailed, resp.Status, upstreamError(tk, resp)
		default:
			e.UpstreamStatus = resp.Status
		}
		s.record(e, s.omitPayloads(ctx, p.OrgID, projectID, version))
	}()
	base, err := s.caller.BaseURL(tk, conn.scheme, conn.creds)
	if err != nil {
		return nil, err
	}
	path, query, err := proxyPath(base, call.Endpoint)
	if err != nil {
		return nil, err
	}
	for k, vs := range call.Query {
		query[k] = append(query[k], vs...)
	}
	header := http.Header{}
	for k, vs := range call.Headers {
		switch strings.ToLower(k) {
		case "authorization", "cookie", "host", "content-length":
			continue // only the connection's credentials authenticate
		}
		header[http.CanonicalHeaderKey(k)] = vs
	}
	req := &UpstreamRequest{Method: method, Path: path, Query: query, Header: header, Body: call.Body, ContentType: call.ContentType}
	resp, err = s.caller.Call(ctx, tk, conn.scheme, conn.creds, req)
	if err != nil {
		return nil, err
	}
	resp.Body = scrubSecrets(resp.Body, conn.scheme, conn.creds)
	return resp, nil
}

// scrubSecrets replaces every secret credential value of a connection that
// appears in an app's answer with its masked form. Values shorter than 8
// characters are left: too short to be a credential worth the search, and
// likely to match unrelated text.
func scrubSecrets(body []byte, sc *AuthScheme, creds map[string]string) []byte {
	for name, v := range creds {
		if len(v) < 8 {
			continue
		}
		if f, ok := sc.Field(name); ok && !f.Secret {
			continue
		}
		if bytes.Contains(body, []byte(v)) {
			body = bytes.ReplaceAll(body, []byte(v), []byte(MaskValue(v)))
		}
	}
	return body
}

// proxyPath makes an endpoint relative to base: a path (with or without
// its leading slash, with a query) is taken as relative; an absolute URL
// must be on base's origin and under its path.
func proxyPath(base *url.URL, endpoint string) (string, url.Values, error) {
	if strings.TrimSpace(endpoint) == "" {
		return "", nil, Errorf(EINVALID, "endpoint is required: a path relative to the connection's base URL (%s).", base.Redacted())
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", nil, Errorf(EINVALID, "endpoint %q is not a URL or a path.", Truncate(endpoint, 100))
	}
	if u.IsAbs() || u.Host != "" {
		if !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
			return "", nil, Errorf(EINVALID, "OriginMismatch: endpoint %s is not on the connection's origin %s://%s; give a path relative to %s.",
				Truncate(u.Scheme+"://"+u.Host, 100), base.Scheme, base.Host, base.Redacted())
		}
		rel, ok := strings.CutPrefix(u.EscapedPath(), strings.TrimSuffix(base.EscapedPath(), "/"))
		if !ok {
			return "", nil, Errorf(EINVALID, "OriginMismatch: endpoint %s is outside the connection's base URL %s.", Truncate(u.EscapedPath(), 100), base.Redacted())
		}
		u = &url.URL{Path: rel, RawPath: rel, RawQuery: u.RawQuery}
	}
	if strings.Contains(u.EscapedPath(), "..") {
		return "", nil, Errorf(EINVALID, "endpoint %q may not contain \"..\".", Truncate(endpoint, 100))
	}
	path := u.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return path, u.Query(), nil
}
