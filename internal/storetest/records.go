package storetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// The contract of the joined reads: auth configs with their connection
// counts and credentials, connected accounts with their auth config's
// flags and credentials, and the label filter.

// mustAccount creates an account through ac with the given labels, user
// and creation time.
func mustAccount(tb testing.TB, s patchbay.Store, ac *patchbay.AuthConfig, user string, created time.Time, labels ...string) *patchbay.ConnectedAccount {
	tb.Helper()
	ca := &patchbay.ConnectedAccount{
		ID: id(patchbay.PrefixConn), ProjectID: ac.ProjectID, AuthConfigID: ac.ID, Toolkit: ac.Toolkit, Mode: ac.Mode,
		UserID: user, Status: patchbay.StatusActive, Labels: labels, CreatedAt: created, UpdatedAt: created,
	}
	if err := s.CreateConnectedAccount(context.Background(), ca); err != nil {
		tb.Fatalf("CreateConnectedAccount: %v", err)
	}
	return ca
}

func wantAuthConfigRecord(tb testing.TB, what string, got *patchbay.AuthConfigRecord, want *patchbay.AuthConfig, connections int, creds *patchbay.StoredSecret) {
	tb.Helper()
	if got.AuthConfig == nil {
		tb.Fatalf("%s: a record without its auth config", what)
	}
	wantAuthConfig(tb, got.AuthConfig, want)
	if got.Connections != connections {
		tb.Errorf("%s: %s Connections = %d, want %d", what, got.ID, got.Connections, connections)
	}
	wantCredentials(tb, what+" "+got.ID, got.Credentials, creds)
}

func testAuthConfigRecords(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	gh := MustAuthConfig(t, s, "pr_a", "github", at(1))
	sl := MustAuthConfig(t, s, "pr_a", "slack", at(2))
	off := &patchbay.AuthConfig{
		ID: id(patchbay.PrefixAuthCfg), ProjectID: "pr_a", Toolkit: "notion", Name: "off", Mode: patchbay.AuthOAuth2,
		Managed: true, Disabled: true, CreatedAt: at(3), UpdatedAt: at(3),
	}
	mustOK(t, "CreateAuthConfig", s.CreateAuthConfig(ctx, off))
	elsewhere := MustAuthConfig(t, s, "pr_b", "github", at(1))

	// Counts: every account through the config, whatever its state.
	ghAccounts := []*patchbay.ConnectedAccount{
		MustConnectedAccount(t, s, gh, "alice", at(10)),
		MustConnectedAccount(t, s, gh, "bob", at(11)),
		MustConnectedAccount(t, s, gh, "carol", at(12)),
	}
	ghAccounts[1].Status, ghAccounts[1].Disabled, ghAccounts[1].UpdatedAt = patchbay.StatusExpired, true, at(13)
	mustOK(t, "UpdateConnectedAccount", s.UpdateConnectedAccount(ctx, ghAccounts[1]))
	MustConnectedAccount(t, s, sl, "alice", at(14))
	MustConnectedAccount(t, s, elsewhere, "alice", at(15))
	MustConnectedAccount(t, s, elsewhere, "bob", at(16))
	// An account of another project naming gh (the Service never makes
	// one; the schema allows it) does not count for gh.
	stray := &patchbay.ConnectedAccount{
		ID: id(patchbay.PrefixConn), ProjectID: "pr_b", AuthConfigID: gh.ID, Toolkit: gh.Toolkit, Mode: gh.Mode,
		UserID: "mallory", Status: patchbay.StatusActive, CreatedAt: at(17), UpdatedAt: at(17),
	}
	mustOK(t, "CreateConnectedAccount(another project's, naming gh)", s.CreateConnectedAccount(ctx, stray))

	// Credentials: at CredentialsRef only; not another field of the same
	// record, not the same record ID under another project.
	ghCreds := patchbay.StoredSecret{Ref: patchbay.CredentialsRef("pr_a", gh.ID), Term: 3, Sealed: patchbay.Sealed("gh-creds\x00\xff")}
	offCreds := patchbay.StoredSecret{Ref: patchbay.CredentialsRef("pr_a", off.ID), Term: 1, Sealed: patchbay.Sealed("off-creds")}
	elsewhereCreds := patchbay.StoredSecret{Ref: patchbay.CredentialsRef("pr_b", elsewhere.ID), Term: 2, Sealed: patchbay.Sealed("b-creds")}
	for _, st := range []patchbay.StoredSecret{
		ghCreds, offCreds, elsewhereCreds,
		{Ref: patchbay.SecretRef{ProjectID: "pr_a", Record: sl.ID, Field: "webhook_secret"}, Term: 1, Sealed: patchbay.Sealed("not credentials")},
		{Ref: patchbay.CredentialsRef("pr_b", sl.ID), Term: 1, Sealed: patchbay.Sealed("another project's")},
		{Ref: patchbay.CredentialsRef("", sl.ID), Term: 1, Sealed: patchbay.Sealed("no project's")},
	} {
		mustOK(t, "PutSecret", s.PutSecret(ctx, st))
	}

	type want struct {
		ac    *patchbay.AuthConfig
		conns int
		creds *patchbay.StoredSecret
	}
	wants := map[string]want{
		gh.ID:        {gh, 3, &ghCreds},
		sl.ID:        {sl, 1, nil},
		off.ID:       {off, 0, &offCreds},
		elsewhere.ID: {elsewhere, 2, &elsewhereCreds},
	}
	get := func(what, project string, ac *patchbay.AuthConfig) {
		t.Helper()
		got, err := s.GetAuthConfigRecord(ctx, project, ac.ID)
		mustOK(t, what, err)
		w := wants[ac.ID]
		wantAuthConfigRecord(t, what, got, w.ac, w.conns, w.creds)
	}
	list := func(what string, f patchbay.AuthConfigFilter, wantIDs []string, wantTotal int) {
		t.Helper()
		got, total, err := s.ListAuthConfigs(ctx, f)
		mustOK(t, what, err)
		if ids := authConfigRecordIDs(got); !slices.Equal(ids, wantIDs) {
			t.Errorf("%s = %q, want %q", what, ids, wantIDs)
		}
		if total != wantTotal {
			t.Errorf("%s: total = %d, want %d", what, total, wantTotal)
		}
		for _, r := range got {
			if w, ok := wants[r.ID]; ok {
				wantAuthConfigRecord(t, what, r, w.ac, w.conns, w.creds)
			}
		}
	}
	for _, ac := range []*patchbay.AuthConfig{gh, sl, off} {
		get("GetAuthConfigRecord", "pr_a", ac)
	}
	get("GetAuthConfigRecord(pr_b)", "pr_b", elsewhere)
	for _, tc := range []struct{ project, id string }{{"pr_b", gh.ID}, {"pr_a", elsewhere.ID}, {"pr_a", "ac_unknown"}, {"", gh.ID}} {
		_, err := s.GetAuthConfigRecord(ctx, tc.project, tc.id)
		wantCode(t, "GetAuthConfigRecord("+tc.project+", "+tc.id+")", err, patchbay.ENOTFOUND)
	}

	list("ListAuthConfigs", patchbay.AuthConfigFilter{ProjectID: "pr_a", ShowDisabled: true}, []string{gh.ID, sl.ID, off.ID}, 3)
	list("ListAuthConfigs(enabled)", patchbay.AuthConfigFilter{ProjectID: "pr_a"}, []string{gh.ID, sl.ID}, 2)
	list("ListAuthConfigs(page)", patchbay.AuthConfigFilter{ProjectID: "pr_a", ShowDisabled: true, Page: patchbay.Page{After: gh.ID, Limit: 1}}, []string{sl.ID}, 3)
	list("ListAuthConfigs(desc)", patchbay.AuthConfigFilter{ProjectID: "pr_a", ShowDisabled: true, Page: patchbay.Page{Desc: true, Limit: 2}}, []string{off.ID, sl.ID}, 3)
	list("ListAuthConfigs(offset)", patchbay.AuthConfigFilter{ProjectID: "pr_a", ShowDisabled: true, Page: patchbay.Page{Offset: 2, Limit: 2}}, []string{off.ID}, 3)
	list("ListAuthConfigs(offset past the end)", patchbay.AuthConfigFilter{ProjectID: "pr_a", ShowDisabled: true, Page: patchbay.Page{Offset: 5, Limit: 2}}, nil, 3)
	list("ListAuthConfigs(managed)", patchbay.AuthConfigFilter{ProjectID: "pr_a", ShowDisabled: true, Managed: ptr(true)}, []string{off.ID}, 1)
	list("ListAuthConfigs(toolkit)", patchbay.AuthConfigFilter{ProjectID: "pr_a", Toolkit: "github"}, []string{gh.ID}, 1)
	list("ListAuthConfigs(pr_b)", patchbay.AuthConfigFilter{ProjectID: "pr_b"}, []string{elsewhere.ID}, 1)
	list("ListAuthConfigs(unknown project)", patchbay.AuthConfigFilter{ProjectID: "pr_none", ShowDisabled: true}, nil, 0)
	// A cursor of another project matches nothing.
	list("ListAuthConfigs(cursor of pr_b)", patchbay.AuthConfigFilter{ProjectID: "pr_a", ShowDisabled: true, Page: patchbay.Page{After: elsewhere.ID}}, nil, 3)

	// Counts and credentials follow writes.
	extra := MustConnectedAccount(t, s, sl, "dave", at(20))
	mustOK(t, "DeleteConnectedAccount", s.DeleteConnectedAccount(ctx, "pr_a", ghAccounts[0].ID))
	ghCreds2 := patchbay.StoredSecret{Ref: ghCreds.Ref, Term: 4, Sealed: patchbay.Sealed("gh-creds-2")}
	mustOK(t, "PutSecret(replace)", s.PutSecret(ctx, ghCreds2))
	mustOK(t, "DeleteSecret", s.DeleteSecret(ctx, offCreds.Ref))
	slCreds := patchbay.StoredSecret{Ref: patchbay.CredentialsRef("pr_a", sl.ID), Term: 5, Sealed: patchbay.Sealed("sl-creds")}
	mustOK(t, "PutSecret", s.PutSecret(ctx, slCreds))
	wants[gh.ID] = want{gh, 2, &ghCreds2}
	wants[sl.ID] = want{sl, 2, &slCreds}
	wants[off.ID] = want{off, 0, nil}
	for _, ac := range []*patchbay.AuthConfig{gh, sl, off} {
		get("GetAuthConfigRecord after writes", "pr_a", ac)
	}
	list("ListAuthConfigs after writes", patchbay.AuthConfigFilter{ProjectID: "pr_a", ShowDisabled: true}, []string{gh.ID, sl.ID, off.ID}, 3)
	get("GetAuthConfigRecord(pr_b) after writes", "pr_b", elsewhere)

	// Deleting an auth config takes its count along, and leaves the
	// others' alone.
	mustOK(t, "DeleteAuthConfig", s.DeleteAuthConfig(ctx, "pr_a", sl.ID))
	_, err := s.GetAuthConfigRecord(ctx, "pr_a", sl.ID)
	wantCode(t, "GetAuthConfigRecord(deleted)", err, patchbay.ENOTFOUND)
	_, err = s.GetConnectedAccount(ctx, "pr_a", extra.ID)
	wantCode(t, "GetConnectedAccount(of a deleted config)", err, patchbay.ENOTFOUND)
	list("ListAuthConfigs after a delete", patchbay.AuthConfigFilter{ProjectID: "pr_a", ShowDisabled: true}, []string{gh.ID, off.ID}, 2)

	// GetAuthConfigRecord reads inside a transaction too.
	err = s.InTx(ctx, func(tx patchbay.Store) error {
		MustConnectedAccount(t, tx, gh, "erin", at(30))
		got, err := tx.GetAuthConfigRecord(ctx, "pr_a", gh.ID)
		mustOK(t, "GetAuthConfigRecord in tx", err)
		if got.Connections != 3 {
			t.Errorf("GetAuthConfigRecord in tx: Connections = %d, want 3 (the tx's own account counted)", got.Connections)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want %v", err, errRollback)
	}
	get("GetAuthConfigRecord after rollback", "pr_a", gh)
}

func wantFlags(tb testing.TB, what string, got *patchbay.ConnectionRecord, managed, disabled bool) {
	tb.Helper()
	if got.AuthConfigManaged != managed || got.AuthConfigDisabled != disabled {
		tb.Errorf("%s: %s AuthConfigManaged, AuthConfigDisabled = %v, %v; want %v, %v", what, got.ID, got.AuthConfigManaged, got.AuthConfigDisabled, managed, disabled)
	}
}

func testConnectionRecordFlags(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	managed := &patchbay.AuthConfig{
		ID: id(patchbay.PrefixAuthCfg), ProjectID: "pr_a", Toolkit: "github", Name: "managed", Mode: patchbay.AuthOAuth2,
		Managed: true, CreatedAt: at(1), UpdatedAt: at(1),
	}
	mustOK(t, "CreateAuthConfig", s.CreateAuthConfig(ctx, managed))
	own := MustAuthConfig(t, s, "pr_a", "slack", at(2))
	m1 := MustConnectedAccount(t, s, managed, "alice", at(10))
	o1 := MustConnectedAccount(t, s, own, "alice", at(11))
	m2 := MustConnectedAccount(t, s, managed, "bob", at(12))

	type flags struct{ managed, disabled bool }
	check := func(what string, want map[string]flags) {
		t.Helper()
		for acct, w := range want {
			got, err := s.GetConnectedAccount(ctx, "pr_a", acct)
			mustOK(t, "GetConnectedAccount "+what, err)
			wantFlags(t, "GetConnectedAccount "+what, got, w.managed, w.disabled)
		}
		for _, withCreds := range []bool{false, true} {
			got, total, err := s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_a", WithCredentials: withCreds})
			mustOK(t, "ListConnectedAccounts "+what, err)
			if len(got) != len(want) || total != len(want) {
				t.Errorf("ListConnectedAccounts %s = %q, total %d; want %d accounts", what, connRecordIDs(got), total, len(want))
			}
			for _, r := range got {
				w := want[r.ID]
				wantFlags(t, "ListConnectedAccounts "+what, r, w.managed, w.disabled)
			}
		}
	}
	check("at first", map[string]flags{m1.ID: {true, false}, o1.ID: {false, false}, m2.ID: {true, false}})

	// Disabling the auth config shows on its accounts at once; Managed is
	// not something UpdateAuthConfig changes, so it stays.
	upd := *managed
	upd.Disabled, upd.Managed, upd.UpdatedAt = true, false, at(20)
	mustOK(t, "UpdateAuthConfig", s.UpdateAuthConfig(ctx, &upd))
	check("after disabling the managed config", map[string]flags{m1.ID: {true, true}, o1.ID: {false, false}, m2.ID: {true, true}})

	// The account's own Disabled is another flag, and the Disabled filter
	// is about it, not about the auth config.
	got, err := s.GetConnectedAccount(ctx, "pr_a", m1.ID)
	mustOK(t, "GetConnectedAccount", err)
	if got.Disabled {
		t.Errorf("account %s Disabled = true after its auth config was disabled, want false", m1.ID)
	}
	recs, total, err := s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_a", Disabled: ptr(false)})
	mustOK(t, "ListConnectedAccounts(enabled accounts)", err)
	wantIDs(t, "ListConnectedAccounts(enabled accounts)", connRecordIDs(recs), []string{m1.ID, o1.ID, m2.ID})
	if total != 3 {
		t.Errorf("ListConnectedAccounts(enabled accounts) total = %d, want 3", total)
	}

	o1.Disabled, o1.UpdatedAt = true, at(21)
	mustOK(t, "UpdateConnectedAccount", s.UpdateConnectedAccount(ctx, o1))
	got, err = s.GetConnectedAccount(ctx, "pr_a", o1.ID)
	mustOK(t, "GetConnectedAccount", err)
	if !got.Disabled {
		t.Errorf("account %s Disabled = false, want true", o1.ID)
	}
	wantFlags(t, "GetConnectedAccount(disabled account)", got, false, false)
	recs, total, err = s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_a", Disabled: ptr(true)})
	mustOK(t, "ListConnectedAccounts(disabled accounts)", err)
	wantIDs(t, "ListConnectedAccounts(disabled accounts)", connRecordIDs(recs), []string{o1.ID})
	if total != 1 {
		t.Errorf("ListConnectedAccounts(disabled accounts) total = %d, want 1", total)
	}
	if len(recs) == 1 {
		wantFlags(t, "ListConnectedAccounts(disabled accounts)", recs[0], false, false)
	}

	// Enabled again, and the other config disabled.
	upd.Disabled, upd.UpdatedAt = false, at(30)
	mustOK(t, "UpdateAuthConfig", s.UpdateAuthConfig(ctx, &upd))
	ownOff := *own
	ownOff.Disabled, ownOff.UpdatedAt = true, at(31)
	mustOK(t, "UpdateAuthConfig", s.UpdateAuthConfig(ctx, &ownOff))
	check("after swapping", map[string]flags{m1.ID: {true, false}, o1.ID: {false, true}, m2.ID: {true, false}})

	// An update inside a transaction is seen by the transaction's reads.
	err = s.InTx(ctx, func(tx patchbay.Store) error {
		upd.Disabled, upd.UpdatedAt = true, at(40)
		mustOK(t, "UpdateAuthConfig in tx", tx.UpdateAuthConfig(ctx, &upd))
		got, err := tx.GetConnectedAccount(ctx, "pr_a", m2.ID)
		mustOK(t, "GetConnectedAccount in tx", err)
		wantFlags(t, "GetConnectedAccount in tx", got, true, true)
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want %v", err, errRollback)
	}
	check("after a rolled-back update", map[string]flags{m1.ID: {true, false}, o1.ID: {false, true}, m2.ID: {true, false}})
}

func testListConnectedAccountsLabels(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	gh := MustAuthConfig(t, s, "pr_a", "github", at(1))
	sl := MustAuthConfig(t, s, "pr_a", "slack", at(1))
	other := MustAuthConfig(t, s, "pr_b", "github", at(1))
	n := 0
	mk := func(ac *patchbay.AuthConfig, user string, labels ...string) *patchbay.ConnectedAccount {
		t.Helper()
		n++
		return mustAccount(t, s, ac, user, at(10+n), labels...)
	}
	a := mk(gh, "alice", "a")
	ab := mk(gh, "alice", "ab")
	quoted := mk(gh, "bob", `"a"`)
	inner := mk(gh, "bob", `x"a"y`, "b")
	slashes := mk(gh, "carol", `back\slash`, `a\`)
	unicode := mk(gh, "carol", "ünï", "日本", "emoji 🎉")
	none := mk(gh, "carol")
	upper := mk(gh, "dave", "A")
	ab2 := mk(sl, "bob", "a", "b")
	html := mk(gh, "dave", "<&>")
	escaped := mk(gh, "dave", `\u0061`)
	comma := mk(gh, "erin", "a,b")
	spaced := mk(gh, "erin", " a", "a ")
	wild := mk(gh, "erin", "%", "_")
	jsonish := mk(gh, "erin", `["a"]`, `{"a":1}`)
	dup := mk(sl, "frank", "a", "a")
	mustAccount(t, s, other, "alice", at(5), "a", "b") // another project: never listed
	// ab2 is disabled and expired, for combined filters.
	ab2.Status, ab2.Disabled, ab2.UpdatedAt = patchbay.StatusExpired, true, at(50)
	mustOK(t, "UpdateConnectedAccount", s.UpdateConnectedAccount(ctx, ab2))
	all := map[string]*patchbay.ConnectedAccount{}
	for _, ca := range []*patchbay.ConnectedAccount{a, ab, quoted, inner, slashes, unicode, none, upper, ab2, html, escaped, comma, spaced, wild, jsonish, dup} {
		all[ca.ID] = ca
	}

	type C = []*patchbay.ConnectedAccount
	tests := []struct {
		name string
		f    patchbay.ConnectionFilter
		want C
	}{
		{"exact", patchbay.ConnectionFilter{Labels: []string{"a"}}, C{a, ab2, dup}},
		{"not a prefix", patchbay.ConnectionFilter{Labels: []string{"ab"}}, C{ab}},
		{"quotes are part of the label", patchbay.ConnectionFilter{Labels: []string{`"a"`}}, C{quoted}},
		{"quotes inside a label", patchbay.ConnectionFilter{Labels: []string{`x"a"y`}}, C{inner}},
		{"a fragment of a quoted label", patchbay.ConnectionFilter{Labels: []string{`a"`}}, nil},
		{"any of", patchbay.ConnectionFilter{Labels: []string{"a", "b"}}, C{a, inner, ab2, dup}},
		{"any of, one unknown", patchbay.ConnectionFilter{Labels: []string{"nope", "ab"}}, C{ab}},
		{"repeated in the filter", patchbay.ConnectionFilter{Labels: []string{"b", "b"}}, C{inner, ab2}},
		{"backslashes", patchbay.ConnectionFilter{Labels: []string{`back\slash`}}, C{slashes}},
		{"trailing backslash", patchbay.ConnectionFilter{Labels: []string{`a\`}}, C{slashes}},
		{"a backslash alone", patchbay.ConnectionFilter{Labels: []string{`\`}}, nil},
		{"an escape's text is not its character", patchbay.ConnectionFilter{Labels: []string{`\u0061`}}, C{escaped}},
		{"unicode", patchbay.ConnectionFilter{Labels: []string{"日本"}}, C{unicode}},
		{"unicode, accents", patchbay.ConnectionFilter{Labels: []string{"ünï"}}, C{unicode}},
		{"unicode, accents stripped", patchbay.ConnectionFilter{Labels: []string{"uni"}}, nil},
		{"emoji", patchbay.ConnectionFilter{Labels: []string{"emoji 🎉"}}, C{unicode}},
		{"case matters", patchbay.ConnectionFilter{Labels: []string{"A"}}, C{upper}},
		{"HTML characters", patchbay.ConnectionFilter{Labels: []string{"<&>"}}, C{html}},
		{"a comma is not a separator", patchbay.ConnectionFilter{Labels: []string{"a,b"}}, C{comma}},
		{"spaces matter", patchbay.ConnectionFilter{Labels: []string{" a"}}, C{spaced}},
		{"LIKE wildcards are literal", patchbay.ConnectionFilter{Labels: []string{"%"}}, C{wild}},
		{"LIKE wildcard _", patchbay.ConnectionFilter{Labels: []string{"_"}}, C{wild}},
		{"JSON-looking labels", patchbay.ConnectionFilter{Labels: []string{`["a"]`}}, C{jsonish}},
		{"JSON-looking labels, object", patchbay.ConnectionFilter{Labels: []string{`{"a":1}`}}, C{jsonish}},
		{"JSON array syntax", patchbay.ConnectionFilter{Labels: []string{`[`}}, nil},
		{"empty label", patchbay.ConnectionFilter{Labels: []string{""}}, nil},
		{"unknown", patchbay.ConnectionFilter{Labels: []string{"nope"}}, nil},
		{"empty list matches all", patchbay.ConnectionFilter{Labels: []string{}}, C{a, ab, quoted, inner, slashes, unicode, none, upper, ab2, html, escaped, comma, spaced, wild, jsonish, dup}},
		{"with toolkit", patchbay.ConnectionFilter{Labels: []string{"a", "b"}, Toolkits: []string{"GitHub"}}, C{a, inner}},
		{"with auth config", patchbay.ConnectionFilter{Labels: []string{"a"}, AuthConfigIDs: []string{sl.ID}}, C{ab2, dup}},
		{"with user", patchbay.ConnectionFilter{Labels: []string{"a", "b", `"a"`}, UserIDs: []string{"bob"}}, C{quoted, inner, ab2}},
		{"with status", patchbay.ConnectionFilter{Labels: []string{"a"}, Statuses: []patchbay.ConnectionStatus{patchbay.StatusActive}}, C{a, dup}},
		{"with disabled", patchbay.ConnectionFilter{Labels: []string{"a", "b"}, Disabled: ptr(true)}, C{ab2}},
		{"with enabled", patchbay.ConnectionFilter{Labels: []string{"a", "b"}, Disabled: ptr(false)}, C{a, inner, dup}},
		{"with ids", patchbay.ConnectionFilter{Labels: []string{"a"}, IDs: []string{a.ID, ab.ID, dup.ID}}, C{a, dup}},
		{"with credentials", patchbay.ConnectionFilter{Labels: []string{"b"}, WithCredentials: true}, C{inner, ab2}},
		{"newest first", patchbay.ConnectionFilter{Labels: []string{"a", "b"}, Page: patchbay.Page{Desc: true}}, C{dup, ab2, inner, a}},
	}
	for _, tt := range tests {
		tt.f.ProjectID = "pr_a"
		got, total, err := s.ListConnectedAccounts(ctx, tt.f)
		mustOK(t, "ListConnectedAccounts: "+tt.name, err)
		wantIDs(t, "ListConnectedAccounts: "+tt.name, connRecordIDs(got), accountIDs(tt.want))
		if total != len(tt.want) {
			t.Errorf("ListConnectedAccounts: %s: total = %d, want %d", tt.name, total, len(tt.want))
		}
		for _, r := range got {
			if w := all[r.ID]; w != nil {
				wantAccount(t, r.ConnectedAccount, w) // the labels come back as stored
			}
		}
	}

	// The other project's labels are its own.
	got, total, err := s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_b", Labels: []string{"b"}})
	mustOK(t, "ListConnectedAccounts(pr_b)", err)
	if len(got) != 1 || total != 1 {
		t.Errorf("ListConnectedAccounts(pr_b, label b) = %q, total %d; want its one account", connRecordIDs(got), total)
	}

	// Labels are filtered as they are now, after an update.
	ab.Labels, ab.UpdatedAt = []string{"a"}, at(60)
	mustOK(t, "UpdateConnectedAccount", s.UpdateConnectedAccount(ctx, ab))
	a.Labels, a.UpdatedAt = nil, at(60)
	mustOK(t, "UpdateConnectedAccount", s.UpdateConnectedAccount(ctx, a))
	got, total, err = s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_a", Labels: []string{"a"}})
	mustOK(t, "ListConnectedAccounts(after relabelling)", err)
	wantIDs(t, "ListConnectedAccounts(after relabelling)", connRecordIDs(got), []string{ab.ID, ab2.ID, dup.ID})
	if total != 3 {
		t.Errorf("ListConnectedAccounts(after relabelling) total = %d, want 3", total)
	}

	// A label holding U+0000 is refused, by create and by update, on every
	// store: PostgreSQL's jsonb cannot hold it, and one such account would
	// break every label-filtered listing of the project.
	nul := &patchbay.ConnectedAccount{
		ID: id(patchbay.PrefixConn), ProjectID: "pr_a", AuthConfigID: gh.ID, Toolkit: gh.Toolkit, Mode: gh.Mode,
		UserID: "zed", Status: patchbay.StatusActive, Labels: []string{"ok", "nul\x00here"}, CreatedAt: at(70), UpdatedAt: at(70),
	}
	wantCode(t, "CreateConnectedAccount(label with U+0000)", s.CreateConnectedAccount(ctx, nul), patchbay.EINVALID)
	_, err = s.GetConnectedAccount(ctx, "pr_a", nul.ID)
	wantCode(t, "GetConnectedAccount(refused)", err, patchbay.ENOTFOUND)
	relabel := *ab
	relabel.Labels, relabel.UpdatedAt = []string{"\x00"}, at(71)
	wantCode(t, "UpdateConnectedAccount(label with U+0000)", s.UpdateConnectedAccount(ctx, &relabel), patchbay.EINVALID)
	rec, err := s.GetConnectedAccount(ctx, "pr_a", ab.ID)
	mustOK(t, "GetConnectedAccount after a refused update", err)
	wantAccount(t, rec.ConnectedAccount, ab)
	got, total, err = s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_a", Labels: []string{"a"}})
	mustOK(t, "ListConnectedAccounts(after refused labels)", err)
	wantIDs(t, "ListConnectedAccounts(after refused labels)", connRecordIDs(got), []string{ab.ID, ab2.ID, dup.ID})
	if total != 3 {
		t.Errorf("ListConnectedAccounts(after refused labels) total = %d, want 3", total)
	}
}

// testListConnectedAccountsLabelPaging pages through a label filter by
// cursor and by offset: every page's total is the filter's, not the page's.
func testListConnectedAccountsLabelPaging(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	gh := MustAuthConfig(t, s, "pr_a", "github", at(1))
	var match, miss []*patchbay.ConnectedAccount
	// Created out of order, matches and misses interleaved, some at the
	// same instant (the ID breaks the tie).
	for i, created := range []int{7, 3, 9, 1, 5, 5, 2, 8, 5, 4, 6} {
		var labels []string
		switch i % 3 {
		case 0:
			labels = []string{"team:core"}
		case 1:
			labels = []string{"team:core-x", "team"}
		case 2:
			labels = []string{"other", "team:core"}
		}
		ca := mustAccount(t, s, gh, "user"+strconv.Itoa(i%2), at(10+created), labels...)
		if slices.Contains(labels, "team:core") {
			match = append(match, ca)
		} else {
			miss = append(miss, ca)
		}
	}
	mustAccount(t, s, MustAuthConfig(t, s, "pr_b", "github", at(1)), "user0", at(10), "team:core") // another project
	byCreation := func(cas []*patchbay.ConnectedAccount, desc bool) []string {
		sorted := slices.Clone(cas)
		slices.SortFunc(sorted, func(x, y *patchbay.ConnectedAccount) int {
			c := x.CreatedAt.Compare(y.CreatedAt)
			if c == 0 {
				c = compareStrings(x.ID, y.ID)
			}
			if desc {
				c = -c
			}
			return c
		})
		return accountIDs(sorted)
	}
	filter := func(p patchbay.Page) patchbay.ConnectionFilter {
		return patchbay.ConnectionFilter{ProjectID: "pr_a", Labels: []string{"team:core"}, Page: p}
	}
	if len(match) != 7 || len(miss) != 4 {
		t.Fatalf("fixture: %d matches, %d misses", len(match), len(miss))
	}

	for _, desc := range []bool{false, true} {
		want := byCreation(match, desc)
		for _, limit := range []int{1, 2, 3, 7, 10} {
			name := "keyset, limit " + strconv.Itoa(limit)
			if desc {
				name += ", newest first"
			}
			var paged []string
			after := ""
			for range 20 {
				page, total, err := s.ListConnectedAccounts(ctx, filter(patchbay.Page{After: after, Limit: limit, Desc: desc}))
				mustOK(t, name, err)
				if total != len(match) {
					t.Errorf("%s: after %q: total = %d, want %d", name, after, total, len(match))
				}
				if len(page) > limit {
					t.Fatalf("%s: page of %d, limit %d", name, len(page), limit)
				}
				if len(page) == 0 {
					break
				}
				paged = append(paged, connRecordIDs(page)...)
				after = page[len(page)-1].ID
			}
			wantIDs(t, name, paged, want)
		}

		for _, limit := range []int{1, 2, 3, 7} {
			name := "offset, limit " + strconv.Itoa(limit)
			if desc {
				name += ", newest first"
			}
			var paged []string
			for offset := 0; offset < len(match)+limit+1; offset += limit {
				page, total, err := s.ListConnectedAccounts(ctx, filter(patchbay.Page{Offset: offset, Limit: limit, Desc: desc}))
				mustOK(t, name, err)
				if total != len(match) {
					t.Errorf("%s: offset %d: total = %d, want %d", name, offset, total, len(match))
				}
				wantIDs(t, name+", offset "+strconv.Itoa(offset), connRecordIDs(page), want[min(offset, len(want)):min(offset+limit, len(want))])
				paged = append(paged, connRecordIDs(page)...)
			}
			wantIDs(t, name, paged, want)
		}

		// A cursor naming an account the filter excludes still places
		// the page by its position.
		for _, cur := range miss {
			name := "after an excluded account"
			all := append(slices.Clone(match), cur)
			order := byCreation(all, desc)
			i := slices.Index(order, cur.ID)
			wantPage := slices.DeleteFunc(slices.Clone(order[i+1:]), func(id string) bool { return id == cur.ID })
			page, total, err := s.ListConnectedAccounts(ctx, filter(patchbay.Page{After: cur.ID, Desc: desc}))
			mustOK(t, name, err)
			wantIDs(t, name, connRecordIDs(page), wantPage)
			if total != len(match) {
				t.Errorf("%s: total = %d, want %d", name, total, len(match))
			}
		}
	}

	// Combined with another filter and credentials, paged.
	user0 := slices.DeleteFunc(slices.Clone(match), func(ca *patchbay.ConnectedAccount) bool { return ca.UserID != "user0" })
	for _, ca := range user0 {
		mustOK(t, "PutSecret", s.PutSecret(ctx, patchbay.StoredSecret{Ref: patchbay.CredentialsRef("pr_a", ca.ID), Term: 1, Sealed: patchbay.Sealed("c-" + ca.ID)}))
	}
	want := byCreation(user0, false)
	var paged []string
	after := ""
	for range 20 {
		f := filter(patchbay.Page{After: after, Limit: 2})
		f.UserIDs, f.WithCredentials = []string{"user0"}, true
		page, total, err := s.ListConnectedAccounts(ctx, f)
		mustOK(t, "keyset with user and credentials", err)
		if total != len(user0) {
			t.Errorf("keyset with user and credentials: total = %d, want %d", total, len(user0))
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if r.Credentials == nil || string(r.Credentials.Sealed) != "c-"+r.ID {
				t.Errorf("keyset with user and credentials: %s credentials = %v, want its own", r.ID, r.Credentials)
			}
		}
		paged = append(paged, connRecordIDs(page)...)
		after = page[len(page)-1].ID
	}
	wantIDs(t, "keyset with user and credentials", paged, want)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// testListConnectedAccountsPastTheEnd: an empty page still reports the
// filter's total (it cannot ride on a row).
func testListConnectedAccountsPastTheEnd(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	gh := MustAuthConfig(t, s, "pr_a", "github", at(1))
	sl := MustAuthConfig(t, s, "pr_a", "slack", at(1))
	c1 := mustAccount(t, s, gh, "alice", at(11), "x")
	c2 := mustAccount(t, s, sl, "alice", at(12))
	c3 := mustAccount(t, s, gh, "bob", at(13), "x", "y")
	elsewhere := mustAccount(t, s, MustAuthConfig(t, s, "pr_b", "github", at(1)), "alice", at(14), "x")

	tests := []struct {
		name  string
		f     patchbay.ConnectionFilter
		want  []*patchbay.ConnectedAccount
		total int
	}{
		{"after the last", patchbay.ConnectionFilter{Page: patchbay.Page{After: c3.ID, Limit: 2}}, nil, 3},
		{"after the last, no limit", patchbay.ConnectionFilter{Page: patchbay.Page{After: c3.ID}}, nil, 3},
		{"after the first, newest first", patchbay.ConnectionFilter{Page: patchbay.Page{After: c1.ID, Desc: true, Limit: 2}}, nil, 3},
		{"offset past the end", patchbay.ConnectionFilter{Page: patchbay.Page{Offset: 3, Limit: 2}}, nil, 3},
		{"offset far past the end", patchbay.ConnectionFilter{Page: patchbay.Page{Offset: 1000, Limit: 10}}, nil, 3},
		{"offset at the last", patchbay.ConnectionFilter{Page: patchbay.Page{Offset: 2, Limit: 2}}, []*patchbay.ConnectedAccount{c3}, 3},
		{"labels, after the last match", patchbay.ConnectionFilter{Labels: []string{"x"}, Page: patchbay.Page{After: c3.ID, Limit: 1}}, nil, 2},
		{"labels, offset past the end", patchbay.ConnectionFilter{Labels: []string{"x"}, Page: patchbay.Page{Offset: 2, Limit: 1}}, nil, 2},
		{"labels and toolkit, past the end", patchbay.ConnectionFilter{Labels: []string{"y", "x"}, Toolkits: []string{"github"}, Page: patchbay.Page{After: c3.ID}}, nil, 2},
		{"user, after the last", patchbay.ConnectionFilter{UserIDs: []string{"alice"}, Page: patchbay.Page{After: c2.ID, Limit: 5}}, nil, 2},
		{"with credentials, past the end", patchbay.ConnectionFilter{WithCredentials: true, Page: patchbay.Page{Offset: 5, Limit: 5}}, nil, 3},
		{"unknown cursor", patchbay.ConnectionFilter{Page: patchbay.Page{After: "ca_unknown", Limit: 5}}, nil, 3},
		{"another project's cursor", patchbay.ConnectionFilter{Page: patchbay.Page{After: elsewhere.ID, Limit: 5}}, nil, 3},
		{"nothing matches", patchbay.ConnectionFilter{Labels: []string{"z"}, Page: patchbay.Page{Limit: 5}}, nil, 0},
	}
	for _, tt := range tests {
		tt.f.ProjectID = "pr_a"
		got, total, err := s.ListConnectedAccounts(ctx, tt.f)
		mustOK(t, "ListConnectedAccounts: "+tt.name, err)
		wantIDs(t, "ListConnectedAccounts: "+tt.name, connRecordIDs(got), accountIDs(tt.want))
		if total != tt.total {
			t.Errorf("ListConnectedAccounts: %s: total = %d, want %d", tt.name, total, tt.total)
		}
	}

	// An empty project.
	got, total, err := s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_none", Page: patchbay.Page{Limit: 5}})
	mustOK(t, "ListConnectedAccounts(empty project)", err)
	if len(got) != 0 || total != 0 {
		t.Errorf("ListConnectedAccounts(empty project) = %q, total %d; want none", connRecordIDs(got), total)
	}

	// Past the end inside a transaction, which sees its own writes.
	err = s.InTx(ctx, func(tx patchbay.Store) error {
		mustAccount(t, tx, gh, "carol", at(5), "x")
		got, total, err := tx.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_a", Labels: []string{"x"}, Page: patchbay.Page{After: c3.ID}})
		mustOK(t, "ListConnectedAccounts in tx", err)
		if len(got) != 0 || total != 3 {
			t.Errorf("ListConnectedAccounts in tx past the end = %q, total %d; want none, 3", connRecordIDs(got), total)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want %v", err, errRollback)
	}
	counts := map[string]int{}
	recs, _, err := s.ListAuthConfigs(ctx, patchbay.AuthConfigFilter{ProjectID: "pr_a"})
	mustOK(t, "ListAuthConfigs", err)
	for _, r := range recs {
		counts[r.ID] = r.Connections
	}
	if want := map[string]int{gh.ID: 2, sl.ID: 1}; !maps.Equal(counts, want) {
		t.Errorf("ListAuthConfigs connections after rollback = %v, want %v", counts, want)
	}
}

// testConnectionTotals: the total of a listing filtered only by project
// and auth configs may come from counts the store keeps as it writes; it
// must agree with the accounts actually there after every kind of write,
// failed and rolled-back ones included.
func testConnectionTotals(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	gh := MustAuthConfig(t, s, "pr_a", "github", at(1))
	sl := MustAuthConfig(t, s, "pr_a", "slack", at(2))
	other := MustAuthConfig(t, s, "pr_b", "github", at(3))
	allStatuses := patchbay.ConnectionStatuses

	check := func(step string, want map[string]int) {
		t.Helper()
		// Each auth config alone, both together, and the whole project,
		// each by the bare filter and by one that must count accounts.
		sets := [][]string{nil, {gh.ID}, {sl.ID}, {gh.ID, sl.ID}, {gh.ID, other.ID}, {other.ID}, {"ac_unknown"}}
		for _, acs := range sets {
			// Listed in pr_a: pr_b's auth config names none of its
			// accounts, and a deleted one (-1) none either.
			wantTotal := 0
			for _, ac := range []string{gh.ID, sl.ID} {
				if acs == nil || slices.Contains(acs, ac) {
					wantTotal += max(want[ac], 0)
				}
			}
			for _, page := range []patchbay.Page{{}, {Limit: 1}, {Offset: 1, Limit: 1}, {Offset: 100, Limit: 1}} {
				for _, counted := range []bool{false, true} {
					f := patchbay.ConnectionFilter{ProjectID: "pr_a", AuthConfigIDs: acs, Page: page}
					if counted {
						f.Statuses = allStatuses
					}
					got, total, err := s.ListConnectedAccounts(ctx, f)
					mustOK(t, step+": ListConnectedAccounts", err)
					if total != wantTotal {
						t.Errorf("%s: ListConnectedAccounts(auth configs %q, page %+v, statuses %v) total = %d, want %d", step, acs, page, counted, total, wantTotal)
					}
					if page == (patchbay.Page{}) && len(got) != wantTotal {
						t.Errorf("%s: ListConnectedAccounts(auth configs %q) listed %d, want %d", step, acs, len(got), wantTotal)
					}
				}
			}
		}
		for _, ac := range []*patchbay.AuthConfig{gh, sl} {
			rec, err := s.GetAuthConfigRecord(ctx, "pr_a", ac.ID)
			if want[ac.ID] < 0 { // deleted
				wantCode(t, step+": GetAuthConfigRecord(deleted)", err, patchbay.ENOTFOUND)
				continue
			}
			mustOK(t, step+": GetAuthConfigRecord", err)
			if rec.Connections != want[ac.ID] {
				t.Errorf("%s: GetAuthConfigRecord(%s) Connections = %d, want %d", step, ac.ID, rec.Connections, want[ac.ID])
			}
		}
		rec, err := s.GetAuthConfigRecord(ctx, "pr_b", other.ID)
		mustOK(t, step+": GetAuthConfigRecord(pr_b)", err)
		if rec.Connections != want[other.ID] {
			t.Errorf("%s: GetAuthConfigRecord(pr_b) Connections = %d, want %d", step, rec.Connections, want[other.ID])
		}
		_, total, err := s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_b", Page: patchbay.Page{Limit: 1}})
		mustOK(t, step+": ListConnectedAccounts(pr_b)", err)
		if total != want[other.ID] {
			t.Errorf("%s: ListConnectedAccounts(pr_b) total = %d, want %d", step, total, want[other.ID])
		}
	}
	check("empty", map[string]int{})

	g1 := MustConnectedAccount(t, s, gh, "alice", at(10))
	g2 := MustConnectedAccount(t, s, gh, "bob", at(11))
	s1 := MustConnectedAccount(t, s, sl, "alice", at(12))
	o1 := MustConnectedAccount(t, s, other, "alice", at(13))
	check("created", map[string]int{gh.ID: 2, sl.ID: 1, other.ID: 1})

	// Failed writes change nothing.
	dup := *g1
	wantCode(t, "CreateConnectedAccount(duplicate ID)", s.CreateConnectedAccount(ctx, &dup), patchbay.ECONFLICT)
	dupElsewhere := *g1
	dupElsewhere.AuthConfigID = sl.ID
	wantCode(t, "CreateConnectedAccount(duplicate ID, another auth config)", s.CreateConnectedAccount(ctx, &dupElsewhere), patchbay.ECONFLICT)
	orphan := patchbay.ConnectedAccount{
		ID: id(patchbay.PrefixConn), ProjectID: "pr_a", AuthConfigID: "ac_unknown", Toolkit: "github", Mode: patchbay.AuthAPIKey,
		UserID: "alice", Status: patchbay.StatusActive, CreatedAt: at(14), UpdatedAt: at(14),
	}
	if err := s.CreateConnectedAccount(ctx, &orphan); err == nil {
		t.Errorf("CreateConnectedAccount(unknown auth config) succeeded, want an error")
	}
	wantCode(t, "DeleteConnectedAccount(another project)", s.DeleteConnectedAccount(ctx, "pr_b", g1.ID), patchbay.ENOTFOUND)
	wantCode(t, "DeleteConnectedAccount(unknown)", s.DeleteConnectedAccount(ctx, "pr_a", "ca_unknown"), patchbay.ENOTFOUND)
	wantCode(t, "DeleteAuthConfig(another project)", s.DeleteAuthConfig(ctx, "pr_b", gh.ID), patchbay.ENOTFOUND)
	check("after failed writes", map[string]int{gh.ID: 2, sl.ID: 1, other.ID: 1})

	// Updates move no account between auth configs.
	g2.Status, g2.Disabled, g2.UpdatedAt = patchbay.StatusRevoked, true, at(20)
	mustOK(t, "UpdateConnectedAccount", s.UpdateConnectedAccount(ctx, g2))
	check("after an update", map[string]int{gh.ID: 2, sl.ID: 1, other.ID: 1})

	// Rolled back writes leave no trace.
	err := s.InTx(ctx, func(tx patchbay.Store) error {
		MustConnectedAccount(t, tx, gh, "carol", at(21))
		MustConnectedAccount(t, tx, sl, "carol", at(22))
		mustOK(t, "DeleteConnectedAccount in tx", tx.DeleteConnectedAccount(ctx, "pr_a", s1.ID))
		_, total, err := tx.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_a"})
		mustOK(t, "ListConnectedAccounts in tx", err)
		if total != 4 {
			t.Errorf("ListConnectedAccounts in tx total = %d, want 4", total)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want %v", err, errRollback)
	}
	err = s.InTx(ctx, func(tx patchbay.Store) error {
		mustOK(t, "DeleteAuthConfig in tx", tx.DeleteAuthConfig(ctx, "pr_a", gh.ID))
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want %v", err, errRollback)
	}
	check("after rollbacks", map[string]int{gh.ID: 2, sl.ID: 1, other.ID: 1})

	// Committed ones count, however they are grouped.
	var g3 *patchbay.ConnectedAccount
	mustOK(t, "InTx", s.InTx(ctx, func(tx patchbay.Store) error {
		g3 = MustConnectedAccount(t, tx, gh, "carol", at(23))
		MustConnectedAccount(t, tx, sl, "carol", at(24))
		return tx.DeleteConnectedAccount(ctx, "pr_a", g1.ID)
	}))
	check("after a committed tx", map[string]int{gh.ID: 2, sl.ID: 2, other.ID: 1})
	mustOK(t, "DeleteConnectedAccount", s.DeleteConnectedAccount(ctx, "pr_a", g2.ID))
	wantCode(t, "DeleteConnectedAccount(twice)", s.DeleteConnectedAccount(ctx, "pr_a", g2.ID), patchbay.ENOTFOUND)
	mustOK(t, "DeleteConnectedAccount", s.DeleteConnectedAccount(ctx, "pr_a", g3.ID))
	check("all of one auth config deleted", map[string]int{gh.ID: 0, sl.ID: 2, other.ID: 1})
	MustConnectedAccount(t, s, gh, "dave", at(25))
	check("one again", map[string]int{gh.ID: 1, sl.ID: 2, other.ID: 1})

	// Deleting an auth config takes its accounts out of every total; an
	// auth config created anew under the same ID starts from none.
	mustOK(t, "DeleteAuthConfig", s.DeleteAuthConfig(ctx, "pr_a", sl.ID))
	check("auth config deleted", map[string]int{gh.ID: 1, sl.ID: -1, other.ID: 1})
	mustOK(t, "CreateAuthConfig(same ID again)", s.CreateAuthConfig(ctx, sl))
	check("auth config recreated", map[string]int{gh.ID: 1, sl.ID: 0, other.ID: 1})
	MustConnectedAccount(t, s, sl, "erin", at(26))
	check("recreated auth config's account", map[string]int{gh.ID: 1, sl.ID: 1, other.ID: 1})

	mustOK(t, "DeleteConnectedAccount(pr_b)", s.DeleteConnectedAccount(ctx, "pr_b", o1.ID))
	check("other project's account deleted", map[string]int{gh.ID: 1, sl.ID: 1, other.ID: 0})
}

// testConnectionTotalsConcurrent: accounts created and deleted at once
// from several goroutines leave the totals equal to the accounts there.
func testConnectionTotalsConcurrent(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	gh := MustAuthConfig(t, s, "pr_a", "github", at(1))
	sl := MustAuthConfig(t, s, "pr_a", "slack", at(2))
	const workers, each = 6, 8
	errs := make(chan error, workers*each*2)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ac := gh
			if w%2 == 1 {
				ac = sl
			}
			for i := range each {
				ca := &patchbay.ConnectedAccount{
					ID: id(patchbay.PrefixConn), ProjectID: "pr_a", AuthConfigID: ac.ID, Toolkit: ac.Toolkit, Mode: ac.Mode,
					UserID: "user" + strconv.Itoa(w), Status: patchbay.StatusActive, CreatedAt: at(10 + i), UpdatedAt: at(10 + i),
				}
				if err := s.CreateConnectedAccount(ctx, ca); err != nil {
					errs <- err
					continue
				}
				if i%4 == 3 { // every fourth is deleted again
					if err := s.DeleteConnectedAccount(ctx, "pr_a", ca.ID); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}

	perConfig := (workers / 2) * (each - each/4)
	for _, ac := range []*patchbay.AuthConfig{gh, sl} {
		rec, err := s.GetAuthConfigRecord(ctx, "pr_a", ac.ID)
		mustOK(t, "GetAuthConfigRecord", err)
		if rec.Connections != perConfig {
			t.Errorf("GetAuthConfigRecord(%s) Connections = %d, want %d", ac.ID, rec.Connections, perConfig)
		}
		_, total, err := s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_a", AuthConfigIDs: []string{ac.ID}, Page: patchbay.Page{Limit: 1}})
		mustOK(t, "ListConnectedAccounts", err)
		if total != perConfig {
			t.Errorf("ListConnectedAccounts(%s) total = %d, want %d", ac.ID, total, perConfig)
		}
	}
	got, total, err := s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: "pr_a"})
	mustOK(t, "ListConnectedAccounts", err)
	if len(got) != 2*perConfig || total != 2*perConfig {
		t.Errorf("ListConnectedAccounts = %d accounts, total %d; want %d", len(got), total, 2*perConfig)
	}
}
