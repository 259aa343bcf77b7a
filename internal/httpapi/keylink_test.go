package httpapi_test

// Hosted connect links for key-based schemes: POST /connected_accounts/link
// for an API key, bearer token or basic auth config answers a link to a
// form on patchbay; the end user's answer is checked against a fake app,
// makes the account ACTIVE and lands on the developer's callback URL.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/outbound"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

const (
	fdRightKey = "fd-SECRETVALUE-right-key-0001"
	fdWrongKey = "fd-SECRETVALUE-wrong-key-0002"
)

type keyLinkEnv struct {
	a   *api
	app *fakeApp // freshdesk: basic auth, the API key as user name, X as password
	ac  string   // a freshdesk BASIC auth config
	// tokens are the link tokens handed out: in the link answers only,
	// never in the server log.
	tokens []string
}

func startKeyLinks(t *testing.T, b testserver.Backend) *keyLinkEnv {
	t.Helper()
	app := newFakeApp(t, func(r *http.Request) bool {
		user, pass, ok := r.BasicAuth()
		return ok && user == fdRightKey && pass == "X"
	})
	a := start(t, b, testserver.Options{Outbound: outbound.Config{
		Overrides: map[string]string{"freshdesk": app.URL, "openai": app.URL}, AllowHosts: []string{"127.0.0.1"}}})
	a.secret(fdRightKey)
	a.secret(fdWrongKey)
	e := &keyLinkEnv{a: a, app: app, ac: a.createAuthConfig("freshdesk", "BASIC", nil)}
	t.Cleanup(func() {
		log := a.rec.log.String()
		for _, tok := range e.tokens {
			if strings.Contains(log, tok) {
				t.Error("the server log carries a connect link token")
			}
		}
	})
	return e
}

// link asks for a connect link for user through ac, ending at callback
// ("" for none), and returns the account and the link.
func (e *keyLinkEnv) link(t *testing.T, ac, user, callback string) (string, string) {
	t.Helper()
	body := map[string]any{"auth_config_id": ac, "user_id": user}
	if callback != "" {
		body["callback_url"] = callback
	}
	r := e.a.post("/api/v3.1/connected_accounts/link", body).want(201)
	id, link, tok := r.str("connected_account_id"), r.str("redirect_url"), r.str("link_token")
	if !strings.HasPrefix(id, "ca_") || tok == "" || link != e.a.srv.URL+"/api/v3.1/connect/"+tok {
		t.Fatalf("link answer %s: want an account id and a connect link on patchbay's origin", r.Raw)
	}
	exp, err := time.Parse(time.RFC3339, r.str("expires_at"))
	if err != nil || time.Until(exp) > 11*time.Minute || time.Until(exp) < 8*time.Minute {
		t.Errorf("expires_at = %q, want about 10 minutes from now", r.str("expires_at"))
	}
	e.a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "INITIATED")
	e.tokens = append(e.tokens, tok)
	return id, link
}

// page is one answer of the connect page.
type page struct {
	status int
	header http.Header
	body   string
}

func (p page) location() string { return p.header.Get("Location") }

func (e *keyLinkEnv) record(resp *http.Response) page {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, header: resp.Header, body: string(b)}
	e.a.rec.add(p.body)
	e.a.rec.add(p.location())
	return p
}

func (e *keyLinkEnv) open(t *testing.T, link string) page {
	t.Helper()
	resp, err := browser.Get(link)
	if err != nil {
		t.Fatalf("GET %s: %v", link, err)
	}
	return e.record(resp)
}

// submit POSTs form to link as a browser would from patchbay's page,
// with headers changed by set.
func (e *keyLinkEnv) submit(t *testing.T, link string, form url.Values, set ...func(h http.Header)) page {
	t.Helper()
	req, err := http.NewRequest("POST", link, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.a.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for _, f := range set {
		f(req.Header)
	}
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", link, err)
	}
	return e.record(resp)
}

var (
	inputRE = regexp.MustCompile(`<input\b[^>]*>`)
	attrRE  = regexp.MustCompile(`([a-z-]+)(?:="([^"]*)")?`)
)

// inputs are the page's input elements, each as its attributes.
func inputs(body string) []map[string]string {
	var out []map[string]string
	for _, tag := range inputRE.FindAllString(body, -1) {
		attrs := map[string]string{}
		for _, m := range attrRE.FindAllStringSubmatch(strings.TrimSuffix(strings.TrimPrefix(tag, "<input"), ">"), -1) {
			attrs[m[1]] = html.UnescapeString(m[2])
		}
		out = append(out, attrs)
	}
	return out
}

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	for _, in := range inputs(p.body) {
		if in["name"] == "csrf" && in["type"] == "hidden" {
			return in["value"]
		}
	}
	t.Fatalf("the page has no CSRF field: %s", p.body)
	return ""
}

// catalogScheme is the toolkit's scheme as the catalog file defines it.
func catalogScheme(t *testing.T, slug string, mode patchbay.AuthMode) *patchbay.AuthScheme {
	t.Helper()
	raw, err := os.ReadFile("../catalog/toolkits/" + slug + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var tk patchbay.Toolkit
	if err := json.Unmarshal(raw, &tk); err != nil {
		t.Fatal(err)
	}
	sc, ok := tk.Scheme(mode)
	if !ok {
		t.Fatalf("%s has no %s scheme", slug, mode)
	}
	return sc
}

// databaseHolds returns those of needles that the server's database holds
// in clear (or hex-encoded, as PostgreSQL shows bytea): anywhere in the
// SQLite file and its WAL, or in any row of any table of the PostgreSQL
// schema.
func databaseHolds(t *testing.T, a *api, b testserver.Backend, needles ...string) []string {
	t.Helper()
	var hay []byte
	switch b {
	case testserver.SQLite:
		for _, suffix := range []string{"", "-wal"} {
			raw, _ := os.ReadFile(a.srv.DSN + suffix)
			hay = append(hay, raw...)
		}
		if len(hay) == 0 {
			t.Fatalf("no SQLite database at %s", a.srv.DSN)
		}
	case testserver.Postgres:
		db, err := sql.Open("pgx", a.srv.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			tables = append(tables, name)
		}
		rows.Close()
		if len(tables) < 5 {
			t.Fatalf("the schema has %d tables: %v", len(tables), tables)
		}
		for _, tbl := range tables {
			var dump string
			if err := db.QueryRow(`SELECT coalesce(string_agg(t::text, E'\n'), '') FROM "` + tbl + `" t`).Scan(&dump); err != nil {
				t.Fatalf("dump %s: %v", tbl, err)
			}
			hay = append(hay, dump...)
		}
	}
	var out []string
	for _, n := range needles {
		if bytes.Contains(hay, []byte(n)) || bytes.Contains(hay, []byte(hex.EncodeToString([]byte(n)))) {
			out = append(out, n)
		}
	}
	return out
}

func wantPage(t *testing.T, what string, p page, status int, parts ...string) {
	t.Helper()
	if p.status != status {
		t.Errorf("%s: status %d, want %d; body %s", what, p.status, status, p.body)
	}
	for _, s := range parts {
		if !strings.Contains(p.body, s) {
			t.Errorf("%s: the page does not say %q: %s", what, s, p.body)
		}
	}
}

func TestKeyLink(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		e := startKeyLinks(t, b)
		a := e.a
		ctx := context.Background()
		sc := catalogScheme(t, "freshdesk", patchbay.AuthBasic)
		id, link := e.link(t, e.ac, "key-user", "https://app.example/connected?from=patchbay")
		status := func() string { return a.get("/api/v3.1/connected_accounts/" + id).want(200).str("status") }
		var csrf string
		right := url.Values{"subdomain": {"acme"}, "generic_api_key": {fdRightKey}}
		with := func(v url.Values, k, x string) url.Values {
			out := url.Values{}
			for n, vs := range v {
				out[n] = vs
			}
			out.Set(k, x)
			return out
		}

		t.Run("the page asks for the catalog's fields", func(t *testing.T) {
			p := e.open(t, link)
			wantPage(t, "the form", p, 200, "Connect Freshdesk")
			for h, want := range map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
				"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"} {
				if got := p.header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			csp := p.header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self' https://app.example"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %s", csp, want)
				}
			}
			if regexp.MustCompile(`<script|<link|<img|\b(src|href|action)=`).MatchString(p.body) {
				t.Errorf("the page loads or names external resources, or carries a script: %s", p.body)
			}
			csrf = csrfOf(t, p)
			var names []string
			got := map[string]map[string]string{}
			for _, in := range inputs(p.body) {
				if in["name"] != "csrf" {
					names = append(names, in["name"])
					got[in["name"]] = in
				}
			}
			var want []string
			for _, f := range sc.FieldsFor(patchbay.ScopeConnection) {
				want = append(want, f.Name)
				in := got[f.Name]
				if in == nil {
					continue
				}
				wantType := "text"
				if f.Secret {
					wantType = "password"
				}
				if in["type"] != wantType {
					t.Errorf("input %s has type %q, want %q", f.Name, in["type"], wantType)
				}
				if _, req := in["required"]; req != f.Required {
					t.Errorf("input %s: required %v, want %v", f.Name, req, f.Required)
				}
				if !strings.Contains(p.body, `<label for="field-`+f.Name+`">`+html.EscapeString(f.DisplayName)) {
					t.Errorf("input %s is not labelled %q", f.Name, f.DisplayName)
				}
				if !strings.Contains(p.body, `id="desc-`+f.Name+`">`+html.EscapeString(f.Description)+`</p>`) &&
					!strings.Contains(html.UnescapeString(p.body), f.Description) {
					t.Errorf("input %s lacks its catalog description", f.Name)
				}
			}
			eq(t, "form fields", names, want)
			eq(t, "requests to the app on opening", len(e.app.requests()), 0)
		})

		t.Run("missing and malformed fields", func(t *testing.T) {
			p := e.submit(t, link, url.Values{"csrf": {csrf}, "subdomain": {"acme"}})
			wantPage(t, "a missing key", p, 422, "Please fill in: API Key.")
			if !strings.Contains(p.body, `value="acme"`) {
				t.Errorf("the re-rendered form lost the subdomain: %s", p.body)
			}
			if csrfOf(t, p) != csrf {
				t.Error("the re-rendered form carries another CSRF token")
			}
			p = e.submit(t, link, with(with(right, "subdomain", "not a subdomain!"), "csrf", csrf))
			wantPage(t, "a malformed subdomain", p, 422, "Not in the expected format: Freshdesk Subdomain.")
			for _, in := range inputs(p.body) {
				if in["type"] == "password" && in["value"] != "" {
					t.Errorf("the re-rendered form fills the secret field %s", in["name"])
				}
			}
			eq(t, "requests to the app", len(e.app.requests()), 0)
			eq(t, "status", status(), "INITIATED")
		})

		t.Run("rejected credentials", func(t *testing.T) {
			p := e.submit(t, link, with(with(right, "generic_api_key", fdWrongKey), "csrf", csrf))
			wantPage(t, "a wrong key", p, 422, "Freshdesk did not accept these credentials")
			eq(t, "requests to the app", len(e.app.requests()), 1)
			eq(t, "status", status(), "INITIATED")
		})

		t.Run("a wrong CSRF token", func(t *testing.T) {
			for _, bad := range []string{"", "not-the-token", csrf + "x"} {
				p := e.submit(t, link, with(right, "csrf", bad))
				wantPage(t, "CSRF "+bad, p, 403, "not sent from its connect link")
			}
			eq(t, "requests to the app", len(e.app.requests()), 1)
			eq(t, "status", status(), "INITIATED")
		})

		t.Run("a cross-origin POST", func(t *testing.T) {
			cases := map[string]func(h http.Header){
				"another origin": func(h http.Header) { h.Set("Origin", "https://evil.example"); h.Set("Sec-Fetch-Site", "cross-site") },
				"another port":   func(h http.Header) { h.Set("Origin", "http://127.0.0.1:1"); h.Del("Sec-Fetch-Site") },
				"a null origin":  func(h http.Header) { h.Set("Origin", "null"); h.Set("Sec-Fetch-Site", "cross-site") },
				"no origin":      func(h http.Header) { h.Del("Origin"); h.Del("Sec-Fetch-Site") },
			}
			for name, set := range cases {
				p := e.submit(t, link, with(right, "csrf", csrf), set)
				wantPage(t, name, p, 403, "must be sent from its connect link")
			}
			eq(t, "requests to the app", len(e.app.requests()), 1)
			eq(t, "status", status(), "INITIATED")
		})

		t.Run("accepted", func(t *testing.T) {
			p := e.submit(t, link, with(right, "csrf", csrf))
			if p.status != http.StatusSeeOther {
				t.Fatalf("the accepted form: %d, want 303; body %s", p.status, p.body)
			}
			done, err := url.Parse(p.location())
			if err != nil || done.Host != "app.example" || done.Path != "/connected" || done.Query().Get("from") != "patchbay" ||
				done.Query().Get("status") != "success" || done.Query().Get("connected_account_id") != id {
				t.Errorf("the accepted form sends the browser to %q", p.location())
			}
			if p.header.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("the redirect's Referrer-Policy = %q", p.header.Get("Referrer-Policy"))
			}
			reqs := e.app.requests()
			if len(reqs) != 2 {
				t.Fatalf("the app got %d requests, want the rejected and the accepted check", len(reqs))
			}
			if user, pass, _ := reqs[1].BasicAuth(); user != fdRightKey || pass != "X" || reqs[1].URL.Path != "/agents/me" {
				t.Errorf("the credential check was %s %s with other credentials", reqs[1].Method, reqs[1].URL.Path)
			}
			r := a.get("/api/v3.1/connected_accounts/" + id).want(200)
			r.eq("status", "ACTIVE")
			r.eq("state.val.status", "ACTIVE")
			r.eq("state.val.subdomain", "acme")
			checkMasked(t, "state.val.generic_api_key", r.str("state.val.generic_api_key"), fdRightKey)

			// Sealed at rest; the CSRF token is gone with the link.
			row, err := a.srv.Store.GetSecret(ctx, patchbay.CredentialsRef(a.projectID, id))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(row.Sealed, []byte(fdRightKey)) || bytes.Contains(row.Sealed, []byte("SECRETVALUE")) {
				t.Error("the sealed credentials hold the key in clear")
			}
			if _, err := a.srv.Store.GetSecret(ctx, patchbay.SecretRef{ProjectID: a.projectID, Record: id, Field: "connect_link_csrf"}); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
				t.Errorf("the used link's CSRF token is still stored: %v", err)
			}
			if len(databaseHolds(t, a, b, "key-user")) != 1 {
				t.Error("the database scan misses the user id, which is stored in clear: it would miss a secret too")
			}
			for _, leak := range databaseHolds(t, a, b, fdRightKey, fdWrongKey, csrf, strings.TrimPrefix(link, a.srv.URL+"/api/v3.1/connect/")) {
				t.Errorf("the database holds %q in clear", leak)
			}

			// Audited as the member who asked for the link, from the end
			// user's address.
			events, err := a.srv.Store.ListAudit(ctx, a.srv.Org.ID, a.projectID, 50)
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, ev := range events {
				if ev.TargetID == id {
					actions = append(actions, ev.Action)
					if ev.ActorID != a.srv.Owner.ID || ev.ActorKey == "" {
						t.Errorf("audit %s by %q with %q, want the owner and the key that asked for the link", ev.Action, ev.ActorID, ev.ActorKey)
					}
					if ev.Action == patchbay.ActionConnectionAuthorize && ev.IP != "127.0.0.1" {
						t.Errorf("audit %s from %q, want the end user's address", ev.Action, ev.IP)
					}
				}
			}
			eq(t, "audit of the account", actions, []string{patchbay.ActionConnectionAuthorize, patchbay.ActionConnectionCreate})
		})

		t.Run("replayed", func(t *testing.T) {
			wantPage(t, "the used link", e.open(t, link), 410, "already used")
			p := e.submit(t, link, with(right, "csrf", csrf))
			wantPage(t, "the form sent again", p, 410, "already used")
			if p.location() != "" {
				t.Errorf("a replay redirects to %q", p.location())
			}
			eq(t, "requests to the app", len(e.app.requests()), 2)
			eq(t, "status", status(), "ACTIVE")
		})

		t.Run("the connection carries the key upstream", func(t *testing.T) {
			a.post("/api/v3.1/tools/execute/proxy", map[string]any{"connected_account_id": id, "endpoint": "/tickets", "method": "GET", "parameters": []any{}}).
				want(200).eq("status", 200.0)
			reqs := e.app.requests()
			last := reqs[len(reqs)-1]
			if user, pass, _ := last.BasicAuth(); last.URL.Path != "/tickets" || user != fdRightKey || pass != "X" {
				t.Errorf("the proxied call reached %s without the connection's basic auth", last.URL.Path)
			}
		})

		t.Run("expired", func(t *testing.T) {
			// An account whose link ran out: its flow is stored as the
			// link endpoint stores one, with an expiry in the past.
			now := time.Now().UTC()
			ca := &patchbay.ConnectedAccount{ID: "ca_expiredlink" + string(b), ProjectID: a.projectID, AuthConfigID: e.ac, Toolkit: "freshdesk",
				Mode: patchbay.AuthBasic, UserID: "late-user", Status: patchbay.StatusInitiated, CreatedAt: now, UpdatedAt: now}
			if err := a.srv.Store.CreateConnectedAccount(ctx, ca); err != nil {
				t.Fatal(err)
			}
			tok := "expired-link-token-0123456789abcdef"
			if err := a.srv.Store.CreateOAuthFlow(ctx, &patchbay.OAuthFlow{AccountID: ca.ID, ProjectID: a.projectID, OrgID: a.srv.Org.ID,
				ActorID: a.srv.Owner.ID, ActorKey: "key_x", LinkHash: patchbay.HashToken(tok), LinkExpiresAt: now.Add(-time.Second),
				CallbackURL: "https://app.example/cb", CreatedAt: now.Add(-11 * time.Minute)}); err != nil {
				t.Fatal(err)
			}
			late := a.srv.URL + "/api/v3.1/connect/" + tok
			wantPage(t, "an expired link", e.open(t, late), 410, "has expired")
			p := e.submit(t, late, with(right, "csrf", csrf))
			wantPage(t, "a form sent to an expired link", p, 410, "has expired")
			if p.location() != "" {
				t.Errorf("an expired link redirects to %q", p.location())
			}
			a.get("/api/v3.1/connected_accounts/"+ca.ID).want(200).eq("status", "INITIATED")
		})

		t.Run("unknown link", func(t *testing.T) {
			wantPage(t, "an unknown link", e.open(t, a.srv.URL+"/api/v3.1/connect/no-such-link"), 404, "not valid")
			wantPage(t, "a form to an unknown link", e.submit(t, a.srv.URL+"/api/v3.1/connect/no-such-link", with(right, "csrf", csrf)), 404, "not valid")
		})
	})
}

// TestKeyLinkSchemes: an API key link without a callback, on the /api/v3
// alias; which schemes get a link at all.
func TestKeyLinkSchemes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		e := startKeyLinks(t, b)
		a := e.a
		openaiKey := a.secret("sk-test-SECRETVALUE-link-0003")
		e.app.setAccept(func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+openaiKey })
		ac := a.createAuthConfig("openai", "API_KEY", nil)
		id, link := e.link(t, ac, "openai-user", "")
		p := e.open(t, link)
		wantPage(t, "the openai form", p, 200, "Connect OpenAI")
		var fields []string
		for _, in := range inputs(p.body) {
			if in["name"] != "csrf" {
				fields = append(fields, in["name"]+":"+in["type"])
			}
		}
		eq(t, "openai fields", fields, []string{"api_key:password"})
		v3 := strings.Replace(link, "/api/v3.1/", "/api/v3/", 1)
		done := e.submit(t, v3, url.Values{"csrf": {csrfOf(t, p)}, "api_key": {openaiKey}, "unknown_field": {"ignored"}})
		wantPage(t, "without a callback", done, 200, "Connected")
		a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "ACTIVE")

		// A form sent as JSON or multipart is refused before anything.
		id2, link2 := e.link(t, ac, "openai-user-2", "")
		csrf2 := csrfOf(t, e.open(t, link2))
		wantPage(t, "a JSON body", e.submit(t, link2, url.Values{"csrf": {csrf2}, "api_key": {openaiKey}},
			func(h http.Header) { h.Set("Content-Type", "application/json") }), 415)
		a.get("/api/v3.1/connected_accounts/"+id2).want(200).eq("status", "INITIATED")

		// NO_AUTH needs no link; validate_credentials makes no sense on one.
		hn := a.createAuthConfig("hackernews", "", nil)
		a.post("/api/v3.1/connected_accounts/link", map[string]any{"auth_config_id": hn, "user_id": "u"}).v3err(400, "NO_AUTH")
		a.post("/api/v3.1/connected_accounts/link", map[string]any{"auth_config_id": ac, "user_id": "u", "callback_url": "javascript:alert(1)"}).
			v3err(400, "callback_url")
	})
}

// TestKeyLinkRaces: concurrent submissions of one form make one
// connection; a disabled auth config and an OAuth2 link take no form.
func TestKeyLinkRaces(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		e := startKeyLinks(t, b)
		a := e.a
		id, link := e.link(t, e.ac, "race-user", "https://app.example/cb")
		csrf := csrfOf(t, e.open(t, link))
		form := url.Values{"csrf": {csrf}, "subdomain": {"acme"}, "generic_api_key": {fdRightKey}}
		const n = 6
		statuses := make(chan int, n)
		start := make(chan struct{})
		for range n {
			go func() {
				<-start
				statuses <- e.submit(t, link, form).status
			}()
		}
		close(start)
		counts := map[int]int{}
		for range n {
			counts[<-statuses]++
		}
		eq(t, "answers to concurrent submissions", counts, map[int]int{http.StatusSeeOther: 1, http.StatusGone: n - 1})
		a.get("/api/v3.1/connected_accounts/"+id).want(200).eq("status", "ACTIVE")
		events, err := a.srv.Store.ListAudit(context.Background(), a.srv.Org.ID, a.projectID, 50)
		if err != nil {
			t.Fatal(err)
		}
		authorized := 0
		for _, ev := range events {
			if ev.TargetID == id && ev.Action == patchbay.ActionConnectionAuthorize {
				authorized++
			}
		}
		eq(t, "authorize audits", authorized, 1)

		// The auth config turned off after the link was made: no form.
		id2, link2 := e.link(t, e.ac, "paused-user", "")
		a.patch("/api/v3.1/auth_configs/"+e.ac+"/DISABLED", nil).want(200)
		wantPage(t, "a link of a disabled auth config", e.open(t, link2), 409, "turned this connection off")
		wantPage(t, "a form to a disabled auth config", e.submit(t, link2, form), 409, "turned this connection off")
		a.get("/api/v3.1/connected_accounts/"+id2).want(200).eq("status", "INITIATED")
	})
}

func TestKeyLinkFormToOAuthLink(t *testing.T) {
	e := startOAuth(t, testserver.SQLite)
	k := &keyLinkEnv{a: e.a}
	_, link := e.initiate(t, "oauth-form-user", "https://app.example/cb")
	wantPage(t, "a form sent to an OAuth2 link", k.submit(t, link, url.Values{"csrf": {"x"}, "access_token": {"y"}}), 405, "OAuth2")
	// The link still opens the provider's consent.
	e.toProvider(t, link)
}
