package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
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

// randomHash returns a random key hash.
func randomHash(tb testing.TB) [32]byte {
	tb.Helper()
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	return sha256.Sum256(b[:])
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
