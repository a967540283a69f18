// Package ldif reads and writes LDIF content records (RFC 2849): the
// format of slapcat, ldapsearch -L and directory imports and exports.
//
// The Reader takes the version line, comments (folded ones too), folded
// lines, base64 ("::") values and DNs, attribute options, CRLF or LF line
// ends, and records separated by one or more blank lines. Change records
// (changetype: modify, delete, modrdn, moddn; control: lines) are refused
// with an error naming the line, except "changetype: add", whose record is
// read as a content record. URL values (":<") are refused: the Reader never
// opens files or URLs. Values and records are bounded in size.
//
// Attribute values are octet strings: the Reader does not check that text
// is UTF-8 or that a DN is well-formed; that is the caller's business.
//
// The Writer writes "version: 1" first, base64-encodes every value and DN
// that is not printable ASCII or that RFC 2849 does not allow as a plain
// SAFE-STRING, and folds lines at 76 columns, as ldapsearch does.
package ldif

import (
	"fmt"
	"strings"
)

// Record is one LDIF content record: an entry.
type Record struct {
	DN    string
	Attrs []Attr
	Line  int // line number of its dn: line (1-based), set by the Reader
}

// Attr is an attribute description (type with options, such as
// "cn;lang-en") and its values, in the order they appeared. The Reader
// gathers every value of a description (compared case-insensitively) into
// one Attr, spelled as at its first appearance.
type Attr struct {
	Type   string
	Values []string
}

// ParseError is a malformed or unsupported input, with the line it is on.
type ParseError struct {
	Line int // 1-based
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("ldif: line %d: %s", e.Line, e.Msg) }

// validType reports whether s is an RFC 2849 AttributeDescription:
// AttributeType *(";" option), AttributeType a descriptor (ALPHA then
// ALPHA, DIGIT or "-") or a numeric OID, each option of ALPHA, DIGIT, "-".
func validType(s string) bool {
	base, opts, hasOpts := strings.Cut(s, ";")
	if !validDescr(base) && !validOID(base) {
		return false
	}
	for hasOpts {
		var opt string
		opt, opts, hasOpts = strings.Cut(opts, ";")
		if opt == "" {
			return false
		}
		for i := 0; i < len(opt); i++ {
			if !isAttrTypeChar(opt[i]) {
				return false
			}
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAttrTypeChar(c byte) bool { return isAlpha(c) || isDigit(c) || c == '-' }

func validDescr(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isAttrTypeChar(s[i]) {
			return false
		}
	}
	return true
}

// validOID: number 1*("." number), numbers of digits.
func validOID(s string) bool {
	n := 0
	for part := range strings.SplitSeq(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !isDigit(part[i]) {
				return false
			}
		}
		n++
	}
	return n >= 2
}

// reserved are the names with a meaning of their own in a record, which no
// attribute may have.
func reserved(typ string) bool {
	return strings.EqualFold(typ, "dn") || strings.EqualFold(typ, "changetype") || strings.EqualFold(typ, "control")
}
