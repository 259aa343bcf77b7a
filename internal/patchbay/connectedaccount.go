package patchbay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// ConnectionStatus is a connected account's state.
type ConnectionStatus string

const (
	StatusInitializing ConnectionStatus = "INITIALIZING"
	StatusInitiated    ConnectionStatus = "INITIATED"
	StatusActive       ConnectionStatus = "ACTIVE"
	StatusFailed       ConnectionStatus = "FAILED"
	StatusExpired      ConnectionStatus = "EXPIRED"
	StatusInactive     ConnectionStatus = "INACTIVE"
	StatusRevoked      ConnectionStatus = "REVOKED"
)

// ConnectionStatuses lists every status, for validating filters.
var ConnectionStatuses = []ConnectionStatus{StatusInitializing, StatusInitiated, StatusActive, StatusFailed, StatusExpired, StatusInactive, StatusRevoked}

// ConnectedAccount is one end user's connection to a toolkit through an
// auth config. Its credentials are sealed apart (see CredentialsRef).
type ConnectedAccount struct {
	ID           string // "ca_…"
	ProjectID    string
	AuthConfigID string
	Toolkit      string
	Mode         AuthMode
	UserID       string // the developer's id for the end user (legacy: entityId)
	Status       ConnectionStatus
	StatusReason string
	Disabled     bool
	Alias        string
	Labels       []string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// Link, set only by Connect for an OAuth2 flow or a key link (and
	// never stored), is where the end user goes to authorize the
	// connection or enter its credentials.
	Link *ConnectLink
}

// Field names under which sealed credentials are stored.
const FieldCredentials = "credentials"

// FieldBaseURL is the field, in either scope, that gives an app's base URL
// for apps with one per customer (Composio calls it "full").
const FieldBaseURL = "full"

// FieldAccessToken is the connection field an OAuth2 scheme injects: filled
// in by the OAuth flow, or given to import a token obtained elsewhere.
const FieldAccessToken = "access_token"

// CredentialsRef is where a record's credentials are sealed.
func CredentialsRef(projectID, recordID string) SecretRef {
	return SecretRef{ProjectID: projectID, Record: recordID, Field: FieldCredentials}
}

// ConnectionFilter selects connected accounts of a project. Empty lists
// match everything.
type ConnectionFilter struct {
	ProjectID     string
	IDs           []string
	UserIDs       []string
	AuthConfigIDs []string
	Toolkits      []string
	Statuses      []ConnectionStatus
	// Labels: accounts carrying at least one of them.
	Labels []string
	// Disabled: nil for any, else only accounts with that flag.
	Disabled *bool
	Page     Page
	// WithCredentials asks for each account's sealed credentials.
	WithCredentials bool
}

// ConnectionRecord is a connected account as stored, with its auth
// config's flags and its sealed credentials (nil when it has none, or when
// not asked for).
type ConnectionRecord struct {
	*ConnectedAccount
	AuthConfigManaged  bool
	AuthConfigDisabled bool
	Credentials        *StoredSecret
}

// CredentialChecker tries credentials against the app with the scheme's
// test request. ok is false when the app rejected them; reason says why.
// err is for failures to ask (network, timeouts), which decide nothing.
type CredentialChecker interface {
	Check(ctx context.Context, tk *Toolkit, sc *AuthScheme, creds map[string]string) (ok bool, reason string, err error)
}

// NewConnection describes a connection to initiate for an end user.
type NewConnection struct {
	AuthConfigID string
	UserID       string
	// Mode is the scheme the caller believes it is using ("" to take the
	// auth config's); a different one is refused.
	Mode   AuthMode
	Values map[string]any // connection fields, e.g. {"api_key": "…"}
	Alias  string
	Labels []string
	// Validate asks patchbay to try the credentials against the app first.
	Validate bool
	// AllowMultiple, when false and explicitly requested (Exclusive), makes
	// a second ACTIVE account for the same user and auth config an error.
	Exclusive bool
	// OAuth begins an OAuth2 flow when the scheme is OAuth2 and no token
	// is imported; its origin and callback URL also serve a key link.
	OAuth OAuthStart
	// Link asks for a connect link (the link endpoint): for an OAuth2
	// scheme the authorization, for a key-based one (API key, bearer
	// token, basic) patchbay's hosted form. Values are ignored: the end
	// user gives the credentials.
	Link bool
}

// ValidateUserID checks an end-user id: 1 to 256 printable characters.
func ValidateUserID(id string) error {
	switch {
	case strings.TrimSpace(id) == "":
		return Errorf(EINVALID, "user_id is required: the id of the end user in your system.")
	case !utf8.ValidString(id) || utf8.RuneCountInString(id) > 256 || strings.IndexByte(id, 0) >= 0:
		return Errorf(EINVALID, "user_id must be valid UTF-8 of at most 256 characters, without NUL characters.")
	}
	return nil
}

// ConnectionView is a connected account as surfaces show it: with its
// auth config's flags, its scheme, and its credentials masked.
type ConnectionView struct {
	*ConnectedAccount
	AuthConfigManaged  bool
	AuthConfigDisabled bool
	ToolkitDef         *Toolkit    // nil if the toolkit left the catalog
	Scheme             *AuthScheme // nil if the toolkit left the catalog
	// Credentials are masked; nil when the account has none (erased by a
	// revoke) or when the listing did not ask for them.
	Credentials map[string]string
	// BaseURL is the app's base URL for this account, its template
	// expanded with the account's fields (when it has them).
	BaseURL string
}

// Connect creates a connected account in the principal's project. For
// user-supplied schemes (API key, bearer token, basic, no auth) the account
// is ACTIVE at once, or FAILED with a reason when validation was asked for
// and the app rejected the credentials. EINVALID names every problem with
// the request; ENOTFOUND for an auth config outside the project.
func (s *Service) Connect(ctx context.Context, p *Principal, n NewConnection) (*ConnectedAccount, error) {
	projectID, err := s.can(ctx, p, ManageConnections, "")
	if err != nil {
		return nil, err
	}
	if err := ValidateUserID(n.UserID); err != nil {
		return nil, err
	}
	ac, err := s.store.GetAuthConfig(ctx, projectID, n.AuthConfigID)
	if err != nil {
		return nil, err
	}
	if ac.Disabled {
		return nil, Errorf(EINVALID, "Auth config %s is disabled; enable it before connecting accounts through it.", ac.ID)
	}
	if n.Mode != "" && n.Mode != ac.Mode {
		return nil, Errorf(EINVALID, "Auth config %s uses the %s scheme, but the connection was given as %s.", ac.ID, ac.Mode, n.Mode)
	}
	tk, sc, err := s.schemeFor(ac.Toolkit, ac.Mode)
	if err != nil {
		return nil, err
	}
	var creds map[string]string
	if n.Link && sc.Mode.UserSupplied() {
		creds = map[string]string{}
	} else if creds, err = checkFields(tk, sc, ScopeConnection, n.Values); err != nil {
		return nil, err
	}
	// An OAuth connection is made by the OAuth flow, or by importing a
	// token obtained elsewhere (its access_token field); a key-based one
	// asked for by link, by the end user on patchbay's form.
	var flow *OAuthFlow
	var link *ConnectLink
	var csrf string
	if n.Link && sc.Mode.UserSupplied() {
		if flow, link, csrf, err = s.startKeyLink(p, ac, sc, n); err != nil {
			return nil, err
		}
	} else if n.Link && sc.Mode != AuthOAuth2 {
		return nil, Errorf(EINVALID, "Connect links are offered for OAuth2, API key, bearer token and basic auth configs; auth config %s uses %s.", ac.ID, sc.Mode)
	} else if !sc.Mode.UserSupplied() && creds[FieldAccessToken] == "" {
		if sc.Mode != AuthOAuth2 {
			return nil, Errorf(EINVALID, "Connections through %s auth configs are not offered yet; use an API key, bearer token, basic or OAuth2 scheme.", sc.Mode)
		}
		if n.Validate {
			return nil, Errorf(EINVALID, "validate_credentials needs credentials; an OAuth2 connection gets them from the provider.")
		}
		if flow, link, err = s.startOAuth(ctx, p, ac, sc, n); err != nil {
			return nil, err
		}
	}
	if len(n.Labels) > 50 {
		return nil, Errorf(EINVALID, "labels may hold at most 50 entries.")
	}
	for _, l := range n.Labels {
		if l == "" || utf8.RuneCountInString(l) > 100 || strings.IndexByte(l, 0) >= 0 {
			return nil, Errorf(EINVALID, "each label must be 1 to 100 characters, without NUL characters.")
		}
	}
	if utf8.RuneCountInString(n.Alias) > 256 || strings.IndexByte(n.Alias, 0) >= 0 {
		return nil, Errorf(EINVALID, "alias must be at most 256 characters, without NUL characters.")
	}
	now := s.now()
	ca := &ConnectedAccount{
		ProjectID: projectID, AuthConfigID: ac.ID, Toolkit: ac.Toolkit, Mode: ac.Mode, UserID: n.UserID,
		Status: StatusActive, Alias: n.Alias, Labels: n.Labels, CreatedAt: now, UpdatedAt: now,
	}
	if flow != nil {
		ca.Status = StatusInitiated
	}
	if n.Validate {
		if err := s.validate(ctx, tk, sc, ca, creds); err != nil {
			return nil, err
		}
	}
	if ca.ID, err = NewID(PrefixConn, s.rand); err != nil {
		return nil, err
	}
	st, err := s.sealMap(CredentialsRef(projectID, ca.ID), creds)
	if err != nil {
		return nil, err
	}
	var csrfSealed StoredSecret
	if csrf != "" {
		if csrfSealed, err = s.sealMap(SecretRef{ProjectID: projectID, Record: ca.ID, Field: fieldLinkCSRF}, map[string]string{"csrf": csrf}); err != nil {
			return nil, err
		}
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if n.Exclusive {
			// Checked under a lock on the auth config, so two concurrent
			// exclusive connects cannot both pass.
			if err := tx.LockAuthConfig(ctx, projectID, ac.ID); err != nil {
				return err
			}
			existing, _, err := tx.ListConnectedAccounts(ctx, ConnectionFilter{ProjectID: projectID, UserIDs: []string{n.UserID},
				AuthConfigIDs: []string{ac.ID}, Statuses: []ConnectionStatus{StatusActive}, Page: Page{Limit: 1}})
			if err != nil {
				return err
			}
			if len(existing) > 0 {
				return Errorf(ECONFLICT, "User %s already has an ACTIVE account (%s) through auth config %s; pass allow_multiple to add another.", n.UserID, existing[0].ID, ac.ID)
			}
		}
		if err := tx.CreateConnectedAccount(ctx, ca); err != nil {
			return err
		}
		if err := tx.PutSecret(ctx, st); err != nil {
			return err
		}
		if flow != nil {
			flow.AccountID = ca.ID
			if err := tx.CreateOAuthFlow(ctx, flow); err != nil {
				return err
			}
		}
		if csrf != "" {
			if err := tx.PutSecret(ctx, csrfSealed); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, p, ActionConnectionCreate, projectID, ca.ID)
	})
	if err != nil {
		return nil, err
	}
	ca.Link = link
	return ca, nil
}

// validate runs the scheme's test request and marks ca FAILED with a reason
// when the app rejects the credentials.
func (s *Service) validate(ctx context.Context, tk *Toolkit, sc *AuthScheme, ca *ConnectedAccount, creds map[string]string) error {
	if sc.TestRequest == nil {
		return Errorf(EINVALID, "validate_credentials: toolkit %s has no test request for %s; connect without validation.", tk.Slug, sc.Mode)
	}
	if s.checker == nil {
		return Errorf(EINVALID, "validate_credentials is not available on this server.")
	}
	ok, reason, err := s.checker.Check(ctx, tk, sc, creds)
	var de *Error
	switch {
	case errors.As(err, &de):
		return err // the checker said precisely what went wrong
	case err != nil:
		return &Error{Code: EUNAVAILABLE, Message: fmt.Sprintf("Could not check the credentials with %s: the app did not answer.", tk.Name), Err: err}
	}
	if !ok {
		ca.Status, ca.StatusReason = StatusFailed, reason
	}
	return nil
}

// connectionView opens and masks a record's credentials. A value that does
// not open is an error when strict; otherwise (listings: one corrupt value
// must not hide the rest) it is logged and the account reads as having no
// credentials.
func (s *Service) connectionView(ctx context.Context, rec *ConnectionRecord, strict bool) (*ConnectionView, error) {
	v := &ConnectionView{ConnectedAccount: rec.ConnectedAccount, AuthConfigManaged: rec.AuthConfigManaged, AuthConfigDisabled: rec.AuthConfigDisabled}
	if tk, sc, err := s.schemeFor(rec.Toolkit, rec.Mode); err == nil {
		v.ToolkitDef, v.Scheme = tk, sc
	}
	if v.Scheme == nil {
		return v, nil
	}
	if rec.Credentials == nil {
		v.BaseURL = Expand(v.Scheme.BaseURL, nil)
		return v, nil
	}
	creds, err := s.openCredentials(rec.Credentials, v.Scheme)
	if err != nil {
		if strict {
			return nil, err
		}
		s.log.ErrorContext(ctx, "open connected account credentials", "connected_account", rec.ID, "err", err)
		return v, nil
	}
	v.Credentials = MaskCredentials(v.Scheme, creds)
	v.BaseURL = Expand(v.Scheme.BaseURL, creds)
	return v, nil
}

// ConnectedAccount returns an account of the principal's project with its
// auth config's flags and masked credentials, in one read. ENOTFOUND if the
// project has none with that ID; EINTERNAL if its credentials cannot be
// opened.
func (s *Service) ConnectedAccount(ctx context.Context, p *Principal, id string) (*ConnectionView, error) {
	projectID, err := s.can(ctx, p, ViewConnections, "")
	if err != nil {
		return nil, err
	}
	rec, err := s.store.GetConnectedAccount(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	// Unlike a listing, reading one account fails loudly on a value that
	// does not open.
	return s.connectionView(ctx, rec, true)
}

// ListConnectedAccounts returns a page of the principal's project's
// accounts matching f (its ProjectID is ignored), newest first unless
// f.Page says otherwise, and the total number of matches. With
// withCredentials each carries its masked credentials.
func (s *Service) ListConnectedAccounts(ctx context.Context, p *Principal, f ConnectionFilter, withCredentials bool) ([]*ConnectionView, int, error) {
	projectID, err := s.can(ctx, p, ViewConnections, "")
	if err != nil {
		return nil, 0, err
	}
	if len(f.Labels) > 50 {
		return nil, 0, Errorf(EINVALID, "labels may name at most 50 labels.")
	}
	f.ProjectID, f.WithCredentials = projectID, withCredentials
	recs, total, err := s.store.ListConnectedAccounts(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	out := make([]*ConnectionView, len(recs))
	for i, rec := range recs {
		out[i], _ = s.connectionView(ctx, rec, false) // never fails when not strict
	}
	return out, total, nil
}

// errUnchanged, returned by an updateConnection fn, says the account is
// already as asked: nothing is saved, nothing audited.
var errUnchanged = errors.New("unchanged")

// updateConnection loads an account of the principal's project, applies
// fn, saves it and audits action.
func (s *Service) updateConnection(ctx context.Context, p *Principal, id, action string, fn func(tx Store, ca *ConnectedAccount) error) (*ConnectedAccount, error) {
	projectID, err := s.can(ctx, p, ManageConnections, "")
	if err != nil {
		return nil, err
	}
	var out *ConnectedAccount
	err = s.store.InTx(ctx, func(tx Store) error {
		rec, err := tx.GetConnectedAccount(ctx, projectID, id)
		if err != nil {
			return err
		}
		ca := rec.ConnectedAccount
		switch err := fn(tx, ca); {
		case err == errUnchanged:
			out = ca
			return nil
		case err != nil:
			return err
		}
		ca.UpdatedAt = s.now()
		out = ca
		if err := tx.UpdateConnectedAccount(ctx, ca); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, action, projectID, id)
	})
	return out, err
}

// SetConnectionDisabled enables or disables an account; a disabled account
// keeps its status and credentials but is not used.
func (s *Service) SetConnectionDisabled(ctx context.Context, p *Principal, id string, disabled bool) (*ConnectedAccount, error) {
	action := ActionConnectionEnable
	if disabled {
		action = ActionConnectionDisable
	}
	return s.updateConnection(ctx, p, id, action, func(_ Store, ca *ConnectedAccount) error {
		if ca.Disabled == disabled {
			return errUnchanged // already so: nothing changes, nothing to audit
		}
		ca.Disabled = disabled
		return nil
	})
}

// RevokeConnection marks an account REVOKED and erases its credentials.
// It returns which credentials were erased: none for an account revoked
// before, which is returned unchanged and not audited again.
func (s *Service) RevokeConnection(ctx context.Context, p *Principal, id string) (*ConnectedAccount, []string, error) {
	projectID, err := s.can(ctx, p, ManageConnections, "")
	if err != nil {
		return nil, nil, err
	}
	// The provider first, while the tokens are still there; outside the
	// transaction, so no lock waits on the provider. Its answer never
	// stops the local revocation.
	erased := s.revokeAtProvider(ctx, projectID, id)
	ca, err := s.updateConnection(ctx, p, id, ActionConnectionRevoke, func(tx Store, ca *ConnectedAccount) error {
		if ca.Status == StatusRevoked {
			erased = nil
			return errUnchanged // revoked before: as RevokeAPIKey, nothing to audit
		}
		ca.Status, ca.StatusReason = StatusRevoked, "Revoked via user-initiated revoke endpoint"
		erased = append(erased, "credential")
		return tx.DeleteSecret(ctx, CredentialsRef(ca.ProjectID, id))
	})
	if erased == nil {
		erased = []string{}
	}
	return ca, erased, err
}

// revokeAtProvider revokes an OAuth2 account's tokens at its provider's
// revocation endpoint, the refresh token first (which ends the grant at
// most providers), and returns the kinds the provider confirmed. Nothing
// for an account that is not OAuth2, is revoked already, or whose
// provider has no revocation endpoint. Failures are logged without the
// tokens; the local revocation goes on regardless.
func (s *Service) revokeAtProvider(ctx context.Context, projectID, id string) []string {
	if s.oauth == nil {
		return nil
	}
	rec, err := s.store.GetConnectedAccount(ctx, projectID, id)
	if err != nil || rec.Status == StatusRevoked {
		return nil
	}
	_, sc, err := s.schemeFor(rec.Toolkit, rec.Mode)
	if err != nil || sc.OAuth2 == nil {
		return nil
	}
	ac, err := s.store.GetAuthConfig(ctx, projectID, rec.AuthConfigID)
	if err != nil {
		return nil
	}
	req, err := s.oauthRequest(ctx, s.store, ac, sc)
	if err != nil || req.RevocationURL == "" {
		return nil
	}
	creds, err := s.openCredentials(rec.Credentials, sc)
	if err != nil {
		return nil
	}
	var revoked []string
	for _, kind := range []string{FieldRefreshToken, FieldAccessToken} {
		tok := creds[kind]
		if tok == "" {
			continue
		}
		if err := s.oauth.Revoke(ctx, req, tok, kind); err != nil {
			s.log.Warn("the provider did not revoke a token; revoked here only", "connected_account", id, "toolkit", rec.Toolkit, "token", kind, "err", err)
			continue
		}
		revoked = append(revoked, kind)
	}
	return revoked
}

// DeleteConnection deletes an account of the principal's project and its
// credentials.
func (s *Service) DeleteConnection(ctx context.Context, p *Principal, id string) error {
	projectID, err := s.can(ctx, p, ManageConnections, "")
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Store) error {
		if err := tx.DeleteConnectedAccount(ctx, projectID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionConnectionDelete, projectID, id)
	})
}

// Reinitiate replaces an account's connection fields (all of them, as on
// creation) and makes it ACTIVE again.
func (s *Service) Reinitiate(ctx context.Context, p *Principal, id string, values map[string]any) (*ConnectedAccount, error) {
	return s.updateConnection(ctx, p, id, ActionConnectionReinitiate, func(tx Store, ca *ConnectedAccount) error {
		tk, sc, err := s.schemeFor(ca.Toolkit, ca.Mode)
		if err != nil {
			return err
		}
		creds, err := checkFields(tk, sc, ScopeConnection, values)
		if err != nil {
			return err
		}
		st, err := s.sealMap(CredentialsRef(ca.ProjectID, id), creds)
		if err != nil {
			return err
		}
		ca.Status, ca.StatusReason = StatusActive, ""
		return tx.PutSecret(ctx, st)
	})
}

// RefreshConnection re-checks an account. Key-based credentials do not
// expire, so without validation this only reports the state; with it, the
// credentials are tried again and the status follows the app's answer. A
// REVOKED account stays REVOKED either way.
func (s *Service) RefreshConnection(ctx context.Context, p *Principal, id string, validate bool) (*ConnectedAccount, error) {
	projectID, err := s.can(ctx, p, ManageConnections, "")
	if err != nil {
		return nil, err
	}
	rec, err := s.store.GetConnectedAccount(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	if _, sc, err := s.schemeFor(rec.Toolkit, rec.Mode); err == nil && sc.OAuth2 != nil && rec.Status != StatusRevoked && rec.Status != StatusInitiated {
		// An OAuth2 account with a refresh token gets new tokens now, as a
		// call would with an expiring one; never when disabled or not
		// ACTIVE (checked here and again under the lock).
		creds, err := s.openCredentials(rec.Credentials, sc)
		if err != nil {
			return nil, err
		}
		if creds[FieldRefreshToken] != "" {
			if err := usable(rec); err != nil {
				return nil, err
			}
			ca, _, err := s.refreshOAuth(ctx, p, projectID, id, "", true)
			return ca, err
		}
	}
	if !validate || rec.Status == StatusRevoked {
		// Revoked: its credentials are erased, there is nothing to try, and
		// trying the empty ones must not make it ACTIVE again.
		return rec.ConnectedAccount, nil
	}
	tk, sc, err := s.schemeFor(rec.Toolkit, rec.Mode)
	if err != nil {
		return nil, err
	}
	creds, err := s.openCredentials(rec.Credentials, sc)
	if err != nil {
		return nil, err
	}
	probe := *rec.ConnectedAccount
	probe.Status, probe.StatusReason = StatusActive, ""
	if err := s.validate(ctx, tk, sc, &probe, creds); err != nil {
		return nil, err
	}
	return s.updateConnection(ctx, p, id, ActionConnectionRefresh, func(_ Store, ca *ConnectedAccount) error {
		if ca.Status != StatusRevoked { // unless revoked while the app was asked
			ca.Status, ca.StatusReason = probe.Status, probe.StatusReason
		}
		return nil
	})
}
