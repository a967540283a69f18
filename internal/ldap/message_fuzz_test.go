package ldap

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dirgate/dirgate/internal/ber"
)

// FuzzDecodeMessage feeds DecodeMessage arbitrary bytes. It must never
// panic, must report failures as *DecodeError, and whatever it accepts must
// survive AppendRequest → DecodeMessage unchanged. Seeds: every message real
// clients sent (testdata/captures) and every hand-written case.
func FuzzDecodeMessage(f *testing.F) {
	for _, c := range loadCaptures(f) {
		data, err := os.ReadFile(filepath.Join(captureDir, c.File))
		if err != nil {
			f.Fatal(err)
		}
		msgs, err := splitCapture(data)
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range msgs {
			f.Add(m)
		}
	}
	for _, c := range validCases {
		f.Add(hexBytes(f, c.hex))
	}
	for _, c := range malformedCases {
		f.Add(hexBytes(f, c.hex))
	}
	f.Add(typicalSearch(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			if _, ok := err.(*DecodeError); !ok {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			return
		}
		var e ber.Encoder
		AppendRequest(&e, m.ID, m.Request, m.Controls)
		again, err := DecodeMessage(e.Buf)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v\n% x", dump(m), err, e.Buf)
		}
		if !equalMessage(again, m) {
			t.Fatalf("re-encoded message decodes as\n %s\nwant\n %s", dump(again), dump(m))
		}
	})
}
