package ber

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIntRoundTrip(t *testing.T) {
	cases := []struct {
		v   int64
		hex string
	}{
		{0, "020100"},
		{1, "020101"},
		{127, "02017f"},
		{128, "02020080"},
		{255, "020200ff"},
		{256, "02020100"},
		{-1, "0201ff"},
		{-128, "020180"},
		{-129, "0202ff7f"},
		{math.MaxInt32, "02047fffffff"},
		{math.MinInt32, "020480000000"},
		{math.MaxInt64, "02087fffffffffffffff"},
		{math.MinInt64, "02088000000000000000"},
	}
	for _, c := range cases {
		var e Encoder
		e.Int(TagInteger, c.v)
		if got := hex.EncodeToString(e.Buf); got != c.hex {
			t.Errorf("Int(%d) = %s, want %s", c.v, got, c.hex)
		}
		r := NewReader(e.Buf)
		v, err := r.Int(TagInteger)
		if err != nil || v != c.v || !r.Empty() {
			t.Errorf("decode %s = %d, %v; want %d", c.hex, v, err, c.v)
		}
	}
}

func TestDecodeElements(t *testing.T) {
	// SEQUENCE { INTEGER 5, BOOLEAN TRUE, ENUMERATED 2, OCTET STRING "hi",
	//            [0] "x", SET { NULL }, [APPLICATION 3] { } }
	b := unhex(t, "30 16 020105 0101ff 0a0102 04026869 800178 31020500 6300")
	r := NewReader(b)
	seq, err := r.Enter(TagSequence)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(); err != nil {
		t.Fatalf("outer reader not finished: %v", err)
	}
	if v, err := seq.Int(TagInteger); err != nil || v != 5 {
		t.Fatalf("int = %d, %v", v, err)
	}
	if v, err := seq.Bool(TagBoolean); err != nil || !v {
		t.Fatalf("bool = %v, %v", v, err)
	}
	if v, err := seq.Int(TagEnumerated); err != nil || v != 2 {
		t.Fatalf("enum = %d, %v", v, err)
	}
	if s, err := seq.OctetString(TagOctetString); err != nil || string(s) != "hi" {
		t.Fatalf("octet string = %q, %v", s, err)
	}
	if tag, err := seq.Peek(); err != nil || tag != Context(0, false) {
		t.Fatalf("peek = %v, %v", tag, err)
	}
	if s, err := seq.OctetString(Context(0, false)); err != nil || string(s) != "x" {
		t.Fatalf("context string = %q, %v", s, err)
	}
	set, err := seq.Enter(TagSet)
	if err != nil || set.Depth() != 2 {
		t.Fatalf("set: %v depth %d", err, set.Depth())
	}
	if tag, c, err := set.Next(); err != nil || tag != TagNull || len(c) != 0 {
		t.Fatalf("null = %v %x %v", tag, c, err)
	}
	app, err := seq.Enter(Application(3, true))
	if err != nil || !app.Empty() {
		t.Fatalf("application: %v", err)
	}
	if err := seq.Finish(); err != nil {
		t.Fatal(err)
	}
}

func TestValuesAliasInput(t *testing.T) {
	b := unhex(t, "0403616263")
	r := NewReader(b)
	s, err := r.OctetString(TagOctetString)
	if err != nil {
		t.Fatal(err)
	}
	b[2] = 'X'
	if string(s) != "Xbc" {
		t.Fatalf("value is a copy, want a sub-slice: %q", s)
	}
	if cap(s) != len(s) {
		t.Fatalf("value capacity %d exposes the rest of the buffer", cap(s))
	}
}

func TestMalformed(t *testing.T) {
	cases := []struct {
		name string
		hex  string
		read func(r *Reader) error
		want error
	}{
		{"empty", "", func(r *Reader) error { _, _, err := r.Next(); return err }, ErrTruncated},
		{"tag only", "04", func(r *Reader) error { _, _, err := r.Next(); return err }, ErrTruncated},
		{"short content", "040568", func(r *Reader) error { _, _, err := r.Next(); return err }, ErrLengthPastEnd},
		{"indefinite", "3080", func(r *Reader) error { _, _, err := r.Next(); return err }, ErrIndefinite},
		{"length of 5 octets", "04850000000001", func(r *Reader) error { _, _, err := r.Next(); return err }, ErrLengthTooLong},
		{"truncated long length", "048201", func(r *Reader) error { _, _, err := r.Next(); return err }, ErrTruncated},
		{"huge length", "0484ffffffff00", func(r *Reader) error { _, _, err := r.Next(); return err }, ErrLengthPastEnd},
		{"high tag", "1f0100", func(r *Reader) error { _, _, err := r.Next(); return err }, ErrHighTag},
		{"high tag peek", "1f0100", func(r *Reader) error { _, err := r.Peek(); return err }, ErrHighTag},
		{"empty integer", "0200", func(r *Reader) error { _, err := r.Int(TagInteger); return err }, ErrBadInteger},
		{"9-octet integer", "0209010203040506070809", func(r *Reader) error { _, err := r.Int(TagInteger); return err }, ErrBadInteger},
		{"2-octet boolean", "01020000", func(r *Reader) error { _, err := r.Bool(TagBoolean); return err }, ErrBadBoolean},
		{"empty boolean", "0100", func(r *Reader) error { _, err := r.Bool(TagBoolean); return err }, ErrBadBoolean},
		{"enter primitive tag", "0400", func(r *Reader) error { _, err := r.Enter(TagOctetString); return err }, ErrNotConstructed},
		{"trailing", "05000500", func(r *Reader) error {
			if err := r.Skip(); err != nil {
				return err
			}
			return r.Finish()
		}, ErrTrailing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewReader(unhex(t, c.hex))
			if err := c.read(&r); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	t.Run("wrong tag", func(t *testing.T) {
		r := NewReader(unhex(t, "040100"))
		_, err := r.Int(TagInteger)
		var te *TagError
		if !errors.As(err, &te) || te.Want != TagInteger || te.Got != TagOctetString {
			t.Fatalf("got %v, want a TagError", err)
		}
		if !strings.Contains(err.Error(), "UNIVERSAL 2") {
			t.Fatalf("error does not name the tags: %v", err)
		}
	})
}

func TestNestingTooDeep(t *testing.T) {
	// MaxDepth+1 nested SEQUENCEs.
	var e Encoder
	for i := 0; i <= MaxDepth; i++ {
		e.Begin(TagSequence)
	}
	for i := 0; i <= MaxDepth; i++ {
		e.End()
	}
	r := NewReader(e.Buf)
	var err error
	for i := 0; i <= MaxDepth && err == nil; i++ {
		r, err = r.Enter(TagSequence)
	}
	if !errors.Is(err, ErrTooDeep) {
		t.Fatalf("got %v, want ErrTooDeep", err)
	}
}

func TestEncoderLengths(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 255, 256, 65535, 65536, 1 << 20} {
		var e Encoder
		e.Begin(TagSequence)
		e.Begin(TagSet)
		e.OctetString(TagOctetString, bytes.Repeat([]byte{'a'}, n))
		e.End()
		e.Int(TagInteger, 7)
		e.End()
		if e.Open() != 0 {
			t.Fatalf("open = %d", e.Open())
		}
		r := NewReader(e.Buf)
		seq, err := r.Enter(TagSequence)
		if err != nil || !r.Empty() {
			t.Fatalf("n=%d: %v", n, err)
		}
		set, err := seq.Enter(TagSet)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		s, err := set.OctetString(TagOctetString)
		if err != nil || len(s) != n || !set.Empty() {
			t.Fatalf("n=%d: len %d, %v", n, len(s), err)
		}
		if v, err := seq.Int(TagInteger); err != nil || v != 7 || !seq.Empty() {
			t.Fatalf("n=%d: int %d, %v", n, v, err)
		}
		// The length octets are the minimal ones AppendHeader writes.
		hdr := AppendHeader(nil, TagOctetString, n)
		if !bytes.Contains(e.Buf, hdr) {
			t.Fatalf("n=%d: octet string header %x not minimal", n, hdr)
		}
	}
}

func TestBoolNullRaw(t *testing.T) {
	var e Encoder
	e.Bool(TagBoolean, true)
	e.Bool(Context(4, false), false)
	e.Null(TagNull)
	e.Raw([]byte{0x04, 0x00})
	e.String(TagOctetString, "x")
	if got, want := hex.EncodeToString(e.Buf), "0101ff84010005000400040178"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestTag(t *testing.T) {
	tag := Application(3, true)
	if tag != 0x63 || tag.Class() != ClassApplication || tag.Number() != 3 || !tag.IsConstructed() {
		t.Fatalf("Application(3,true) = %#x", byte(tag))
	}
	if tag := Context(7, false); tag != 0x87 || tag.Class() != ClassContext || tag.IsConstructed() {
		t.Fatalf("Context(7,false) = %#x", byte(tag))
	}
	if s := TagSequence.String(); s != "[UNIVERSAL 16 constructed]" {
		t.Fatalf("String = %q", s)
	}
}

func TestReadMessage(t *testing.T) {
	msg := unhex(t, "300c020101600702010304008000")
	long := append(unhex(t, "30820100"), bytes.Repeat([]byte{0}, 0x100)...)
	cases := []struct {
		name    string
		in      []byte
		max     int
		want    [][]byte
		wantErr error
	}{
		{"one", msg, 100, [][]byte{msg}, io.EOF},
		{"two", append(append([]byte{}, msg...), msg...), 100, [][]byte{msg, msg}, io.EOF},
		{"long form", long, 1000, [][]byte{long}, io.EOF},
		{"too large", long, 0x100, nil, ErrTooLarge},
		{"exactly max", long, 0x104, [][]byte{long}, io.EOF},
		{"cut in content", msg[:8], 100, nil, io.ErrUnexpectedEOF},
		{"cut in length", []byte{0x30}, 100, nil, io.ErrUnexpectedEOF},
		{"cut in long length", []byte{0x30, 0x82, 0x01}, 100, nil, io.ErrUnexpectedEOF},
		{"indefinite", []byte{0x30, 0x80, 0, 0}, 100, nil, ErrIndefinite},
		{"5-octet length", []byte{0x30, 0x85, 0, 0, 0, 0, 1}, 100, nil, ErrLengthTooLong},
		{"high tag", []byte{0x3f, 0x01, 0x01}, 100, nil, ErrHighTag},
		{"4 GiB announced", []byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, DefaultMaxMessage, nil, ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			br := bufio.NewReader(bytes.NewReader(c.in))
			var got [][]byte
			var err error
			for {
				var m []byte
				m, err = ReadMessage(br, c.max)
				if err != nil {
					break
				}
				got = append(got, m)
			}
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if len(got) != len(c.want) {
				t.Fatalf("read %d messages, want %d", len(got), len(c.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], c.want[i]) {
					t.Fatalf("message %d = %x", i, got[i])
				}
			}
		})
	}
}

// Every message ReadMessage returns is a fresh slice, so a decoded request
// that aliases it survives the next read.
func TestReadMessageFreshBuffers(t *testing.T) {
	msg := unhex(t, "3003020101")
	br := bufio.NewReader(bytes.NewReader(append(append([]byte{}, msg...), msg...)))
	a, err := ReadMessage(br, 100)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadMessage(br, 100)
	if err != nil {
		t.Fatal(err)
	}
	b[0] = 0
	if a[0] != 0x30 {
		t.Fatal("messages share storage")
	}
}

func TestEncodeAllocs(t *testing.T) {
	e := Encoder{Buf: make([]byte, 0, 4096)}
	value := bytes.Repeat([]byte{'v'}, 300)
	allocs := testing.AllocsPerRun(100, func() {
		e.Reset()
		e.Begin(TagSequence)
		e.Int(TagInteger, 12345)
		e.Begin(Application(4, true))
		e.String(TagOctetString, "uid=jdoe,ou=users,dc=acme,dc=okta,dc=com")
		e.Begin(TagSequence)
		e.OctetString(TagOctetString, value)
		e.Bool(TagBoolean, true)
		e.End()
		e.End()
		e.End()
	})
	if allocs != 0 {
		t.Fatalf("encoding into a reused buffer allocated %v times", allocs)
	}
}

func TestDecodeAllocs(t *testing.T) {
	b := unhex(t, "30 16 020105 0101ff 0a0102 04026869 800178 31020500 6300")
	allocs := testing.AllocsPerRun(100, func() {
		r := NewReader(b)
		seq, _ := r.Enter(TagSequence)
		for !seq.Empty() {
			if _, _, err := seq.Next(); err != nil {
				panic(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("decoding allocated %v times", allocs)
	}
}
