package patchbay

import (
	"io"
)

// ID prefixes, one per noun, so an ID says what it names.
const (
	PrefixOrg     = "org_"
	PrefixProject = "pr_"
	PrefixMember  = "mem_"
	PrefixKey     = "key_"
	PrefixAudit   = "aud_"
	PrefixAuthCfg = "ac_"
	PrefixConn    = "ca_"
)

// idLen random base62 characters give ~95 bits: IDs are not secrets, but
// they must not collide or be guessable enough to enumerate.
const idLen = 16

// NewID returns prefix followed by idLen random base62 characters.
func NewID(prefix string, rand io.Reader) (string, error) {
	b := make([]byte, idLen)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", &Error{Code: EINTERNAL, Message: "generate id", Err: err}
	}
	out := make([]byte, len(prefix)+idLen)
	copy(out, prefix)
	for i, c := range b {
		// 256 % 62 = 8, so the first 8 characters are very slightly more
		// likely; harmless for identifiers.
		out[len(prefix)+i] = base62[int(c)%62]
	}
	return string(out), nil
}
