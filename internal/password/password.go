// Package password hashes dashboard passwords with bcrypt. It implements
// patchbay.PasswordHasher.
package password

import (
	"golang.org/x/crypto/bcrypt"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// Cost is the bcrypt work factor: about 60 ms per hash on a 2026 server
// core, slow for a guesser, quick enough for a sign-in.
const Cost = 11

// Hasher is bcrypt at a cost.
type Hasher struct{ Cost int }

var _ patchbay.PasswordHasher = Hasher{}

// New returns a Hasher at Cost.
func New() Hasher { return Hasher{Cost: Cost} }

// Hash returns the bcrypt hash of pw.
func (h Hasher) Hash(pw string) (string, error) {
	cost := h.Cost
	if cost == 0 {
		cost = Cost
	}
	b, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	return string(b), err
}

// Verify reports whether pw matches hash.
func (h Hasher) Verify(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}
