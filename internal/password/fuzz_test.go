package password

import (
	"context"
	"errors"
	"testing"
)

func fuzzSeeds(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.hash, v.pw)
	}
	for _, v := range shaCryptSpecVectors[:3] {
		f.Add("{CRYPT}"+v.hash, v.pw)
	}
	for _, s := range []string{
		"", "{", "{}", "{SSHA}", "{SSHA}=", "{SSHA}A===", "{ARGON2}$", "{ARGON2}$argon2id$v=19$m=,t=,p=$$",
		"{ARGON2}$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAA",
		"{CRYPT}$6$rounds=$", "{CRYPT}$5$$", "{CRYPT}$2b$", "{CRYPT}$2y$04$",
	} {
		f.Add(s, "secret")
	}
}

// FuzzCheck: the hash parser never panics, and Check agrees with Verify
// about what is malformed.
func FuzzCheck(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, hash, _ string) {
		err := Check(hash)
		if err != nil && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("Check error %v does not wrap ErrUnsupported", err)
		}
		v, perr := parse(hash)
		if (err == nil) != (perr == nil) || (err == nil) == (v == nil) {
			t.Fatalf("Check %v, parse %v, %v", err, v, perr)
		}
	})
}

// FuzzVerify: Verify never panics, and an error means no match. The
// Hasher's bounds keep each call cheap enough to fuzz, save for costly but
// valid parameters, which are skipped.
func FuzzVerify(f *testing.F) {
	fuzzSeeds(f)
	h := NewHasher(cheap)
	f.Fuzz(func(t *testing.T, hash, pw string) {
		if v, err := parse(hash); err == nil && costly(v) {
			t.Skip("valid but costly parameters")
		}
		ok, err := h.Verify(context.Background(), hash, []byte(pw))
		if err != nil && ok {
			t.Fatalf("Verify = true with error %v", err)
		}
		if (err == nil) != (Check(hash) == nil) {
			t.Fatalf("Verify error %v but Check %v", err, Check(hash))
		}
	})
}

func costly(v verifier) bool {
	switch v := v.(type) {
	case *argonHash:
		return uint64(v.memory)*uint64(v.time) > 1<<16
	case *bcryptHash:
		return v.s[4:6] > "06"
	case *shaCryptHash:
		return v.rounds > 20000
	}
	return false
}
