package storetest

import (
	"bytes"
	"context"
	"maps"
	"math"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

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

func testProjectSecrets(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	own := []patchbay.StoredSecret{
		secret("pr_a", "pr_a", "webhook_secret", 1, "a"),
		secret("pr_b", "pr_b", "webhook_secret", 2, "b"),
	}
	others := []patchbay.StoredSecret{
		secret("pr_a", "ca_1", "webhook_secret", 1, "not the project's own"),
		secret("pr_c", "pr_c", "token", 1, "another field"),
		secret("pr_d", "pr_a", "webhook_secret", 1, "another project's record"),
	}
	for _, st := range append(own, others...) {
		mustOK(t, "PutSecret", s.PutSecret(ctx, st))
	}
	got, err := s.ProjectSecrets(ctx, "webhook_secret", []string{"pr_a", "pr_b", "pr_c", "pr_d", "pr_none"})
	mustOK(t, "ProjectSecrets", err)
	if len(got) != len(own) {
		t.Fatalf("ProjectSecrets returned %d values (%v), want %d: only each project's own", len(got), got, len(own))
	}
	for _, want := range own {
		wantSecret(t, "ProjectSecrets["+want.Ref.ProjectID+"]", got[want.Ref.ProjectID], want)
	}
	none, err := s.ProjectSecrets(ctx, "webhook_secret", nil)
	mustOK(t, "ProjectSecrets(none)", err)
	if len(none) != 0 {
		t.Errorf("ProjectSecrets(no IDs) = %v, want empty", none)
	}
}
