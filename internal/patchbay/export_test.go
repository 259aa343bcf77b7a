package patchbay

// CheckFields is checkFields, for the tests of package patchbay_test.
var CheckFields = checkFields

// SecretKeyForTest is secretKey, for the tests of package patchbay_test.
var SecretKeyForTest = secretKey
