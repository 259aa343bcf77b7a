package client_test

import (
	"errors"
	"testing"

	"github.com/patchbay-dev/patchbay/client"
)

func TestExpectedParamsForUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		// No auth config yet: one is created.
		p, err := e.c.ExpectedParamsForUser(ctx(t), "serpapi", client.SchemeAPIKey, "")
		must(t, err)
		if p.AuthConfigID == "" || p.AuthScheme != "API_KEY" || len(p.Fields) != 1 || p.Fields[0].Name != "generic_api_key" || !p.Fields[0].Required {
			t.Errorf("ExpectedParamsForUser = %+v", p)
		}
		ac, err := e.c.AuthConfig(ctx(t), p.AuthConfigID)
		must(t, err)
		if ac.Type != "custom" || ac.AuthScheme != "API_KEY" || ac.Toolkit.Slug != "serpapi" {
			t.Errorf("created auth config %+v", ac)
		}
		// Then it is found, not created again.
		again, err := e.c.ExpectedParamsForUser(ctx(t), "serpapi", client.SchemeAPIKey, "")
		must(t, err)
		if again.AuthConfigID != p.AuthConfigID {
			t.Errorf("second call used %s, want %s", again.AuthConfigID, p.AuthConfigID)
		}
		list, err := e.c.AuthConfigs(ctx(t), client.AuthConfigListParams{Toolkit: "serpapi", ShowDisabled: true})
		must(t, err)
		if len(list.Items) != 1 {
			t.Errorf("%d serpapi auth configs, want 1", len(list.Items))
		}

		// A config of another scheme is passed over; a disabled one too.
		gh, err := e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "github", AuthScheme: client.SchemeOAuth2,
			Credentials: map[string]string{"client_id": "id", "client_secret": "secret"}})
		must(t, err)
		bearer, err := e.c.ExpectedParamsForUser(ctx(t), "github", client.SchemeBearerToken, "")
		must(t, err)
		if bearer.AuthConfigID == gh.ID || bearer.AuthScheme != "BEARER_TOKEN" || len(bearer.Fields) != 1 || bearer.Fields[0].Name != "token" {
			t.Errorf("github BEARER_TOKEN = %+v", bearer)
		}
		_, err = e.c.DisableAuthConfig(ctx(t), bearer.AuthConfigID)
		must(t, err)
		fresh, err := e.c.ExpectedParamsForUser(ctx(t), "github", client.SchemeBearerToken, "")
		must(t, err)
		if fresh.AuthConfigID == bearer.AuthConfigID {
			t.Errorf("a disabled auth config was used")
		}

		// An explicit auth config id is used as is.
		byID, err := e.c.ExpectedParamsForUser(ctx(t), "", "", gh.ID)
		must(t, err)
		if byID.AuthConfigID != gh.ID || byID.AuthScheme != "OAUTH2" || len(byID.Fields) != 1 || byID.Fields[0].Name != "access_token" {
			t.Errorf("by id = %+v", byID)
		}
		if _, err := e.c.ExpectedParamsForUser(ctx(t), "serpapi", "", gh.ID); err == nil {
			t.Error("an auth config of another toolkit was accepted")
		}
		_, err = e.c.ExpectedParamsForUser(ctx(t), "serpapi", client.SchemeAPIKey, "ac_doesnotexist")
		e.wantErr(t, err, client.ErrNotFound)

		// With no scheme, any of the toolkit's auth configs will do.
		anyScheme, err := e.c.ExpectedParamsForUser(ctx(t), "serpapi", "", "")
		must(t, err)
		if anyScheme.AuthConfigID != p.AuthConfigID {
			t.Errorf(`scheme "" used %s, want %s`, anyScheme.AuthConfigID, p.AuthConfigID)
		}
		// ...and a missing one is created managed.
		managed, err := e.c.ExpectedParamsForUser(ctx(t), "tavily", "", "")
		must(t, err)
		if managed.AuthScheme != "API_KEY" {
			t.Errorf("tavily default = %+v", managed)
		}

		_, err = e.c.ExpectedParamsForUser(ctx(t), "no-such-toolkit", client.SchemeAPIKey, "")
		e.wantErr(t, err, client.ErrNotFound)
		if _, err = e.c.ExpectedParamsForUser(ctx(t), "serpapi", client.SchemeOAuth2, ""); !errors.Is(err, client.ErrNoAuthScheme) {
			t.Errorf("serpapi OAUTH2: %v, want ErrNoAuthScheme", err)
		}
		// OAUTH2 auth configs need app credentials: none can be created.
		_, err = e.c.ExpectedParamsForUser(ctx(t), "slack", client.SchemeOAuth2, "")
		e.wantErr(t, err, client.ErrInvalid, "client_id")
	})
}
