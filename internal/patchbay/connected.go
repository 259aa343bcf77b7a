package patchbay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

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
}

// ValidateUserID checks an end-user id: 1 to 256 printable characters.
func ValidateUserID(id string) error {
	switch {
	case strings.TrimSpace(id) == "":
		return Errorf(EINVALID, "user_id is required: the id of the end user in your system.")
	case !utf8.ValidString(id) || utf8.RuneCountInString(id) > 256:
		return Errorf(EINVALID, "user_id must be valid UTF-8 of at most 256 characters.")
	}
	return nil
}

// Connect creates a connected account. For user-supplied schemes (API key,
// bearer token, basic, no auth) the account is ACTIVE at once, or FAILED
// with a reason when validation was asked for and the app rejected the
// credentials. EINVALID names every problem with the request; ENOTFOUND for
// an auth config outside the project.
func (s *Service) Connect(ctx context.Context, a Actor, projectID string, n NewConnection) (*ConnectedAccount, error) {
	if err := ValidateUserID(n.UserID); err != nil {
		return nil, err
	}
	ac, err := s.Store.GetAuthConfig(ctx, projectID, n.AuthConfigID)
	if err != nil {
		return nil, err
	}
	if ac.Disabled {
		return nil, Errorf(EINVALID, "Auth config %s is disabled; enable it before connecting accounts through it.", ac.ID)
	}
	if n.Mode != "" && n.Mode != ac.Mode {
		return nil, Errorf(EINVALID, "Auth config %s uses the %s scheme, but the connection was given as %s.", ac.ID, ac.Mode, n.Mode)
	}
	tk, err := s.Toolkit(ac.Toolkit)
	if err != nil {
		return nil, err
	}
	sc, err := schemeOf(tk, ac.Mode)
	if err != nil {
		return nil, err
	}
	if !sc.Mode.UserSupplied() {
		return nil, Errorf(EINVALID, "Connections through %s auth configs need the OAuth flow, which this patchbay does not offer yet; use an API key, bearer token or basic scheme.", sc.Mode)
	}
	creds, err := checkFields(tk, sc, ScopeConnection, n.Values)
	if err != nil {
		return nil, err
	}
	if len(n.Labels) > 50 {
		return nil, Errorf(EINVALID, "labels may hold at most 50 entries.")
	}
	for _, l := range n.Labels {
		if l == "" || utf8.RuneCountInString(l) > 100 {
			return nil, Errorf(EINVALID, "each label must be 1 to 100 characters.")
		}
	}
	if utf8.RuneCountInString(n.Alias) > 256 {
		return nil, Errorf(EINVALID, "alias must be at most 256 characters.")
	}
	now := s.Now()
	ca := &ConnectedAccount{
		ProjectID: projectID, AuthConfigID: ac.ID, Toolkit: ac.Toolkit, Mode: ac.Mode, UserID: n.UserID,
		Status: StatusActive, Alias: n.Alias, Labels: n.Labels, CreatedAt: now, UpdatedAt: now,
	}
	if n.Validate {
		if err := s.validate(ctx, tk, sc, ca, creds); err != nil {
			return nil, err
		}
	}
	if ca.ID, err = NewID(PrefixConn, s.Rand); err != nil {
		return nil, err
	}
	st, err := s.sealMap(CredentialsRef(projectID, ca.ID), creds)
	if err != nil {
		return nil, err
	}
	err = s.Store.InTx(ctx, func(tx Store) error {
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
		return tx.PutSecret(ctx, st)
	})
	if err != nil {
		return nil, err
	}
	return ca, nil
}

// validate runs the scheme's test request and marks ca FAILED with a reason
// when the app rejects the credentials.
func (s *Service) validate(ctx context.Context, tk *Toolkit, sc *AuthScheme, ca *ConnectedAccount, creds map[string]string) error {
	if sc.TestRequest == nil {
		return Errorf(EINVALID, "validate_credentials: toolkit %s has no test request for %s; connect without validation.", tk.Slug, sc.Mode)
	}
	if s.Checker == nil {
		return Errorf(EINVALID, "validate_credentials is not available on this server.")
	}
	ok, reason, err := s.Checker.Check(ctx, tk, sc, creds)
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

// ConnectedAccount returns an account with its opened credentials.
func (s *Service) ConnectedAccount(ctx context.Context, projectID, id string) (*ConnectedAccount, map[string]string, error) {
	ca, st, err := s.Store.GetConnectedAccount(ctx, projectID, id)
	if err != nil {
		return nil, nil, err
	}
	creds, err := s.openMap(st)
	if err != nil {
		return nil, nil, err
	}
	return ca, creds, nil
}

// ConnectionsCredentials opens the credentials of several accounts of a
// project at once, by account ID.
func (s *Service) ConnectionsCredentials(ctx context.Context, projectID string, cas []*ConnectedAccount) (map[string]map[string]string, error) {
	ids := make([]string, len(cas))
	for i, ca := range cas {
		ids[i] = ca.ID
	}
	sealed, err := s.Store.ConnectionSecrets(ctx, projectID, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]string, len(sealed))
	for id, st := range sealed {
		m, err := s.openMap(&st)
		if err != nil {
			// One corrupt value must not hide the whole listing; the
			// account reads as having no credentials, and GET on it fails.
			s.Log.ErrorContext(ctx, "open connected account credentials", "connected_account", id, "err", err)
			continue
		}
		out[id] = m
	}
	return out, nil
}

// Scheme returns the toolkit scheme a connected account or auth config uses.
func (s *Service) Scheme(toolkit string, mode AuthMode) (*Toolkit, *AuthScheme, error) {
	tk, err := s.Toolkit(toolkit)
	if err != nil {
		return nil, nil, err
	}
	sc, err := schemeOf(tk, mode)
	return tk, sc, err
}

// updateConnection loads an account, applies fn and saves it.
func (s *Service) updateConnection(ctx context.Context, projectID, id string, fn func(tx Store, ca *ConnectedAccount) error) (*ConnectedAccount, error) {
	var out *ConnectedAccount
	err := s.Store.InTx(ctx, func(tx Store) error {
		ca, _, err := tx.GetConnectedAccount(ctx, projectID, id)
		if err != nil {
			return err
		}
		if err := fn(tx, ca); err != nil {
			return err
		}
		ca.UpdatedAt = s.Now()
		out = ca
		return tx.UpdateConnectedAccount(ctx, ca)
	})
	return out, err
}

// SetConnectionDisabled enables or disables an account; a disabled account
// keeps its status and credentials but is not used.
func (s *Service) SetConnectionDisabled(ctx context.Context, projectID, id string, disabled bool) (*ConnectedAccount, error) {
	return s.updateConnection(ctx, projectID, id, func(_ Store, ca *ConnectedAccount) error {
		ca.Disabled = disabled
		return nil
	})
}

// RevokeConnection marks an account REVOKED and erases its credentials.
// It returns which credentials were erased: none for an account revoked
// before.
func (s *Service) RevokeConnection(ctx context.Context, projectID, id string) (*ConnectedAccount, []string, error) {
	var erased []string
	ca, err := s.updateConnection(ctx, projectID, id, func(tx Store, ca *ConnectedAccount) error {
		if ca.Status == StatusRevoked {
			return nil
		}
		ca.Status, ca.StatusReason = StatusRevoked, "Revoked via user-initiated revoke endpoint"
		erased = []string{"credential"}
		return tx.DeleteSecret(ctx, CredentialsRef(projectID, id))
	})
	if erased == nil {
		erased = []string{}
	}
	return ca, erased, err
}

// DeleteConnection deletes an account and its credentials.
func (s *Service) DeleteConnection(ctx context.Context, projectID, id string) error {
	return s.Store.DeleteConnectedAccount(ctx, projectID, id)
}

// Reinitiate replaces an account's connection fields (all of them, as on
// creation) and makes it ACTIVE again.
func (s *Service) Reinitiate(ctx context.Context, projectID, id string, values map[string]any) (*ConnectedAccount, error) {
	return s.updateConnection(ctx, projectID, id, func(tx Store, ca *ConnectedAccount) error {
		tk, sc, err := s.Scheme(ca.Toolkit, ca.Mode)
		if err != nil {
			return err
		}
		creds, err := checkFields(tk, sc, ScopeConnection, values)
		if err != nil {
			return err
		}
		st, err := s.sealMap(CredentialsRef(projectID, id), creds)
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
func (s *Service) RefreshConnection(ctx context.Context, projectID, id string, validate bool) (*ConnectedAccount, error) {
	if !validate {
		ca, _, err := s.Store.GetConnectedAccount(ctx, projectID, id)
		return ca, err
	}
	ca, creds, err := s.ConnectedAccount(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	if ca.Status == StatusRevoked {
		// Its credentials are erased: there is nothing to try, and trying
		// the empty ones must not make it ACTIVE again. Reinitiate it.
		return ca, nil
	}
	tk, sc, err := s.Scheme(ca.Toolkit, ca.Mode)
	if err != nil {
		return nil, err
	}
	probe := *ca
	probe.Status, probe.StatusReason = StatusActive, ""
	if err := s.validate(ctx, tk, sc, &probe, creds); err != nil {
		return nil, err
	}
	return s.updateConnection(ctx, projectID, id, func(_ Store, ca *ConnectedAccount) error {
		if ca.Status != StatusRevoked { // unless revoked while the app was asked
			ca.Status, ca.StatusReason = probe.Status, probe.StatusReason
		}
		return nil
	})
}
