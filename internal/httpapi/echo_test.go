package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// A key pasted into a URL path by mistake is not echoed back in the 404 or
// 405 message that repeats the path.
func TestUnknownPathDoesNotEchoKeys(t *testing.T) {
	srv := testserver.Start(t, testserver.SQLite, testserver.Options{})
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/v1/nope/" + srv.OwnerKey},
		{"GET", "/api/v3.1/" + srv.OrgKey + "/x"},
		{"PUT", "/api/v1/api_keys"}, // 405, no key in the path: still fine
	} {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-api-key", srv.OwnerKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: status %d, want 404 or 405", tc.method, tc.path, resp.StatusCode)
		}
		for _, key := range []string{srv.OwnerKey, srv.OrgKey} {
			if strings.Contains(string(body), key) {
				t.Errorf("%s %s: the response echoes an API key: %s", tc.method, tc.path, body)
			}
		}
		if strings.Contains(tc.path, "ak_") && !strings.Contains(string(body), "[REDACTED]") {
			t.Errorf("%s %s: want the key replaced by [REDACTED] in %s", tc.method, tc.path, body)
		}
	}
}
