package sqlite

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Users and Memberships read each row as one JSON array that SQLite
// builds (json_array(col, ...), json_group_array(col)) rather than as a
// result column per field: the driver pays for every column of every row
// (three calls into SQLite, each taking the connection's mutex, and an
// allocation per value), which for a user's 28 columns came to about
// 4.5 µs a row. One json_array column costs about 2 µs, most of it SQLite
// building the array, and decoding it below some 0.4 µs. The strings
// decoded share the row's text, so a row costs one allocation however many
// fields it has.
//
// rowJSON decodes what SQLite's json_array writes of SQL values, and only
// that: NULL as null, an INTEGER in decimal, TEXT as a string in which
// SQLite escapes '"', '\' and the control characters (\b, \f, \n, \r, \t,
// else \u00XX) and passes every other byte through as it is, valid UTF-8 or
// not. A REAL or a nested JSON value is an error (no column read this way
// holds one; SQLite refuses a BLOB). The decoder does not allocate unless
// a string holds an escape.
type rowJSON struct {
	s   string
	i   int
	n   int // elements read
	err error
}

var errRowJSON = errors.New("malformed row")

// newRowJSON starts decoding the array s.
func newRowJSON(s string) rowJSON {
	d := rowJSON{s: s}
	if len(s) < 2 || s[0] != '[' {
		d.err = errRowJSON
		return d
	}
	d.i = 1
	return d
}

func (d *rowJSON) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: element %d: %s", errRowJSON, d.n, fmt.Sprintf(format, args...))
	}
}

// next moves to the next element and returns its first byte, or 0 when
// the array ends or the decoder failed.
func (d *rowJSON) next() byte {
	if d.err != nil {
		return 0
	}
	if d.n > 0 {
		if d.i >= len(d.s) || d.s[d.i] != ',' {
			d.fail("missing")
			return 0
		}
		d.i++
	}
	d.n++
	if d.i >= len(d.s) {
		d.fail("missing")
		return 0
	}
	return d.s[d.i]
}

// null consumes a null if the next element is one.
func (d *rowJSON) null() bool {
	if strings.HasPrefix(d.s[d.i:], "null") {
		d.i += 4
		return true
	}
	return false
}

// str reads a string element (NOT NULL TEXT).
func (d *rowJSON) str() string {
	s, ok := d.nullStr()
	if !ok && d.err == nil {
		d.fail("null, want a string")
	}
	return s
}

// nullStr reads a string element or null (nullable TEXT); ok is false for
// null.
func (d *rowJSON) nullStr() (s string, ok bool) {
	c := d.next()
	if c == 0 {
		return "", false
	}
	if c != '"' {
		if !d.null() {
			d.fail("not a string")
		}
		return "", false
	}
	start := d.i + 1
	k := strings.IndexByte(d.s[start:], '"')
	if k < 0 {
		d.fail("unterminated string")
		return "", false
	}
	if b := strings.IndexByte(d.s[start:start+k], '\\'); b >= 0 {
		return d.unescape(start, start+b), true
	}
	d.i = start + k + 1
	return d.s[start : start+k], true
}

// unescape decodes the rest of a string that has an escape at j.
func (d *rowJSON) unescape(start, j int) string {
	b := make([]byte, 0, j-start+16)
	b = append(b, d.s[start:j]...)
	for j < len(d.s) {
		c := d.s[j]
		switch {
		case c == '"':
			d.i = j + 1
			return string(b)
		case c != '\\':
			b = append(b, c)
			j++
			continue
		}
		if j+1 >= len(d.s) {
			break
		}
		e := d.s[j+1]
		j += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(d.s, j)
			if !ok {
				d.fail("bad \\u escape")
				return ""
			}
			j += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if j+6 <= len(d.s) && d.s[j] == '\\' && d.s[j+1] == 'u' {
					r2, ok = hex4(d.s, j+2)
				}
				r = utf16.DecodeRune(r, r2)
				if !ok || r == utf8.RuneError {
					d.fail("unpaired surrogate")
					return ""
				}
				j += 6
			}
			b = utf8.AppendRune(b, r)
		default:
			d.fail("bad escape")
			return ""
		}
	}
	d.fail("unterminated string")
	return ""
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// nullInt reads an integer element or null (nullable INTEGER); ok is false
// for null.
func (d *rowJSON) nullInt() (n int64, ok bool) {
	c := d.next()
	if c == 0 {
		return 0, false
	}
	if c == 'n' && d.null() {
		return 0, false
	}
	j, neg := d.i, false
	if j < len(d.s) && d.s[j] == '-' {
		j, neg = j+1, true
	}
	digits := j
	var u uint64
	for j < len(d.s) && '0' <= d.s[j] && d.s[j] <= '9' {
		u = u*10 + uint64(d.s[j]-'0')
		j++
	}
	switch {
	case j == digits:
		d.fail("not an integer")
		return 0, false
	case j-digits > 19: // not even a uint64: let strconv judge
		var err error
		if n, err = strconv.ParseInt(d.s[d.i:j], 10, 64); err != nil {
			d.fail("not an integer")
			return 0, false
		}
	case neg && u > 1<<63, !neg && u > math.MaxInt64:
		d.fail("integer out of range")
		return 0, false
	case neg:
		n = -int64(u) // for 1<<63 too: the negation wraps to math.MinInt64
	default:
		n = int64(u)
	}
	d.i = j
	return n, true
}

// integer reads an integer element (NOT NULL INTEGER).
func (d *rowJSON) integer() int64 {
	n, ok := d.nullInt()
	if !ok && d.err == nil {
		d.fail("null, want an integer")
	}
	return n
}

// end checks that the array ends after the elements read.
func (d *rowJSON) end() error {
	if d.err == nil && d.s[d.i:] != "]" {
		d.fail("more elements than expected")
	}
	return d.err
}

// strs reads every element of an array of strings (json_group_array
// of a NOT NULL TEXT column).
func (d *rowJSON) strs(out []string) ([]string, error) {
	if d.err == nil && d.s == "[]" {
		return out, nil
	}
	for d.err == nil {
		out = append(out, d.str())
		if d.i < len(d.s) && d.s[d.i] == ']' {
			break
		}
	}
	return out, d.end()
}
