package patchbay_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/keyring"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

// refreshingSealer is a keyring whose Seal sees a rotation made by another
// instance right after it sealed: the race between Seal and ActiveTerm.
type refreshingSealer struct{ *keyring.Keyring }

func (s refreshingSealer) Seal(ref patchbay.SecretRef, p patchbay.Secret) (patchbay.Sealed, error) {
	sealed, err := s.Keyring.Seal(ref, p)
	if err != nil {
		return nil, err
	}
	return sealed, s.Keyring.Refresh(context.Background())
}

// TestStoredTermMatchesCiphertext: a rotation that lands while a value is
// sealed must not leave a row claiming a newer term than sealed it, or
// re-encryption would never move it off the old term.
func TestStoredTermMatchesCiphertext(t *testing.T) {
	creators := map[string]func(e *env) patchbay.SecretRef{
		"webhook secret": func(e *env) patchbay.SecretRef {
			cp, err := e.svc.CreateProject(e.ctx, e.cli, "Racy", false)
			if err != nil {
				e.t.Fatal(err)
			}
			return patchbay.SecretRef{ProjectID: cp.Project.ID, Record: cp.Project.ID, Field: patchbay.FieldWebhookSecret}
		},
		"auth config credentials": func(e *env) patchbay.SecretRef {
			p := e.MustProjectPrincipal(e.owner, e.project.ID)
			ac, err := e.svc.CreateAuthConfig(e.ctx, p, patchbay.NewAuthConfig{
				Toolkit: "acme", Mode: patchbay.AuthAPIKey, Credentials: map[string]any{"client_secret": "s3cr3t"},
			})
			if err != nil {
				e.t.Fatal(err)
			}
			return patchbay.CredentialsRef(e.project.ID, ac.ID)
		},
	}
	for name, create := range creators {
		t.Run(name, func(t *testing.T) {
			e := MustEnvWith(t, testdb.SQLite(t), func(e *env, cfg *patchbay.Config) {
				cfg.Sealer = refreshingSealer{e.kr}
			})
			// Another instance (same root key) rotates; e.kr has not loaded
			// the new term yet, and loads it right after its next Seal.
			other, err := keyring.Open(e.ctx, e.st, e.rootKey, rand.Reader, e.clock.Now)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := other.Rotate(e.ctx); err != nil {
				t.Fatal(err)
			}
			if e.kr.ActiveTerm() != 1 {
				t.Fatalf("active term %d, want 1 before refresh", e.kr.ActiveTerm())
			}
			ref := create(e)
			st, err := e.st.GetSecret(e.ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			term, err := keyring.Term(st.Sealed)
			if err != nil {
				t.Fatal(err)
			}
			if st.Term > term {
				t.Fatalf("row claims term %d, but the value is sealed under term %d", st.Term, term)
			}
			want, err := e.kr.Open(ref, st.Sealed)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.kr.Reencrypt(e.ctx, e.st, 10); err != nil {
				t.Fatal(err)
			}
			st, err = e.st.GetSecret(e.ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if term, _ := keyring.Term(st.Sealed); term != 2 || st.Term != 2 {
				t.Fatalf("after Reencrypt: row term %d, ciphertext term %d; want 2", st.Term, term)
			}
			if got, err := e.kr.Open(ref, st.Sealed); err != nil || got.Reveal() != want.Reveal() {
				t.Fatalf("after Reencrypt: Open = %v, %v", got, err)
			}
		})
	}
}
