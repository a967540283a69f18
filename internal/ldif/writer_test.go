package ldif

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func write(t testing.TB, recs ...*Record) string {
	t.Helper()
	var b bytes.Buffer
	w := NewWriter(&b)
	for _, r := range recs {
		if err := w.WriteRecord(r); err != nil {
			t.Fatalf("WriteRecord(%+v): %v", r, err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWrite(t *testing.T) {
	got := write(t,
		&Record{DN: `uid=pat\+test@example.com,ou=users,dc=example,dc=okta,dc=com`, Line: 99, Attrs: []Attr{
			a("objectClass", "top", "inetOrgPerson"),
			a("cn;lang-de", "Pät Tëst"),
			a("description", "a long description that is longer than seventy-six characters so that it gets folded by the writer, twice over, in fact, since it goes on"),
			a("description", " leading space", "trailing space ", ":colon", "<less", "line\nbreak", "nul\x00", "tab\tinside", "#hash", "a:b", "ok-<>:"),
			a("seeAlso", ""),
		}},
		&Record{DN: ""},
		&Record{DN: "cn=Jürgen Müller,dc=example"},
	)
	want := `version: 1

dn: uid=pat\+test@example.com,ou=users,dc=example,dc=okta,dc=com
objectClass: top
objectClass: inetOrgPerson
cn;lang-de:: UMOkdCBUw6tzdA==
description: a long description that is longer than seventy-six characters s
 o that it gets folded by the writer, twice over, in fact, since it goes on
description:: IGxlYWRpbmcgc3BhY2U=
description:: dHJhaWxpbmcgc3BhY2Ug
description:: OmNvbG9u
description:: PGxlc3M=
description:: bGluZQpicmVhaw==
description:: bnVsAA==
description:: dGFiCWluc2lkZQ==
description: #hash
description: a:b
description: ok-<>:
seeAlso:

dn:

dn:: Y249SsO8cmdlbiBNw7xsbGVyLGRjPWV4YW1wbGU=

`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWriteFolds(t *testing.T) {
	for _, n := range []int{0, 1, 70, 71, 72, 73, 74, 75, 76, 146, 147, 148, 1000} {
		v := strings.Repeat("x", n)
		out := write(t, &Record{DN: "cn=a", Attrs: []Attr{a("cn", v), a("jpegPhoto", v+"\x00")}})
		for i, l := range strings.Split(out, "\n") {
			if len(l) > foldAt {
				t.Errorf("n=%d: line %d has %d columns", n, i+1, len(l))
			}
			if i > 0 && l == " " {
				t.Errorf("n=%d: line %d is an empty continuation", n, i+1)
			}
		}
		recs, err := readString(out)
		if err != nil || len(recs) != 1 || recs[0].Attrs[0].Values[0] != v || recs[0].Attrs[1].Values[0] != v+"\x00" {
			t.Errorf("n=%d: read back %+v, %v", n, recs, err)
		}
	}
}

func TestWriteRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  Record
		msg  string
	}{
		{"bad type", Record{DN: "cn=a", Attrs: []Attr{a("c n", "x")}}, `invalid attribute description "c n"`},
		{"colon in type", Record{DN: "cn=a", Attrs: []Attr{a("cn:", "x")}}, "invalid attribute description"},
		{"newline in type", Record{DN: "cn=a", Attrs: []Attr{a("cn\ndn", "x")}}, "invalid attribute description"},
		{"empty type", Record{DN: "cn=a", Attrs: []Attr{a("", "x")}}, "invalid attribute description"},
		{"dn", Record{DN: "cn=a", Attrs: []Attr{a("DN", "cn=b")}}, `"DN" cannot be an attribute`},
		{"changetype", Record{DN: "cn=a", Attrs: []Attr{a("changetype", "add")}}, "cannot be an attribute"},
		{"control", Record{DN: "cn=a", Attrs: []Attr{a("control", "1.2.3")}}, "cannot be an attribute"},
		{"no values", Record{DN: "cn=a", Attrs: []Attr{a("cn", "x"), a("sn")}}, "attribute sn has no values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			w := NewWriter(&b)
			err := w.WriteRecord(&tc.rec)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want %q", err, tc.msg)
			}
			// Nothing was written, and the Writer goes on.
			if err := w.Flush(); err != nil || b.Len() != 0 {
				t.Errorf("wrote %q, %v", b.String(), err)
			}
			if err := w.WriteRecord(&Record{DN: "cn=ok"}); err != nil {
				t.Errorf("next WriteRecord: %v", err)
			}
		})
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	w := NewWriter(&failWriter{n: 10})
	big := &Record{DN: "cn=a", Attrs: []Attr{a("description", strings.Repeat("x", 10000))}}
	if err := w.WriteRecord(big); err == nil {
		t.Fatal("no error")
	}
	if err := w.WriteRecord(&Record{DN: "cn=b"}); err == nil || err.Error() != "disk full" {
		t.Errorf("later WriteRecord = %v", err)
	}
	if err := w.Flush(); err == nil {
		t.Error("Flush = nil")
	}
}

func TestWriteNothing(t *testing.T) {
	if got := write(t); got != "" {
		t.Errorf("no records wrote %q", got)
	}
}

// trickyValues is what a writer must encode with care.
var trickyValues = []string{
	"", " ", "  ", " leading", "trailing ", ":", "::", ":<", "<", "< x", "<file:///etc/passwd",
	"#", "# comment", "-", "dn: cn=x", "\n", "\r\n", "a\nb", "a\r\nb", "a\rb", "\x00", "a\x00b",
	"\t", "\x7f", "\x01\x02", "é", "Jürgen Müller", "日本語", "\xff\xfe", "\xc3", "\xed\xa0\x80",
	"a\n b", "a\n\nb", "line\n \nfold", strings.Repeat("y", 76), strings.Repeat("z", 200),
	strings.Repeat("é", 100), "{SSHA}ikRW2xMd+sBOfBs4s9JfP6HqRirObTUB", "=", "==", "a==",
	"version: 1", "changetype: modify", "\ufeffBOM",
}

func TestRoundTrip(t *testing.T) {
	var recs []*Record
	for i, v := range trickyValues {
		recs = append(recs, &Record{DN: v, Attrs: []Attr{
			a("description", v, v+"x", "x"+v),
			a("cn;lang-en", v),
		}})
		if i%5 == 0 {
			recs = append(recs, &Record{DN: "cn=" + v})
		}
	}
	recs = append(recs, &Record{DN: "cn=all", Attrs: []Attr{a("description", trickyValues...)}})
	out := write(t, recs...)
	got, err := readString(out)
	if err != nil {
		t.Fatalf("reading back: %v\n%s", err, out)
	}
	if len(got) != len(recs) {
		t.Fatalf("%d records read back, %d written", len(got), len(recs))
	}
	for i := range recs {
		if !sameRecord(&got[i], recs[i]) {
			t.Errorf("record %d:\n got %#v\nwant %#v", i, got[i], *recs[i])
		}
	}
	// Only printable ASCII is written, so that other tools read it the same.
	for i := 0; i < len(out); i++ {
		if c := out[i]; c != '\n' && (c < 0x20 || c > 0x7e) {
			t.Fatalf("octet %#x written at %d", c, i)
		}
	}
}
