package postgres

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// UsersPageWhere's prefix test is strings.EqualFold of the prefix's
// length (in bytes) of a value and the prefix. PostgreSQL's lower() and
// upper() would not do: with the "C" collation they fold ASCII only, and
// with a locale they follow its case mapping (full, not simple folding:
// 'ſ' stays apart from 's', 'ß' may become "SS"). So the test is built
// from Go's own folding, for the prefix at hand:
//
//	octet_length(left(v, runes)) = bytes
//	AND translate(left(v, runes), from, to) = folded
//
// EqualFold matches rune by rune, each pair in the same orbit of
// unicode.SimpleFold; from lists every member of the orbits of the
// prefix's runes and to maps each to its orbit's least rune (translate
// works on characters), folded is the prefix so mapped. A value's rune
// outside those orbits stays as it is and never equals a rune of folded.
// The byte count keeps the "prefix's length of the value": where that
// cut ends inside a rune, EqualFold sees invalid UTF-8, which matches no
// valid prefix, and the first runes of the value then take another number
// of bytes than the prefix.
type prefixFold struct {
	runes, bytes     int
	from, to, folded string
}

// newPrefixFold returns the test's arguments for prefix, and false when
// no stored value can match it: PostgreSQL text is valid UTF-8 without
// NUL, and EqualFold matches invalid bytes only against invalid bytes.
func newPrefixFold(prefix string) (prefixFold, bool) {
	if !utf8.ValidString(prefix) || strings.IndexByte(prefix, 0) >= 0 {
		return prefixFold{}, false
	}
	var from, to, folded strings.Builder
	seen := map[rune]bool{}
	runes := 0
	for _, r := range prefix {
		runes++
		least := leastFold(r)
		folded.WriteRune(least)
		if seen[r] {
			continue
		}
		for m := r; ; {
			seen[m] = true
			from.WriteRune(m)
			to.WriteRune(least)
			if m = unicode.SimpleFold(m); m == r {
				break
			}
		}
	}
	return prefixFold{runes: runes, bytes: len(prefix), from: from.String(), to: to.String(), folded: folded.String()}, true
}

// leastFold is the least rune of r's orbit of unicode.SimpleFold.
func leastFold(r rune) rune {
	least := r
	for m := unicode.SimpleFold(r); m != r; m = unicode.SimpleFold(m) {
		least = min(least, m)
	}
	return least
}
