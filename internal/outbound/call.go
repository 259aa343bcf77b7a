package outbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

var _ patchbay.Caller = (*Client)(nil)

// Call sends r to the app with creds injected and reads the answer, up to
// MaxResponseBytes. An idempotent call answered 429 or 503 with a
// Retry-After within RetryAfterCap is sent once more after that wait; no
// other call is retried. The error, if any, never carries the URL (which
// may hold a query-injected credential).
func (c *Client) Call(ctx context.Context, tk *patchbay.Toolkit, sc *patchbay.AuthScheme, creds map[string]string, r *patchbay.UpstreamRequest) (*patchbay.UpstreamResponse, error) {
	path := r.Path
	if len(r.Query) > 0 {
		path += "?" + r.Query.Encode()
	}
	header := r.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if r.ContentType != "" {
		header.Set("Content-Type", r.ContentType)
	}
	for attempt := 0; ; attempt++ {
		var body io.Reader
		if r.Body != nil {
			body = bytes.NewReader(r.Body)
		}
		req, err := c.Request(ctx, tk, sc, creds, r.Method, path, body, header)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, c.failure(tk, err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
		resp.Body.Close()
		if err != nil {
			return nil, c.failure(tk, err)
		}
		if int64(len(data)) > c.cfg.MaxResponseBytes {
			return nil, &patchbay.Error{Code: patchbay.EUNAVAILABLE, Message: fmt.Sprintf(
				"%s answered more than %d bytes, patchbay's limit for one call.", tk.Name, c.cfg.MaxResponseBytes)}
		}
		if wait, ok := c.retryAfter(resp, r.Method); ok && attempt == 0 {
			select {
			case <-time.After(wait):
				continue
			case <-ctx.Done():
				return nil, c.failure(tk, ctx.Err())
			}
		}
		return &patchbay.UpstreamResponse{Status: resp.StatusCode, Header: resp.Header, Body: data, Duration: time.Since(start)}, nil
	}
}

// retryAfter says whether resp asks to wait and retry, and for how long,
// for a call that may be sent twice.
func (c *Client) retryAfter(resp *http.Response, method string) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
	default:
		return 0, false // not idempotent: never sent twice
	}
	v := resp.Header.Get("Retry-After")
	var wait time.Duration
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		wait = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		wait = time.Until(at)
	} else {
		return 0, false
	}
	if wait < 0 {
		wait = 0
	}
	return wait, wait <= c.cfg.RetryAfterCap
}

// failure turns a transport error into a domain error that says what
// happened in words, without the URL.
func (c *Client) failure(tk *patchbay.Toolkit, err error) error {
	var blocked *BlockedError
	switch {
	case errors.As(err, &blocked):
		return &patchbay.Error{Code: patchbay.EFORBIDDEN, Err: errors.Join(patchbay.ErrUnreachable, scrub(err)), Message: fmt.Sprintf(
			"patchbay refuses to connect to %s's address, a private, loopback or link-local one (an operator can allow the host).", tk.Name)}
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return &patchbay.Error{Code: patchbay.EUNAVAILABLE, Err: errors.Join(patchbay.ErrUnreachable, scrub(err)), Message: fmt.Sprintf(
			"%s did not answer within %s.", tk.Name, c.cfg.Timeout)}
	}
	return &patchbay.Error{Code: patchbay.EUNAVAILABLE, Err: errors.Join(patchbay.ErrUnreachable, scrub(err)), Message: fmt.Sprintf("Could not reach %s.", tk.Name)}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
