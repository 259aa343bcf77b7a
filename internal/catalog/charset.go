package catalog

import (
	"regexp/syntax"
	"unicode"
)

// probes are tried first when looking for a character a pattern should not
// admit, so errors name the character that matters: each of these changes
// where a URL points (another host, user info, port, path, query,
// fragment) or escapes a path segment.
const probes = "/@:?#.\\% "

// firstAdmitted returns a character that some value matching pattern (as
// patchbay.Field.Valid anchors it) may contain but allowed rejects. It
// reads the characters out of the parsed expression, so it needs no sample
// values and errs on the safe side: a pattern like `[a-z.]` reports '.'
// even if no full match could use it.
func firstAdmitted(pattern string, allowed func(rune) bool) (r rune, found bool, err error) {
	re, err := syntax.Parse(`^(?:`+pattern+`)$`, syntax.Perl)
	if err != nil {
		return 0, false, err
	}
	for _, r := range probes {
		if !allowed(r) && admits(re, r) {
			return r, true, nil
		}
	}
	for r := rune(0); r <= unicode.MaxASCII; r++ {
		if !allowed(r) && admits(re, r) {
			return r, true, nil
		}
	}
	if r, ok := nonASCII(re); ok && !allowed(r) {
		return r, true, nil
	}
	return 0, false, nil
}

// admits reports whether r occurs anywhere in re's alphabet.
func admits(re *syntax.Regexp, r rune) bool {
	switch re.Op {
	case syntax.OpLiteral:
		for _, l := range re.Rune {
			if l == r || re.Flags&syntax.FoldCase != 0 && foldsTo(l, r) {
				return true
			}
		}
		return false
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= r && r <= re.Rune[i+1] {
				return true
			}
		}
		return false
	case syntax.OpAnyChar:
		return true
	case syntax.OpAnyCharNotNL:
		return r != '\n'
	}
	for _, sub := range re.Sub {
		if admits(sub, r) {
			return true
		}
	}
	return false
}

// nonASCII returns a non-ASCII character in re's alphabet, if any.
func nonASCII(re *syntax.Regexp) (rune, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, l := range re.Rune {
			if l > unicode.MaxASCII {
				return l, true
			}
			if re.Flags&syntax.FoldCase == 0 {
				continue
			}
			for f := unicode.SimpleFold(l); f != l; f = unicode.SimpleFold(f) {
				if f > unicode.MaxASCII {
					return f, true
				}
			}
		}
		return 0, false
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if hi := re.Rune[i+1]; hi > unicode.MaxASCII {
				return max(re.Rune[i], unicode.MaxASCII+1), true
			}
		}
		return 0, false
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return unicode.MaxASCII + 1, true
	}
	for _, sub := range re.Sub {
		if r, ok := nonASCII(sub); ok {
			return r, true
		}
	}
	return 0, false
}

// foldsTo reports whether r is in l's case-folding orbit.
func foldsTo(l, r rune) bool {
	for f := unicode.SimpleFold(l); f != l; f = unicode.SimpleFold(f) {
		if f == r {
			return true
		}
	}
	return false
}

// hostSafe admits the characters of a DNS label.
func hostSafe(r rune) bool {
	return r < unicode.MaxASCII && (isAlnum(r) || r == '-')
}

// pathSafe admits characters that stay inside one path segment and cannot
// form "." or ".." segments.
func pathSafe(r rune) bool {
	return r < unicode.MaxASCII && (isAlnum(r) || r == '-' || r == '_' || r == '~' || r == ':')
}

func isAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}
