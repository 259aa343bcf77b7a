package httpapi_test

// The OAuth2 flow against a real authorization server in the test process
// (go-oauth2/oauth2), registered as a managed app through the apps file,
// followed hop by hop with a client that does not follow redirects.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/outbound"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testoauth"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

const (
	provClientID     = "patchbay-test-client"
	provClientSecret = "prov-client-SECRETVALUE-0001"
)

// provider is the OAuth 2.0 authorization server of the tests.
type provider = testoauth.Provider

// browser follows nothing by itself.
var browser = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

// hop GETs u and returns the answer's status, Location and body.
func hop(t *testing.T, a *api, u string) (int, string, string) {
	t.Helper()
	resp, err := browser.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a.rec.add(string(b))
	a.rec.add(resp.Header.Get("Location"))
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// hopTo is hop wanting a redirect.
func hopTo(t *testing.T, a *api, u string) *url.URL {
	t.Helper()
	status, loc, body := hop(t, a, u)
	if status != http.StatusFound || loc == "" {
		t.Fatalf("GET %s: %d %q, want a 302 redirect; body %s", u, status, loc, body)
	}
	l, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

type oauthEnv struct {
	a      *api
	prov   *provider
	github *fakeApp
	ac     string             // a managed github OAuth2 auth config
	opts   testserver.Options // what the server was started with
}

func startOAuth(t *testing.T, b testserver.Backend) *oauthEnv {
	t.Helper()
	prov := testoauth.New(t)
	file := filepath.Join(t.TempDir(), "oauth-apps.json")
	apps := map[string]any{"github": prov.App(provClientID, provClientSecret, []string{"repo", "read:user"})}
	data, _ := json.Marshal(apps)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	github := newFakeApp(t, func(r *http.Request) bool { return strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") })
	opts := testserver.Options{OAuthAppsFile: file, Outbound: outbound.Config{
		Overrides: map[string]string{"github": github.URL}, AllowHosts: []string{"127.0.0.1"}}}
	a := start(t, b, opts)
	a.secret(provClientSecret)
	// The provider accepts patchbay's callback only.
	if err := prov.Register(provClientID, provClientSecret, a.srv.URL); err != nil {
		t.Fatal(err)
	}
	r := a.post("/api/v3.1/auth_configs", map[string]any{"toolkit": map[string]any{"slug": "github"},
		"auth_config": map[string]any{"type": "use_composio_managed_auth", "authScheme": "OAUTH2"}}).want(201)
	r.eq("auth_config.auth_scheme", "OAUTH2")
	return &oauthEnv{a: a, prov: prov, github: github, ac: r.str("auth_config.id"), opts: opts}
}

// initiate starts a connection for user ending at callback ("" for none)
// and returns the account and its connect link.
func (e *oauthEnv) initiate(t *testing.T, user, callback string) (string, string) {
	t.Helper()
	conn := map[string]any{"user_id": user}
	if callback != "" {
		conn["callback_url"] = callback
	}
	r := e.a.post("/api/v3.1/connected_accounts", map[string]any{"auth_config": map[string]any{"id": e.ac}, "connection": conn}).want(201)
	r.eq("connectionData.val.status", "INITIATED")
	r.eq("status", "INITIATED")
	link := r.str("connectionData.val.redirectUrl")
	if !strings.HasPrefix(link, e.a.srv.URL+"/api/v3.1/connect/") {
		t.Fatalf("redirectUrl = %q, want a connect link on patchbay", link)
	}
	r.eq("redirect_url", link)
	return r.str("id"), link
}

// toProvider opens the link and returns the provider's authorize URL.
func (e *oauthEnv) toProvider(t *testing.T, link string) *url.URL {
	t.Helper()
	authz := hopTo(t, e.a, link)
	if !strings.HasPrefix(authz.String(), e.prov.URL+testoauth.AuthorizePath+"?") {
		t.Fatalf("the connect link sends the browser to %s, want the provider's authorize URL", authz)
	}
	return authz
}

func TestOAuthFlow(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		e := startOAuth(t, b)
		a := e.a
		callbackPath := a.srv.URL + "/api/v3.1/toolkits/auth/callback"

		t.Run("consent granted", func(t *testing.T) {
			id, link := e.initiate(t, "granted-user", "https://app.example/connected?from=patchbay")
			a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "INITIATED")

			authz := e.toProvider(t, link)
			q := authz.Query()
			for k, want := range map[string]string{"client_id": provClientID, "redirect_uri": callbackPath, "scope": "repo read:user",
				"response_type": "code", "code_challenge_method": "S256"} {
				if q.Get(k) != want {
					t.Errorf("authorize %s = %q, want %q", k, q.Get(k), want)
				}
			}
			if len(q.Get("state")) < 32 || len(q.Get("code_challenge")) != 43 {
				t.Errorf("authorize state %q, code_challenge %q: want a long random state and an S256 challenge", q.Get("state"), q.Get("code_challenge"))
			}
			state := q.Get("state")

			back := hopTo(t, a, authz.String()) // the provider approves
			if !strings.HasPrefix(back.String(), callbackPath+"?") || back.Query().Get("code") == "" {
				t.Fatalf("the provider sends the browser to %s, want patchbay's callback with a code", back)
			}
			code := back.Query().Get("code")
			done := hopTo(t, a, back.String())
			if done.Host != "app.example" || done.Path != "/connected" || done.Query().Get("from") != "patchbay" ||
				done.Query().Get("connected_account_id") != id || done.Query().Get("status") != "success" || done.Query().Has("error") {
				t.Errorf("the callback sends the browser to %s, want the developer's callback with the account and success", done)
			}
			tok := e.prov.LastIssued()
			if tok == "" {
				t.Fatal("the provider issued no token")
			}
			a.secret(tok)
			form := e.prov.LastTokenForm()
			if form.Get("code_verifier") == "" || form.Get("grant_type") != "authorization_code" || form.Get("redirect_uri") != callbackPath {
				t.Errorf("token request %v: want the code verifier, the authorization_code grant and the same redirect_uri", form)
			}
			a.secret(form.Get("code_verifier"))
			// The state, the code and the link travel in the browser's URLs
			// by design; none of them reaches the server log.
			log := a.rec.log.String()
			linkToken := link[strings.LastIndex(link, "/")+1:]
			for what, v := range map[string]string{"state": state, "code": code, "link token": linkToken} {
				if strings.Contains(log, v) {
					t.Errorf("the server log carries the %s", what)
				}
			}

			// waitForConnection's poll sees ACTIVE, the token masked.
			r := a.get("/api/v3.1/connected_accounts/" + id).want(200)
			r.eq("status", "ACTIVE")
			r.eq("state.authScheme", "OAUTH2")
			r.eq("state.val.status", "ACTIVE")
			checkMasked(t, "state.val.access_token", r.str("state.val.access_token"), tok)

			// Sealed at rest, in no row in clear.
			row, err := a.srv.Store.GetSecret(context.Background(), patchbay.CredentialsRef(a.projectID, id))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(row.Sealed, []byte(tok)) {
				t.Error("the sealed credentials hold the access token in clear")
			}
			if b == testserver.SQLite {
				for _, suffix := range []string{"", "-wal"} {
					raw, _ := os.ReadFile(a.srv.DSN + suffix)
					for _, leak := range []string{tok, state, linkToken, form.Get("code_verifier")} {
						if bytes.Contains(raw, []byte(leak)) {
							t.Errorf("the database file %s holds a token, state or verifier in clear", suffix)
						}
					}
				}
			}

			// A tool call carries the token to the app.
			before := len(e.github.requests())
			a.post("/api/v3.1/tools/execute/GITHUB_GET_THE_AUTHENTICATED_USER", map[string]any{"connected_account_id": id, "arguments": map[string]any{}}).
				want(200).eq("successful", true)
			reqs := e.github.requests()
			if len(reqs) != before+1 || reqs[len(reqs)-1].Header.Get("Authorization") != "Bearer "+tok {
				t.Errorf("the tool call did not carry Authorization: Bearer <the token>")
			}

			// The state is single use: a replay is refused and changes nothing.
			replay := hopTo(t, a, back.String())
			if replay.Query().Get("error") != "state_used" {
				t.Errorf("a replayed state lands on %s, want error=state_used", replay)
			}
			a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "ACTIVE")
			// And the link is spent.
			if l := hopTo(t, a, link); l.Query().Get("error") != "link_used" {
				t.Errorf("a used connect link lands on %s, want error=link_used", l)
			}
		})

		t.Run("consent denied", func(t *testing.T) {
			e.prov.Set(true, false)
			defer e.prov.Set(false, false)
			id, link := e.initiate(t, "denied-user", "https://app.example/cb")
			back := hopTo(t, a, e.toProvider(t, link).String())
			if back.Query().Get("error") != "access_denied" {
				t.Fatalf("the provider answered %s, want error=access_denied", back)
			}
			done := hopTo(t, a, back.String())
			if done.Host != "app.example" || done.Query().Get("error") != "access_denied" || done.Query().Get("connected_account_id") != id {
				t.Errorf("a denied consent lands on %s, want the callback with error=access_denied", done)
			}
			r := a.get("/api/v3.1/connected_accounts/" + id).want(200)
			r.eq("status", "FAILED")
			if !strings.Contains(r.str("status_reason"), "denied") {
				t.Errorf("status_reason = %q, want the denial", r.str("status_reason"))
			}
		})

		t.Run("denied without callback", func(t *testing.T) {
			e.prov.Set(true, false)
			defer e.prov.Set(false, false)
			id, link := e.initiate(t, "denied-nocb", "")
			back := hopTo(t, a, e.toProvider(t, link).String())
			status, loc, body := hop(t, a, back.String())
			if status != 400 || loc != "" || !strings.Contains(body, "denied") || strings.Contains(body, "goroutine") {
				t.Errorf("without a callback URL: %d %q %q, want a plain 400 page", status, loc, body)
			}
			a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "FAILED")
		})

		t.Run("state expired", func(t *testing.T) {
			id, link := e.initiate(t, "expired-user", "https://app.example/cb")
			authz := e.toProvider(t, link)
			state := authz.Query().Get("state")
			if err := a.srv.Store.SetOAuthState(context.Background(), id, patchbay.HashToken(state), time.Now().Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
			back := hopTo(t, a, authz.String())
			done := hopTo(t, a, back.String())
			if done.Query().Get("error") != "state_expired" {
				t.Errorf("an expired state lands on %s, want error=state_expired", done)
			}
			a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "FAILED")
		})

		t.Run("unknown state", func(t *testing.T) {
			status, _, body := hop(t, a, callbackPath+"?state=forged&code=x")
			if status != 400 || strings.Contains(body, "goroutine") {
				t.Errorf("a forged state: %d %q, want a plain 400", status, body)
			}
		})

		t.Run("code exchange fails", func(t *testing.T) {
			e.prov.Set(false, true)
			defer e.prov.Set(false, false)
			id, link := e.initiate(t, "exchange-user", "https://app.example/cb")
			back := hopTo(t, a, e.toProvider(t, link).String())
			done := hopTo(t, a, back.String())
			if done.Query().Get("error") != "token_exchange_failed" {
				t.Errorf("a failed exchange lands on %s, want error=token_exchange_failed", done)
			}
			r := a.get("/api/v3.1/connected_accounts/" + id).want(200)
			r.eq("status", "FAILED")
			r.eq("status_reason", "OAuth callback failed during token exchange")
		})

		t.Run("link", func(t *testing.T) {
			r := a.post("/api/v3.1/connected_accounts/link", map[string]any{"auth_config_id": e.ac, "user_id": "link-user",
				"callback_url": "https://app.example/linked"}).want(201)
			id, link := r.str("connected_account_id"), r.str("redirect_url")
			if r.str("link_token") == "" || !strings.HasSuffix(link, "/"+r.str("link_token")) {
				t.Errorf("link answer %s: want a link token in the redirect URL", r.Raw)
			}
			exp, err := time.Parse(time.RFC3339, r.str("expires_at"))
			if err != nil || time.Until(exp) > 11*time.Minute || time.Until(exp) < 8*time.Minute {
				t.Errorf("expires_at = %q, want about 10 minutes from now", r.str("expires_at"))
			}
			a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "INITIATED")
			back := hopTo(t, a, e.toProvider(t, link).String())
			done := hopTo(t, a, back.String())
			if done.Query().Get("status") != "success" || done.Query().Get("connected_account_id") != id {
				t.Errorf("link flow lands on %s", done)
			}
			a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "ACTIVE")
			a.secret(e.prov.LastIssued())
		})

		t.Run("legacy initiate", func(t *testing.T) {
			r := a.post("/api/v2/connectedAccounts/initiateConnection", map[string]any{
				"app":        map[string]any{"integrationId": e.ac},
				"config":     map[string]any{"authScheme": "OAUTH2"},
				"connection": map[string]any{"entityId": "legacy-user", "redirectUri": "https://app.example/legacy"},
			}).want(200)
			r.eq("connectionResponse.connectionStatus", "INITIATED")
			link := r.str("connectionResponse.redirectUrl")
			back := hopTo(t, a, e.toProvider(t, link).String())
			done := hopTo(t, a, back.String())
			if done.Host != "app.example" || done.Path != "/legacy" || done.Query().Get("status") != "success" {
				t.Errorf("legacy flow lands on %s", done)
			}
			a.secret(e.prov.LastIssued())
			r = a.post("/api/v1/connectedAccounts", map[string]any{"integrationId": e.ac, "entityId": "legacy-v1", "redirectUri": "https://app.example/v1"}).want(200)
			r.eq("connectionStatus", "INITIATED")
			if !strings.HasPrefix(r.str("redirectUrl"), a.srv.URL+"/api/v3.1/connect/") {
				t.Errorf("v1 redirectUrl = %q", r.str("redirectUrl"))
			}
		})

		t.Run("bad connect link", func(t *testing.T) {
			status, loc, _ := hop(t, a, a.srv.URL+"/api/v3/connect/not-a-link")
			if status != 404 || loc != "" {
				t.Errorf("an unknown link: %d %q, want a plain 404", status, loc)
			}
		})
	})
}

func TestOAuthManagedAppMissing(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		r := a.post("/api/v3.1/auth_configs", map[string]any{"toolkit": map[string]any{"slug": "github"},
			"auth_config": map[string]any{"type": "use_composio_managed_auth", "authScheme": "OAUTH2"}}).want(400)
		msg := r.str("error.message")
		for _, want := range []string{"PATCHBAY_OAUTH_APPS_FILE", "client_id", "client_secret", "/api/v3.1/toolkits/auth/callback"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q does not mention %s", msg, want)
			}
		}
	})
}

// A custom OAuth2 auth config: the developer's client, scopes and
// redirect URI.
func TestOAuthCustomApp(t *testing.T) {
	a := start(t, testserver.SQLite, testserver.Options{})
	secret := a.secret("custom-client-SECRETVALUE-0001")
	ac := a.createAuthConfig("github", "OAUTH2", map[string]any{"client_id": "dev-client", "client_secret": secret,
		"scopes": []any{"gist"}, "oauth_redirect_uri": "https://dev.example/oauth/callback"})
	r := a.post("/api/v3.1/connected_accounts", map[string]any{"auth_config": map[string]any{"id": ac},
		"connection": map[string]any{"user_id": "u"}}).want(201)
	r.eq("status", "INITIATED")
	status, loc, _ := hop(t, a, r.str("connectionData.val.redirectUrl"))
	if status != 302 {
		t.Fatalf("connect link: %d", status)
	}
	u, _ := url.Parse(loc)
	q := u.Query()
	if u.Host != "github.com" || q.Get("client_id") != "dev-client" || q.Get("scope") != "gist" || q.Get("redirect_uri") != "https://dev.example/oauth/callback" {
		t.Errorf("authorize URL %s: want GitHub with the developer's client, scopes and redirect URI", loc)
	}
	if strings.Contains(loc, secret) {
		t.Error("the authorize URL carries the client secret")
	}
}
