package patchbay_test

import (
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func TestParseOAuthApps(t *testing.T) {
	apps, err := patchbay.ParseOAuthApps([]byte(`{"GitHub": {"client_id": "id", "client_secret": "shh", "scopes": ["repo"], "token_url": "https://ghe.example/token", "revocation_url": "https://ghe.example/revoke"}}`))
	if err != nil {
		t.Fatal(err)
	}
	gh := apps["github"]
	if gh == nil || gh.ClientID != "id" || gh.ClientSecret.Reveal() != "shh" || gh.TokenURL != "https://ghe.example/token" || gh.RevocationURL != "https://ghe.example/revoke" || gh.AuthorizationURL != "" || len(gh.Scopes) != 1 {
		t.Errorf("parsed %+v", gh)
	}
	for _, c := range []struct{ in, want string }{
		{`{"github": {"client_id": "id"}}`, "client_id and client_secret are required"},
		{`{"github": {"client_id": "id", "client_secret": "s", "token_url": "ftp://x"}}`, "token_url must be an absolute http(s) URL"},
		{`{"github": {"client_id": "id", "client_secret": "s", "revocation_url": "/revoke"}}`, "revocation_url must be an absolute http(s) URL"},
		{`{"github": {"client_id": "id", "client_secret": "s", "secret": "x"}}`, "unknown field"},
		{`[]`, "expected {"},
	} {
		_, err := patchbay.ParseOAuthApps([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.in, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), `"s"`) {
			t.Errorf("%s: the error echoes the secret: %v", c.in, err)
		}
	}
}

func TestRedactLinkTokens(t *testing.T) {
	for in, want := range map[string]string{
		"/api/v3.1/connect/abc": "/api/v3.1/connect/[REDACTED]",
		"/api/v3/connect/abc":   "/api/v3/connect/[REDACTED]",
		"/api/v3.1/toolkits":    "/api/v3.1/toolkits",
	} {
		if got := patchbay.RedactLinkTokens(in); got != want {
			t.Errorf("RedactLinkTokens(%q) = %q, want %q", in, got, want)
		}
	}
}
