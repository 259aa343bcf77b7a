package patchbay_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// The key format, restated here so that the tests check the implementation
// against an independent reading of it rather than against itself.
const (
	testBase62   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	testBodyLen  = 27
	testCheckLen = 6
)

var testPrefixes = map[patchbay.KeyKind]string{
	patchbay.KeyKindProject: "ak_",
	patchbay.KeyKindOrg:     "oak_",
}

// checksum is the base62 CRC32 of head in testCheckLen digits, computed with
// uint64 arithmetic (the implementation uses math/big).
func checksum(head string) string {
	n := uint64(crc32.ChecksumIEEE([]byte(head)))
	out := make([]byte, testCheckLen)
	for i := testCheckLen - 1; i >= 0; i-- {
		out[i] = testBase62[n%62]
		n /= 62
	}
	return string(out)
}

// validKey reports whether raw is a well-formed key by the independent
// reading above, and of which kind.
func validKey(raw string) (patchbay.KeyKind, bool) {
	for kind, prefix := range testPrefixes {
		if !strings.HasPrefix(raw, prefix) || len(raw) != len(prefix)+testBodyLen+testCheckLen {
			continue
		}
		for i := len(prefix); i < len(raw); i++ {
			if !strings.ContainsRune(testBase62, rune(raw[i])) {
				return "", false
			}
		}
		head := raw[:len(raw)-testCheckLen]
		return kind, checksum(head) == raw[len(head):]
	}
	return "", false
}

// MustGenerateKey returns a fresh key of kind from crypto/rand.
func MustGenerateKey(tb testing.TB, kind patchbay.KeyKind) patchbay.KeyToken {
	tb.Helper()
	tok, err := patchbay.GenerateKey(kind, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

var kinds = []patchbay.KeyKind{patchbay.KeyKindProject, patchbay.KeyKindOrg}

// assertRejected checks that ParseKey refuses raw with EUNAUTHORIZED and a
// message that does not contain it.
func assertRejected(t *testing.T, raw, why string) {
	t.Helper()
	tok, err := patchbay.ParseKey(raw)
	if err == nil {
		t.Fatalf("%s: ParseKey(%q) = %v kind %s, want an error", why, raw, tok.Secret, tok.Kind)
	}
	if got := patchbay.ErrorCode(err); got != patchbay.EUNAUTHORIZED {
		t.Fatalf("%s: ParseKey(%q) code = %q, want %q", why, raw, got, patchbay.EUNAUTHORIZED)
	}
	// Shorter inputs ("a", "ke") may be in any English message by chance.
	if len(raw) >= 8 && strings.Contains(err.Error(), raw) {
		t.Fatalf("%s: error %q contains the key", why, err)
	}
}

func TestGenerateKeyParsesBack(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			for range 50 {
				tok := MustGenerateKey(t, kind)
				raw := tok.Secret.Reveal()
				if gotKind, ok := validKey(raw); !ok || gotKind != kind {
					t.Fatalf("generated key %q is not a valid %s key by the independent check", raw, kind)
				}
				got, err := patchbay.ParseKey(raw)
				if err != nil {
					t.Fatalf("ParseKey(generated %q): %v", raw, err)
				}
				if got.Kind != kind {
					t.Errorf("ParseKey(%q).Kind = %q, want %q", raw, got.Kind, kind)
				}
				if got.Secret.Reveal() != raw {
					t.Errorf("ParseKey(%q).Secret = %q", raw, got.Secret.Reveal())
				}
				if got.Hash() != tok.Hash() {
					t.Errorf("hash of parsed key differs from hash of generated key")
				}
			}
		})
	}
}

func TestGenerateKeyEdgeRandomness(t *testing.T) {
	// The extremes of the 160-bit random part: all zero bits, all one bits
	// (the largest value the 27-digit body must still hold).
	for _, fill := range []byte{0x00, 0xff, 0x80, 0x01} {
		for _, kind := range kinds {
			tok, err := patchbay.GenerateKey(kind, bytes.NewReader(bytes.Repeat([]byte{fill}, 64)))
			if err != nil {
				t.Fatal(err)
			}
			raw := tok.Secret.Reveal()
			if _, ok := validKey(raw); !ok {
				t.Fatalf("fill %#x: key %q is malformed", fill, raw)
			}
			if _, err := patchbay.ParseKey(raw); err != nil {
				t.Fatalf("fill %#x: ParseKey(%q): %v", fill, raw, err)
			}
		}
	}
}

func TestGenerateKeyErrors(t *testing.T) {
	if _, err := patchbay.GenerateKey("user", rand.Reader); patchbay.ErrorCode(err) != patchbay.EINVALID {
		t.Errorf("GenerateKey(unknown kind) error = %v, want EINVALID", err)
	}
	short := bytes.NewReader(make([]byte, 5))
	if _, err := patchbay.GenerateKey(patchbay.KeyKindProject, short); patchbay.ErrorCode(err) != patchbay.EINTERNAL {
		t.Errorf("GenerateKey(short reader) error = %v, want EINTERNAL", err)
	}
	if _, err := patchbay.GenerateKey(patchbay.KeyKindProject, &errReader{}); patchbay.ErrorCode(err) != patchbay.EINTERNAL {
		t.Errorf("GenerateKey(failing reader) error = %v, want EINTERNAL", err)
	}
}

type errReader struct{}

func (*errReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

func TestKeyHashIsSHA256(t *testing.T) {
	for _, kind := range kinds {
		tok := MustGenerateKey(t, kind)
		if got, want := tok.Hash(), sha256.Sum256([]byte(tok.Secret.Reveal())); got != want {
			t.Errorf("%s: Hash() = %x, want SHA-256 of the plaintext %x", kind, got, want)
		}
	}
}

func TestDisplayPrefix(t *testing.T) {
	for _, kind := range kinds {
		tok := MustGenerateKey(t, kind)
		raw := tok.Secret.Reveal()
		want := raw[:len(testPrefixes[kind])+4]
		if got := tok.DisplayPrefix(); got != want {
			t.Errorf("%s: DisplayPrefix() = %q, want %q (prefix + 4 characters)", kind, got, want)
		}
	}
}

// TestKeyEntropy shows that a key carries at least 128 random bits: the
// generator reads at least 16 bytes of randomness, every one of those bits
// changes the key, and 1,000 keys are distinct and of the expected length.
func TestKeyEntropy(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			wantLen := len(testPrefixes[kind]) + testBodyLen + testCheckLen
			seen := make(map[string]bool, 1000)
			for range 1000 {
				raw := MustGenerateKey(t, kind).Secret.Reveal()
				if len(raw) != wantLen {
					t.Fatalf("len(%q) = %d, want %d", raw, len(raw), wantLen)
				}
				if seen[raw] {
					t.Fatalf("duplicate key %q", raw)
				}
				seen[raw] = true
			}

			cr := &countingReader{r: rand.Reader}
			if _, err := patchbay.GenerateKey(kind, cr); err != nil {
				t.Fatal(err)
			}
			if cr.n < 16 {
				t.Fatalf("GenerateKey read %d random bytes, want at least 16 (128 bits)", cr.n)
			}

			// Flip each random bit in turn: every flip must give a new key,
			// so no random bit is lost in the encoding.
			base := make([]byte, cr.n)
			if _, err := rand.Read(base); err != nil {
				t.Fatal(err)
			}
			keys := map[string]bool{}
			gen := func(b []byte) string {
				tok, err := patchbay.GenerateKey(kind, bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				return tok.Secret.Reveal()
			}
			keys[gen(base)] = true
			for i := range cr.n * 8 {
				b := bytes.Clone(base)
				b[i/8] ^= 1 << (i % 8)
				k := gen(b)
				if keys[k] {
					t.Fatalf("flipping random bit %d did not change the key", i)
				}
				keys[k] = true
			}
		})
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// substitutes are the characters tried at every position: all printable
// ASCII, and a few control and high bytes.
func substitutes() []byte {
	var out []byte
	for c := byte(0x20); c < 0x7f; c++ {
		out = append(out, c)
	}
	return append(out, 0x00, '\t', '\n', 0x7f, 0x80, 0xc3, 0xff)
}

func TestParseKeyRejectsEverySubstitution(t *testing.T) {
	subs := substitutes()
	for _, kind := range kinds {
		for range 5 {
			raw := MustGenerateKey(t, kind).Secret.Reveal()
			for i := range len(raw) {
				for _, c := range subs {
					if c == raw[i] {
						continue
					}
					b := []byte(raw)
					b[i] = c
					assertRejected(t, string(b), "substitution")
				}
			}
		}
	}
}

func TestParseKeyRejectsTruncationsAndExtensions(t *testing.T) {
	for _, kind := range kinds {
		raw := MustGenerateKey(t, kind).Secret.Reveal()
		for i := range len(raw) {
			assertRejected(t, raw[:i], "truncated end")
			if i > 0 {
				assertRejected(t, raw[i:], "truncated start")
			}
		}
		for _, c := range []string{"0", "a", " ", "\n", "_"} {
			assertRejected(t, raw+c, "extended")
			assertRejected(t, c+raw, "prepended")
		}
	}
}

func TestParseKeyRejectsWrongPrefixes(t *testing.T) {
	raw := MustGenerateKey(t, patchbay.KeyKindProject).Secret.Reveal()
	body := raw[len("ak_"):]
	for _, prefix := range []string{"", "a_", "k_", "AK_", "Ak_", "ak-", "ak", "sk_", "uak_", "xak_", "ghp_", "ak__", " ak_"} {
		// Both with the original checksum and with one recomputed over the
		// new prefix: the prefix itself must be checked.
		assertRejected(t, prefix+body, "wrong prefix "+prefix)
		head := prefix + body[:testBodyLen]
		assertRejected(t, head+checksum(head), "wrong prefix with valid checksum "+prefix)
	}
	// A project key's body under the organization prefix, checksum fixed.
	head := "oak_" + body[:testBodyLen]
	if _, err := patchbay.ParseKey(head + checksum(head)); err != nil {
		t.Fatalf("ParseKey(oak_ + valid body + valid checksum) = %v; the independent checksum disagrees with the implementation", err)
	}
}

func TestParseKeyRejectsNonBase62(t *testing.T) {
	// Keys whose checksum is valid over a head holding one non-base62
	// character: only the alphabet check can reject them.
	for _, kind := range kinds {
		prefix := testPrefixes[kind]
		for _, c := range []byte{'-', '_', '+', '/', '=', ' ', '.', '~', 0x00, 0x7f, 0x80, 0xff} {
			for _, pos := range []int{0, testBodyLen / 2, testBodyLen - 1} {
				body := []byte(strings.Repeat("A", testBodyLen))
				body[pos] = c
				head := prefix + string(body)
				assertRejected(t, head+checksum(head), "non-base62 in body")
			}
			// And in the checksum itself.
			head := prefix + strings.Repeat("A", testBodyLen)
			sum := []byte(checksum(head))
			sum[0] = c
			assertRejected(t, head+string(sum), "non-base62 in checksum")
		}
		// Multi-byte UTF-8 that keeps the byte length.
		head := prefix + strings.Repeat("A", testBodyLen-2) + "é"
		assertRejected(t, head+checksum(head), "UTF-8 in body")
	}
}

func TestParseKeyRejectsEmptyAndJunk(t *testing.T) {
	for _, raw := range []string{"", " ", "ak_", "oak_", "Bearer ", "null", strings.Repeat("a", 36), strings.Repeat("0", 10_000)} {
		assertRejected(t, raw, "junk")
	}
}

func TestParseKeyErrorNeverContainsKey(t *testing.T) {
	// A key with one typo: the message must not echo any of it, not even
	// the part after the prefix.
	raw := MustGenerateKey(t, patchbay.KeyKindProject).Secret.Reveal()
	b := []byte(raw)
	b[10] ^= 1
	_, err := patchbay.ParseKey(string(b))
	if err == nil {
		t.Fatal("typo accepted")
	}
	for _, part := range []string{string(b), string(b[3:]), string(b[3:15]), string(b[len(b)-6:])} {
		if strings.Contains(err.Error(), part) || strings.Contains(patchbay.ErrorMessage(err), part) {
			t.Fatalf("error %q contains part of the key %q", err, part)
		}
	}
}

// FuzzParseKey checks that ParseKey never panics, that whatever it accepts is
// a well-formed key by an independent check (prefix, length, alphabet,
// checksum), and that its error message never depends on the input.
func FuzzParseKey(f *testing.F) {
	for _, kind := range kinds {
		raw := MustGenerateKey(f, kind).Secret.Reveal()
		f.Add(raw)
		f.Add(raw[:len(raw)-1])
		f.Add(raw + "0")
		b := []byte(raw)
		b[len(b)-1] ^= 1
		f.Add(string(b))
	}
	allZero, _ := patchbay.GenerateKey(patchbay.KeyKindProject, bytes.NewReader(make([]byte, 64)))
	f.Add(allZero.Secret.Reveal())
	f.Add("")
	f.Add("ak_")
	f.Add("oak_")
	f.Add("ak_" + strings.Repeat("z", testBodyLen+testCheckLen))
	f.Add("oak_" + strings.Repeat("0", testBodyLen+testCheckLen))
	f.Add("ak_" + strings.Repeat("é", 16) + "A")
	f.Add("\x00\xff")

	_, refErr := patchbay.ParseKey("")
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := patchbay.ParseKey(raw)
		if err != nil {
			if tok.Kind != "" || !tok.Secret.IsZero() {
				t.Fatalf("ParseKey(%q) returned a token with its error", raw)
			}
			if patchbay.ErrorCode(err) != patchbay.EUNAUTHORIZED {
				t.Fatalf("ParseKey(%q) code = %q, want %q", raw, patchbay.ErrorCode(err), patchbay.EUNAUTHORIZED)
			}
			// The message is the same for every input, so it carries none of it.
			if err.Error() != refErr.Error() {
				t.Fatalf("ParseKey(%q) error %q differs from the fixed message %q", raw, err, refErr)
			}
			if strings.Contains(raw, "ak_") && strings.Contains(err.Error(), raw) {
				t.Fatalf("ParseKey(%q) error %q contains the input", raw, err)
			}
			return
		}
		kind, ok := validKey(raw)
		if !ok {
			t.Fatalf("ParseKey accepted %q, which the independent check rejects", raw)
		}
		if tok.Kind != kind {
			t.Fatalf("ParseKey(%q).Kind = %q, want %q", raw, tok.Kind, kind)
		}
		if tok.Secret.Reveal() != raw {
			t.Fatalf("ParseKey(%q).Secret = %q", raw, tok.Secret.Reveal())
		}
		if tok.Hash() != sha256.Sum256([]byte(raw)) {
			t.Fatalf("ParseKey(%q).Hash() is not SHA-256 of the input", raw)
		}
		if p := tok.DisplayPrefix(); !strings.HasPrefix(raw, p) || len(p) != len(testPrefixes[kind])+4 {
			t.Fatalf("DisplayPrefix() = %q for %q", p, raw)
		}
	})
}
