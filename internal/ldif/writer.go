package ldif

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
)

// foldAt is the width of the lines the Writer writes, the continuation's
// leading space included (ldapsearch's default).
const foldAt = 76

// Writer writes LDIF content records. Call Flush when done.
type Writer struct {
	w       *bufio.Writer
	started bool
	buf     []byte
	err     error
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriter(w)}
}

// WriteRecord writes rec (its Line is ignored), after "version: 1" if it
// is the first. It refuses, writing nothing, a record with an attribute
// description that is not valid LDIF, or is dn, changetype or control, or
// an attribute without values. A write error is returned again by every
// later call.
func (w *Writer) WriteRecord(rec *Record) error {
	if w.err != nil {
		return w.err
	}
	for _, a := range rec.Attrs {
		switch {
		case !validType(a.Type):
			return fmt.Errorf("ldif: invalid attribute description %q", truncate(a.Type))
		case reserved(a.Type):
			return fmt.Errorf("ldif: %q cannot be an attribute of a content record", a.Type)
		case len(a.Values) == 0:
			return fmt.Errorf("ldif: attribute %s has no values", a.Type)
		}
	}
	if !w.started {
		w.started = true
		w.write([]byte("version: 1\n\n"))
	}
	w.line("dn", rec.DN)
	for _, a := range rec.Attrs {
		for _, v := range a.Values {
			w.line(a.Type, v)
		}
	}
	w.write([]byte("\n"))
	return w.err
}

// Flush writes any buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.err = w.w.Flush()
	return w.err
}

func (w *Writer) write(b []byte) {
	if w.err == nil {
		_, w.err = w.w.Write(b)
	}
}

// line writes "typ: value", or "typ:: base64" for a value that is not a
// safe string, folded at foldAt columns.
func (w *Writer) line(typ, value string) {
	b := append(w.buf[:0], typ...)
	b = append(b, ':')
	if safeString(value) {
		if value != "" {
			b = append(b, ' ')
			b = append(b, value...)
		}
	} else {
		b = append(b, ": "...)
		b = base64.StdEncoding.AppendEncode(b, []byte(value))
	}
	w.buf = b
	// The first line holds foldAt octets, each continuation a space and
	// foldAt-1.
	for n := foldAt; len(b) > n; n = foldAt - 1 {
		w.write(b[:n])
		w.write([]byte("\n "))
		b = b[n:]
	}
	w.write(b)
	w.write([]byte("\n"))
}

// safeString reports whether s may be written as a plain value: RFC 2849's
// SAFE-STRING (no NUL, CR or LF; not starting with a space, ':' or '<'),
// not ending with a space, and, more strictly than the RFC, printable
// ASCII only, so that every tool reads it back the same.
func safeString(s string) bool {
	if s == "" {
		return true
	}
	switch s[0] {
	case ' ', ':', '<':
		return false
	}
	if s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
