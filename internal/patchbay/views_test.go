package patchbay_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// TestReadsReturnMaskedViews: auth config and connected account reads
// carry masked credentials (never the plaintext), connection counts, and
// their toolkit's scheme.
func TestReadsReturnMaskedViews(t *testing.T) {
	e := MustEnv(t)
	p := e.MustProjectPrincipal(e.owner, e.project.ID)
	const clientSecret = "acme-client-secret-0123456789"
	ac, err := e.svc.CreateAuthConfig(e.ctx, p, patchbay.NewAuthConfig{Toolkit: "acme", Mode: patchbay.AuthAPIKey, Credentials: map[string]any{"client_secret": clientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ac.Credentials["client_secret"], patchbay.MaskValue(clientSecret); got != want {
		t.Errorf("auth config credentials = %v, want client_secret masked as %q", ac.Credentials, want)
	}
	if ac.ToolkitDef != acme || ac.Scheme == nil || ac.Scheme.Mode != patchbay.AuthAPIKey || ac.Connections != 0 {
		t.Errorf("auth config view = toolkit %v, scheme %v, %d connections", ac.ToolkitDef, ac.Scheme, ac.Connections)
	}

	wc := e.MustAuthConfig(p)
	ca := e.MustConnect(p, wc.ID, "u1")
	e.MustConnect(p, wc.ID, "u2")
	got, err := e.svc.AuthConfig(e.ctx, p, wc.ID)
	if err != nil || got.Connections != 2 {
		t.Errorf("AuthConfig connections = %v, %v; want 2", got, err)
	}
	list, n, err := e.svc.ListAuthConfigs(e.ctx, p, patchbay.AuthConfigFilter{Toolkit: "WIDGET"})
	if err != nil || n != 1 || list[0].ID != wc.ID || list[0].Connections != 2 {
		t.Errorf("ListAuthConfigs(widget) = %v, %d, %v; want the one with 2 connections", list, n, err)
	}

	v, err := e.svc.ConnectedAccount(e.ctx, p, ca.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Credentials["api_key"] != patchbay.MaskValue(widgetKey) || v.BaseURL != "https://api.widget.test" || v.ToolkitDef != widget || v.AuthConfigManaged != true {
		t.Errorf("connection view = %+v, credentials %v", v, v.Credentials)
	}
	if _, err := e.svc.SetAuthConfigDisabled(e.ctx, p, wc.ID, true); err != nil {
		t.Fatal(err)
	}
	views, _, err := e.svc.ListConnectedAccounts(e.ctx, p, patchbay.ConnectionFilter{}, false)
	if err != nil || len(views) != 2 {
		t.Fatalf("ListConnectedAccounts = %v, %v", views, err)
	}
	for _, v := range views {
		if v.Credentials != nil || !v.AuthConfigDisabled {
			t.Errorf("listing without credentials = %+v (credentials %v); want none, and the auth config disabled", v, v.Credentials)
		}
	}
	withCreds, _, err := e.svc.ListConnectedAccounts(e.ctx, p, patchbay.ConnectionFilter{}, true)
	if err != nil {
		t.Fatal(err)
	}
	shown := []map[string]string{ac.Credentials, got.Credentials}
	for _, v := range withCreds {
		shown = append(shown, v.Credentials)
	}
	for _, creds := range shown {
		if s := fmt.Sprint(creds); strings.Contains(s, widgetKey) || strings.Contains(s, clientSecret) {
			t.Errorf("a view shows a plaintext credential: %s", s)
		}
	}
}
