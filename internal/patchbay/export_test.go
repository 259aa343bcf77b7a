package patchbay

import (
	"crypto/rand"
	"time"
)

// CheckFields is checkFields, for the tests of package patchbay_test.
var CheckFields = checkFields

// SecretKeyForTest is secretKey, for the tests of package patchbay_test.
var SecretKeyForTest = secretKey

// NewLogIDAt is newLogID on a service whose clock says at.
func NewLogIDAt(at time.Time) string {
	s := &Service{now: func() time.Time { return at }, rand: rand.Reader}
	return s.newLogID()
}
