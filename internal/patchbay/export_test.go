package patchbay

// CheckFields is checkFields, for the tests of package patchbay_test.
var CheckFields = checkFields
