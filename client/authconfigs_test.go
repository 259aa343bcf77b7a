package client_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/patchbay-dev/patchbay/client"
)

func TestAuthConfigs(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.rec.reset()
		ac, err := e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "serpapi", AuthScheme: client.SchemeAPIKey, Name: "Search"})
		must(t, err)
		if ac.ID == "" || ac.AuthScheme != "API_KEY" || ac.IsComposioManaged || ac.Type != "custom" || ac.Toolkit.Slug != "serpapi" || ac.Status != "ENABLED" {
			t.Errorf("CreateAuthConfig = %+v", ac)
		}
		// The wire body is the official SDK's: camelCase authScheme and
		// credentials present (empty) for a custom auth config.
		var body map[string]map[string]any
		must(t, json.Unmarshal(e.rec.all()[0].Body, &body))
		if body["toolkit"]["slug"] != "serpapi" || body["auth_config"]["type"] != "use_custom_auth" || body["auth_config"]["authScheme"] != "API_KEY" || body["auth_config"]["credentials"] == nil {
			t.Errorf("create body = %s", e.rec.all()[0].Body)
		}

		got, err := e.c.AuthConfig(ctx(t), ac.ID)
		must(t, err)
		if got.ID != ac.ID || got.Name != "Search" || got.Status != "ENABLED" || got.CreatedAt.IsZero() || got.NoOfConnections != 0 || got.Toolkit.Logo == "" {
			t.Errorf("AuthConfig = %+v", got)
		}

		managed, err := e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "github", Managed: true})
		must(t, err)
		if !managed.IsComposioManaged || managed.Type != "default" || managed.AuthScheme != "BEARER_TOKEN" {
			t.Errorf("managed github auth config = %+v", managed)
		}
		oauth, err := e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "github", AuthScheme: client.SchemeOAuth2,
			Credentials: map[string]string{"client_id": "Iv1.0123456789abcdef", "client_secret": "0123456789abcdef0123456789abcdef01234567"}})
		must(t, err)
		got, err = e.c.AuthConfig(ctx(t), oauth.ID)
		must(t, err)
		if got.Credentials["client_id"] == "" || got.Credentials["client_secret"] == "0123456789abcdef0123456789abcdef01234567" {
			t.Errorf("OAuth2 credentials = %v, want client_secret masked", got.Credentials)
		}

		name := "Renamed"
		tools := []string{"SERPAPI_SEARCH"}
		upd, err := e.c.UpdateAuthConfig(ctx(t), ac.ID, client.UpdateAuthConfigParams{Name: &name, RestrictToFollowingTools: &tools})
		must(t, err)
		if upd.Name != "Renamed" || !slices.Equal(upd.RestrictToFollowingTools, tools) {
			t.Errorf("UpdateAuthConfig = %+v", upd)
		}
		empty := []string{}
		upd, err = e.c.UpdateAuthConfig(ctx(t), ac.ID, client.UpdateAuthConfigParams{RestrictToFollowingTools: &empty})
		must(t, err)
		if upd.Name != "Renamed" || len(upd.RestrictToFollowingTools) != 0 {
			t.Errorf("UpdateAuthConfig clearing tools = %+v", upd)
		}

		dis, err := e.c.DisableAuthConfig(ctx(t), ac.ID)
		must(t, err)
		if dis.Status != "DISABLED" {
			t.Errorf("DisableAuthConfig: status %s", dis.Status)
		}
		list, err := e.c.AuthConfigs(ctx(t), client.AuthConfigListParams{Toolkit: "serpapi"})
		must(t, err)
		if len(list.Items) != 0 {
			t.Errorf("listing hides disabled auth configs, got %+v", list.Items)
		}
		list, err = e.c.AuthConfigs(ctx(t), client.AuthConfigListParams{Toolkit: "serpapi", ShowDisabled: true})
		must(t, err)
		if len(list.Items) != 1 || list.Items[0].ID != ac.ID {
			t.Errorf("ShowDisabled listing = %+v", list.Items)
		}
		en, err := e.c.EnableAuthConfig(ctx(t), ac.ID)
		must(t, err)
		if en.Status != "ENABLED" {
			t.Errorf("EnableAuthConfig: status %s", en.Status)
		}

		// Paging: three auth configs, two per page.
		var ids []string
		p := client.AuthConfigListParams{Limit: 2}
		for {
			page, err := e.c.AuthConfigs(ctx(t), p)
			must(t, err)
			if page.TotalItems != 3 || page.TotalPages != 2 {
				t.Errorf("page totals: %d items, %d pages", page.TotalItems, page.TotalPages)
			}
			for _, a := range page.Items {
				ids = append(ids, a.ID)
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
		slices.Sort(ids)
		if want := sortedStrings(ac.ID, managed.ID, oauth.ID); !slices.Equal(ids, want) {
			t.Errorf("paged ids %v, want %v", ids, want)
		}

		must(t, e.c.DeleteAuthConfig(ctx(t), ac.ID))
		_, err = e.c.AuthConfig(ctx(t), ac.ID)
		e.wantErr(t, err, client.ErrNotFound, ac.ID)
		e.wantErr(t, e.c.DeleteAuthConfig(ctx(t), ac.ID), client.ErrNotFound)
		_, err = e.c.EnableAuthConfig(ctx(t), ac.ID)
		e.wantErr(t, err, client.ErrNotFound)
		_, err = e.c.DisableAuthConfig(ctx(t), ac.ID)
		e.wantErr(t, err, client.ErrNotFound)
		_, err = e.c.UpdateAuthConfig(ctx(t), ac.ID, client.UpdateAuthConfigParams{Name: &name})
		e.wantErr(t, err, client.ErrNotFound)

		_, err = e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{AuthScheme: client.SchemeAPIKey})
		e.wantErr(t, err, client.ErrInvalid, "toolkit.slug")
		_, err = e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "serpapi"})
		e.wantErr(t, err, client.ErrInvalid, "authScheme")
		_, err = e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "github", AuthScheme: client.SchemeOAuth2})
		e.wantErr(t, err, client.ErrInvalid, "client_id", "client_secret")
		_, err = e.c.CreateAuthConfig(ctx(t), client.CreateAuthConfigParams{Toolkit: "serpapi", AuthScheme: client.SchemeOAuth2})
		e.wantErr(t, err, client.ErrInvalid, "API_KEY")
	})
}

func sortedStrings(ss ...string) []string {
	slices.Sort(ss)
	return ss
}
