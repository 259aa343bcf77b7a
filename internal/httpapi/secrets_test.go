package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// Every test's recorder already proves that no plaintext credential comes
// back in a response or reaches the log. This test looks at rest: the
// sealed row, and that a ciphertext is bound to its row.
func TestSecretsAtRest(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		ctx := context.Background()
		st := a.srv.Store

		ac := a.createAuthConfig("openai", "API_KEY", nil)
		s1 := a.secret("sk-test-SECRETVALUE-123-at-rest-one")
		s2 := a.secret("sk-test-SECRETVALUE-123-at-rest-two")
		ca1 := a.connect(ac, "u1", "API_KEY", map[string]any{"api_key": s1})
		ca2 := a.connect(ac, "u2", "API_KEY", map[string]any{"api_key": s2})
		client := a.secret("gh-client-SECRETVALUE-at-rest-0001")
		gh := a.createAuthConfig("github", "OAUTH2", map[string]any{"client_id": "cid", "client_secret": client})

		// The sealed rows hold no plaintext (nor its base64).
		for _, c := range []struct{ record, plain string }{{ca1, s1}, {ca2, s2}, {gh, client}} {
			row, err := st.GetSecret(ctx, patchbay.CredentialsRef(a.projectID, c.record))
			if err != nil {
				t.Fatalf("secret of %s: %v", c.record, err)
			}
			for _, leak := range []string{c.plain, base64.StdEncoding.EncodeToString([]byte(c.plain)), "SECRETVALUE"} {
				if bytes.Contains(row.Sealed, []byte(leak)) {
					t.Errorf("sealed credentials of %s contain %q", c.record, leak)
				}
			}
			if len(row.Sealed) < len(c.plain) {
				t.Errorf("sealed credentials of %s are %d bytes, shorter than the plaintext", c.record, len(row.Sealed))
			}
		}

		// A ciphertext copied to another row does not open there: the row
		// is its additional authenticated data. The client learns nothing
		// about why.
		row1, err := st.GetSecret(ctx, patchbay.CredentialsRef(a.projectID, ca1))
		if err != nil {
			t.Fatal(err)
		}
		moved := patchbay.StoredSecret{Ref: patchbay.CredentialsRef(a.projectID, ca2), Term: row1.Term, Sealed: row1.Sealed}
		if err := st.PutSecret(ctx, moved); err != nil {
			t.Fatal(err)
		}
		for _, p := range v3Prefixes {
			r := a.get(p + "/connected_accounts/" + ca2)
			r.want(500)
			r.eq("error.message", "Internal error.")
			r.eq("error.status", 500)
			checkNoInternals(t, r)
		}
		r := a.get("/api/v1/connectedAccounts/" + ca2)
		r.want(500)
		r.eq("message", "Internal error.")
		r.eq("name", "InternalServerError")
		checkNoInternals(t, r)
		// The operator finds the cause in the log.
		if !strings.Contains(a.rec.log.String(), "authentication failed") {
			t.Error("the log does not record why the credentials did not open")
		}
		// The original row still opens; listings (which open nothing) work.
		checkMasked(t, "ca1 after the copy", a.get("/api/v3.1/connected_accounts/"+ca1).want(200).str("state.val.api_key"), s1)
		a.get("/api/v3.1/connected_accounts").want(200).eq("total_items", 2)

		// Nor does it open in another project, under the same record id.
		o := a.newProject("second")
		oac := o.createAuthConfig("openai", "API_KEY", nil)
		oca := o.connect(oac, "u", "API_KEY", map[string]any{"api_key": a.secret("sk-test-SECRETVALUE-123-other-project")})
		if err := st.PutSecret(ctx, patchbay.StoredSecret{Ref: patchbay.CredentialsRef(o.projectID, oca), Term: row1.Term, Sealed: row1.Sealed}); err != nil {
			t.Fatal(err)
		}
		r = o.get("/api/v3.1/connected_accounts/" + oca)
		r.want(500)
		r.eq("error.message", "Internal error.")

		// An auth config's sealed credentials do not open as an account's.
		ghRow, err := st.GetSecret(ctx, patchbay.CredentialsRef(a.projectID, gh))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutSecret(ctx, patchbay.StoredSecret{Ref: patchbay.CredentialsRef(a.projectID, ca1), Term: ghRow.Term, Sealed: ghRow.Sealed}); err != nil {
			t.Fatal(err)
		}
		a.get("/api/v3.1/connected_accounts/"+ca1).want(500).eq("error.message", "Internal error.")

		// Re-sealing through the API repairs the row.
		a.post("/api/v1/connectedAccounts/"+ca1+"/reinitiate", map[string]any{"data": map[string]any{"api_key": s1}}).want(200)
		checkMasked(t, "ca1 after reinitiate", a.get("/api/v3.1/connected_accounts/"+ca1).want(200).str("state.val.api_key"), s1)
	})
}

func checkNoInternals(t *testing.T, r *response) {
	t.Helper()
	// The request id is random hex: it may spell "aad" by chance.
	body := strings.ToLower(strings.ReplaceAll(string(r.Raw), r.Header.Get("X-Request-Id"), ""))
	for _, internal := range []string{"authentication", "sealed", "cipher", "tamper", "aad", "term", "open"} {
		if strings.Contains(body, internal) {
			t.Errorf("%s: the 500 body leaks internals (%q): %s", r.req, internal, r.Raw)
		}
	}
}

// composio-core sends a junk header named "common" that holds the API key in
// clear (composio-legacy-v1.md §1); neither it nor x-api-key may be logged,
// nor may secrets in query strings.
func TestSecretsNotLogged(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		a := start(t, b, testserver.Options{})
		common := `{"X-API-KEY":"` + a.srv.OwnerKey + `","X-SOURCE":"js_sdk","X-RUNTIME":""}`
		a.do("GET", "/api/v1/apps?additionalFields=auth_schemes", nil, withHeader("common", common), withHeader("X-RUNTIME", "")).want(200)
		q := a.secret("SECRETVALUE-in-a-query-string")
		a.get("/api/v3.1/connected_accounts?user_ids=" + q).want(200)
		a.get("/api/v1/connectedAccounts?user_uuid=" + q).want(200)
		// Errors are logged with their cause; the body that caused them is not.
		body := a.secret("sk-test-SECRETVALUE-in-a-bad-body")
		a.post("/api/v3.1/connected_accounts", `{"auth_config":{"id":"ac_x"},"connection":{"user_id":"u","state":{"val":{"api_key":"`+body+`"}}} trailing`).v3err(400, "JSON")
		a.post("/api/v3.1/connected_accounts", `{"auth_config":{"id":"`+body+`"}`).v3err(400, "JSON")
		if !strings.Contains(a.rec.log.String(), "path=/api/v1/apps") {
			t.Error("the access log did not record the request at all")
		}
	})
}
