package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

var _ patchbay.OAuthClient = (*Client)(nil)

// oauthConfig is r as golang.org/x/oauth2 wants it. A provider whose
// scopes are not separated by spaces gets them joined as one value.
func oauthConfig(r patchbay.OAuthRequest) *oauth2.Config {
	scopes := r.Scopes
	if sep := r.ScopeSeparator; sep != "" && sep != " " && len(scopes) > 1 {
		scopes = []string{strings.Join(scopes, sep)}
	}
	return &oauth2.Config{
		ClientID: r.ClientID, ClientSecret: r.ClientSecret.Reveal(), RedirectURL: r.RedirectURI, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: r.AuthorizationURL, TokenURL: r.TokenURL},
	}
}

// AuthCodeURL is the provider's authorization URL with state and the
// S256 challenge of verifier.
func (c *Client) AuthCodeURL(r patchbay.OAuthRequest, state, verifier string) string {
	return oauthConfig(r).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// Exchange trades code for tokens at the provider's token endpoint,
// through the guarded client: the token URL is dialled under the same SSRF
// guard as every tool call.
func (c *Client) Exchange(ctx context.Context, r patchbay.OAuthRequest, code, verifier string) (*patchbay.OAuthToken, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.http)
	tok, err := oauthConfig(r).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, tokenError(err)
	}
	return grantedToken(tok), nil
}

// Refresh trades a refresh token for new tokens through golang.org/x/oauth2's
// token source, over the guarded client as Exchange. A 4xx answer of the
// token endpoint wraps patchbay.ErrRefreshRejected; a failure to reach it
// wraps patchbay.ErrUnreachable, and so does any other answer (a 5xx): the
// provider said nothing about the refresh token.
func (c *Client) Refresh(ctx context.Context, r patchbay.OAuthRequest, refreshToken string) (*patchbay.OAuthToken, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.http)
	// A token with no access token is never valid: the source refreshes.
	tok, err := oauthConfig(r).TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		err = tokenError(err)
		var re *rejected
		switch {
		case errors.As(err, &re) && re.status >= 400 && re.status < 500:
			return nil, fmt.Errorf("%w: %v", patchbay.ErrRefreshRejected, err)
		default:
			return nil, fmt.Errorf("%w: %v", patchbay.ErrUnreachable, err)
		}
	}
	return grantedToken(tok), nil
}

// rejected is a token endpoint's error answer: its status and error code,
// never its body, which may carry a token.
type rejected struct {
	status int
	code   string
}

func (e *rejected) Error() string {
	return fmt.Sprintf("token endpoint answered %d %s", e.status, e.code)
}

func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return &rejected{status: status, code: patchbay.Truncate(re.ErrorCode, 64)}
	}
	var be *BlockedError
	if errors.As(err, &be) {
		return be
	}
	return errors.New("token endpoint unreachable")
}

func grantedToken(tok *oauth2.Token) *patchbay.OAuthToken {
	out := &patchbay.OAuthToken{AccessToken: patchbay.NewSecret(tok.AccessToken), RefreshToken: patchbay.NewSecret(tok.RefreshToken),
		TokenType: tok.Type(), Expiry: tok.Expiry}
	if s, ok := tok.Extra("scope").(string); ok {
		out.Scope = s
	}
	return out
}

// Revoke posts token to the provider's revocation endpoint as RFC 7009
// describes (golang.org/x/oauth2 has no revocation), through the guarded
// client: token and token_type_hint in a form, the client authenticated
// by HTTP Basic or, where the provider wants it, in the form. Only a 200
// confirms; any other answer is an error naming its status, never its
// body.
func (c *Client) Revoke(ctx context.Context, r patchbay.OAuthRequest, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	if r.RevocationAuth == "body" {
		form.Set("client_id", r.ClientID)
		form.Set("client_secret", r.ClientSecret.Reveal())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.RevocationURL, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("revocation endpoint: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if r.RevocationAuth != "body" {
		// RFC 6749 §2.3.1: both parts form-encoded before Basic.
		req.SetBasicAuth(url.QueryEscape(r.ClientID), url.QueryEscape(r.ClientSecret.Reveal()))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var be *BlockedError
		if errors.As(err, &be) {
			return be
		}
		return fmt.Errorf("%w: revocation endpoint unreachable", patchbay.ErrUnreachable)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revocation endpoint answered %d", resp.StatusCode)
	}
	return nil
}
