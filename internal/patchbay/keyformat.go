package patchbay

import (
	"crypto/sha256"
	"hash/crc32"
	"io"
	"math/big"
	"regexp"
	"strings"
)

// API key format: a kind prefix, then 27 base62 characters carrying 160
// random bits, then 6 base62 characters of CRC32 over everything before them
// (GitHub's token scheme). The prefix lets secret scanners spot leaked keys;
// the checksum rejects typos and lookalikes without a database read.
//
//	ak_ 3kT9…(27)… Zq01Xa   project key
//	oak_…                    organization key
const (
	keyRandomBytes = 20 // 160 bits; the display prefix reveals 24 of them
	keyBodyLen     = 27 // ceil(160 / log2(62))
	keyCheckLen    = 6  // ceil(32 / log2(62))
	keyDisplayLen  = 4  // random characters kept in the display prefix
	base62         = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

var keyPrefixes = map[KeyKind]string{
	KeyKindProject: "ak_",
	KeyKindOrg:     "oak_",
}

// KeyToken is a syntactically valid API key: its kind and its plaintext.
type KeyToken struct {
	Kind   KeyKind
	Secret Secret
}

// Hash returns the SHA-256 of the key, the only form patchbay stores.
func (t KeyToken) Hash() [32]byte { return hashKey(t.Secret.Reveal()) }

// hashKey hashes a key through a stack buffer: keys are short, and this
// runs on every request.
func hashKey(raw string) [32]byte {
	var buf [64]byte
	if len(raw) > len(buf) {
		return sha256.Sum256([]byte(raw))
	}
	n := copy(buf[:], raw)
	return sha256.Sum256(buf[:n])
}

// DisplayPrefix is the non-secret start of the key shown in listings.
func (t KeyToken) DisplayPrefix() string {
	raw := t.Secret.Reveal()
	return raw[:len(keyPrefixes[t.Kind])+keyDisplayLen]
}

// GenerateKey returns a new key of the given kind with randomness from rand.
func GenerateKey(kind KeyKind, rand io.Reader) (KeyToken, error) {
	prefix, ok := keyPrefixes[kind]
	if !ok {
		return KeyToken{}, Errorf(EINVALID, "unknown key kind %q", kind)
	}
	b := make([]byte, keyRandomBytes)
	if _, err := io.ReadFull(rand, b); err != nil {
		return KeyToken{}, &Error{Code: EINTERNAL, Message: "generate key", Err: err}
	}
	head := prefix + encodeBase62(b, keyBodyLen)
	sum := crc32.ChecksumIEEE([]byte(head))
	raw := head + checksum62(sum)
	return KeyToken{Kind: kind, Secret: NewSecret(raw)}, nil
}

// errMalformedKey is deliberately vague: it never echoes the key.
var errMalformedKey = Errorf(EUNAUTHORIZED, "Invalid API key: the key is malformed (check for a typo or a truncated copy).")

// ParseKey validates the shape and checksum of raw without touching storage.
// It returns EUNAUTHORIZED for anything that is not a well-formed key.
func ParseKey(raw string) (KeyToken, error) {
	kind, err := checkKey(raw)
	if err != nil {
		return KeyToken{}, err
	}
	return KeyToken{Kind: kind, Secret: NewSecret(raw)}, nil
}

// checkKey validates raw's shape and checksum and returns its kind.
func checkKey(raw string) (KeyKind, error) {
	var kind KeyKind
	switch {
	case strings.HasPrefix(raw, keyPrefixes[KeyKindProject]):
		kind = KeyKindProject
	case strings.HasPrefix(raw, keyPrefixes[KeyKindOrg]):
		kind = KeyKindOrg
	default:
		return "", errMalformedKey
	}
	prefix := keyPrefixes[kind]
	if len(raw) != len(prefix)+keyBodyLen+keyCheckLen {
		return "", errMalformedKey
	}
	for i := len(prefix); i < len(raw); i++ {
		if strings.IndexByte(base62, raw[i]) < 0 {
			return "", errMalformedKey
		}
	}
	head, check := raw[:len(raw)-keyCheckLen], raw[len(raw)-keyCheckLen:]
	var buf [64]byte
	sum := crc32.ChecksumIEEE(buf[:copy(buf[:], head)])
	for i := keyCheckLen - 1; i >= 0; i-- {
		if check[i] != base62[sum%62] {
			return "", errMalformedKey
		}
		sum /= 62
	}
	return kind, nil
}

// checksum62 encodes a CRC32 in keyCheckLen base62 digits. It is on every
// request's path, so it avoids big.Int.
func checksum62(sum uint32) string {
	var out [keyCheckLen]byte
	v := uint64(sum)
	for i := keyCheckLen - 1; i >= 0; i-- {
		out[i] = base62[v%62]
		v /= 62
	}
	return string(out[:])
}

// VerifyKeyFormat checks raw's shape and checksum, without a database read
// or an allocation, and returns its kind and hash.
func VerifyKeyFormat(raw string) (KeyKind, [32]byte, error) {
	kind, err := checkKey(raw)
	if err != nil {
		return "", [32]byte{}, err
	}
	return kind, hashKey(raw), nil
}

// encodeBase62 encodes b as a big-endian number in exactly n base62 digits,
// left-padded with '0'. n must be large enough for b.
func encodeBase62(b []byte, n int) string {
	x := new(big.Int).SetBytes(b)
	out := make([]byte, n)
	sixtyTwo := big.NewInt(62)
	rem := new(big.Int)
	for i := n - 1; i >= 0; i-- {
		x.QuoRem(x, sixtyTwo, rem)
		out[i] = base62[rem.Int64()]
	}
	return string(out)
}

// keyShape matches anything shaped like a patchbay API key, valid or not.
var keyShape = regexp.MustCompile(`(?:oak|ak)_[0-9A-Za-z]{33}`)

// RedactKeys replaces anything shaped like an API key in s with a marker:
// for text that may echo what a client sent (paths, logs).
func RedactKeys(s string) string {
	if !strings.Contains(s, "ak_") {
		return s
	}
	return keyShape.ReplaceAllString(s, redacted)
}
