// Package ber encodes and decodes the subset of ASN.1 BER that LDAP uses
// (RFC 4511 §5.1): definite lengths only, low-tag-number identifiers, and the
// INTEGER, ENUMERATED, BOOLEAN, OCTET STRING, SEQUENCE and SET types.
//
// It is the bottom of dirgate's LDAP stack and sits on every request's path,
// so it is written for speed: a Reader walks a byte slice holding one whole
// message and hands out sub-slices of it (no copies, no allocation per
// element), and an Encoder appends to a buffer the caller owns and reuses.
// Malformed input is always an error, never a panic.
package ber

import (
	"errors"
	"fmt"
)

// Class is the class bits of an identifier octet.
type Class byte

// The four tag classes.
const (
	ClassUniversal   Class = 0x00
	ClassApplication Class = 0x40
	ClassContext     Class = 0x80
	ClassPrivate     Class = 0xC0
)

// Tag is a whole identifier octet: class, constructed bit and a tag number
// below 31. LDAP never uses the high-tag-number form, so one byte is enough
// and comparisons are a single byte compare.
type Tag byte

// Constructed is the constructed bit of an identifier octet.
const Constructed Tag = 0x20

// Universal tags used by LDAP.
const (
	TagBoolean     Tag = 0x01
	TagInteger     Tag = 0x02
	TagOctetString Tag = 0x04
	TagNull        Tag = 0x05
	TagEnumerated  Tag = 0x0a
	TagSequence    Tag = 0x30 // SEQUENCE and SEQUENCE OF, constructed
	TagSet         Tag = 0x31 // SET and SET OF, constructed
)

// Application returns the identifier for [APPLICATION n], primitive or constructed.
func Application(n byte, constructed bool) Tag { return makeTag(ClassApplication, n, constructed) }

// Context returns the identifier for a context-specific tag [n].
func Context(n byte, constructed bool) Tag { return makeTag(ClassContext, n, constructed) }

func makeTag(c Class, n byte, constructed bool) Tag {
	t := Tag(c) | Tag(n&0x1f)
	if constructed {
		t |= Constructed
	}
	return t
}

// Class returns the tag's class.
func (t Tag) Class() Class { return Class(t & 0xc0) }

// Number returns the tag number (0–30).
func (t Tag) Number() byte { return byte(t & 0x1f) }

// IsConstructed reports whether the constructed bit is set.
func (t Tag) IsConstructed() bool { return t&Constructed != 0 }

func (t Tag) String() string {
	var c string
	switch t.Class() {
	case ClassUniversal:
		c = "UNIVERSAL"
	case ClassApplication:
		c = "APPLICATION"
	case ClassContext:
		c = "CONTEXT"
	default:
		c = "PRIVATE"
	}
	p := "primitive"
	if t.IsConstructed() {
		p = "constructed"
	}
	return fmt.Sprintf("[%s %d %s]", c, t.Number(), p)
}

// Limits that no valid LDAP message comes near.
const (
	// MaxDepth bounds nesting of constructed values entered with Reader.Enter.
	// Filters are the only deeply nested LDAP structure; 64 levels is far more
	// than any client sends and keeps recursive decoders' stacks small.
	MaxDepth = 64
	// maxIntLen is the longest INTEGER/ENUMERATED content accepted: 8 octets.
	maxIntLen = 8
)

// Errors returned by the decoder. Each malformed input maps to one of these,
// wrapped with the offending tag where that helps.
var (
	ErrTruncated      = errors.New("ber: truncated element")
	ErrIndefinite     = errors.New("ber: indefinite length not allowed")
	ErrLengthTooLong  = errors.New("ber: length field too long")
	ErrLengthPastEnd  = errors.New("ber: length past end of data")
	ErrHighTag        = errors.New("ber: high-tag-number form not supported")
	ErrTooDeep        = errors.New("ber: nesting too deep")
	ErrTrailing       = errors.New("ber: trailing data")
	ErrBadInteger     = errors.New("ber: invalid INTEGER encoding")
	ErrBadBoolean     = errors.New("ber: invalid BOOLEAN encoding")
	ErrTooLarge       = errors.New("ber: message too large")
	ErrNotConstructed = errors.New("ber: expected a constructed element")
)

// TagError reports an element whose tag is not the one expected.
type TagError struct {
	Want, Got Tag
}

func (e *TagError) Error() string {
	return fmt.Sprintf("ber: wrong tag: want %v, got %v", e.Want, e.Got)
}
