package password

import (
	"context"
	"testing"
)

// BenchmarkHash and BenchmarkVerify measure argon2id at DefaultParams
// (19 MiB, 2 passes, 1 lane): the cost of setting a password and of one bind.
func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams)
	pw := []byte("correct horse battery staple")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(pw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultParams)
	pw := []byte("correct horse battery staple")
	hash, err := h.Hash(pw)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := h.Verify(ctx, hash, pw); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkVerifyParallel: binds on every core, bounded by the Hasher's slots.
func BenchmarkVerifyParallel(b *testing.B) {
	h := NewHasher(DefaultParams)
	pw := []byte("correct horse battery staple")
	hash, err := h.Hash(pw)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := h.Verify(context.Background(), hash, pw); !ok || err != nil {
				b.Error(ok, err)
				return
			}
		}
	})
}

// The imported schemes, for comparison.
func BenchmarkVerifyImported(b *testing.B) {
	h := NewHasher(DefaultParams)
	for _, v := range []struct{ name, hash, pw string }{
		{"SSHA", "{SSHA}ikRW2xMd+sBOfBs4s9JfP6HqRirObTUB", "secret"},
		{"SSHA512", "{SSHA512}6OIGpC34dfyrnqtbYNxDH+XwNPWRKUtHiupGIBVOmjQJt1xYSSlyfq4i5m/P1nmJHWLWN9piyDFTMq6kDvLbwdb07yQcfRs6", "secret"},
		{"sha512-crypt-5000", "{CRYPT}$6$0GgNcnXQHVX6PL/P$oJB6CbWSWQRpRYdD388mGqF53QiBARzNyhT4nLg4JXGRHX5pVFrnd.Jf3eCJJOEYuBzmjaPJ2BTjAoNCo7G7l/", "secret"},
		{"bcrypt-5", "{CRYPT}$2b$05$IQmQEa3dbIgyAsle6Nouhe8TQ6GXGj5CPwY2s/UM.3QDpAPywzjxy", "secret"},
	} {
		b.Run(v.name, func(b *testing.B) {
			for b.Loop() {
				if ok, err := h.Verify(context.Background(), v.hash, []byte(v.pw)); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
