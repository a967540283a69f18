package sealed

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
)

// A fixed key, so the fuzz corpus can hold values that open.
var fuzzKey = func() *Key {
	k, err := KeyFromString(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, KeySize)))
	if err != nil {
		panic(err)
	}
	return k
}()

func FuzzOpen(f *testing.F) {
	other, err := KeyFromString(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, KeySize)))
	if err != nil {
		f.Fatal(err)
	}
	ring, err := NewKeys(fuzzKey, other)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct{ pt, ad string }{{"", ""}, {"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "user-1"}, {"x", "\x00"}} {
		s, err := fuzzKey.Seal([]byte(seed.pt), []byte(seed.ad))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s, []byte(seed.ad))
		s, _ = other.Seal([]byte(seed.pt), []byte(seed.ad))
		f.Add(s, []byte(seed.ad))
	}
	f.Add("", []byte(nil))
	f.Add("v1:", []byte(nil))
	f.Add("v1:0000000g:AAAA", []byte(nil))
	f.Add("v1:"+fuzzKey.ID()+":\n", []byte(nil))
	f.Add("v1:"+fuzzKey.ID()+"::", []byte(nil))
	f.Fuzz(func(t *testing.T, s string, ad []byte) {
		pt1, err1 := fuzzKey.Open(s, ad)
		pt2, err2 := ring.Open(s, ad)
		for _, err := range []error{err1, err2} {
			if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrOpen) {
				t.Fatalf("unexpected error %v", err)
			}
		}
		if (err1 == nil) != (pt1 != nil) {
			t.Fatalf("plaintext %v with error %v", pt1, err1)
		}
		if err1 == nil {
			// What one key opens, a ring holding it opens the same way.
			if err2 != nil || !bytes.Equal(pt1, pt2) {
				t.Fatalf("key opened, ring: %v", err2)
			}
			// And its text is canonical: sealing is the only way to make it.
			if id, err := KeyID(s); err != nil || id != fuzzKey.ID() {
				t.Fatalf("opened value has key id %q, %v", id, err)
			}
		}
		_ = ring.NeedsReseal(s)
	})
}

func FuzzKeyFromString(f *testing.F) {
	for _, s := range []string{
		"", base64.StdEncoding.EncodeToString(make([]byte, 32)), "0000000000000000000000000000000000000000000000000000000000000000",
		base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), " \n", "====",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := KeyFromString(s)
		if err != nil {
			if k != nil || (!errors.Is(err, ErrKeyFormat) && !errors.Is(err, ErrKeyLength)) {
				t.Fatalf("key %v, error %v", k, err)
			}
			return
		}
		if !isKeyID(k.ID()) {
			t.Fatalf("bad key id %q", k.ID())
		}
		sealed, err := k.Seal([]byte("p"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := k.Open(sealed, nil); err != nil || string(pt) != "p" {
			t.Fatalf("round trip: %q, %v", pt, err)
		}
	})
}
