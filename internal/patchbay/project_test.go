package patchbay_test

import (
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/keyring"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func TestDeleteProjectRevokesKeys(t *testing.T) {
	e := MustEnv(t)
	cp, err := e.svc.CreateProject(e.ctx, e.cli, "Doomed", true)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Key == nil || cp.Key.Name != "default" {
		t.Fatalf("CreateProject(withKey) key = %+v", cp.Key)
	}
	k2, raw2 := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: cp.Project.ID, Name: "second"})
	_, keepRaw := e.MustProjectKey("survivor")
	raw1 := cp.Token.Secret.Reveal()
	for _, raw := range []string{raw1, raw2, keepRaw} {
		e.MustAuth(e.auth, raw)
	}

	e.clock.Advance(time.Minute)
	if err := e.svc.DeleteProject(e.ctx, e.cli, cp.Project.ID); err != nil {
		t.Fatal(err)
	}
	e.MustReject(e.auth, raw1, "first key of the deleted project")
	e.MustReject(e.auth, raw2, "second key of the deleted project")
	e.MustAuth(e.auth, keepRaw)
	for _, id := range []string{cp.Key.ID, k2.ID} {
		if k := e.MustGetKey(id); k.RevokedAt == nil || !k.RevokedAt.Equal(e.clock.Now()) || k.RevokedBy != e.owner.ID {
			t.Errorf("key %s revoked at %v by %q", id, k.RevokedAt, k.RevokedBy)
		}
	}
	_, err = e.svc.Project(e.ctx, e.cli, cp.Project.ID)
	wantCode(t, "Project(deleted)", err, patchbay.ENOTFOUND)
	wantCode(t, "DeleteProject(again)", e.svc.DeleteProject(e.ctx, e.cli, cp.Project.ID), patchbay.ENOTFOUND)
	_, _, err = e.svc.CreateAPIKey(e.ctx, e.cli, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: cp.Project.ID, Name: "late"})
	wantCode(t, "CreateAPIKey(deleted project)", err, patchbay.ENOTFOUND)
}

func TestProjectWebhookSecretIsSealed(t *testing.T) {
	e := MustEnv(t)
	cp, err := e.svc.CreateProject(e.ctx, e.cli, "Hooks", false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.svc.WebhookSecret(e.ctx, e.cli, cp.Project.ID)
	if err != nil || !strings.HasPrefix(s.Reveal(), "whsec_") {
		t.Fatalf("WebhookSecret = %v, %v", s, err)
	}
	ref := patchbay.SecretRef{ProjectID: cp.Project.ID, Record: cp.Project.ID, Field: patchbay.FieldWebhookSecret}
	st, err := e.st.GetSecret(e.ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(st.Sealed), s.Reveal()) {
		t.Fatal("the stored value holds the plaintext")
	}
	if term, err := keyring.Term(st.Sealed); err != nil || term != st.Term {
		t.Errorf("stored term %d, ciphertext term %d (%v)", st.Term, term, err)
	}
	// Another project's secret does not open under this project's ref.
	if _, err := e.kr.Open(patchbay.SecretRef{ProjectID: e.project.ID, Record: e.project.ID, Field: patchbay.FieldWebhookSecret}, st.Sealed); err == nil {
		t.Error("a project's webhook secret opened under another project's ref")
	}
}
