package patchbay

import (
	"fmt"
	"io"
	"log/slog"
)

// StoredSecret is a sealed value with the ref it is bound to and the key term
// that sealed it.
type StoredSecret struct {
	Ref    SecretRef
	Term   uint32
	Sealed Sealed
}

// Secret is plaintext secret material: an API key, a credential, a root key.
// It prints and logs as a redaction marker; call Reveal to use the value.
//
// The plaintext sits behind a pointer because fmt cannot call methods on a
// value held in an unexported struct field: it prints such a field's fields
// directly, and would print a string field as the plaintext. Behind a
// pointer it prints an address.
type Secret struct{ p *string }

// NewSecret wraps plaintext.
func NewSecret(plaintext string) Secret { return Secret{p: &plaintext} }

// Reveal returns the plaintext. Call it only where the value leaves patchbay
// on purpose: shown once at creation, or injected into an upstream request.
func (s Secret) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

const redacted = "[REDACTED]"

// Format prints the redaction marker for every verb (%d and %x included,
// which would otherwise bypass String).
func (s Secret) Format(f fmt.State, verb rune) { io.WriteString(f, redacted) }

func (s Secret) String() string               { return redacted }
func (s Secret) GoString() string             { return redacted }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Sealed is a ciphertext produced by a Sealer. It is opaque outside the
// keyring; Term tells which key term sealed it, for re-encryption.
type Sealed []byte

// SecretRef names the row and field a sealed value belongs to. It is the
// additional authenticated data of the ciphertext, so a value copied to
// another row, field or project fails to open.
type SecretRef struct {
	ProjectID string // "" for organization-level secrets
	Record    string // the owning record's ID
	Field     string
}

// AAD returns the additional authenticated data for ref.
func (r SecretRef) AAD() []byte {
	return []byte("patchbay/v1\x00" + r.ProjectID + "\x00" + r.Record + "\x00" + r.Field)
}

// Sealer encrypts secrets at rest.
type Sealer interface {
	// Seal encrypts plaintext bound to ref under the active key term.
	Seal(ref SecretRef, plaintext Secret) (Sealed, error)
	// Open decrypts a value sealed for ref. It fails (EINTERNAL) when the
	// value was sealed for another ref or was tampered with.
	Open(ref SecretRef, sealed Sealed) (Secret, error)
	// ActiveTerm is the key term new values are sealed with.
	ActiveTerm() uint32
}
