package config

import "testing"

// FuzzParse: any file parses or fails with an error naming the file,
// never panics, and the keys it yields are non-empty.
func FuzzParse(f *testing.F) {
	f.Add([]byte("ldaps: 127.0.0.1:1636\nno-demo: true\nhostname: [a, b]\n"))
	f.Add([]byte("# comment\ndata: ./d\nlog-level: debug\n"))
	f.Add([]byte("a: {b: c}\n"))
	f.Add([]byte("- list\n"))
	f.Add([]byte("x: &a 1\ny: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data)
		if err != nil {
			if len(err.Error()) == 0 {
				t.Fatal("empty error")
			}
			return
		}
		for _, k := range file.Keys() {
			if k == "" {
				t.Fatal("empty key")
			}
		}
	})
}
