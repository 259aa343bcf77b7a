// Package keyring is patchbay's envelope encryption. A root key, supplied by
// the operator, wraps term-numbered data keys kept in the database; data keys
// seal every secret at rest with AES-256-GCM.
//
// A sealed value is
//
//	[4-byte term, big-endian][1-byte version][12-byte nonce][ciphertext+16-byte tag]
//
// and its additional authenticated data is the header (term and version)
// followed by the SecretRef it belongs to (project, record, field), so a
// value copied to another row or project fails to open. Rotation adds a
// term; old terms stay readable until Reencrypt has moved their values.
package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

const (
	version    = 1
	headerLen  = 5  // term + version
	nonceLen   = 12 // 96-bit random nonces, the GCM standard size
	rootKeyLen = 32 // AES-256
	// With random 96-bit nonces NIST SP 800-38D caps one key at 2^32
	// messages; a term is meant to be rotated long before that.
)

// ParseRootKey decodes a 32-byte root key given as 64 hex characters or as
// base64 (standard or URL alphabet, padded or not).
func ParseRootKey(s string) (patchbay.Secret, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == rootKeyLen {
		return patchbay.NewSecret(string(b)), nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == rootKeyLen {
			return patchbay.NewSecret(string(b)), nil
		}
	}
	return patchbay.Secret{}, fmt.Errorf("root key must be %d bytes, as 64 hex characters or base64", rootKeyLen)
}

// NewRootKey returns a fresh root key, hex-encoded, from rand.
func NewRootKey(rand io.Reader) (string, error) {
	b := make([]byte, rootKeyLen)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// TermStore is the part of the Store the keyring keeps its terms in.
type TermStore interface {
	KeyTerms(ctx context.Context) ([]patchbay.KeyTerm, error)
	CreateKeyTerm(ctx context.Context, t patchbay.KeyTerm) error
}

// Keyring seals and opens secrets. It is safe for concurrent use.
type Keyring struct {
	store TermStore
	root  cipher.AEAD
	rand  io.Reader
	now   func() time.Time

	mu     sync.RWMutex // guards terms and active
	terms  map[uint32]cipher.AEAD
	active uint32
}

var _ patchbay.Sealer = (*Keyring)(nil)

// ErrWrongRootKey means the root key cannot unwrap the database's data keys.
var ErrWrongRootKey = fmt.Errorf("the root key does not match this database's keyring (wrong PATCHBAY_ROOT_KEY or key file?)")

// Check verifies that root unwraps every term in the store, writing nothing.
func Check(ctx context.Context, store TermStore, root patchbay.Secret) error {
	k, err := newKeyring(store, root, nil, nil)
	if err != nil {
		return err
	}
	return k.Refresh(ctx)
}

// Open loads the keyring, creating its first term on a new database.
func Open(ctx context.Context, store TermStore, root patchbay.Secret, rand io.Reader, now func() time.Time) (*Keyring, error) {
	k, err := newKeyring(store, root, rand, now)
	if err != nil {
		return nil, err
	}
	if err := k.Refresh(ctx); err != nil {
		return nil, err
	}
	if k.ActiveTerm() == 0 {
		if _, err := k.Rotate(ctx); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func newKeyring(store TermStore, root patchbay.Secret, rand io.Reader, now func() time.Time) (*Keyring, error) {
	aead, err := newAEAD([]byte(root.Reveal()))
	if err != nil {
		return nil, err
	}
	return &Keyring{store: store, root: aead, rand: rand, now: now, terms: map[uint32]cipher.AEAD{}}, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != rootKeyLen {
		return nil, fmt.Errorf("key must be %d bytes", rootKeyLen)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func termAAD(term uint32) []byte {
	return []byte("patchbay keyring term " + strconv.FormatUint(uint64(term), 10))
}

// Refresh loads terms added since the last load (by `patchbay keyring
// rotate` or another instance). ErrWrongRootKey if one does not unwrap.
func (k *Keyring) Refresh(ctx context.Context) error {
	terms, err := k.store.KeyTerms(ctx)
	if err != nil {
		return fmt.Errorf("load keyring: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, t := range terms {
		if _, ok := k.terms[t.Term]; ok {
			continue
		}
		if len(t.Wrapped) < nonceLen {
			return ErrWrongRootKey
		}
		dk, err := k.root.Open(nil, t.Wrapped[:nonceLen], t.Wrapped[nonceLen:], termAAD(t.Term))
		if err != nil {
			return ErrWrongRootKey
		}
		aead, err := newAEAD(dk)
		clear(dk)
		if err != nil {
			return err
		}
		k.terms[t.Term] = aead
		k.active = max(k.active, t.Term)
	}
	return nil
}

// Rotate adds a term with a fresh data key and makes it active. Values
// sealed under older terms still open; Reencrypt moves them.
func (k *Keyring) Rotate(ctx context.Context) (uint32, error) {
	if err := k.Refresh(ctx); err != nil {
		return 0, err
	}
	term := k.ActiveTerm() + 1
	dk := make([]byte, rootKeyLen)
	nonce := make([]byte, nonceLen)
	if _, err := io.ReadFull(k.rand, dk); err != nil {
		return 0, err
	}
	if _, err := io.ReadFull(k.rand, nonce); err != nil {
		return 0, err
	}
	wrapped := k.root.Seal(nonce, nonce, dk, termAAD(term))
	clear(dk)
	if err := k.store.CreateKeyTerm(ctx, patchbay.KeyTerm{Term: term, Wrapped: wrapped, CreatedAt: k.now()}); err != nil {
		return 0, fmt.Errorf("add key term %d: %w", term, err)
	}
	return term, k.Refresh(ctx)
}

// ActiveTerm is the term new values are sealed under (0 before Open).
func (k *Keyring) ActiveTerm() uint32 {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.active
}

// Seal encrypts plaintext for ref under the active term.
func (k *Keyring) Seal(ref patchbay.SecretRef, plaintext patchbay.Secret) (patchbay.Sealed, error) {
	k.mu.RLock()
	term, aead := k.active, k.terms[k.active]
	k.mu.RUnlock()
	if aead == nil {
		return nil, &patchbay.Error{Code: patchbay.EINTERNAL, Message: "keyring has no active term"}
	}
	out := make([]byte, headerLen+nonceLen, headerLen+nonceLen+len(plaintext.Reveal())+aead.Overhead())
	binary.BigEndian.PutUint32(out, term)
	out[4] = version
	if _, err := io.ReadFull(k.rand, out[headerLen:]); err != nil {
		return nil, &patchbay.Error{Code: patchbay.EINTERNAL, Message: "seal", Err: err}
	}
	aad := append(out[:headerLen:headerLen], ref.AAD()...)
	return aead.Seal(out, out[headerLen:], []byte(plaintext.Reveal()), aad), nil
}

// Open decrypts a value sealed for ref. A value sealed for another ref, or
// altered in any byte, fails with EINTERNAL (it is corruption, not a client
// mistake).
func (k *Keyring) Open(ref patchbay.SecretRef, sealed patchbay.Sealed) (patchbay.Secret, error) {
	term, err := Term(sealed)
	if err != nil {
		return patchbay.Secret{}, err
	}
	k.mu.RLock()
	aead := k.terms[term]
	k.mu.RUnlock()
	if aead == nil {
		// Another process may have rotated since our last refresh.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := k.Refresh(ctx); err != nil {
			return patchbay.Secret{}, &patchbay.Error{Code: patchbay.EINTERNAL, Message: "open sealed value", Err: err}
		}
		k.mu.RLock()
		aead = k.terms[term]
		k.mu.RUnlock()
		if aead == nil {
			return patchbay.Secret{}, &patchbay.Error{Code: patchbay.EINTERNAL, Message: fmt.Sprintf("open sealed value: unknown key term %d", term)}
		}
	}
	aad := append(sealed[:headerLen:headerLen], ref.AAD()...)
	pt, err := aead.Open(nil, sealed[headerLen:headerLen+nonceLen], sealed[headerLen+nonceLen:], aad)
	if err != nil {
		return patchbay.Secret{}, &patchbay.Error{Code: patchbay.EINTERNAL, Message: "open sealed value: authentication failed (wrong record, or tampered)"}
	}
	return patchbay.NewSecret(string(pt)), nil
}

// Term returns the key term a sealed value carries.
func Term(sealed patchbay.Sealed) (uint32, error) {
	if len(sealed) < headerLen+nonceLen+16 || sealed[4] != version {
		return 0, &patchbay.Error{Code: patchbay.EINTERNAL, Message: "open sealed value: not a patchbay ciphertext"}
	}
	return binary.BigEndian.Uint32(sealed), nil
}
