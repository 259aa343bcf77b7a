package httpapi_test

import (
	"testing"

	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// TestNULIsRefused: a NUL character in a path, a query or a JSON string is
// a 400 that names it, on both stores. PostgreSQL text cannot hold a NUL,
// so before this each of these reached a query and failed with a 500.
func TestNULIsRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		for _, path := range []string{
			"/api/v3.1/connected_accounts/ca_%00x",
			"/api/v3.1/auth_configs/ac_%00x",
			"/api/v3.1/connected_accounts?user_ids=a%00b",
			"/api/v3.1/connected_accounts?labels=a%00b",
			"/api/v3.1/auth_configs?toolkit_slug=a%00",
			"/api/v3.1/auth_configs?search=a%00",
			"/api/v3.1/toolkits/a%00",
		} {
			a.do("GET", path, nil).v3err(400, "NUL")
		}
		for _, path := range []string{
			"/api/v1/connectedAccounts/ca_%00",
			"/api/v1/integrations/x%00",
			"/api/v1/connectedAccounts?user_uuid=a%00b",
			"/api/v1/connectedAccounts?labels=a%00b",
		} {
			a.do("GET", path, nil).legacyErr(400, "NUL")
		}
		a.do("POST", "/api/v1/api_keys", `{"name":"a\u0000b"}`).legacyErr(400, "NUL")
		a.do("POST", "/api/v3.1/auth_configs", `{"toolkit":{"slug":"serpapi"},"auth_config":{"type":"use_composio_managed_auth","name":"x\u0000"}}`).v3err(400, "NUL")
		// An escaped backslash before u0000 is text, not a NUL.
		a.do("POST", "/api/v1/api_keys", `{"name":"a\\u0000b"}`).want(201)
	})
}
