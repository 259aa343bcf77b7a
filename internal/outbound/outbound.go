// Package outbound makes patchbay's calls to third-party apps with an end
// user's credentials: it builds the request from the toolkit's templates,
// injects the credentials, and guards against server-side request forgery
// (OWASP API7): every connection is checked after DNS resolution, so
// loopback, private, link-local (cloud metadata included), CGNAT and IPv6
// ULA addresses are refused unless the operator allows them by name.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// Config tunes a Client.
type Config struct {
	// Overrides replaces toolkits' base URLs (slug → URL): for a proxy, an
	// enterprise host, or a local fake app in tests.
	Overrides map[string]string
	// AllowHosts are host names or IPs that may be dialled even though they
	// resolve to a guarded range (e.g. an internal mirror, or 127.0.0.1 in
	// tests).
	AllowHosts []string
	// Timeout bounds one upstream call (default 30s).
	Timeout time.Duration
	// MaxResponseBytes caps an answer patchbay reads from an app (default
	// 10 MiB); a larger one fails the call.
	MaxResponseBytes int64
	// RetryAfterCap is the longest Retry-After patchbay waits out, once,
	// for an idempotent call answered 429 or 503 (default 5s; a longer
	// wait is passed on to the caller instead).
	RetryAfterCap time.Duration
}

// Default limits.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxResponseBytes = 10 << 20
	DefaultRetryAfterCap    = 5 * time.Second
)

// Client calls apps. It implements patchbay.CredentialChecker.
type Client struct {
	cfg  Config
	http *http.Client
}

var _ patchbay.CredentialChecker = (*Client)(nil)

// New returns a Client for cfg.
func New(cfg Config) *Client {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.RetryAfterCap == 0 {
		cfg.RetryAfterCap = DefaultRetryAfterCap
	}
	allowed := map[string]bool{}
	for _, h := range cfg.AllowHosts {
		allowed[strings.ToLower(strings.TrimSpace(h))] = true
	}
	dialer := &net.Dialer{
		Timeout: 10 * time.Second,
		// Control runs after DNS resolution, on the address actually
		// dialled, so a name that resolves to a private address is caught
		// however it was spelled.
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return fmt.Errorf("outbound: unexpected address %q", address)
			}
			if guarded(ip) && !allowed[ip.Unmap().String()] {
				return &BlockedError{Addr: ip.String()}
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:                 nil, // an environment proxy would bypass the guard
		DialContext:           allowNamed(dialer, allowed),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64, // keep-alive to busy apps under load
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
	}
	return &Client{cfg: cfg, http: &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		// Credentials must not follow a redirect to another host; patchbay
		// does not follow redirects for credentialed calls at all.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// allowNamed lets an allow-listed host name through the guard: the dialer's
// Control sees only IPs, so a named host is resolved here and its addresses
// allowed for this dial.
func allowNamed(d *net.Dialer, allowed map[string]bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if !allowed[strings.ToLower(host)] {
			return d.DialContext(ctx, network, addr)
		}
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(ips) == 0 {
			return nil, fmt.Errorf("outbound: resolve %s: %w", host, err)
		}
		open := *d
		open.Control = nil
		return open.DialContext(ctx, network, net.JoinHostPort(ips[0].Unmap().String(), port))
	}
}

// BlockedError is a dial refused by the SSRF guard.
type BlockedError struct{ Addr string }

func (e *BlockedError) Error() string {
	return "outbound: refusing to connect to " + e.Addr + " (a private, loopback or link-local address)"
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// guarded reports whether ip is in a range no credentialed call may reach.
func guarded(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() || ip.IsInterfaceLocalMulticast() || cgnat.Contains(ip)
}

// BaseURL is the API root for a scheme and credentials: the operator's
// override, else the connection's or auth config's own base URL (the
// "full" field, Composio's name, for apps with one per customer such as
// self-managed GitLab), else the scheme's template filled from the
// credentials.
func (c *Client) BaseURL(tk *patchbay.Toolkit, sc *patchbay.AuthScheme, creds map[string]string) (*url.URL, error) {
	raw := patchbay.Expand(sc.BaseURL, creds)
	if full := creds[patchbay.FieldBaseURL]; full != "" {
		raw = strings.TrimSuffix(full, "/")
	}
	if o, ok := c.cfg.Overrides[tk.Slug]; ok {
		raw = o
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("outbound: %s has no usable base URL", tk.Slug)
	}
	return u, nil
}

// Request builds a credentialed request to path (relative to the base URL),
// with header set before the credentials are injected.
func (c *Client) Request(ctx context.Context, tk *patchbay.Toolkit, sc *patchbay.AuthScheme, creds map[string]string, method, path string, body io.Reader, header http.Header) (*http.Request, error) {
	base, err := c.BaseURL(tk, sc, creds)
	if err != nil {
		return nil, err
	}
	ref, err := url.Parse(path)
	if err != nil || ref.IsAbs() || ref.Host != "" {
		return nil, fmt.Errorf("outbound: %q is not a path relative to the app's base URL", path)
	}
	u := *base
	// A path prefix (Telegram's /bot<token>) is expanded with escaped
	// values, so a credential cannot add path segments.
	escaped := make(map[string]string, len(creds))
	for k, v := range creds {
		escaped[k] = url.PathEscape(v)
	}
	prefix := strings.TrimSuffix(patchbay.Expand(sc.Inject.PathPrefix, escaped), "/")
	rawPath := strings.TrimSuffix(base.EscapedPath(), "/") + prefix + "/" + strings.TrimPrefix(ref.EscapedPath(), "/")
	if u.Path, err = url.PathUnescape(rawPath); err != nil {
		return nil, fmt.Errorf("outbound: bad path %q", path)
	}
	u.RawPath = rawPath
	u.RawQuery = ref.RawQuery
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	Inject(req, sc, creds)
	return req, nil
}

// Inject puts credentials on req as the scheme says. It first strips any
// Authorization and Cookie the caller set: only the toolkit's templates
// decide what credentials travel.
func Inject(req *http.Request, sc *patchbay.AuthScheme, creds map[string]string) {
	req.Header.Del("Authorization")
	req.Header.Del("Cookie")
	for k, tmpl := range sc.Inject.Headers {
		req.Header.Set(k, patchbay.Expand(tmpl, creds))
	}
	if len(sc.Inject.Query) > 0 {
		q := req.URL.Query()
		for k, tmpl := range sc.Inject.Query {
			q.Set(k, patchbay.Expand(tmpl, creds))
		}
		req.URL.RawQuery = q.Encode()
	}
	if b := sc.Inject.Basic; b != nil {
		req.SetBasicAuth(patchbay.Expand(b.Username, creds), patchbay.Expand(b.Password, creds))
	}
}

// Check runs the scheme's test request with creds. 2xx: valid. 401 or 403:
// the app rejected them. Anything else decides nothing and is an error.
func (c *Client) Check(ctx context.Context, tk *patchbay.Toolkit, sc *patchbay.AuthScheme, creds map[string]string) (bool, string, error) {
	if sc.TestRequest == nil {
		return false, "", errors.New("outbound: no test request")
	}
	req, err := c.Request(ctx, tk, sc, creds, orGET(sc.TestRequest.Method), sc.TestRequest.Path, nil, nil)
	if err != nil {
		return false, "", err
	}
	resp, err := c.http.Do(req)
	var blocked *BlockedError
	if errors.As(err, &blocked) {
		return false, "", &patchbay.Error{Code: patchbay.EUNAVAILABLE, Err: scrub(err), Message: fmt.Sprintf(
			"Could not check the credentials with %s: patchbay refuses to connect to its address, a private or loopback one (an operator can allow the host).", tk.Name)}
	}
	if err != nil {
		return false, "", scrub(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return true, "", nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return false, fmt.Sprintf("%s rejected the credentials (HTTP %d on %s %s)", tk.Name, resp.StatusCode, req.Method, sc.TestRequest.Path), nil
	}
	return false, "", fmt.Errorf("outbound: %s answered HTTP %d to the credential check", tk.Name, resp.StatusCode)
}

func orGET(m string) string {
	if m == "" {
		return http.MethodGet
	}
	return strings.ToUpper(m)
}

// scrub drops the URL from transport errors: with query-injected
// credentials (serpapi's api_key) the URL itself is secret.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("outbound: %s request failed: %w", ue.Op, ue.Err)
	}
	return err
}
