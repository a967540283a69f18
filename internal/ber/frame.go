package ber

import (
	"bufio"
	"io"
)

// DefaultMaxMessage is the default bound on one LDAP message: 4 MiB, far
// above any request a directory client sends (a bind or search is a few
// hundred octets) and small enough that a hostile peer cannot make the server
// allocate much.
const DefaultMaxMessage = 4 << 20

// ReadMessage reads one whole top-level element from r and returns it,
// header included, in a fresh slice that the caller may keep (decoded values
// alias it, and operations on one connection may outlive the next read).
// It returns ErrTooLarge, without reading the contents, when the announced
// length exceeds max; the connection cannot be resynchronised after that and
// should be closed. io.EOF is returned only when the stream ends cleanly
// between messages; a message cut short gives io.ErrUnexpectedEOF.
func ReadMessage(r *bufio.Reader, max int) ([]byte, error) {
	var hdr [6]byte
	b, err := r.Peek(2)
	if err != nil {
		if err == io.EOF && len(b) == 1 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	hdr[0], hdr[1] = b[0], b[1]
	if hdr[0]&0x1f == 0x1f {
		return nil, ErrHighTag
	}
	hlen, clen := 2, int(hdr[1])
	if hdr[1] >= 0x80 {
		n := int(hdr[1] & 0x7f)
		switch {
		case n == 0:
			return nil, ErrIndefinite
		case n > 4:
			return nil, ErrLengthTooLong
		}
		b, err = r.Peek(2 + n)
		if err != nil {
			return nil, unexpected(err)
		}
		clen = 0
		for _, c := range b[2:] {
			clen = clen<<8 | int(c)
		}
		hlen = 2 + n
	}
	if clen > max-hlen {
		return nil, ErrTooLarge
	}
	msg := make([]byte, hlen+clen)
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, unexpected(err)
	}
	return msg, nil
}

// Framed reports whether b begins with one whole element: its header and
// all the contents the header announces. A malformed header counts as
// framed, since reading it fails at once. The LDAP server asks this of what
// it has buffered, to start the clock on a request that arrives slowly.
func Framed(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	hlen, clen := 2, int(b[1])
	if b[1] >= 0x80 {
		n := int(b[1] & 0x7f)
		if n == 0 || n > 4 {
			return true
		}
		if len(b) < 2+n {
			return false
		}
		clen = 0
		for _, c := range b[2 : 2+n] {
			clen = clen<<8 | int(c)
		}
		hlen = 2 + n
	}
	return len(b)-hlen >= clen
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
