package patchbay

import (
	"context"
	"strings"
)

// Toolkit finds a toolkit, EINVALID naming it if unknown (a request that
// names an unknown toolkit is malformed, not a missing resource).
func (s *Service) Toolkit(slug string) (*Toolkit, error) {
	tk, ok := s.Catalog.Toolkit(slug)
	if !ok {
		return nil, Errorf(EINVALID, "Unknown toolkit %q.", slug)
	}
	return tk, nil
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

// CreateAuthConfig creates an auth config in a project. EINVALID for an
// unknown toolkit or scheme, and for credentials that do not fit the
// scheme's auth-config fields.
func (s *Service) CreateAuthConfig(ctx context.Context, a Actor, projectID string, n NewAuthConfig) (*AuthConfig, error) {
	tk, err := s.Toolkit(n.Toolkit)
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
			return nil, err
		}
	default:
		return nil, Errorf(EINVALID, "authScheme is required for a custom auth config; %s supports: %s.", tk.Slug, strings.Join(modes(tk), ", "))
	}
	creds, err := checkFields(tk, sc, ScopeAuthConfig, n.Credentials)
	if err != nil {
		return nil, err
	}
	name := n.Name
	if strings.TrimSpace(name) == "" {
		name = tk.Name + " Auth Config"
	}
	if name, err = ValidateName("name", name); err != nil {
		return nil, err
	}
	now := s.Now()
	ac := &AuthConfig{
		ProjectID: projectID, Toolkit: tk.Slug, Name: name, Mode: sc.Mode, Managed: n.Managed,
		Settings: n.Settings, CreatedBy: a.Member.ID, CreatedAt: now, UpdatedAt: now,
	}
	if ac.ID, err = NewID(PrefixAuthCfg, s.Rand); err != nil {
		return nil, err
	}
	err = s.Store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateAuthConfig(ctx, ac); err != nil {
			return err
		}
		if len(creds) == 0 {
			return nil
		}
		st, err := s.sealMap(CredentialsRef(projectID, ac.ID), creds)
		if err != nil {
			return err
		}
		return tx.PutSecret(ctx, st)
	})
	if err != nil {
		return nil, err
	}
	return ac, nil
}

// FindOrCreateAuthConfig returns the oldest enabled auth config of the
// project for toolkit and mode ("" for the toolkit's default), creating a
// managed one if there is none. It reports whether it created one.
func (s *Service) FindOrCreateAuthConfig(ctx context.Context, a Actor, projectID, toolkit string, mode AuthMode) (*AuthConfig, bool, error) {
	tk, err := s.Toolkit(toolkit)
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
	found, _, err := s.Store.ListAuthConfigs(ctx, AuthConfigFilter{ProjectID: projectID, Toolkit: tk.Slug, Mode: mode, Page: Page{Limit: 1}})
	if err != nil {
		return nil, false, err
	}
	if len(found) > 0 {
		return found[0], false, nil
	}
	ac, err := s.CreateAuthConfig(ctx, a, projectID, NewAuthConfig{Toolkit: tk.Slug, Mode: mode, Managed: true})
	return ac, err == nil, err
}

// AuthConfigCredentials opens an auth config's credentials.
func (s *Service) AuthConfigCredentials(ctx context.Context, ac *AuthConfig) (map[string]string, error) {
	st, err := s.Store.GetSecret(ctx, CredentialsRef(ac.ProjectID, ac.ID))
	if ErrorCode(err) == ENOTFOUND {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	return s.openMap(&st)
}

// AuthConfigUpdate changes an auth config; nil fields stay as they are.
type AuthConfigUpdate struct {
	Name        *string
	Credentials map[string]any // replaces the credentials when not nil
	Settings    *AuthConfigSettings
}

// UpdateAuthConfig applies u. ENOTFOUND for an unknown auth config.
func (s *Service) UpdateAuthConfig(ctx context.Context, projectID, id string, u AuthConfigUpdate) (*AuthConfig, error) {
	var ac *AuthConfig
	err := s.Store.InTx(ctx, func(tx Store) error {
		var err error
		if ac, err = tx.GetAuthConfig(ctx, projectID, id); err != nil {
			return err
		}
		if u.Name != nil {
			if ac.Name, err = ValidateName("name", *u.Name); err != nil {
				return err
			}
		}
		if u.Settings != nil {
			ac.Settings = *u.Settings
		}
		if u.Credentials != nil {
			tk, err := s.Toolkit(ac.Toolkit)
			if err != nil {
				return err
			}
			sc, err := schemeOf(tk, ac.Mode)
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
		ac.UpdatedAt = s.Now()
		return tx.UpdateAuthConfig(ctx, ac)
	})
	return ac, err
}

// SetAuthConfigDisabled enables or disables an auth config. New connections
// through a disabled one are refused.
func (s *Service) SetAuthConfigDisabled(ctx context.Context, projectID, id string, disabled bool) (*AuthConfig, error) {
	var ac *AuthConfig
	err := s.Store.InTx(ctx, func(tx Store) error {
		var err error
		if ac, err = tx.GetAuthConfig(ctx, projectID, id); err != nil {
			return err
		}
		ac.Disabled, ac.UpdatedAt = disabled, s.Now()
		return tx.UpdateAuthConfig(ctx, ac)
	})
	return ac, err
}
