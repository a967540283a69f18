package password

import (
	"crypto/subtle"
	"hash"
)

// shaCrypt is the digest of SHA-crypt (https://www.akkadia.org/drepper/SHA-crypt.txt)
// with h SHA-512 ($6$) or SHA-256 ($5$), salt at most 16 octets, and the
// given number of rounds. The numbered steps are the specification's.
func shaCrypt(h hash.Hash, pw, salt []byte, rounds int) []byte {
	size := h.Size()

	// Steps 4-8: digest B = H(password, salt, password).
	h.Reset()
	h.Write(pw)
	h.Write(salt)
	h.Write(pw)
	b := h.Sum(nil)

	// Steps 1-3, 9-12: digest A.
	h.Reset()
	h.Write(pw)
	h.Write(salt)
	n := len(pw)
	for ; n > size; n -= size {
		h.Write(b)
	}
	h.Write(b[:n])
	for n := len(pw); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b)
		} else {
			h.Write(pw)
		}
	}
	a := h.Sum(nil)

	// Steps 13-16: digest DP = H(password repeated len(password) times),
	// and the byte sequence P of len(password) octets from it.
	h.Reset()
	for range len(pw) {
		h.Write(pw)
	}
	dp := h.Sum(nil)
	p := make([]byte, len(pw))
	for i := 0; i < len(p); i += size {
		copy(p[i:], dp)
	}

	// Steps 17-20: digest DS = H(salt repeated 16+A[0] times), and the byte
	// sequence S of len(salt) octets from it.
	h.Reset()
	for range 16 + int(a[0]) {
		h.Write(salt)
	}
	ds := h.Sum(nil)
	s := make([]byte, len(salt))
	for i := 0; i < len(s); i += size {
		copy(s[i:], ds)
	}

	// Step 21: the rounds, each over the previous round's digest C
	// (A for the first).
	c := a
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(c[:0])
	}
	return c
}

// b64From24 appends n characters encoding the 24-bit group b2 b1 b0, least
// significant six bits first (step 22's b64_from_24bit).
func b64From24(dst []byte, b2, b1, b0 byte, n int) []byte {
	w := uint32(b2)<<16 | uint32(b1)<<8 | uint32(b0)
	for range n {
		dst = append(dst, cryptAlphabet[w&0x3f])
		w >>= 6
	}
	return dst
}

// encodeSHA512Crypt encodes a SHA-512 SHA-crypt digest in 86 characters:
// groups of the octets k, k+21, k+42 (rotated by k mod 3), then octet 63.
func encodeSHA512Crypt(d []byte) string {
	out := make([]byte, 0, 86)
	for k := range 21 {
		x, y, z := d[k], d[k+21], d[k+42]
		switch k % 3 {
		case 0:
			out = b64From24(out, x, y, z, 4)
		case 1:
			out = b64From24(out, y, z, x, 4)
		case 2:
			out = b64From24(out, z, x, y, 4)
		}
	}
	return string(b64From24(out, 0, 0, d[63], 2))
}

// encodeSHA256Crypt encodes a SHA-256 SHA-crypt digest in 43 characters:
// groups of the octets k, k+10, k+20 (rotated by k mod 3), then 31 and 30.
func encodeSHA256Crypt(d []byte) string {
	out := make([]byte, 0, 43)
	for k := range 10 {
		x, y, z := d[k], d[k+10], d[k+20]
		switch k % 3 {
		case 0:
			out = b64From24(out, x, y, z, 4)
		case 1:
			out = b64From24(out, z, x, y, 4)
		case 2:
			out = b64From24(out, y, z, x, 4)
		}
	}
	return string(b64From24(out, 0, d[31], d[30], 3))
}

func constantTimeEqualString(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
