package patchbay_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// TestMCPServerValidation: bad names, unknown toolkits, auth configs and
// tools, and tools outside the configuration's toolkits are EINVALID
// naming the problem; an auth config brings its toolkit.
func TestMCPServerValidation(t *testing.T) {
	e := MustEnv(t)
	_, raw := e.MustProjectKey("builder")
	p := e.MustAuth(e.auth, raw)
	ac := e.MustAuthConfig(p)
	for _, tc := range []struct {
		n    patchbay.NewMCPServer
		want string
	}{
		{patchbay.NewMCPServer{Name: "abc", Toolkits: []string{"widget"}}, "4 to 30"},
		{patchbay.NewMCPServer{Name: "bad/name", Toolkits: []string{"widget"}}, "4 to 30"},
		{patchbay.NewMCPServer{Name: "no toolkit"}, "at least one toolkit"},
		{patchbay.NewMCPServer{Name: "unknown", Toolkits: []string{"nope"}}, `Unknown toolkit "nope"`},
		{patchbay.NewMCPServer{Name: "unknown ac", AuthConfigIDs: []string{"ac_missing"}}, `Unknown auth config "ac_missing"`},
		{patchbay.NewMCPServer{Name: "unknown tool", Toolkits: []string{"widget"}, AllowedTools: []string{"WIDGET_NOPE"}}, `Unknown tool "WIDGET_NOPE"`},
		{patchbay.NewMCPServer{Name: "other toolkit", Toolkits: []string{"acme"}, AllowedTools: []string{"WIDGET_GET_WIDGET"}}, "does not list"},
	} {
		_, err := e.svc.CreateMCPServer(e.ctx, p, tc.n)
		if patchbay.ErrorCode(err) != patchbay.EINVALID || !strings.Contains(patchbay.ErrorMessage(err), tc.want) {
			t.Errorf("CreateMCPServer(%+v) = %v, want EINVALID with %q", tc.n, err, tc.want)
		}
	}
	m, err := e.svc.CreateMCPServer(e.ctx, p, patchbay.NewMCPServer{Name: "by auth config", AuthConfigIDs: []string{ac.ID}, AllowedTools: []string{"widget_get_widget"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Toolkits) != 1 || m.Toolkits[0] != "widget" || m.AllowedTools[0] != "WIDGET_GET_WIDGET" {
		t.Errorf("created %+v: want the auth config's toolkit and the canonical tool slug", m)
	}
	audited := false
	for _, ev := range e.MustAudit() {
		audited = audited || (ev.Action == patchbay.ActionMCPServerCreate && ev.TargetID == m.ID && ev.ActorKey == p.Credential.ID)
	}
	if !audited {
		t.Errorf("no %s audit event for %s by key %s", patchbay.ActionMCPServerCreate, m.ID, p.Credential.ID)
	}
}

// TestMCPSignedURLs: a signed URL authenticates as the key that generated
// it, for its user only; tampering, expiry, the key's revocation and the
// configuration's deletion each refuse it; the URL never holds the key.
func TestMCPSignedURLs(t *testing.T) {
	e := MustEnv(t)
	k, raw := e.MustProjectKey("generator")
	p := e.MustAuth(e.auth, raw)
	m, err := e.svc.CreateMCPServer(e.ctx, p, patchbay.NewMCPServer{Name: "signed urls", Toolkits: []string{"widget"}})
	if err != nil {
		t.Fatal(err)
	}
	urls, err := e.svc.GenerateMCPURLs(e.ctx, p, m.ID, []string{"alice", "bob"}, false, "http://pb.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(urls.Users) != 2 || urls.Base != "http://pb.test/v3/mcp/"+m.ID+"/mcp" {
		t.Fatalf("GenerateMCPURLs = %+v", urls)
	}
	open := func(s string) (*patchbay.MCPAccess, error) {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(s, raw) || strings.Contains(s, "ak_") {
			t.Fatalf("the URL holds an API key: %s", s)
		}
		return e.svc.OpenMCP(e.ctx, patchbay.MCPRequest{ServerID: strings.Split(u.Path, "/")[3], UserID: u.Query().Get("user_id"), Signature: u.Query().Get("sig"), IP: "192.0.2.1"})
	}
	a, err := open(urls.Users[0])
	if err != nil {
		t.Fatal(err)
	}
	if a.UserID != "alice" || a.Principal.Credential.ID != k.ID || a.Server.ID != m.ID || a.Principal.IP != "192.0.2.1" {
		t.Errorf("OpenMCP = %+v, principal %+v", a, a.Principal)
	}
	// Another user in the same URL: the signature does not cover it.
	if _, err := open(strings.Replace(urls.Users[0], "user_id=alice", "user_id=bob", 1)); patchbay.ErrorCode(err) != patchbay.EUNAUTHORIZED {
		t.Errorf("a URL with its user changed: %v, want EUNAUTHORIZED", err)
	}
	if _, err := open(urls.Users[1][:len(urls.Users[1])-2] + "xx"); patchbay.ErrorCode(err) != patchbay.EUNAUTHORIZED {
		t.Errorf("a tampered signature: %v, want EUNAUTHORIZED", err)
	}
	if _, err := e.svc.OpenMCP(e.ctx, patchbay.MCPRequest{ServerID: m.ID, UserID: "alice"}); patchbay.ErrorCode(err) != patchbay.EUNAUTHORIZED {
		t.Errorf("no credential at all: %v, want EUNAUTHORIZED", err)
	}

	e.clock.Advance(patchbay.DefaultMCPURLLifetime + time.Second)
	if _, err := open(urls.Users[0]); patchbay.ErrorCode(err) != patchbay.EUNAUTHORIZED || !strings.Contains(patchbay.ErrorMessage(err), "expired") {
		t.Errorf("an expired URL: %v, want EUNAUTHORIZED saying it expired", err)
	}
	fresh, err := e.svc.GenerateMCPURLs(e.ctx, p, m.ID, []string{"alice"}, true, "http://pb.test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fresh.Users[0], "?include_composio_helper_actions=true&user_id=alice&sig=") {
		t.Errorf("managed URL = %s", fresh.Users[0])
	}
	if _, err := open(fresh.Users[0]); err != nil {
		t.Fatalf("a fresh URL: %v", err)
	}
	if _, err := e.svc.RevokeAPIKey(e.ctx, e.cli, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := open(fresh.Users[0]); patchbay.ErrorCode(err) != patchbay.EUNAUTHORIZED {
		t.Errorf("a URL of a revoked key: %v, want EUNAUTHORIZED", err)
	}

	_, raw2 := e.MustProjectKey("second")
	p2 := e.MustAuth(e.auth, raw2)
	again, err := e.svc.GenerateMCPURLs(e.ctx, p2, m.ID, []string{"alice"}, false, "http://pb.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteMCPServer(e.ctx, p2, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := open(again.Users[0]); patchbay.ErrorCode(err) != patchbay.EUNAUTHORIZED {
		t.Errorf("a URL of a deleted configuration: %v, want EUNAUTHORIZED", err)
	}
	if _, err := e.svc.GenerateMCPURLs(e.ctx, e.cli, m.ID, []string{"alice"}, false, "http://pb.test"); patchbay.ErrorCode(err) != patchbay.EINVALID {
		t.Errorf("generating without an API key: %v, want EINVALID", err)
	}
}
