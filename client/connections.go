package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Connected account statuses.
const (
	StatusInitializing = "INITIALIZING"
	StatusInitiated    = "INITIATED"
	StatusActive       = "ACTIVE"
	StatusFailed       = "FAILED"
	StatusExpired      = "EXPIRED"
	StatusInactive     = "INACTIVE"
	StatusRevoked      = "REVOKED"
)

// ConnectedAccount is one end user's connection to a toolkit, made through
// an auth config.
type ConnectedAccount struct {
	ID     string `json:"id"`
	UserID string `json:"user_id"`
	Status string `json:"status"` // one of the Status… constants
	// StatusReason says why the account is in its status ("" if nothing
	// was said), e.g. "Revoked via user-initiated revoke endpoint".
	StatusReason string `json:"status_reason"`
	// IsDisabled: the account keeps its status and credentials but is not
	// used.
	IsDisabled bool      `json:"is_disabled"`
	Alias      string    `json:"alias"` // "" if none
	Labels     []string  `json:"labels"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Toolkit    struct {
		Slug string `json:"slug"`
	} `json:"toolkit"`
	AuthConfig struct {
		ID                string `json:"id"`
		AuthScheme        string `json:"auth_scheme"`
		IsComposioManaged bool   `json:"is_composio_managed"`
		IsDisabled        bool   `json:"is_disabled"`
	} `json:"auth_config"`
	// State is the connection state; its Val holds the status and the
	// credentials, secrets masked.
	State ConnectionState `json:"state"`
}

// ConnectionState is a connection's scheme and state values.
type ConnectionState struct {
	AuthScheme string         `json:"authScheme"`
	Val        map[string]any `json:"val"`
}

// UnmarshalJSON reads the wire form, where status_reason and alias may be
// null.
func (a *ConnectedAccount) UnmarshalJSON(b []byte) error {
	type plain ConnectedAccount
	w := struct {
		*plain
		StatusReason *string `json:"status_reason"`
		Alias        *string `json:"alias"`
	}{plain: (*plain)(a)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	a.StatusReason, a.Alias = str(w.StatusReason), str(w.Alias)
	return nil
}

// ConnectedAccount returns a connected account. ErrNotFound if the project
// has no such account.
func (c *Client) ConnectedAccount(ctx context.Context, id string) (*ConnectedAccount, error) {
	var ca ConnectedAccount
	if err := c.do(ctx, request{method: "GET", path: pathf(v3+"/connected_accounts/%s", id), auth: authProject}, &ca); err != nil {
		return nil, err
	}
	return &ca, nil
}

// ConnectedAccountListParams filter ConnectedAccounts; each list matches
// any of its values. Zero values are left out.
type ConnectedAccountListParams struct {
	UserIDs       []string
	AuthConfigIDs []string
	Toolkits      []string // toolkit slugs
	Statuses      []string // Status… constants
	Cursor        string   // NextCursor of the previous page
	Limit         int      // page size; the server's default is 50
}

// ConnectedAccountPage is a page of connected accounts, newest first.
type ConnectedAccountPage = Page[ConnectedAccount]

// ConnectedAccounts lists the project's connected accounts, newest first,
// a page at a time. ErrInvalid for an unknown status.
func (c *Client) ConnectedAccounts(ctx context.Context, p ConnectedAccountListParams) (*ConnectedAccountPage, error) {
	q := query{}
	q.list("user_ids", p.UserIDs)
	q.list("auth_config_ids", p.AuthConfigIDs)
	q.list("toolkit_slugs", p.Toolkits)
	q.list("statuses", p.Statuses)
	q.str("cursor", p.Cursor)
	q.int("limit", p.Limit)
	var w wirePage[ConnectedAccount]
	if err := c.do(ctx, request{method: "GET", path: v3 + "/connected_accounts", query: url.Values(q), auth: authProject}, &w); err != nil {
		return nil, err
	}
	return w.page(), nil
}

// InitiateOptions describe a connection to initiate.
type InitiateOptions struct {
	// Scheme is the auth config's scheme: SchemeAPIKey, SchemeBearerToken
	// or SchemeBasic. With "" the credentials are sent as connection data
	// and the server takes the auth config's scheme.
	Scheme string
	// Credentials are the connection fields (see ConnectionFields), e.g.
	// {"api_key": "…"}.
	Credentials map[string]string
	Alias       string
	// AllowMultiple allows a second ACTIVE account for the same user on the
	// same auth config.
	AllowMultiple bool
	// Validate asks the server to try the credentials against the app
	// first; rejected ones give a FAILED account with a reason.
	Validate bool
}

// ConnectionRequest is the result of InitiateConnection.
type ConnectionRequest struct {
	ID     string // the connected account's id
	Status string // ACTIVE for user-supplied credentials
	// RedirectURL is where to send the user to finish an OAuth flow; nil
	// when there is none.
	RedirectURL *string

	c *Client
}

// InitiateConnection connects an end user to the toolkit of an auth config
// with the user's credentials, as @composio/core's
// connectedAccounts.initiate does: unless opts.AllowMultiple is set it
// first lists the user's ACTIVE accounts on the auth config and returns a
// *MultipleConnectionsError (ErrMultipleConnections) if there is one; the
// server enforces the same rule. ErrInvalid names missing or unknown
// fields and a scheme that does not match the auth config; ErrNotFound for
// an unknown auth config.
func (c *Client) InitiateConnection(ctx context.Context, userID, authConfigID string, opts InitiateOptions) (*ConnectionRequest, error) {
	if !opts.AllowMultiple && userID != "" && authConfigID != "" {
		page, err := c.ConnectedAccounts(ctx, ConnectedAccountListParams{
			UserIDs: []string{userID}, AuthConfigIDs: []string{authConfigID}, Statuses: []string{StatusActive}, Limit: 1,
		})
		if err != nil {
			return nil, err
		}
		if len(page.Items) > 0 {
			return nil, &MultipleConnectionsError{UserID: userID, AuthConfigID: authConfigID, ConnectedAccountID: page.Items[0].ID}
		}
	}
	conn := map[string]any{"user_id": userID}
	creds := map[string]any{}
	for k, v := range opts.Credentials {
		creds[k] = v
	}
	if opts.Scheme != "" {
		// The SDK helpers (AuthScheme.APIKey(…) and friends) put the
		// wanted status next to the credentials.
		creds["status"] = StatusActive
		conn["state"] = ConnectionState{AuthScheme: opts.Scheme, Val: creds}
	} else {
		conn["data"] = creds
	}
	if opts.Alias != "" {
		conn["alias"] = opts.Alias
	}
	body := map[string]any{
		"auth_config":    map[string]string{"id": authConfigID},
		"connection":     conn,
		"allow_multiple": opts.AllowMultiple,
	}
	if opts.Validate {
		body["validate_credentials"] = true
	}
	var out struct {
		ID             string `json:"id"`
		ConnectionData struct {
			Val struct {
				Status      string  `json:"status"`
				RedirectURL *string `json:"redirectUrl"`
			} `json:"val"`
		} `json:"connectionData"`
		Status      string  `json:"status"`
		RedirectURL *string `json:"redirect_url"`
	}
	err := c.do(ctx, request{method: "POST", path: v3 + "/connected_accounts", auth: authProject, body: body}, &out)
	if err != nil {
		if !opts.AllowMultiple && errors.Is(err, ErrConflict) {
			return nil, &MultipleConnectionsError{UserID: userID, AuthConfigID: authConfigID, Err: err}
		}
		return nil, err
	}
	// connectionData.val is what the official SDK reads; the top-level
	// fields are deprecated.
	req := &ConnectionRequest{ID: out.ID, Status: firstNonEmpty(out.ConnectionData.Val.Status, out.Status), c: c}
	req.RedirectURL = out.ConnectionData.Val.RedirectURL
	if req.RedirectURL == nil {
		req.RedirectURL = out.RedirectURL
	}
	return req, nil
}

// WaitForConnection polls the account every pollInterval (1s if not
// positive) until it is ACTIVE, and returns it. See Client.WaitForConnection.
func (r *ConnectionRequest) WaitForConnection(ctx context.Context, pollInterval time.Duration) (*ConnectedAccount, error) {
	if r.c == nil {
		return nil, errors.New("patchbay: ConnectionRequest was not made by InitiateConnection")
	}
	return r.c.WaitForConnection(ctx, r.ID, pollInterval)
}

// WaitForConnection polls a connected account every pollInterval (1s if
// not positive), starting at once, until it is ACTIVE, and returns it. An
// account that ends FAILED, EXPIRED or REVOKED gives a
// *ConnectionFailedError carrying the server's reason. It gives up when ctx
// ends, with an error wrapping ctx.Err(), or at the first failed request.
func (c *Client) WaitForConnection(ctx context.Context, id string, pollInterval time.Duration) (*ConnectedAccount, error) {
	if pollInterval <= 0 {
		pollInterval = time.Second
	}
	t := time.NewTimer(0)
	defer t.Stop()
	status := ""
	for {
		select {
		case <-ctx.Done():
			return nil, waitEnded(ctx, id, status)
		case <-t.C:
		}
		ca, err := c.ConnectedAccount(ctx, id)
		if err != nil {
			if ctx.Err() != nil { // the context ended mid-request
				return nil, waitEnded(ctx, id, status)
			}
			return nil, err
		}
		switch ca.Status {
		case StatusActive:
			return ca, nil
		case StatusFailed, StatusExpired, StatusRevoked:
			return nil, &ConnectionFailedError{ID: ca.ID, Status: ca.Status, StatusReason: ca.StatusReason}
		}
		status = ca.Status
		t.Reset(pollInterval)
	}
}

// waitEnded is the error of a wait whose context ended; it names the last
// status seen ("" before the first answer).
func waitEnded(ctx context.Context, id, status string) error {
	if status == "" {
		return fmt.Errorf("patchbay: waiting for connected account %s: %w", id, ctx.Err())
	}
	return fmt.Errorf("patchbay: connected account %s is still %s: %w", id, status, ctx.Err())
}

// EnableConnectedAccount puts a disabled account back in use. ErrNotFound
// for an unknown id.
func (c *Client) EnableConnectedAccount(ctx context.Context, id string) error {
	return c.setConnectionEnabled(ctx, id, true)
}

// DisableConnectedAccount takes an account out of use, keeping its status
// and credentials. ErrNotFound for an unknown id.
func (c *Client) DisableConnectedAccount(ctx context.Context, id string) error {
	return c.setConnectionEnabled(ctx, id, false)
}

func (c *Client) setConnectionEnabled(ctx context.Context, id string, enabled bool) error {
	body := map[string]bool{"enabled": enabled}
	return c.do(ctx, request{method: "PATCH", path: pathf(v3+"/connected_accounts/%s/status", id), auth: authProject, body: body}, nil)
}

// RevokeConnectedAccount marks an account REVOKED and erases its
// credentials. It returns the kinds of token erased ("credential",
// "access_token", "refresh_token"): none for an account revoked before.
// ErrNotFound for an unknown id.
func (c *Client) RevokeConnectedAccount(ctx context.Context, id string) ([]string, error) {
	var out struct {
		RevokedTokens []string `json:"revoked_tokens"`
	}
	if err := c.do(ctx, request{method: "POST", path: pathf(v3+"/connected_accounts/%s/revoke", id), auth: authProject}, &out); err != nil {
		return nil, err
	}
	if out.RevokedTokens == nil {
		out.RevokedTokens = []string{}
	}
	return out.RevokedTokens, nil
}

// RefreshOptions tune RefreshConnectedAccount.
type RefreshOptions struct {
	// Validate tries the credentials against the app again; the status
	// follows the app's answer. Without it key-based accounts, which do
	// not expire, only report their status.
	Validate bool
}

// RefreshResult is an account's state after a refresh.
type RefreshResult struct {
	ID          string  `json:"id"`
	Status      string  `json:"status"`
	RedirectURL *string `json:"redirect_url"` // for OAuth re-consent; nil if none
}

// RefreshConnectedAccount refreshes an account's credentials. ErrNotFound
// for an unknown id.
func (c *Client) RefreshConnectedAccount(ctx context.Context, id string, opts RefreshOptions) (*RefreshResult, error) {
	body := map[string]any{}
	if opts.Validate {
		body["validate_credentials"] = true
	}
	var out RefreshResult
	if err := c.do(ctx, request{method: "POST", path: pathf(v3+"/connected_accounts/%s/refresh", id), auth: authProject, body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteConnectedAccount deletes an account and its credentials.
// ErrNotFound for an unknown id.
func (c *Client) DeleteConnectedAccount(ctx context.Context, id string) error {
	return c.do(ctx, request{method: "DELETE", path: pathf(v3+"/connected_accounts/%s", id), auth: authProject}, nil)
}
