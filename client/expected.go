package client

import (
	"context"
	"fmt"
	"strings"
)

// ExpectedParams are what to ask an end user for before connecting them.
type ExpectedParams struct {
	AuthConfigID string      // the auth config to pass to InitiateConnection
	AuthScheme   string      // its scheme, for InitiateOptions.Scheme
	Fields       []AuthField // the connection fields, required first
}

// ExpectedParamsForUser finds the auth config to connect a user to toolkit
// with scheme, and the fields to ask the user for; it is the counterpart of
// the Python SDK's get_expected_params_for_user.
//
// With an authConfigID, that auth config is used (toolkit and scheme may be
// "" and are taken from it). Without one, the project's first enabled auth
// config for toolkit with that scheme is used, and if there is none a
// custom one is created (with no credentials, so it fits schemes whose
// credentials all come from the user, like API_KEY). With scheme "" any
// scheme matches, and a missing auth config is created managed.
//
// ErrNotFound for an unknown auth config or toolkit; ErrInvalid when one
// cannot be created (e.g. the scheme needs app credentials);
// ErrNoAuthScheme when the toolkit has no such scheme.
func (c *Client) ExpectedParamsForUser(ctx context.Context, toolkit, scheme, authConfigID string) (*ExpectedParams, error) {
	var ac *AuthConfig
	if authConfigID != "" {
		got, err := c.AuthConfig(ctx, authConfigID)
		if err != nil {
			return nil, err
		}
		if toolkit != "" && !strings.EqualFold(got.Toolkit.Slug, toolkit) || scheme != "" && got.AuthScheme != scheme {
			return nil, fmt.Errorf("patchbay: auth config %s is for %s with %s, not %s with %s",
				got.ID, got.Toolkit.Slug, got.AuthScheme, orAny(toolkit), orAny(scheme))
		}
		ac = got
	} else {
		found, err := c.findAuthConfig(ctx, toolkit, scheme)
		if err != nil {
			return nil, err
		}
		if found == nil {
			// Check the toolkit and scheme first, so an unknown one is
			// reported as such rather than as a failed create.
			if _, err := c.authDetail(ctx, toolkit, scheme); err != nil {
				return nil, err
			}
			if found, err = c.CreateAuthConfig(ctx, CreateAuthConfigParams{Toolkit: toolkit, AuthScheme: scheme, Managed: scheme == ""}); err != nil {
				return nil, err
			}
		}
		ac = found
	}
	fields, err := c.ConnectionFields(ctx, ac.Toolkit.Slug, ac.AuthScheme)
	if err != nil {
		return nil, err
	}
	return &ExpectedParams{AuthConfigID: ac.ID, AuthScheme: ac.AuthScheme, Fields: fields}, nil
}

// findAuthConfig returns the first enabled auth config of the project for
// toolkit and scheme ("" for any), or nil.
func (c *Client) findAuthConfig(ctx context.Context, toolkit, scheme string) (*AuthConfig, error) {
	p := AuthConfigListParams{Toolkit: toolkit, Limit: 100}
	for {
		page, err := c.AuthConfigs(ctx, p)
		if err != nil {
			return nil, err
		}
		for i, ac := range page.Items {
			if (scheme == "" || ac.AuthScheme == scheme) && ac.Status != AuthConfigDisabled {
				return &page.Items[i], nil
			}
		}
		if page.NextCursor == "" {
			return nil, nil
		}
		p.Cursor = page.NextCursor
	}
}

func orAny(s string) string {
	if s == "" {
		return "any"
	}
	return s
}
