package keyring_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/keyring"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/sqlite"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

var ctx = context.Background()

func now() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC) }

// forEachStore runs fn against a fresh SQLite store and, when
// PATCHBAY_TEST_POSTGRES_URL is set, a fresh PostgreSQL schema.
func forEachStore(t *testing.T, fn func(t *testing.T, st patchbay.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, testdb.SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, testdb.Postgres(t)) })
}

// MustRootKey returns a fresh random root key.
func MustRootKey(tb testing.TB) patchbay.Secret {
	tb.Helper()
	s, err := keyring.NewRootKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	k, err := keyring.ParseRootKey(s)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// MustOpen opens the keyring of st with root.
func MustOpen(tb testing.TB, st keyring.TermStore, root patchbay.Secret) *keyring.Keyring {
	tb.Helper()
	kr, err := keyring.Open(ctx, st, root, rand.Reader, now)
	if err != nil {
		tb.Fatal(err)
	}
	return kr
}

func MustSeal(tb testing.TB, kr *keyring.Keyring, ref patchbay.SecretRef, plaintext string) patchbay.Sealed {
	tb.Helper()
	sealed, err := kr.Seal(ref, patchbay.NewSecret(plaintext))
	if err != nil {
		tb.Fatal(err)
	}
	return sealed
}

func MustTerm(tb testing.TB, sealed patchbay.Sealed) uint32 {
	tb.Helper()
	term, err := keyring.Term(sealed)
	if err != nil {
		tb.Fatal(err)
	}
	return term
}

func termCount(t *testing.T, st keyring.TermStore) int {
	t.Helper()
	terms, err := st.KeyTerms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return len(terms)
}

var ref = patchbay.SecretRef{ProjectID: "pr_aaaaaaaaaaaaaaaa", Record: "ca_bbbbbbbbbbbbbbbb", Field: "credentials"}

func TestSealOpen(t *testing.T) {
	forEachStore(t, func(t *testing.T, st patchbay.Store) {
		root := MustRootKey(t)
		kr := MustOpen(t, st, root)
		if got := kr.ActiveTerm(); got != 1 {
			t.Fatalf("ActiveTerm() on a new database = %d, want 1", got)
		}
		for _, pt := range []string{"s3cr3t", "", strings.Repeat("x", 100_000), "\x00\xff"} {
			sealed := MustSeal(t, kr, ref, pt)
			if got := MustTerm(t, sealed); got != kr.ActiveTerm() {
				t.Errorf("Term(sealed) = %d, want the active term %d", got, kr.ActiveTerm())
			}
			if len(pt) >= 4 && bytes.Contains(sealed, []byte(pt)) {
				t.Error("the sealed value holds the plaintext")
			}
			got, err := kr.Open(ref, sealed)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got.Reveal() != pt {
				t.Fatalf("Open = %d bytes, want the %d sealed", len(got.Reveal()), len(pt))
			}
		}
		// Random nonces: sealing twice gives different ciphertexts.
		if a, b := MustSeal(t, kr, ref, "same"), MustSeal(t, kr, ref, "same"); bytes.Equal(a, b) {
			t.Error("two seals of the same value are identical")
		}
		// A second Open of the same database reuses the term.
		kr2 := MustOpen(t, st, root)
		if kr2.ActiveTerm() != 1 || termCount(t, st) != 1 {
			t.Errorf("second Open: active term %d, %d terms; want 1, 1", kr2.ActiveTerm(), termCount(t, st))
		}
	})
}

func TestOpenWithOtherRefFails(t *testing.T) {
	forEachStore(t, func(t *testing.T, st patchbay.Store) {
		kr := MustOpen(t, st, MustRootKey(t))
		sealed := MustSeal(t, kr, ref, "s3cr3t")
		others := map[string]patchbay.SecretRef{
			"other project":      {ProjectID: "pr_cccccccccccccccc", Record: ref.Record, Field: ref.Field},
			"organization level": {ProjectID: "", Record: ref.Record, Field: ref.Field},
			"other record":       {ProjectID: ref.ProjectID, Record: "ca_dddddddddddddddd", Field: ref.Field},
			"other field":        {ProjectID: ref.ProjectID, Record: ref.Record, Field: "webhook_secret"},
			"empty":              {},
			"fields swapped":     {ProjectID: ref.Record, Record: ref.ProjectID, Field: ref.Field},
		}
		for name, other := range others {
			if _, err := kr.Open(other, sealed); err == nil {
				t.Errorf("%s: a value sealed for %+v opened for %+v", name, ref, other)
			} else if patchbay.ErrorCode(err) != patchbay.EINTERNAL {
				t.Errorf("%s: error code %q, want %q", name, patchbay.ErrorCode(err), patchbay.EINTERNAL)
			}
		}
	})
}

func TestTamperingFails(t *testing.T) {
	st := testdb.SQLite(t)
	kr := MustOpen(t, st, MustRootKey(t))
	if _, err := kr.Rotate(ctx); err != nil { // terms 1 and 2 both loaded
		t.Fatal(err)
	}
	sealed := MustSeal(t, kr, ref, "s3cr3t")
	for i := range sealed {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(sealed)
			b[i] ^= mask
			if got, err := kr.Open(ref, b); err == nil {
				t.Fatalf("flipping byte %d with %#x still opens (to %d bytes)", i, mask, len(got.Reveal()))
			}
		}
	}
	for n := range len(sealed) {
		if _, err := kr.Open(ref, sealed[:n]); err == nil {
			t.Fatalf("truncated to %d bytes still opens", n)
		}
	}
	if _, err := kr.Open(ref, append(bytes.Clone(sealed), 0)); err == nil {
		t.Fatal("extended value still opens")
	}
	// Relabelled as the other term, with the term's own header.
	b := bytes.Clone(sealed)
	b[3] = 1
	if _, err := kr.Open(ref, b); err == nil {
		t.Fatal("value relabelled to term 1 opens")
	}
	if _, err := kr.Open(ref, sealed); err != nil {
		t.Fatalf("the untouched value no longer opens: %v", err)
	}
}

func TestCheckWrongRootKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, st patchbay.Store) {
		root := MustRootKey(t)
		MustOpen(t, st, root)
		if _, err := MustOpen(t, st, root).Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		before := termCount(t, st)

		wrong := MustRootKey(t)
		if err := keyring.Check(ctx, st, wrong); !errors.Is(err, keyring.ErrWrongRootKey) {
			t.Fatalf("Check(wrong root) = %v, want ErrWrongRootKey", err)
		}
		if _, err := keyring.Open(ctx, st, wrong, rand.Reader, now); !errors.Is(err, keyring.ErrWrongRootKey) {
			t.Fatalf("Open(wrong root) = %v, want ErrWrongRootKey", err)
		}
		if after := termCount(t, st); after != before {
			t.Fatalf("key_terms rows: %d before, %d after a wrong root key; want no writes", before, after)
		}
		if err := keyring.Check(ctx, st, root); err != nil {
			t.Fatalf("Check(right root) = %v", err)
		}
		if err := keyring.Check(ctx, st, patchbay.NewSecret("short")); err == nil {
			t.Fatal("Check(31-byte root) succeeded")
		}
	})
}

func TestCheckWritesNothingOnNewDatabase(t *testing.T) {
	// A database never migrated: Check reads nothing, writes nothing.
	st, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := keyring.Check(ctx, st, MustRootKey(t)); err != nil {
		t.Fatalf("Check(unmigrated) = %v", err)
	}
	var n int
	if err := st.SQL().QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("unmigrated database has %d schema objects after Check (%v), want 0", n, err)
	}
	// Migrated but empty: still no writes.
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := keyring.Check(ctx, st, MustRootKey(t)); err != nil || termCount(t, st) != 0 {
		t.Fatalf("Check(empty) = %v with %d terms, want nil and 0", err, termCount(t, st))
	}
}

func TestParseRootKey(t *testing.T) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	raw[0], raw[1] = 0xfb, 0xff // forces + and / (or - and _) into base64
	forms := map[string]string{
		"hex":             hex.EncodeToString(raw),
		"HEX":             strings.ToUpper(hex.EncodeToString(raw)),
		"base64":          base64.StdEncoding.EncodeToString(raw),
		"raw base64":      base64.RawStdEncoding.EncodeToString(raw),
		"base64url":       base64.URLEncoding.EncodeToString(raw),
		"raw base64url":   base64.RawURLEncoding.EncodeToString(raw),
		"hex, whitespace": "  " + hex.EncodeToString(raw) + "\n",
		"b64, newline":    base64.StdEncoding.EncodeToString(raw) + "\n",
	}
	for name, s := range forms {
		k, err := keyring.ParseRootKey(s)
		if err != nil {
			t.Errorf("%s: ParseRootKey: %v", name, err)
			continue
		}
		if !bytes.Equal([]byte(k.Reveal()), raw) {
			t.Errorf("%s: ParseRootKey decoded other bytes", name)
		}
	}
	generated, err := keyring.NewRootKey(rand.Reader)
	if err != nil || len(generated) != 64 {
		t.Fatalf("NewRootKey = %q, %v; want 64 hex characters", generated, err)
	}
	if _, err := keyring.ParseRootKey(generated); err != nil {
		t.Fatalf("ParseRootKey(NewRootKey()) = %v", err)
	}

	bad := map[string]string{
		"empty":         "",
		"31 bytes hex":  hex.EncodeToString(raw[:31]),
		"33 bytes hex":  hex.EncodeToString(append(raw, 1)),
		"16 bytes hex":  hex.EncodeToString(raw[:16]),
		"31 bytes b64":  base64.StdEncoding.EncodeToString(raw[:31]),
		"33 bytes b64":  base64.StdEncoding.EncodeToString(append(raw, 1)),
		"64 bytes b64":  base64.StdEncoding.EncodeToString(append(raw, raw...)),
		"odd hex":       hex.EncodeToString(raw)[:63],
		"not encoded":   "correct horse battery staple, 32+ chars long",
		"hex with junk": hex.EncodeToString(raw)[:62] + "zz",
	}
	for name, s := range bad {
		_, err := keyring.ParseRootKey(s)
		if err == nil {
			t.Errorf("%s: ParseRootKey accepted %q", name, s)
			continue
		}
		if len(s) >= 8 && strings.Contains(err.Error(), s) {
			t.Errorf("%s: error %q contains the key", name, err)
		}
	}
}

func TestRotate(t *testing.T) {
	forEachStore(t, func(t *testing.T, st patchbay.Store) {
		kr := MustOpen(t, st, MustRootKey(t))
		old := MustSeal(t, kr, ref, "sealed under term 1")
		term, err := kr.Rotate(ctx)
		if err != nil || term != 2 || kr.ActiveTerm() != 2 {
			t.Fatalf("Rotate = %d, %v; active %d; want 2", term, err, kr.ActiveTerm())
		}
		if n := termCount(t, st); n != 2 {
			t.Fatalf("%d terms after a rotation, want 2", n)
		}
		fresh := MustSeal(t, kr, ref, "sealed under term 2")
		if MustTerm(t, old) != 1 || MustTerm(t, fresh) != 2 {
			t.Fatalf("terms of old and new values: %d, %d; want 1, 2", MustTerm(t, old), MustTerm(t, fresh))
		}
		for want, sealed := range map[string]patchbay.Sealed{"sealed under term 1": old, "sealed under term 2": fresh} {
			got, err := kr.Open(ref, sealed)
			if err != nil || got.Reveal() != want {
				t.Errorf("Open after rotation = %q, %v; want %q", got.Reveal(), err, want)
			}
		}
	})
}

func TestOtherInstanceSeesRotation(t *testing.T) {
	forEachStore(t, func(t *testing.T, st patchbay.Store) {
		root := MustRootKey(t)
		a := MustOpen(t, st, root)
		b := MustOpen(t, st, root) // another process on the same database
		if _, err := a.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		sealed := MustSeal(t, a, ref, "from a")
		if b.ActiveTerm() != 1 {
			t.Fatalf("b's active term = %d before it saw the rotation, want 1", b.ActiveTerm())
		}
		got, err := b.Open(ref, sealed)
		if err != nil || got.Reveal() != "from a" {
			t.Fatalf("b.Open(value under a term b has not loaded) = %q, %v", got.Reveal(), err)
		}
		if b.ActiveTerm() != 2 {
			t.Errorf("b's active term = %d after the refresh, want 2", b.ActiveTerm())
		}
		// A term nobody has created is an error, not a panic or a hang.
		bogus := bytes.Clone(sealed)
		bogus[0] = 0x7f
		if _, err := b.Open(ref, bogus); err == nil || !strings.Contains(err.Error(), "term") {
			t.Errorf("Open(unknown term) = %v, want an unknown-term error", err)
		}
		// b rotates in turn: it builds on a's term, and a opens b's values.
		if term, err := b.Rotate(ctx); err != nil || term != 3 {
			t.Fatalf("b.Rotate = %d, %v; want 3", term, err)
		}
		if got, err := a.Open(ref, MustSeal(t, b, ref, "from b")); err != nil || got.Reveal() != "from b" {
			t.Fatalf("a.Open(value under b's new term) = %q, %v", got.Reveal(), err)
		}
	})
}

// putSecrets seals n values for distinct refs under kr's active term.
func putSecrets(t *testing.T, st patchbay.Store, kr *keyring.Keyring, n int) map[patchbay.SecretRef]string {
	t.Helper()
	want := map[patchbay.SecretRef]string{}
	for i := range n {
		r := patchbay.SecretRef{ProjectID: fmt.Sprintf("pr_%03d", i%3), Record: fmt.Sprintf("ca_%04d", i), Field: "credentials"}
		pt := fmt.Sprintf("secret number %d", i)
		if err := st.PutSecret(ctx, patchbay.StoredSecret{Ref: r, Term: kr.ActiveTerm(), Sealed: MustSeal(t, kr, r, pt)}); err != nil {
			t.Fatal(err)
		}
		want[r] = pt
	}
	return want
}

// checkSecrets verifies every value opens with its ref and is sealed under
// term, by its row and by its ciphertext.
func checkSecrets(t *testing.T, st patchbay.Store, kr *keyring.Keyring, want map[patchbay.SecretRef]string, term uint32) {
	t.Helper()
	for r, pt := range want {
		s, err := st.GetSecret(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if s.Term != term || MustTerm(t, s.Sealed) != term {
			t.Errorf("%+v: row term %d, ciphertext term %d; want %d", r, s.Term, MustTerm(t, s.Sealed), term)
		}
		got, err := kr.Open(r, s.Sealed)
		if err != nil || got.Reveal() != pt {
			t.Errorf("%+v: Open = %q, %v; want %q", r, got.Reveal(), err, pt)
		}
	}
}

func counts(t *testing.T, st patchbay.Store) map[uint32]int {
	t.Helper()
	c, err := st.CountSecretsByTerm(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReencrypt(t *testing.T) {
	forEachStore(t, func(t *testing.T, st patchbay.Store) {
		kr := MustOpen(t, st, MustRootKey(t))
		const n = 23
		want := putSecrets(t, st, kr, n)
		if _, err := kr.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		if c := counts(t, st); c[1] != n || len(c) != 1 {
			t.Fatalf("CountSecretsByTerm before = %v, want {1: %d}", c, n)
		}
		moved, err := kr.Reencrypt(ctx, st, 5)
		if err != nil || moved != n {
			t.Fatalf("Reencrypt = %d, %v; want %d", moved, err, n)
		}
		if c := counts(t, st); c[2] != n || len(c) != 1 {
			t.Fatalf("CountSecretsByTerm after = %v, want {2: %d}", c, n)
		}
		checkSecrets(t, st, kr, want, 2)
		if moved, err := kr.Reencrypt(ctx, st, 5); err != nil || moved != 0 {
			t.Fatalf("second Reencrypt = %d, %v; want 0", moved, err)
		}
	})
}

func TestConcurrentReencrypt(t *testing.T) {
	forEachStore(t, func(t *testing.T, st patchbay.Store) {
		root := MustRootKey(t)
		a := MustOpen(t, st, root)
		const n = 40
		want := putSecrets(t, st, a, n)
		if _, err := a.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		b := MustOpen(t, st, root) // loads both terms
		if b.ActiveTerm() != 2 {
			t.Fatalf("b's active term = %d, want 2", b.ActiveTerm())
		}
		var (
			wg    sync.WaitGroup
			moved [2]int
			errs  [2]error
		)
		for i, kr := range []*keyring.Keyring{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				moved[i], errs[i] = kr.Reencrypt(ctx, st, 4)
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("Reencrypt errors: %v, %v", errs[0], errs[1])
		}
		if moved[0]+moved[1] != n {
			t.Errorf("moved %d + %d values, want %d in all (each exactly once)", moved[0], moved[1], n)
		}
		if c := counts(t, st); c[2] != n || len(c) != 1 {
			t.Fatalf("CountSecretsByTerm after = %v, want {2: %d}", c, n)
		}
		checkSecrets(t, st, a, want, 2)
		checkSecrets(t, st, b, want, 2)
	})
}

// racingStore rewrites a value (as the application would, under the active
// term) between Reencrypt's listing and its replacement.
type racingStore struct {
	patchbay.Store
	kr   *keyring.Keyring
	ref  patchbay.SecretRef
	once sync.Once
	t    *testing.T
}

func (s *racingStore) SecretsBelowTerm(ctx context.Context, term uint32, limit int) ([]patchbay.StoredSecret, error) {
	out, err := s.Store.SecretsBelowTerm(ctx, term, limit)
	s.once.Do(func() {
		sealed := MustSeal(s.t, s.kr, s.ref, "rewritten")
		if err := s.Store.PutSecret(ctx, patchbay.StoredSecret{Ref: s.ref, Term: s.kr.ActiveTerm(), Sealed: sealed}); err != nil {
			s.t.Error(err)
		}
	})
	return out, err
}

func TestReencryptLeavesConcurrentWritesAlone(t *testing.T) {
	st := testdb.SQLite(t)
	kr := MustOpen(t, st, MustRootKey(t))
	want := putSecrets(t, st, kr, 5)
	if _, err := kr.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	var target patchbay.SecretRef
	for r := range want {
		target = r
		break
	}
	want[target] = "rewritten"
	if _, err := kr.Reencrypt(ctx, &racingStore{Store: st, kr: kr, ref: target, t: t}, 100); err != nil {
		t.Fatal(err)
	}
	checkSecrets(t, st, kr, want, 2)
}

// FuzzOpen: arbitrary bytes never panic and never open, except the one
// genuine ciphertext.
func FuzzOpen(f *testing.F) {
	st := testdb.SQLite(f)
	kr := MustOpen(f, st, MustRootKey(f))
	if _, err := kr.Rotate(f.Context()); err != nil {
		f.Fatal(err)
	}
	genuine := MustSeal(f, kr, ref, "the one genuine value")
	f.Add([]byte(genuine))
	old := bytes.Clone(genuine)
	old[3] = 1
	f.Add(old)
	f.Add([]byte(genuine[:len(genuine)-1]))
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1, 1})
	f.Add(append([]byte{0, 0, 0, 2, 1}, make([]byte, 28)...))
	f.Add(append([]byte{0xff, 0xff, 0xff, 0xff, 1}, make([]byte, 40)...))
	f.Add(append([]byte{0, 0, 0, 2, 2}, genuine[5:]...))

	other := patchbay.SecretRef{ProjectID: ref.ProjectID, Record: ref.Record, Field: "other"}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = keyring.Term(data)
		got, err := kr.Open(other, data)
		if err == nil {
			t.Fatalf("Open(%x) under another ref = %q, want an error", data, got.Reveal())
		}
		if bytes.Equal(data, genuine) {
			return
		}
		got, err = kr.Open(ref, data)
		if err == nil {
			t.Fatalf("Open(%x) = %q, want an error", data, got.Reveal())
		}
		if patchbay.ErrorCode(err) != patchbay.EINTERNAL {
			t.Fatalf("Open(%x) error code %q, want %q", data, patchbay.ErrorCode(err), patchbay.EINTERNAL)
		}
	})
}

// A server's keyring picks up a rotation made elsewhere (the CLI) and moves
// the values sealed under the old term in the background: Run.
func TestRunPicksUpRotationAndReencrypts(t *testing.T) {
	forEachStore(t, func(t *testing.T, st patchbay.Store) {
		root := MustRootKey(t)
		server := MustOpen(t, st, root)
		const n = 7
		want := putSecrets(t, st, server, n)
		cli := MustOpen(t, st, root)
		if _, err := cli.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			server.Run(runCtx, st, 20*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
		}()
		defer func() { cancel(); <-done }()
		deadline := time.Now().Add(5 * time.Second)
		for {
			c := counts(t, st)
			if c[2] == n && len(c) == 1 && server.ActiveTerm() == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after Run: counts %v, active term %d; want every value on term 2", c, server.ActiveTerm())
			}
			time.Sleep(20 * time.Millisecond)
		}
		checkSecrets(t, st, server, want, 2)
	})
}
