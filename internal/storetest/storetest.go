// Package storetest is the contract every patchbay.Store meets: one suite,
// run by each implementation's tests against a fresh, migrated store.
package storetest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// Run runs the contract against stores from open, which must return a fresh,
// migrated, empty store for each call and close it when t ends.
func Run(t *testing.T, open func(t *testing.T) patchbay.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s patchbay.Store)
	}{
		{"Organizations", testOrganizations},
		{"FirstOrganizationEmpty", testFirstOrganizationEmpty},
		{"Projects", testProjects},
		{"ListProjectsPaging", testListProjectsPaging},
		{"ListProjectsPagingTies", testListProjectsPagingTies},
		{"DeleteProject", testDeleteProject},
		{"Members", testMembers},
		{"APIKeys", testAPIKeys},
		{"LookupAPIKey", testLookupAPIKey},
		{"ListAPIKeys", testListAPIKeys},
		{"ListAPIKeysCreators", testListAPIKeysCreators},
		{"OrgOwner", testOrgOwner},
		{"OrgOwnerTies", testOrgOwnerTies},
		{"RevokeAPIKey", testRevokeAPIKey},
		{"TouchAPIKeys", testTouchAPIKeys},
		{"Audit", testAudit},
		{"KeyTerms", testKeyTerms},
		{"Secrets", testSecrets},
		{"ProjectSecrets", testProjectSecrets},
		{"ReplaceSecret", testReplaceSecret},
		{"SecretsBelowTerm", testSecretsBelowTerm},
		{"InTx", testInTx},
		{"RevocationLog", testRevocationLog},
		{"AuthConfigs", testAuthConfigs},
		{"ListAuthConfigs", testListAuthConfigs},
		{"DeleteAuthConfig", testDeleteAuthConfig},
		{"ConnectedAccounts", testConnectedAccounts},
		{"ListConnectedAccounts", testListConnectedAccounts},
		{"DeleteSecret", testDeleteSecret},
		{"ConnectionSecrets", testConnectionSecrets},
		{"AuthConfigRecords", testAuthConfigRecords},
		{"ConnectionRecordFlags", testConnectionRecordFlags},
		{"ListConnectedAccountsLabels", testListConnectedAccountsLabels},
		{"ListConnectedAccountsLabelPaging", testListConnectedAccountsLabelPaging},
		{"ListConnectedAccountsPastTheEnd", testListConnectedAccountsPastTheEnd},
		{"ConnectionTotals", testConnectionTotals},
		{"ConnectionTotalsConcurrent", testConnectionTotalsConcurrent},
		{"LockAuthConfig", testLockAuthConfig},
		{"LockConnectedAccount", testLockConnectedAccount},
		{"LockAPIKey", testLockAPIKey},
		{"ReadVersion", testReadVersion},
		{"OAuthFlows", testOAuthFlows},
		{"MCPServers", testMCPServers},
		{"ToolRouterSessions", testToolRouterSessions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// base is the suite's clock origin. It has nanoseconds and a zone other
// than UTC on purpose: stores return UTC microseconds.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535_897_932, time.FixedZone("CET", 3600))

// at returns base plus n seconds.
func at(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }

var idSeq atomic.Int64

// id returns a unique ID with prefix, readable in failure messages.
func id(prefix string) string {
	return prefix + "t" + strconv.FormatInt(idSeq.Add(1), 10)
}

// wantCode fails unless err carries the domain code want.
func wantCode(tb testing.TB, what string, err error, want string) {
	tb.Helper()
	if got := patchbay.ErrorCode(err); got != want {
		tb.Fatalf("%s: error code = %q (err %v), want %q", what, got, err, want)
	}
}

// mustOK fails on err.
func mustOK(tb testing.TB, what string, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// wantTime fails unless got is want truncated to microseconds, in UTC.
func wantTime(tb testing.TB, what string, got, want time.Time) {
	tb.Helper()
	want = want.Truncate(time.Microsecond)
	if !got.Equal(want) || got.Location() != time.UTC {
		tb.Errorf("%s = %v, want %v (UTC)", what, got, want.UTC())
	}
}

// wantTimePtr is wantTime for optional times; want nil means got must be nil.
func wantTimePtr(tb testing.TB, what string, got, want *time.Time) {
	tb.Helper()
	switch {
	case want == nil && got != nil:
		tb.Errorf("%s = %v, want nil", what, *got)
	case want != nil && got == nil:
		tb.Errorf("%s = nil, want %v", what, want.UTC())
	case want != nil:
		wantTime(tb, what, *got, *want)
	}
}

func wantIDs(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	if !slices.Equal(got, want) {
		tb.Errorf("%s = %q, want %q", what, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

var errRollback = errors.New("roll back")

func testInTx(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	f := newKeyFixture(t, s)
	k := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p1.ID, f.owner.ID, at(10))
	org := &patchbay.Organization{ID: id(patchbay.PrefixOrg), Name: "Rolled back", CreatedAt: at(1)}
	p := &patchbay.Project{ID: id(patchbay.PrefixProject), OrgID: f.org.ID, Name: "Rolled back", CreatedAt: at(1), UpdatedAt: at(1)}
	st := secret(p.ID, p.ID, "webhook_secret", 1, "sealed")

	err := s.InTx(ctx, func(tx patchbay.Store) error {
		mustOK(t, "CreateOrganization in tx", tx.CreateOrganization(ctx, org))
		mustOK(t, "CreateProject in tx", tx.CreateProject(ctx, p))
		mustOK(t, "PutSecret in tx", tx.PutSecret(ctx, st))
		_, err := tx.RevokeAPIKey(ctx, f.org.ID, "", k.ID, f.owner.ID, at(20))
		mustOK(t, "RevokeAPIKey in tx", err)
		mustOK(t, "DeleteProject in tx", tx.DeleteProject(ctx, f.org.ID, f.p2.ID, at(20)))
		// A transaction reads its own writes.
		if _, err := tx.GetOrganization(ctx, org.ID); err != nil {
			t.Errorf("GetOrganization in the tx that created it: %v", err)
		}
		// Nested InTx joins the transaction and commits with it.
		return tx.InTx(ctx, func(tx patchbay.Store) error {
			return tx.AppendAudit(ctx, &patchbay.AuditEvent{ID: id(patchbay.PrefixAudit), OrgID: f.org.ID, Action: "x", TargetID: "y", At: at(20)})
		})
	})
	mustOK(t, "InTx", err)
	if _, err := s.GetOrganization(ctx, org.ID); err != nil {
		t.Errorf("GetOrganization after commit: %v", err)
	}

	// Nested InTx joins the transaction: its error rolls back everything.
	err = s.InTx(ctx, func(tx patchbay.Store) error {
		mustOK(t, "CreateMember in tx", tx.CreateMember(ctx, &patchbay.Member{
			ID: id(patchbay.PrefixMember), OrgID: f.org.ID, Email: "gone@example.com", Name: "Gone", Role: patchbay.RoleMember, CreatedAt: at(1),
		}))
		mustOK(t, "CreateKeyTerm in tx", tx.CreateKeyTerm(ctx, patchbay.KeyTerm{Term: 7, Wrapped: []byte("w"), CreatedAt: at(1)}))
		mustOK(t, "PutSecret in tx", tx.PutSecret(ctx, secret("pr_x", "rec", "f", 1, "s")))
		_, err := tx.RevokeAPIKey(ctx, f.org.ID, "", k.ID, f.owner.ID, at(30))
		mustOK(t, "RevokeAPIKey(again) in tx", err)
		return tx.InTx(ctx, func(tx patchbay.Store) error {
			mustOK(t, "AppendAudit in nested tx", tx.AppendAudit(ctx, &patchbay.AuditEvent{ID: id(patchbay.PrefixAudit), OrgID: f.org.ID, Action: "gone", TargetID: "y", At: at(30)}))
			return errRollback
		})
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want fn's error %v", err, errRollback)
	}
	if _, err := s.GetMemberByEmail(ctx, f.org.ID, "gone@example.com"); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("GetMemberByEmail after rollback: err = %v, want ENOTFOUND", err)
	}
	terms, err := s.KeyTerms(ctx)
	mustOK(t, "KeyTerms", err)
	if len(terms) != 0 {
		t.Errorf("KeyTerms after rollback = %v, want none", terms)
	}
	_, err = s.GetSecret(ctx, patchbay.SecretRef{ProjectID: "pr_x", Record: "rec", Field: "f"})
	wantCode(t, "GetSecret after rollback", err, patchbay.ENOTFOUND)
	events, err := s.ListAudit(ctx, f.org.ID, "", 100)
	mustOK(t, "ListAudit", err)
	if len(events) != 1 || events[0].Action != "x" {
		t.Errorf("ListAudit after rollback = %d events, want only the committed one", len(events))
	}

	// The committed transaction's writes are all there.
	if _, err := s.GetProject(ctx, f.org.ID, p.ID); err != nil {
		t.Errorf("GetProject after commit: %v", err)
	}
	if _, err := s.GetProject(ctx, f.org.ID, f.p2.ID); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("GetProject(deleted in tx) after commit: err = %v, want ENOTFOUND", err)
	}
	got, err := s.GetSecret(ctx, st.Ref)
	mustOK(t, "GetSecret after commit", err)
	wantSecret(t, "GetSecret after commit", got, st)
	gotKey, err := s.GetAPIKey(ctx, f.org.ID, "", k.ID)
	mustOK(t, "GetAPIKey after commit", err)
	wantTimePtr(t, "RevokedAt after commit", gotKey.RevokedAt, ptr(at(20)))
}
