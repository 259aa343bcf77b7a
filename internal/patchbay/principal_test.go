package patchbay_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/sqlite"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

// readCountingStore counts the reads a project's view is made from.
type readCountingStore struct {
	patchbay.Store
	reads atomic.Int64
}

func (s *readCountingStore) GetProject(ctx context.Context, orgID, id string) (*patchbay.Project, error) {
	s.reads.Add(1)
	return s.Store.GetProject(ctx, orgID, id)
}

func (s *readCountingStore) OrgOwner(ctx context.Context, orgID string) (*patchbay.Member, error) {
	s.reads.Add(1)
	return s.Store.OrgOwner(ctx, orgID)
}

func (s *readCountingStore) GetSecret(ctx context.Context, ref patchbay.SecretRef) (patchbay.StoredSecret, error) {
	s.reads.Add(1)
	return s.Store.GetSecret(ctx, ref)
}

// TestPrincipalCarriesProjectView: a verified project key's principal
// carries its project as surfaces show it (owner email, masked webhook
// secret), never the secret itself; an organization key's carries none.
func TestPrincipalCarriesProjectView(t *testing.T) {
	e := MustEnv(t)
	_, raw := e.MustProjectKey("ci")
	_, oraw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "org"})
	secret, err := e.svc.WebhookSecret(e.ctx, e.cli, e.project.ID)
	if err != nil {
		t.Fatal(err)
	}

	p := e.MustAuth(e.auth, raw)
	v := p.Project
	if v == nil || v.Project == nil {
		t.Fatalf("project key's principal carries no project: %+v", p)
	}
	if v.Project.ID != e.project.ID || v.Project.Name != e.project.Name || v.Project.OrgID != e.org.ID {
		t.Errorf("principal's project = %+v, want %+v", v.Project, e.project)
	}
	if v.OwnerEmail != "owner@example.com" {
		t.Errorf("principal's owner email = %q, want the owner's", v.OwnerEmail)
	}
	if want := patchbay.MaskSecret(secret); v.MaskedWebhookSecret != want || !strings.HasSuffix(want, "…") {
		t.Errorf("principal's masked webhook secret = %q, want %q", v.MaskedWebhookSecret, want)
	}
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		if s := fmt.Sprintf(verb, *p) + fmt.Sprintf(verb, *v); strings.Contains(s, secret.Reveal()) || strings.Contains(s, secret.Reveal()[6:]) {
			t.Errorf("principal printed with %s shows the webhook secret", verb)
		}
	}
	// From the cache: the same principal, shared.
	if again := e.MustAuth(e.auth, raw); again != p {
		t.Error("a cached verification returned another principal")
	}

	op := e.MustAuth(e.auth, oraw)
	if op.Project != nil || op.ProjectID != "" {
		t.Errorf("organization key's principal carries project %q %+v", op.ProjectID, op.Project)
	}
}

// TestOwnProjectWithoutStoreRead: the principal's own project is answered
// from what was verified with its key, without reading the store; any
// other project is read.
func TestOwnProjectWithoutStoreRead(t *testing.T) {
	counting := &readCountingStore{}
	e := MustEnvWith(t, testdb.SQLite(t), func(e *env, cfg *patchbay.Config) {
		counting.Store = e.st
		cfg.Store = counting
	})
	_, raw := e.MustProjectKey("ci")
	p := e.MustAuth(e.auth, raw)

	counting.reads.Store(0)
	for _, id := range []string{p.ProjectID, ""} {
		v, err := e.svc.Project(e.ctx, p, id)
		if err != nil {
			t.Fatalf("Project(own, %q): %v", id, err)
		}
		if v != p.Project {
			t.Errorf("Project(own, %q) = %+v, want the principal's view", id, v)
		}
	}
	if n := counting.reads.Load(); n != 0 {
		t.Errorf("Project(own) read the store %d times, want 0", n)
	}
	// The same question from the CLI, which has no cached project, reads.
	v, err := e.svc.Project(e.ctx, e.cli, e.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := counting.reads.Load(); n == 0 {
		t.Error("Project from the CLI read nothing: the counter counts nothing")
	}
	if v.OwnerEmail != p.Project.OwnerEmail || v.MaskedWebhookSecret != p.Project.MaskedWebhookSecret || v.Project.ID != p.Project.Project.ID {
		t.Errorf("read view %+v differs from the cached %+v", v, p.Project)
	}
}

// TestOwnProjectWithClosedStore: with the database handle closed, the
// principal's own project still answers; anything that reads does not.
func TestOwnProjectWithClosedStore(t *testing.T) {
	path := testdb.SQLitePath(t)
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	var closeOnce sync.Once
	closeStore := func() { closeOnce.Do(func() { st.Close() }) }
	t.Cleanup(closeStore)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := MustEnvOn(t, st)
	_, raw := e.MustProjectKey("ci")
	p := e.MustAuth(e.auth, raw)

	closeStore()
	if _, err := e.svc.Project(e.ctx, e.cli, e.project.ID); err == nil {
		t.Fatal("Project from the CLI answered with the store closed: the store is not closed")
	}
	v, err := e.svc.Project(e.ctx, p, p.ProjectID)
	if err != nil || v != p.Project {
		t.Errorf("Project(own) with the store closed = %+v, %v; want the principal's view", v, err)
	}
	// Verification itself comes from the cache too.
	if again, err := e.auth.Authenticate(e.ctx, raw); err != nil || again != p {
		t.Errorf("Authenticate with the store closed = %v, %v; want the cached principal", again, err)
	}
}

// TestRevokeEvictsPrincipal: revoking a key evicts its principal, project
// view included: the next verification fails, and a new key's principal
// is built afresh.
func TestRevokeEvictsPrincipal(t *testing.T) {
	e := MustEnv(t)
	k, raw := e.MustProjectKey("ci")
	_, keepRaw := e.MustProjectKey("keep")
	p := e.MustAuth(e.auth, raw)
	e.MustAuth(e.auth, keepRaw)
	if p.Project == nil {
		t.Fatal("no project view cached")
	}
	if got := e.auth.CachedKeys(); got != 2 {
		t.Fatalf("CachedKeys() = %d, want 2", got)
	}
	if _, err := e.svc.RevokeAPIKey(e.ctx, e.cli, k.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.auth.CachedKeys(); got != 1 {
		t.Errorf("CachedKeys() = %d after the revocation, want 1", got)
	}
	e.MustReject(e.auth, raw, "revoked key")
	if _, err := e.svc.Authenticate(e.ctx, raw); patchbay.ErrorCode(err) != patchbay.EUNAUTHORIZED {
		t.Errorf("Service.Authenticate(revoked) = %v, want EUNAUTHORIZED", err)
	}
	e.MustAuth(e.auth, keepRaw)

	// Deleting the project revokes its keys: their principals go too.
	cp, err := e.svc.CreateProject(e.ctx, e.cli, "Doomed", true)
	if err != nil {
		t.Fatal(err)
	}
	doomed := e.MustAuth(e.auth, cp.Token.Secret.Reveal())
	if doomed.Project == nil || doomed.Project.Project.ID != cp.Project.ID {
		t.Fatalf("doomed key's principal carries %+v", doomed.Project)
	}
	if err := e.svc.DeleteProject(e.ctx, e.cli, cp.Project.ID); err != nil {
		t.Fatal(err)
	}
	e.MustReject(e.auth, cp.Token.Secret.Reveal(), "key of a deleted project")
}
