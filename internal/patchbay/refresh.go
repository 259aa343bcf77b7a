package patchbay

import (
	"context"
	"errors"
	"time"
)

// RefreshLeeway is how close to its expiry an OAuth2 access token is
// refreshed before a call uses it.
const RefreshLeeway = 60 * time.Second

// ErrRefreshRejected marks a provider's refusal of a refresh token (a 4xx
// answer of its token endpoint, invalid_grant most often).
var ErrRefreshRejected = errors.New("the provider rejected the refresh token")

// needsRefresh reports whether OAuth2 credentials have an access token
// that has expired or expires within RefreshLeeway, and a refresh token to
// renew it with.
func (s *Service) needsRefresh(sc *AuthScheme, creds map[string]string) bool {
	if sc.OAuth2 == nil || creds[FieldRefreshToken] == "" || creds[FieldExpiresAt] == "" {
		return false
	}
	exp, err := time.Parse(time.RFC3339, creds[FieldExpiresAt])
	if err != nil {
		return true // an expiry patchbay cannot read is not trusted
	}
	return !s.now().Add(RefreshLeeway).Before(exp)
}

// refreshOAuth renews an OAuth2 account's tokens, one refresh at a time
// per account across instances: under the account's row lock it reads the
// account again and, unless force, uses the tokens another caller already
// renewed. seen is the access token the caller holds ("" for none). A
// rejected refresh token marks the account EXPIRED (committed, audited)
// and answers EINVALID; an unreachable token endpoint changes nothing and
// answers an error wrapping ErrUnreachable. A disabled, revoked or
// otherwise not ACTIVE account is never refreshed.
func (s *Service) refreshOAuth(ctx context.Context, p *Principal, projectID, id, seen string, force bool) (*ConnectedAccount, map[string]string, error) {
	if s.oauth == nil {
		return nil, nil, Errorf(EINVALID, "OAuth2 connections are not available on this server.")
	}
	var (
		out      *ConnectedAccount
		creds    map[string]string
		rejected error
	)
	err := s.store.InTx(ctx, func(tx Store) error {
		rec, err := tx.LockConnectedAccount(ctx, projectID, id)
		if err != nil {
			return err
		}
		ca := rec.ConnectedAccount
		if err := usable(rec); err != nil {
			return err
		}
		_, sc, err := s.schemeFor(ca.Toolkit, ca.Mode)
		if err != nil {
			return err
		}
		if sc.OAuth2 == nil {
			return Errorf(EINVALID, "Connected account %s is not an OAuth2 account: it has no token to refresh.", ca.ID)
		}
		if creds, err = s.openCredentials(rec.Credentials, sc); err != nil {
			return err
		}
		if !force && creds[FieldAccessToken] != seen && !s.needsRefresh(sc, creds) {
			out = ca // another caller refreshed it while this one waited
			return nil
		}
		rt := creds[FieldRefreshToken]
		if rt == "" {
			return Errorf(EINVALID, "Connected account %s has no refresh token: the user must reconnect it.", ca.ID)
		}
		ac, err := tx.GetAuthConfig(ctx, projectID, ca.AuthConfigID)
		if err != nil {
			return err
		}
		req, err := s.oauthRequest(ctx, tx, ac, sc)
		if err != nil {
			return err
		}
		tok, err := s.oauth.Refresh(ctx, req, rt)
		if errors.Is(err, ErrRefreshRejected) {
			ca.Status, ca.StatusReason, ca.UpdatedAt = StatusExpired, Truncate("OAuth refresh failed: "+err.Error(), 500), s.now()
			s.log.WarnContext(ctx, "oauth refresh rejected: connected account EXPIRED", "connected_account", ca.ID, "err", err)
			rejected = Errorf(EINVALID, "Connected account %s is EXPIRED: the provider rejected its refresh token (%s). The user must reconnect it.", ca.ID, err.Error())
			out = ca
			if err := tx.UpdateConnectedAccount(ctx, ca); err != nil {
				return err
			}
			return s.audit(ctx, tx, p, ActionConnectionRefresh, projectID, ca.ID)
		}
		if err == nil && tok.AccessToken.Reveal() == "" {
			err = errors.New("the token endpoint answered no access_token")
		}
		if err != nil {
			// Not the provider's verdict on the refresh token: the account
			// stays as it is and the call fails as an unreachable app does.
			s.log.WarnContext(ctx, "oauth refresh failed", "connected_account", ca.ID, "err", err)
			return &Error{Code: EUNAVAILABLE, Err: errors.Join(ErrUnreachable, err),
				Message: "Could not reach " + ca.Toolkit + "'s OAuth token endpoint to refresh connected account " + ca.ID + "'s access token; try again."}
		}
		creds[FieldAccessToken] = tok.AccessToken.Reveal()
		if nrt := tok.RefreshToken.Reveal(); nrt != "" {
			creds[FieldRefreshToken] = nrt
		}
		if tok.TokenType != "" {
			creds[FieldTokenType] = tok.TokenType
		}
		delete(creds, FieldExpiresAt)
		if !tok.Expiry.IsZero() {
			creds[FieldExpiresAt] = tok.Expiry.UTC().Format(time.RFC3339)
		}
		if tok.Scope != "" {
			creds[FieldGrantedScope] = tok.Scope
		}
		st, err := s.sealMap(CredentialsRef(projectID, ca.ID), creds)
		if err != nil {
			return err
		}
		if err := tx.PutSecret(ctx, st); err != nil {
			return err
		}
		ca.UpdatedAt = s.now()
		out = ca
		if err := tx.UpdateConnectedAccount(ctx, ca); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionConnectionRefresh, projectID, ca.ID)
	})
	if err != nil {
		return nil, nil, err
	}
	if rejected != nil {
		return out, nil, rejected
	}
	return out, creds, nil
}

// usable is why an account may not be used or refreshed, or nil.
func usable(rec *ConnectionRecord) error {
	ca := rec.ConnectedAccount
	switch {
	case ca.Disabled:
		return Errorf(EINVALID, "Connected account %s is disabled: enable it first.", ca.ID)
	case rec.AuthConfigDisabled:
		return Errorf(EINVALID, "The auth config of connected account %s is disabled.", ca.ID)
	case ca.Status != StatusActive:
		return Errorf(EINVALID, "Connected account %s is %s, not ACTIVE: reconnect the user.", ca.ID, ca.Status)
	}
	return nil
}
