package ber

// Encoder appends BER elements to Buf, a buffer the caller owns: set Buf to
// a reused slice (buf[:0]) and nothing allocates once it has grown to the
// size of the largest message. Constructed elements are opened with Begin
// and closed with End; their length is patched in place, so callers never
// compute lengths.
//
// Begin reserves a one-octet length; End widens it to the minimal long form
// when the contents turned out longer than 127 octets, moving the contents
// once. Up to MaxDepth+8 constructed elements may be open at a time.
type Encoder struct {
	Buf  []byte
	open [maxOpen]int32 // offsets of the reserved length octets
	n    int
}

// maxOpen lets an encoder re-encode anything the Reader accepts.
const maxOpen = MaxDepth + 8

// Reset empties the buffer, keeping its storage, and forgets open elements.
func (e *Encoder) Reset() {
	e.Buf = e.Buf[:0]
	e.n = 0
}

// Begin opens a constructed element with the given tag.
func (e *Encoder) Begin(tag Tag) {
	if e.n == maxOpen {
		panic("ber: too many open elements") // a programming error, not input
	}
	e.Buf = append(e.Buf, byte(tag|Constructed), 0)
	e.open[e.n] = int32(len(e.Buf) - 1)
	e.n++
}

// End closes the innermost element opened with Begin.
func (e *Encoder) End() {
	e.n--
	at := int(e.open[e.n])
	clen := len(e.Buf) - at - 1
	if clen < 0x80 {
		e.Buf[at] = byte(clen)
		return
	}
	n := lenOctets(clen)
	// Grow by n octets and shift the contents right to make room.
	e.Buf = append(e.Buf, make([]byte, n)...)
	copy(e.Buf[at+1+n:], e.Buf[at+1:at+1+clen])
	e.Buf[at] = 0x80 | byte(n)
	putLen(e.Buf[at+1:at+1+n], clen)
}

// Open reports how many elements are open; a finished message has none.
func (e *Encoder) Open() int { return e.n }

func lenOctets(l int) int {
	switch {
	case l < 1<<8:
		return 1
	case l < 1<<16:
		return 2
	case l < 1<<24:
		return 3
	default:
		return 4
	}
}

func putLen(dst []byte, l int) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte(l)
		l >>= 8
	}
}

// AppendHeader appends an identifier and a minimal definite length.
func AppendHeader(b []byte, tag Tag, l int) []byte {
	if l < 0x80 {
		return append(b, byte(tag), byte(l))
	}
	n := lenOctets(l)
	b = append(b, byte(tag), 0x80|byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(l>>(8*i)))
	}
	return b
}

// OctetString appends a primitive element with the given tag and contents.
func (e *Encoder) OctetString(tag Tag, v []byte) {
	e.Buf = AppendHeader(e.Buf, tag, len(v))
	e.Buf = append(e.Buf, v...)
}

// String appends a primitive element with the given tag and contents.
func (e *Encoder) String(tag Tag, v string) {
	e.Buf = AppendHeader(e.Buf, tag, len(v))
	e.Buf = append(e.Buf, v...)
}

// Int appends an INTEGER-encoded element (also used for ENUMERATED) in the
// fewest octets two's complement allows.
func (e *Encoder) Int(tag Tag, v int64) {
	n := 1
	for n < 8 {
		// Stop when the remaining high octets are pure sign extension.
		shift := uint(8 * n)
		hi := v >> (shift - 1)
		if hi == 0 || hi == -1 {
			break
		}
		n++
	}
	e.Buf = append(e.Buf, byte(tag), byte(n))
	for i := n - 1; i >= 0; i-- {
		e.Buf = append(e.Buf, byte(v>>(8*uint(i))))
	}
}

// Bool appends a BOOLEAN-encoded element: 0xFF for true, as DER and
// OpenLDAP do.
func (e *Encoder) Bool(tag Tag, v bool) {
	var c byte
	if v {
		c = 0xff
	}
	e.Buf = append(e.Buf, byte(tag), 1, c)
}

// Null appends an element with empty contents.
func (e *Encoder) Null(tag Tag) { e.Buf = append(e.Buf, byte(tag), 0) }

// Raw appends bytes that already hold whole encoded elements, such as
// pre-encoded entries.
func (e *Encoder) Raw(b []byte) { e.Buf = append(e.Buf, b...) }
