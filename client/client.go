package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Version is the version of this SDK, sent in the User-Agent header.
const Version = "0.1.0"

// Path prefixes of the two API generations the client speaks.
const (
	v3     = "/api/v3.1"
	legacy = "/api/v1"
)

// maxResponse caps how much of a response body is read (a toolkit listing
// is tens of kilobytes; this is three orders of magnitude above it).
const maxResponse = 32 << 20

// Client talks to one patchbay (or Composio) server. It is safe for
// concurrent use. Create it with New.
type Client struct {
	baseURL   string // scheme://host[/prefix], without a trailing slash
	origin    string // scheme://host, where credentials may be sent
	apiKey    secret
	orgKey    secret
	http      *http.Client
	userAgent string
	insecure  bool
}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey sets the project API key (ak_…), sent as x-api-key. Project
// endpoints (toolkits, auth configs, connected accounts, API keys) need it.
func WithAPIKey(key string) Option { return func(c *Client) { c.apiKey = secret(key) } }

// WithOrgAPIKey sets the organization API key (oak_…), sent as
// x-org-api-key. The project endpoints (Projects, CreateProject, …) need it.
func WithOrgAPIKey(key string) Option { return func(c *Client) { c.orgKey = secret(key) } }

// WithHTTPClient sets the HTTP client that carries requests (default: a
// client with a 60-second timeout). The client is copied, not modified.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent names the calling application; it goes before this SDK's
// own product token in the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithInsecureHTTP allows a plain http:// base URL on a host other than
// loopback. Without it New refuses one, since API keys would cross the
// network in clear text.
func WithInsecureHTTP() Option { return func(c *Client) { c.insecure = true } }

// New returns a client for the server at baseURL, e.g.
// "https://patchbay.example.com" or "http://127.0.0.1:8080". A path prefix
// is kept: requests go to baseURL + "/api/v3.1/…".
//
// New fails on a URL that is not absolute http(s), on plain http to a
// non-loopback host (see WithInsecureHTTP), and on a key that cannot be
// sent in a header. It sends no request.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("patchbay: base URL %q must be an absolute http or https URL", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, errors.New("patchbay: base URL must not carry a query, fragment or user info")
	}
	c := &Client{baseURL: u.String(), origin: u.Scheme + "://" + u.Host}
	for _, opt := range opts {
		opt(c)
	}
	if u.Scheme == "http" && !c.insecure && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("patchbay: refusing to send API keys in clear text to %s; use https, or WithInsecureHTTP", c.origin)
	}
	for _, k := range []secret{c.apiKey, c.orgKey} {
		if !validHeaderValue(string(k)) {
			return nil, errors.New("patchbay: an API key contains characters that cannot be sent in a header")
		}
	}
	hc := http.Client{Timeout: 60 * time.Second}
	if c.http != nil {
		hc = *c.http
	}
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		// net/http forwards custom headers on redirect; keep the keys to
		// the configured origin.
		if req.URL.Scheme+"://"+req.URL.Host != c.origin {
			req.Header.Del("X-Api-Key")
			req.Header.Del("X-Org-Api-Key")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	c.http = &hc
	return c, nil
}

// String describes the client without its keys. String and Format have
// value receivers so that a dereferenced copy prints safely too.
func (c Client) String() string {
	var keys []string
	if c.apiKey != "" {
		keys = append(keys, "x-api-key")
	}
	if c.orgKey != "" {
		keys = append(keys, "x-org-api-key")
	}
	if len(keys) == 0 {
		keys = append(keys, "no keys")
	}
	return "patchbay.Client(" + c.baseURL + ", " + strings.Join(keys, ", ") + ")"
}

// Format prints String for every verb, so no format prints the keys.
func (c Client) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b == 0x7f {
			return false
		}
	}
	return true
}

// secret holds an API key; it prints as [REDACTED] with every verb.
type secret string

func (secret) String() string                  { return "[REDACTED]" }
func (secret) GoString() string                { return `"[REDACTED]"` }
func (s secret) Format(f fmt.State, verb rune) { io.WriteString(f, "[REDACTED]") }

// auth says which credential a request carries: exactly one, as the
// server answers 401 to a request with both.
type auth int

const (
	authNone    auth = iota
	authProject      // x-api-key
	authOrg          // x-org-api-key
	authAny          // x-api-key if set, else x-org-api-key
)

// request is one API call.
type request struct {
	method string
	path   string // escaped, below the base URL
	query  url.Values
	auth   auth
	body   any // JSON-encoded when not nil
}

// do sends req and decodes a 2xx JSON answer into out (when not nil). A
// non-2xx answer becomes an *Error.
func (c *Client) do(ctx context.Context, req request, out any) error {
	u := c.baseURL + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	var body io.Reader
	if req.body != nil {
		b, err := json.Marshal(req.body)
		if err != nil {
			return fmt.Errorf("patchbay: encode %s %s: %w", req.method, req.path, err)
		}
		body = bytes.NewReader(b)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u, body)
	if err != nil {
		return fmt.Errorf("patchbay: %s %s: %w", req.method, req.path, err)
	}
	hr.Header.Set("Accept", "application/json")
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	ua := "patchbay-go/" + Version
	if c.userAgent != "" {
		ua = c.userAgent + " " + ua
	}
	hr.Header.Set("User-Agent", ua)
	switch {
	case (req.auth == authProject || req.auth == authAny) && c.apiKey != "":
		hr.Header.Set("X-Api-Key", string(c.apiKey))
	case (req.auth == authOrg || req.auth == authAny) && c.orgKey != "":
		hr.Header.Set("X-Org-Api-Key", string(c.orgKey))
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		// net/http errors name the URL, never the headers.
		return fmt.Errorf("patchbay: %s %s: %w", req.method, req.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("patchbay: %s %s: read response: %w", req.method, req.path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.redact(parseError(resp, raw))
	}
	if out == nil || resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("patchbay: %s %s: decode response (HTTP %d, %s): %w",
			req.method, req.path, resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	return nil
}

// redact removes the client's own keys from a server message, in case a
// server (or a proxy in front of it) echoes a header back.
func (c *Client) redact(e *Error) *Error {
	for _, k := range []secret{c.apiKey, c.orgKey} {
		if k != "" {
			e.Message = strings.ReplaceAll(e.Message, string(k), "[REDACTED]")
		}
	}
	return e
}

// pathf builds a path, escaping each argument as one path segment.
func pathf(format string, ids ...string) string {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = url.PathEscape(id)
	}
	return fmt.Sprintf(format, args...)
}

// query collects URL parameters, skipping empty ones. Lists go as one
// comma-joined parameter, as the official SDKs send them.
type query url.Values

func (q query) str(name, v string) {
	if v != "" {
		q[name] = []string{v}
	}
}

func (q query) list(name string, vs []string) {
	if len(vs) > 0 {
		q[name] = []string{strings.Join(vs, ",")}
	}
}

func (q query) int(name string, n int) {
	if n > 0 {
		q[name] = []string{strconv.Itoa(n)}
	}
}

func (q query) bool(name string, b bool) {
	if b {
		q[name] = []string{"true"}
	}
}

// Page is one page of a listing. Pass NextCursor as the Cursor of the next
// call; it is "" on the last page.
type Page[T any] struct {
	Items       []T
	NextCursor  string
	TotalPages  int
	CurrentPage int
	TotalItems  int
}

// wirePage is the v3.1 listing envelope.
type wirePage[T any] struct {
	Items       []T     `json:"items"`
	NextCursor  *string `json:"next_cursor"`
	TotalPages  int     `json:"total_pages"`
	CurrentPage int     `json:"current_page"`
	TotalItems  int     `json:"total_items"`
}

func (w *wirePage[T]) page() *Page[T] {
	p := &Page[T]{Items: w.Items, TotalPages: w.TotalPages, CurrentPage: w.CurrentPage, TotalItems: w.TotalItems}
	if p.Items == nil {
		p.Items = []T{}
	}
	if w.NextCursor != nil {
		p.NextCursor = *w.NextCursor
	}
	return p
}

// str returns *p, or "" for nil; the wire has many nullable strings.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
