package storetest

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// The contract of the ConnectionStore part of the Store: auth configs and
// connected accounts, every lookup scoped by project.

// MustAuthConfig creates an auth config of project for toolkit (a
// lowercase slug), created at created.
func MustAuthConfig(tb testing.TB, s patchbay.Store, projectID, toolkit string, created time.Time) *patchbay.AuthConfig {
	tb.Helper()
	ac := &patchbay.AuthConfig{
		ID: id(patchbay.PrefixAuthCfg), ProjectID: projectID, Toolkit: toolkit, Name: toolkit + " auth",
		Mode: patchbay.AuthAPIKey, CreatedBy: "mem_creator", CreatedAt: created, UpdatedAt: created,
	}
	if err := s.CreateAuthConfig(context.Background(), ac); err != nil {
		tb.Fatalf("CreateAuthConfig: %v", err)
	}
	return ac
}

// MustConnectedAccount creates an active account of user through ac,
// created at created.
func MustConnectedAccount(tb testing.TB, s patchbay.Store, ac *patchbay.AuthConfig, user string, created time.Time) *patchbay.ConnectedAccount {
	tb.Helper()
	ca := &patchbay.ConnectedAccount{
		ID: id(patchbay.PrefixConn), ProjectID: ac.ProjectID, AuthConfigID: ac.ID, Toolkit: ac.Toolkit, Mode: ac.Mode,
		UserID: user, Status: patchbay.StatusActive, CreatedAt: created, UpdatedAt: created,
	}
	if err := s.CreateConnectedAccount(context.Background(), ca); err != nil {
		tb.Fatalf("CreateConnectedAccount: %v", err)
	}
	return ca
}

func wantAuthConfig(tb testing.TB, got, want *patchbay.AuthConfig) {
	tb.Helper()
	g, w := *got, *want
	wantTime(tb, "auth config CreatedAt", g.CreatedAt, w.CreatedAt)
	wantTime(tb, "auth config UpdatedAt", g.UpdatedAt, w.UpdatedAt)
	if g.ID != w.ID || g.ProjectID != w.ProjectID || g.Toolkit != w.Toolkit || g.Name != w.Name || g.Mode != w.Mode ||
		g.Managed != w.Managed || g.Disabled != w.Disabled || g.CreatedBy != w.CreatedBy {
		tb.Errorf("auth config =\n\t%+v\nwant\n\t%+v", g, w)
	}
	gs, ws := g.Settings, w.Settings
	if !slices.Equal(gs.ToolsForConnection, ws.ToolsForConnection) || !slices.Equal(gs.ToolsForExecution, ws.ToolsForExecution) ||
		!slices.Equal(gs.RestrictToTools, ws.RestrictToTools) || !slices.Equal(gs.Scopes, ws.Scopes) ||
		gs.IsEnabledForToolRouter != ws.IsEnabledForToolRouter {
		tb.Errorf("auth config settings = %+v, want %+v", gs, ws)
	}
}

func wantAccount(tb testing.TB, got, want *patchbay.ConnectedAccount) {
	tb.Helper()
	g, w := *got, *want
	wantTime(tb, "account CreatedAt", g.CreatedAt, w.CreatedAt)
	wantTime(tb, "account UpdatedAt", g.UpdatedAt, w.UpdatedAt)
	if !slices.Equal(g.Labels, w.Labels) {
		tb.Errorf("account Labels = %q, want %q", g.Labels, w.Labels)
	}
	g.CreatedAt, g.UpdatedAt, g.Labels = time.Time{}, time.Time{}, nil
	w.CreatedAt, w.UpdatedAt, w.Labels = time.Time{}, time.Time{}, nil
	if g.ID != w.ID || g.ProjectID != w.ProjectID || g.AuthConfigID != w.AuthConfigID || g.Toolkit != w.Toolkit ||
		g.Mode != w.Mode || g.UserID != w.UserID || g.Status != w.Status || g.StatusReason != w.StatusReason ||
		g.Disabled != w.Disabled || g.Alias != w.Alias {
		tb.Errorf("account =\n\t%+v\nwant\n\t%+v", g, w)
	}
}

func authConfigIDs(acs []*patchbay.AuthConfig) []string {
	var ids []string
	for _, ac := range acs {
		ids = append(ids, ac.ID)
	}
	return ids
}

func accountIDs(cas []*patchbay.ConnectedAccount) []string {
	var ids []string
	for _, ca := range cas {
		ids = append(ids, ca.ID)
	}
	return ids
}

func authConfigRecordIDs(rs []*patchbay.AuthConfigRecord) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func connRecordIDs(rs []*patchbay.ConnectionRecord) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

// wantCredentials fails unless got is want (nil: no credentials).
func wantCredentials(tb testing.TB, what string, got, want *patchbay.StoredSecret) {
	tb.Helper()
	switch {
	case want == nil && got != nil:
		tb.Errorf("%s credentials = {%+v %d %q}, want nil", what, got.Ref, got.Term, got.Sealed)
	case want != nil && got == nil:
		tb.Errorf("%s credentials = nil, want {%+v %d %q}", what, want.Ref, want.Term, want.Sealed)
	case want != nil:
		wantSecret(tb, what+" credentials", *got, *want)
	}
}

func testAuthConfigs(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	ac := &patchbay.AuthConfig{
		ID: id(patchbay.PrefixAuthCfg), ProjectID: "pr_a", Toolkit: "github", Name: "GitHub (ci)", Mode: patchbay.AuthOAuth2,
		Managed: true, Disabled: false, CreatedBy: "mem_1", CreatedAt: at(1), UpdatedAt: at(2),
		Settings: patchbay.AuthConfigSettings{
			ToolsForConnection: []string{"GITHUB_LIST_REPOS"}, ToolsForExecution: []string{"A", "B"},
			RestrictToTools: []string{"C"}, IsEnabledForToolRouter: true, Scopes: []string{"repo", "read:org"},
		},
	}
	mustOK(t, "CreateAuthConfig", s.CreateAuthConfig(ctx, ac))
	got, err := s.GetAuthConfig(ctx, "pr_a", ac.ID)
	mustOK(t, "GetAuthConfig", err)
	wantAuthConfig(t, got, ac)

	_, err = s.GetAuthConfig(ctx, "pr_b", ac.ID)
	wantCode(t, "GetAuthConfig(another project)", err, patchbay.ENOTFOUND)
	_, err = s.GetAuthConfig(ctx, "pr_a", "ac_unknown")
	wantCode(t, "GetAuthConfig(unknown)", err, patchbay.ENOTFOUND)
	dup := *ac
	wantCode(t, "CreateAuthConfig(duplicate ID)", s.CreateAuthConfig(ctx, &dup), patchbay.ECONFLICT)

	// Update saves name, disabled, settings and updated_at, and nothing else.
	upd := *ac
	upd.Name, upd.Disabled, upd.UpdatedAt = "Renamed", true, at(9)
	upd.Settings = patchbay.AuthConfigSettings{Scopes: []string{"repo"}}
	upd.Toolkit, upd.Mode, upd.Managed, upd.CreatedBy, upd.CreatedAt = "gitlab", patchbay.AuthBasic, false, "mem_2", at(8)
	mustOK(t, "UpdateAuthConfig", s.UpdateAuthConfig(ctx, &upd))
	want := *ac
	want.Name, want.Disabled, want.UpdatedAt, want.Settings = upd.Name, upd.Disabled, upd.UpdatedAt, upd.Settings
	got, err = s.GetAuthConfig(ctx, "pr_a", ac.ID)
	mustOK(t, "GetAuthConfig after update", err)
	wantAuthConfig(t, got, &want)

	elsewhere := upd
	elsewhere.ProjectID, elsewhere.Name = "pr_b", "Hijacked"
	wantCode(t, "UpdateAuthConfig(another project)", s.UpdateAuthConfig(ctx, &elsewhere), patchbay.ENOTFOUND)
	unknown := upd
	unknown.ID = "ac_unknown"
	wantCode(t, "UpdateAuthConfig(unknown)", s.UpdateAuthConfig(ctx, &unknown), patchbay.ENOTFOUND)
	got, err = s.GetAuthConfig(ctx, "pr_a", ac.ID)
	mustOK(t, "GetAuthConfig", err)
	wantAuthConfig(t, got, &want)
}

func testListAuthConfigs(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	mk := func(toolkit, name string, mode patchbay.AuthMode, managed, disabled bool, created int) *patchbay.AuthConfig {
		t.Helper()
		ac := &patchbay.AuthConfig{
			ID: id(patchbay.PrefixAuthCfg), ProjectID: "pr_a", Toolkit: toolkit, Name: name, Mode: mode,
			Managed: managed, Disabled: disabled, CreatedAt: at(created), UpdatedAt: at(created),
		}
		mustOK(t, "CreateAuthConfig", s.CreateAuthConfig(ctx, ac))
		return ac
	}
	// Created out of order: lists follow creation time.
	gh2 := mk("github", "GitHub 50% off", patchbay.AuthAPIKey, false, false, 4)
	gh1 := mk("github", "GitHub Auth", patchbay.AuthOAuth2, true, false, 1)
	sl := mk("slack", "Slack_bot", patchbay.AuthOAuth2, false, false, 3)
	off := mk("slack", "Slack old", patchbay.AuthOAuth2, false, true, 2)
	MustAuthConfig(t, s, "pr_b", "github", at(1)) // never listed

	yes, no := true, false
	tests := []struct {
		name  string
		f     patchbay.AuthConfigFilter
		want  []*patchbay.AuthConfig
		total int
	}{
		{"all enabled", patchbay.AuthConfigFilter{}, []*patchbay.AuthConfig{gh1, sl, gh2}, 3},
		{"with disabled", patchbay.AuthConfigFilter{ShowDisabled: true}, []*patchbay.AuthConfig{gh1, off, sl, gh2}, 4},
		{"toolkit, any case", patchbay.AuthConfigFilter{Toolkit: "GitHub"}, []*patchbay.AuthConfig{gh1, gh2}, 2},
		{"managed", patchbay.AuthConfigFilter{Managed: &yes}, []*patchbay.AuthConfig{gh1}, 1},
		{"not managed", patchbay.AuthConfigFilter{Managed: &no, ShowDisabled: true}, []*patchbay.AuthConfig{off, sl, gh2}, 3},
		{"mode", patchbay.AuthConfigFilter{Mode: patchbay.AuthOAuth2}, []*patchbay.AuthConfig{gh1, sl}, 2},
		{"search, any case", patchbay.AuthConfigFilter{Search: "SLACK", ShowDisabled: true}, []*patchbay.AuthConfig{off, sl}, 2},
		{"search for a literal %", patchbay.AuthConfigFilter{Search: "50%"}, []*patchbay.AuthConfig{gh2}, 1},
		{"search for a literal _", patchbay.AuthConfigFilter{Search: "slack_", ShowDisabled: true}, []*patchbay.AuthConfig{sl}, 1},
		{"search matching nothing", patchbay.AuthConfigFilter{Search: "%_"}, nil, 0},
		{"first page", patchbay.AuthConfigFilter{ShowDisabled: true, Page: patchbay.Page{Limit: 2}}, []*patchbay.AuthConfig{gh1, off}, 4},
		{"next page", patchbay.AuthConfigFilter{ShowDisabled: true, Page: patchbay.Page{After: off.ID, Limit: 2}}, []*patchbay.AuthConfig{sl, gh2}, 4},
		{"last page", patchbay.AuthConfigFilter{ShowDisabled: true, Page: patchbay.Page{After: gh2.ID, Limit: 2}}, nil, 4},
		{"newest first", patchbay.AuthConfigFilter{ShowDisabled: true, Page: patchbay.Page{Desc: true, Limit: 3}}, []*patchbay.AuthConfig{gh2, sl, off}, 4},
		{"newest first, next page", patchbay.AuthConfigFilter{ShowDisabled: true, Page: patchbay.Page{Desc: true, After: sl.ID}}, []*patchbay.AuthConfig{off, gh1}, 4},
		{"offset", patchbay.AuthConfigFilter{ShowDisabled: true, Page: patchbay.Page{Offset: 1, Limit: 2}}, []*patchbay.AuthConfig{off, sl}, 4},
		{"filtered page", patchbay.AuthConfigFilter{Toolkit: "github", Page: patchbay.Page{After: gh1.ID, Limit: 5}}, []*patchbay.AuthConfig{gh2}, 2},
	}
	for _, tt := range tests {
		tt.f.ProjectID = "pr_a"
		got, total, err := s.ListAuthConfigs(ctx, tt.f)
		mustOK(t, "ListAuthConfigs: "+tt.name, err)
		wantIDs(t, "ListAuthConfigs: "+tt.name, authConfigRecordIDs(got), authConfigIDs(tt.want))
		if total != tt.total {
			t.Errorf("ListAuthConfigs: %s: total = %d, want %d", tt.name, total, tt.total)
		}
		for i := range min(len(got), len(tt.want)) {
			if got[i].ID == tt.want[i].ID {
				wantAuthConfig(t, got[i].AuthConfig, tt.want[i])
			}
			if got[i].Connections != 0 || got[i].Credentials != nil {
				t.Errorf("ListAuthConfigs: %s: %s has %d connections and credentials %v, want none", tt.name, got[i].ID, got[i].Connections, got[i].Credentials)
			}
		}
	}
}

func testConnectedAccounts(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	ac := MustAuthConfig(t, s, "pr_a", "github", at(1))
	ca := &patchbay.ConnectedAccount{
		ID: id(patchbay.PrefixConn), ProjectID: "pr_a", AuthConfigID: ac.ID, Toolkit: "github", Mode: patchbay.AuthAPIKey,
		UserID: "user-42", Status: patchbay.StatusInitiated, StatusReason: "waiting", Disabled: false, Alias: "work",
		Labels: []string{"team:core", "env:prod"}, CreatedAt: at(2), UpdatedAt: at(3),
	}
	mustOK(t, "CreateConnectedAccount", s.CreateConnectedAccount(ctx, ca))
	got, err := s.GetConnectedAccount(ctx, "pr_a", ca.ID)
	mustOK(t, "GetConnectedAccount", err)
	wantAccount(t, got.ConnectedAccount, ca)
	wantCredentials(t, "GetConnectedAccount (none stored)", got.Credentials, nil)
	if got.AuthConfigManaged || got.AuthConfigDisabled {
		t.Errorf("GetConnectedAccount auth config flags = managed %v, disabled %v; want false, false", got.AuthConfigManaged, got.AuthConfigDisabled)
	}

	_, err = s.GetConnectedAccount(ctx, "pr_b", ca.ID)
	wantCode(t, "GetConnectedAccount(another project)", err, patchbay.ENOTFOUND)
	_, err = s.GetConnectedAccount(ctx, "pr_a", "ca_unknown")
	wantCode(t, "GetConnectedAccount(unknown)", err, patchbay.ENOTFOUND)
	dup := *ca
	wantCode(t, "CreateConnectedAccount(duplicate ID)", s.CreateConnectedAccount(ctx, &dup), patchbay.ECONFLICT)

	// Credentials are sealed at the account's CredentialsRef.
	sealed := patchbay.StoredSecret{Ref: patchbay.CredentialsRef("pr_a", ca.ID), Term: 4, Sealed: patchbay.Sealed("creds\x00\xff")}
	mustOK(t, "PutSecret", s.PutSecret(ctx, sealed))
	got, err = s.GetConnectedAccount(ctx, "pr_a", ca.ID)
	mustOK(t, "GetConnectedAccount", err)
	wantCredentials(t, "GetConnectedAccount", got.Credentials, &sealed)

	// Update saves status, status_reason, disabled, alias, labels and
	// updated_at, and nothing else.
	upd := *ca
	upd.Status, upd.StatusReason, upd.Disabled, upd.Alias, upd.Labels, upd.UpdatedAt = patchbay.StatusExpired, "token expired", true, "", nil, at(9)
	upd.UserID, upd.Toolkit, upd.Mode, upd.CreatedAt = "user-99", "gitlab", patchbay.AuthBasic, at(8)
	mustOK(t, "UpdateConnectedAccount", s.UpdateConnectedAccount(ctx, &upd))
	want := *ca
	want.Status, want.StatusReason, want.Disabled, want.Alias, want.Labels, want.UpdatedAt = upd.Status, upd.StatusReason, upd.Disabled, upd.Alias, nil, upd.UpdatedAt
	got, err = s.GetConnectedAccount(ctx, "pr_a", ca.ID)
	mustOK(t, "GetConnectedAccount after update", err)
	wantAccount(t, got.ConnectedAccount, &want)

	elsewhere := upd
	elsewhere.ProjectID, elsewhere.Status = "pr_b", patchbay.StatusActive
	wantCode(t, "UpdateConnectedAccount(another project)", s.UpdateConnectedAccount(ctx, &elsewhere), patchbay.ENOTFOUND)
	unknown := upd
	unknown.ID = "ca_unknown"
	wantCode(t, "UpdateConnectedAccount(unknown)", s.UpdateConnectedAccount(ctx, &unknown), patchbay.ENOTFOUND)
	got, err = s.GetConnectedAccount(ctx, "pr_a", ca.ID)
	mustOK(t, "GetConnectedAccount", err)
	wantAccount(t, got.ConnectedAccount, &want)

	// Delete takes the credentials along; only within the project.
	wantCode(t, "DeleteConnectedAccount(another project)", s.DeleteConnectedAccount(ctx, "pr_b", ca.ID), patchbay.ENOTFOUND)
	if _, err := s.GetSecret(ctx, sealed.Ref); err != nil {
		t.Errorf("GetSecret after another project's delete: %v", err)
	}
	mustOK(t, "DeleteConnectedAccount", s.DeleteConnectedAccount(ctx, "pr_a", ca.ID))
	_, err = s.GetConnectedAccount(ctx, "pr_a", ca.ID)
	wantCode(t, "GetConnectedAccount(deleted)", err, patchbay.ENOTFOUND)
	_, err = s.GetSecret(ctx, sealed.Ref)
	wantCode(t, "GetSecret(deleted account's credentials)", err, patchbay.ENOTFOUND)
	wantCode(t, "DeleteConnectedAccount(twice)", s.DeleteConnectedAccount(ctx, "pr_a", ca.ID), patchbay.ENOTFOUND)
}

func testListConnectedAccounts(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	gh := MustAuthConfig(t, s, "pr_a", "github", at(1))
	sl := MustAuthConfig(t, s, "pr_a", "slack", at(1))
	other := MustAuthConfig(t, s, "pr_b", "github", at(1))
	// Created out of order: lists follow creation time.
	c3 := MustConnectedAccount(t, s, sl, "alice", at(13))
	c1 := MustConnectedAccount(t, s, gh, "alice", at(11))
	c4 := MustConnectedAccount(t, s, gh, "carol", at(14))
	c2 := MustConnectedAccount(t, s, gh, "bob", at(12))
	MustConnectedAccount(t, s, other, "alice", at(11)) // never listed
	for _, ca := range []*patchbay.ConnectedAccount{c2, c4} {
		ca.Status, ca.Disabled, ca.UpdatedAt = patchbay.StatusExpired, ca == c4, at(20)
		mustOK(t, "UpdateConnectedAccount", s.UpdateConnectedAccount(ctx, ca))
	}

	yes, no := true, false
	tests := []struct {
		name  string
		f     patchbay.ConnectionFilter
		want  []*patchbay.ConnectedAccount
		total int
	}{
		{"all", patchbay.ConnectionFilter{}, []*patchbay.ConnectedAccount{c1, c2, c3, c4}, 4},
		{"ids", patchbay.ConnectionFilter{IDs: []string{c4.ID, c1.ID, "ca_unknown"}}, []*patchbay.ConnectedAccount{c1, c4}, 2},
		{"users", patchbay.ConnectionFilter{UserIDs: []string{"alice", "carol"}}, []*patchbay.ConnectedAccount{c1, c3, c4}, 3},
		{"auth configs", patchbay.ConnectionFilter{AuthConfigIDs: []string{sl.ID, other.ID}}, []*patchbay.ConnectedAccount{c3}, 1},
		{"toolkits, any case", patchbay.ConnectionFilter{Toolkits: []string{"GitHub"}}, []*patchbay.ConnectedAccount{c1, c2, c4}, 3},
		{"statuses", patchbay.ConnectionFilter{Statuses: []patchbay.ConnectionStatus{patchbay.StatusExpired, patchbay.StatusFailed}}, []*patchbay.ConnectedAccount{c2, c4}, 2},
		{"disabled", patchbay.ConnectionFilter{Disabled: &yes}, []*patchbay.ConnectedAccount{c4}, 1},
		{"enabled", patchbay.ConnectionFilter{Disabled: &no}, []*patchbay.ConnectedAccount{c1, c2, c3}, 3},
		{"combined", patchbay.ConnectionFilter{UserIDs: []string{"alice", "bob"}, Toolkits: []string{"github"}, Statuses: []patchbay.ConnectionStatus{patchbay.StatusActive}}, []*patchbay.ConnectedAccount{c1}, 1},
		{"first page", patchbay.ConnectionFilter{Page: patchbay.Page{Limit: 3}}, []*patchbay.ConnectedAccount{c1, c2, c3}, 4},
		{"next page", patchbay.ConnectionFilter{Page: patchbay.Page{After: c3.ID, Limit: 3}}, []*patchbay.ConnectedAccount{c4}, 4},
		{"newest first", patchbay.ConnectionFilter{Page: patchbay.Page{Desc: true, Limit: 2}}, []*patchbay.ConnectedAccount{c4, c3}, 4},
		{"newest first, next page", patchbay.ConnectionFilter{Page: patchbay.Page{Desc: true, After: c3.ID, Limit: 2}}, []*patchbay.ConnectedAccount{c2, c1}, 4},
		{"offset", patchbay.ConnectionFilter{Page: patchbay.Page{Offset: 2, Limit: 1}}, []*patchbay.ConnectedAccount{c3}, 4},
		{"filtered page", patchbay.ConnectionFilter{UserIDs: []string{"alice"}, Page: patchbay.Page{After: c1.ID, Limit: 1}}, []*patchbay.ConnectedAccount{c3}, 2},
	}
	for _, tt := range tests {
		tt.f.ProjectID = "pr_a"
		got, total, err := s.ListConnectedAccounts(ctx, tt.f)
		mustOK(t, "ListConnectedAccounts: "+tt.name, err)
		wantIDs(t, "ListConnectedAccounts: "+tt.name, connRecordIDs(got), accountIDs(tt.want))
		if total != tt.total {
			t.Errorf("ListConnectedAccounts: %s: total = %d, want %d", tt.name, total, tt.total)
		}
		for i := range min(len(got), len(tt.want)) {
			if got[i].ID == tt.want[i].ID {
				wantAccount(t, got[i].ConnectedAccount, tt.want[i])
			}
		}
	}

	// What CountConnections reported is each auth config's Connections,
	// counted within the project.
	recs, _, err := s.ListAuthConfigs(ctx, patchbay.AuthConfigFilter{ProjectID: "pr_a"})
	mustOK(t, "ListAuthConfigs", err)
	counts := map[string]int{}
	for _, r := range recs {
		counts[r.ID] = r.Connections
	}
	if want := map[string]int{gh.ID: 3, sl.ID: 1}; !maps.Equal(counts, want) {
		t.Errorf("ListAuthConfigs connections = %v, want %v", counts, want)
	}
	recs, _, err = s.ListAuthConfigs(ctx, patchbay.AuthConfigFilter{ProjectID: "pr_b"})
	mustOK(t, "ListAuthConfigs(pr_b)", err)
	if len(recs) != 1 || recs[0].ID != other.ID || recs[0].Connections != 1 {
		t.Errorf("ListAuthConfigs(pr_b) = %v, want %s with 1 connection", authConfigRecordIDs(recs), other.ID)
	}
}

func testDeleteAuthConfig(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	gone := MustAuthConfig(t, s, "pr_a", "github", at(1))
	kept := MustAuthConfig(t, s, "pr_a", "slack", at(2))
	goneCA := MustConnectedAccount(t, s, gone, "alice", at(3))
	keptCA := MustConnectedAccount(t, s, kept, "alice", at(4))
	refs := map[string]patchbay.SecretRef{
		"deleted config's credentials":  patchbay.CredentialsRef("pr_a", gone.ID),
		"deleted account's credentials": patchbay.CredentialsRef("pr_a", goneCA.ID),
		"kept config's credentials":     patchbay.CredentialsRef("pr_a", kept.ID),
		"kept account's credentials":    patchbay.CredentialsRef("pr_a", keptCA.ID),
	}
	for _, ref := range refs {
		mustOK(t, "PutSecret", s.PutSecret(ctx, patchbay.StoredSecret{Ref: ref, Term: 1, Sealed: patchbay.Sealed("x")}))
	}

	wantCode(t, "DeleteAuthConfig(another project)", s.DeleteAuthConfig(ctx, "pr_b", gone.ID), patchbay.ENOTFOUND)
	wantCode(t, "DeleteAuthConfig(unknown)", s.DeleteAuthConfig(ctx, "pr_a", "ac_unknown"), patchbay.ENOTFOUND)
	if _, err := s.GetConnectedAccount(ctx, "pr_a", goneCA.ID); err != nil {
		t.Fatalf("GetConnectedAccount after a delete elsewhere: %v", err)
	}

	mustOK(t, "DeleteAuthConfig", s.DeleteAuthConfig(ctx, "pr_a", gone.ID))
	_, err := s.GetAuthConfig(ctx, "pr_a", gone.ID)
	wantCode(t, "GetAuthConfig(deleted)", err, patchbay.ENOTFOUND)
	_, err = s.GetConnectedAccount(ctx, "pr_a", goneCA.ID)
	wantCode(t, "GetConnectedAccount(of a deleted config)", err, patchbay.ENOTFOUND)
	for what, ref := range refs {
		_, err := s.GetSecret(ctx, ref)
		if strings.HasPrefix(what, "kept") {
			mustOK(t, "GetSecret("+what+")", err)
		} else {
			wantCode(t, "GetSecret("+what+")", err, patchbay.ENOTFOUND)
		}
	}
	if _, err := s.GetConnectedAccount(ctx, "pr_a", keptCA.ID); err != nil {
		t.Errorf("GetConnectedAccount(of the kept config): %v", err)
	}
	wantCode(t, "DeleteAuthConfig(twice)", s.DeleteAuthConfig(ctx, "pr_a", gone.ID), patchbay.ENOTFOUND)
}

func testDeleteSecret(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	st := secret("pr_a", "rec_1", "f", 1, "sealed")
	other := secret("pr_a", "rec_1", "g", 1, "sealed")
	mustOK(t, "PutSecret", s.PutSecret(ctx, st))
	mustOK(t, "PutSecret", s.PutSecret(ctx, other))
	mustOK(t, "DeleteSecret", s.DeleteSecret(ctx, st.Ref))
	_, err := s.GetSecret(ctx, st.Ref)
	wantCode(t, "GetSecret(deleted)", err, patchbay.ENOTFOUND)
	if _, err := s.GetSecret(ctx, other.Ref); err != nil {
		t.Errorf("GetSecret(a neighbour of the deleted): %v", err)
	}
	mustOK(t, "DeleteSecret(none there)", s.DeleteSecret(ctx, st.Ref))
}

// testConnectionSecrets: what ConnectionSecrets returned is now each
// listed record's Credentials, read only WithCredentials.
func testConnectionSecrets(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	ac := MustAuthConfig(t, s, "pr_a", "openai", at(1))
	a := MustConnectedAccount(t, s, ac, "u1", at(2))
	b := MustConnectedAccount(t, s, ac, "u2", at(3))
	c := MustConnectedAccount(t, s, ac, "u3", at(4))
	credA := patchbay.StoredSecret{Ref: patchbay.CredentialsRef("pr_a", a.ID), Term: 1, Sealed: patchbay.Sealed("sealed-a\x00\xff")}
	credC := patchbay.StoredSecret{Ref: patchbay.CredentialsRef("pr_a", c.ID), Term: 7, Sealed: patchbay.Sealed("sealed-c")}
	mustOK(t, "PutSecret", s.PutSecret(ctx, credA))
	mustOK(t, "PutSecret", s.PutSecret(ctx, credC))
	// Neither another field of b's record, nor b's ID under another
	// project, nor the auth config's own credentials are b's credentials.
	mustOK(t, "PutSecret(another field)", s.PutSecret(ctx, patchbay.StoredSecret{Ref: patchbay.SecretRef{ProjectID: "pr_a", Record: b.ID, Field: "other"}, Term: 1, Sealed: patchbay.Sealed("x")}))
	mustOK(t, "PutSecret(another project)", s.PutSecret(ctx, patchbay.StoredSecret{Ref: patchbay.CredentialsRef("pr_b", b.ID), Term: 1, Sealed: patchbay.Sealed("y")}))
	mustOK(t, "PutSecret(auth config)", s.PutSecret(ctx, patchbay.StoredSecret{Ref: patchbay.CredentialsRef("pr_a", ac.ID), Term: 1, Sealed: patchbay.Sealed("z")}))
	want := map[string]*patchbay.StoredSecret{a.ID: &credA, b.ID: nil, c.ID: &credC}

	got, total, err := s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_a", WithCredentials: true})
	mustOK(t, "ListConnectedAccounts(WithCredentials)", err)
	wantIDs(t, "ListConnectedAccounts(WithCredentials)", connRecordIDs(got), []string{a.ID, b.ID, c.ID})
	if total != 3 {
		t.Errorf("ListConnectedAccounts(WithCredentials) total = %d, want 3", total)
	}
	for _, r := range got {
		wantCredentials(t, "ListConnectedAccounts(WithCredentials) "+r.ID, r.Credentials, want[r.ID])
	}

	// A page of them, and a filter, keep each its own credentials.
	got, total, err = s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_a", WithCredentials: true, Page: patchbay.Page{After: a.ID, Limit: 1}})
	mustOK(t, "ListConnectedAccounts(WithCredentials, page)", err)
	wantIDs(t, "ListConnectedAccounts(WithCredentials, page)", connRecordIDs(got), []string{b.ID})
	if total != 3 {
		t.Errorf("ListConnectedAccounts(WithCredentials, page) total = %d, want 3", total)
	}
	for _, r := range got {
		wantCredentials(t, "ListConnectedAccounts(WithCredentials, page) "+r.ID, r.Credentials, want[r.ID])
	}
	got, _, err = s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_a", WithCredentials: true, UserIDs: []string{"u3"}})
	mustOK(t, "ListConnectedAccounts(WithCredentials, user)", err)
	wantIDs(t, "ListConnectedAccounts(WithCredentials, user)", connRecordIDs(got), []string{c.ID})
	for _, r := range got {
		wantCredentials(t, "ListConnectedAccounts(WithCredentials, user) "+r.ID, r.Credentials, want[r.ID])
	}

	// Without WithCredentials none are read.
	got, total, err = s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_a"})
	mustOK(t, "ListConnectedAccounts", err)
	wantIDs(t, "ListConnectedAccounts", connRecordIDs(got), []string{a.ID, b.ID, c.ID})
	if total != 3 {
		t.Errorf("ListConnectedAccounts total = %d, want 3", total)
	}
	for _, r := range got {
		wantCredentials(t, "ListConnectedAccounts(without WithCredentials) "+r.ID, r.Credentials, nil)
	}

	// GetConnectedAccount always carries them.
	for _, ca := range []*patchbay.ConnectedAccount{a, b, c} {
		rec, err := s.GetConnectedAccount(ctx, "pr_a", ca.ID)
		mustOK(t, "GetConnectedAccount", err)
		wantCredentials(t, "GetConnectedAccount "+ca.ID, rec.Credentials, want[ca.ID])
	}

	// Another project sees neither the accounts nor their credentials.
	got, total, err = s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_b", WithCredentials: true, IDs: []string{a.ID, b.ID}})
	mustOK(t, "ListConnectedAccounts(other project)", err)
	if len(got) != 0 || total != 0 {
		t.Errorf("ListConnectedAccounts(other project) = %v, total %d; want none", connRecordIDs(got), total)
	}

	// Replaced credentials are read anew; deleted ones are gone.
	credA2 := patchbay.StoredSecret{Ref: credA.Ref, Term: 2, Sealed: patchbay.Sealed("sealed-a2")}
	mustOK(t, "PutSecret(replace)", s.PutSecret(ctx, credA2))
	mustOK(t, "DeleteSecret", s.DeleteSecret(ctx, credC.Ref))
	want = map[string]*patchbay.StoredSecret{a.ID: &credA2, b.ID: nil, c.ID: nil}
	got, _, err = s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_a", WithCredentials: true})
	mustOK(t, "ListConnectedAccounts(WithCredentials) after changes", err)
	for _, r := range got {
		wantCredentials(t, "ListConnectedAccounts(WithCredentials) after changes "+r.ID, r.Credentials, want[r.ID])
	}
}

func testLockAuthConfig(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	ac := MustAuthConfig(t, s, "pr_a", "openai", time.Now())
	err := s.InTx(ctx, func(tx patchbay.Store) error { return tx.LockAuthConfig(ctx, "pr_a", ac.ID) })
	mustOK(t, "LockAuthConfig", err)
	err = s.InTx(ctx, func(tx patchbay.Store) error { return tx.LockAuthConfig(ctx, "pr_b", ac.ID) })
	wantCode(t, "LockAuthConfig(other project)", err, patchbay.ENOTFOUND)
}

func testLockConnectedAccount(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	ac := MustAuthConfig(t, s, "pr_a", "openai", time.Now())
	ca := MustConnectedAccount(t, s, ac, "lock-user", time.Now())
	err := s.InTx(ctx, func(tx patchbay.Store) error {
		got, err := tx.LockConnectedAccount(ctx, "pr_a", ca.ID)
		if err == nil && (got.ID != ca.ID || got.AuthConfigID != ac.ID) {
			t.Errorf("LockConnectedAccount returned %s of %s, want %s of %s", got.ID, got.AuthConfigID, ca.ID, ac.ID)
		}
		return err
	})
	mustOK(t, "LockConnectedAccount", err)
	err = s.InTx(ctx, func(tx patchbay.Store) error {
		_, err := tx.LockConnectedAccount(ctx, "pr_b", ca.ID)
		return err
	})
	wantCode(t, "LockConnectedAccount(other project)", err, patchbay.ENOTFOUND)
}

func testLockAPIKey(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	k := MustAPIKey(t, s)
	err := s.InTx(ctx, func(tx patchbay.Store) error {
		got, err := tx.LockAPIKey(ctx, k.OrgID, k.ProjectID, k.ID)
		if err == nil && got.ID != k.ID {
			t.Errorf("LockAPIKey returned %s, want %s", got.ID, k.ID)
		}
		return err
	})
	mustOK(t, "LockAPIKey", err)
	err = s.InTx(ctx, func(tx patchbay.Store) error {
		_, err := tx.LockAPIKey(ctx, "org_other", k.ProjectID, k.ID)
		return err
	})
	wantCode(t, "LockAPIKey(other org)", err, patchbay.ENOTFOUND)
}
