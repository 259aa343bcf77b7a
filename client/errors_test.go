package client_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/client"
)

// TestUnauthorized: a wrong key gets 401 on both API generations, and the
// key never shows in the error.
func TestUnauthorized(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		// A key of the right shape whose checksum fails, and one that was
		// never issued.
		wrong := e.srv.OwnerKey[:len(e.srv.OwnerKey)-1] + flip(e.srv.OwnerKey[len(e.srv.OwnerKey)-1:])
		for _, key := range []string{wrong, "ak_definitelynotakey", "not-even-a-key"} {
			e.keys = append(e.keys, key)
			bad := mustNew(t, e.srv.URL, client.WithAPIKey(key), client.WithOrgAPIKey(key))
			calls := map[string]func() error{
				"Toolkit":          func() error { _, err := bad.Toolkit(ctx(t), "serpapi"); return err },
				"AuthConfigs":      func() error { _, err := bad.AuthConfigs(ctx(t), client.AuthConfigListParams{}); return err },
				"ConnectedAccount": func() error { _, err := bad.ConnectedAccount(ctx(t), "ca_x"); return err },
				"InitiateConnection": func() error {
					_, err := bad.InitiateConnection(ctx(t), "u", "ac_x", client.InitiateOptions{})
					return err
				},
				"APIKeys (legacy envelope)": func() error { _, err := bad.APIKeys(ctx(t)); return err },
				"Session":                   func() error { _, err := bad.Session(ctx(t)); return err },
				"Projects":                  func() error { _, err := bad.Projects(ctx(t), client.ProjectListParams{}); return err },
			}
			for name, call := range calls {
				err := call()
				ce := e.wantErr(t, err, client.ErrUnauthorized)
				if ce.StatusCode != 401 || ce.Slug != "unauthorized" || errors.Is(err, client.ErrNotFound) || errors.Is(err, client.ErrForbidden) {
					t.Errorf("%s with key %q: %#v", name, key, ce)
				}
			}
		}
		// No key at all.
		_, err := mustNew(t, e.srv.URL).Toolkits(ctx(t), client.ToolkitListParams{})
		e.wantErr(t, err, client.ErrUnauthorized, "x-api-key")
	})
}

func flip(s string) string {
	if s == "a" {
		return "b"
	}
	return "a"
}

// TestErrorEnvelopes parses what servers other than patchbay may send.
func TestErrorEnvelopes(t *testing.T) {
	const key = "ak_topsecrettopsecrettopsecret1234"
	for _, tc := range []struct {
		name, ctype, body string
		status            int
		header            string // X-Request-Id
		want              client.Error
		is                error
	}{
		{"v3", "application/json", `{"error":{"message":"Connected account ca_x not found","code":1803,"slug":"","status":404,"request_id":"r1","suggested_fix":"","errors":[]}}`,
			404, "", client.Error{StatusCode: 404, Message: "Connected account ca_x not found", Code: 1803, RequestID: "r1"}, client.ErrNotFound},
		{"legacy", "application/json", `{"message":"Invalid or revoked API key","name":"UnauthorizedError","type":"unauthorized","status":401,"requestId":"r2"}`,
			401, "", client.Error{StatusCode: 401, Message: "Invalid or revoked API key", Slug: "unauthorized", RequestID: "r2"}, client.ErrUnauthorized},
		{"plain JSON", "application/json", `{"message":"gone","status":409,"request_id":"r3"}`,
			409, "", client.Error{StatusCode: 409, Message: "gone", RequestID: "r3"}, client.ErrConflict},
		{"text", "text/plain", "upstream timed out\n", 502, "hdr",
			client.Error{StatusCode: 502, Message: "upstream timed out", RequestID: "hdr"}, nil},
		{"empty", "", "", 403, "", client.Error{StatusCode: 403, Message: "Forbidden"}, client.ErrForbidden},
		{"422", "application/json", `{"error":{"message":"bad"}}`, 422, "", client.Error{StatusCode: 422, Message: "bad"}, client.ErrInvalid},
		{"error string", "application/json", `{"error":"nope"}`, 400, "", client.Error{StatusCode: 400, Message: `{"error":"nope"}`}, client.ErrInvalid},
		{"echoed key", "application/json", `{"error":{"message":"bad key ` + key + `"}}`, 401, "",
			client.Error{StatusCode: 401, Message: "bad key [REDACTED]"}, client.ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				if tc.header != "" {
					w.Header().Set("X-Request-Id", tc.header)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			_, err := mustNew(t, srv.URL, client.WithAPIKey(key)).Toolkit(ctx(t), "x")
			var ce *client.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *client.Error", err)
			}
			if *ce != tc.want {
				t.Errorf("got %#v, want %#v", *ce, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
			for _, s := range []error{client.ErrInvalid, client.ErrUnauthorized, client.ErrForbidden, client.ErrNotFound, client.ErrConflict} {
				if s != tc.is && errors.Is(err, s) {
					t.Errorf("%v also matches %v", err, s)
				}
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("%q contains the key", err)
			}
		})
	}
}

func TestBadResponses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html>a captive portal</html>")
	}))
	defer srv.Close()
	_, err := mustNew(t, srv.URL, client.WithAPIKey("ak_x")).Toolkit(ctx(t), "x")
	if err == nil || !strings.Contains(err.Error(), "decode") || !strings.Contains(err.Error(), "text/html") {
		t.Errorf("HTML instead of JSON: %v", err)
	}
	srv.Close()
	_, err = mustNew(t, srv.URL, client.WithAPIKey("ak_x")).Toolkit(ctx(t), "x")
	var ce *client.Error
	if err == nil || errors.As(err, &ce) {
		t.Errorf("server down: %v, want a transport error", err)
	}
}

func TestErrorIs(t *testing.T) {
	for status, want := range map[int]error{400: client.ErrInvalid, 422: client.ErrInvalid, 401: client.ErrUnauthorized, 403: client.ErrForbidden, 404: client.ErrNotFound, 409: client.ErrConflict} {
		err := error(&client.Error{StatusCode: status})
		if !errors.Is(err, want) {
			t.Errorf("%d is not %v", status, want)
		}
		if errors.Is(fmt.Errorf("wrapped: %w", err), want) != true {
			t.Errorf("wrapped %d is not %v", status, want)
		}
	}
	if errors.Is(&client.Error{StatusCode: 500}, client.ErrInvalid) || errors.Is(&client.Error{StatusCode: 401}, client.ErrForbidden) {
		t.Error("a status matched another class")
	}
	if got := (&client.Error{StatusCode: 404, Slug: "not_found", Message: "gone", RequestID: "r"}).Error(); got != "patchbay: 404 not_found: gone (request r)" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&client.Error{StatusCode: 502, Message: "bad gateway"}).Error(); got != "patchbay: 502 bad gateway: bad gateway" {
		t.Errorf("Error() = %q", got)
	}
}
