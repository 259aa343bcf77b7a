package patchbay

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// AuthConfig is a project's way of connecting users to one toolkit: the
// scheme, and the developer's own settings for it (e.g. OAuth client
// credentials), sealed.
type AuthConfig struct {
	ID        string // "ac_…"
	ProjectID string
	Toolkit   string // toolkit slug
	Name      string
	Mode      AuthMode
	// Managed is true for an auth config using the toolkit's default
	// scheme with no developer credentials (Composio's "default" type).
	Managed  bool
	Disabled bool
	// Settings holds non-secret options as JSON (tool access lists, tool
	// router flag); patchbay stores them and returns them.
	Settings  AuthConfigSettings
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AuthConfigSettings are an auth config's non-secret options.
type AuthConfigSettings struct {
	ToolsForConnection     []string `json:"tools_for_connected_account_creation,omitempty"`
	ToolsForExecution      []string `json:"tools_available_for_execution,omitempty"`
	RestrictToTools        []string `json:"restrict_to_following_tools,omitempty"`
	IsEnabledForToolRouter bool     `json:"is_enabled_for_tool_router,omitempty"`
	Scopes                 []string `json:"scopes,omitempty"`
	// OAuthRedirectURI replaces patchbay's callback as the redirect_uri
	// sent to the provider (OAuth2 custom auth configs).
	OAuthRedirectURI string `json:"oauth_redirect_uri,omitempty"`
}

// AuthConfigFilter selects auth configs of a project.
type AuthConfigFilter struct {
	ProjectID    string
	Toolkit      string // "" for any; case-insensitive
	Managed      *bool
	ShowDisabled bool
	Search       string // substring of the name, case-insensitive
	Mode         AuthMode
	Page         Page
}

// AuthConfigRecord is an auth config as stored, with its sealed
// credentials (nil when it has none) and how many accounts connect
// through it.
type AuthConfigRecord struct {
	*AuthConfig
	Connections int
	Credentials *StoredSecret
}

// toolkit finds a toolkit, EINVALID naming it if unknown (a request that
// names an unknown toolkit is malformed, not a missing resource).
func (s *Service) toolkit(slug string) (*Toolkit, error) {
	tk, ok := s.catalog.Toolkit(slug)
	if !ok {
		return nil, Errorf(EINVALID, "Unknown toolkit %q.", slug)
	}
	return tk, nil
}

// Toolkits lists every toolkit of the catalog, ordered by slug. The
// catalog is the same for every project; any authenticated principal may
// read it.
func (s *Service) Toolkits(p *Principal) ([]*Toolkit, error) {
	if p == nil {
		return nil, errNoPrincipal
	}
	return s.catalog.Toolkits(), nil
}

// FindToolkit finds a toolkit by slug, case-insensitively. ENOTFOUND if the
// catalog has none.
func (s *Service) FindToolkit(p *Principal, slug string) (*Toolkit, error) {
	if p == nil {
		return nil, errNoPrincipal
	}
	tk, ok := s.catalog.Toolkit(slug)
	if !ok {
		return nil, Errorf(ENOTFOUND, "Toolkit %q not found.", Truncate(slug, 60))
	}
	return tk, nil
}

// Truncate shortens s to n characters and an ellipsis, for echoing a
// client's input in a message without echoing all of it.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// schemeFor returns the toolkit scheme a connected account or auth config uses.
func (s *Service) schemeFor(toolkit string, mode AuthMode) (*Toolkit, *AuthScheme, error) {
	tk, err := s.toolkit(toolkit)
	if err != nil {
		return nil, nil, err
	}
	sc, err := schemeOf(tk, mode)
	return tk, sc, err
}

// DefaultScheme is the scheme a toolkit's default ("managed") auth config
// uses: the first whose credentials all come from the end user.
func DefaultScheme(tk *Toolkit) (*AuthScheme, error) {
	for i := range tk.AuthSchemes {
		sc := &tk.AuthSchemes[i]
		if !sc.Mode.UserSupplied() {
			continue
		}
		needs := false
		for _, f := range sc.FieldsFor(ScopeAuthConfig) {
			needs = needs || f.Required && f.Default == nil
		}
		if !needs {
			return sc, nil
		}
	}
	return nil, Errorf(EINVALID, "Toolkit %s has no default auth: create a custom auth config with one of its schemes (%s) and its credentials.", tk.Slug, strings.Join(modes(tk), ", "))
}

func modes(tk *Toolkit) []string {
	out := make([]string, len(tk.AuthSchemes))
	for i, sc := range tk.AuthSchemes {
		out[i] = string(sc.Mode)
	}
	return out
}

// schemeOf resolves a mode of a toolkit, EINVALID naming the alternatives.
func schemeOf(tk *Toolkit, mode AuthMode) (*AuthScheme, error) {
	sc, ok := tk.Scheme(mode)
	if !ok {
		return nil, Errorf(EINVALID, "Toolkit %s has no %s scheme; it supports: %s.", tk.Slug, mode, strings.Join(modes(tk), ", "))
	}
	return sc, nil
}

// AuthConfigView is an auth config as surfaces show it: with its toolkit
// and scheme, its credentials masked, and how many accounts connect
// through it.
type AuthConfigView struct {
	*AuthConfig
	ToolkitDef  *Toolkit
	Scheme      *AuthScheme
	Credentials map[string]string // masked
	Connections int
}

func (s *Service) authConfigView(ctx context.Context, rec *AuthConfigRecord) (*AuthConfigView, error) {
	tk, sc, err := s.schemeFor(rec.Toolkit, rec.Mode)
	if err != nil {
		return nil, err
	}
	creds, err := s.openCredentials(rec.Credentials, sc)
	if err != nil {
		return nil, err
	}
	return &AuthConfigView{AuthConfig: rec.AuthConfig, ToolkitDef: tk, Scheme: sc, Credentials: MaskCredentials(sc, creds), Connections: rec.Connections}, nil
}

// NewAuthConfig describes an auth config to create.
type NewAuthConfig struct {
	Toolkit string
	// Mode is the scheme; "" with Managed picks the toolkit's default.
	Mode        AuthMode
	Managed     bool
	Name        string // "" for "<Toolkit> Auth Config"
	Credentials map[string]any
	Settings    AuthConfigSettings
}

// CreateAuthConfig creates an auth config in the principal's project.
// EINVALID for an unknown toolkit or scheme, and for credentials that do not
// fit the scheme's auth-config fields.
func (s *Service) CreateAuthConfig(ctx context.Context, p *Principal, n NewAuthConfig) (*AuthConfigView, error) {
	projectID, err := s.can(ctx, p, ManageAuthConfigs, "")
	if err != nil {
		return nil, err
	}
	ac, err := s.createAuthConfig(ctx, p, projectID, n)
	if err != nil {
		return nil, err
	}
	return s.AuthConfig(ctx, p, ac.ID)
}

func (s *Service) createAuthConfig(ctx context.Context, p *Principal, projectID string, n NewAuthConfig) (*AuthConfig, error) {
	tk, err := s.toolkit(n.Toolkit)
	if err != nil {
		return nil, err
	}
	var sc *AuthScheme
	switch {
	case n.Mode != "":
		if sc, err = schemeOf(tk, n.Mode); err != nil {
			return nil, err
		}
	case n.Managed:
		if sc, err = DefaultScheme(tk); err != nil {
			// An OAuth2 toolkit with no user-supplied scheme: managed by
			// the operator's OAuth app, if there is one.
			if sc = oauth2Scheme(tk); sc == nil {
				return nil, err
			}
			if s.oauthApps[strings.ToLower(tk.Slug)] == nil {
				var de *Error
				if errors.As(err, &de) {
					return nil, Errorf(EINVALID, "%s Or: %s", de.Message, ManagedAppMissing(tk.Slug).Error())
				}
				return nil, err
			}
		}
	default:
		return nil, Errorf(EINVALID, "authScheme is required for a custom auth config; %s supports: %s.", tk.Slug, strings.Join(modes(tk), ", "))
	}
	if sc.Mode == AuthOAuth2 {
		if err := oauthSettings(&n); err != nil {
			return nil, err
		}
		if n.Managed && s.oauthApps[strings.ToLower(tk.Slug)] == nil {
			return nil, ManagedAppMissing(tk.Slug)
		}
	}
	var creds map[string]string
	if n.Managed && sc.Mode == AuthOAuth2 {
		// The operator's app supplies the client credentials.
		if len(n.Credentials) > 0 {
			return nil, Errorf(EINVALID, "A managed OAuth2 auth config takes no credentials; use use_custom_auth to give your own client_id and client_secret.")
		}
	} else if creds, err = checkFields(tk, sc, ScopeAuthConfig, n.Credentials); err != nil {
		return nil, err
	}
	name := n.Name
	if strings.TrimSpace(name) == "" {
		name = tk.Name + " Auth Config"
	}
	if name, err = ValidateName("name", name); err != nil {
		return nil, err
	}
	now := s.now()
	ac := &AuthConfig{
		ProjectID: projectID, Toolkit: tk.Slug, Name: name, Mode: sc.Mode, Managed: n.Managed,
		Settings: n.Settings, CreatedBy: p.Member.ID, CreatedAt: now, UpdatedAt: now,
	}
	if ac.ID, err = NewID(PrefixAuthCfg, s.rand); err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateAuthConfig(ctx, ac); err != nil {
			return err
		}
		if len(creds) > 0 {
			st, err := s.sealMap(CredentialsRef(projectID, ac.ID), creds)
			if err != nil {
				return err
			}
			if err := tx.PutSecret(ctx, st); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, p, ActionAuthConfigCreate, projectID, ac.ID)
	})
	if err != nil {
		return nil, err
	}
	return ac, nil
}

// FindOrCreateAuthConfig returns the oldest enabled auth config of the
// principal's project for toolkit and mode ("" for the toolkit's default),
// creating a managed one if there is none. It reports whether it created
// one.
func (s *Service) FindOrCreateAuthConfig(ctx context.Context, p *Principal, toolkit string, mode AuthMode) (*AuthConfigView, bool, error) {
	projectID, err := s.can(ctx, p, ManageAuthConfigs, "")
	if err != nil {
		return nil, false, err
	}
	tk, err := s.toolkit(toolkit)
	if err != nil {
		return nil, false, err
	}
	if mode == "" {
		sc, err := DefaultScheme(tk)
		if err != nil {
			return nil, false, err
		}
		mode = sc.Mode
	}
	found, _, err := s.store.ListAuthConfigs(ctx, AuthConfigFilter{ProjectID: projectID, Toolkit: tk.Slug, Mode: mode, Page: Page{Limit: 1}})
	if err != nil {
		return nil, false, err
	}
	if len(found) > 0 {
		v, err := s.authConfigView(ctx, found[0])
		return v, false, err
	}
	ac, err := s.createAuthConfig(ctx, p, projectID, NewAuthConfig{Toolkit: tk.Slug, Mode: mode, Managed: true})
	if err != nil {
		return nil, false, err
	}
	v, err := s.AuthConfig(ctx, p, ac.ID)
	return v, true, err
}

// AuthConfig returns an auth config of the principal's project with its
// masked credentials and connection count, in one read. ENOTFOUND if the
// project has none with that ID.
func (s *Service) AuthConfig(ctx context.Context, p *Principal, id string) (*AuthConfigView, error) {
	projectID, err := s.can(ctx, p, ViewAuthConfigs, "")
	if err != nil {
		return nil, err
	}
	rec, err := s.store.GetAuthConfigRecord(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	return s.authConfigView(ctx, rec)
}

// ListAuthConfigs returns a page of the principal's project's auth configs
// matching f (its ProjectID is ignored), each with masked credentials and
// connection count, and the total number of matches.
func (s *Service) ListAuthConfigs(ctx context.Context, p *Principal, f AuthConfigFilter) ([]*AuthConfigView, int, error) {
	projectID, err := s.can(ctx, p, ViewAuthConfigs, "")
	if err != nil {
		return nil, 0, err
	}
	f.ProjectID = projectID
	recs, total, err := s.store.ListAuthConfigs(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	out := make([]*AuthConfigView, 0, len(recs))
	for _, rec := range recs {
		v, err := s.authConfigView(ctx, rec)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, v)
	}
	return out, total, nil
}

// AuthConfigUpdate changes an auth config; nil fields stay as they are.
type AuthConfigUpdate struct {
	Name        *string
	Credentials map[string]any // replaces the credentials when not nil
	// EditSettings, when not nil, changes the settings in place, inside
	// the transaction that saves them.
	EditSettings func(*AuthConfigSettings)
}

// UpdateAuthConfig applies u. ENOTFOUND for an unknown auth config.
func (s *Service) UpdateAuthConfig(ctx context.Context, p *Principal, id string, u AuthConfigUpdate) (*AuthConfigView, error) {
	projectID, err := s.can(ctx, p, ManageAuthConfigs, "")
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		ac, err := tx.GetAuthConfig(ctx, projectID, id)
		if err != nil {
			return err
		}
		if u.Name != nil {
			if ac.Name, err = ValidateName("name", *u.Name); err != nil {
				return err
			}
		}
		if u.EditSettings != nil {
			u.EditSettings(&ac.Settings)
		}
		if u.Credentials != nil {
			tk, sc, err := s.schemeFor(ac.Toolkit, ac.Mode)
			if err != nil {
				return err
			}
			creds, err := checkFields(tk, sc, ScopeAuthConfig, u.Credentials)
			if err != nil {
				return err
			}
			st, err := s.sealMap(CredentialsRef(projectID, id), creds)
			if err != nil {
				return err
			}
			if err := tx.PutSecret(ctx, st); err != nil {
				return err
			}
		}
		ac.UpdatedAt = s.now()
		if err := tx.UpdateAuthConfig(ctx, ac); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionAuthConfigUpdate, projectID, id)
	})
	if err != nil {
		return nil, err
	}
	return s.AuthConfig(ctx, p, id)
}

// SetAuthConfigDisabled enables or disables an auth config. New connections
// through a disabled one are refused.
func (s *Service) SetAuthConfigDisabled(ctx context.Context, p *Principal, id string, disabled bool) (*AuthConfig, error) {
	projectID, err := s.can(ctx, p, ManageAuthConfigs, "")
	if err != nil {
		return nil, err
	}
	action := ActionAuthConfigEnable
	if disabled {
		action = ActionAuthConfigDisable
	}
	var ac *AuthConfig
	err = s.store.InTx(ctx, func(tx Store) error {
		var err error
		if ac, err = tx.GetAuthConfig(ctx, projectID, id); err != nil {
			return err
		}
		if ac.Disabled == disabled {
			return nil // already so: nothing changes, nothing to audit
		}
		ac.Disabled, ac.UpdatedAt = disabled, s.now()
		if err := tx.UpdateAuthConfig(ctx, ac); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, action, projectID, id)
	})
	return ac, err
}

// DeleteAuthConfig deletes an auth config with its connected accounts and
// their credentials. ENOTFOUND for an unknown auth config.
func (s *Service) DeleteAuthConfig(ctx context.Context, p *Principal, id string) error {
	projectID, err := s.can(ctx, p, ManageAuthConfigs, "")
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Store) error {
		if err := tx.DeleteAuthConfig(ctx, projectID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, ActionAuthConfigDelete, projectID, id)
	})
}

func oauth2Scheme(tk *Toolkit) *AuthScheme {
	for i := range tk.AuthSchemes {
		if tk.AuthSchemes[i].Mode == AuthOAuth2 && tk.AuthSchemes[i].OAuth2 != nil {
			return &tk.AuthSchemes[i]
		}
	}
	return nil
}

// oauthSettings moves an OAuth2 auth config's scopes and
// oauth_redirect_uri out of its credentials into its settings: they are
// options, not secrets. scopes may be a list or a separated string.
func oauthSettings(n *NewAuthConfig) error {
	if v, ok := n.Credentials["scopes"]; ok {
		delete(n.Credentials, "scopes")
		switch x := v.(type) {
		case string:
			n.Settings.Scopes = strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ' ' })
		case []any:
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return Errorf(EINVALID, "scopes must be a list of strings.")
				}
				n.Settings.Scopes = append(n.Settings.Scopes, s)
			}
		case nil:
		default:
			return Errorf(EINVALID, "scopes must be a list of strings.")
		}
	}
	if v, ok := n.Credentials["oauth_redirect_uri"]; ok {
		delete(n.Credentials, "oauth_redirect_uri")
		s, _ := v.(string)
		if s != "" && !httpURL(s) {
			return Errorf(EINVALID, "oauth_redirect_uri must be an absolute http(s) URL.")
		}
		n.Settings.OAuthRedirectURI = s
	}
	for _, sc := range n.Settings.Scopes {
		if sc == "" || len(sc) > 256 || strings.ContainsAny(sc, " \x00") {
			return Errorf(EINVALID, "each scope must be 1 to 256 characters without spaces.")
		}
	}
	return nil
}
