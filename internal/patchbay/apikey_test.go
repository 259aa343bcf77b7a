package patchbay_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

func TestRegenerateAPIKey(t *testing.T) {
	e := MustEnv(t)
	m := e.MustMember("member@example.com", patchbay.RoleMember)
	old, oldRaw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: e.project.ID, Name: "Deploy bot", Owner: &m.Member})
	e.MustAuth(e.auth, oldRaw) // cached

	admin := e.MustMember("admin@example.com", patchbay.RoleAdmin)
	e.clock.Advance(time.Minute)
	nk, tok, err := e.svc.RegenerateAPIKey(e.ctx, admin, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.MustReject(e.auth, oldRaw, "regenerated key")
	p := e.MustAuth(e.auth, tok.Secret.Reveal())
	if p.Credential.ID != nk.ID || nk.ID == old.ID {
		t.Fatalf("new key authenticates as %s; regenerated %s from %s", p.Credential.ID, nk.ID, old.ID)
	}
	if nk.Name != old.Name || nk.Kind != old.Kind || nk.ProjectID != old.ProjectID || nk.OrgID != old.OrgID {
		t.Errorf("new key %+v differs in name, kind or scope from %+v", nk, old)
	}
	if nk.CreatedBy != m.Member.ID || p.Member.ID != m.Member.ID {
		t.Errorf("new key acts as %s (created by %s), want the old key's owner %s", p.Member.ID, nk.CreatedBy, m.Member.ID)
	}
	got := e.MustGetKey(old.ID)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(e.clock.Now()) || got.RevokedBy != admin.Member.ID {
		t.Errorf("old key revoked at %v by %q, want %v by the admin", got.RevokedAt, got.RevokedBy, e.clock.Now())
	}

	_, _, err = e.svc.RegenerateAPIKey(e.ctx, admin, old.ID)
	wantCode(t, "RegenerateAPIKey(revoked)", err, patchbay.ECONFLICT)
	// The conflict changed nothing: the new key still works.
	e.MustAuth(e.auth, tok.Secret.Reveal())

	// Organization keys regenerate as organization keys.
	ok, okRaw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "org"})
	onk, otok, err := e.svc.RegenerateAPIKey(e.ctx, e.cli, ok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if onk.Kind != patchbay.KeyKindOrg || !strings.HasPrefix(otok.Secret.Reveal(), "oak_") || onk.ProjectID != "" {
		t.Errorf("regenerated org key = %+v", onk)
	}
	e.MustReject(e.auth, okRaw, "regenerated org key")
}

func TestRegenerateProjectKey(t *testing.T) {
	e := MustEnv(t)
	_, raw1 := e.MustProjectKey("first")
	e.clock.Advance(time.Second)
	_, raw2 := e.MustProjectKey("newest")
	_, orgRaw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "org"})
	cp, err := e.svc.CreateProject(e.ctx, e.cli, "Elsewhere", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{raw1, raw2, orgRaw, cp.Token.Secret.Reveal()} {
		e.MustAuth(e.auth, raw)
	}

	e.clock.Advance(time.Second)
	nk, tok, err := e.svc.RegenerateProjectKey(e.ctx, e.cli, e.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	if nk.Name != "newest" || nk.ProjectID != e.project.ID || nk.Kind != patchbay.KeyKindProject {
		t.Errorf("new key = %+v, want a project key named after the newest revoked one", nk)
	}
	e.MustReject(e.auth, raw1, "first project key")
	e.MustReject(e.auth, raw2, "second project key")
	e.MustAuth(e.auth, tok.Secret.Reveal())
	e.MustAuth(e.auth, orgRaw)                   // organization keys are not project keys
	e.MustAuth(e.auth, cp.Token.Secret.Reveal()) // nor are other projects' keys
	active, err := e.svc.ListAPIKeys(e.ctx, e.cli, patchbay.KeyQuery{ProjectID: e.project.ID, Kind: patchbay.KeyKindProject})
	if err != nil || len(active) != 1 || active[0].ID != nk.ID {
		t.Errorf("active project keys = %v, %v; want only the new one", active, err)
	}

	// A project without keys gets one named "default".
	bare, err := e.svc.CreateProject(e.ctx, e.cli, "Bare", false)
	if err != nil {
		t.Fatal(err)
	}
	bk, _, err := e.svc.RegenerateProjectKey(e.ctx, e.cli, bare.Project.ID)
	if err != nil || bk.Name != "default" {
		t.Errorf("RegenerateProjectKey(no keys) = %+v, %v; want a key named default", bk, err)
	}
	_, _, err = e.svc.RegenerateProjectKey(e.ctx, e.cli, "pr_nosuchproject")
	wantCode(t, "RegenerateProjectKey(unknown project)", err, patchbay.ENOTFOUND)
}

func TestRevokeLeakedKeys(t *testing.T) {
	e := MustEnv(t)
	a, rawA := e.MustProjectKey("a")
	b, rawB := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "b"})
	c, rawC := e.MustProjectKey("c")
	_, keepRaw := e.MustProjectKey("keep")
	if _, err := e.svc.RevokeAPIKey(e.ctx, e.cli, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{rawA, rawB, keepRaw} {
		e.MustAuth(e.auth, raw)
	}
	typo := []byte(rawA)
	typo[5] ^= 1
	unknown := MustGenerateKey(t, patchbay.KeyKindProject).Secret.Reveal()

	e.clock.Advance(time.Minute)
	n, err := e.svc.RevokeLeakedKeys(e.ctx, []string{
		"garbage", "", string(typo), unknown, rawC, // ignored
		"  " + rawA + "\n", rawB, rawA, // matched, with a duplicate
	}, "198.51.100.7")
	if err != nil || n != 2 {
		t.Fatalf("RevokeLeakedKeys = %d, %v; want 2, nil", n, err)
	}
	e.MustReject(e.auth, rawA, "leaked project key")
	e.MustReject(e.auth, rawB, "leaked org key")
	e.MustAuth(e.auth, keepRaw)
	for _, id := range []string{a.ID, b.ID} {
		if k := e.MustGetKey(id); k.RevokedBy != patchbay.RevokedByLeakReport || k.RevokedAt == nil || !k.RevokedAt.Equal(e.clock.Now()) {
			t.Errorf("key %s revoked by %q at %v, want %q at %v", id, k.RevokedBy, k.RevokedAt, patchbay.RevokedByLeakReport, e.clock.Now())
		}
	}
	if k := e.MustGetKey(c.ID); k.RevokedBy != e.owner.ID {
		t.Errorf("already revoked key now revoked by %q, want its first revocation kept", k.RevokedBy)
	}

	// Reporting again: nothing left to revoke, and no error.
	if n, err := e.svc.RevokeLeakedKeys(e.ctx, []string{rawA, rawB, rawC}, "198.51.100.7"); err != nil || n != 0 {
		t.Errorf("second report = %d, %v; want 0, nil", n, err)
	}
	full := make([]string, patchbay.MaxLeakedBatch)
	for i := range full {
		full[i] = "not-a-key"
	}
	if n, err := e.svc.RevokeLeakedKeys(e.ctx, full, "198.51.100.7"); err != nil || n != 0 {
		t.Errorf("full batch of garbage = %d, %v; want 0, nil", n, err)
	}
	_, err = e.svc.RevokeLeakedKeys(e.ctx, nil, "198.51.100.7")
	wantCode(t, "RevokeLeakedKeys(none)", err, patchbay.EINVALID)
	_, err = e.svc.RevokeLeakedKeys(e.ctx, []string{}, "198.51.100.7")
	wantCode(t, "RevokeLeakedKeys(empty)", err, patchbay.EINVALID)
	_, err = e.svc.RevokeLeakedKeys(e.ctx, append(full, keepRaw), "198.51.100.7")
	wantCode(t, "RevokeLeakedKeys(101)", err, patchbay.EINVALID)
	e.MustAuth(e.auth, keepRaw) // the oversized batch revoked nothing
}

// failingLookupStore fails the store lookup of one key hash, once set.
type failingLookupStore struct {
	patchbay.Store
	fail [32]byte
}

func (s *failingLookupStore) LookupAPIKey(ctx context.Context, hash [32]byte) (*patchbay.APIKey, *patchbay.Member, error) {
	if hash == s.fail {
		return nil, nil, patchbay.Errorf(patchbay.EUNAVAILABLE, "database unavailable")
	}
	return s.Store.LookupAPIKey(ctx, hash)
}

// TestRevokeLeakedKeysEvictsOnError: when a report fails part-way, the keys
// it already revoked are evicted all the same; their revocation committed.
func TestRevokeLeakedKeysEvictsOnError(t *testing.T) {
	failing := &failingLookupStore{}
	e := MustEnvWith(t, testdb.SQLite(t), func(e *env, cfg *patchbay.Config) {
		failing.Store = e.st
		cfg.Store = failing
	})
	a, rawA := e.MustProjectKey("a")
	_, rawB := e.MustProjectKey("b")
	e.MustAuth(e.auth, rawA)
	e.MustAuth(e.auth, rawB) // cached: the failing lookup below is the report's
	tokB, err := patchbay.ParseKey(rawB)
	if err != nil {
		t.Fatal(err)
	}
	failing.fail = tokB.Hash()
	if _, err := e.svc.RevokeLeakedKeys(e.ctx, []string{rawA, rawB}, "198.51.100.7"); patchbay.ErrorCode(err) != patchbay.EUNAVAILABLE {
		t.Fatalf("RevokeLeakedKeys = %v, want the store's error", err)
	}
	if !e.MustGetKey(a.ID).Revoked() {
		t.Fatal("the first key was not revoked")
	}
	e.MustReject(e.auth, rawA, "key revoked by a report that failed later")
	e.MustAuth(e.auth, rawB)
}
