package ldif

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Default limits of a Reader.
const (
	DefaultMaxValueSize  = 1 << 20 // 1 MiB
	DefaultMaxRecordSize = 4 << 20 // 4 MiB
)

// Reader reads LDIF content records. Set its limits, if at all, before the
// first Next.
type Reader struct {
	// MaxValueSize bounds one value (or DN) in octets, after base64
	// decoding; 0 means DefaultMaxValueSize. An unfolded line may be up to
	// the size of such a value in base64 plus 1 KiB.
	MaxValueSize int
	// MaxRecordSize bounds one record, counted as the octets of its
	// unfolded lines (comments excluded); 0 means DefaultMaxRecordSize.
	MaxRecordSize int

	br      *bufio.Reader
	lineNo  int  // physical lines read so far
	started bool // the version line's place has passed
	err     error

	// A physical line read ahead: it tells whether the line before it
	// continues.
	peeked   bool
	peekEOF  bool
	peekLine []byte
	peekNo   int
	peekLong bool // longer than the line limit; peekLine holds the start

	line []byte // the current logical (unfolded) line
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReader(r)}
}

func (r *Reader) maxValue() int {
	if r.MaxValueSize > 0 {
		return r.MaxValueSize
	}
	return DefaultMaxValueSize
}

func (r *Reader) maxRecord() int {
	if r.MaxRecordSize > 0 {
		return r.MaxRecordSize
	}
	return DefaultMaxRecordSize
}

// maxLine bounds an unfolded line: a maximal value in base64, and room for
// its attribute description.
func (r *Reader) maxLine() int {
	v := r.maxValue()
	return (v+2)/3*4 + 1024
}

// Next returns the next record, or io.EOF after the last. Any other error
// is a *ParseError (or the underlying reader's error); Next returns it
// again on every later call.
func (r *Reader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	rec, err := r.next()
	if err != nil {
		r.err = err
		return nil, err
	}
	return rec, nil
}

func (r *Reader) errorf(line int, format string, args ...any) error {
	return &ParseError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// readPhysical reads the next physical line, without its LF or CRLF, into
// peekLine, keeping at most limit octets of it (and setting peekLong if
// there were more).
func (r *Reader) readPhysical(limit int) error {
	r.peeked = true
	r.peekLine = r.peekLine[:0]
	r.peekLong = false
	r.peekEOF = false
	n := 0              // octets of the line, its line end included
	var last, prev byte // the last two of them
	for {
		chunk, err := r.br.ReadSlice('\n')
		n += len(chunk)
		if room := limit + 2 - len(r.peekLine); room > 0 {
			r.peekLine = append(r.peekLine, chunk[:min(room, len(chunk))]...)
		}
		switch len(chunk) {
		case 0:
		case 1:
			prev, last = last, chunk[0]
		default:
			prev, last = chunk[len(chunk)-2], chunk[len(chunk)-1]
		}
		switch {
		case err == nil, err == io.EOF && n > 0:
			r.lineNo++
			r.peekNo = r.lineNo
			eol := 0
			if last == '\n' {
				eol++
				if prev == '\r' {
					eol++
				}
			} else if last == '\r' {
				eol++ // a CR just before the end of input
			}
			if n-eol > limit {
				r.peekLong = true
			}
			r.peekLine = r.peekLine[:min(len(r.peekLine), n-eol, limit)]
			if r.lineNo == 1 {
				// A UTF-8 byte order mark, as some editors write.
				r.peekLine = bytes.TrimPrefix(r.peekLine, []byte("\ufeff"))
			}
			return nil
		case err == io.EOF:
			r.peekEOF = true
			return nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return err
		}
	}
}

type lineKind int

const (
	lineEOF lineKind = iota
	lineBlank
	lineComment
	lineContent
)

// logical reads the next logical line: a blank line, a comment (with its
// continuations), or a content line unfolded into r.line. It returns the
// line's kind and first physical line number.
func (r *Reader) logical() (lineKind, int, error) {
	limit := r.maxLine()
	if !r.peeked {
		if err := r.readPhysical(limit); err != nil {
			return 0, 0, err
		}
	}
	r.peeked = false
	if r.peekEOF {
		r.peeked = true // stay at EOF
		return lineEOF, r.lineNo, nil
	}
	no := r.peekNo
	first := r.peekLine
	switch {
	case len(first) == 0 && !r.peekLong:
		return lineBlank, no, nil
	case first[0] == ' ':
		return 0, no, r.errorf(no, "line starts with a space but continues nothing (a blank line between records must be empty)")
	}
	comment := first[0] == '#'
	long := r.peekLong
	r.line = append(r.line[:0], first...)
	for {
		if err := r.readPhysical(limit); err != nil {
			return 0, 0, err
		}
		if r.peekEOF || len(r.peekLine) == 0 || r.peekLine[0] != ' ' {
			break
		}
		r.peeked = false
		if comment {
			continue
		}
		if r.peekLong || len(r.line)+len(r.peekLine)-1 > limit {
			long = true
			continue
		}
		r.line = append(r.line, r.peekLine[1:]...)
	}
	if comment {
		return lineComment, no, nil
	}
	if long {
		return 0, no, r.errorf(no, "line longer than %d octets (values are limited to %d)", limit, r.maxValue())
	}
	return lineContent, no, nil
}

func (r *Reader) next() (*Record, error) {
	var (
		kind lineKind
		no   int
		err  error
	)
	// Skip blank lines and comments; take the version line if first.
	for {
		kind, no, err = r.logical()
		if err != nil {
			return nil, err
		}
		if kind == lineEOF {
			return nil, io.EOF
		}
		if kind != lineContent {
			continue
		}
		if !r.started {
			r.started = true
			if typ, _, ok := bytes.Cut(r.line, []byte(":")); ok && strings.EqualFold(string(typ), "version") {
				if err := r.version(no); err != nil {
					return nil, err
				}
				continue
			}
		}
		break
	}

	size := len(r.line)
	typ, val, err := r.attrValue(no)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(typ, "dn") {
		return nil, r.errorf(no, "record starts with %q, want dn:", typ)
	}
	rec := &Record{DN: val, Line: no}
	index := map[string]int{} // lower-cased type -> index in rec.Attrs
	for n := 0; ; n++ {
		kind, no, err = r.logical()
		if err != nil {
			return nil, err
		}
		switch kind {
		case lineEOF, lineBlank:
			return rec, nil
		case lineComment:
			n--
			continue
		}
		if size += len(r.line); size > r.maxRecord() {
			return nil, r.errorf(no, "record at line %d longer than %d octets", rec.Line, r.maxRecord())
		}
		typ, val, err := r.attrValue(no)
		if err != nil {
			return nil, err
		}
		switch {
		case strings.EqualFold(typ, "dn"):
			return nil, r.errorf(no, "second dn: in the record at line %d (a blank line must separate records)", rec.Line)
		case strings.EqualFold(typ, "control"):
			return nil, r.errorf(no, "change records are not supported (control:)")
		case strings.EqualFold(typ, "changetype"):
			if n == 0 && strings.EqualFold(strings.TrimRight(val, " "), "add") {
				continue
			}
			return nil, r.errorf(no, "change records are not supported (changetype: %q)", truncate(strings.TrimRight(val, " ")))
		}
		key := strings.ToLower(typ)
		if i, ok := index[key]; ok {
			rec.Attrs[i].Values = append(rec.Attrs[i].Values, val)
		} else {
			index[key] = len(rec.Attrs)
			rec.Attrs = append(rec.Attrs, Attr{Type: typ, Values: []string{val}})
		}
	}
}

// version checks the version line in r.line.
func (r *Reader) version(no int) error {
	_, val, _ := bytes.Cut(r.line, []byte(":"))
	v := strings.Trim(string(val), " ")
	if v != "1" {
		return r.errorf(no, "LDIF version %q not supported (want 1)", v)
	}
	return nil
}

// attrValue parses r.line as AttributeDescription value-spec.
func (r *Reader) attrValue(no int) (typ, val string, err error) {
	i := bytes.IndexByte(r.line, ':')
	if i < 0 {
		return "", "", r.errorf(no, "no ':' after the attribute description")
	}
	typ = string(r.line[:i])
	if !validType(typ) {
		return "", "", r.errorf(no, "invalid attribute description %q", truncate(typ))
	}
	rest := r.line[i+1:]
	switch {
	case len(rest) > 0 && rest[0] == ':':
		b64 := bytes.Trim(rest[1:], " ")
		if bytes.ContainsAny(b64, "\x00\r\n") {
			return "", "", r.errorf(no, "bad base64 in the value of %s", typ)
		}
		enc := base64.StdEncoding
		if len(b64)%4 != 0 {
			enc = base64.RawStdEncoding // lenient: padding left off
		}
		dec := make([]byte, enc.DecodedLen(len(b64)))
		n, err := enc.Decode(dec, b64)
		if err != nil {
			return "", "", r.errorf(no, "bad base64 in the value of %s", typ)
		}
		val = string(dec[:n])
	case len(rest) > 0 && rest[0] == '<':
		return "", "", r.errorf(no, "URL values (%s:<) are not supported", typ)
	default:
		v := bytes.TrimLeft(rest, " ")
		if j := bytes.IndexAny(v, "\x00\r"); j >= 0 {
			return "", "", r.errorf(no, "NUL or CR in the plain value of %s (must be base64, %s::)", typ, typ)
		}
		val = string(v)
	}
	if len(val) > r.maxValue() {
		return "", "", r.errorf(no, "value of %s longer than %d octets", typ, r.maxValue())
	}
	return typ, val, nil
}

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
