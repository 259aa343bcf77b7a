// Package testoauth is, for tests only, a real OAuth 2.0 authorization
// server on loopback, built with go-oauth2/oauth2: authorization codes
// with PKCE required, refresh tokens, and RFC 7009 revocation over the
// library's token store. Every consent is approved or denied by a switch
// (no login page), and every request patchbay sends is recorded.
package testoauth

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/go-oauth2/oauth2/v4/store"
)

// The endpoints, under the server's URL.
const (
	AuthorizePath = "/oauth/authorize"
	TokenPath     = "/oauth/token"
	RevokePath    = "/oauth/revoke"
	// StatsPath answers what the provider saw, as JSON counts (never a
	// token), for tests in other processes.
	StatsPath = "/oauth/_stats"
)

// Provider is the authorization server. Its end user is always
// "end-user-1".
type Provider struct {
	*httptest.Server
	// Manager is the library's token manager, for looking tokens up.
	Manager *manage.Manager
	clients *store.ClientStore

	mu         sync.Mutex
	deny       bool
	failToken  bool
	failRevoke bool
	authorize  []url.Values // query of each authorize request
	tokenForms []url.Values // form of each token request
	revokes    []url.Values // form of each revocation request
	issued     []string     // access tokens handed out
	refreshed  []string     // refresh tokens handed out
}

// New starts a provider, closed when tb ends.
func New(tb testing.TB) *Provider {
	tb.Helper()
	p := &Provider{clients: store.NewClientStore()}
	manager := manage.NewDefaultManager()
	p.Manager = manager
	manager.SetAuthorizeCodeTokenCfg(manage.DefaultAuthorizeCodeTokenCfg)
	manager.MustTokenStorage(store.NewMemoryTokenStore())
	manager.MapClientStorage(p.clients)
	srv := server.NewDefaultServer(manager)
	srv.Config.ForcePKCE = true
	srv.SetUserAuthorizationHandler(func(w http.ResponseWriter, r *http.Request) (string, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.deny {
			return "", errors.ErrAccessDenied
		}
		return "end-user-1", nil
	})
	mux := http.NewServeMux()
	mux.HandleFunc(AuthorizePath, func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.authorize = append(p.authorize, r.URL.Query())
		p.mu.Unlock()
		if err := srv.HandleAuthorizeRequest(w, r); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.HandleFunc(TokenPath, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.tokenForms = append(p.tokenForms, r.PostForm)
		fail := p.failToken
		p.mu.Unlock()
		if fail {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"the code was refused"}`)
			return
		}
		rec := httptest.NewRecorder()
		if err := srv.HandleTokenRequest(rec, r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var body struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &body) == nil && body.AccessToken != "" {
			p.mu.Lock()
			p.issued = append(p.issued, body.AccessToken)
			if body.RefreshToken != "" {
				p.refreshed = append(p.refreshed, body.RefreshToken)
			}
			p.mu.Unlock()
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
	// RFC 7009 revocation over the library's token store: the client
	// authenticates with HTTP Basic or in the form (client_secret_post);
	// an unknown token is a 200 too.
	mux.HandleFunc(RevokePath, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
			http.Error(w, "a form POST, please", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.revokes = append(p.revokes, r.PostForm)
		fail := p.failRevoke
		p.mu.Unlock()
		if fail {
			http.Error(w, "revocation is down", http.StatusServiceUnavailable)
			return
		}
		id, secret, ok := r.BasicAuth()
		if !ok && r.PostForm.Has("client_id") {
			id, secret, ok = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), true
		}
		if c, err := p.clients.GetByID(r.Context(), id); !ok || err != nil || c.GetSecret() != secret {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		tok := r.PostForm.Get("token")
		if r.PostForm.Get("token_type_hint") == "refresh_token" {
			_ = manager.RemoveRefreshToken(r.Context(), tok)
		} else {
			_ = manager.RemoveAccessToken(r.Context(), tok)
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc(StatsPath, func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		hints := []string{}
		for _, f := range p.revokes {
			hints = append(hints, f.Get("token_type_hint"))
		}
		stats := map[string]any{"authorizations": len(p.authorize), "token_requests": len(p.tokenForms), "revocations": hints}
		p.mu.Unlock()
		stats["refresh_grants"] = p.RefreshGrants()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(stats)
	})
	p.Server = httptest.NewServer(mux)
	tb.Cleanup(p.Close)
	return p
}

// Register adds a client whose redirect URIs must be on domain (an
// origin such as http://127.0.0.1:PORT).
func (p *Provider) Register(clientID, secret, domain string) error {
	return p.clients.Set(clientID, &models.Client{ID: clientID, Secret: secret, Domain: domain})
}

// App is the provider as an entry of patchbay's OAuth apps file.
func (p *Provider) App(clientID, secret string, scopes []string) map[string]any {
	return map[string]any{"client_id": clientID, "client_secret": secret, "scopes": scopes,
		"authorization_url": p.URL + AuthorizePath, "token_url": p.URL + TokenPath, "revocation_url": p.URL + RevokePath}
}

// Set switches consent denial and the failure of every token request.
func (p *Provider) Set(deny, failToken bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deny, p.failToken = deny, failToken
}

// FailRevocations makes the revocation endpoint answer 503 while on.
func (p *Provider) FailRevocations(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failRevoke = on
}

// ShortLived makes the provider grant access tokens that expire within 30
// seconds on the code exchange (inside patchbay's refresh leeway), and
// hour-long ones on a refresh, which spends the refresh token it was
// given.
func (p *Provider) ShortLived() {
	p.Manager.SetAuthorizeCodeTokenCfg(&manage.Config{AccessTokenExp: 30 * time.Second, RefreshTokenExp: 24 * time.Hour, IsGenerateRefresh: true})
	p.Manager.SetRefreshTokenCfg(&manage.RefreshingConfig{AccessTokenExp: time.Hour, IsGenerateRefresh: true, IsRemoveAccess: true, IsRemoveRefreshing: true})
}

// LastAuthorize is the query of the last authorize request.
func (p *Provider) LastAuthorize() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.authorize) == 0 {
		return nil
	}
	return p.authorize[len(p.authorize)-1]
}

// LastTokenForm is the form of the last token request, nil before one.
func (p *Provider) LastTokenForm() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tokenForms) == 0 {
		return nil
	}
	return p.tokenForms[len(p.tokenForms)-1]
}

// RefreshGrants counts the refresh_token grants the provider saw.
func (p *Provider) RefreshGrants() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, f := range p.tokenForms {
		if f.Get("grant_type") == "refresh_token" {
			n++
		}
	}
	return n
}

// Tokens are the last access and refresh tokens the provider issued.
func (p *Provider) Tokens() (access, refresh string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.issued) > 0 {
		access = p.issued[len(p.issued)-1]
	}
	if len(p.refreshed) > 0 {
		refresh = p.refreshed[len(p.refreshed)-1]
	}
	return access, refresh
}

// AllTokens are every access and refresh token the provider issued.
func (p *Provider) AllTokens() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append(append([]string{}, p.issued...), p.refreshed...)
}

// Revocations are the forms of the revocation requests received.
func (p *Provider) Revocations() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values{}, p.revokes...)
}

// LastIssued is the last access token the provider issued, "" before one.
func (p *Provider) LastIssued() string {
	access, _ := p.Tokens()
	return access
}
