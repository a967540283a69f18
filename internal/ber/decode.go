package ber

// Reader reads consecutive elements from a byte slice. It is a small value:
// copy it to look ahead, and Enter a constructed element to get a Reader over
// its contents. Everything it returns aliases the input slice.
type Reader struct {
	b     []byte
	depth int
}

// NewReader returns a Reader over b at depth zero.
func NewReader(b []byte) Reader { return Reader{b: b} }

// Len returns the number of unread bytes.
func (r *Reader) Len() int { return len(r.b) }

// Empty reports whether every element has been read.
func (r *Reader) Empty() bool { return len(r.b) == 0 }

// Depth returns how many constructed elements enclose this Reader.
func (r *Reader) Depth() int { return r.depth }

// Rest returns the unread bytes.
func (r *Reader) Rest() []byte { return r.b }

// header parses the identifier and length octets at the start of b and
// returns the tag, the header length and the content length. The content is
// checked to lie within b.
func header(b []byte) (tag Tag, hlen, clen int, err error) {
	if len(b) < 2 {
		return 0, 0, 0, ErrTruncated
	}
	tag = Tag(b[0])
	if tag&0x1f == 0x1f {
		return 0, 0, 0, ErrHighTag
	}
	l := b[1]
	switch {
	case l < 0x80:
		hlen, clen = 2, int(l)
	case l == 0x80:
		return 0, 0, 0, ErrIndefinite
	default:
		n := int(l & 0x7f)
		if n > 4 { // more than 4 GiB is never a valid message here
			return 0, 0, 0, ErrLengthTooLong
		}
		if len(b) < 2+n {
			return 0, 0, 0, ErrTruncated
		}
		v := 0
		for _, c := range b[2 : 2+n] {
			v = v<<8 | int(c)
		}
		hlen, clen = 2+n, v
	}
	if clen > len(b)-hlen {
		return 0, 0, 0, ErrLengthPastEnd
	}
	return tag, hlen, clen, nil
}

// Peek returns the tag of the next element without consuming it.
func (r *Reader) Peek() (Tag, error) {
	if len(r.b) == 0 {
		return 0, ErrTruncated
	}
	if r.b[0]&0x1f == 0x1f {
		return 0, ErrHighTag
	}
	return Tag(r.b[0]), nil
}

// Next reads one whole element and returns its tag and contents.
func (r *Reader) Next() (Tag, []byte, error) {
	tag, hlen, clen, err := header(r.b)
	if err != nil {
		return 0, nil, err
	}
	content := r.b[hlen : hlen+clen : hlen+clen]
	r.b = r.b[hlen+clen:]
	return tag, content, nil
}

// NextRaw reads one whole element and returns it with its header.
func (r *Reader) NextRaw() (Tag, []byte, error) {
	tag, hlen, clen, err := header(r.b)
	if err != nil {
		return 0, nil, err
	}
	raw := r.b[: hlen+clen : hlen+clen]
	r.b = r.b[hlen+clen:]
	return tag, raw, nil
}

// Skip discards the next element.
func (r *Reader) Skip() error {
	_, _, err := r.Next()
	return err
}

// Expect reads the next element, which must carry tag, and returns its contents.
func (r *Reader) Expect(tag Tag) ([]byte, error) {
	t, hlen, clen, err := header(r.b)
	if err != nil {
		return nil, err
	}
	if t != tag {
		return nil, &TagError{Want: tag, Got: t}
	}
	content := r.b[hlen : hlen+clen : hlen+clen]
	r.b = r.b[hlen+clen:]
	return content, nil
}

// Enter reads the next element, which must be constructed and carry tag, and
// returns a Reader over its contents one level deeper.
func (r *Reader) Enter(tag Tag) (Reader, error) {
	if !tag.IsConstructed() {
		return Reader{}, ErrNotConstructed
	}
	if r.depth >= MaxDepth {
		return Reader{}, ErrTooDeep
	}
	c, err := r.Expect(tag)
	if err != nil {
		return Reader{}, err
	}
	return Reader{b: c, depth: r.depth + 1}, nil
}

// Sub returns a Reader over contents already taken with Next, one level
// deeper, for callers that dispatch on the tag before entering.
func (r *Reader) Sub(contents []byte) (Reader, error) {
	if r.depth >= MaxDepth {
		return Reader{}, ErrTooDeep
	}
	return Reader{b: contents, depth: r.depth + 1}, nil
}

// Finish returns ErrTrailing if any bytes remain unread.
func (r *Reader) Finish() error {
	if len(r.b) != 0 {
		return ErrTrailing
	}
	return nil
}

// OctetString reads an element with the given tag and returns its contents.
func (r *Reader) OctetString(tag Tag) ([]byte, error) { return r.Expect(tag) }

// Int reads an INTEGER-encoded element with the given tag.
func (r *Reader) Int(tag Tag) (int64, error) {
	c, err := r.Expect(tag)
	if err != nil {
		return 0, err
	}
	return ParseInt(c)
}

// Bool reads a BOOLEAN-encoded element with the given tag. Any non-zero
// octet is true, as BER allows.
func (r *Reader) Bool(tag Tag) (bool, error) {
	c, err := r.Expect(tag)
	if err != nil {
		return false, err
	}
	return ParseBool(c)
}

// ParseInt decodes the contents of an INTEGER or ENUMERATED: two's
// complement, big-endian, one to eight octets.
func ParseInt(c []byte) (int64, error) {
	if len(c) == 0 || len(c) > maxIntLen {
		return 0, ErrBadInteger
	}
	v := int64(int8(c[0])) // sign-extend the first octet
	for _, b := range c[1:] {
		v = v<<8 | int64(b)
	}
	return v, nil
}

// ParseBool decodes the contents of a BOOLEAN.
func ParseBool(c []byte) (bool, error) {
	if len(c) != 1 {
		return false, ErrBadBoolean
	}
	return c[0] != 0, nil
}
