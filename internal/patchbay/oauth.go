package patchbay

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

// OAuth2 connections: an initiated account gets a connect link on patchbay;
// opening it issues a single-use state and a PKCE verifier and sends the
// browser to the provider; the provider's callback brings the code back,
// which the OAuthClient exchanges for tokens, sealed as the account's
// credentials.

// Lifetimes of a connect link and of the state it issues.
const (
	ConnectLinkTTL = 10 * time.Minute
	OAuthStateTTL  = 10 * time.Minute
)

// Paths of the browser-facing OAuth endpoints, under /api/v3.1 (and
// /api/v3). CallbackPath is Composio's.
const (
	ConnectPath  = "/api/v3.1/connect/"
	CallbackPath = "/api/v3.1/toolkits/auth/callback"
)

// Fields of an OAuth2 connection's sealed credentials besides access_token.
const (
	FieldRefreshToken = "refresh_token"
	FieldTokenType    = "token_type"
	FieldExpiresAt    = "expires_at"
	FieldGrantedScope = "scope"
	// fieldVerifier is where a flow's PKCE code verifier is sealed.
	fieldVerifier = "oauth_code_verifier"
)

// OAuthAppsEnv and the format it names, for messages that say how to
// configure a managed OAuth app.
const OAuthAppsEnv = "PATCHBAY_OAUTH_APPS_FILE"

// OAuthApp is an OAuth 2.0 client registered with a provider: a developer's
// (a custom auth config) or the operator's (a managed one).
type OAuthApp struct {
	ClientID     string
	ClientSecret Secret
	Scopes       []string
	// AuthorizationURL, TokenURL and RevocationURL override the
	// toolkit's when set.
	AuthorizationURL string
	TokenURL         string
	RevocationURL    string
}

// OAuthApps are the operator's managed OAuth apps, by toolkit slug.
type OAuthApps map[string]*OAuthApp

type oauthAppFile struct {
	ClientID         string   `json:"client_id"`
	ClientSecret     string   `json:"client_secret"`
	Scopes           []string `json:"scopes"`
	AuthorizationURL string   `json:"authorization_url"`
	TokenURL         string   `json:"token_url"`
	RevocationURL    string   `json:"revocation_url"`
}

// ParseOAuthApps reads the operator's managed OAuth apps file:
// {"SLUG": {"client_id", "client_secret", "scopes": [...],
// "authorization_url"?, "token_url"?, "revocation_url"?}}. Every problem
// is named.
func ParseOAuthApps(data []byte) (OAuthApps, error) {
	var raw map[string]oauthAppFile
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("OAuth apps file: %w (expected {\"SLUG\": {\"client_id\": \"…\", \"client_secret\": \"…\", \"scopes\": [\"…\"], \"authorization_url\": \"…\", \"token_url\": \"…\"}})", err)
	}
	out := OAuthApps{}
	var problems []string
	slugs := make([]string, 0, len(raw))
	for slug := range raw {
		slugs = append(slugs, slug)
	}
	sort.Strings(slugs)
	for _, slug := range slugs {
		a := raw[slug]
		if strings.TrimSpace(a.ClientID) == "" || strings.TrimSpace(a.ClientSecret) == "" {
			problems = append(problems, fmt.Sprintf("%s: client_id and client_secret are required", slug))
			continue
		}
		for name, u := range map[string]string{"authorization_url": a.AuthorizationURL, "token_url": a.TokenURL, "revocation_url": a.RevocationURL} {
			if u != "" && !httpURL(u) {
				problems = append(problems, fmt.Sprintf("%s: %s must be an absolute http(s) URL", slug, name))
			}
		}
		out[strings.ToLower(strings.TrimSpace(slug))] = &OAuthApp{ClientID: a.ClientID, ClientSecret: NewSecret(a.ClientSecret),
			Scopes: a.Scopes, AuthorizationURL: a.AuthorizationURL, TokenURL: a.TokenURL, RevocationURL: a.RevocationURL}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("OAuth apps file: %s", strings.Join(problems, "; "))
	}
	return out, nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// OAuthRequest is one authorization (or code exchange) with a provider,
// with every URL resolved.
type OAuthRequest struct {
	ClientID         string
	ClientSecret     Secret
	AuthorizationURL string
	TokenURL         string
	RedirectURI      string
	Scopes           []string
	ScopeSeparator   string // "" for a space
	RevocationURL    string // "" where the provider has no revocation endpoint
	RevocationAuth   string // "header" or "body" (OAuth2Provider.RevocationAuth)
}

// OAuthToken is what a provider granted.
type OAuthToken struct {
	AccessToken  Secret
	RefreshToken Secret
	TokenType    string
	Expiry       time.Time // zero when the provider gave none
	Scope        string
}

// OAuthClient speaks OAuth 2.0 to providers (internal/outbound, through
// golang.org/x/oauth2 and the guarded HTTP client).
type OAuthClient interface {
	// AuthCodeURL is the provider's authorization URL for r, with state
	// and the S256 challenge of verifier.
	AuthCodeURL(r OAuthRequest, state, verifier string) string
	// Exchange trades an authorization code for tokens, sending verifier.
	Exchange(ctx context.Context, r OAuthRequest, code, verifier string) (*OAuthToken, error)
	// Refresh trades a refresh token for new tokens. ErrRefreshRejected
	// when the provider refuses it (a 4xx), ErrUnreachable when the token
	// endpoint could not be reached.
	Refresh(ctx context.Context, r OAuthRequest, refreshToken string) (*OAuthToken, error)
	// Revoke asks the provider's revocation endpoint (RFC 7009) to revoke
	// token, whose kind hint names ("refresh_token" or "access_token").
	// nil only when the endpoint confirmed it with a 200.
	Revoke(ctx context.Context, r OAuthRequest, token, hint string) error
}

// OAuthFlow is an OAuth2 connection in progress, as stored: the connect
// link and, once the link is opened, the state it issued. Tokens are
// stored hashed (SHA-256, hex); the PKCE verifier is sealed apart.
type OAuthFlow struct {
	AccountID      string
	ProjectID      string
	OrgID          string
	ActorID        string // the member who initiated it, for the audit
	ActorKey       string // and the credential
	LinkHash       string
	LinkExpiresAt  time.Time
	StateHash      string // "" until the link is opened
	StateExpiresAt time.Time
	CallbackURL    string // the developer's, "" for none
	RedirectURI    string // sent to the provider
	UsedAt         *time.Time
	CreatedAt      time.Time
}

// OAuthStore keeps flows.
type OAuthStore interface {
	CreateOAuthFlow(ctx context.Context, f *OAuthFlow) error
	OAuthFlowByLink(ctx context.Context, linkHash string) (*OAuthFlow, error)
	OAuthFlowByState(ctx context.Context, stateHash string) (*OAuthFlow, error)
	// SetOAuthState gives an unused flow a new state (replacing any
	// earlier one); ECONFLICT when the flow was used.
	SetOAuthState(ctx context.Context, accountID, stateHash string, expires time.Time) error
	// UseOAuthState marks the flow with that state used; false when it
	// was used already.
	UseOAuthState(ctx context.Context, stateHash string, at time.Time) (bool, error)
	// UseConnectLink marks the flow with that link used (a key link's
	// form was accepted); false when it was used already.
	UseConnectLink(ctx context.Context, linkHash string, at time.Time) (bool, error)
}

// ConnectLink is where the end user goes to connect an OAuth2 account.
type ConnectLink struct {
	Token     string
	URL       string
	ExpiresAt time.Time
}

// HashToken is how link tokens and states are stored.
func HashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func (s *Service) randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := s.rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// oauthRequest resolves the OAuth app an auth config uses: the developer's
// client credentials (custom) or the operator's app (managed), with the
// toolkit's URLs unless the app overrides them.
func (s *Service) oauthRequest(ctx context.Context, st Store, ac *AuthConfig, sc *AuthScheme) (OAuthRequest, error) {
	if sc.OAuth2 == nil {
		return OAuthRequest{}, Errorf(EINVALID, "Toolkit %s's %s scheme has no OAuth2 provider.", ac.Toolkit, sc.Mode)
	}
	r := OAuthRequest{AuthorizationURL: sc.OAuth2.AuthorizationURL, TokenURL: sc.OAuth2.TokenURL,
		Scopes: sc.OAuth2.DefaultScopes, ScopeSeparator: sc.OAuth2.ScopeSeparator, RedirectURI: ac.Settings.OAuthRedirectURI,
		RevocationURL: sc.OAuth2.RevocationURL, RevocationAuth: sc.OAuth2.RevocationAuth}
	if ac.Managed {
		app := s.oauthApps[strings.ToLower(ac.Toolkit)]
		if app == nil {
			return OAuthRequest{}, ManagedAppMissing(ac.Toolkit)
		}
		r.ClientID, r.ClientSecret = app.ClientID, app.ClientSecret
		if len(app.Scopes) > 0 {
			r.Scopes = app.Scopes
		}
		if app.AuthorizationURL != "" {
			r.AuthorizationURL = app.AuthorizationURL
		}
		if app.TokenURL != "" {
			r.TokenURL = app.TokenURL
		}
		if app.RevocationURL != "" {
			r.RevocationURL = app.RevocationURL
		}
	} else {
		rec, err := st.GetAuthConfigRecord(ctx, ac.ProjectID, ac.ID)
		if err != nil {
			return OAuthRequest{}, err
		}
		creds, err := s.openCredentials(rec.Credentials, sc)
		if err != nil {
			return OAuthRequest{}, err
		}
		if creds["client_id"] == "" || creds["client_secret"] == "" {
			return OAuthRequest{}, Errorf(EINVALID, "Auth config %s has no client_id and client_secret: set your OAuth app's credentials on it.", ac.ID)
		}
		r.ClientID, r.ClientSecret = creds["client_id"], NewSecret(creds["client_secret"])
	}
	if len(ac.Settings.Scopes) > 0 {
		r.Scopes = ac.Settings.Scopes
	}
	return r, nil
}

// ManagedAppMissing is the error for a managed OAuth2 auth config whose
// toolkit has no operator app.
func ManagedAppMissing(toolkit string) error {
	return Errorf(EINVALID, "Toolkit %s has no managed OAuth app on this patchbay. The operator can add one in the file named by %s (or --oauth-apps-file): "+
		"{\"%s\": {\"client_id\": \"…\", \"client_secret\": \"…\", \"scopes\": [\"…\"]}}, registering %s as the app's callback URL; "+
		"or create a custom auth config (use_custom_auth) with your own client_id and client_secret.", toolkit, OAuthAppsEnv, toolkit, CallbackPath)
}

// HasManagedOAuthApp reports whether the operator configured an OAuth app
// for the toolkit.
func (s *Service) HasManagedOAuthApp(toolkit string) bool {
	return s.oauthApps[strings.ToLower(toolkit)] != nil
}

// OAuthStart is what Connect needs to begin an OAuth2 flow.
type OAuthStart struct {
	// Origin is patchbay's public origin ("https://patchbay.example"),
	// from the request.
	Origin string
	// CallbackURL is the developer's page the browser lands on at the end.
	CallbackURL string
}

// startOAuth validates what an OAuth2 flow needs and builds the flow row
// for ca (which gets its ID later).
func (s *Service) startOAuth(ctx context.Context, p *Principal, ac *AuthConfig, sc *AuthScheme, n NewConnection) (*OAuthFlow, *ConnectLink, error) {
	if s.oauth == nil {
		return nil, nil, Errorf(EINVALID, "OAuth2 connections are not available on this server.")
	}
	req, err := s.oauthRequest(ctx, s.store, ac, sc)
	if err != nil {
		return nil, nil, err
	}
	if n.OAuth.Origin == "" || !httpURL(n.OAuth.Origin) {
		return nil, nil, Errorf(EINVALID, "OAuth2 connections need patchbay's public origin, which this request did not give.")
	}
	f, link, err := s.newLink(p, ac, n)
	if err != nil {
		return nil, nil, err
	}
	f.RedirectURI = req.RedirectURI
	if f.RedirectURI == "" {
		f.RedirectURI = strings.TrimSuffix(n.OAuth.Origin, "/") + CallbackPath
	}
	return f, link, nil
}

// OAuthPage is where a browser-facing connect step sends the browser:
// Redirect, or (with no place to go) a plain page with Status and Message,
// or a key link's form (Form, with Status).
type OAuthPage struct {
	Redirect string
	// SeeOther asks for a 303 (the answer to a form's POST) instead of 302.
	SeeOther bool
	Status   int
	Message  string
	Form     *ConnectForm
}

func oauthPage(status int, msg string) *OAuthPage { return &OAuthPage{Status: status, Message: msg} }

// OpenConnectLink is the end user opening a connect link: it issues a
// fresh single-use state and PKCE verifier for the flow and answers the
// provider's authorization URL. The link token is the only credential.
func (s *Service) OpenConnectLink(ctx context.Context, token string) *OAuthPage {
	f, page := s.lookupLink(ctx, token)
	if page != nil {
		return page
	}
	if f.KeyLink() {
		k, page := s.openKeyLink(ctx, f)
		if page != nil {
			return page
		}
		return s.form(ctx, k, "", nil, nil)
	}
	switch {
	case f.UsedAt != nil:
		return s.finish(f, "", "link_used", "This connect link was used already.")
	case !s.now().Before(f.LinkExpiresAt):
		return s.finish(f, "", "link_expired", "This connect link has expired; start the connection again.")
	}
	rec, err := s.store.GetConnectedAccount(ctx, f.ProjectID, f.AccountID)
	if err != nil {
		return oauthPage(404, "This connect link is not valid.")
	}
	if rec.Status != StatusInitiated {
		return s.finish(f, rec.ID, "not_initiated", "This connection is no longer waiting to be authorized.")
	}
	ac, err := s.store.GetAuthConfig(ctx, f.ProjectID, rec.AuthConfigID)
	if err != nil {
		return oauthPage(404, "This connect link is not valid.")
	}
	_, sc, err := s.schemeFor(ac.Toolkit, ac.Mode)
	if err == nil {
		var req OAuthRequest
		if req, err = s.oauthRequest(ctx, s.store, ac, sc); err == nil {
			req.RedirectURI = f.RedirectURI
			var state, verifier string
			if state, err = s.randomToken(32); err == nil {
				if verifier, err = s.randomToken(48); err == nil {
					err = s.saveState(ctx, f, state, verifier)
				}
			}
			if err == nil {
				return &OAuthPage{Redirect: s.oauth.AuthCodeURL(req, state, verifier)}
			}
		}
	}
	s.log.WarnContext(ctx, "connect link", "connected_account", f.AccountID, "err", err)
	var de *Error
	if errors.As(err, &de) && de.Code == EINVALID {
		return s.finish(f, f.AccountID, "configuration_error", de.Message)
	}
	return oauthPage(503, "patchbay could not start the authorization; try again.")
}

func (s *Service) saveState(ctx context.Context, f *OAuthFlow, state, verifier string) error {
	st, err := s.sealMap(SecretRef{ProjectID: f.ProjectID, Record: f.AccountID, Field: fieldVerifier}, map[string]string{"code_verifier": verifier})
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Store) error {
		if err := tx.SetOAuthState(ctx, f.AccountID, HashToken(state), s.now().Add(OAuthStateTTL)); err != nil {
			return err
		}
		return tx.PutSecret(ctx, st)
	})
}

// OAuthCallback is what the provider sent back to the callback.
type OAuthCallback struct {
	State            string
	Code             string
	Error            string
	ErrorDescription string
}

// CompleteOAuth handles the provider's callback: it consumes the state,
// exchanges the code, seals the tokens and marks the account ACTIVE; a
// denied consent, an expired state or a failed exchange marks it FAILED; a
// replayed state changes nothing. The browser goes to the developer's
// callback URL with the outcome, or sees a plain page without one.
func (s *Service) CompleteOAuth(ctx context.Context, cb OAuthCallback) *OAuthPage {
	if cb.State == "" || len(cb.State) > 256 {
		return oauthPage(400, "The authorization answer carries no valid state.")
	}
	f, err := s.store.OAuthFlowByState(ctx, HashToken(cb.State))
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return oauthPage(400, "This authorization answer is not one patchbay is waiting for.")
	case err != nil:
		s.log.ErrorContext(ctx, "oauth state lookup", "err", err)
		return oauthPage(503, "patchbay could not complete the authorization; try again.")
	}
	used, err := s.store.UseOAuthState(ctx, f.StateHash, s.now())
	if err != nil {
		s.log.ErrorContext(ctx, "oauth state use", "err", err)
		return oauthPage(503, "patchbay could not complete the authorization; try again.")
	}
	if !used {
		// A replay: whatever the first use did stands.
		return s.finish(f, f.AccountID, "state_used", "This authorization answer was used already.")
	}
	if !s.now().Before(f.StateExpiresAt) {
		return s.fail(ctx, f, "state_expired", "OAuth state expired before the callback: authorization took longer than 10 minutes")
	}
	if cb.Error != "" {
		code := Truncate(cb.Error, 64)
		reason := "The user denied consent at the provider (" + code + ")"
		if code != "access_denied" {
			reason = "The provider refused the authorization (" + code + ")"
		}
		return s.fail(ctx, f, code, reason)
	}
	if cb.Code == "" {
		return s.fail(ctx, f, "missing_code", "The provider's callback carried no authorization code")
	}
	tok, err := s.exchange(ctx, f, cb.Code)
	if err != nil {
		s.log.WarnContext(ctx, "oauth code exchange failed", "connected_account", f.AccountID, "err", err)
		return s.fail(ctx, f, "token_exchange_failed", "OAuth callback failed during token exchange")
	}
	creds := map[string]string{FieldAccessToken: tok.AccessToken.Reveal(), FieldTokenType: tok.TokenType}
	if rt := tok.RefreshToken.Reveal(); rt != "" {
		creds[FieldRefreshToken] = rt
	}
	if !tok.Expiry.IsZero() {
		creds[FieldExpiresAt] = tok.Expiry.UTC().Format(time.RFC3339)
	}
	if tok.Scope != "" {
		creds[FieldGrantedScope] = tok.Scope
	}
	st, err := s.sealMap(CredentialsRef(f.ProjectID, f.AccountID), creds)
	if err == nil {
		err = s.settle(ctx, f, StatusActive, "", func(tx Store) error { return tx.PutSecret(ctx, st) })
	}
	if err != nil {
		s.log.ErrorContext(ctx, "oauth tokens save", "connected_account", f.AccountID, "err", err)
		return s.finish(f, f.AccountID, "server_error", "patchbay could not save the connection; start it again.")
	}
	return s.finishActive(f)
}

func (s *Service) exchange(ctx context.Context, f *OAuthFlow, code string) (*OAuthToken, error) {
	rec, err := s.store.GetConnectedAccount(ctx, f.ProjectID, f.AccountID)
	if err != nil {
		return nil, err
	}
	ac, err := s.store.GetAuthConfig(ctx, f.ProjectID, rec.AuthConfigID)
	if err != nil {
		return nil, err
	}
	_, sc, err := s.schemeFor(ac.Toolkit, ac.Mode)
	if err != nil {
		return nil, err
	}
	req, err := s.oauthRequest(ctx, s.store, ac, sc)
	if err != nil {
		return nil, err
	}
	req.RedirectURI = f.RedirectURI
	vs, err := s.store.GetSecret(ctx, SecretRef{ProjectID: f.ProjectID, Record: f.AccountID, Field: fieldVerifier})
	if err != nil {
		return nil, err
	}
	pt, err := s.sealer.Open(vs.Ref, vs.Sealed)
	if err != nil {
		return nil, err
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(pt.Reveal()), &v); err != nil {
		return nil, err
	}
	tok, err := s.oauth.Exchange(ctx, req, code, v["code_verifier"])
	if err != nil {
		return nil, err
	}
	if tok.AccessToken.Reveal() == "" {
		return nil, errors.New("the provider answered no access_token")
	}
	return tok, nil
}

// settle moves the flow's account, if still INITIATED, to status, with
// more work in the same transaction, and audits it as the initiator.
func (s *Service) settle(ctx context.Context, f *OAuthFlow, status ConnectionStatus, reason string, more func(tx Store) error) error {
	return s.settleWith(ctx, f, status, reason, "", more)
}

// settleWith is settle recording the client address ip in the audit.
func (s *Service) settleWith(ctx context.Context, f *OAuthFlow, status ConnectionStatus, reason, ip string, more func(tx Store) error) error {
	return s.store.InTx(ctx, func(tx Store) error {
		rec, err := tx.GetConnectedAccount(ctx, f.ProjectID, f.AccountID)
		if err != nil {
			return err
		}
		ca := rec.ConnectedAccount
		if ca.Status != StatusInitiated {
			return Errorf(ECONFLICT, "connected account %s is %s, no longer INITIATED", ca.ID, ca.Status)
		}
		ca.Status, ca.StatusReason, ca.UpdatedAt = status, reason, s.now()
		if err := tx.UpdateConnectedAccount(ctx, ca); err != nil {
			return err
		}
		if more != nil {
			if err := more(tx); err != nil {
				return err
			}
		}
		if err := tx.DeleteSecret(ctx, SecretRef{ProjectID: f.ProjectID, Record: f.AccountID, Field: fieldVerifier}); err != nil {
			return err
		}
		id, err := NewID(PrefixAudit, s.rand)
		if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &AuditEvent{ID: id, OrgID: f.OrgID, ProjectID: f.ProjectID, ActorID: f.ActorID, ActorKey: f.ActorKey,
			Action: ActionConnectionAuthorize, TargetID: f.AccountID, IP: ip, At: s.now()})
	})
}

// fail marks the flow's account FAILED with reason and sends the browser
// on with the error code.
func (s *Service) fail(ctx context.Context, f *OAuthFlow, code, reason string) *OAuthPage {
	if err := s.settle(ctx, f, StatusFailed, reason, nil); err != nil && ErrorCode(err) != ECONFLICT {
		s.log.ErrorContext(ctx, "oauth failure save", "connected_account", f.AccountID, "err", err)
	}
	return s.finish(f, f.AccountID, code, reason+".")
}

// finish sends the browser to the developer's callback URL with an error,
// or shows msg when there is none.
func (s *Service) finish(f *OAuthFlow, accountID, code, msg string) *OAuthPage {
	if f.CallbackURL == "" {
		return oauthPage(400, msg)
	}
	q := url.Values{"status": {"failed"}, "error": {code}}
	if accountID != "" {
		q.Set("connected_account_id", accountID)
	}
	return &OAuthPage{Redirect: withQuery(f.CallbackURL, q)}
}

func (s *Service) finishActive(f *OAuthFlow) *OAuthPage {
	if f.CallbackURL == "" {
		return oauthPage(200, "Connected. You can close this window.")
	}
	return &OAuthPage{Redirect: withQuery(f.CallbackURL, url.Values{"status": {"success"}, "connected_account_id": {f.AccountID}})}
}

func withQuery(raw string, add url.Values) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for k, vs := range add {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// RedactLinkTokens hides the token of a connect link path, for logs: the
// token lets whoever holds it start the connection's consent.
func RedactLinkTokens(path string) string {
	for _, prefix := range []string{ConnectPath, "/api/v3/connect/"} {
		if strings.HasPrefix(path, prefix) && len(path) > len(prefix) {
			return prefix + "[REDACTED]"
		}
	}
	return path
}
