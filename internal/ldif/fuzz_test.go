package ldif

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReader: the Reader never panics; it ends with io.EOF or a
// *ParseError whose line is in the input; records' lines increase; and
// whatever it reads, the Writer writes and the Reader reads back the same.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.ldif")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"", "version: 1\n", "dn: cn=a\ncn: a\n", "dn:: Y249YQ==\r\ncn;lang-en:: \r\n YQ==\r\n",
		"dn: cn=a\n# c\n c\ncn:\n\n\ndn: cn=b\nchangetype: add\n", "dn: cn=a\nchangetype: modify\n",
		"dn: cn=a\ncn:< file:///x\n", " x", "dn: x\n \n", "\ufeffdn: x", "dn: x\r", "dn: x\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		r.MaxValueSize = 256
		r.MaxRecordSize = 2048
		lines := bytes.Count(data, []byte("\n")) + 1
		var recs []*Record
		last := 0
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error %v is not a *ParseError", err)
				}
				if pe.Line < 1 || pe.Line > lines {
					t.Fatalf("error at line %d of %d: %v", pe.Line, lines, err)
				}
				if _, err2 := r.Next(); err2 != err {
					t.Fatalf("Next after %v = %v", err, err2)
				}
				break
			}
			if rec.Line <= last || rec.Line > lines {
				t.Fatalf("record at line %d after one at %d (of %d)", rec.Line, last, lines)
			}
			last = rec.Line
			recs = append(recs, rec)
		}
		if len(recs) == 0 {
			return
		}
		out := write(t, recs...)
		r2 := NewReader(strings.NewReader(out))
		r2.MaxValueSize = 256
		r2.MaxRecordSize = 1 << 20 // base64 makes records longer
		back, err := readAll(r2)
		if err != nil {
			t.Fatalf("reading back what was written: %v\n%s", err, out)
		}
		if len(back) != len(recs) {
			t.Fatalf("%d records read back, %d written", len(back), len(recs))
		}
		for i := range recs {
			if !sameRecord(&back[i], recs[i]) {
				t.Fatalf("record %d:\n got %#v\nwant %#v", i, back[i], *recs[i])
			}
		}
	})
}

// FuzzRoundTrip: any record the Writer takes, it writes in printable
// ASCII lines of at most 76 columns, and the Reader reads back identical.
func FuzzRoundTrip(f *testing.F) {
	f.Add("cn=a,dc=b", "cn", "a", "", " b ")
	for i, v := range trickyValues {
		f.Add(v, []string{"cn", "cn;lang-en", "2.5.4.3", "description", "c n", "dn", "x-;", "jpegPhoto;binary"}[i%8], v, v+v, " "+v)
	}
	f.Fuzz(func(t *testing.T, dn, typ, v1, v2, v3 string) {
		rec := &Record{DN: dn, Attrs: []Attr{a(typ, v1, v2), a("description", v3)}}
		var b bytes.Buffer
		w := NewWriter(&b)
		if err := w.WriteRecord(rec); err != nil {
			if validType(typ) && !reserved(typ) {
				t.Fatalf("WriteRecord refused a valid type %q: %v", typ, err)
			}
			rec.Attrs[0].Type = "cn"
			if err := w.WriteRecord(rec); err != nil {
				t.Fatalf("WriteRecord: %v", err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, l := range strings.Split(out, "\n") {
			if len(l) > foldAt {
				t.Fatalf("line of %d columns: %q", len(l), l)
			}
			for i := 0; i < len(l); i++ {
				if l[i] < 0x20 || l[i] > 0x7e {
					t.Fatalf("octet %#x written", l[i])
				}
			}
		}
		// The Reader gathers values of one description (compared
		// case-insensitively) into one Attr.
		want := *rec
		if strings.EqualFold(rec.Attrs[0].Type, "description") {
			want.Attrs = []Attr{a(rec.Attrs[0].Type, v1, v2, v3)}
		}
		got, err := readString(out)
		if err != nil {
			t.Fatalf("reading back: %v\n%s", err, out)
		}
		if len(got) != 1 || !sameRecord(&got[0], &want) {
			t.Fatalf("got %#v\nwant %#v\n%s", got, want, out)
		}
	})
}
