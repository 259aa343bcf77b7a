package httpapi_test

// Revoking an OAuth2 account: at the provider (RFC 7009, against the
// go-oauth2 server's token store) and always here.

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// revokeForms are the revocation requests the provider received.
func revokeForms(p *provider) []map[string]string {
	var out []map[string]string
	for _, f := range p.Revocations() {
		out = append(out, map[string]string{"token": f.Get("token"), "token_type_hint": f.Get("token_type_hint"), "client_secret": f.Get("client_secret")})
	}
	return out
}

func TestOAuthRevoke(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		e := startOAuth(t, b)
		a := e.a
		ctx := context.Background()

		t.Run("at the provider and here", func(t *testing.T) {
			id, access, refresh := e.connect(t, "revoked-user")
			if _, err := e.prov.Manager.LoadRefreshToken(ctx, refresh); err != nil {
				t.Fatalf("the provider does not know the refresh token it granted: %v", err)
			}
			r := a.post("/api/v3.1/connected_accounts/"+id+"/revoke", nil).want(200)
			r.eq("connected_account.id", id)
			r.eq("connected_account.status", "REVOKED")
			var kinds []string
			for _, k := range r.list("revoked_tokens") {
				kinds = append(kinds, k.(string))
			}
			if !slices.Equal(kinds, []string{"refresh_token", "access_token", "credential"}) {
				t.Errorf("revoked_tokens = %v, want the refresh and access tokens at the provider and the credential here", kinds)
			}
			forms := revokeForms(e.prov)
			if len(forms) != 2 || forms[0]["token"] != refresh || forms[0]["token_type_hint"] != "refresh_token" ||
				forms[1]["token"] != access || forms[1]["token_type_hint"] != "access_token" {
				t.Fatalf("the provider received %d revocations, want the refresh token then the access token, each with its hint", len(forms))
			}
			if forms[0]["client_secret"] != "" {
				t.Error("the client secret went in the form; the provider wants HTTP Basic")
			}
			// The provider no longer honours either token.
			if _, err := e.prov.Manager.LoadRefreshToken(ctx, refresh); err == nil {
				t.Error("the provider still accepts the refresh token")
			}
			if _, err := e.prov.Manager.LoadAccessToken(ctx, access); err == nil {
				t.Error("the provider still accepts the access token")
			}
			acc := a.get("/api/v3.1/connected_accounts/" + id).want(200)
			acc.eq("status", "REVOKED")
			if strings.Contains(string(acc.Raw), access) || strings.Contains(string(acc.Raw), refresh) {
				t.Error("the revoked account shows a token")
			}
			// A second revoke has nothing left to revoke anywhere.
			n := len(revokeForms(e.prov))
			again := a.post("/api/v3.1/connected_accounts/"+id+"/revoke", nil).want(200)
			if got := again.list("revoked_tokens"); len(got) != 0 {
				t.Errorf("revoking again: revoked_tokens = %v, want []", got)
			}
			if len(revokeForms(e.prov)) != n {
				t.Error("revoking again called the provider")
			}
			// Nor does a refresh bring it back.
			a.post("/api/v3.1/connected_accounts/"+id+"/refresh", map[string]any{}).want(200).eq("status", "REVOKED")
		})

		t.Run("provider down: revoked here anyway", func(t *testing.T) {
			id, _, _ := e.connect(t, "revoked-while-down")
			e.prov.FailRevocations(true)
			defer e.prov.FailRevocations(false)
			r := a.post("/api/v3.1/connected_accounts/"+id+"/revoke", nil).want(200)
			r.eq("connected_account.status", "REVOKED")
			if got := r.list("revoked_tokens"); len(got) != 1 || got[0] != "credential" {
				t.Errorf("revoked_tokens = %v, want only the local credential", got)
			}
			a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "REVOKED")
			a.post(refreshTool, map[string]any{"connected_account_id": id, "arguments": map[string]any{}}).want(400)
			if log := a.rec.log.String(); !strings.Contains(log, "did not revoke") || !strings.Contains(log, "answered 503") {
				t.Error("the server log does not say the provider refused the revocation")
			}
		})

		t.Run("another project's key cannot revoke", func(t *testing.T) {
			id, _, _ := e.connect(t, "other-project-user")
			n := len(revokeForms(e.prov))
			a.newProject("elsewhere").post("/api/v3.1/connected_accounts/"+id+"/revoke", nil).want(404)
			a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "ACTIVE")
			if len(revokeForms(e.prov)) != n {
				t.Error("a key of another project made patchbay call the provider's revocation endpoint")
			}
		})
		e.secrets()
	})
}
