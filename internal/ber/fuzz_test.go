package ber

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// walk decodes every element of r recursively, entering constructed ones,
// and re-encodes what it read into e. It must never panic.
func walk(r Reader, e *Encoder) error {
	for !r.Empty() {
		tag, c, err := r.Next()
		if err != nil {
			return err
		}
		if tag.IsConstructed() {
			sub, err := r.Sub(c)
			if err != nil {
				return err
			}
			e.Begin(tag)
			if err := walk(sub, e); err != nil {
				return err
			}
			e.End()
			continue
		}
		switch tag {
		case TagInteger, TagEnumerated:
			if v, err := ParseInt(c); err == nil {
				e.Int(tag, v)
				continue
			}
		case TagBoolean:
			if _, err := ParseBool(c); err == nil {
				e.OctetString(tag, c)
				continue
			}
		}
		e.OctetString(tag, c)
	}
	return nil
}

// FuzzDecode checks that no input panics the decoder or the framer, and
// that whatever decodes re-encodes to something that decodes the same way.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"300c020101600702010304008000",
		"30160201050101ff0a0102040268698001783102050063",
		"30820100",
		"3080",
		"1f0100",
		"0485ffffffffff",
		"30050201010400",
		"020900000000000000000001",
	} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Framed agrees with the framer: what it reads whole is framed,
		// and what it finds cut short (or longer than all of b) is not.
		_, err := ReadMessage(bufio.NewReader(bytes.NewReader(b)), len(b)+1)
		switch framed := Framed(b); {
		case err == nil && !framed:
			t.Fatalf("ReadMessage reads a whole message from %x, Framed says no", b)
		case (err == io.ErrUnexpectedEOF || err == ErrTooLarge) && framed:
			t.Fatalf("ReadMessage finds %x incomplete (%v), Framed says it is whole", b, err)
		}
		var e Encoder
		if err := walk(NewReader(b), &e); err != nil {
			return
		}
		if e.Open() != 0 {
			t.Fatalf("unbalanced encoder: %d open", e.Open())
		}
		var e2 Encoder
		if err := walk(NewReader(e.Buf), &e2); err != nil {
			t.Fatalf("re-encoded input does not decode: %v", err)
		}
		if !bytes.Equal(e.Buf, e2.Buf) {
			t.Fatalf("re-encoding is not stable:\n%x\n%x", e.Buf, e2.Buf)
		}
		// The framer over the same bytes must not panic either.
		br := bufio.NewReader(bytes.NewReader(b))
		for i := 0; i < 16; i++ {
			if _, err := ReadMessage(br, 1<<16); err != nil {
				break
			}
		}
	})
}
