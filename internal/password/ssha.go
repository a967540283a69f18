package password

import (
	"crypto/sha1"
	"crypto/subtle"
	"hash"
)

func newSHA1() hash.Hash { return sha1.New() }

// saltedSHA is {SSHA}, {SSHA256}, {SSHA384}, {SSHA512}: base64 of
// H(password || salt) || salt, the salt of any length; or unsalted {SHA}...
// with base64 of H(password) alone.
type saltedSHA struct {
	newHash func() hash.Hash
	digest  []byte
	salt    []byte
}

func parseSaltedSHA(scheme, value string, size int, salted bool, newHash func() hash.Hash) (verifier, error) {
	raw, err := decodeBase64(value)
	if err != nil {
		return nil, malformed("{%s}: bad base64", scheme)
	}
	switch {
	case salted && len(raw) <= size:
		return nil, malformed("{%s}: %d octets, want a %d-octet digest and a salt", scheme, len(raw), size)
	case !salted && len(raw) != size:
		return nil, malformed("{%s}: %d octets, want %d", scheme, len(raw), size)
	}
	return &saltedSHA{newHash: newHash, digest: raw[:size], salt: raw[size:]}, nil
}

func (s *saltedSHA) slow() bool { return false }

func (s *saltedSHA) verify(pw []byte) bool {
	h := s.newHash()
	h.Write(pw)
	h.Write(s.salt)
	return subtle.ConstantTimeCompare(h.Sum(nil), s.digest) == 1
}
