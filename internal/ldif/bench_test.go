package ldif

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// BenchmarkRead reads slapcat's output (4 entries, about 2.5 KB).
func BenchmarkRead(b *testing.B) {
	data, err := os.ReadFile("testdata/slapcat.ldif")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data))
		for {
			if _, err := r.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkWrite writes the same entries.
func BenchmarkWrite(b *testing.B) {
	data, err := os.ReadFile("testdata/slapcat.ldif")
	if err != nil {
		b.Fatal(err)
	}
	recs, err := readAll(NewReader(bytes.NewReader(data)))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		w := NewWriter(io.Discard)
		for i := range recs {
			if err := w.WriteRecord(&recs[i]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}
