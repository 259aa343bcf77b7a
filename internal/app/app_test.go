package app_test

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// client sends requests to a testserver and fails the test on transport
// errors.
type client struct {
	t   *testing.T
	srv *testserver.Server
}

func (c client) do(method, path, body string, header ...string) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.srv.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	var v map[string]any
	json.Unmarshal(raw, &v) // bodies that are not objects decode to nil
	return resp.StatusCode, v
}

func (c client) want(status int, method, path, body string, header ...string) map[string]any {
	c.t.Helper()
	got, v := c.do(method, path, body, header...)
	if got != status {
		c.t.Fatalf("%s %s: status %d, want %d: %v", method, path, got, status, v)
	}
	return v
}

// scrape is a Prometheus text exposition: each sample line by its series
// (name{labels}).
type scrape struct {
	text    string
	samples map[string]float64
}

func getMetrics(t *testing.T, srv *testserver.Server) scrape {
	t.Helper()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := scrape{text: string(raw), samples: map[string]float64{}}
	sc := bufio.NewScanner(strings.NewReader(s.text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape line %q: %v", line, err)
		}
		s.samples[line[:i]] = v
	}
	return s
}

// value is the sample of series, failing the test if there is none.
func (s scrape) value(t *testing.T, series string) float64 {
	t.Helper()
	v, ok := s.samples[series]
	if !ok {
		t.Errorf("the scrape has no %s", series)
	}
	return v
}

// hasPrefix reports whether some series starts with prefix.
func (s scrape) hasPrefix(prefix string) bool {
	for k := range s.samples {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// TestMetricsEndpoint drives a real patchbay and reads GET /metrics: the
// requests by route and status, their latency, the key verifier's
// counters, revocations and the database pools are there; no key and no
// credential is.
func TestMetricsEndpoint(t *testing.T) {
	for _, b := range testserver.Backends {
		t.Run(string(b), func(t *testing.T) { testMetricsEndpoint(t, b) })
	}
}

func testMetricsEndpoint(t *testing.T, b testserver.Backend) {
	srv := testserver.Start(t, b, testserver.Options{})
	c := client{t, srv}
	owner := []string{"X-Api-Key", srv.OwnerKey}
	secrets := []string{srv.OwnerKey, srv.OrgKey, srv.MemberKey}

	before := getMetrics(t, srv)

	// Verified keys: the first use of a key reads the store, the next
	// ones are answered from the cache.
	for range 3 {
		c.want(200, "GET", "/api/v3.1/auth/session/info", "", owner...)
	}
	c.want(200, "GET", "/api/v3/auth/session/info", "", "X-Org-Api-Key", srv.OrgKey)
	c.want(200, "GET", "/api/v1/client/auth/client_info", "", "X-Api-Key", srv.MemberKey)

	// Credentials: an OAuth app's client secret and a user's API key.
	const clientSecret, userSecret = "gh-client-SECRETVALUE-metrics-0001", "sk-user-SECRETVALUE-metrics-0002"
	secrets = append(secrets, clientSecret, userSecret)
	c.want(201, "POST", "/api/v3.1/auth_configs", `{"toolkit":{"slug":"github"},"auth_config":{"type":"use_custom_auth","authScheme":"OAUTH2","name":"GitHub","credentials":{"client_id":"Iv1.metrics","client_secret":"`+clientSecret+`"}}}`, owner...)
	ac := c.want(201, "POST", "/api/v3.1/auth_configs", `{"toolkit":{"slug":"openai"},"auth_config":{"type":"use_custom_auth","authScheme":"API_KEY"}}`, owner...)
	acID, _ := ac["auth_config"].(map[string]any)["id"].(string)
	ca := c.want(201, "POST", "/api/v3.1/connected_accounts", `{"auth_config":{"id":"`+acID+`"},"connection":{"user_id":"metrics-user","state":{"authScheme":"API_KEY","val":{"status":"ACTIVE","api_key":"`+userSecret+`"}}}}`, owner...)
	caID, _ := ca["id"].(string)
	c.want(200, "GET", "/api/v3.1/connected_accounts/"+caID, "", owner...)
	c.want(200, "GET", "/api/v1/connectedAccounts/"+caID, "", owner...)

	// Refused keys: malformed, a bad checksum (both refused before the
	// store is read), well-formed but unknown, and revoked.
	c.want(401, "GET", "/api/v3.1/toolkits", "", "X-Api-Key", "not-a-key")
	c.want(401, "GET", "/api/v3.1/auth/session/info", "", "X-Api-Key", "ak_"+strings.Repeat("0", 33))
	unknown, err := patchbay.GenerateKey(patchbay.KeyKindProject, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, unknown.Secret.Reveal())
	c.want(401, "GET", "/api/v3.1/auth/session/info", "", "X-Api-Key", unknown.Secret.Reveal())
	created := c.want(201, "POST", "/api/v1/api_keys", `{"name":"doomed"}`, owner...)
	doomed, _ := created["key"].(string)
	doomedID, _ := created["id"].(string)
	if !strings.HasPrefix(doomed, "ak_") {
		t.Fatalf("created key: %v", created)
	}
	secrets = append(secrets, doomed)
	c.want(200, "GET", "/api/v1/client/auth/client_info", "", "X-Api-Key", doomed)
	c.want(200, "DELETE", "/api/v1/api_keys/"+doomedID, "", owner...)
	c.want(401, "GET", "/api/v1/client/auth/client_info", "", "X-Api-Key", doomed)

	// Paths no route has.
	c.want(404, "GET", "/nowhere/"+srv.OwnerKey, "")
	c.want(404, "GET", "/api/v3.1/nope", "", owner...)
	c.want(200, "GET", "/healthz", "")

	m := getMetrics(t, srv)
	delta := func(series string) float64 { t.Helper(); return m.value(t, series) - before.samples[series] }

	// Requests by route pattern and status.
	for series, want := range map[string]float64{
		`patchbay_http_requests_total{code="200",route="GET /api/v3.1/auth/session/info"}`:       3,
		`patchbay_http_requests_total{code="200",route="GET /api/v3/auth/session/info"}`:         1,
		`patchbay_http_requests_total{code="200",route="GET /api/v1/client/auth/client_info"}`:   2,
		`patchbay_http_requests_total{code="401",route="GET /api/v1/client/auth/client_info"}`:   1,
		`patchbay_http_requests_total{code="401",route="GET /api/v3.1/auth/session/info"}`:       2,
		`patchbay_http_requests_total{code="401",route="GET /api/v3.1/toolkits"}`:                1,
		`patchbay_http_requests_total{code="201",route="POST /api/v3.1/auth_configs"}`:           2,
		`patchbay_http_requests_total{code="201",route="POST /api/v3.1/connected_accounts"}`:     1,
		`patchbay_http_requests_total{code="200",route="GET /api/v3.1/connected_accounts/{id}"}`: 1,
		`patchbay_http_requests_total{code="200",route="GET /api/v1/connectedAccounts/{id}"}`:    1,
		`patchbay_http_requests_total{code="201",route="POST /api/v1/api_keys"}`:                 1,
		`patchbay_http_requests_total{code="200",route="DELETE /api/v1/api_keys/{id}"}`:          1,
		`patchbay_http_requests_total{code="404",route="unmatched"}`:                             2,
		`patchbay_http_requests_total{code="200",route="GET /healthz"}`:                          1,
	} {
		if got := delta(series); got != want {
			t.Errorf("%s grew by %v, want %v", series, got, want)
		}
	}
	// The scrape before this one was counted too, once it had answered.
	if got := m.value(t, `patchbay_http_requests_total{code="200",route="GET /metrics"}`); got < 1 {
		t.Errorf("GET /metrics counted %v times", got)
	}

	// The latency histogram, by route.
	if got := delta(`patchbay_http_request_duration_seconds_count{route="GET /api/v3.1/auth/session/info"}`); got != 5 {
		t.Errorf("latency observations for session info: %v, want 5 (3 + 2 refused)", got)
	}
	if got := delta(`patchbay_http_request_duration_seconds_bucket{route="GET /api/v3.1/auth/session/info",le="+Inf"}`); got != 5 {
		t.Errorf("latency +Inf bucket for session info: %v, want 5", got)
	}
	if !m.hasPrefix(`patchbay_http_request_duration_seconds_bucket{route="POST /api/v3.1/connected_accounts",le="0.0001"}`) {
		t.Error("the latency histogram has no 100µs bucket")
	}
	if m.value(t, `patchbay_http_request_duration_seconds_sum{route="POST /api/v3.1/connected_accounts"}`) <= 0 {
		t.Error("the latency sum is zero")
	}

	// The key verifier. Four refusals: malformed, bad checksum, unknown,
	// revoked.
	if got := delta("patchbay_auth_failures_total"); got != 4 {
		t.Errorf("patchbay_auth_failures_total grew by %v, want 4", got)
	}
	// 15 verifications reached the cache (the malformed key and the bad
	// checksum did not). The first use of each key reads the store: the
	// owner's, organization's, member's and doomed keys, the unknown one,
	// and the doomed key again once revoked (evicted); the rest are hits
	// while the cache is trusted (on PostgreSQL an unconfirmed listener
	// turns hits into misses, never the reverse).
	misses, hits := delta("patchbay_auth_cache_misses_total"), delta("patchbay_auth_cache_hits_total")
	if misses < 6 || misses+hits != 15 {
		t.Errorf("cache misses %v, hits %v: want at least 6 misses and 15 verifications", misses, hits)
	}
	if got := m.value(t, "patchbay_auth_cached_keys"); got < 3 {
		t.Errorf("patchbay_auth_cached_keys = %v, want at least the 3 live keys used", got)
	}
	if got := delta("patchbay_api_key_revocations_total"); got != 1 {
		t.Errorf("patchbay_api_key_revocations_total grew by %v, want 1", got)
	}

	// The database pools, one collector per pool.
	pools := []string{"main"}
	if b == testserver.SQLite {
		pools = []string{"read", "write"}
	}
	for _, p := range pools {
		for _, name := range []string{"go_sql_max_open_connections", "go_sql_open_connections", "go_sql_in_use_connections", "go_sql_idle_connections", "go_sql_wait_count_total"} {
			m.value(t, name+`{db_name="`+p+`"}`)
		}
	}
	if !m.hasPrefix("go_goroutines") {
		t.Error("the Go runtime collector is missing")
	}

	// Nothing secret: no key (plaintext or hash prefix path), no
	// credential, no id from a path.
	for _, s := range secrets {
		if strings.Contains(m.text, s) {
			t.Errorf("the scrape carries the secret %q", s)
		}
	}
	for _, leak := range []string{"ak_", "oak_", "SECRETVALUE", caID, doomedID, "/nowhere", srv.DSN} {
		if leak != "" && strings.Contains(m.text, leak) {
			t.Errorf("the scrape carries %q", leak)
		}
	}
}
