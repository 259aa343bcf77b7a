// Package storetest is the contract every patchbay.Store meets: one suite,
// run by each implementation's tests against a fresh, migrated store.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// revocationLog is what watchers read to learn which keys were revoked
// elsewhere. The SQL stores provide it; a Store without it skips that part
// of the contract.
type revocationLog interface {
	RevocationsSince(ctx context.Context, seq int64) ([]string, int64, error)
	RevocationSeq(ctx context.Context) (int64, error)
}

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
		{"LockAPIKey", testLockAPIKey},
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

// randomHash returns a random key hash.
func randomHash(tb testing.TB) [32]byte {
	tb.Helper()
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	return sha256.Sum256(b[:])
}

// MustOrg creates an organization created at at(0).
func MustOrg(tb testing.TB, s patchbay.Store) *patchbay.Organization {
	tb.Helper()
	o := &patchbay.Organization{ID: id(patchbay.PrefixOrg), Name: "Acme", CreatedAt: at(0)}
	if err := s.CreateOrganization(context.Background(), o); err != nil {
		tb.Fatalf("CreateOrganization: %v", err)
	}
	return o
}

// MustMember creates a member of org with a unique email.
func MustMember(tb testing.TB, s patchbay.Store, orgID string, role patchbay.Role) *patchbay.Member {
	tb.Helper()
	mid := id(patchbay.PrefixMember)
	m := &patchbay.Member{ID: mid, OrgID: orgID, Email: mid + "@example.com", Name: "Ada", Role: role, CreatedAt: at(1)}
	if err := s.CreateMember(context.Background(), m); err != nil {
		tb.Fatalf("CreateMember: %v", err)
	}
	return m
}

// MustProject creates a project of org created at created.
func MustProject(tb testing.TB, s patchbay.Store, orgID string, created time.Time) *patchbay.Project {
	tb.Helper()
	p := &patchbay.Project{ID: id(patchbay.PrefixProject), OrgID: orgID, Name: "Project", CreatedAt: created, UpdatedAt: created}
	if err := s.CreateProject(context.Background(), p); err != nil {
		tb.Fatalf("CreateProject: %v", err)
	}
	return p
}

// MustKey creates an active key of the given kind in org (and project, for
// project keys), owned by member, created at created.
func MustKey(tb testing.TB, s patchbay.Store, kind patchbay.KeyKind, orgID, projectID, member string, created time.Time) *patchbay.APIKey {
	tb.Helper()
	k := &patchbay.APIKey{
		ID: id(patchbay.PrefixKey), Kind: kind, OrgID: orgID, ProjectID: projectID, Name: "key",
		Prefix: "ak_Abcd", Hash: randomHash(tb), CreatedBy: member, CreatedAt: created,
	}
	if err := s.CreateAPIKey(context.Background(), k); err != nil {
		tb.Fatalf("CreateAPIKey: %v", err)
	}
	return k
}

// MustAPIKey creates an organization, an owner, a project and an active
// project key owned by the owner, and returns the key. For tests of code
// that only needs some key to revoke.
func MustAPIKey(tb testing.TB, s patchbay.Store) *patchbay.APIKey {
	tb.Helper()
	o := MustOrg(tb, s)
	m := MustMember(tb, s, o.ID, patchbay.RoleOwner)
	p := MustProject(tb, s, o.ID, at(2))
	return MustKey(tb, s, patchbay.KeyKindProject, o.ID, p.ID, m.ID, at(3))
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

func projectIDs(ps []*patchbay.Project) []string {
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

func keyIDs(ks []*patchbay.APIKey) []string {
	var ids []string
	for _, k := range ks {
		ids = append(ids, k.ID)
	}
	return ids
}

func keyRecordIDs(rs []patchbay.KeyRecord) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func wantProject(tb testing.TB, got, want *patchbay.Project) {
	tb.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.Name != want.Name {
		tb.Errorf("project = {%s %s %q}, want {%s %s %q}", got.ID, got.OrgID, got.Name, want.ID, want.OrgID, want.Name)
	}
	wantTime(tb, "project CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTime(tb, "project UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	wantTimePtr(tb, "project DeletedAt", got.DeletedAt, want.DeletedAt)
}

func wantMember(tb testing.TB, got, want *patchbay.Member) {
	tb.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.Email != want.Email || got.Name != want.Name || got.Role != want.Role {
		tb.Errorf("member = %+v, want %+v", *got, *want)
	}
	wantTime(tb, "member CreatedAt", got.CreatedAt, want.CreatedAt)
}

func wantKey(tb testing.TB, got, want *patchbay.APIKey) {
	tb.Helper()
	if got.ID != want.ID || got.Kind != want.Kind || got.OrgID != want.OrgID || got.ProjectID != want.ProjectID ||
		got.Name != want.Name || got.Prefix != want.Prefix || got.Hash != want.Hash ||
		got.CreatedBy != want.CreatedBy || got.RevokedBy != want.RevokedBy {
		tb.Errorf("key =\n\t%+v\nwant\n\t%+v", *got, *want)
	}
	wantTime(tb, "key CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTimePtr(tb, "key LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	wantTimePtr(tb, "key RevokedAt", got.RevokedAt, want.RevokedAt)
}

func testOrganizations(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	newer := &patchbay.Organization{ID: id(patchbay.PrefixOrg), Name: "Newer", CreatedAt: at(10)}
	older := &patchbay.Organization{ID: id(patchbay.PrefixOrg), Name: "Older", CreatedAt: at(5)}
	mustOK(t, "CreateOrganization newer", s.CreateOrganization(ctx, newer))
	mustOK(t, "CreateOrganization older", s.CreateOrganization(ctx, older))

	got, err := s.GetOrganization(ctx, newer.ID)
	mustOK(t, "GetOrganization", err)
	if got.ID != newer.ID || got.Name != newer.Name {
		t.Errorf("GetOrganization = %+v, want %+v", *got, *newer)
	}
	wantTime(t, "organization CreatedAt", got.CreatedAt, newer.CreatedAt)

	first, err := s.FirstOrganization(ctx)
	mustOK(t, "FirstOrganization", err)
	if first.ID != older.ID {
		t.Errorf("FirstOrganization = %s, want the oldest, %s", first.ID, older.ID)
	}

	_, err = s.GetOrganization(ctx, "org_unknown")
	wantCode(t, "GetOrganization(unknown)", err, patchbay.ENOTFOUND)

	dup := &patchbay.Organization{ID: newer.ID, Name: "Again", CreatedAt: at(20)}
	wantCode(t, "CreateOrganization(duplicate ID)", s.CreateOrganization(ctx, dup), patchbay.ECONFLICT)
}

func testFirstOrganizationEmpty(t *testing.T, s patchbay.Store) {
	_, err := s.FirstOrganization(context.Background())
	wantCode(t, "FirstOrganization on an empty store", err, patchbay.ENOTFOUND)
}

func testProjects(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org, other := MustOrg(t, s), MustOrg(t, s)
	p := &patchbay.Project{ID: id(patchbay.PrefixProject), OrgID: org.ID, Name: "Billing", CreatedAt: at(1), UpdatedAt: at(2)}
	mustOK(t, "CreateProject", s.CreateProject(ctx, p))

	got, err := s.GetProject(ctx, org.ID, p.ID)
	mustOK(t, "GetProject", err)
	wantProject(t, got, p)

	_, err = s.GetProject(ctx, other.ID, p.ID)
	wantCode(t, "GetProject(another org)", err, patchbay.ENOTFOUND)
	_, err = s.GetProject(ctx, org.ID, "pr_unknown")
	wantCode(t, "GetProject(unknown)", err, patchbay.ENOTFOUND)

	dup := &patchbay.Project{ID: p.ID, OrgID: org.ID, Name: "Again", CreatedAt: at(3), UpdatedAt: at(3)}
	wantCode(t, "CreateProject(duplicate ID)", s.CreateProject(ctx, dup), patchbay.ECONFLICT)

	list, err := s.ListProjects(ctx, other.ID, "", 10)
	mustOK(t, "ListProjects(other org)", err)
	wantIDs(t, "ListProjects(other org)", projectIDs(list), nil)
}

func testListProjectsPaging(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org, other := MustOrg(t, s), MustOrg(t, s)
	// Created out of order: the list follows creation time, not insertion.
	var want []string
	ps := make([]*patchbay.Project, 5)
	for _, i := range []int{3, 0, 4, 1, 2} {
		ps[i] = MustProject(t, s, org.ID, at(10+i))
	}
	for _, p := range ps {
		want = append(want, p.ID)
	}
	MustProject(t, s, other.ID, at(12)) // never listed

	all, err := s.ListProjects(ctx, org.ID, "", 100)
	mustOK(t, "ListProjects", err)
	wantIDs(t, "ListProjects", projectIDs(all), want)
	for i, got := range all {
		wantProject(t, got, ps[i])
	}

	var paged []string
	after := ""
	for range 10 {
		page, err := s.ListProjects(ctx, org.ID, after, 2)
		mustOK(t, "ListProjects page", err)
		if len(page) > 2 {
			t.Fatalf("ListProjects(limit 2) returned %d projects", len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, projectIDs(page)...)
		after = page[len(page)-1].ID
	}
	wantIDs(t, "pages of 2", paged, want)

	// A cursor stays valid after its project is deleted, so paging on
	// while someone deletes neither repeats nor skips.
	mustOK(t, "DeleteProject", s.DeleteProject(ctx, org.ID, ps[1].ID, at(30)))
	page, err := s.ListProjects(ctx, org.ID, ps[1].ID, 2)
	mustOK(t, "ListProjects(after a deleted project)", err)
	wantIDs(t, "ListProjects(after a deleted project)", projectIDs(page), want[2:4])
}

func testListProjectsPagingTies(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org := MustOrg(t, s)
	want := map[string]bool{}
	for range 5 {
		want[MustProject(t, s, org.ID, at(1)).ID] = true
	}
	seen := map[string]bool{}
	after := ""
	for range 10 {
		page, err := s.ListProjects(ctx, org.ID, after, 2)
		mustOK(t, "ListProjects page", err)
		if len(page) == 0 {
			break
		}
		for _, p := range page {
			if seen[p.ID] {
				t.Errorf("project %s listed twice", p.ID)
			}
			seen[p.ID] = true
		}
		after = page[len(page)-1].ID
	}
	if len(seen) != len(want) {
		t.Errorf("paging projects created at the same instant listed %d, want %d", len(seen), len(want))
	}
}

func testDeleteProject(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org, other := MustOrg(t, s), MustOrg(t, s)
	keep := MustProject(t, s, org.ID, at(1))
	gone := MustProject(t, s, org.ID, at(2))

	wantCode(t, "DeleteProject(another org)", s.DeleteProject(ctx, other.ID, gone.ID, at(3)), patchbay.ENOTFOUND)
	if _, err := s.GetProject(ctx, org.ID, gone.ID); err != nil {
		t.Fatalf("GetProject after another org's delete: %v", err)
	}

	mustOK(t, "DeleteProject", s.DeleteProject(ctx, org.ID, gone.ID, at(4)))
	_, err := s.GetProject(ctx, org.ID, gone.ID)
	wantCode(t, "GetProject(deleted)", err, patchbay.ENOTFOUND)
	list, err := s.ListProjects(ctx, org.ID, "", 10)
	mustOK(t, "ListProjects", err)
	wantIDs(t, "ListProjects after delete", projectIDs(list), []string{keep.ID})

	wantCode(t, "DeleteProject(twice)", s.DeleteProject(ctx, org.ID, gone.ID, at(5)), patchbay.ENOTFOUND)
	wantCode(t, "DeleteProject(unknown)", s.DeleteProject(ctx, org.ID, "pr_unknown", at(5)), patchbay.ENOTFOUND)
}

func testMembers(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org, other := MustOrg(t, s), MustOrg(t, s)
	ada := &patchbay.Member{ID: id(patchbay.PrefixMember), OrgID: org.ID, Email: "Ada.Lovelace@Example.com", Name: "Ada", Role: patchbay.RoleOwner, CreatedAt: at(2)}
	bob := &patchbay.Member{ID: id(patchbay.PrefixMember), OrgID: org.ID, Email: "bob@example.com", Name: "Bob", Role: patchbay.RoleMember, CreatedAt: at(1)}
	mustOK(t, "CreateMember ada", s.CreateMember(ctx, ada))
	mustOK(t, "CreateMember bob", s.CreateMember(ctx, bob))

	got, err := s.GetMember(ctx, org.ID, ada.ID)
	mustOK(t, "GetMember", err)
	wantMember(t, got, ada)

	got, err = s.GetMemberByEmail(ctx, org.ID, "ada.lovelace@EXAMPLE.COM")
	mustOK(t, "GetMemberByEmail(other case)", err)
	wantMember(t, got, ada)

	_, err = s.GetMember(ctx, other.ID, ada.ID)
	wantCode(t, "GetMember(another org)", err, patchbay.ENOTFOUND)
	_, err = s.GetMemberByEmail(ctx, other.ID, ada.Email)
	wantCode(t, "GetMemberByEmail(another org)", err, patchbay.ENOTFOUND)
	_, err = s.GetMemberByEmail(ctx, org.ID, "nobody@example.com")
	wantCode(t, "GetMemberByEmail(unknown)", err, patchbay.ENOTFOUND)

	dup := &patchbay.Member{ID: id(patchbay.PrefixMember), OrgID: org.ID, Email: "ADA.LOVELACE@example.com", Name: "Ada 2", Role: patchbay.RoleAdmin, CreatedAt: at(3)}
	wantCode(t, "CreateMember(same email, other case)", s.CreateMember(ctx, dup), patchbay.ECONFLICT)

	// The same person may belong to another organization.
	elsewhere := &patchbay.Member{ID: id(patchbay.PrefixMember), OrgID: other.ID, Email: ada.Email, Name: "Ada", Role: patchbay.RoleMember, CreatedAt: at(3)}
	mustOK(t, "CreateMember(same email, another org)", s.CreateMember(ctx, elsewhere))

	// Ordered by creation: Service.Owner takes the first owner listed.
	list, err := s.ListMembers(ctx, org.ID)
	mustOK(t, "ListMembers", err)
	if len(list) != 2 {
		t.Fatalf("ListMembers returned %d members, want 2", len(list))
	}
	wantMember(t, list[0], bob)
	wantMember(t, list[1], ada)
}

// keyFixture is an organization with two projects, an owner, and a
// second organization with a key of its own.
type keyFixture struct {
	org, other *patchbay.Organization
	owner      *patchbay.Member
	p1, p2     *patchbay.Project
}

func newKeyFixture(t *testing.T, s patchbay.Store) keyFixture {
	t.Helper()
	f := keyFixture{org: MustOrg(t, s), other: MustOrg(t, s)}
	f.owner = MustMember(t, s, f.org.ID, patchbay.RoleOwner)
	f.p1 = MustProject(t, s, f.org.ID, at(1))
	f.p2 = MustProject(t, s, f.org.ID, at(2))
	om := MustMember(t, s, f.other.ID, patchbay.RoleOwner)
	op := MustProject(t, s, f.other.ID, at(1))
	MustKey(t, s, patchbay.KeyKindProject, f.other.ID, op.ID, om.ID, at(50))
	MustKey(t, s, patchbay.KeyKindOrg, f.other.ID, "", om.ID, at(50))
	return f
}

func testAPIKeys(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	f := newKeyFixture(t, s)
	pk := &patchbay.APIKey{
		ID: id(patchbay.PrefixKey), Kind: patchbay.KeyKindProject, OrgID: f.org.ID, ProjectID: f.p1.ID,
		Name: "ci", Prefix: "ak_7fQx", Hash: randomHash(t), CreatedBy: f.owner.ID, CreatedAt: at(10),
	}
	ok := &patchbay.APIKey{
		ID: id(patchbay.PrefixKey), Kind: patchbay.KeyKindOrg, OrgID: f.org.ID,
		Name: "admin", Prefix: "oak_9zZa", Hash: randomHash(t), CreatedBy: f.owner.ID, CreatedAt: at(11),
	}
	mustOK(t, "CreateAPIKey project key", s.CreateAPIKey(ctx, pk))
	mustOK(t, "CreateAPIKey org key", s.CreateAPIKey(ctx, ok))

	tests := []struct {
		name             string
		org, project, id string
		want             *patchbay.APIKey // nil: ENOTFOUND
	}{
		{"project key in its project", f.org.ID, f.p1.ID, pk.ID, pk},
		{"project key in its org", f.org.ID, "", pk.ID, pk},
		{"project key in another project", f.org.ID, f.p2.ID, pk.ID, nil},
		{"project key in another org", f.other.ID, "", pk.ID, nil},
		{"org key in its org", f.org.ID, "", ok.ID, ok},
		{"org key in a project", f.org.ID, f.p1.ID, ok.ID, nil},
		{"org key in another org", f.other.ID, "", ok.ID, nil},
		{"unknown key", f.org.ID, "", "key_unknown", nil},
	}
	for _, tt := range tests {
		got, err := s.GetAPIKey(ctx, tt.org, tt.project, tt.id)
		if tt.want == nil {
			wantCode(t, "GetAPIKey: "+tt.name, err, patchbay.ENOTFOUND)
			continue
		}
		mustOK(t, "GetAPIKey: "+tt.name, err)
		wantKey(t, got, tt.want)
	}

	dupHash := *pk
	dupHash.ID = id(patchbay.PrefixKey)
	wantCode(t, "CreateAPIKey(duplicate hash)", s.CreateAPIKey(ctx, &dupHash), patchbay.ECONFLICT)
	dupID := *pk
	dupID.Hash = randomHash(t)
	wantCode(t, "CreateAPIKey(duplicate ID)", s.CreateAPIKey(ctx, &dupID), patchbay.ECONFLICT)
}

func testLookupAPIKey(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	f := newKeyFixture(t, s)
	admin := MustMember(t, s, f.org.ID, patchbay.RoleAdmin)
	k := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p1.ID, admin.ID, at(10))

	got, m, err := s.LookupAPIKey(ctx, k.Hash)
	mustOK(t, "LookupAPIKey", err)
	wantKey(t, got, k)
	wantMember(t, m, admin)

	_, _, err = s.LookupAPIKey(ctx, randomHash(t))
	wantCode(t, "LookupAPIKey(unknown hash)", err, patchbay.ENOTFOUND)

	// A revoked key is found, and says so.
	_, err = s.RevokeAPIKey(ctx, f.org.ID, "", k.ID, f.owner.ID, at(20))
	mustOK(t, "RevokeAPIKey", err)
	got, _, err = s.LookupAPIKey(ctx, k.Hash)
	mustOK(t, "LookupAPIKey(revoked)", err)
	revokedAt := at(20)
	want := *k
	want.RevokedAt, want.RevokedBy = &revokedAt, f.owner.ID
	wantKey(t, got, &want)
}

func testListAPIKeys(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	f := newKeyFixture(t, s)
	o := f.owner.ID
	p1a := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p1.ID, o, at(10))
	orgA := MustKey(t, s, patchbay.KeyKindOrg, f.org.ID, "", o, at(11))
	p2a := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p2.ID, o, at(12))
	p1b := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p1.ID, o, at(13))
	p1old := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p1.ID, o, at(5))
	revoked := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p1.ID, o, at(14))
	_, err := s.RevokeAPIKey(ctx, f.org.ID, f.p1.ID, revoked.ID, o, at(15))
	mustOK(t, "RevokeAPIKey", err)
	revoked.RevokedAt, revoked.RevokedBy = ptr(at(15)), o

	tests := []struct {
		name   string
		filter patchbay.KeyFilter
		want   []*patchbay.APIKey
	}{
		{"org", patchbay.KeyFilter{OrgID: f.org.ID}, []*patchbay.APIKey{p1b, p2a, orgA, p1a, p1old}},
		{"org with revoked", patchbay.KeyFilter{OrgID: f.org.ID, IncludeRevoked: true}, []*patchbay.APIKey{revoked, p1b, p2a, orgA, p1a, p1old}},
		{"project", patchbay.KeyFilter{OrgID: f.org.ID, ProjectID: f.p1.ID}, []*patchbay.APIKey{p1b, p1a, p1old}},
		{"project keys of project", patchbay.KeyFilter{OrgID: f.org.ID, ProjectID: f.p1.ID, Kind: patchbay.KeyKindProject}, []*patchbay.APIKey{p1b, p1a, p1old}},
		{"project with revoked", patchbay.KeyFilter{OrgID: f.org.ID, ProjectID: f.p1.ID, IncludeRevoked: true}, []*patchbay.APIKey{revoked, p1b, p1a, p1old}},
		{"other project", patchbay.KeyFilter{OrgID: f.org.ID, ProjectID: f.p2.ID}, []*patchbay.APIKey{p2a}},
		{"org keys", patchbay.KeyFilter{OrgID: f.org.ID, Kind: patchbay.KeyKindOrg}, []*patchbay.APIKey{orgA}},
		{"project keys", patchbay.KeyFilter{OrgID: f.org.ID, Kind: patchbay.KeyKindProject}, []*patchbay.APIKey{p1b, p2a, p1a, p1old}},
		{"project of another org", patchbay.KeyFilter{OrgID: f.other.ID, ProjectID: f.p1.ID}, nil},
		{"unknown org", patchbay.KeyFilter{OrgID: "org_unknown"}, nil},
	}
	for _, tt := range tests {
		got, err := s.ListAPIKeys(ctx, tt.filter)
		mustOK(t, "ListAPIKeys: "+tt.name, err)
		wantIDs(t, "ListAPIKeys: "+tt.name, keyRecordIDs(got), keyIDs(tt.want))
		for i := range min(len(got), len(tt.want)) {
			if got[i].ID == tt.want[i].ID {
				wantKey(t, got[i].APIKey, tt.want[i])
			}
			if got[i].Creator == nil {
				t.Errorf("ListAPIKeys: %s: key %s Creator = nil, want %s", tt.name, got[i].ID, o)
				continue
			}
			wantMember(t, got[i].Creator, f.owner)
		}
	}
}

// testListAPIKeysCreators checks that each listed key carries the member
// it acts as, read in the same query.
func testListAPIKeysCreators(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	f := newKeyFixture(t, s)
	admin := MustMember(t, s, f.org.ID, patchbay.RoleAdmin)
	member := MustMember(t, s, f.org.ID, patchbay.RoleMember)
	outsider := MustMember(t, s, f.other.ID, patchbay.RoleOwner)
	byOwner := MustKey(t, s, patchbay.KeyKindOrg, f.org.ID, "", f.owner.ID, at(10))
	byAdmin := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p1.ID, admin.ID, at(11))
	byMember := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p2.ID, member.ID, at(12))
	byAdmin2 := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p1.ID, admin.ID, at(13))
	// created_by names a member of another organization: the store does
	// not prevent it, and the key is listed without a creator rather than
	// with another organization's member, and without an error.
	stray := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p2.ID, outsider.ID, at(14))
	revoked := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p1.ID, member.ID, at(15))
	_, err := s.RevokeAPIKey(ctx, f.org.ID, "", revoked.ID, f.owner.ID, at(16))
	mustOK(t, "RevokeAPIKey", err)

	revoked.RevokedAt, revoked.RevokedBy = ptr(at(16)), f.owner.ID

	keys := map[string]*patchbay.APIKey{}
	for _, k := range []*patchbay.APIKey{byOwner, byAdmin, byMember, byAdmin2, stray, revoked} {
		keys[k.ID] = k
	}
	creators := map[string]*patchbay.Member{
		byOwner.ID: f.owner, byAdmin.ID: admin, byMember.ID: member, byAdmin2.ID: admin, stray.ID: nil, revoked.ID: member,
	}
	check := func(name string, filter patchbay.KeyFilter, want []*patchbay.APIKey) {
		t.Helper()
		got, err := s.ListAPIKeys(ctx, filter)
		mustOK(t, "ListAPIKeys: "+name, err)
		wantIDs(t, "ListAPIKeys: "+name, keyRecordIDs(got), keyIDs(want))
		for _, rec := range got {
			if rec.APIKey == nil {
				t.Fatalf("ListAPIKeys: %s: a record without its key", name)
			}
			k, known := keys[rec.ID]
			if !known {
				continue
			}
			wantKey(t, rec.APIKey, k)
			switch want := creators[rec.ID]; {
			case want == nil && rec.Creator != nil:
				t.Errorf("ListAPIKeys: %s: key %s Creator = %+v, want nil (created_by is of another org)", name, rec.ID, *rec.Creator)
			case want != nil && rec.Creator == nil:
				t.Errorf("ListAPIKeys: %s: key %s Creator = nil, want %s", name, rec.ID, want.ID)
			case want != nil:
				wantMember(t, rec.Creator, want)
			}
		}
	}
	check("org", patchbay.KeyFilter{OrgID: f.org.ID}, []*patchbay.APIKey{stray, byAdmin2, byMember, byAdmin, byOwner})
	check("org with revoked", patchbay.KeyFilter{OrgID: f.org.ID, IncludeRevoked: true}, []*patchbay.APIKey{revoked, stray, byAdmin2, byMember, byAdmin, byOwner})
	check("project", patchbay.KeyFilter{OrgID: f.org.ID, ProjectID: f.p1.ID, IncludeRevoked: true}, []*patchbay.APIKey{revoked, byAdmin2, byAdmin})
	check("org keys", patchbay.KeyFilter{OrgID: f.org.ID, Kind: patchbay.KeyKindOrg}, []*patchbay.APIKey{byOwner})

	// The other organization's own keys carry its own owner.
	got, err := s.ListAPIKeys(ctx, patchbay.KeyFilter{OrgID: f.other.ID})
	mustOK(t, "ListAPIKeys(other org)", err)
	if len(got) != 2 {
		t.Fatalf("ListAPIKeys(other org) returned %d keys, want 2", len(got))
	}
	for _, rec := range got {
		if rec.Creator == nil || rec.Creator.OrgID != f.other.ID || rec.Creator.ID != rec.CreatedBy {
			t.Errorf("ListAPIKeys(other org): key %s Creator = %+v, want its creator %s of %s", rec.ID, rec.Creator, rec.CreatedBy, f.other.ID)
		}
	}
}

func testOrgOwner(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	// Another organization's owner, older than everyone: never returned.
	other := MustOrg(t, s)
	mustOK(t, "CreateMember(other owner)", s.CreateMember(ctx, &patchbay.Member{
		ID: id(patchbay.PrefixMember), OrgID: other.ID, Email: "other@example.com", Name: "Other", Role: patchbay.RoleOwner, CreatedAt: at(-100),
	}))
	org := MustOrg(t, s)
	_, err := s.OrgOwner(ctx, org.ID)
	wantCode(t, "OrgOwner(no members)", err, patchbay.ENOTFOUND)

	mk := func(role patchbay.Role, created int) *patchbay.Member {
		t.Helper()
		m := &patchbay.Member{ID: id(patchbay.PrefixMember), OrgID: org.ID, Email: id("e") + "@example.com", Name: string(role), Role: role, CreatedAt: at(created)}
		mustOK(t, "CreateMember", s.CreateMember(ctx, m))
		return m
	}
	// Admins and members older than any owner do not count.
	mk(patchbay.RoleAdmin, 1)
	mk(patchbay.RoleMember, 2)
	_, err = s.OrgOwner(ctx, org.ID)
	wantCode(t, "OrgOwner(admins and members only)", err, patchbay.ENOTFOUND)

	// Inserted newest first: the first by creation wins, not by insertion.
	later := mk(patchbay.RoleOwner, 20)
	got, err := s.OrgOwner(ctx, org.ID)
	mustOK(t, "OrgOwner(one owner)", err)
	wantMember(t, got, later)
	first := mk(patchbay.RoleOwner, 10)
	mk(patchbay.RoleAdmin, 5)
	mk(patchbay.RoleOwner, 30)
	got, err = s.OrgOwner(ctx, org.ID)
	mustOK(t, "OrgOwner", err)
	wantMember(t, got, first)

	// The other organization keeps its own owner; an unknown one has none.
	got, err = s.OrgOwner(ctx, other.ID)
	mustOK(t, "OrgOwner(other org)", err)
	if got.OrgID != other.ID || got.Email != "other@example.com" {
		t.Errorf("OrgOwner(other org) = %+v, want its own owner", *got)
	}
	_, err = s.OrgOwner(ctx, "org_unknown")
	wantCode(t, "OrgOwner(unknown org)", err, patchbay.ENOTFOUND)

	// Inside a transaction it sees the transaction's writes.
	err = s.InTx(ctx, func(tx patchbay.Store) error {
		earliest := &patchbay.Member{ID: id(patchbay.PrefixMember), OrgID: org.ID, Email: "earliest@example.com", Name: "E", Role: patchbay.RoleOwner, CreatedAt: at(0)}
		mustOK(t, "CreateMember in tx", tx.CreateMember(ctx, earliest))
		got, err := tx.OrgOwner(ctx, org.ID)
		mustOK(t, "OrgOwner in tx", err)
		wantMember(t, got, earliest)
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want %v", err, errRollback)
	}
	got, err = s.OrgOwner(ctx, org.ID)
	mustOK(t, "OrgOwner after rollback", err)
	wantMember(t, got, first)
}

// testOrgOwnerTies: owners created at the same instant resolve the same
// way every time (by ID), the order ListMembers has.
func testOrgOwnerTies(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org := MustOrg(t, s)
	for range 4 {
		MustMember(t, s, org.ID, patchbay.RoleOwner) // all at at(1)
	}
	members, err := s.ListMembers(ctx, org.ID)
	mustOK(t, "ListMembers", err)
	got, err := s.OrgOwner(ctx, org.ID)
	mustOK(t, "OrgOwner", err)
	wantMember(t, got, members[0])
	for range 3 {
		again, err := s.OrgOwner(ctx, org.ID)
		mustOK(t, "OrgOwner(again)", err)
		if again.ID != got.ID {
			t.Errorf("OrgOwner = %s, then %s", got.ID, again.ID)
		}
	}
}

func testRevokeAPIKey(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	f := newKeyFixture(t, s)
	admin := MustMember(t, s, f.org.ID, patchbay.RoleAdmin)
	k := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p1.ID, f.owner.ID, at(10))

	// Outside the key's scope, revocation finds nothing and changes nothing.
	scopes := []struct{ name, org, project, id string }{
		{"another project", f.org.ID, f.p2.ID, k.ID},
		{"another org", f.other.ID, "", k.ID},
		{"unknown key", f.org.ID, "", "key_unknown"},
	}
	for _, sc := range scopes {
		_, err := s.RevokeAPIKey(ctx, sc.org, sc.project, sc.id, admin.ID, at(20))
		wantCode(t, "RevokeAPIKey: "+sc.name, err, patchbay.ENOTFOUND)
	}
	got, err := s.GetAPIKey(ctx, f.org.ID, "", k.ID)
	mustOK(t, "GetAPIKey", err)
	wantKey(t, got, k)

	first := at(21)
	want := *k
	want.RevokedAt, want.RevokedBy = &first, admin.ID
	got, err = s.RevokeAPIKey(ctx, f.org.ID, f.p1.ID, k.ID, admin.ID, first)
	mustOK(t, "RevokeAPIKey", err)
	wantKey(t, got, &want)
	got, err = s.GetAPIKey(ctx, f.org.ID, f.p1.ID, k.ID)
	mustOK(t, "GetAPIKey(revoked)", err)
	wantKey(t, got, &want)

	// Revoking again keeps the first revocation, and is no error.
	got, err = s.RevokeAPIKey(ctx, f.org.ID, "", k.ID, f.owner.ID, at(30))
	mustOK(t, "RevokeAPIKey(again)", err)
	wantKey(t, got, &want)
	got, err = s.GetAPIKey(ctx, f.org.ID, "", k.ID)
	mustOK(t, "GetAPIKey(revoked twice)", err)
	wantKey(t, got, &want)

	// An organization key is revoked through the organization scope.
	ok := MustKey(t, s, patchbay.KeyKindOrg, f.org.ID, "", f.owner.ID, at(11))
	got, err = s.RevokeAPIKey(ctx, f.org.ID, "", ok.ID, patchbay.RevokedByLeakReport, at(40))
	mustOK(t, "RevokeAPIKey(org key)", err)
	if got.RevokedBy != patchbay.RevokedByLeakReport {
		t.Errorf("org key RevokedBy = %q, want %q", got.RevokedBy, patchbay.RevokedByLeakReport)
	}
	wantTimePtr(t, "org key RevokedAt", got.RevokedAt, ptr(at(40)))
}

func ptr[T any](v T) *T { return &v }

func testTouchAPIKeys(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	f := newKeyFixture(t, s)
	a := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p1.ID, f.owner.ID, at(10))
	b := MustKey(t, s, patchbay.KeyKindOrg, f.org.ID, "", f.owner.ID, at(10))
	untouched := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p1.ID, f.owner.ID, at(10))

	lastUsed := func(k *patchbay.APIKey) *time.Time {
		t.Helper()
		got, err := s.GetAPIKey(ctx, f.org.ID, "", k.ID)
		mustOK(t, "GetAPIKey", err)
		return got.LastUsedAt
	}

	mustOK(t, "TouchAPIKeys", s.TouchAPIKeys(ctx, map[string]time.Time{a.ID: at(100), b.ID: at(200)}))
	wantTimePtr(t, "a LastUsedAt", lastUsed(a), ptr(at(100)))
	wantTimePtr(t, "b LastUsedAt", lastUsed(b), ptr(at(200)))
	wantTimePtr(t, "untouched LastUsedAt", lastUsed(untouched), nil)

	// An older use (a late flush from another instance) never moves it back.
	mustOK(t, "TouchAPIKeys(older)", s.TouchAPIKeys(ctx, map[string]time.Time{a.ID: at(150), b.ID: at(199)}))
	wantTimePtr(t, "a LastUsedAt after a later use", lastUsed(a), ptr(at(150)))
	wantTimePtr(t, "b LastUsedAt after an older use", lastUsed(b), ptr(at(200)))

	// Sub-microsecond differences do not count as later.
	mustOK(t, "TouchAPIKeys(same microsecond)", s.TouchAPIKeys(ctx, map[string]time.Time{b.ID: at(200).Add(-time.Nanosecond)}))
	wantTimePtr(t, "b LastUsedAt after the same microsecond", lastUsed(b), ptr(at(200)))

	mustOK(t, "TouchAPIKeys(empty)", s.TouchAPIKeys(ctx, nil))
}

func testAudit(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org, other := MustOrg(t, s), MustOrg(t, s)
	ev := func(project, action string, when time.Time) *patchbay.AuditEvent {
		t.Helper()
		e := &patchbay.AuditEvent{
			ID: id(patchbay.PrefixAudit), OrgID: org.ID, ProjectID: project, ActorID: "mem_actor", ActorKey: "key_actor",
			Action: action, TargetID: "key_target", IP: "192.0.2.7", At: when,
		}
		mustOK(t, "AppendAudit", s.AppendAudit(ctx, e))
		return e
	}
	// Appended out of order: the list follows time.
	e2 := ev("pr_a", patchbay.ActionKeyRevoke, at(2))
	e1 := ev("pr_a", patchbay.ActionKeyCreate, at(1))
	e4 := ev("", patchbay.ActionMemberCreate, at(4))
	e3 := ev("pr_b", patchbay.ActionProjectCreate, at(3))
	mustOK(t, "AppendAudit(other org)", s.AppendAudit(ctx, &patchbay.AuditEvent{
		ID: id(patchbay.PrefixAudit), OrgID: other.ID, Action: patchbay.ActionKeyCreate, TargetID: "x", At: at(5),
	}))

	ids := func(es []*patchbay.AuditEvent) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	tests := []struct {
		name    string
		project string
		limit   int
		want    []*patchbay.AuditEvent
	}{
		{"org", "", 100, []*patchbay.AuditEvent{e4, e3, e2, e1}},
		{"org, limit 2", "", 2, []*patchbay.AuditEvent{e4, e3}},
		{"project", "pr_a", 100, []*patchbay.AuditEvent{e2, e1}},
		{"project, limit 1", "pr_a", 1, []*patchbay.AuditEvent{e2}},
		{"unknown project", "pr_none", 100, nil},
	}
	for _, tt := range tests {
		got, err := s.ListAudit(ctx, org.ID, tt.project, tt.limit)
		mustOK(t, "ListAudit: "+tt.name, err)
		wantIDs(t, "ListAudit: "+tt.name, ids(got), ids(tt.want))
		for i := range min(len(got), len(tt.want)) {
			g, w := *got[i], *tt.want[i]
			wantTime(t, "event At", g.At, w.At)
			g.At, w.At = time.Time{}, time.Time{}
			if g != w {
				t.Errorf("ListAudit: %s: event = %+v, want %+v", tt.name, g, w)
			}
		}
	}
}

func testKeyTerms(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	terms, err := s.KeyTerms(ctx)
	mustOK(t, "KeyTerms(none)", err)
	if len(terms) != 0 {
		t.Fatalf("KeyTerms on a fresh store = %v, want none", terms)
	}

	// Created newest first; listed oldest first. The largest uint32 must
	// survive the signed integer columns.
	want := []patchbay.KeyTerm{
		{Term: 1, Wrapped: []byte("wrapped-1\x00\xff"), CreatedAt: at(1)},
		{Term: 2, Wrapped: []byte("wrapped-2"), CreatedAt: at(2)},
		{Term: math.MaxUint32, Wrapped: []byte("wrapped-max"), CreatedAt: at(3)},
	}
	for _, i := range []int{2, 1, 0} {
		mustOK(t, "CreateKeyTerm", s.CreateKeyTerm(ctx, want[i]))
	}
	terms, err = s.KeyTerms(ctx)
	mustOK(t, "KeyTerms", err)
	if len(terms) != len(want) {
		t.Fatalf("KeyTerms returned %d terms, want %d", len(terms), len(want))
	}
	for i, got := range terms {
		if got.Term != want[i].Term || !bytes.Equal(got.Wrapped, want[i].Wrapped) {
			t.Errorf("KeyTerms[%d] = {%d %q}, want {%d %q}", i, got.Term, got.Wrapped, want[i].Term, want[i].Wrapped)
		}
		wantTime(t, "term CreatedAt", got.CreatedAt, want[i].CreatedAt)
	}

	dup := patchbay.KeyTerm{Term: 2, Wrapped: []byte("other"), CreatedAt: at(9)}
	wantCode(t, "CreateKeyTerm(existing term)", s.CreateKeyTerm(ctx, dup), patchbay.ECONFLICT)
}

func secret(project, record, field string, term uint32, sealed string) patchbay.StoredSecret {
	return patchbay.StoredSecret{Ref: patchbay.SecretRef{ProjectID: project, Record: record, Field: field}, Term: term, Sealed: patchbay.Sealed(sealed)}
}

func wantSecret(tb testing.TB, what string, got, want patchbay.StoredSecret) {
	tb.Helper()
	if got.Ref != want.Ref || got.Term != want.Term || !bytes.Equal(got.Sealed, want.Sealed) {
		tb.Errorf("%s = {%+v %d %q}, want {%+v %d %q}", what, got.Ref, got.Term, got.Sealed, want.Ref, want.Term, want.Sealed)
	}
}

func testSecrets(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	// Refs that differ in one part only are different places.
	stored := []patchbay.StoredSecret{
		secret("pr_a", "rec_1", "webhook_secret", 1, "sealed-a1\x00\xff"),
		secret("pr_b", "rec_1", "webhook_secret", 1, "sealed-b1"),
		secret("pr_a", "rec_2", "webhook_secret", 1, "sealed-a2"),
		secret("pr_a", "rec_1", "token", 2, "sealed-a1-token"),
		secret("", "org_1", "webhook_secret", 2, "sealed-org"),
	}
	for _, st := range stored {
		mustOK(t, "PutSecret", s.PutSecret(ctx, st))
	}
	for _, want := range stored {
		got, err := s.GetSecret(ctx, want.Ref)
		mustOK(t, "GetSecret", err)
		wantSecret(t, "GetSecret", got, want)
	}

	replaced := secret("pr_a", "rec_1", "webhook_secret", 3, "sealed-a1-v2")
	mustOK(t, "PutSecret(replace)", s.PutSecret(ctx, replaced))
	got, err := s.GetSecret(ctx, replaced.Ref)
	mustOK(t, "GetSecret(replaced)", err)
	wantSecret(t, "GetSecret(replaced)", got, replaced)

	_, err = s.GetSecret(ctx, patchbay.SecretRef{ProjectID: "pr_a", Record: "rec_1", Field: "nope"})
	wantCode(t, "GetSecret(unknown)", err, patchbay.ENOTFOUND)

	counts, err := s.CountSecretsByTerm(ctx)
	mustOK(t, "CountSecretsByTerm", err)
	if want := map[uint32]int{1: 2, 2: 2, 3: 1}; !maps.Equal(counts, want) {
		t.Errorf("CountSecretsByTerm = %v, want %v", counts, want)
	}
}

func testReplaceSecret(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	old := secret("pr_a", "rec_1", "webhook_secret", 1, "sealed-v1")
	mustOK(t, "PutSecret", s.PutSecret(ctx, old))

	next := secret("pr_a", "rec_1", "webhook_secret", 2, "sealed-v2")
	swapped, err := s.ReplaceSecret(ctx, old, next)
	mustOK(t, "ReplaceSecret", err)
	if !swapped {
		t.Fatal("ReplaceSecret(current value) = false, want true")
	}
	got, err := s.GetSecret(ctx, old.Ref)
	mustOK(t, "GetSecret", err)
	wantSecret(t, "GetSecret after ReplaceSecret", got, next)

	// The stored value is no longer old: a re-encryption racing with a
	// write must not overwrite it.
	stale := secret("pr_a", "rec_1", "webhook_secret", 3, "sealed-v3")
	swapped, err = s.ReplaceSecret(ctx, old, stale)
	mustOK(t, "ReplaceSecret(stale)", err)
	if swapped {
		t.Error("ReplaceSecret(stale value) = true, want false")
	}
	got, err = s.GetSecret(ctx, old.Ref)
	mustOK(t, "GetSecret", err)
	wantSecret(t, "GetSecret after a stale ReplaceSecret", got, next)

	missing := secret("pr_a", "rec_9", "webhook_secret", 1, "sealed")
	swapped, err = s.ReplaceSecret(ctx, missing, secret("pr_a", "rec_9", "webhook_secret", 2, "sealed-2"))
	mustOK(t, "ReplaceSecret(missing)", err)
	if swapped {
		t.Error("ReplaceSecret(missing value) = true, want false")
	}
	_, err = s.GetSecret(ctx, missing.Ref)
	wantCode(t, "GetSecret after ReplaceSecret(missing)", err, patchbay.ENOTFOUND)
}

func testSecretsBelowTerm(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	all := []patchbay.StoredSecret{
		secret("pr_a", "rec_1", "f", 1, "s1"),
		secret("pr_a", "rec_2", "f", 2, "s2"),
		secret("pr_b", "rec_3", "f", 1, "s3"),
		secret("pr_b", "rec_4", "f", 3, "s4"),
	}
	for _, st := range all {
		mustOK(t, "PutSecret", s.PutSecret(ctx, st))
	}
	refs := func(sts []patchbay.StoredSecret) map[patchbay.SecretRef]patchbay.StoredSecret {
		out := map[patchbay.SecretRef]patchbay.StoredSecret{}
		for _, st := range sts {
			if _, dup := out[st.Ref]; dup {
				t.Errorf("SecretsBelowTerm returned %+v twice", st.Ref)
			}
			out[st.Ref] = st
		}
		return out
	}

	got, err := s.SecretsBelowTerm(ctx, 3, 100)
	mustOK(t, "SecretsBelowTerm(3)", err)
	gotRefs := refs(got)
	if len(gotRefs) != 3 {
		t.Errorf("SecretsBelowTerm(3) returned %d values, want 3", len(got))
	}
	for _, want := range all[:3] {
		wantSecret(t, "SecretsBelowTerm(3)", gotRefs[want.Ref], want)
	}

	got, err = s.SecretsBelowTerm(ctx, 2, 100)
	mustOK(t, "SecretsBelowTerm(2)", err)
	if len(got) != 2 || got[0].Term != 1 || got[1].Term != 1 {
		t.Errorf("SecretsBelowTerm(2) = %+v, want the two term-1 values", got)
	}

	got, err = s.SecretsBelowTerm(ctx, 3, 2)
	mustOK(t, "SecretsBelowTerm(3, limit 2)", err)
	if len(got) != 2 {
		t.Errorf("SecretsBelowTerm(3, limit 2) returned %d values, want 2", len(got))
	}

	got, err = s.SecretsBelowTerm(ctx, 1, 100)
	mustOK(t, "SecretsBelowTerm(1)", err)
	if len(got) != 0 {
		t.Errorf("SecretsBelowTerm(1) = %+v, want none", got)
	}
}

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

func testRevocationLog(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	log, ok := s.(revocationLog)
	if !ok {
		t.Skipf("%T keeps no revocation log", s)
	}
	f := newKeyFixture(t, s)
	k1 := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p1.ID, f.owner.ID, at(10))
	k2 := MustKey(t, s, patchbay.KeyKindOrg, f.org.ID, "", f.owner.ID, at(11))
	k3 := MustKey(t, s, patchbay.KeyKindProject, f.org.ID, f.p2.ID, f.owner.ID, at(12))

	seq0, err := log.RevocationSeq(ctx)
	mustOK(t, "RevocationSeq", err)
	ids, seq, err := log.RevocationsSince(ctx, seq0)
	mustOK(t, "RevocationsSince(now)", err)
	wantIDs(t, "RevocationsSince(now)", ids, nil)
	if seq != seq0 {
		t.Errorf("RevocationsSince(%d) with nothing new = position %d, want %d", seq0, seq, seq0)
	}

	revoke := func(k *patchbay.APIKey, when int) {
		t.Helper()
		_, err := s.RevokeAPIKey(ctx, f.org.ID, "", k.ID, f.owner.ID, at(when))
		mustOK(t, "RevokeAPIKey", err)
	}
	revoke(k2, 20)
	revoke(k1, 21)
	revoke(k2, 22) // already revoked: not logged again
	_, err = s.RevokeAPIKey(ctx, f.org.ID, f.p1.ID, k3.ID, f.owner.ID, at(23))
	wantCode(t, "RevokeAPIKey(wrong project)", err, patchbay.ENOTFOUND) // not logged
	// A rolled-back revocation is not logged either.
	err = s.InTx(ctx, func(tx patchbay.Store) error {
		_, err := tx.RevokeAPIKey(ctx, f.org.ID, "", k3.ID, f.owner.ID, at(24))
		mustOK(t, "RevokeAPIKey in tx", err)
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want %v", err, errRollback)
	}

	ids, seq1, err := log.RevocationsSince(ctx, seq0)
	mustOK(t, "RevocationsSince", err)
	wantIDs(t, "RevocationsSince", ids, []string{k2.ID, k1.ID})
	if seq1 <= seq0 {
		t.Errorf("RevocationsSince position = %d, want past %d", seq1, seq0)
	}
	if got, err := log.RevocationSeq(ctx); err != nil || got != seq1 {
		t.Errorf("RevocationSeq = %d, %v; want %d", got, err, seq1)
	}

	revoke(k3, 30)
	ids, seq2, err := log.RevocationsSince(ctx, seq1)
	mustOK(t, "RevocationsSince(later)", err)
	wantIDs(t, "RevocationsSince(later)", ids, []string{k3.ID})
	if seq2 <= seq1 {
		t.Errorf("RevocationsSince position = %d, want past %d", seq2, seq1)
	}
	ids, _, err = log.RevocationsSince(ctx, seq2)
	mustOK(t, "RevocationsSince(newest)", err)
	wantIDs(t, "RevocationsSince(newest)", ids, nil)
}
