package outbound

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// The code exchange goes through the guarded client: a token URL on
// loopback is refused unless allow-listed, before any byte is sent.
func TestExchangeGuarded(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("code_verifier") != "the-verifier" || r.PostForm.Get("code") != "the-code" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		w.Write([]byte(`{"access_token":"at-1","refresh_token":"rt-1","token_type":"Bearer","expires_in":3600,"scope":"repo"}`))
	}))
	defer srv.Close()
	req := patchbay.OAuthRequest{ClientID: "cid", ClientSecret: patchbay.NewSecret("csecret"), AuthorizationURL: srv.URL + "/authorize",
		TokenURL: srv.URL + "/token", RedirectURI: "https://pb.example/cb", Scopes: []string{"repo", "user"}}

	_, err := New(Config{}).Exchange(context.Background(), req, "the-code", "the-verifier")
	var be *BlockedError
	if !errors.As(err, &be) || hits.Load() != 0 {
		t.Fatalf("exchange with a loopback token URL: %v (%d requests), want the SSRF guard's refusal", err, hits.Load())
	}

	c := New(Config{AllowHosts: []string{"127.0.0.1"}})
	tok, err := c.Exchange(context.Background(), req, "the-code", "the-verifier")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken.Reveal() != "at-1" || tok.RefreshToken.Reveal() != "rt-1" || tok.Expiry.IsZero() || tok.Scope != "repo" {
		t.Errorf("token %+v", tok)
	}
	if _, err := c.Exchange(context.Background(), req, "other-code", "the-verifier"); err == nil || !strings.Contains(err.Error(), "400 invalid_grant") {
		t.Errorf("a refused code: %v, want the status and error code", err)
	}

	u, err := url.Parse(c.AuthCodeURL(req, "st", "the-verifier"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("state") != "st" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("scope") != "repo user" ||
		q.Get("client_id") != "cid" || q.Get("redirect_uri") != "https://pb.example/cb" || strings.Contains(u.String(), "csecret") {
		t.Errorf("authorize URL %s", u)
	}
	req.ScopeSeparator = ","
	if q := mustQuery(t, c.AuthCodeURL(req, "st", "v")); q.Get("scope") != "repo,user" {
		t.Errorf("comma-separated scopes: %q", q.Get("scope"))
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// A refresh goes through the guarded client too; the provider's 4xx is
// ErrRefreshRejected, a 5xx or no answer ErrUnreachable, and neither
// carries the provider's body.
func TestRefreshGuarded(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.PostForm.Get("grant_type") != "refresh_token":
			w.WriteHeader(http.StatusBadRequest)
		case r.PostForm.Get("refresh_token") == "rt-down":
			w.WriteHeader(http.StatusBadGateway)
		case r.PostForm.Get("refresh_token") != "rt-1":
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant","error_description":"rt-SECRET-in-body"}`))
		default:
			w.Write([]byte(`{"access_token":"at-2","refresh_token":"rt-2","token_type":"Bearer","expires_in":3600}`))
		}
	}))
	defer srv.Close()
	req := patchbay.OAuthRequest{ClientID: "cid", ClientSecret: patchbay.NewSecret("csecret"), TokenURL: srv.URL + "/token"}

	if _, err := New(Config{}).Refresh(context.Background(), req, "rt-1"); !errors.Is(err, patchbay.ErrUnreachable) || hits.Load() != 0 {
		t.Fatalf("refresh with a loopback token URL: %v (%d requests), want the guard's refusal", err, hits.Load())
	}
	c := New(Config{AllowHosts: []string{"127.0.0.1"}})
	tok, err := c.Refresh(context.Background(), req, "rt-1")
	if err != nil || tok.AccessToken.Reveal() != "at-2" || tok.RefreshToken.Reveal() != "rt-2" || tok.Expiry.IsZero() {
		t.Fatalf("refresh: %+v, %v", tok, err)
	}
	_, err = c.Refresh(context.Background(), req, "rt-old")
	if !errors.Is(err, patchbay.ErrRefreshRejected) || !strings.Contains(err.Error(), "400 invalid_grant") || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("a rejected refresh token: %v, want ErrRefreshRejected with the status and code only", err)
	}
	if _, err := c.Refresh(context.Background(), req, "rt-down"); !errors.Is(err, patchbay.ErrUnreachable) || errors.Is(err, patchbay.ErrRefreshRejected) {
		t.Errorf("a 502 from the token endpoint: %v, want ErrUnreachable", err)
	}
}

// A revocation goes through the guarded client; the client authenticates
// by Basic or in the form as the request says, and an error names the
// status only.
func TestRevokeGuarded(t *testing.T) {
	var (
		hits  atomic.Int32
		mu    sync.Mutex
		forms []url.Values
		basic []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		r.ParseForm()
		id, secret, _ := r.BasicAuth()
		mu.Lock()
		forms, basic = append(forms, r.PostForm), append(basic, id+":"+secret)
		mu.Unlock()
		if r.PostForm.Get("token") == "tok-refused" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"unsupported_token_type","echo":"tok-refused-SECRET"}`))
		}
	}))
	defer srv.Close()
	req := patchbay.OAuthRequest{ClientID: "cid", ClientSecret: patchbay.NewSecret("c:secret"), RevocationURL: srv.URL + "/revoke"}

	if err := New(Config{}).Revoke(context.Background(), req, "tok-1", "refresh_token"); err == nil || hits.Load() != 0 {
		t.Fatalf("revoke at a loopback URL: %v (%d requests), want the guard's refusal", err, hits.Load())
	}
	c := New(Config{AllowHosts: []string{"127.0.0.1"}})
	if err := c.Revoke(context.Background(), req, "tok-1", "refresh_token"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	body := req
	body.RevocationAuth = "body"
	if err := c.Revoke(context.Background(), body, "tok-2", "access_token"); err != nil {
		t.Fatalf("revoke with the client in the form: %v", err)
	}
	err := c.Revoke(context.Background(), req, "tok-refused", "access_token")
	if err == nil || !strings.Contains(err.Error(), "400") || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("a refused revocation: %v, want an error with the status only", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if forms[0].Get("token") != "tok-1" || forms[0].Get("token_type_hint") != "refresh_token" || forms[0].Has("client_secret") || basic[0] != "cid:c%3Asecret" {
		t.Errorf("first revocation: form %v, basic %q; want the token, its hint and the client in Basic (form-encoded)", forms[0], basic[0])
	}
	if forms[1].Get("client_id") != "cid" || forms[1].Get("client_secret") != "c:secret" || basic[1] != ":" {
		t.Errorf("second revocation: form %v, basic %q; want the client in the form only", forms[1], basic[1])
	}
}
