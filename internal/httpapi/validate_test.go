package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/outbound"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// fakes are local stand-ins for OpenAI (credential in a header) and SerpApi
// (credential in the query), accepting only the right key.
type fakes struct {
	openai, serpapi, twilio *fakeApp
	openaiKey               string
	serpKey                 string
	twilioSID, twilioToken  string
}

func newFakes(t *testing.T) *fakes {
	f := &fakes{openaiKey: "sk-test-SECRETVALUE-123-right", serpKey: "serp-SECRETVALUE-right-0123456789",
		twilioSID: "AC0123456789abcdef0123456789abcdef", twilioToken: "twilio-SECRETVALUE-right-token"}
	f.openai = newFakeApp(t, func(r *http.Request) bool {
		return r.Method == "GET" && r.URL.Path == "/models" && r.Header.Get("Authorization") == "Bearer "+f.openaiKey
	})
	f.serpapi = newFakeApp(t, func(r *http.Request) bool {
		return r.Method == "GET" && r.URL.Path == "/account" && r.URL.Query().Get("api_key") == f.serpKey
	})
	f.twilio = newFakeApp(t, func(r *http.Request) bool {
		user, pass, ok := r.BasicAuth()
		return r.URL.Path == "/Accounts.json" && ok && user == f.twilioSID && pass == f.twilioToken
	})
	return f
}

func (f *fakes) overrides() map[string]string {
	return map[string]string{"openai": f.openai.URL, "serpapi": f.serpapi.URL, "twilio": f.twilio.URL}
}

// validating is a create body asking patchbay to try the credentials.
func validating(acID, user string, val map[string]any) map[string]any {
	b := connectBody(acID, user, "API_KEY", val)
	b["validate_credentials"] = true
	return b
}

// callerCreds are credentials a caller might send to patchbay; they must
// never travel to the app.
var callerCreds = []reqOpt{
	withHeader("Authorization", "Bearer caller-supplied-token"),
	withHeader("Cookie", "session=caller-supplied-cookie"),
}

func TestValidateCredentials(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		f := newFakes(t)
		a := start(t, b, testserver.Options{Outbound: outbound.Config{Overrides: f.overrides(), AllowHosts: []string{"127.0.0.1"}}})
		right, wrong := a.secret(f.openaiKey), a.secret("sk-test-SECRETVALUE-123-wrong")
		ac := a.createAuthConfig("openai", "API_KEY", nil)

		// The right key: ACTIVE, and the app saw it injected as the toolkit says.
		r := a.do("POST", "/api/v3.1/connected_accounts", validating(ac, "u", map[string]any{"api_key": right}), callerCreds...).want(201)
		r.eq("connectionData.val.status", "ACTIVE")
		good := r.str("id")
		g := a.get("/api/v3.1/connected_accounts/" + good).want(200)
		g.eq("status", "ACTIVE")
		g.eq("status_reason", nil)
		reqs := f.openai.requests()
		if len(reqs) != 1 {
			t.Fatalf("openai fake got %d requests, want 1", len(reqs))
		}
		got := reqs[0]
		eq(t, "check request", got.Method+" "+got.URL.Path, "GET /models")
		eq(t, "injected Authorization", got.Header.Get("Authorization"), "Bearer "+right)
		eq(t, "Cookie at the app", got.Header.Get("Cookie"), "")
		checkNoCallerCreds(t, got)

		// A wrong key: FAILED, with a reason naming the app and the status.
		r = a.do("POST", "/api/v3.1/connected_accounts", validating(ac, "u", map[string]any{"api_key": wrong}), callerCreds...).want(201)
		r.eq("connectionData.val.status", "FAILED")
		bad := r.str("id")
		g = a.get("/api/v3.1/connected_accounts/" + bad).want(200)
		g.eq("status", "FAILED")
		g.eq("state.val.status", "INACTIVE") // the SDK's API_KEY state knows ACTIVE and INACTIVE only
		checkMasked(t, "FAILED account's key", g.str("state.val.api_key"), wrong)
		reason := g.str("status_reason")
		for _, want := range []string{"OpenAI", "401"} {
			if !strings.Contains(reason, want) {
				t.Errorf("status_reason %q does not mention %q", reason, want)
			}
		}
		eq(t, "FAILED listing", a.get("/api/v3.1/connected_accounts?statuses=FAILED").want(200).ids("items"), []string{bad})
		reqs = f.openai.requests()
		eq(t, "second check Authorization", reqs[len(reqs)-1].Header.Get("Authorization"), "Bearer "+wrong)
		checkNoCallerCreds(t, reqs[len(reqs)-1])

		// Without validate_credentials nothing is sent to the app.
		n := len(f.openai.requests())
		a.connect(ac, "u", "API_KEY", map[string]any{"api_key": wrong})
		eq(t, "requests without validation", len(f.openai.requests()), n)

		// refresh with validation follows the app's answer.
		f.openai.setAccept(func(*http.Request) bool { return false })
		a.post("/api/v3.1/connected_accounts/"+good+"/refresh", map[string]any{"validate_credentials": true}).want(200).eq("status", "FAILED")
		g = a.get("/api/v3.1/connected_accounts/" + good).want(200)
		g.eq("status", "FAILED")
		if !strings.Contains(g.str("status_reason"), "401") {
			t.Errorf("status_reason after a failed refresh: %q", g.str("status_reason"))
		}
		f.openai.setAccept(func(*http.Request) bool { return true })
		a.post("/api/v3.1/connected_accounts/"+good+"/refresh", map[string]any{"validate_credentials": true}).want(200).eq("status", "ACTIVE")
		a.get("/api/v3.1/connected_accounts/"+good).want(200).eq("status_reason", nil)

		// A revoked account has no credentials left to try: a validating
		// refresh neither calls the app nor brings the account back.
		a.post("/api/v3.1/connected_accounts/"+good+"/revoke", nil).want(200)
		n = len(f.openai.requests())
		a.post("/api/v3.1/connected_accounts/"+good+"/refresh", map[string]any{"validate_credentials": true}).want(200).eq("status", "REVOKED")
		g = a.get("/api/v3.1/connected_accounts/" + good).want(200)
		g.eq("status", "REVOKED")
		if !strings.Contains(g.str("status_reason"), "revoke") {
			t.Errorf("status_reason after refreshing a revoked account: %q", g.str("status_reason"))
		}
		eq(t, "requests for a revoked account", len(f.openai.requests()), n)

		// SerpApi takes its key in the query (api_key), not in a header.
		sac := a.createAuthConfig("serpapi", "", nil)
		sright, swrong := a.secret(f.serpKey), a.secret("serp-SECRETVALUE-wrong-0123456789")
		a.do("POST", "/api/v3.1/connected_accounts", validating(sac, "u", map[string]any{"api_key": sright}), callerCreds...).want(201).eq("connectionData.val.status", "ACTIVE")
		reqs = f.serpapi.requests()
		if len(reqs) != 1 {
			t.Fatalf("serpapi fake got %d requests, want 1", len(reqs))
		}
		eq(t, "serpapi check", reqs[0].Method+" "+reqs[0].URL.Path, "GET /account")
		eq(t, "serpapi query key", reqs[0].URL.Query().Get("api_key"), sright)
		eq(t, "serpapi Authorization", reqs[0].Header.Get("Authorization"), "")
		checkNoCallerCreds(t, reqs[0])
		r = a.post("/api/v3.1/connected_accounts", validating(sac, "u", map[string]any{"generic_api_key": swrong})).want(201)
		r.eq("connectionData.val.status", "FAILED")
		reason = a.get("/api/v3.1/connected_accounts/" + r.str("id")).want(200).str("status_reason")
		if !strings.Contains(reason, "SerpApi") || !strings.Contains(reason, "401") {
			t.Errorf("serpapi status_reason %q, want the app and HTTP 401", reason)
		}

		// Twilio takes HTTP basic auth built from the two fields.
		tac := a.createAuthConfig("twilio", "BASIC", nil)
		basic := func(password string) map[string]any {
			b := connectBody(tac, "u", "BASIC", map[string]any{"username": f.twilioSID, "password": password})
			b["validate_credentials"] = true
			return b
		}
		a.do("POST", "/api/v3.1/connected_accounts", basic(a.secret(f.twilioToken)), callerCreds...).want(201).eq("connectionData.val.status", "ACTIVE")
		a.post("/api/v3.1/connected_accounts", basic(a.secret("twilio-SECRETVALUE-wrong-token"))).want(201).eq("connectionData.val.status", "FAILED")
		reqs = f.twilio.requests()
		if len(reqs) != 2 {
			t.Fatalf("twilio fake got %d requests, want 2", len(reqs))
		}
		user, pass, ok := reqs[0].BasicAuth()
		eq(t, "twilio basic auth", []any{ok, user, pass}, []any{true, f.twilioSID, f.twilioToken})
		checkNoCallerCreds(t, reqs[0])
	})
}

func checkNoCallerCreds(t *testing.T, r *http.Request) {
	t.Helper()
	for k, vs := range r.Header {
		for _, v := range vs {
			if strings.Contains(v, "caller-supplied") {
				t.Errorf("the app received the caller's %s: %q", k, v)
			}
		}
	}
}

func TestValidateCredentialsSSRFGuard(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		f := newFakes(t)
		// The fakes are on loopback and nothing allows it: the guard refuses.
		a := start(t, b, testserver.Options{Outbound: outbound.Config{Overrides: f.overrides()}})
		ac := a.createAuthConfig("openai", "API_KEY", nil)
		sac := a.createAuthConfig("serpapi", "", nil)
		for _, c := range []struct {
			ac, app string
			val     map[string]any
		}{
			{ac, "OpenAI", map[string]any{"api_key": a.secret(f.openaiKey)}},
			{sac, "SerpApi", map[string]any{"api_key": a.secret(f.serpKey)}},
		} {
			r := a.post("/api/v3.1/connected_accounts", validating(c.ac, "u", c.val))
			r.v3err(503, "Could not check the credentials", c.app)
			r.eq("error.slug", "unavailable")
			msg := r.str("error.message")
			for _, internal := range []string{"127.0.0.1", "dial", "outbound", "refusing"} {
				if strings.Contains(msg, internal) {
					t.Errorf("503 message leaks internals (%q): %s", internal, msg)
				}
			}
		}
		a.get("/api/v3.1/connected_accounts").want(200).eq("total_items", 0)
		eq(t, "requests that reached the fakes", len(f.openai.requests())+len(f.serpapi.requests()), 0)
		// The operator learns why from the log (the key never appears there:
		// the recorder checks it).
		if !strings.Contains(a.rec.log.String(), "refusing to connect to 127.0.0.1") {
			t.Error("the server log does not say the SSRF guard refused the dial")
		}
		// Without validation no call is made, so the guard is not involved.
		a.connect(ac, "u", "API_KEY", map[string]any{"api_key": f.openaiKey})
	})
}
