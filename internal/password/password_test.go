package password

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h := Hasher{Cost: 4}
	hash, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(hash, "horse") || !strings.HasPrefix(hash, "$2a$04$") {
		t.Errorf("hash %q", hash)
	}
	if !h.Verify(hash, "correct horse battery staple") {
		t.Error("the password does not verify")
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple"} {
		if h.Verify(hash, wrong) {
			t.Errorf("%q verifies", wrong)
		}
	}
	if h.Verify("not a hash", "x") {
		t.Error("a malformed hash matches")
	}
}
