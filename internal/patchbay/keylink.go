package patchbay

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Hosted connect links for key-based schemes (API key, bearer token,
// basic): the end user opens the link, patchbay shows a form asking for
// exactly the scheme's connection fields, checks what they enter against
// the app and makes the account ACTIVE, then sends the browser to the
// developer's callback URL. The link is an oauth_flows row without a
// provider redirect; its CSRF token is a random value sealed under the
// account, like an OAuth flow's PKCE verifier.

// fieldLinkCSRF is where a key link's CSRF token is sealed.
const fieldLinkCSRF = "connect_link_csrf"

// KeyLink reports whether the flow is a hosted form for a key-based scheme
// rather than an OAuth2 authorization: such a link sends the browser to no
// provider, so it has no redirect URI.
func (f *OAuthFlow) KeyLink() bool { return f.RedirectURI == "" }

// ConnectForm is the hosted page of a key link: what to ask the end user
// for, and what went wrong with their last answer.
type ConnectForm struct {
	Toolkit string // the toolkit's display name
	Mode    AuthMode
	Fields  []FormField
	// CSRF goes back with the form; it is bound to the link.
	CSRF      string
	ExpiresAt time.Time
	// Problem says what was wrong with the submission, "" on first view.
	Problem string
	// CallbackURL is where an accepted form sends the browser ("" for
	// nowhere), for the page's form-action policy.
	CallbackURL string
}

// FormField is one input of a ConnectForm, from the catalog.
type FormField struct {
	Name        string
	Label       string
	Description string
	Secret      bool // a password input; its value is never sent back
	Required    bool
	// Value re-fills a non-secret field after a refused submission.
	Value string
	// Invalid marks the field a problem is about.
	Invalid bool
}

// KeyLinkSubmission is the end user's answer to a ConnectForm.
type KeyLinkSubmission struct {
	CSRF   string
	Values map[string]string // by field name; other names are ignored
	IP     string            // the client address, for the audit
}

// newLink validates what every connect link needs (patchbay's public
// origin, the developer's callback URL) and builds the flow row for an
// account of ac (which gets its ID later) with its token.
func (s *Service) newLink(p *Principal, ac *AuthConfig, n NewConnection) (*OAuthFlow, *ConnectLink, error) {
	if n.OAuth.Origin == "" || !httpURL(n.OAuth.Origin) {
		return nil, nil, Errorf(EINVALID, "Connect links need patchbay's public origin, which this request did not give.")
	}
	if cb := n.OAuth.CallbackURL; cb != "" && (!httpURL(cb) || len(cb) > 2048) {
		return nil, nil, Errorf(EINVALID, "callback_url must be an absolute http(s) URL of at most 2048 characters.")
	}
	tok, err := s.randomToken(32)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	f := &OAuthFlow{ProjectID: ac.ProjectID, OrgID: p.OrgID, ActorID: p.Member.ID, ActorKey: p.Credential.ID,
		LinkHash: HashToken(tok), LinkExpiresAt: now.Add(ConnectLinkTTL), CallbackURL: n.OAuth.CallbackURL, CreatedAt: now}
	link := &ConnectLink{Token: tok, URL: strings.TrimSuffix(n.OAuth.Origin, "/") + ConnectPath + tok, ExpiresAt: f.LinkExpiresAt}
	return f, link, nil
}

// startKeyLink builds the link of a key-based connection and its sealed
// CSRF token (stored with the account, in Connect's transaction).
func (s *Service) startKeyLink(p *Principal, ac *AuthConfig, sc *AuthScheme, n NewConnection) (*OAuthFlow, *ConnectLink, string, error) {
	if sc.Mode == AuthNoAuth {
		return nil, nil, "", Errorf(EINVALID, "Auth config %s uses NO_AUTH: there is nothing for the end user to enter, so create the connection directly (POST /api/v3.1/connected_accounts).", ac.ID)
	}
	if n.Validate {
		return nil, nil, "", Errorf(EINVALID, "validate_credentials needs credentials; a connect link gets them from the end user, and patchbay checks them then.")
	}
	f, link, err := s.newLink(p, ac, n)
	if err != nil {
		return nil, nil, "", err
	}
	csrf, err := s.randomToken(32)
	if err != nil {
		return nil, nil, "", err
	}
	return f, link, csrf, nil
}

// keyLink is a key link being used: its flow, account, toolkit and scheme.
type keyLink struct {
	f  *OAuthFlow
	ca *ConnectedAccount
	tk *Toolkit
	sc *AuthScheme
}

// keyLinkPage is a plain page about a key link that cannot be used. Unlike
// an OAuth2 link, the browser is not sent to the callback: the end user is
// in front of patchbay's page and reads why.
func keyLinkPage(status int, msg string) *OAuthPage { return oauthPage(status, msg) }

// openKeyLink loads a key link that can still be used; otherwise it answers
// the page saying why not.
func (s *Service) openKeyLink(ctx context.Context, f *OAuthFlow) (*keyLink, *OAuthPage) {
	switch {
	case f.UsedAt != nil:
		return nil, keyLinkPage(410, msgLinkUsed)
	case !s.now().Before(f.LinkExpiresAt):
		return nil, keyLinkPage(410, "This connect link has expired. Ask the application that sent you here for a new one.")
	}
	rec, err := s.store.GetConnectedAccount(ctx, f.ProjectID, f.AccountID)
	if err != nil {
		return nil, oauthPage(404, "This connect link is not valid.")
	}
	if rec.Status != StatusInitiated {
		if s.usedSince(ctx, f) {
			return nil, keyLinkPage(410, msgLinkUsed)
		}
		return nil, keyLinkPage(409, "This connection is no longer waiting for credentials.")
	}
	ac, err := s.store.GetAuthConfig(ctx, f.ProjectID, rec.AuthConfigID)
	if err != nil {
		return nil, oauthPage(404, "This connect link is not valid.")
	}
	if ac.Disabled {
		return nil, keyLinkPage(409, "The application that sent you here has turned this connection off for now; ask it again later.")
	}
	tk, sc, err := s.schemeFor(rec.Toolkit, rec.Mode)
	if err != nil {
		return nil, keyLinkPage(409, "This app can no longer be connected here.")
	}
	return &keyLink{f: f, ca: rec.ConnectedAccount, tk: tk, sc: sc}, nil
}

// usedSince reports whether a link read unused has been used since (by a
// concurrent submission).
func (s *Service) usedSince(ctx context.Context, f *OAuthFlow) bool {
	again, err := s.store.OAuthFlowByLink(ctx, f.LinkHash)
	return err == nil && again.UsedAt != nil
}

// form builds the page of a key link.
func (s *Service) form(ctx context.Context, k *keyLink, problem string, values map[string]string, invalid map[string]bool) *OAuthPage {
	csrf, err := s.linkCSRF(ctx, k.f)
	if err != nil && s.usedSince(ctx, k.f) {
		return keyLinkPage(410, msgLinkUsed)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "connect link csrf", "connected_account", k.f.AccountID, "err", err)
		return oauthPage(503, "patchbay could not open this connect link; try again.")
	}
	form := &ConnectForm{Toolkit: k.tk.Name, Mode: k.sc.Mode, CSRF: csrf, ExpiresAt: k.f.LinkExpiresAt, Problem: problem, CallbackURL: k.f.CallbackURL}
	for _, fd := range k.sc.FieldsFor(ScopeConnection) {
		ff := FormField{Name: fd.Name, Label: orDefault(fd.DisplayName, fd.Name), Description: fd.Description,
			Secret: fd.Secret, Required: fd.Required, Invalid: invalid[fd.Name]}
		if !fd.Secret {
			ff.Value = values[fd.Name]
			if _, sent := values[fd.Name]; !sent && fd.Default != nil {
				ff.Value = *fd.Default
			}
		}
		form.Fields = append(form.Fields, ff)
	}
	status := 200
	if problem != "" {
		status = 422
	}
	return &OAuthPage{Status: status, Form: form}
}

// linkCSRF opens a key link's CSRF token.
func (s *Service) linkCSRF(ctx context.Context, f *OAuthFlow) (string, error) {
	st, err := s.store.GetSecret(ctx, SecretRef{ProjectID: f.ProjectID, Record: f.AccountID, Field: fieldLinkCSRF})
	if err != nil {
		return "", err
	}
	pt, err := s.sealer.Open(st.Ref, st.Sealed)
	if err != nil {
		return "", err
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(pt.Reveal()), &v); err != nil {
		return "", err
	}
	if v["csrf"] == "" {
		return "", errors.New("connect link: empty CSRF token")
	}
	return v["csrf"], nil
}

// lookupLink finds the flow of a link token, or the page saying it is not
// one.
func (s *Service) lookupLink(ctx context.Context, token string) (*OAuthFlow, *OAuthPage) {
	if token == "" || len(token) > 128 {
		return nil, oauthPage(404, "This connect link is not valid.")
	}
	f, err := s.store.OAuthFlowByLink(ctx, HashToken(token))
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return nil, oauthPage(404, "This connect link is not valid.")
	case err != nil:
		s.log.ErrorContext(ctx, "connect link lookup", "err", err)
		return nil, oauthPage(503, "patchbay could not open this connect link; try again.")
	}
	return f, nil
}

// SubmitConnectLink is the end user sending a key link's form: the CSRF
// token must be the link's; the fields are checked as API initiation
// checks them (the catalog's fields, then the app's test request when the
// scheme has one). A refused answer shows the form again with the problem
// and without any secret value. An accepted one seals the credentials,
// makes the account ACTIVE, uses up the link (all in one transaction,
// audited as the member who created the link) and sends the browser to
// the developer's callback URL.
func (s *Service) SubmitConnectLink(ctx context.Context, token string, sub KeyLinkSubmission) *OAuthPage {
	f, page := s.lookupLink(ctx, token)
	if page != nil {
		return page
	}
	if !f.KeyLink() {
		return oauthPage(405, "This connect link is an OAuth2 authorization: open it, there is no form to send.")
	}
	k, page := s.openKeyLink(ctx, f)
	if page != nil {
		return page
	}
	want, err := s.linkCSRF(ctx, f)
	if err != nil && s.usedSince(ctx, f) {
		return keyLinkPage(410, msgLinkUsed)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "connect link csrf", "connected_account", f.AccountID, "err", err)
		return oauthPage(503, "patchbay could not check this form; try again.")
	}
	if sub.CSRF == "" || subtle.ConstantTimeCompare([]byte(sub.CSRF), []byte(want)) != 1 {
		return keyLinkPage(403, "This form was not sent from its connect link's page. Open the link again and re-enter your credentials.")
	}
	// The fields, each problem named by its label; values never repeated.
	values := map[string]any{}
	invalid := map[string]bool{}
	var missing, malformed []string
	for _, fd := range k.sc.FieldsFor(ScopeConnection) {
		v := sub.Values[fd.Name]
		switch {
		case v == "" && fd.Required && (fd.Default == nil || *fd.Default == ""):
			missing = append(missing, orDefault(fd.DisplayName, fd.Name))
			invalid[fd.Name] = true
		case v != "" && !fd.Valid(v):
			malformed = append(malformed, orDefault(fd.DisplayName, fd.Name))
			invalid[fd.Name] = true
		case v != "":
			values[fd.Name] = v
		}
	}
	if len(missing) > 0 || len(malformed) > 0 {
		var problem string
		if len(missing) > 0 {
			problem = "Please fill in: " + joinAnd(missing) + "."
		}
		if len(malformed) > 0 {
			if problem != "" {
				problem += " "
			}
			problem += "Not in the expected format: " + joinAnd(malformed) + "."
		}
		return s.form(ctx, k, problem, sub.Values, invalid)
	}
	creds, err := checkFields(k.tk, k.sc, ScopeConnection, values)
	if err != nil {
		return s.form(ctx, k, "These values were not accepted: "+ErrorMessage(err), sub.Values, nil)
	}
	if k.sc.TestRequest != nil && s.checker != nil {
		probe := *k.ca
		probe.Status = StatusActive
		if err := s.validate(ctx, k.tk, k.sc, &probe, creds); err != nil {
			s.log.WarnContext(ctx, "connect link credential check", "connected_account", f.AccountID, "err", err)
			p := s.form(ctx, k, fmt.Sprintf("patchbay could not check these credentials with %s right now; try again in a moment.", k.tk.Name), sub.Values, nil)
			if p.Form != nil {
				p.Status = 503
			}
			return p
		}
		if probe.Status != StatusActive {
			return s.form(ctx, k, fmt.Sprintf("%s did not accept these credentials. Check them and try again.", k.tk.Name), sub.Values, nil)
		}
	}
	st, err := s.sealMap(CredentialsRef(f.ProjectID, f.AccountID), creds)
	if err == nil {
		err = s.settleWith(ctx, f, StatusActive, "", sub.IP, func(tx Store) error {
			used, err := tx.UseConnectLink(ctx, f.LinkHash, s.now())
			if err != nil {
				return err
			}
			if !used {
				return errLinkUsed
			}
			if err := tx.PutSecret(ctx, st); err != nil {
				return err
			}
			return tx.DeleteSecret(ctx, SecretRef{ProjectID: f.ProjectID, Record: f.AccountID, Field: fieldLinkCSRF})
		})
	}
	switch {
	case errors.Is(err, errLinkUsed) || ErrorCode(err) == ECONFLICT:
		return keyLinkPage(410, msgLinkUsed)
	case err != nil:
		s.log.ErrorContext(ctx, "connect link save", "connected_account", f.AccountID, "err", err)
		return oauthPage(503, "patchbay could not save the connection; try again.")
	}
	if f.CallbackURL == "" {
		return oauthPage(200, "Connected. You can close this window.")
	}
	return &OAuthPage{Redirect: withQuery(f.CallbackURL, url.Values{"status": {"success"}, "connected_account_id": {f.AccountID}}), SeeOther: true}
}

var errLinkUsed = errors.New("connect link used already")

const msgLinkUsed = "This connect link was already used. Ask the application that sent you here for a new one."

func joinAnd(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	out := names[0]
	for _, n := range names[1 : len(names)-1] {
		out += ", " + n
	}
	return out + " and " + names[len(names)-1]
}
