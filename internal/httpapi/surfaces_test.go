package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// Each surface answers its own paths, the bare prefix included, in its own
// envelope; the mux never redirects "/api/v1" to "/api/v1/" (it did not
// before the surfaces were split, and an SDK that follows the redirect
// would see a different path in the message).
func TestSurfacePrefixes(t *testing.T) {
	srv := testserver.Start(t, testserver.SQLite, testserver.Options{})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		path     string
		envelope string // legacy, v3 or plain
	}{
		{"/api/v1", "legacy"}, {"/api/v2", "legacy"}, {"/api/v1/", "legacy"}, {"/api/v2/nope", "legacy"},
		{"/api/v3", "v3"}, {"/api/v3.1", "v3"}, {"/api/v3/", "v3"}, {"/api/v3.1/nope", "v3"},
		{"/api", "plain"}, {"/api/v4", "plain"}, {"/api/v1x", "plain"}, {"/api/v3.2/x", "plain"}, {"/nope", "plain"},
	} {
		for _, method := range []string{"GET", "POST", "DELETE"} {
			req, err := http.NewRequest(method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			what := method + " " + tc.path
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404; body %s", what, resp.StatusCode, raw)
				continue
			}
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Errorf("%s: body is not JSON: %s", what, raw)
				continue
			}
			rid := resp.Header.Get("X-Request-Id")
			want := "No route for " + what + "."
			var msg, gotRID any
			switch tc.envelope {
			case "legacy":
				msg, gotRID = body["message"], body["requestId"]
				if body["name"] != "NotFoundError" || body["type"] != "not_found" || body["status"] != float64(404) {
					t.Errorf("%s: not the legacy envelope: %s", what, raw)
				}
			case "v3":
				e, _ := body["error"].(map[string]any)
				msg, gotRID = e["message"], e["request_id"]
				if e["slug"] != "not_found" || e["code"] != float64(404) || e["status"] != float64(404) {
					t.Errorf("%s: not the v3 envelope: %s", what, raw)
				}
			case "plain":
				msg, gotRID = body["message"], body["request_id"]
				if len(body) != 3 || body["status"] != float64(404) {
					t.Errorf("%s: not the plain envelope: %s", what, raw)
				}
			}
			if msg != want {
				t.Errorf("%s: message %v, want %q", what, msg, want)
			}
			if rid == "" || gotRID != rid {
				t.Errorf("%s: request id %v in the body, %q in X-Request-Id", what, gotRID, rid)
			}
		}
	}
}
